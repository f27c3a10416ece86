//! Facts from the wire: what the cluster's endpoints answered to the probes, set beside
//! what the configuration claims.
//!
//! Each verdict (`anonymous`, `clientCertAuth`, …) is computed here from the raw checks
//! so that rules stay one line, and each is `unknown` when the evidence cannot tell:
//! an inconclusive probe never reads as closed.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Addon, Collection, Component, Facts, Subject};
use crate::inventory::Availability;
use crate::probe::certificate::{self, CertificateFact};
use crate::probe::run::{Check, Probed};
use crate::probe::targets::{LeftOut, TargetKind};
use crate::probe::{Outcome, TlsEvidence};

/// Declares a closed set of verdicts: a Rust enum serialized in kebab-case, so that the
/// facts schema lists its values and the rule loader can refuse any other.
macro_rules! verdict {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }
    };
}

verdict! {
    /// What anonymous requests get from an API server or a kubelet.
    Anonymous {
        /// 401 to every anonymous request.
        Off,
        /// 403, or 200 on a harmless path (`/version`, `/api`): authenticated as
        /// `system:anonymous`.
        Enabled,
        /// 200 on a request for real data.
        Allowed,
        /// Nothing listens.
        Closed,
        /// The wire could not tell.
        #[default]
        Unknown,
    }
}

verdict! {
    /// Whether etcd's client port demands a client certificate.
    ClientCertAuth {
        /// TLS refused a client without a certificate.
        Required,
        /// Answered without one, in plaintext or over TLS.
        Off,
        /// Nothing listens.
        Closed,
        /// The wire could not tell.
        #[default]
        Unknown,
    }
}

verdict! {
    /// Whether etcd's peer port speaks TLS.
    PeerTls {
        /// A TLS handshake was answered.
        On,
        /// It answers in plaintext.
        Off,
        /// Nothing listens.
        Closed,
        /// The wire could not tell.
        #[default]
        Unknown,
    }
}

verdict! {
    /// Who issued etcd's serving certificate, against the cluster CA.
    ClusterCa {
        /// The cluster CA from `kube-root-ca.crt`.
        Shared,
        /// Another CA.
        Separate,
        /// No certificate: plaintext, or closed.
        None,
        /// No certificate seen, or no cluster CA to compare with.
        #[default]
        Unknown,
    }
}

verdict! {
    /// Configuration set against the wire.
    Reconciliation {
        /// Both sides say the same.
        Agree,
        /// They differ: see `disagreements`.
        Disagree,
        /// The wire (or the configuration) could not tell.
        #[default]
        Unknown,
        /// No configuration belongs to this endpoint (a load balancer, a target given by hand).
        Unmapped,
    }
}

verdict! {
    /// Whether `/metrics/cadvisor` answers without credentials.
    MetricsAnonymous {
        /// It does, on one of the kubelet's ports.
        Yes,
        /// Neither port serves it anonymously.
        No,
        /// The wire could not tell.
        #[default]
        Unknown,
    }
}

verdict! {
    /// A kubelet's serving certificate.
    ServingCertificate {
        /// Issued by a CA.
        CaSigned,
        /// Issued by itself.
        SelfSigned,
        /// The port is closed: no certificate.
        None,
        /// Not X.509, or no handshake in time.
        #[default]
        Unknown,
    }
}

verdict! {
    /// The component behind a TLS endpoint whose certificate was looked at.
    CertificateComponent {
        /// An API server.
        #[default]
        KubeApiserver,
        /// etcd's client port.
        Etcd,
        /// etcd's peer port.
        EtcdPeer,
        /// A kubelet.
        Kubelet,
        /// The Kubernetes Dashboard.
        Dashboard,
    }
}

impl CertificateComponent {
    /// The name used in subjects and rules.
    fn as_str(self) -> &'static str {
        match self {
            Self::KubeApiserver => "kube-apiserver",
            Self::Etcd => "etcd",
            Self::EtcdPeer => "etcd-peer",
            Self::Kubelet => "kubelet",
            Self::Dashboard => "dashboard",
        }
    }
}

verdict! {
    /// Whether an endpoint's certificate was seen.
    CertificateStatus {
        /// The handshake showed a certificate.
        Seen,
        /// No handshake completed in time.
        #[default]
        Inconclusive,
    }
}

/// One probe request: what was sent, what came back, and the verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckFact {
    /// `open` (it answered), `closed` (refused, or demanded a client certificate) or
    /// `inconclusive` (timeout, reset, unexpected answer).
    pub status: Outcome,
    /// The port probed.
    pub port: i64,
    /// What was sent, e.g. `GET http://127.0.0.12:10255/pods`.
    pub request: String,
    /// HTTP status of the answer; 0 when there was none.
    pub http_status: i64,
    /// Why the outcome is what it is, for closed and inconclusive checks.
    pub reason: String,
    /// A summary of the answer, e.g. `12 pods listed`; the body itself is never kept.
    pub detail: String,
    /// One line for people: `GET http://127.0.0.12:10255/pods → 200, 12 pods listed`.
    pub evidence: String,
}

/// An API server endpoint, probed without credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiserverProbeFact {
    /// The endpoint (`Endpoint kube-apiserver/<host>/<port>`).
    pub subject: Subject,
    /// Host probed.
    pub host: String,
    /// Port probed.
    pub port: i64,
    /// Why it was probed, e.g. `kubeconfig server`.
    pub origin: String,
    /// Anonymous `GET /version` over TLS.
    pub version: CheckFact,
    /// Anonymous `GET /api`.
    pub api: CheckFact,
    /// Anonymous `GET /api/v1/namespaces`.
    pub namespaces: CheckFact,
    /// `off` (401 everywhere), `enabled` (403, or 200 on `/version` or `/api`),
    /// `allowed` (200 on `/api/v1/namespaces`), `closed` (nothing listens) or `unknown`.
    pub anonymous: Anonymous,
    /// Plain-HTTP `GET /version` on the insecure port of the same host.
    pub insecure_port: CheckFact,
    /// What the kube-apiserver pod on this host configures (`--anonymous-auth`,
    /// `--insecure-port`) against what the wire showed: `agree`, `disagree`, `unknown`
    /// (the wire could not tell) or `unmapped` (no pod runs on this host: a load
    /// balancer, or a target given by hand).
    pub reconciliation: Reconciliation,
    /// Each disagreement between flags and wire, in words.
    pub disagreements: Vec<String>,
}

/// An etcd endpoint, probed without a client certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EtcdProbeFact {
    /// The endpoint (`Endpoint etcd/<host>/<port>`).
    pub subject: Subject,
    /// Host probed.
    pub host: String,
    /// Client port probed.
    pub port: i64,
    /// Why it was probed, e.g. `kube-apiserver --etcd-servers`.
    pub origin: String,
    /// Plain-HTTP `GET /version` on the client port.
    pub plaintext: CheckFact,
    /// `GET /version` over TLS without a client certificate.
    pub tls: CheckFact,
    /// Plain-HTTP `GET /version` on the peer port.
    pub peer_plaintext: CheckFact,
    /// `GET /version` over TLS on the peer port, without a client certificate.
    pub peer_tls: CheckFact,
    /// `required` (TLS refused a client without a certificate), `off` (answered without
    /// one, in plaintext or over TLS), `closed` or `unknown`.
    pub client_cert_auth: ClientCertAuth,
    /// Peer port: `on` (TLS), `off` (answers in plaintext), `closed` or `unknown`.
    pub peer_tls_status: PeerTls,
    /// `shared` (the serving certificate was issued by the cluster CA from
    /// `kube-root-ca.crt`), `separate`, `none` (no certificate: plaintext or closed) or
    /// `unknown`.
    pub cluster_ca: ClusterCa,
    /// Issuer of the serving certificate; empty when none was seen.
    pub server_certificate_issuer: String,
    /// The etcd pod's `--client-cert-auth` and `--listen-client-urls` against the wire:
    /// `agree`, `disagree`, `unknown` or `unmapped` (no etcd pod for this address).
    pub reconciliation: Reconciliation,
    /// Each disagreement between flags and wire, in words.
    pub disagreements: Vec<String>,
}

/// A kubelet, probed on its API port, read-only port and cAdvisor port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeletProbeFact {
    /// The endpoint (`Endpoint kubelet/<host>`).
    pub subject: Subject,
    /// The node; empty for a target given by hand.
    pub node: String,
    /// Host probed.
    pub host: String,
    /// Anonymous `GET /pods` over TLS on the kubelet API port.
    pub pods: CheckFact,
    /// Anonymous `GET /metrics/cadvisor` over TLS on the kubelet API port.
    pub metrics: CheckFact,
    /// Plain-HTTP `GET /pods` on the read-only port.
    pub read_only_pods: CheckFact,
    /// Plain-HTTP `GET /metrics/cadvisor` on the read-only port.
    pub read_only_metrics: CheckFact,
    /// Plain-HTTP `GET /` on the standalone cAdvisor port.
    pub cadvisor: CheckFact,
    /// Kubelet API to anonymous requests: `off` (401), `enabled` (403), `allowed`
    /// (200), `closed` or `unknown`.
    pub anonymous: Anonymous,
    /// `/metrics/cadvisor` served without credentials on either port: `yes`, `no` or
    /// `unknown`.
    pub metrics_anonymous: MetricsAnonymous,
    /// Serving certificate: `ca-signed`, `self-signed`, `none` (port closed) or `unknown`.
    pub serving_certificate: ServingCertificate,
    /// The node's kubelet configuration (`readOnlyPort`, anonymous authentication)
    /// against the wire: `agree`, `disagree`, `unknown` (configuration not read, or the
    /// wire could not tell) or `unmapped` (no configuration for this node).
    pub reconciliation: Reconciliation,
    /// Each disagreement between configuration and wire, in words.
    pub disagreements: Vec<String>,
}

/// An add-on endpoint: Helm v2's Tiller or the Kubernetes Dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonProbeFact {
    /// The endpoint (`Endpoint <addon>/<host>/<port>`).
    pub subject: Subject,
    /// `tiller` or `dashboard`.
    pub addon: Addon,
    /// Host probed (the Service's cluster IP).
    pub host: String,
    /// Port probed.
    pub port: i64,
    /// Why it was probed, e.g. `Service/kube-system/tiller-deploy clusterIP`.
    pub origin: String,
    /// Tiller: the HTTP/2 preface in plaintext; Dashboard: `GET /` over TLS.
    pub probe: CheckFact,
}

/// A certificate presented by a TLS endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateProbeFact {
    /// The endpoint that presented it.
    pub subject: Subject,
    /// `https://<host>:<port>`.
    pub endpoint: String,
    /// `kube-apiserver`, `etcd`, `etcd-peer`, `kubelet` or `dashboard`.
    pub component: CertificateComponent,
    /// `seen`, or `inconclusive` when the endpoint did not complete a handshake in time.
    pub status: CertificateStatus,
    /// Why, for inconclusive ones.
    pub reason: String,
    /// The leaf certificate; absent when not seen.
    pub certificate: Option<CertificateFact>,
}

/// Whether and how probes ran, for collections to say why they are empty.
#[derive(Clone, Debug)]
pub enum Probing {
    /// Probes ran: what they found, and the targets left out of the plan.
    Ran {
        /// Every planned target's outcome.
        probed: Vec<Probed>,
        /// Targets the cluster names that were not probed from here.
        left_out: Vec<LeftOut>,
    },
    /// Probes did not run, for this reason.
    Skipped(String),
}

/// Fills the probe-evidence collections of `facts`.
pub fn attach(facts: &mut Facts, probing: &Probing, now: Timestamp) {
    let (probed, left_out) = match probing {
        Probing::Skipped(reason) => {
            let missing = Availability::not_collected(reason.clone());
            facts.apiservers = Collection::new(missing.clone(), Vec::new());
            facts.etcd = Collection::new(missing.clone(), Vec::new());
            facts.kubelets = Collection::new(missing.clone(), Vec::new());
            facts.addon_endpoints = Collection::new(missing.clone(), Vec::new());
            facts.certificates = Collection::new(missing, Vec::new());
            return;
        }
        Probing::Ran { probed, left_out } => (probed, left_out),
    };
    let of_kind = |kind| probed.iter().filter(move |probed| probed.target.kind == kind);
    let companion = |kind, host: &str| of_kind(kind).find(|probed| probed.target.host == host);

    // Targets come from the cluster's objects: a probe collection is only as complete as
    // the lists its targets were found in. Unseen targets are unknown, not secure.
    let from = |sources: &[(&str, &Availability)]| {
        sources
            .iter()
            .find_map(|(name, availability)| match availability {
                Availability::NotCollected { reason } => {
                    Some(Availability::not_collected(format!("probe targets unknown: {name} not collected: {reason}")))
                }
                _ => None,
            })
            .unwrap_or(Availability::Collected)
    };
    let nodes = ("nodes", &facts.nodes.availability);
    let apiserver_sources = [("apiserverEndpoints", &facts.apiserver_endpoints.availability)];
    let etcd_sources = [("workloads", &facts.workloads.availability), nodes];
    let kubelet_sources = [nodes];
    let addon_sources = [("services", &facts.services.availability)];
    // A collection whose targets were left out of the plan is incomplete: what those
    // would have shown is unknown, not safe.
    let unless_left_out = |kinds: &[TargetKind], found: Availability| {
        let left: Vec<&LeftOut> = left_out.iter().filter(|left| kinds.contains(&left.target.kind)).collect();
        let Some(first) = left.first() else { return found };
        let targets: Vec<String> =
            left.iter().map(|left| crate::probe::run::host_port(&left.target.host, left.target.port)).collect();
        Availability::not_collected(format!("{} (not probed: {})", first.reason, targets.join(", ")))
    };
    let apiservers_available =
        unless_left_out(&[TargetKind::ApiServer, TargetKind::ApiServerInsecure], from(&apiserver_sources));
    let etcd_found = unless_left_out(&[TargetKind::EtcdClient, TargetKind::EtcdPeer], from(&etcd_sources));
    let kubelets_available = unless_left_out(
        &[TargetKind::Kubelet, TargetKind::KubeletReadOnly, TargetKind::Cadvisor],
        from(&kubelet_sources),
    );
    let addons_available = unless_left_out(&[TargetKind::Tiller, TargetKind::Dashboard], from(&addon_sources));
    let certificates_available =
        Availability::combine([&apiservers_available, &etcd_found, &kubelets_available, &addons_available]);

    let apiservers = of_kind(TargetKind::ApiServer)
        .map(|probed| apiserver(facts, probed, companion(TargetKind::ApiServerInsecure, &probed.target.host)))
        .collect();
    facts.apiservers = Collection::new(apiservers_available, apiservers);

    let provider = facts.cluster.provider;
    let etcd_available = if provider.is_managed() {
        Availability::NotApplicable { reason: format!("managed control plane: {provider}") }
    } else {
        etcd_found
    };
    let cluster_ca = facts.cluster.ca_certificate.as_deref().map(certificate::der_from_pem);
    let etcd = of_kind(TargetKind::EtcdClient)
        .map(|probed| etcd(facts, probed, companion(TargetKind::EtcdPeer, &probed.target.host), cluster_ca.as_ref()))
        .collect();
    facts.etcd = Collection::new(etcd_available, etcd);

    let kubelets = of_kind(TargetKind::Kubelet)
        .map(|probed| {
            let host = &probed.target.host;
            kubelet(
                facts,
                probed,
                companion(TargetKind::KubeletReadOnly, host),
                companion(TargetKind::Cadvisor, host),
                now,
            )
        })
        .collect();
    facts.kubelets = Collection::new(kubelets_available, kubelets);

    let addons = probed
        .iter()
        .filter_map(|probed| {
            let (addon, name) = match probed.target.kind {
                TargetKind::Tiller => (Addon::Tiller, "tiller"),
                TargetKind::Dashboard => (Addon::Dashboard, "dashboard"),
                _ => return None,
            };
            Some(AddonProbeFact {
                subject: endpoint_subject(name, &probed.target.host, Some(probed.target.port)),
                addon,
                host: probed.target.host.clone(),
                port: i64::from(probed.target.port),
                origin: probed.target.origin.clone(),
                probe: probed.checks.first().map(check_fact).unwrap_or_default(),
            })
        })
        .collect();
    facts.addon_endpoints = Collection::new(addons_available, addons);

    let certificates = probed.iter().filter_map(|probed| certificate_fact(probed, now)).collect();
    facts.certificates = Collection::new(certificates_available, certificates);
}

/// `Endpoint <component>/<host>[/<port>]`: the SARIF `_endpoints/…` pseudo-path.
fn endpoint_subject(component: &str, host: &str, port: Option<u16>) -> Subject {
    let name = match port {
        Some(port) => format!("{component}/{host}/{port}"),
        None => format!("{component}/{host}"),
    };
    Subject { kind: "Endpoint".into(), name, ..Subject::default() }
}

fn status_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Open => "open",
        Outcome::Closed => "closed",
        Outcome::Inconclusive => "inconclusive",
    }
}

fn check_fact(check: &Check) -> CheckFact {
    let evidence = &check.evidence;
    let reason = evidence.reason.clone().unwrap_or_default();
    let detail = check.detail.clone().unwrap_or_default();
    let outcome = match (evidence.outcome, evidence.status) {
        (Outcome::Open, Some(status)) if detail.is_empty() => format!("{status}"),
        (Outcome::Open, Some(status)) => format!("{status}, {detail}"),
        (Outcome::Open, None) => reason.clone(),
        (outcome, _) => format!("{} ({reason})", status_word(outcome)),
    };
    CheckFact {
        status: evidence.outcome,
        port: i64::from(check.port),
        request: evidence.request.clone(),
        http_status: evidence.status.map_or(0, i64::from),
        reason,
        detail,
        evidence: format!("{} → {outcome}", evidence.request),
    }
}

/// The check named `name` of `probed`, or an inconclusive stand-in when the target was
/// not probed at all (never a silent "closed").
fn named(probed: Option<&Probed>, name: &str) -> CheckFact {
    match probed.and_then(|probed| probed.check(name)) {
        Some(check) => check_fact(check),
        None => CheckFact {
            status: Outcome::Inconclusive,
            reason: "not probed".into(),
            evidence: format!("{name}: not probed"),
            ..CheckFact::default()
        },
    }
}

/// Anonymous access from the answers to unauthenticated requests; `allowed` needs
/// `resource` (a request for real data) to be answered 200.
fn anonymous_access(checks: &[&CheckFact], resource: &CheckFact) -> Anonymous {
    let any = |status: i64| checks.iter().any(|check| check.http_status == status);
    if resource.http_status == 200 {
        Anonymous::Allowed
    } else if any(200) || any(403) {
        Anonymous::Enabled
    } else if checks.iter().all(|check| check.http_status == 401) {
        Anonymous::Off
    } else if checks.iter().all(|check| check.status == Outcome::Closed) {
        Anonymous::Closed
    } else {
        Anonymous::Unknown
    }
}

/// The component pod of `component` running on the node that owns `host`.
fn component_on<'a>(facts: &'a Facts, component: Component, host: &str) -> Option<&'a super::ComponentFact> {
    let node = facts.nodes.items.iter().find(|node| node.internal_ips.iter().any(|ip| ip == host))?;
    facts.components.items.iter().find(|candidate| candidate.component == component && candidate.node == node.name)
}

/// How far configuration and wire could be compared.
enum Compared {
    /// No configuration belongs to this endpoint (a load balancer, a target given by
    /// hand, a component outside the cluster's pods): nothing to reconcile.
    Unmapped,
    /// Configuration found, but the wire (or the configuration) could not tell.
    Unknown,
    /// Both sides known.
    Known,
}

/// `agree`, `disagree`, `unknown` or `unmapped`.
fn reconciliation(disagreements: &[String], compared: &Compared) -> Reconciliation {
    match compared {
        _ if !disagreements.is_empty() => Reconciliation::Disagree,
        Compared::Known => Reconciliation::Agree,
        Compared::Unknown => Reconciliation::Unknown,
        Compared::Unmapped => Reconciliation::Unmapped,
    }
}

fn compared(known: bool) -> Compared {
    if known { Compared::Known } else { Compared::Unknown }
}

fn apiserver(facts: &Facts, probed: &Probed, insecure: Option<&Probed>) -> ApiserverProbeFact {
    let version = named(Some(probed), "version");
    let api = named(Some(probed), "api");
    let namespaces = named(Some(probed), "namespaces");
    let anonymous = anonymous_access(&[&version, &api, &namespaces], &namespaces);
    let insecure_port = named(insecure, "version");
    let mut disagreements = Vec::new();
    let mut comparison = Compared::Unmapped;
    if let Some(pod) = component_on(facts, Component::KubeApiserver, &probed.target.host) {
        // The API server's default is --anonymous-auth=true.
        let flag_on = pod.flags.get("anonymous-auth").is_none_or(|value| value != "false");
        match (flag_on, anonymous) {
            (false, Anonymous::Enabled | Anonymous::Allowed) => disagreements.push(format!(
                "--anonymous-auth=false, but without credentials: {}; {}",
                api.evidence, namespaces.evidence
            )),
            (true, Anonymous::Off) => disagreements.push(format!(
                "--anonymous-auth is on, but every anonymous request was refused with 401 (is something in front of the API server?): {}",
                api.evidence
            )),
            _ => {}
        }
        // Since 1.20 the insecure port is off unless --insecure-port says otherwise.
        let insecure_flag_off = pod.flags.get("insecure-port").is_none_or(|value| value == "0");
        if insecure_flag_off && insecure_port.http_status == 200 {
            disagreements.push(format!("--insecure-port is off, but {}", insecure_port.evidence));
        }
        comparison = compared(
            !matches!(anonymous, Anonymous::Unknown | Anonymous::Closed)
                && insecure_port.status != Outcome::Inconclusive,
        );
    }
    ApiserverProbeFact {
        subject: endpoint_subject("kube-apiserver", &probed.target.host, Some(probed.target.port)),
        host: probed.target.host.clone(),
        port: i64::from(probed.target.port),
        origin: probed.target.origin.clone(),
        reconciliation: reconciliation(&disagreements, &comparison),
        disagreements,
        version,
        api,
        namespaces,
        anonymous,
        insecure_port,
    }
}

/// TLS evidence of the check named `name`.
fn tls_of<'a>(probed: Option<&'a Probed>, name: &str) -> Option<&'a TlsEvidence> {
    probed?.check(name)?.evidence.tls.as_ref()
}

/// Whether a TLS check was turned away for want of a client certificate.
fn demanded_client_certificate(check: &CheckFact, tls: Option<&TlsEvidence>) -> bool {
    check.status == Outcome::Closed && tls.is_some_and(|tls| tls.client_certificate_requested)
}

fn etcd(
    facts: &Facts,
    probed: &Probed,
    peer: Option<&Probed>,
    cluster_ca: Option<&Result<Vec<u8>, String>>,
) -> EtcdProbeFact {
    let plaintext = named(Some(probed), "plaintext");
    let tls = named(Some(probed), "tls");
    let peer_plaintext = named(peer, "plaintext");
    let peer_tls = named(peer, "tls");
    let transport = |plaintext: &CheckFact, tls: &CheckFact, tls_evidence: Option<&TlsEvidence>| {
        if plaintext.http_status == 200 || tls.status == Outcome::Open {
            ClientCertAuth::Off
        } else if demanded_client_certificate(tls, tls_evidence) {
            ClientCertAuth::Required
        } else if plaintext.status == Outcome::Closed && tls.status == Outcome::Closed {
            ClientCertAuth::Closed
        } else {
            ClientCertAuth::Unknown
        }
    };
    let client_cert_auth = transport(&plaintext, &tls, tls_of(Some(probed), "tls"));
    // The peer port has TLS when a handshake was answered, with or without a client
    // certificate; only a plaintext answer means it has none.
    let peer_tls_status = match transport(&peer_plaintext, &peer_tls, tls_of(peer, "tls")) {
        ClientCertAuth::Off if peer_plaintext.http_status == 200 => PeerTls::Off,
        ClientCertAuth::Off | ClientCertAuth::Required => PeerTls::On,
        ClientCertAuth::Closed => PeerTls::Closed,
        ClientCertAuth::Unknown => PeerTls::Unknown,
    };
    let leaf = tls_of(Some(probed), "tls").and_then(|tls| tls.peer_certificates.first());
    let server_certificate_issuer = leaf
        .and_then(|der| certificate::describe(der, Timestamp::UNIX_EPOCH).ok())
        .map(|fact| fact.issuer)
        .unwrap_or_default();
    let cluster_ca = match (leaf, cluster_ca) {
        (None, _) if plaintext.http_status == 200 || tls.status == Outcome::Closed => ClusterCa::None,
        (Some(leaf), Some(Ok(ca))) => match certificate::issued_by(leaf, ca) {
            Ok(true) => ClusterCa::Shared,
            Ok(false) => ClusterCa::Separate,
            Err(_) => ClusterCa::Unknown,
        },
        // No certificate seen, or no readable cluster CA to compare it with.
        _ => ClusterCa::Unknown,
    };
    let mut disagreements = Vec::new();
    let mut comparison = Compared::Unmapped;
    if let Some(pod) = etcd_pod(facts, &probed.target.host) {
        let all_https = pod
            .flag_lists
            .get("listen-client-urls")
            .is_some_and(|urls| !urls.is_empty() && urls.iter().all(|url| url.starts_with("https://")));
        let configured = all_https && pod.flags.get("client-cert-auth").is_some_and(|value| value == "true");
        match (configured, client_cert_auth) {
            (true, ClientCertAuth::Off) => disagreements.push(format!(
                "--client-cert-auth=true over https, but without a client certificate: {}",
                if plaintext.http_status == 200 { &plaintext.evidence } else { &tls.evidence }
            )),
            (false, ClientCertAuth::Required) => {
                disagreements.push(format!("client certificates are not required by the flags, but {}", tls.evidence));
            }
            _ => {}
        }
        comparison = compared(matches!(client_cert_auth, ClientCertAuth::Off | ClientCertAuth::Required));
    }
    EtcdProbeFact {
        subject: endpoint_subject("etcd", &probed.target.host, Some(probed.target.port)),
        host: probed.target.host.clone(),
        port: i64::from(probed.target.port),
        origin: probed.target.origin.clone(),
        reconciliation: reconciliation(&disagreements, &comparison),
        disagreements,
        plaintext,
        tls,
        peer_plaintext,
        peer_tls,
        client_cert_auth,
        peer_tls_status,
        cluster_ca,
        server_certificate_issuer,
    }
}

/// The etcd pod serving `host`: on the node with that address, or listening on it.
fn etcd_pod<'a>(facts: &'a Facts, host: &str) -> Option<&'a super::ComponentFact> {
    component_on(facts, Component::Etcd, host).or_else(|| {
        facts.components.items.iter().find(|component| {
            component.component == Component::Etcd
                && component
                    .flag_lists
                    .get("advertise-client-urls")
                    .is_some_and(|urls| urls.iter().any(|url| url.contains(&format!("//{host}:"))))
        })
    })
}

fn kubelet(
    facts: &Facts,
    probed: &Probed,
    read_only: Option<&Probed>,
    cadvisor: Option<&Probed>,
    now: Timestamp,
) -> KubeletProbeFact {
    let host = &probed.target.host;
    let node = facts
        .nodes
        .items
        .iter()
        .find(|node| node.internal_ips.iter().any(|ip| ip == host))
        .map(|node| node.name.clone())
        .unwrap_or_default();
    let pods = named(Some(probed), "pods");
    let metrics = named(Some(probed), "metrics");
    let read_only_pods = named(read_only, "pods");
    let read_only_metrics = named(read_only, "metrics");
    let cadvisor = named(cadvisor, "root");
    let anonymous = anonymous_access(&[&pods, &metrics], &pods);
    let metrics_anonymous = if metrics.http_status == 200 || read_only_metrics.http_status == 200 {
        MetricsAnonymous::Yes
    } else if metrics.status != Outcome::Inconclusive && read_only_metrics.status != Outcome::Inconclusive {
        MetricsAnonymous::No
    } else {
        MetricsAnonymous::Unknown
    };
    let leaf = tls_of(Some(probed), "pods").and_then(|tls| tls.peer_certificates.first());
    let serving_certificate = match leaf.map(|der| certificate::describe(der, now)) {
        Some(Ok(fact)) if fact.self_signed => ServingCertificate::SelfSigned,
        Some(Ok(_)) => ServingCertificate::CaSigned,
        None if pods.status == Outcome::Closed && pods.reason == "connection refused" => ServingCertificate::None,
        // Not X.509, or no handshake in time.
        Some(Err(_)) | None => ServingCertificate::Unknown,
    };
    let mut disagreements = Vec::new();
    let config = facts.kubelet_configs.items.iter().find(|config| !node.is_empty() && config.node == node);
    // Without /configz the node's configuration could have been read: unknown, not unmapped.
    let mut comparison =
        if facts.kubelet_configs.availability.is_collected() { Compared::Unmapped } else { Compared::Unknown };
    if let Some(config) = config {
        let read_only_port = read_only.map_or(0, |probed| i64::from(probed.target.port));
        if config.read_only_port == 0 && read_only_pods.http_status == 200 {
            disagreements.push(format!("readOnlyPort: 0 in the configuration, but {}", read_only_pods.evidence));
        } else if config.read_only_port == read_only_port && read_only_pods.reason == "connection refused" {
            disagreements.push(format!(
                "readOnlyPort: {} in the configuration, but {}",
                config.read_only_port, read_only_pods.evidence
            ));
        }
        match (config.anonymous_auth, anonymous) {
            (false, Anonymous::Enabled | Anonymous::Allowed) => disagreements
                .push(format!("anonymous authentication is off in the configuration, but {}", pods.evidence)),
            (true, Anonymous::Off) => disagreements
                .push(format!("anonymous authentication is on in the configuration, but {}", pods.evidence)),
            _ => {}
        }
        comparison = compared(
            matches!(anonymous, Anonymous::Off | Anonymous::Enabled | Anonymous::Allowed)
                && read_only_pods.status != Outcome::Inconclusive,
        );
    }
    KubeletProbeFact {
        subject: endpoint_subject("kubelet", host, None),
        node,
        host: host.clone(),
        reconciliation: reconciliation(&disagreements, &comparison),
        disagreements,
        pods,
        metrics,
        read_only_pods,
        read_only_metrics,
        cadvisor,
        anonymous,
        metrics_anonymous,
        serving_certificate,
    }
}

/// The certificate an endpoint presented: the first TLS check that recorded one. An
/// endpoint that never completed a handshake for lack of time is `inconclusive`; one
/// that refused connections or does not speak TLS presents none and has no item.
fn certificate_fact(probed: &Probed, now: Timestamp) -> Option<CertificateProbeFact> {
    let component = match probed.target.kind {
        TargetKind::ApiServer => CertificateComponent::KubeApiserver,
        TargetKind::EtcdClient => CertificateComponent::Etcd,
        TargetKind::EtcdPeer => CertificateComponent::EtcdPeer,
        TargetKind::Kubelet => CertificateComponent::Kubelet,
        TargetKind::Dashboard => CertificateComponent::Dashboard,
        _ => return None,
    };
    let tls_checks: Vec<&Check> =
        probed.checks.iter().filter(|check| check.evidence.request.starts_with("GET https://")).collect();
    let item = |status: CertificateStatus, reason: String, certificate| CertificateProbeFact {
        subject: endpoint_subject(component.as_str(), &probed.target.host, Some(probed.target.port)),
        endpoint: format!("https://{}", crate::probe::run::host_port(&probed.target.host, probed.target.port)),
        component,
        status,
        reason,
        certificate,
    };
    if let Some(der) =
        tls_checks.iter().find_map(|check| check.evidence.tls.as_ref().and_then(|tls| tls.peer_certificates.first()))
    {
        return Some(match certificate::describe(der, now) {
            Ok(fact) => item(CertificateStatus::Seen, String::new(), Some(fact)),
            Err(reason) => item(CertificateStatus::Inconclusive, reason, None),
        });
    }
    let timed_out = tls_checks.iter().find(|check| {
        check.evidence.outcome == Outcome::Inconclusive
            && check.evidence.reason.as_deref().is_some_and(|reason| {
                reason.starts_with("no TCP answer within") || reason.starts_with("no answer within")
            })
    })?;
    Some(item(CertificateStatus::Inconclusive, timed_out.evidence.reason.clone().unwrap_or_default(), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::HttpEvidence;
    use crate::probe::targets::Target;

    fn check(name: &'static str, outcome: Outcome, status: Option<u16>, reason: Option<&str>) -> Check {
        Check {
            name,
            port: 1,
            evidence: HttpEvidence {
                request: format!("GET {name}"),
                outcome,
                reason: reason.map(str::to_owned),
                status,
                body_bytes: 0,
                body_truncated: false,
                tls: None,
            },
            detail: None,
        }
    }

    fn probed(kind: TargetKind, host: &str, checks: Vec<Check>) -> Probed {
        Probed { target: Target { kind, host: host.into(), port: 1, origin: "test".into() }, checks }
    }

    fn weak() -> Facts {
        let inventory = crate::source::manifests::read(
            &[std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/clusters/weak"))],
            crate::source::manifests::DEFAULT_MAX_INPUT_BYTES,
        )
        .expect("the weak example reads");
        super::super::build(inventory, super::super::SourceKind::Live)
    }

    #[test]
    fn anonymous_access_is_read_from_the_status_codes() {
        let open = |status| CheckFact { status: Outcome::Open, http_status: status, ..CheckFact::default() };
        let closed = CheckFact { status: Outcome::Closed, ..CheckFact::default() };
        let silent = CheckFact { status: Outcome::Inconclusive, ..CheckFact::default() };
        assert_eq!(anonymous_access(&[&open(401), &open(401)], &open(401)), Anonymous::Off);
        assert_eq!(anonymous_access(&[&open(200), &open(403)], &open(403)), Anonymous::Enabled, "/version is public");
        assert_eq!(anonymous_access(&[&open(200), &open(200)], &open(200)), Anonymous::Allowed);
        assert_eq!(anonymous_access(&[&closed, &closed], &closed), Anonymous::Closed);
        assert_eq!(anonymous_access(&[&open(401), &silent], &silent), Anonymous::Unknown, "silence is never `off`");
    }

    #[test]
    fn a_flag_that_the_wire_contradicts_is_a_disagreement() {
        let mut facts = weak();
        // The weak cluster's API server runs with --anonymous-auth=true on cp1 (127.0.10.1);
        // an answer of 401 everywhere contradicts it.
        let refused_401 = |name| check(name, Outcome::Open, Some(401), None);
        let apiserver = probed(
            TargetKind::ApiServer,
            "127.0.10.1",
            vec![refused_401("version"), refused_401("api"), refused_401("namespaces")],
        );
        let insecure = probed(
            TargetKind::ApiServerInsecure,
            "127.0.10.1",
            vec![check("version", Outcome::Closed, None, Some("connection refused"))],
        );
        attach(
            &mut facts,
            &Probing::Ran { probed: vec![apiserver, insecure], left_out: Vec::new() },
            Timestamp::UNIX_EPOCH,
        );
        let item = &facts.apiservers.items[0];
        assert_eq!(item.anonymous, Anonymous::Off);
        assert_eq!(item.reconciliation, Reconciliation::Disagree, "{:?}", item.disagreements);
        assert!(item.disagreements[0].starts_with("--anonymous-auth is on"), "{:?}", item.disagreements);
        assert_eq!(item.subject.name, "kube-apiserver/127.0.10.1/1");
    }

    #[test]
    fn etcd_turning_away_a_client_without_a_certificate_requires_one() {
        let mut facts = weak();
        let mut tls = check("tls", Outcome::Closed, None, Some("TLS: the server requires a client certificate"));
        tls.evidence.tls =
            Some(TlsEvidence { handshake: true, client_certificate_requested: true, ..TlsEvidence::default() });
        let plaintext = check("plaintext", Outcome::Open, Some(400), None);
        let client = probed(TargetKind::EtcdClient, "127.0.10.1", vec![plaintext, tls]);
        attach(&mut facts, &Probing::Ran { probed: vec![client], left_out: Vec::new() }, Timestamp::UNIX_EPOCH);
        let item = &facts.etcd.items[0];
        assert_eq!(item.client_cert_auth, ClientCertAuth::Required);
        assert_eq!(item.peer_tls_status, PeerTls::Unknown, "the peer port was not probed: unknown, never `on`");
        assert_eq!(item.peer_plaintext.reason, "not probed");
        // The weak etcd pod listens on http:// without --client-cert-auth: the wire disagrees.
        assert_eq!(item.reconciliation, Reconciliation::Disagree, "{:?}", item.disagreements);
    }

    #[test]
    fn probes_are_only_as_complete_as_the_lists_their_targets_come_from() {
        let mut facts = weak();
        facts.services.availability = Availability::not_collected("forbidden: list services");
        attach(&mut facts, &Probing::Ran { probed: Vec::new(), left_out: Vec::new() }, Timestamp::UNIX_EPOCH);
        let unknown = Availability::not_collected(
            "probe targets unknown: services not collected: forbidden: list services".to_owned(),
        );
        assert_eq!(facts.addon_endpoints.availability, unknown, "no Tiller found is not no Tiller");
        assert_eq!(facts.certificates.availability, unknown, "add-on certificates are unknown too");
        assert_eq!(facts.kubelets.availability, Availability::Collected, "nodes were listed");
        assert_eq!(facts.etcd.availability, Availability::Collected);
    }

    #[test]
    fn targets_left_out_make_their_collection_unknown_with_the_reason_and_addresses() {
        use crate::probe::targets::{AddressClass, LeftOutReason, Target};
        let mut facts = weak();
        let left_out = vec![LeftOut {
            target: Target { kind: TargetKind::Kubelet, host: "fd00::7".into(), port: 10250, origin: "node n".into() },
            reason: LeftOutReason::AddressClass {
                target: AddressClass::Private,
                apiserver: Some(AddressClass::Public),
            },
        }];
        attach(&mut facts, &Probing::Ran { probed: Vec::new(), left_out }, Timestamp::UNIX_EPOCH);
        let Availability::NotCollected { reason } = &facts.kubelets.availability else {
            panic!("kubelets left out are not collected: {:?}", facts.kubelets.availability)
        };
        assert!(
            reason.starts_with("private addresses are not the cluster's when its API server is public"),
            "{reason}"
        );
        assert!(reason.ends_with("(not probed: [fd00::7]:10250)"), "an IPv6 address in brackets: {reason}");
        // The other collections lost no target.
        assert_eq!(facts.etcd.availability, Availability::Collected);
    }

    #[test]
    fn skipped_probes_leave_every_collection_not_collected_with_the_reason() {
        let mut facts = weak();
        attach(&mut facts, &Probing::Skipped("probes turned off (--no-probes)".into()), Timestamp::UNIX_EPOCH);
        for availability in [
            &facts.apiservers.availability,
            &facts.etcd.availability,
            &facts.kubelets.availability,
            &facts.addon_endpoints.availability,
            &facts.certificates.availability,
        ] {
            assert_eq!(availability, &Availability::not_collected("probes turned off (--no-probes)"));
        }
    }
}
