//! The only way seaworthy talks to an API server: read-only, rate-limited, bounded.
//!
//! [`Polite`] offers exactly two operations, a GET and a SelfSubjectAccessReview
//! (the permission preflight), so no code path can write to the cluster. Paths that
//! would touch Secrets or proxy to nodes are refused before they are sent
//! (DESIGN §8). Every request waits for the client-side rate limit, has its own
//! timeout, and is retried on 429 and 5xx a bounded number of times, honouring
//! `Retry-After`, but never past the overall deadline.

use std::time::Duration;

use http::{Request, StatusCode, header};
use kube::client::Body;
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep, timeout};

use crate::retry::{self, Backoff};

/// How many times a request is retried on 429 or 5xx.
pub const MAX_RETRIES: u32 = 5;
/// How retries wait: `Retry-After` up to 30 s, else 200 ms doubling up to 5 s, jittered.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(200),
    max: Duration::from_secs(5),
    max_retry_after: Duration::from_secs(30),
};
/// The largest response body read into memory (a page of 500 large objects fits).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Why a request did not return a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 401: the credentials were rejected.
    Unauthorized(String),
    /// 403: the identity may not do this.
    Forbidden(String),
    /// 404.
    NotFound,
    /// 410: a list's continue token expired.
    Gone,
    /// 429 or 5xx after every retry.
    Exhausted {
        /// The last status.
        status: u16,
        /// Requests sent.
        attempts: u32,
    },
    /// Another HTTP status.
    Status {
        /// The status code.
        status: u16,
        /// The API server's message.
        message: String,
    },
    /// The request (or the wait for a retry) would end after the overall deadline,
    /// or one request took longer than the per-request timeout.
    Timeout(String),
    /// The connection failed (refused, TLS, DNS).
    Transport(String),
    /// seaworthy refused to send the request (a Secret or a node proxy path).
    Refused(String),
}

/// Politeness settings.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests per second, on average.
    pub qps: f64,
    /// Requests that may go out at once before `qps` applies.
    pub burst: u32,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// When the whole collection must be over.
    pub deadline: Instant,
}

/// A token bucket: `burst` tokens, refilled at `qps` per second.
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// A read-only, rate-limited view of an API server.
pub struct Polite {
    client: kube::Client,
    limits: Limits,
    bucket: Mutex<Bucket>,
    /// What the user opted in to reading.
    opted_in: OptIns,
}

/// Reads beyond the default scan that the user asked for, each with its own risk.
#[derive(Clone, Copy, Debug, Default)]
pub struct OptIns {
    /// Kubelet configuration through the node proxy (`/configz` only).
    pub kubelet_configz: bool,
    /// Lists of ConfigMaps, whose values are classified and never kept.
    pub config_map_lists: bool,
}

impl Polite {
    /// Wraps a client. The client should have kube's own retry layer switched off.
    /// `opted_in` allows exactly one node-proxy path, `/configz`, and lists of ConfigMaps.
    pub fn new(client: kube::Client, limits: Limits, opted_in: OptIns) -> Self {
        let bucket = Bucket { tokens: f64::from(limits.burst.max(1)), refilled: Instant::now() };
        Self { client, limits, bucket: Mutex::new(bucket), opted_in }
    }

    /// GETs `path` (with its query) and returns the body.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, Failure> {
        refuse_unsafe(path, self.opted_in)?;
        self.send(|| Request::get(path).body(Body::empty())).await
    }

    /// Asks the API server whether this identity may `verb` the `resource` of `group`
    /// (`nodes/proxy` names a subresource), in `namespace` or cluster-wide. `None` when
    /// the question itself could not be answered.
    pub async fn may(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Option<bool> {
        use k8s_openapi::api::authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        };
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.to_owned()),
                    group: Some(group.to_owned()),
                    resource: Some(resource.to_owned()),
                    subresource: (!subresource.is_empty()).then(|| subresource.to_owned()),
                    namespace: namespace.map(str::to_owned),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let body = serde_json::to_vec(&review).expect("a review serializes");
        let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
        let answer = self
            .send(|| {
                Request::post(path).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.clone()))
            })
            .await
            .ok()?;
        let answer: SelfSubjectAccessReview = serde_json::from_slice(&answer).ok()?;
        answer.status.map(|status| status.allowed)
    }

    async fn send(&self, build: impl Fn() -> Result<Request<Body>, http::Error>) -> Result<Vec<u8>, Failure> {
        let mut attempts = 0;
        loop {
            self.wait_for_token().await?;
            attempts += 1;
            let request = build().map_err(|error| Failure::Transport(error.to_string()))?;
            let path = request.uri().to_string();
            tracing::debug!(method = %request.method(), %path, attempt = attempts, "request");
            let remaining = self.remaining()?;
            let response = timeout(self.limits.request_timeout.min(remaining), self.client.send(request))
                .await
                .map_err(|_| Failure::Timeout(format!("no answer to {path} within {:?}", self.limits.request_timeout)))?
                .map_err(|error| Failure::Transport(chain(&error)))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|value| retry::retry_after(value.to_str().ok()?, std::time::SystemTime::now()));
            let body = read_body(response.into_body(), &path).await?;
            if status.is_success() {
                return Ok(body);
            }
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if !retryable {
                return Err(failure(status, &body));
            }
            if attempts > MAX_RETRIES {
                return Err(Failure::Exhausted { status: status.as_u16(), attempts });
            }
            let wait = BACKOFF.wait(attempts, retry_after);
            if wait >= self.remaining()? {
                return Err(Failure::Timeout(format!(
                    "{path} answered {status} and asked to wait {wait:?}, beyond the overall timeout"
                )));
            }
            tracing::debug!(%path, %status, ?wait, "retrying");
            sleep(wait).await;
        }
    }

    fn remaining(&self) -> Result<Duration, Failure> {
        let remaining = self.limits.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() { Err(Failure::Timeout("the overall timeout passed".into())) } else { Ok(remaining) }
    }

    async fn wait_for_token(&self) -> Result<(), Failure> {
        let qps = self.limits.qps.max(0.001);
        let burst = f64::from(self.limits.burst.max(1));
        let mut bucket = self.bucket.lock().await;
        let now = Instant::now();
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.refilled).as_secs_f64() * qps).min(burst);
        bucket.refilled = now;
        if bucket.tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / qps);
            if wait >= self.remaining()? {
                return Err(Failure::Timeout("the rate limit leaves no time before the overall timeout".into()));
            }
            sleep(wait).await;
            bucket.tokens = 1.0;
            bucket.refilled = Instant::now();
        }
        bucket.tokens -= 1.0;
        Ok(())
    }
}

/// Refuses paths that would read Secrets or reach kubelets through the API server;
/// with `kubelet_configz`, a node's `/configz` (and only that) is allowed.
fn refuse_unsafe(path: &str, opted_in: OptIns) -> Result<(), Failure> {
    let resource_path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = resource_path.split('/').collect();
    if segments.contains(&"secrets") {
        return Err(Failure::Refused(format!("{path}: seaworthy never reads Secrets")));
    }
    // ConfigMaps are read by name (kubeadm's and the cluster CA) unless lists are asked for.
    if segments.last() == Some(&"configmaps") && !opted_in.config_map_lists {
        return Err(Failure::Refused(format!("{path}: listing ConfigMaps needs an explicit opt-in")));
    }
    if opted_in.kubelet_configz
        && matches!(segments.as_slice(), ["", "api", "v1", "nodes", name, "proxy", "configz"] if !name.is_empty())
    {
        return Ok(());
    }
    if segments.windows(2).any(|pair| pair[0] == "nodes" && pair[1].ends_with("proxy")) || segments.contains(&"proxy") {
        return Err(Failure::Refused(format!("{path}: node proxy requests need an explicit opt-in")));
    }
    Ok(())
}

fn failure(status: StatusCode, body: &[u8]) -> Failure {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|status| status.get("message").and_then(serde_json::Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or_default().to_owned());
    match status {
        StatusCode::UNAUTHORIZED => Failure::Unauthorized(message),
        StatusCode::FORBIDDEN => Failure::Forbidden(message),
        StatusCode::NOT_FOUND => Failure::NotFound,
        StatusCode::GONE => Failure::Gone,
        _ => Failure::Status { status: status.as_u16(), message },
    }
}

async fn read_body(body: Body, path: &str) -> Result<Vec<u8>, Failure> {
    use http_body_util::BodyExt as _;
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let collected = limited.collect().await.map_err(|error| Failure::Transport(format!("{path}: {error}")))?;
    Ok(collected.to_bytes().to_vec())
}

/// An error with its causes on one line (the first line of each: some causes, like
/// YAML errors, append a multi-line source snippet).
pub fn chain(error: &dyn std::error::Error) -> String {
    let first_line =
        |error: &dyn std::error::Error| error.to_string().lines().next().unwrap_or_default().trim().to_owned();
    let mut text = first_line(error);
    let mut current = error.source();
    while let Some(cause) = current {
        let cause_text = first_line(cause);
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        current = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_node_proxies_are_never_requested() {
        for path in [
            "/api/v1/secrets",
            "/api/v1/namespaces/kube-system/secrets/token",
            "/api/v1/secrets?limit=500",
            "/api/v1/nodes/cp1/proxy/configz",
            "/api/v1/namespaces/x/services/y/proxy/",
        ] {
            assert!(matches!(refuse_unsafe(path, OptIns::default()), Err(Failure::Refused(_))), "{path}");
        }
        for path in ["/api/v1/pods?limit=500", "/apis/apps/v1/deployments", "/api/v1/nodes", "/version"] {
            assert_eq!(refuse_unsafe(path, OptIns::default()), Ok(()), "{path}");
        }
    }

    const CONFIGZ: OptIns = OptIns { kubelet_configz: true, config_map_lists: false };

    #[test]
    fn config_maps_are_listed_only_when_asked_and_read_by_name_always() {
        for path in ["/api/v1/configmaps?limit=500", "/api/v1/namespaces/shop/configmaps"] {
            assert!(matches!(refuse_unsafe(path, OptIns::default()), Err(Failure::Refused(_))), "{path}");
            let asked = OptIns { config_map_lists: true, ..OptIns::default() };
            assert_eq!(refuse_unsafe(path, asked), Ok(()), "{path}");
        }
        let named = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config";
        assert_eq!(refuse_unsafe(named, OptIns::default()), Ok(()));
    }

    #[test]
    fn the_configz_opt_in_allows_exactly_configz() {
        assert!(matches!(
            refuse_unsafe("/api/v1/nodes/cp1/proxy/configz", OptIns::default()),
            Err(Failure::Refused(_))
        ));
        assert_eq!(refuse_unsafe("/api/v1/nodes/cp1/proxy/configz", CONFIGZ), Ok(()));
        for path in [
            "/api/v1/nodes/cp1/proxy/pods",
            "/api/v1/nodes/cp1/proxy/run/ns/pod/c",
            "/api/v1/nodes/cp1/proxy/configz/x",
            "/api/v1/secrets",
        ] {
            assert!(matches!(refuse_unsafe(path, CONFIGZ), Err(Failure::Refused(_))), "{path}");
        }
    }
}
