//! Facts from the wire: what the cluster's endpoints answered to the probes, set beside
//! what the configuration claims.
//!
//! Each verdict (`anonymous`, `clientCertAuth`, …) is computed from the raw checks so
//! that rules stay one line, and each is `unknown` when the evidence cannot tell: an
//! inconclusive probe never reads as closed. Verdicts read the typed failure of a
//! check ([`crate::probe::Failure`]), never the words of a message. One module per
//! component: the kubelet probe's facts are all in [`kubelet`].

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Collection, Component, Facts, Subject};
use crate::inventory::Availability;
use crate::probe::run::{Check, Probed};
use crate::probe::targets::{LeftOut, TargetKind};
use crate::probe::{FailureKind, Outcome};

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

mod addons;
mod apiserver;
mod certificates;
mod components;
mod etcd;
mod kubelet;
mod tls;

pub use addons::AddonProbeFact;
pub use apiserver::ApiserverProbeFact;
pub use certificates::{CertificateComponent, CertificateProbeFact, CertificateStatus};
pub use components::ComponentProbeFact;
pub use etcd::{ClientCertAuth, ClusterCa, EtcdProbeFact, PeerTls};
pub use kubelet::{KubeletProbeFact, MetricsAnonymous, ServingCertificate};
pub use tls::{Acceptance, TlsProbeFact};

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
    /// Whether a path that should need credentials (`/metrics`, `/debug/pprof/`,
    /// `/configz`) is served without them.
    Exposure {
        /// 200 without credentials.
        Exposed,
        /// Answered, but not with the data (401, 403, 404, …), or TLS demanded a client
        /// certificate.
        NotExposed,
        /// Nothing listens: every way of asking was refused.
        Closed,
        /// The wire could not tell.
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

/// One probe request: what was sent, what came back, and the verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckFact {
    /// `open` (it answered), `closed` (refused, or demanded a client certificate) or
    /// `inconclusive` (timeout, reset, unexpected answer).
    pub status: Outcome,
    /// Why there was no answer, as a closed set: `none` (it answered), `refused`,
    /// `timeout`, `unreachable`, `closed-without-answer`, `reset`, `other-protocol`,
    /// `client-certificate-required`, `handshake-refused`, `tls`, `http`, `not-asked`,
    /// `budget-exhausted` or `not-probed`.
    pub failure: FailureKind,
    /// The port probed.
    pub port: i64,
    /// What was sent, e.g. `GET http://127.0.0.12:10255/pods`.
    pub request: String,
    /// HTTP status of the answer; 0 when there was none.
    pub http_status: i64,
    /// Why the outcome is what it is, in words, for closed and inconclusive checks.
    pub reason: String,
    /// A summary of the answer, e.g. `12 pods listed`; the body itself is never kept.
    pub detail: String,
    /// One line for people: `GET http://127.0.0.12:10255/pods → 200, 12 pods listed`.
    pub evidence: String,
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

/// The probe evidence of one scan, looked up by kind and host.
struct Evidence<'a> {
    probed: &'a [Probed],
}

impl<'a> Evidence<'a> {
    fn of_kind(&self, kind: TargetKind) -> impl Iterator<Item = &'a Probed> + use<'a> {
        self.probed.iter().filter(move |probed| probed.target.kind == kind)
    }

    /// The target of `kind` on `host`: the companion port of another target.
    fn companion(&self, kind: TargetKind, host: &str) -> Option<&'a Probed> {
        self.of_kind(kind).find(|probed| probed.target.host == host)
    }
}

/// Fills the probe-evidence collections of `facts`.
pub fn attach(facts: &mut Facts, probing: &Probing, now: Timestamp) {
    let (probed, left_out) = match probing {
        Probing::Skipped(reason) => {
            let missing = Availability::not_collected(reason.clone());
            facts.apiservers = Collection::new(missing.clone(), Vec::new());
            facts.etcd = Collection::new(missing.clone(), Vec::new());
            facts.kubelets = Collection::new(missing.clone(), Vec::new());
            facts.component_endpoints = Collection::new(missing.clone(), Vec::new());
            facts.addon_endpoints = Collection::new(missing.clone(), Vec::new());
            facts.tls_endpoints = Collection::new(missing.clone(), Vec::new());
            facts.certificates = Collection::new(missing, Vec::new());
            return;
        }
        Probing::Ran { probed, left_out } => (probed, left_out),
    };
    let evidence = Evidence { probed };
    let available = Completeness { facts, left_out };
    let apiservers = available.of(&[TargetKind::ApiServer, TargetKind::ApiServerInsecure]);
    let etcd = available.of(&[TargetKind::EtcdClient, TargetKind::EtcdPeer]);
    let kubelets = available.of(&[TargetKind::Kubelet, TargetKind::KubeletReadOnly, TargetKind::Cadvisor]);
    let components = available.of(&[TargetKind::ControllerManager, TargetKind::Scheduler]);
    let addons = available.of(&[TargetKind::Tiller, TargetKind::Dashboard]);
    let tls_available = Availability::combine([&apiservers, &etcd, &kubelets, &components]);
    let certificates_available = Availability::combine([&tls_available, &addons]);
    // A managed control plane's etcd is the vendor's: not the cluster's to judge.
    let provider = facts.cluster.provider;
    let etcd = if provider.is_managed() {
        Availability::NotApplicable { reason: format!("managed control plane: {provider}") }
    } else {
        etcd
    };

    let made = Made {
        apiservers: apiserver::facts(facts, &evidence),
        etcd: etcd::facts(facts, &evidence),
        kubelets: kubelet::facts(facts, &evidence, now),
        components: components::facts(&evidence),
        addons: addons::facts(facts, &evidence),
        tls: tls::facts(facts, &evidence),
        certificates: certificates::facts(&evidence, now),
    };
    facts.apiservers = Collection::new(apiservers, made.apiservers);
    facts.etcd = Collection::new(etcd, made.etcd);
    facts.kubelets = Collection::new(kubelets, made.kubelets);
    facts.component_endpoints = Collection::new(components, made.components);
    facts.addon_endpoints = Collection::new(addons, made.addons);
    facts.tls_endpoints = Collection::new(tls_available, made.tls);
    facts.certificates = Collection::new(certificates_available, made.certificates);
}

/// The probe collections, made from the evidence before any is stored.
struct Made {
    apiservers: Vec<ApiserverProbeFact>,
    etcd: Vec<EtcdProbeFact>,
    kubelets: Vec<KubeletProbeFact>,
    components: Vec<ComponentProbeFact>,
    addons: Vec<AddonProbeFact>,
    tls: Vec<TlsProbeFact>,
    certificates: Vec<CertificateProbeFact>,
}

/// How complete each probe collection can be: only as complete as the lists its targets
/// were found in, and incomplete when targets were left out of the plan. Unseen targets
/// are unknown, not secure.
struct Completeness<'a> {
    facts: &'a Facts,
    left_out: &'a [LeftOut],
}

impl<'a> Completeness<'a> {
    /// Where targets of `kind` come from.
    fn sources(&self, kind: TargetKind) -> Vec<(&'static str, &'a Availability)> {
        let facts = self.facts;
        let nodes = ("nodes", &facts.nodes.availability);
        match kind {
            TargetKind::ApiServer | TargetKind::ApiServerInsecure => {
                vec![("apiserverEndpoints", &facts.apiserver_endpoints.availability)]
            }
            TargetKind::EtcdClient | TargetKind::EtcdPeer | TargetKind::ControllerManager | TargetKind::Scheduler => {
                vec![("workloads", &facts.workloads.availability), nodes]
            }
            TargetKind::Kubelet | TargetKind::KubeletReadOnly | TargetKind::Cadvisor => vec![nodes],
            TargetKind::Tiller | TargetKind::Dashboard => vec![("services", &facts.services.availability)],
        }
    }

    /// The availability of the collection built from targets of `kinds`.
    fn of(&self, kinds: &[TargetKind]) -> Availability {
        let unlisted =
            kinds.iter().flat_map(|kind| self.sources(*kind)).find_map(|(name, availability)| match availability {
                Availability::NotCollected { reason } => {
                    Some(Availability::not_collected(format!("probe targets unknown: {name} not collected: {reason}")))
                }
                _ => None,
            });
        if let Some(unlisted) = unlisted {
            return unlisted;
        }
        let left: Vec<&LeftOut> = self.left_out.iter().filter(|left| kinds.contains(&left.target.kind)).collect();
        let Some(first) = left.first() else { return Availability::Collected };
        let targets: Vec<String> =
            left.iter().map(|left| crate::probe::run::host_port(&left.target.host, left.target.port)).collect();
        Availability::not_collected(format!("{} (not probed: {})", first.reason, targets.join(", ")))
    }
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
    let reason = evidence.failure.as_ref().map(ToString::to_string).unwrap_or_default();
    let detail = check.detail.clone().unwrap_or_default();
    let outcome = match (evidence.outcome(), evidence.status) {
        (Outcome::Open, Some(status)) if detail.is_empty() => format!("{status}"),
        (Outcome::Open, Some(status)) => format!("{status}, {detail}"),
        (Outcome::Open, None) => detail.clone(),
        (outcome, _) => format!("{} ({reason})", status_word(outcome)),
    };
    CheckFact {
        status: evidence.outcome(),
        failure: evidence.failure_kind(),
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
            failure: FailureKind::NotProbed,
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

/// Whether any of `checks` (the same path, asked one way or another) served it
/// without credentials.
fn exposure(checks: &[&CheckFact]) -> Exposure {
    if checks.iter().any(|check| check.http_status == 200) {
        Exposure::Exposed
    } else if checks.iter().any(|check| check.status == Outcome::Inconclusive) {
        Exposure::Unknown
    } else if checks.iter().all(|check| check.failure == FailureKind::Refused) {
        Exposure::Closed
    } else {
        // Answered without the data, or turned away for want of a client certificate.
        Exposure::NotExposed
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

#[cfg(test)]
pub(super) mod testing {
    use super::*;
    use crate::probe::targets::Target;
    use crate::probe::{Failure, HttpEvidence};

    /// A check that was answered with `status`.
    pub fn answered(name: &'static str, status: u16) -> Check {
        let evidence =
            HttpEvidence { answered: true, status: Some(status), ..HttpEvidence::pending(format!("GET {name}")) };
        Check { name, port: 1, evidence, detail: None }
    }

    /// A check that failed.
    pub fn failed(name: &'static str, failure: Failure) -> Check {
        Check { name, port: 1, evidence: HttpEvidence::failed(format!("GET {name}"), failure), detail: None }
    }

    pub fn probed(kind: TargetKind, host: &str, checks: Vec<Check>) -> Probed {
        Probed { target: Target { kind, host: host.into(), port: 1, origin: "test".into() }, checks }
    }

    pub fn weak() -> Facts {
        let inventory = crate::source::manifests::read(
            &[std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/clusters/weak"))],
            crate::source::manifests::DEFAULT_MAX_INPUT_BYTES,
        )
        .expect("the weak example reads");
        super::super::build(inventory, super::super::SourceKind::Live)
    }

    /// The weak example, its API server on cp1 started with `flags` as well.
    pub fn weak_with_apiserver_flags(flags: &[(&str, &str)]) -> Facts {
        let mut facts = weak();
        let pod = facts
            .components
            .items
            .iter_mut()
            .find(|component| component.component == Component::KubeApiserver && component.node == "cp1")
            .expect("the weak cluster runs an API server on cp1");
        for (flag, value) in flags {
            pod.flags.insert((*flag).into(), (*value).into());
        }
        facts
    }

    pub fn ran(probed: Vec<Probed>) -> Probing {
        Probing::Ran { probed, left_out: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

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
    fn exposure_needs_a_200_and_is_unknown_while_any_way_could_not_tell() {
        let open = |status| CheckFact { status: Outcome::Open, http_status: status, ..CheckFact::default() };
        let closed = CheckFact { status: Outcome::Closed, failure: FailureKind::Refused, ..CheckFact::default() };
        let certificate_required = CheckFact {
            status: Outcome::Closed,
            failure: FailureKind::ClientCertificateRequired,
            ..CheckFact::default()
        };
        let silent = CheckFact { status: Outcome::Inconclusive, ..CheckFact::default() };
        assert_eq!(exposure(&[&open(400), &open(200)]), Exposure::Exposed);
        assert_eq!(exposure(&[&open(403), &closed]), Exposure::NotExposed);
        assert_eq!(exposure(&[&certificate_required, &closed]), Exposure::NotExposed, "mutual TLS listens");
        assert_eq!(exposure(&[&closed, &closed]), Exposure::Closed);
        assert_eq!(exposure(&[&open(404), &silent]), Exposure::Unknown, "silence is never `not-exposed`");
    }

    #[test]
    fn probes_are_only_as_complete_as_the_lists_their_targets_come_from() {
        let mut facts = weak();
        facts.services.availability = Availability::not_collected("forbidden: list services");
        attach(&mut facts, &ran(Vec::new()), Timestamp::UNIX_EPOCH);
        let unknown = Availability::not_collected(
            "probe targets unknown: services not collected: forbidden: list services".to_owned(),
        );
        assert_eq!(facts.addon_endpoints.availability, unknown, "no Tiller found is not no Tiller");
        assert_eq!(facts.certificates.availability, unknown, "add-on certificates are unknown too");
        assert_eq!(facts.kubelets.availability, Availability::Collected, "nodes were listed");
        assert_eq!(facts.etcd.availability, Availability::Collected);
        assert_eq!(facts.tls_endpoints.availability, Availability::Collected, "no add-on is judged on TLS versions");
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
        let mut collections = Vec::new();
        facts.visit_collections(&mut NamesOf(&mut collections));
        for (name, availability) in collections.iter().filter(|(name, _)| PROBED.contains(name)) {
            assert_eq!(availability, &Availability::not_collected("probes turned off (--no-probes)"), "{name}");
        }
        assert_eq!(collections.iter().filter(|(name, _)| PROBED.contains(name)).count(), PROBED.len());
    }

    /// Every collection made from probe evidence.
    const PROBED: [&str; 7] =
        ["apiservers", "etcd", "kubelets", "componentEndpoints", "addonEndpoints", "tlsEndpoints", "certificates"];

    struct NamesOf<'a>(&'a mut Vec<(&'static str, Availability)>);

    impl<'a> super::super::CollectionVisitor<'a> for NamesOf<'_> {
        fn visit<T: super::super::Item>(&mut self, name: &'static str, collection: &'a Collection<T>) {
            self.0.push((name, collection.availability.clone()));
        }
    }
}
