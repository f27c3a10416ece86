//! A recording HTTP endpoint for sink tests (a Pushgateway, a webhook): it keeps every
//! request it receives and answers from a script, one answer per request.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// One request the endpoint received.
#[derive(Clone, Debug)]
pub struct Received {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// The Content-Type header.
    pub content_type: String,
    /// The User-Agent header.
    pub user_agent: String,
    /// The body, as text.
    pub body: String,
}

/// One scripted answer: status, Retry-After seconds, body.
#[derive(Clone, Debug)]
pub struct Answer(pub u16, pub Option<u64>, pub &'static str);

/// What the endpoint received, shared with its router.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Received>>>);

impl Log {
    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.0.lock().expect("log lock").clone()
    }
}

/// A router that records each request and answers the script in order (the last
/// answer repeats), and the log it records into.
pub fn recorder(script: Vec<Answer>) -> (Router, Log) {
    let log = Log::default();
    let state = (log.clone(), Arc::new(script));
    let router = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (log, script) = state.clone();
        async move {
            let text = |name| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
            let mut received = log.0.lock().expect("log lock");
            received.push(Received {
                method: method.to_string(),
                path: uri.path().to_owned(),
                content_type: text(header::CONTENT_TYPE),
                user_agent: text(header::USER_AGENT),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let Answer(status, retry_after, body) =
                script.get(received.len() - 1).or(script.last()).cloned().expect("a script");
            let mut response: Response = (StatusCode::from_u16(status).expect("a status"), body).into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            }
            response
        }
    });
    (router, log)
}
