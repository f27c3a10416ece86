//! Runs the probes of every target, a bounded number at a time.
//!
//! Each target kind has a fixed plan of read-only requests (see [`kinds`]). Each target is
//! one task that makes its requests in order; a semaphore keeps at most `concurrency`
//! requests in flight, so a cluster of thousands of nodes is probed at a steady, bounded
//! pace. Once a request to an endpoint gets no answer in time, its remaining requests
//! are not sent: a hung endpoint costs one timeout, not one per request. All probes
//! share one budget: what is not asked when it runs out is inconclusive, never a pass.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::http::{self, Answer};
use super::kinds::{self, Method, Reading, Request};
use super::targets::Target;
use super::{Failure, HttpEvidence, Timeouts, hello};

/// How probes run.
#[derive(Clone, Copy, Debug)]
pub struct ProbeSettings {
    /// Connect and request timeouts of each request.
    pub timeouts: Timeouts,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long all probes together may take.
    pub budget: Duration,
}

impl ProbeSettings {
    /// Requests in flight by default. A hung endpoint holds its slot for a whole request
    /// timeout, so `hung × timeout / concurrency` bounds a run from below: 256 keeps 200
    /// hung endpoints (10 % of 2,000) under 4 s at the 5 s default. Each endpoint still
    /// sees one request at a time.
    pub const DEFAULT_CONCURRENCY: usize = 256;
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            timeouts: Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) },
            concurrency: Self::DEFAULT_CONCURRENCY,
            budget: Duration::from_secs(300),
        }
    }
}

/// One request made against a target, and what it showed.
#[derive(Clone, Debug)]
pub struct Check {
    /// Which request of the target's plan, e.g. `pods`.
    pub name: &'static str,
    /// The port probed.
    pub port: u16,
    /// What was sent and what came back.
    pub evidence: HttpEvidence,
    /// A summary of the answer, e.g. `12 pods listed`; the body itself is not kept.
    pub detail: Option<String>,
}

/// A target and the outcome of each request of its plan.
#[derive(Clone, Debug)]
pub struct Probed {
    /// The target.
    pub target: Target,
    /// One check per planned request, in plan order.
    pub checks: Vec<Check>,
}

impl Probed {
    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|check| check.name == name)
    }
}

/// Probes every target; the result is in target order.
pub async fn run(targets: &[Target], settings: ProbeSettings) -> Vec<Probed> {
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let deadline = Instant::now() + settings.budget;
    let mut tasks = JoinSet::new();
    for (target_index, target) in targets.iter().enumerate() {
        let permits = permits.clone();
        let host = target.host.clone();
        let port = target.port;
        let kind = target.kind;
        tasks.spawn(async move {
            let mut checks: Vec<Check> = Vec::new();
            for request in kinds::spec(kind).requests {
                let not_asked = |failure| not_asked(&host, port, request, failure);
                if let Some(silent) =
                    checks.iter().find(|check| check.evidence.failure.as_ref().is_some_and(Failure::is_silence))
                {
                    let because = Box::new(silent.evidence.failure.clone().expect("a silent check has a failure"));
                    checks.push(not_asked(Failure::NotAsked { request: silent.evidence.request.clone(), because }));
                    continue;
                }
                let out_of_budget = || not_asked(Failure::BudgetExhausted(settings.budget));
                // Waiting for a slot counts against the budget; a request never starts after it.
                let permit = tokio::time::timeout_at(deadline, permits.clone().acquire_owned()).await;
                let Ok(permit) = permit else {
                    checks.push(out_of_budget());
                    continue;
                };
                let _permit = permit.expect("the semaphore is never closed");
                if Instant::now() >= deadline {
                    checks.push(out_of_budget());
                    continue;
                }
                let asked = probe_one(&host, port, request, settings.timeouts);
                let check = tokio::time::timeout_at(deadline, asked).await.unwrap_or_else(|_| out_of_budget());
                checks.push(check);
            }
            (target_index, checks)
        });
    }
    let mut probed: Vec<Probed> =
        targets.iter().map(|target| Probed { target: target.clone(), checks: Vec::new() }).collect();
    while let Some(joined) = tasks.join_next().await {
        let (target_index, checks) = joined.expect("a probe task does not panic");
        probed[target_index].checks = checks;
    }
    probed
}

/// The check for a request that was not sent or not answered in time (an earlier one
/// to the same endpoint got no answer, or the budget ran out): inconclusive, never closed.
fn not_asked(host: &str, port: u16, request: &Request, failure: Failure) -> Check {
    let evidence = HttpEvidence::failed(request_text(host, port, request.method), failure);
    Check { name: request.name, port, evidence, detail: None }
}

/// What a request sends, in words.
fn request_text(host: &str, port: u16, method: Method) -> String {
    let address = host_port(host, port);
    match method {
        Method::Get(scheme, path) => http::describe_get(scheme, &address, path),
        Method::H2cPreface => http::describe_preface(&address),
        Method::Hello(hello) => hello::describe(hello, &address),
    }
}

async fn probe_one(host: &str, port: u16, request: &Request, timeouts: Timeouts) -> Check {
    let address = match resolve(host, port, timeouts).await {
        Ok(address) => address,
        Err(failure) => return not_asked(host, port, request, failure),
    };
    let Answer { evidence, body } = match request.method {
        Method::Get(scheme, path) => http::get(address, path, scheme, timeouts).await,
        Method::H2cPreface => http::h2c_preface(address, timeouts).await,
        Method::Hello(hello) => Answer { evidence: hello::probe(address, hello, timeouts).await, body: Vec::new() },
    };
    let detail = summarize(request.reading, &evidence, &body);
    Check { name: request.name, port, evidence, detail }
}

/// `host:port`, with brackets around an IPv6 address.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// The address of `host` (an IP address, or a name from the kubeconfig).
async fn resolve(host: &str, port: u16, timeouts: Timeouts) -> Result<SocketAddr, Failure> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let found = tokio::time::timeout(timeouts.connect, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| Failure::Unresolved(format!("cannot resolve {host} within {:?}", timeouts.connect)))?
        .map_err(|error| Failure::Unresolved(format!("cannot resolve {host}: {error}")))?
        .next();
    found.ok_or_else(|| Failure::Unresolved(format!("{host} has no address")))
}

/// What an answer shows, in a few words; the body is read here and dropped.
fn summarize(reading: Reading, evidence: &HttpEvidence, body: &[u8]) -> Option<String> {
    match reading {
        Reading::ServerHello if evidence.answered => {
            let tls = evidence.tls.as_ref()?;
            let (version, suite) = (tls.version.as_deref()?, tls.cipher_suite.as_deref()?);
            return Some(format!("ServerHello {version}, {suite}"));
        }
        Reading::Http2Settings if evidence.answered => {
            return Some("answered with an HTTP/2 SETTINGS frame, without TLS".into());
        }
        _ => {}
    }
    if evidence.status != Some(200) {
        return None;
    }
    let truncated = evidence.body_truncated;
    let json = || serde_json::from_slice::<serde_json::Value>(body).ok();
    let more = if truncated { "+" } else { "" };
    match reading {
        Reading::Status | Reading::ServerHello | Reading::Http2Settings => None,
        Reading::Listed(what) => {
            if truncated {
                return Some(format!("{what} listed (more than {} KiB, not read further)", super::BODY_CAP / 1024));
            }
            let count = json()?.get("items")?.as_array()?.len();
            Some(format!("{count} {what} listed"))
        }
        Reading::Version => {
            let version = json()?;
            let text = version.get("gitVersion").or_else(|| version.get("etcdserver"))?.as_str()?;
            Some(format!("version {text}"))
        }
        Reading::Discovery => Some("API discovery served".into()),
        Reading::Metrics(prefix) => {
            let samples = body
                .split(|byte| *byte == b'\n')
                .filter(|line| !line.is_empty() && !line.starts_with(b"#"))
                .filter(|line| prefix.is_none_or(|prefix| line.starts_with(prefix.as_bytes())))
                .count();
            let what = if prefix.is_some() { "container metric lines" } else { "metric lines" };
            Some(format!("{samples}{more} {what}"))
        }
        Reading::Pprof => Some("profiling index served".into()),
        Reading::Configz => Some("configuration served".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &[u8], truncated: bool) -> (HttpEvidence, Vec<u8>) {
        let evidence = HttpEvidence {
            answered: true,
            status: Some(status),
            body_truncated: truncated,
            body_bytes: body.len(),
            ..HttpEvidence::pending("GET /".into())
        };
        (evidence, body.to_vec())
    }

    fn summary(reading: Reading, status: u16, body: &[u8], truncated: bool) -> Option<String> {
        let (evidence, body) = answered(status, body, truncated);
        summarize(reading, &evidence, &body)
    }

    #[test]
    fn answers_are_summarised_without_keeping_them() {
        let pods = br#"{"kind":"PodList","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
        let listed = Reading::Listed("pods");
        assert_eq!(summary(listed, 200, pods, false).as_deref(), Some("2 pods listed"));
        assert_eq!(
            summary(listed, 200, &pods[..20], true).as_deref(),
            Some("pods listed (more than 64 KiB, not read further)")
        );
        assert_eq!(summary(listed, 401, b"Unauthorized", false), None);
        assert_eq!(
            summary(Reading::Version, 200, br#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#, false).as_deref(),
            Some("version 3.4.23")
        );
        assert_eq!(
            summary(
                Reading::Metrics(Some("container_")),
                200,
                b"# HELP x\ncontainer_cpu 1\ncontainer_mem 2\nother 3\n",
                false
            )
            .as_deref(),
            Some("2 container metric lines")
        );
        assert_eq!(
            summary(Reading::Metrics(None), 200, b"# HELP x\nup 1\nrest_requests 2\n", true).as_deref(),
            Some("2+ metric lines")
        );
    }
}
