//! `POST /groups/{jid}/picture`: sets the group picture, `{image_base64}`
//! (a JPEG; a `data:image/jpeg;base64,` prefix is allowed) → `{success,
//! picture_id}`. This route alone takes bodies up to 2 MiB. The image is
//! checked (base64, JPEG magic bytes) and never reaches a log: the command
//! has no `Debug`, and only its SHA-256 enters the idempotency fingerprint.

use base64::Engine as _;
use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::fields::{self, finish};
use super::path_jid;
use crate::engine::Engine;
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

/// This route's body limit (413 above it).
pub const MAX_PICTURE_BODY_BYTES: usize = 2 * 1024 * 1024;

const JPEG_MAGIC: [u8; 3] = [0xFF, 0xD8, 0xFF];

pub struct SetGroupPicture;

/// No `Debug`: the image must not reach a log. Serialised (for the
/// idempotency fingerprint) without the image: its digest stands for it.
#[derive(Serialize)]
pub struct PictureCommand {
    pub group: GroupJid,
    #[serde(skip)]
    pub jpeg: Vec<u8>,
    /// SHA-256 of the image, hex.
    pub digest: String,
}

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    picture_id: Option<&'a str>,
}

/// The decoded JPEG of `{image_base64}`.
pub fn parse_body(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let map = fields::object(bytes, &["image_base64"], &mut errors)?;
    let image = match map.get("image_base64") {
        None => {
            errors.push(FieldError::new("image_base64", "is required"));
            None
        }
        Some(Value::String(s)) => decode(s)
            .map_err(|m| errors.push(FieldError::new("image_base64", m)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new("image_base64", "must be a base64 string"));
            None
        }
    };
    finish(errors, image)
}

fn decode(text: &str) -> Result<Vec<u8>, &'static str> {
    let text = text.trim();
    let data = match text.split_once(',') {
        Some((prefix, data)) if prefix.starts_with("data:") => {
            let media = prefix.to_ascii_lowercase();
            if media != "data:image/jpeg;base64" && media != "data:image/jpg;base64" {
                return Err("a data URI must be data:image/jpeg;base64,…");
            }
            data
        }
        _ => text,
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err("must not be empty");
    }
    let image = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| "is not valid base64")?;
    if !image.starts_with(&JPEG_MAGIC) {
        return Err("must be a JPEG image (it does not start with FF D8 FF)");
    }
    Ok(image)
}

impl Operation for SetGroupPicture {
    const ROUTE: Route = Route::write("POST", "/groups/{jid}/picture", "set-group-picture");
    type Command = PictureCommand;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<PictureCommand, ApiError> {
        let group = path_jid(params.get("jid"))?;
        let bytes = super::json_body_up_to(req, MAX_PICTURE_BODY_BYTES)?;
        let jpeg = parse_body(bytes)?;
        let digest = hex::encode(Sha256::digest(&jpeg));
        Ok(PictureCommand {
            group,
            jpeg,
            digest,
        })
    }

    fn subject(command: &PictureCommand) -> Subject<'_> {
        Subject {
            action: "set_picture",
            group: Some(&command.group),
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        command: &PictureCommand,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let call = crate::engine::calls::SetPicture::jpeg(command.group.clone(), &command.jpeg);
        let id = on.call(call).await?;
        let reply = Reply {
            success: true,
            picture_id: id.as_deref(),
        };
        on.ok(&reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn bodies() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
        let plain = format!(r#"{{"image_base64":"{}"}}"#, b64(&jpeg));
        assert_eq!(parse_body(plain.as_bytes()).unwrap(), jpeg);
        let uri = format!(
            r#"{{"image_base64":"data:image/jpeg;base64,{}"}}"#,
            b64(&jpeg)
        );
        assert_eq!(parse_body(uri.as_bytes()).unwrap(), jpeg);
        let png = format!(r#"{{"image_base64":"{}"}}"#, b64(b"\x89PNG\r\n\x1a\n"));
        let png_uri = format!(
            r#"{{"image_base64":"data:image/png;base64,{}"}}"#,
            b64(&jpeg)
        );
        for bad in [
            "{}".to_string(),
            r#"{"image_base64":""}"#.to_string(),
            r#"{"image_base64":"!!!not base64"}"#.to_string(),
            r#"{"image_base64":5}"#.to_string(),
            png,
            png_uri,
            format!(r#"{{"image_base64":"{}","x":1}}"#, b64(&jpeg)),
        ] {
            assert!(parse_body(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
