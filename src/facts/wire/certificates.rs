//! The certificate each TLS endpoint presented, from the first TLS request to it.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Evidence, endpoint_subject};
use crate::facts::Subject;
use crate::probe::certificate::{self, CertificateFact};
use crate::probe::http::Scheme;
use crate::probe::kinds;
use crate::probe::run::{Check, Probed};
use crate::probe::targets::TargetKind;

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
        /// The controller manager.
        KubeControllerManager,
        /// The scheduler.
        KubeScheduler,
        /// The Kubernetes Dashboard.
        Dashboard,
    }
}

impl CertificateComponent {
    /// The component behind a target of `kind`, when it speaks TLS.
    pub(super) fn of(kind: TargetKind) -> Option<Self> {
        Some(match kind {
            TargetKind::ApiServer => Self::KubeApiserver,
            TargetKind::EtcdClient => Self::Etcd,
            TargetKind::EtcdPeer => Self::EtcdPeer,
            TargetKind::Kubelet => Self::Kubelet,
            TargetKind::ControllerManager => Self::KubeControllerManager,
            TargetKind::Scheduler => Self::KubeScheduler,
            TargetKind::Dashboard => Self::Dashboard,
            TargetKind::ApiServerInsecure | TargetKind::KubeletReadOnly | TargetKind::Cadvisor | TargetKind::Tiller => {
                return None;
            }
        })
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

/// A certificate presented by a TLS endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateProbeFact {
    /// The endpoint that presented it.
    pub subject: Subject,
    /// `https://<host>:<port>`.
    pub endpoint: String,
    /// `kube-apiserver`, `etcd`, `etcd-peer`, `kubelet`, `kube-controller-manager`,
    /// `kube-scheduler` or `dashboard`.
    pub component: CertificateComponent,
    /// `seen`, or `inconclusive` when the endpoint did not complete a handshake in time.
    pub status: CertificateStatus,
    /// Why, for inconclusive ones.
    pub reason: String,
    /// The leaf certificate; absent when not seen.
    pub certificate: Option<CertificateFact>,
}

/// One fact per TLS endpoint that showed a certificate or ran out of time.
pub(super) fn facts(evidence: &Evidence<'_>, now: Timestamp) -> Vec<CertificateProbeFact> {
    evidence.probed.iter().filter_map(|probed| certificate_fact(probed, now)).collect()
}

/// The certificate an endpoint presented: the first TLS check that recorded one. An
/// endpoint that never completed a handshake for lack of time is `inconclusive`; one
/// that refused connections or does not speak TLS presents none and has no item.
fn certificate_fact(probed: &Probed, now: Timestamp) -> Option<CertificateProbeFact> {
    let component = CertificateComponent::of(probed.target.kind)?;
    // The GETs over TLS, as the kinds table plans them (the hand-built ClientHellos see
    // no certificate: they stop at the ServerHello).
    let over_tls = |check: &&Check| {
        kinds::spec(probed.target.kind)
            .requests
            .iter()
            .any(|request| request.name == check.name && matches!(request.method, kinds::Method::Get(Scheme::Https, _)))
    };
    let tls_checks: Vec<&Check> = probed.checks.iter().filter(over_tls).collect();
    let item = |status: CertificateStatus, reason: String, certificate| CertificateProbeFact {
        subject: endpoint_subject(
            crate::probe::kinds::spec(probed.target.kind).component,
            &probed.target.host,
            Some(probed.target.port),
        ),
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
    let silent =
        tls_checks.iter().find_map(|check| check.evidence.failure.as_ref().filter(|failure| failure.is_silence()))?;
    Some(item(CertificateStatus::Inconclusive, silent.to_string(), None))
}
