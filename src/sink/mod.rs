//! Sinks: where a finished report goes besides stdout or `--output-file` — metrics to a
//! Prometheus Pushgateway, the JSON report to a webhook.
//!
//! Delivery is bounded: a connect and a request timeout per attempt, at most
//! [`Delivery::attempts`] attempts with a doubling, jittered pause (or the server's
//! Retry-After, in seconds or as a date, capped: [`crate::retry`]), and retries only for what can heal (connection failures, timeouts, 408,
//! 429, 5xx). Certificates are verified against the system's roots (`SSL_CERT_FILE`
//! and `SSL_CERT_DIR` point elsewhere); redirects are not followed. Webhook URLs often
//! carry a token in their path, so errors name only the scheme, host and port.

pub mod metrics;

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};

use crate::report::{Report, json};
use crate::retry::Backoff;

/// A sink that could not take the report.
#[derive(Debug, thiserror::Error)]
#[error("{sink} {target}: {reason}")]
pub struct SinkError {
    /// `push-metrics` or `webhook`.
    pub sink: &'static str,
    /// The URL, with secrets left out.
    pub target: String,
    /// What went wrong, with the number of attempts.
    pub reason: String,
}

/// Where the report goes.
#[derive(Clone, Debug, Default)]
pub struct Sinks {
    /// Pushgateway group URL (`…/metrics/job/<job>[/<label>/<value>…]`).
    pub push_metrics: Option<Url>,
    /// Webhook that receives the JSON report.
    pub webhook: Option<Url>,
}

/// How hard delivery tries.
#[derive(Clone, Copy, Debug)]
pub struct Delivery {
    /// Attempts per sink, the first included.
    pub attempts: u32,
    /// TCP connect timeout of one attempt.
    pub connect_timeout: Duration,
    /// Timeout of one whole attempt.
    pub timeout: Duration,
    /// How long retries wait (the policy the API client uses too).
    pub backoff: Backoff,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            attempts: 3,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            backoff: Backoff {
                first: Duration::from_secs(1),
                max: Duration::from_secs(8),
                max_retry_after: Duration::from_secs(30),
            },
        }
    }
}

fn http_url(text: &str) -> Result<Url, String> {
    // The text is never quoted back: a sink URL may hold a token.
    let url = Url::parse(text).map_err(|error| format!("not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{}://…` is not an http:// or https:// URL with a host", url.scheme()));
    }
    if url.fragment().is_some() {
        return Err("a sink URL has no #fragment".into());
    }
    Ok(url)
}

/// Parses a `--push-metrics` URL: a Pushgateway base URL (the group `job/seaworthy` is
/// added), or a full group URL `…/metrics/job/<job>[/<label>/<value>…]`.
pub fn push_url(text: &str) -> Result<Url, String> {
    let mut url = http_url(text)?;
    if url.query().is_some() {
        return Err("a Pushgateway URL has no ?query".into());
    }
    let path = url.path().trim_end_matches('/').to_owned();
    if path.is_empty() {
        url.set_path("/metrics/job/seaworthy");
        return Ok(url);
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let grouping_key_ok = segments.len() >= 3
        && segments[0] == "metrics"
        && segments[1] == "job"
        && segments[2..].iter().all(|segment| !segment.is_empty())
        && segments.len() % 2 == 1;
    if !grouping_key_ok {
        return Err(format!(
            "`{path}` is not a Pushgateway group path: give the base URL, or /metrics/job/<job>[/<label>/<value>…]"
        ));
    }
    url.set_path(&path);
    Ok(url)
}

/// Parses a `--webhook` URL.
pub fn webhook_url(text: &str) -> Result<Url, String> {
    http_url(text)
}

/// The URL as it may be shown: scheme, host and port, and the path only when
/// `with_path` (never credentials, query or, for webhooks, the path).
pub fn redacted(url: &Url, with_path: bool) -> String {
    let origin = url.origin().ascii_serialization();
    match url.path() {
        "" | "/" => origin,
        path if with_path => format!("{origin}{path}"),
        _ => format!("{origin}/…"),
    }
}

/// Delivers the report to every sink; returns what failed.
pub async fn deliver(report: &Report, sinks: &Sinks, delivery: &Delivery) -> Vec<SinkError> {
    if sinks.push_metrics.is_none() && sinks.webhook.is_none() {
        return Vec::new();
    }
    {
        let client = client(delivery);
        // Both at once: a sink that is down does not delay the other.
        let push = async {
            let url = sinks.push_metrics.as_ref()?;
            // PUT replaces the whole group, so series of an older seaworthy do not linger.
            let body = metrics::render(report);
            let sent = send(&client, Method::PUT, url, "text/plain; version=0.0.4", body, delivery).await;
            sent.err().map(|reason| SinkError { sink: "push-metrics", target: redacted(url, true), reason })
        };
        let post = async {
            let url = sinks.webhook.as_ref()?;
            let sent = send(&client, Method::POST, url, "application/json", json::render(report), delivery).await;
            sent.err().map(|reason| SinkError { sink: "webhook", target: redacted(url, false), reason })
        };
        let (pushed, posted) = tokio::join!(push, post);
        pushed.into_iter().chain(posted).collect()
    }
}

fn client(delivery: &Delivery) -> Result<reqwest::Client, String> {
    // ring only (DESIGN §11); the provider may already be installed by the live source.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("seaworthy/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(delivery.connect_timeout)
        .timeout(delivery.timeout)
        .build()
        .map_err(|error| crate::source::live::polite::chain(&error.without_url()))
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// Worth another attempt, after the pause the server asked for, if any.
    Retry(String, Option<Duration>),
    Permanent(String),
}

/// Sends `body` with bounded retries; a client that could not be built fails each sink
/// with the same reason.
async fn send(
    client: &Result<reqwest::Client, String>,
    method: Method,
    url: &Url,
    content_type: &str,
    body: String,
    delivery: &Delivery,
) -> Result<(), String> {
    let client = client.as_ref().map_err(Clone::clone)?;
    for attempt in 1..=delivery.attempts {
        let request = client
            .request(method.clone(), url.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.clone());
        let (reason, retry_after) = match judge(request.send().await).await {
            Attempt::Delivered => return Ok(()),
            Attempt::Permanent(reason) => return Err(format!("{reason} (attempt {attempt}, not retried)")),
            Attempt::Retry(reason, retry_after) => (reason, retry_after),
        };
        if attempt == delivery.attempts {
            return Err(format!("{reason} (gave up after {attempt} attempts)"));
        }
        tracing::info!("{} attempt {attempt} failed: {reason}", redacted(url, false));
        tokio::time::sleep(delivery.backoff.wait(attempt, retry_after)).await;
    }
    Err("no attempt was allowed".into())
}

/// Whether a rustls error is among the causes. io::Errors hide the error they wrap
/// from `source()`, so they are opened too.
fn is_tls_error(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.is::<rustls::Error>() {
        return true;
    }
    if let Some(inner) = error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
        return is_tls_error(inner);
    }
    error.source().is_some_and(is_tls_error)
}

async fn judge(response: Result<reqwest::Response, reqwest::Error>) -> Attempt {
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            // A certificate the system's roots do not trust stays untrusted.
            let certificate = is_tls_error(&error);
            let reason = crate::source::live::polite::chain(&error.without_url());
            return if certificate { Attempt::Permanent(reason) } else { Attempt::Retry(reason, None) };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Delivered;
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| crate::retry::retry_after(value.to_str().ok()?, std::time::SystemTime::now()));
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| Url::parse(value.to_str().ok()?).ok())
            .map_or_else(|| "elsewhere".to_owned(), |url| redacted(&url, false));
        return Attempt::Permanent(format!(
            "answered {status} to {location}; redirects are not followed: give the final URL"
        ));
    }
    // Pushgateway and most webhooks say in a line or two what they did not like.
    let body = response.text().await.unwrap_or_default();
    let said: String = body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
    let reason = if said.is_empty() { format!("answered {status}") } else { format!("answered {status}: {said}") };
    if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry(reason, retry_after)
    } else {
        Attempt::Permanent(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushgateway_urls_get_a_group_or_keep_theirs() {
        assert_eq!(push_url("http://pgw:9091").unwrap().as_str(), "http://pgw:9091/metrics/job/seaworthy");
        assert_eq!(push_url("http://pgw:9091/").unwrap().as_str(), "http://pgw:9091/metrics/job/seaworthy");
        assert_eq!(
            push_url("https://pgw/metrics/job/audit/cluster/prod-eu1/").unwrap().as_str(),
            "https://pgw/metrics/job/audit/cluster/prod-eu1"
        );
        for bad in [
            "pgw:9091",
            "ftp://pgw/",
            "http://pgw/metrics",
            "http://pgw/metrics/job/a/cluster",
            "http://pgw/push",
            "http://pgw/?x=1",
            "http://pgw/#top",
        ] {
            assert!(push_url(bad).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn webhook_secrets_stay_out_of_messages() {
        let url = webhook_url("https://user:pass@hooks.example.com:8443/services/T0/B0/XYZ?token=t").unwrap();
        assert_eq!(redacted(&url, false), "https://hooks.example.com:8443/…");
        let push = push_url("http://user:pass@pgw:9091").unwrap();
        assert_eq!(redacted(&push, true), "http://pgw:9091/metrics/job/seaworthy");
    }
}
