//! The idempotency table (`IDEMPOTENCY_TABLE`): partition key `id` (S,
//! `{tenant_id}#{key}`); `fingerprint`, `owner`, `state`
//! (`in_progress`/`completed`), `lease_until` (N), `response_status` (N),
//! `response_body` (S) or, for an answer stored deflated,
//! `response_body_deflate` (B), optional `response_headers` (M of S: the
//! answer's kept headers), `expires_at` (N, TTL).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Item, classify, is_conditional_failure, n, read, s, write};
use crate::store::{
    Claim, IdempotencyRecord, IdempotencyState, IdempotencyStore, StoreError, StoredAnswer,
    StoredBody,
};

/// The TTL attribute of the idempotency and audit tables.
pub const TTL_ATTRIBUTE: &str = "expires_at";

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

#[derive(Serialize, Deserialize)]
struct IdempotencyItem {
    id: String,
    fingerprint: String,
    owner: String,
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_status: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_body_deflate: Option<serde_bytes::ByteBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response_headers: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

pub(crate) fn from_item(item: Item) -> Result<IdempotencyRecord, StoreError> {
    let item: IdempotencyItem = read("idempotency", item)?;
    let state = match item.state.as_str() {
        IN_PROGRESS => IdempotencyState::InProgress {
            lease_until: item.lease_until.unwrap_or(0),
        },
        COMPLETED => IdempotencyState::Completed(StoredAnswer {
            status: item
                .response_status
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| StoreError::Corrupt("response_status".into()))?,
            body: match (item.response_body_deflate, item.response_body) {
                (Some(blob), _) => StoredBody::Deflated(blob.into_vec()),
                (None, Some(text)) => StoredBody::Text(text),
                (None, None) => return Err(StoreError::Corrupt("response_body".into())),
            },
            // Sorted by name, as a map iterates.
            headers: item
                .response_headers
                .unwrap_or_default()
                .into_iter()
                .collect(),
        }),
        other => return Err(StoreError::Corrupt(format!("idempotency state {other:?}"))),
    };
    Ok(IdempotencyRecord {
        id: item.id,
        fingerprint: item.fingerprint,
        owner: item.owner,
        state,
        expires_at: item.expires_at.unwrap_or(0),
    })
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError> {
        let IdempotencyState::InProgress { lease_until } = record.state else {
            return Err(StoreError::Other(
                "claim takes an in-progress record".into(),
            ));
        };
        let claim = write(
            "idempotency",
            &IdempotencyItem {
                id: record.id.clone(),
                fingerprint: record.fingerprint.clone(),
                owner: record.owner.clone(),
                state: IN_PROGRESS.into(),
                lease_until: Some(lease_until),
                response_status: None,
                response_body: None,
                response_body_deflate: None,
                response_headers: None,
                expires_at: Some(record.expires_at),
            },
        )?;
        // A record deleted between the failed put and the read: try again.
        for _ in 0..3 {
            let put = self
                .client
                .put_item()
                .table_name(&self.tables.idempotency)
                .set_item(Some(claim.clone()))
                .condition_expression(
                    "attribute_not_exists(id) OR expires_at <= :now \
                     OR (#state = :in_progress AND lease_until <= :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":in_progress", s(IN_PROGRESS))
                .send()
                .await;
            match put {
                Ok(_) => return Ok(Claim::Claimed),
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(classify("PutItem idempotency", e)),
            }
            let existing = self
                .get(&self.tables.idempotency, "id", &record.id, true)
                .await?;
            if let Some(item) = existing {
                return Ok(Claim::Existing(from_item(item)?));
            }
        }
        Err(StoreError::Unavailable(
            "idempotency record kept changing".into(),
        ))
    }

    async fn complete(
        &self,
        id: &str,
        owner: &str,
        answer: &StoredAnswer,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let (set, unset, value) = match &answer.body {
            StoredBody::Text(text) => ("response_body", "response_body_deflate", s(text)),
            StoredBody::Deflated(bytes) => (
                "response_body_deflate",
                "response_body",
                AttributeValue::B(aws_smithy_types::Blob::new(bytes.clone())),
            ),
        };
        // The kept headers, when there are any: a map of name to value.
        let (headers_set, headers_unset) = if answer.headers.is_empty() {
            ("", ", response_headers")
        } else {
            (", response_headers = :headers", "")
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("id", s(id))
            .update_expression(format!(
                "SET #state = :completed, response_status = :status, {set} = :body, \
                 expires_at = :exp{headers_set} REMOVE lease_until, {unset}{headers_unset}"
            ))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":status", n(i64::from(answer.status)))
            .expression_attribute_values(":body", value)
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(":owner", s(owner));
        if !answer.headers.is_empty() {
            let map = answer
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), s(value)))
                .collect();
            update = update.expression_attribute_values(":headers", AttributeValue::M(map));
        }
        let result = update.send().await;
        match result {
            Ok(_) => Ok(()),
            // Taken over after our lease passed: the new owner answers.
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(classify("UpdateItem idempotency", e)),
        }
    }

    async fn release(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.idempotency)
            .key("id", s(id))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(classify("DeleteItem idempotency", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(body: StoredBody, headers: Vec<(String, String)>) -> Item {
        let mut item = write(
            "idempotency",
            &IdempotencyItem {
                id: "acme#k".into(),
                fingerprint: "f".into(),
                owner: "o".into(),
                state: COMPLETED.into(),
                lease_until: None,
                response_status: Some(201),
                response_body: None,
                response_body_deflate: None,
                response_headers: None,
                expires_at: Some(9),
            },
        )
        .unwrap();
        match body {
            StoredBody::Text(t) => item.insert("response_body".into(), s(&t)),
            StoredBody::Deflated(b) => item.insert(
                "response_body_deflate".into(),
                AttributeValue::B(aws_smithy_types::Blob::new(b)),
            ),
        };
        if !headers.is_empty() {
            let map = headers.into_iter().map(|(k, v)| (k, s(&v))).collect();
            item.insert("response_headers".into(), AttributeValue::M(map));
        }
        item
    }

    /// The attributes `complete` writes read back as the answer stored.
    #[test]
    fn completed_items_read_back() {
        let record = from_item(completed(
            StoredBody::Deflated(vec![1, 2, 3]),
            vec![("x-partial-update".into(), "true".into())],
        ))
        .unwrap();
        assert_eq!(record.expires_at, 9);
        let IdempotencyState::Completed(answer) = record.state else {
            panic!("completed")
        };
        assert_eq!(answer.status, 201);
        assert_eq!(answer.body, StoredBody::Deflated(vec![1, 2, 3]));
        assert_eq!(
            answer.headers,
            vec![("x-partial-update".to_string(), "true".to_string())]
        );
        let text = from_item(completed(StoredBody::Text("{}".into()), vec![])).unwrap();
        assert!(matches!(
            text.state,
            IdempotencyState::Completed(StoredAnswer { body: StoredBody::Text(ref t), .. }) if t == "{}"
        ));
        let mut odd = completed(StoredBody::Text("{}".into()), vec![]);
        odd.insert("response_body_deflate".into(), s("not bytes"));
        assert!(matches!(from_item(odd), Err(StoreError::Corrupt(_))));
        let mut odd = completed(StoredBody::Text("{}".into()), vec![]);
        odd.insert("state".into(), s("weird"));
        assert!(matches!(from_item(odd), Err(StoreError::Corrupt(_))));
    }
}
