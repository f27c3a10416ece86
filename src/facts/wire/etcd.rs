//! The etcd probe: the client port asked in plaintext and over TLS without a client
//! certificate, its `/metrics` and `/debug/pprof/`, the peer port, and the etcd pod's
//! flags set against them.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    CheckFact, Compared, Evidence, Exposure, Reconciliation, compared, component_on, endpoint_subject, exposure, named,
    reconciliation,
};
use crate::facts::{Component, ComponentFact, Facts, Subject};
use crate::probe::certificate;
use crate::probe::run::Probed;
use crate::probe::targets::TargetKind;
use crate::probe::{FailureKind, Outcome, TlsEvidence};

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
    /// Plain-HTTP `GET /metrics` on the client port.
    pub metrics: CheckFact,
    /// `GET /metrics` over TLS without a client certificate.
    pub metrics_tls: CheckFact,
    /// Plain-HTTP `GET /debug/pprof/` on the client port.
    pub pprof: CheckFact,
    /// `GET /debug/pprof/` over TLS without a client certificate.
    pub pprof_tls: CheckFact,
    /// `/metrics` without a client certificate, either way: `exposed` (200),
    /// `not-exposed`, `closed` or `unknown`.
    pub metrics_exposure: Exposure,
    /// `/debug/pprof/` without a client certificate, either way: `exposed` (200),
    /// `not-exposed`, `closed` or `unknown`.
    pub pprof_exposure: Exposure,
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

/// One fact per etcd client target.
pub(super) fn facts(facts: &Facts, evidence: &Evidence<'_>) -> Vec<EtcdProbeFact> {
    let cluster_ca = facts.cluster.ca_certificate.as_deref().map(certificate::der_from_pem);
    evidence
        .of_kind(TargetKind::EtcdClient)
        .map(|probed| {
            let peer = evidence.companion(TargetKind::EtcdPeer, &probed.target.host);
            etcd(facts, probed, peer, cluster_ca.as_ref())
        })
        .collect()
}

fn tls_of<'a>(probed: Option<&'a Probed>, name: &str) -> Option<&'a TlsEvidence> {
    probed?.check(name)?.evidence.tls.as_ref()
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
    let metrics = named(Some(probed), "metrics");
    let metrics_tls = named(Some(probed), "metricsTls");
    let pprof = named(Some(probed), "pprof");
    let pprof_tls = named(Some(probed), "pprofTls");
    let transport = |plaintext: &CheckFact, tls: &CheckFact| {
        if plaintext.http_status == 200 || tls.status == Outcome::Open {
            ClientCertAuth::Off
        } else if tls.failure == FailureKind::ClientCertificateRequired {
            ClientCertAuth::Required
        } else if plaintext.status == Outcome::Closed && tls.status == Outcome::Closed {
            ClientCertAuth::Closed
        } else {
            ClientCertAuth::Unknown
        }
    };
    let client_cert_auth = transport(&plaintext, &tls);
    // The peer port has TLS when a handshake was answered, with or without a client
    // certificate; only a plaintext answer means it has none.
    let peer_tls_status = match transport(&peer_plaintext, &peer_tls) {
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
        metrics_exposure: exposure(&[&metrics, &metrics_tls]),
        pprof_exposure: exposure(&[&pprof, &pprof_tls]),
        metrics,
        metrics_tls,
        pprof,
        pprof_tls,
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
pub(super) fn etcd_pod<'a>(facts: &'a Facts, host: &str) -> Option<&'a ComponentFact> {
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

#[cfg(test)]
mod tests {
    use super::super::attach;
    use super::super::testing::*;
    use super::*;
    use crate::probe::Failure;

    #[test]
    fn etcd_turning_away_a_client_without_a_certificate_requires_one() {
        let mut facts = weak();
        let mut tls = failed("tls", Failure::ClientCertificateRequired("CertificateRequired".into()));
        tls.evidence.tls =
            Some(TlsEvidence { handshake: true, client_certificate_requested: true, ..TlsEvidence::default() });
        let plaintext = answered("plaintext", 400);
        let client = probed(TargetKind::EtcdClient, "127.0.10.1", vec![plaintext, tls]);
        attach(&mut facts, &ran(vec![client]), Timestamp::UNIX_EPOCH);
        let item = &facts.etcd.items[0];
        assert_eq!(item.client_cert_auth, ClientCertAuth::Required);
        assert_eq!(item.peer_tls_status, PeerTls::Unknown, "the peer port was not probed: unknown, never `on`");
        assert_eq!(item.peer_plaintext.reason, "not probed");
        // The weak etcd pod listens on http:// without --client-cert-auth: the wire disagrees.
        assert_eq!(item.reconciliation, Reconciliation::Disagree, "{:?}", item.disagreements);
    }

    #[test]
    fn a_tls_failure_in_other_words_is_not_a_certificate_requirement() {
        // Control for the test above: the same closed TLS check, failed for another reason.
        let mut facts = weak();
        let tls = failed("tls", Failure::ClosedWithoutAnswer);
        let client = probed(TargetKind::EtcdClient, "127.0.10.1", vec![answered("plaintext", 400), tls]);
        attach(&mut facts, &ran(vec![client]), Timestamp::UNIX_EPOCH);
        assert_eq!(facts.etcd.items[0].client_cert_auth, ClientCertAuth::Unknown);
    }

    #[test]
    fn profiling_and_metrics_served_in_either_scheme_are_exposed() {
        let mut facts = weak();
        let checks = vec![
            answered("plaintext", 400),
            failed("tls", Failure::ClientCertificateRequired("CertificateRequired".into())),
            answered("metrics", 400),
            failed("metricsTls", Failure::ClientCertificateRequired("CertificateRequired".into())),
            answered("pprof", 400),
            answered("pprofTls", 200),
        ];
        attach(&mut facts, &ran(vec![probed(TargetKind::EtcdClient, "127.0.10.1", checks)]), Timestamp::UNIX_EPOCH);
        let item = &facts.etcd.items[0];
        assert_eq!(item.pprof_exposure, Exposure::Exposed);
        assert_eq!(item.metrics_exposure, Exposure::NotExposed);
    }
}
