//! Runs the probes of every target, a bounded number at a time.
//!
//! Each target kind has a fixed plan of read-only requests (see [`plan`]). Each target is
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

use super::http::{self, Answer, Scheme};
use super::targets::{Target, TargetKind};
use super::{HttpEvidence, Timeouts};

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

/// How one request is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    /// A GET of this path.
    Get(Scheme, &'static str),
    /// The HTTP/2 client preface in plaintext (gRPC without TLS).
    H2cPreface,
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

/// The requests made against a target of `kind`: named, read-only, unauthenticated.
fn plan(kind: TargetKind) -> &'static [(&'static str, Method)] {
    use Method::{Get, H2cPreface};
    use Scheme::{Http, Https};
    match kind {
        TargetKind::ApiServer => &[
            ("version", Get(Https, "/version")),
            ("api", Get(Https, "/api")),
            ("namespaces", Get(Https, "/api/v1/namespaces")),
        ],
        TargetKind::ApiServerInsecure => &[("version", Get(Http, "/version"))],
        TargetKind::EtcdClient | TargetKind::EtcdPeer => {
            &[("plaintext", Get(Http, "/version")), ("tls", Get(Https, "/version"))]
        }
        TargetKind::Kubelet => &[("pods", Get(Https, "/pods")), ("metrics", Get(Https, "/metrics/cadvisor"))],
        TargetKind::KubeletReadOnly => &[("pods", Get(Http, "/pods")), ("metrics", Get(Http, "/metrics/cadvisor"))],
        TargetKind::Cadvisor => &[("root", Get(Http, "/"))],
        TargetKind::Tiller => &[("plaintext", H2cPreface)],
        TargetKind::Dashboard => &[("tls", Get(Https, "/"))],
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
            for &(name, method) in plan(kind) {
                if let Some(silent) = checks.iter().find(|check| timed_out(&check.evidence)) {
                    let reason = format!(
                        "not asked: {} got no answer ({})",
                        silent.evidence.request,
                        silent.evidence.reason.as_deref().unwrap_or_default()
                    );
                    checks.push(not_asked(&host, port, name, method, reason));
                    continue;
                }
                let out_of_budget = || format!("not asked: the probe budget of {:?} ran out", settings.budget);
                // Waiting for a slot counts against the budget; a request never starts after it.
                let permit = tokio::time::timeout_at(deadline, permits.clone().acquire_owned()).await;
                let Ok(permit) = permit else {
                    checks.push(not_asked(&host, port, name, method, out_of_budget()));
                    continue;
                };
                let _permit = permit.expect("the semaphore is never closed");
                if Instant::now() >= deadline {
                    checks.push(not_asked(&host, port, name, method, out_of_budget()));
                    continue;
                }
                let asked = probe_one(&host, port, name, method, settings.timeouts);
                let check = tokio::time::timeout_at(deadline, asked).await.unwrap_or_else(|_| {
                    let reason = format!("no answer before the probe budget of {:?} ran out", settings.budget);
                    not_asked(&host, port, name, method, reason)
                });
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

/// True when a request got no answer in time (as opposed to a refusal or an answer).
fn timed_out(evidence: &HttpEvidence) -> bool {
    evidence.outcome == super::Outcome::Inconclusive
        && evidence
            .reason
            .as_deref()
            .is_some_and(|reason| reason.starts_with("no answer within") || reason.starts_with("no TCP answer within"))
}

/// The check for a request that was not sent or not answered in time (an earlier one
/// to the same endpoint got no answer, or the budget ran out): inconclusive, never closed.
fn not_asked(host: &str, port: u16, name: &'static str, method: Method, reason: String) -> Check {
    let evidence = HttpEvidence { reason: Some(reason), ..HttpEvidence::pending(request_text(host, port, method)) };
    Check { name, port, evidence, detail: None }
}

/// What a request sends, in words.
fn request_text(host: &str, port: u16, method: Method) -> String {
    match method {
        Method::Get(scheme, path) => format!("GET {}://{}{path}", scheme_name(scheme), host_port(host, port)),
        Method::H2cPreface => format!("HTTP/2 preface (plaintext) to {}", host_port(host, port)),
    }
}

async fn probe_one(host: &str, port: u16, name: &'static str, method: Method, timeouts: Timeouts) -> Check {
    let address = match resolve(host, port, timeouts).await {
        Ok(address) => address,
        Err(reason) => {
            let evidence =
                HttpEvidence { reason: Some(reason), ..HttpEvidence::pending(request_text(host, port, method)) };
            return Check { name, port, evidence, detail: None };
        }
    };
    let (answer, path) = match method {
        Method::Get(scheme, path) => (http::get(address, path, scheme, timeouts).await, path),
        Method::H2cPreface => (http::h2c_preface(address, timeouts).await, ""),
    };
    let Answer { evidence, body } = answer;
    let detail = evidence.status.and_then(|status| summarize(path, status, &body, evidence.body_truncated));
    Check { name, port, evidence, detail }
}

/// `host:port`, with brackets around an IPv6 address.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

fn scheme_name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    }
}

/// The address of `host` (an IP address, or a name from the kubeconfig).
async fn resolve(host: &str, port: u16, timeouts: Timeouts) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let found = tokio::time::timeout(timeouts.connect, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| format!("cannot resolve {host} within {:?}", timeouts.connect))?
        .map_err(|error| format!("cannot resolve {host}: {error}"))?
        .next();
    found.ok_or_else(|| format!("{host} has no address"))
}

/// What an answer shows, in a few words; the body is read here and dropped.
fn summarize(path: &str, status: u16, body: &[u8], truncated: bool) -> Option<String> {
    if status != 200 {
        return None;
    }
    let json = || serde_json::from_slice::<serde_json::Value>(body).ok();
    let listed = |what: &str| {
        if truncated {
            return Some(format!("{what} listed (more than {} KiB, not read further)", super::BODY_CAP / 1024));
        }
        let count = json()?.get("items")?.as_array()?.len();
        Some(format!("{count} {what} listed"))
    };
    match path {
        "/pods" => listed("pods"),
        "/api/v1/namespaces" => listed("namespaces"),
        "/version" => {
            let version = json()?;
            let text = version.get("gitVersion").or_else(|| version.get("etcdserver"))?.as_str()?;
            Some(format!("version {text}"))
        }
        "/api" => Some("API discovery served".into()),
        "/metrics/cadvisor" => {
            let lines = body.split(|byte| *byte == b'\n').filter(|line| line.starts_with(b"container_")).count();
            let more = if truncated { "+" } else { "" };
            Some(format!("{lines}{more} container metric lines"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_summarised_without_keeping_them() {
        let pods = br#"{"kind":"PodList","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
        assert_eq!(summarize("/pods", 200, pods, false).as_deref(), Some("2 pods listed"));
        assert_eq!(
            summarize("/pods", 200, &pods[..20], true).as_deref(),
            Some("pods listed (more than 64 KiB, not read further)")
        );
        assert_eq!(summarize("/pods", 401, b"Unauthorized", false), None);
        assert_eq!(
            summarize("/version", 200, br#"{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}"#, false).as_deref(),
            Some("version 3.4.23")
        );
        assert_eq!(
            summarize("/metrics/cadvisor", 200, b"# HELP x\ncontainer_cpu 1\ncontainer_mem 2\n", false).as_deref(),
            Some("2 container metric lines")
        );
    }

    #[test]
    fn every_kind_has_a_plan_of_read_only_requests() {
        for kind in TargetKind::ALL {
            assert!(!plan(kind).is_empty(), "{kind:?}");
        }
    }
}
