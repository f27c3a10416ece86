//! TLS versions and cipher suites on the wire: whether each TLS endpoint of a
//! Kubernetes component accepts TLS 1.0, TLS 1.1 or a weak cipher suite, against the
//! `--tls-min-version` and `--tls-cipher-suites` its pod is started with.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    CertificateComponent, CheckFact, Compared, Evidence, Reconciliation, compared, component_on, endpoint_subject,
    named, reconciliation,
};
use crate::facts::{Component, ComponentFact, Facts, Subject};
use crate::probe::hello::TlsVersion;
use crate::probe::run::{Check, Probed};
use crate::probe::targets::TargetKind;
use crate::probe::{FailureKind, Outcome, kinds};

verdict! {
    /// Whether a server accepted what a ClientHello offered.
    Acceptance {
        /// It answered with a ServerHello for it.
        Accepted,
        /// It answered with an alert, or hung up: not accepted.
        Refused,
        /// Nothing listens.
        Closed,
        /// The wire could not tell.
        #[default]
        Unknown,
    }
}

/// A TLS endpoint's protocol versions and cipher suites.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsProbeFact {
    /// The endpoint (`Endpoint <component>/<host>/<port>`).
    pub subject: Subject,
    /// `kube-apiserver`, `etcd`, `kubelet`, `kube-controller-manager` or `kube-scheduler`.
    pub component: CertificateComponent,
    /// Host probed.
    pub host: String,
    /// Port probed.
    pub port: i64,
    /// TLS 1.0 offered: `accepted`, `refused`, `closed` or `unknown`.
    pub tls10: Acceptance,
    /// TLS 1.1 offered: `accepted`, `refused`, `closed` or `unknown`.
    pub tls11: Acceptance,
    /// TLS 1.2 offered with only weak suites (CBC with SHA-1, 3DES, RC4, DES, export):
    /// `accepted`, `refused`, `closed` or `unknown`.
    pub weak_cipher_suites: Acceptance,
    /// The weak suite the server picked; empty when none.
    pub accepted_weak_suite: String,
    /// The version and suite of an ordinary handshake, e.g. `TLSv1_3
    /// TLS13_AES_128_GCM_SHA256`; empty when none completed.
    pub negotiated: String,
    /// The ClientHello offering TLS 1.0, and its answer.
    pub tls10_check: CheckFact,
    /// The ClientHello offering TLS 1.1, and its answer.
    pub tls11_check: CheckFact,
    /// The ClientHello offering only weak suites, and its answer.
    pub weak_cipher_suites_check: CheckFact,
    /// `--tls-min-version` of the component's pod (a kubelet's `tlsMinVersion`); empty
    /// when unset or unknown.
    pub min_version_flag: String,
    /// `--tls-cipher-suites` of the component's pod (etcd: `--cipher-suites`, a
    /// kubelet: `tlsCipherSuites`).
    pub cipher_suites_flag: Vec<String>,
    /// The configuration against the wire: `agree`, `disagree`, `unknown` (the wire
    /// could not tell) or `unmapped` (no pod or kubelet configuration, or it makes no
    /// claim about TLS).
    pub reconciliation: Reconciliation,
    /// Each disagreement between flags and wire, in words.
    pub disagreements: Vec<String>,
}

/// One fact per target whose kind asks the TLS ClientHellos.
pub(super) fn facts(facts: &Facts, evidence: &Evidence<'_>) -> Vec<TlsProbeFact> {
    evidence
        .probed
        .iter()
        .filter(|probed| kinds::spec(probed.target.kind).requests.iter().any(|request| request.name == "tls10"))
        .map(|probed| tls(facts, probed))
        .collect()
}

/// What a ClientHello's answer shows; the suite picked, when one was.
fn acceptance(check: Option<&Check>, offered: Option<TlsVersion>) -> (Acceptance, String) {
    let Some(check) = check else { return (Acceptance::Unknown, String::new()) };
    let tls = check.evidence.tls.as_ref();
    match check.evidence.outcome() {
        Outcome::Open => {
            let version = tls.and_then(|tls| tls.version.as_deref());
            let suite = tls.and_then(|tls| tls.cipher_suite.clone()).unwrap_or_default();
            // A ServerHello for another version than offered is no acceptance of it.
            if offered.is_none_or(|offered| version == Some(offered.name())) {
                (Acceptance::Accepted, suite)
            } else {
                (Acceptance::Refused, String::new())
            }
        }
        Outcome::Closed if check.evidence.failure_kind() == FailureKind::Refused => (Acceptance::Closed, String::new()),
        Outcome::Closed => (Acceptance::Refused, String::new()),
        Outcome::Inconclusive => (Acceptance::Unknown, String::new()),
    }
}

/// What the endpoint's configuration claims about TLS, and how it names the settings.
struct Claimed {
    /// The minimum version, e.g. `VersionTLS12`; empty when unset.
    min_version: String,
    /// The cipher suites allowed; empty when unset.
    cipher_suites: Vec<String>,
    /// How the minimum is spelt in findings: `--tls-min-version=` or `tlsMinVersion: `.
    min_setting: &'static str,
    /// How the suites setting is named: `--tls-cipher-suites`, `--cipher-suites`, `tlsCipherSuites`.
    suites_setting: &'static str,
}

/// The configuration behind the endpoint: its pod's flags, or the node's kubelet
/// configuration.
fn claimed(facts: &Facts, probed: &Probed) -> Option<Claimed> {
    let host = &probed.target.host;
    let from_flags = |pod: &ComponentFact, suites_flag: &'static str| Claimed {
        min_version: pod.flags.get("tls-min-version").cloned().unwrap_or_default(),
        cipher_suites: pod.flag_lists.get(suites_flag).cloned().unwrap_or_default(),
        min_setting: "--tls-min-version=",
        suites_setting: if suites_flag == "cipher-suites" { "--cipher-suites" } else { "--tls-cipher-suites" },
    };
    match probed.target.kind {
        TargetKind::ApiServer => {
            Some(from_flags(component_on(facts, Component::KubeApiserver, host)?, "tls-cipher-suites"))
        }
        TargetKind::ControllerManager => {
            Some(from_flags(component_on(facts, Component::KubeControllerManager, host)?, "tls-cipher-suites"))
        }
        TargetKind::Scheduler => {
            Some(from_flags(component_on(facts, Component::KubeScheduler, host)?, "tls-cipher-suites"))
        }
        TargetKind::EtcdClient => Some(from_flags(super::etcd::etcd_pod(facts, host)?, "cipher-suites")),
        TargetKind::Kubelet => {
            let node = facts.nodes.items.iter().find(|node| node.internal_ips.iter().any(|ip| ip == host))?;
            let config = facts.kubelet_configs.items.iter().find(|config| config.node == node.name)?;
            Some(Claimed {
                min_version: config.tls_min_version.clone(),
                cipher_suites: config.tls_cipher_suites.clone(),
                min_setting: "tlsMinVersion: ",
                suites_setting: "tlsCipherSuites",
            })
        }
        _ => None,
    }
}

/// The minor version of a `--tls-min-version` value: `VersionTLS12` (Kubernetes) and
/// `TLS1.2` (etcd) are both 2.
fn minimum_minor(flag: &str) -> Option<u8> {
    let digits: String = flag.chars().filter(char::is_ascii_digit).collect();
    match digits.as_str() {
        "10" => Some(0),
        "11" => Some(1),
        "12" => Some(2),
        "13" => Some(3),
        _ => None,
    }
}

fn tls(facts: &Facts, probed: &Probed) -> TlsProbeFact {
    let (tls10, _) = acceptance(probed.check("tls10"), Some(TlsVersion::Tls10));
    let (tls11, _) = acceptance(probed.check("tls11"), Some(TlsVersion::Tls11));
    let (weak_cipher_suites, accepted_weak_suite) = acceptance(probed.check("weakCipherSuites"), None);
    let negotiated = probed
        .checks
        .iter()
        .filter_map(|check| check.evidence.tls.as_ref().filter(|tls| tls.handshake))
        .find_map(|tls| Some(format!("{} {}", tls.version.as_deref()?, tls.cipher_suite.as_deref()?)))
        .unwrap_or_default();
    let tls10_check = named(Some(probed), "tls10");
    let tls11_check = named(Some(probed), "tls11");
    let weak_cipher_suites_check = named(Some(probed), "weakCipherSuites");
    let mut min_version_flag = String::new();
    let mut cipher_suites_flag = Vec::new();
    let mut disagreements = Vec::new();
    let mut comparison = Compared::Unmapped;
    if let Some(claimed) = claimed(facts, probed) {
        let Claimed { min_version, cipher_suites, min_setting, suites_setting } = claimed;
        (min_version_flag, cipher_suites_flag) = (min_version, cipher_suites);
        if let Some(minimum) = minimum_minor(&min_version_flag) {
            for (minor, accepted, check) in [(0, tls10, &tls10_check), (1, tls11, &tls11_check)] {
                match accepted {
                    Acceptance::Accepted if minor < minimum => disagreements.push(format!(
                        "{min_setting}{min_version_flag}, but TLS 1.{minor} is accepted: {}",
                        check.evidence
                    )),
                    Acceptance::Refused if minor >= minimum => disagreements.push(format!(
                        "{min_setting}{min_version_flag}, but TLS 1.{minor} is refused: {}",
                        check.evidence
                    )),
                    _ => {}
                }
            }
            comparison = compared(tls10 != Acceptance::Unknown && tls11 != Acceptance::Unknown);
        }
        if !cipher_suites_flag.is_empty() {
            if weak_cipher_suites == Acceptance::Accepted && !cipher_suites_flag.contains(&accepted_weak_suite) {
                disagreements.push(format!(
                    "{suites_setting} does not list {accepted_weak_suite}, but it was accepted: {}",
                    weak_cipher_suites_check.evidence
                ));
            }
            let known = weak_cipher_suites != Acceptance::Unknown;
            comparison = match comparison {
                Compared::Unknown => Compared::Unknown,
                _ => compared(known),
            };
        }
    }
    TlsProbeFact {
        subject: endpoint_subject(
            kinds::spec(probed.target.kind).component,
            &probed.target.host,
            Some(probed.target.port),
        ),
        component: CertificateComponent::of(probed.target.kind).unwrap_or_default(),
        host: probed.target.host.clone(),
        port: i64::from(probed.target.port),
        reconciliation: reconciliation(&disagreements, &comparison),
        disagreements,
        tls10,
        tls11,
        weak_cipher_suites,
        accepted_weak_suite,
        negotiated,
        tls10_check,
        tls11_check,
        weak_cipher_suites_check,
        min_version_flag,
        cipher_suites_flag,
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::super::attach;
    use super::super::testing::*;
    use super::*;
    use crate::probe::{Failure, TlsEvidence};

    fn hello(name: &'static str, version: &str, suite: &str) -> Check {
        let mut check = answered(name, 0);
        check.evidence.status = None;
        check.evidence.tls = Some(TlsEvidence {
            version: Some(version.into()),
            cipher_suite: Some(suite.into()),
            ..TlsEvidence::default()
        });
        check
    }

    fn judged(flags: &[(&str, &str)], checks: Vec<Check>) -> TlsProbeFact {
        let mut facts = weak_with_apiserver_flags(flags);
        attach(&mut facts, &ran(vec![probed(TargetKind::ApiServer, "127.0.10.1", checks)]), Timestamp::UNIX_EPOCH);
        facts.tls_endpoints.items[0].clone()
    }

    #[test]
    fn a_minimum_version_that_the_wire_contradicts_is_a_disagreement() {
        let old_accepted = || {
            vec![
                hello("tls10", "TLSv1_0", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
                failed("tls11", Failure::HandshakeRefused("ProtocolVersion".into())),
                failed("weakCipherSuites", Failure::HandshakeRefused("HandshakeFailure".into())),
            ]
        };
        let item = judged(&[("tls-min-version", "VersionTLS12")], old_accepted());
        assert_eq!(
            (item.tls10, item.tls11, item.weak_cipher_suites),
            (Acceptance::Accepted, Acceptance::Refused, Acceptance::Refused)
        );
        assert_eq!(item.reconciliation, Reconciliation::Disagree);
        assert!(
            item.disagreements[0].starts_with("--tls-min-version=VersionTLS12, but TLS 1.0 is accepted"),
            "{:?}",
            item.disagreements
        );
        // Control: a flag that allows TLS 1.0 agrees with a server that takes it.
        let allowed = judged(&[("tls-min-version", "VersionTLS10")], {
            let mut checks = old_accepted();
            checks[1] = hello("tls11", "TLSv1_1", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
            checks
        });
        assert_eq!(allowed.reconciliation, Reconciliation::Agree, "{:?}", allowed.disagreements);
        // Control: without the flag there is no claim to check.
        assert_eq!(judged(&[], old_accepted()).reconciliation, Reconciliation::Unmapped);
    }

    #[test]
    fn a_server_hello_for_another_version_is_not_an_acceptance() {
        let item = judged(&[], vec![hello("tls10", "TLSv1_2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")]);
        assert_eq!(item.tls10, Acceptance::Refused);
        assert_eq!(item.tls11, Acceptance::Unknown, "not asked: unknown, never refused");
    }

    /// The TLS fact of cp1's kubelet (127.0.10.1), configured with `tlsMinVersion`.
    fn kubelet_judged(min_version: &str, checks: Vec<Check>) -> TlsProbeFact {
        let mut facts = weak();
        let mut config =
            facts.kubelet_configs.items.first().expect("the weak example has a kubelet configuration").clone();
        (config.node, config.tls_min_version) = ("cp1".into(), min_version.into());
        facts.kubelet_configs.items = vec![config];
        attach(&mut facts, &ran(vec![probed(TargetKind::Kubelet, "127.0.10.1", checks)]), Timestamp::UNIX_EPOCH);
        facts.tls_endpoints.items[0].clone()
    }

    #[test]
    fn a_kubelet_configuration_contradicted_by_the_wire_is_a_disagreement() {
        let refused = || {
            vec![
                failed("tls10", Failure::HandshakeRefused("ProtocolVersion".into())),
                failed("tls11", Failure::HandshakeRefused("ProtocolVersion".into())),
            ]
        };
        let item = kubelet_judged("VersionTLS10", refused());
        assert_eq!(item.reconciliation, Reconciliation::Disagree);
        assert!(
            item.disagreements[0].starts_with("tlsMinVersion: VersionTLS10, but TLS 1.0 is refused"),
            "named as the kubelet configuration names it: {:?}",
            item.disagreements
        );
        // Control: a minimum of TLS 1.2 agrees with both old versions refused.
        let item = kubelet_judged("VersionTLS12", refused());
        assert_eq!(item.reconciliation, Reconciliation::Agree, "{:?}", item.disagreements);
    }

    #[test]
    fn the_weak_suite_a_server_accepts_is_named() {
        let item = judged(
            &[],
            vec![
                failed("tls10", Failure::HandshakeRefused("ProtocolVersion".into())),
                failed("tls11", Failure::HandshakeRefused("ProtocolVersion".into())),
                hello("weakCipherSuites", "TLSv1_2", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
            ],
        );
        assert_eq!(item.weak_cipher_suites, Acceptance::Accepted);
        assert_eq!(item.accepted_weak_suite, "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    }
}
