//! The controller manager and scheduler probes: their secure ports asked for
//! `/metrics` and `/configz` without credentials.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CheckFact, Evidence, Exposure, endpoint_subject, exposure, named};
use crate::facts::{Component, Subject};
use crate::probe::kinds;
use crate::probe::targets::TargetKind;

/// A controller manager or scheduler endpoint, probed without credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentProbeFact {
    /// The endpoint (`Endpoint <component>/<host>/<port>`).
    pub subject: Subject,
    /// `kube-controller-manager` or `kube-scheduler`.
    pub component: Component,
    /// Host probed.
    pub host: String,
    /// Port probed (`--secure-port`, 10257 and 10259 by default).
    pub port: i64,
    /// Why it was probed, e.g. `kube-scheduler on node cp1`.
    pub origin: String,
    /// Anonymous `GET /metrics` over TLS.
    pub metrics: CheckFact,
    /// Anonymous `GET /configz` over TLS: the component's whole configuration.
    pub configz: CheckFact,
    /// `/metrics` without credentials: `exposed` (200), `not-exposed`, `closed` or `unknown`.
    pub metrics_exposure: Exposure,
    /// `/configz` without credentials: `exposed` (200), `not-exposed`, `closed` or `unknown`.
    pub configz_exposure: Exposure,
}

/// One fact per controller manager and scheduler target.
pub(super) fn facts(evidence: &Evidence<'_>) -> Vec<ComponentProbeFact> {
    [
        (TargetKind::ControllerManager, Component::KubeControllerManager),
        (TargetKind::Scheduler, Component::KubeScheduler),
    ]
    .into_iter()
    .flat_map(|(kind, component)| evidence.of_kind(kind).map(move |probed| (probed, component)))
    .map(|(probed, component)| {
        let metrics = named(Some(probed), "metrics");
        let configz = named(Some(probed), "configz");
        ComponentProbeFact {
            subject: endpoint_subject(
                kinds::spec(probed.target.kind).component,
                &probed.target.host,
                Some(probed.target.port),
            ),
            component,
            host: probed.target.host.clone(),
            port: i64::from(probed.target.port),
            origin: probed.target.origin.clone(),
            metrics_exposure: exposure(&[&metrics]),
            configz_exposure: exposure(&[&configz]),
            metrics,
            configz,
        }
    })
    .collect()
}
