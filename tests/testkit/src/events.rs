//! Loads the API Gateway (HTTP API, payload 2.0) events in `events/`, the same
//! files `sam local invoke -e` takes.

use std::path::PathBuf;

use lambda_http::Request;
use lambda_http::http::{HeaderName, HeaderValue};

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

pub fn event_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

pub fn raw(name: &str) -> String {
    let path = events_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The event as the Lambda runtime would hand it to the handler.
pub fn load(name: &str) -> Request {
    lambda_http::request::from_str(&raw(name)).unwrap_or_else(|e| panic!("parsing {name}: {e}"))
}

/// Variations on an event, for the cases that need no file of their own.
pub trait RequestEdit {
    fn with_header(self, name: &str, value: &str) -> Self;
    fn without_header(self, name: &str) -> Self;
    fn with_body(self, body: &str) -> Self;
    fn with_path(self, path: &str) -> Self;
    fn with_method(self, method: &str) -> Self;
}

impl RequestEdit for Request {
    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        self
    }

    fn without_header(mut self, name: &str) -> Self {
        self.headers_mut().remove(name);
        self
    }

    fn with_body(mut self, body: &str) -> Self {
        *self.body_mut() = lambda_http::Body::Text(body.to_string());
        self
    }

    fn with_path(mut self, path: &str) -> Self {
        let uri = format!("https://api.example.com{path}");
        *self.uri_mut() = uri.parse().unwrap();
        self
    }

    fn with_method(mut self, method: &str) -> Self {
        *self.method_mut() = method.parse().unwrap();
        self
    }
}
