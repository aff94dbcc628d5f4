//! Small HTTP response helpers shared by the envelope and the success path.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A JSON response with `Content-Type: application/json` and `X-Request-Id`.
pub fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
    request_id: &str,
) -> Response<Body> {
    text_json_response(status, body.to_string(), request_id)
}

/// The same, for a body that is already JSON text.
pub fn text_json_response(status: StatusCode, body: String, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}
