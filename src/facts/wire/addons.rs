//! The add-on probes: Helm v2's Tiller (gRPC without TLS) and the Kubernetes Dashboard,
//! on their Services' cluster IPs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CheckFact, Evidence, endpoint_subject, named};
use crate::facts::{Addon, Facts, Subject};
use crate::probe::run::Probed;
use crate::probe::targets::TargetKind;

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
    /// Where the add-on's pods say they listen (Tiller's `--listen`); empty when no
    /// workload behind the Service was found.
    pub listen: String,
    /// The add-on listens only on localhost inside its pod (`--listen=localhost:44134`):
    /// nothing outside the pod reaches it over the network.
    pub localhost_only: bool,
}

/// One fact per Tiller or Dashboard target.
pub(super) fn facts(facts: &Facts, evidence: &Evidence<'_>) -> Vec<AddonProbeFact> {
    [TargetKind::Tiller, TargetKind::Dashboard]
        .into_iter()
        .flat_map(|kind| evidence.of_kind(kind))
        .map(|probed| addon(facts, probed))
        .collect()
}

fn addon(facts: &Facts, probed: &Probed) -> AddonProbeFact {
    let (addon, name) = match probed.target.kind {
        TargetKind::Tiller => (Addon::Tiller, "tiller"),
        _ => (Addon::Dashboard, "dashboard"),
    };
    let listen =
        serving_workload(facts, probed, addon).map(|workload| workload.addon_listen.clone()).unwrap_or_default();
    let localhost_only = ["localhost:", "127.", "[::1]:"].iter().any(|prefix| listen.starts_with(prefix));
    AddonProbeFact {
        subject: endpoint_subject(name, &probed.target.host, Some(probed.target.port)),
        addon,
        host: probed.target.host.clone(),
        port: i64::from(probed.target.port),
        origin: probed.target.origin.clone(),
        probe: named(Some(probed), probed.checks.first().map_or("", |check| check.name)),
        listen,
        localhost_only,
    }
}

/// The add-on workload behind the probed Service: of that add-on, in the Service's
/// namespace, with the labels its selector asks for.
fn serving_workload<'a>(facts: &'a Facts, probed: &Probed, addon: Addon) -> Option<&'a crate::facts::WorkloadFact> {
    let service = facts.services.items.iter().find(|service| service.cluster_ip == probed.target.host)?;
    facts.workloads.items.iter().find(|workload| {
        workload.addon == addon
            && workload.subject.namespace == service.subject.namespace
            && !service.selector.is_empty()
            && service.selector.iter().all(|(key, value)| workload.labels.get(key).is_some_and(|label| label == value))
    })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::super::attach;
    use super::super::testing::*;
    use super::*;
    use crate::probe::Failure;

    fn tiller(facts: &mut Facts, listen: &str, failure: Failure) -> AddonProbeFact {
        let service = facts
            .services
            .items
            .iter()
            .find(|service| service.subject.name == "tiller-deploy")
            .expect("the weak cluster has Tiller");
        let host = service.cluster_ip.clone();
        let namespace = service.subject.namespace.clone();
        for workload in facts
            .workloads
            .items
            .iter_mut()
            .filter(|workload| workload.addon == Addon::Tiller && workload.subject.namespace == namespace)
        {
            workload.addon_listen = listen.into();
        }
        attach(
            facts,
            &ran(vec![probed(TargetKind::Tiller, &host, vec![failed("plaintext", failure)])]),
            Timestamp::UNIX_EPOCH,
        );
        facts.addon_endpoints.items[0].clone()
    }

    #[test]
    fn a_tiller_listening_on_localhost_is_told_from_one_on_every_address() {
        let mut facts = weak();
        let local = tiller(&mut facts, "localhost:44134", Failure::Refused);
        assert!(local.localhost_only, "{local:?}");
        assert_eq!(local.listen, "localhost:44134");
        let mut facts = weak();
        let everywhere = tiller(&mut facts, ":44134", Failure::Refused);
        assert!(!everywhere.localhost_only, "{everywhere:?}");
    }
}
