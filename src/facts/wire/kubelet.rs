//! The kubelet probe: the kubelet API, the read-only port and cAdvisor, and the node's
//! kubelet configuration set against them.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Anonymous, CheckFact, Compared, Evidence, Reconciliation, anonymous_access, compared, endpoint_subject, named,
    reconciliation,
};
use crate::facts::{Facts, Subject};
use crate::probe::certificate;
use crate::probe::run::Probed;
use crate::probe::targets::TargetKind;
use crate::probe::{FailureKind, Outcome};

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

/// One fact per kubelet target.
pub(super) fn facts(facts: &Facts, evidence: &Evidence<'_>, now: Timestamp) -> Vec<KubeletProbeFact> {
    evidence
        .of_kind(TargetKind::Kubelet)
        .map(|probed| {
            let host = &probed.target.host;
            let read_only = evidence.companion(TargetKind::KubeletReadOnly, host);
            let cadvisor = evidence.companion(TargetKind::Cadvisor, host);
            kubelet(facts, probed, read_only, cadvisor, now)
        })
        .collect()
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
    let leaf = probed.check("pods").and_then(|check| check.evidence.tls.as_ref()?.peer_certificates.first());
    let serving_certificate = match leaf.map(|der| certificate::describe(der, now)) {
        Some(Ok(fact)) if fact.self_signed => ServingCertificate::SelfSigned,
        Some(Ok(_)) => ServingCertificate::CaSigned,
        None if pods.failure == FailureKind::Refused => ServingCertificate::None,
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
        } else if config.read_only_port == read_only_port && read_only_pods.failure == FailureKind::Refused {
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
