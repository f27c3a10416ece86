//! The API server probe: anonymous requests on the secure port, the insecure port, and
//! the kube-apiserver pod's flags set against both.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Anonymous, CheckFact, Compared, Evidence, Exposure, Reconciliation, anonymous_access, compared, component_on,
    endpoint_subject, exposure, named, reconciliation,
};
use crate::facts::{Component, Facts, Subject};
use crate::probe::run::Probed;
use crate::probe::targets::TargetKind;
use crate::probe::{FailureKind, Outcome};

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
    /// Anonymous `GET /metrics`.
    pub metrics: CheckFact,
    /// Anonymous `GET /debug/pprof/`.
    pub pprof: CheckFact,
    /// `off` (401 everywhere), `enabled` (403, or 200 on `/version` or `/api`),
    /// `allowed` (200 on `/api/v1/namespaces`), `closed` (nothing listens) or `unknown`.
    pub anonymous: Anonymous,
    /// `/metrics` without credentials: `exposed` (200), `not-exposed`, `closed` or `unknown`.
    pub metrics_exposure: Exposure,
    /// `/debug/pprof/` without credentials: `exposed` (200), `not-exposed`, `closed` or `unknown`.
    pub pprof_exposure: Exposure,
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

/// One fact per API server target.
pub(super) fn facts(facts: &Facts, evidence: &Evidence<'_>) -> Vec<ApiserverProbeFact> {
    evidence
        .of_kind(TargetKind::ApiServer)
        .map(|probed| {
            let insecure = evidence.companion(TargetKind::ApiServerInsecure, &probed.target.host);
            apiserver(facts, probed, insecure)
        })
        .collect()
}

fn apiserver(facts: &Facts, probed: &Probed, insecure: Option<&Probed>) -> ApiserverProbeFact {
    let version = named(Some(probed), "version");
    let api = named(Some(probed), "api");
    let namespaces = named(Some(probed), "namespaces");
    let metrics = named(Some(probed), "metrics");
    let pprof = named(Some(probed), "pprof");
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
        // Since 1.20 the insecure port is off unless --insecure-port says otherwise; it
        // binds to 127.0.0.1 unless --insecure-bind-address says otherwise.
        let insecure_flag = pod.flags.get("insecure-port").filter(|value| value.as_str() != "0");
        let bound_to_loopback = pod
            .flags
            .get("insecure-bind-address")
            .is_none_or(|address| address.starts_with("127.") || address == "localhost" || address == "::1");
        match insecure_flag {
            None if insecure_port.http_status == 200 => {
                disagreements.push(format!("--insecure-port is off, but {}", insecure_port.evidence));
            }
            Some(port) if !bound_to_loopback && insecure_port.failure == FailureKind::Refused => {
                disagreements.push(format!(
                    "--insecure-port={port} on a reachable address, but nothing listens: {}",
                    insecure_port.evidence
                ));
            }
            _ => {}
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
        metrics_exposure: exposure(&[&metrics]),
        pprof_exposure: exposure(&[&pprof]),
        version,
        api,
        namespaces,
        metrics,
        pprof,
        anonymous,
        insecure_port,
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::super::testing::*;
    use super::super::{Reconciliation, attach};
    use super::*;
    use crate::probe::Failure;

    #[test]
    fn a_flag_that_the_wire_contradicts_is_a_disagreement() {
        let mut facts = weak();
        // The weak cluster's API server runs with --anonymous-auth=true on cp1 (127.0.10.1);
        // an answer of 401 everywhere contradicts it.
        let apiserver = probed(
            TargetKind::ApiServer,
            "127.0.10.1",
            vec![answered("version", 401), answered("api", 401), answered("namespaces", 401)],
        );
        let insecure = probed(TargetKind::ApiServerInsecure, "127.0.10.1", vec![failed("version", Failure::Refused)]);
        attach(&mut facts, &ran(vec![apiserver, insecure]), Timestamp::UNIX_EPOCH);
        let item = &facts.apiservers.items[0];
        assert_eq!(item.anonymous, Anonymous::Off);
        assert_eq!(item.reconciliation, Reconciliation::Disagree, "{:?}", item.disagreements);
        assert!(item.disagreements[0].starts_with("--anonymous-auth is on"), "{:?}", item.disagreements);
        assert_eq!(item.subject.name, "kube-apiserver/127.0.10.1/1");
        assert_eq!(item.metrics_exposure, Exposure::Unknown, "/metrics was not asked: unknown, never safe");
    }

    fn insecure_reconciled(facts: &mut Facts, insecure: Failure) -> (Reconciliation, Vec<String>) {
        let apiserver = probed(
            TargetKind::ApiServer,
            "127.0.10.1",
            vec![answered("version", 200), answered("api", 403), answered("namespaces", 403)],
        );
        let insecure = probed(TargetKind::ApiServerInsecure, "127.0.10.1", vec![failed("version", insecure)]);
        attach(facts, &ran(vec![apiserver, insecure]), Timestamp::UNIX_EPOCH);
        let item = &facts.apiservers.items[0];
        (item.reconciliation, item.disagreements.clone())
    }

    #[test]
    fn an_insecure_port_in_the_flags_that_nothing_serves_is_a_disagreement() {
        let mut set = weak_with_apiserver_flags(&[("insecure-port", "8080"), ("insecure-bind-address", "0.0.0.0")]);
        let (verdict, disagreements) = insecure_reconciled(&mut set, Failure::Refused);
        assert_eq!(verdict, Reconciliation::Disagree);
        assert!(disagreements[0].starts_with("--insecure-port=8080 on a reachable address"), "{disagreements:?}");
        // Control: bound to loopback, it is not reachable from here: no disagreement.
        let mut local = weak_with_apiserver_flags(&[("insecure-port", "8080"), ("insecure-bind-address", "127.0.0.1")]);
        assert_eq!(insecure_reconciled(&mut local, Failure::Refused), (Reconciliation::Agree, Vec::new()));
        // Control: off in the flags and closed on the wire agree.
        let mut off = weak_with_apiserver_flags(&[("insecure-port", "0")]);
        assert_eq!(insecure_reconciled(&mut off, Failure::Refused), (Reconciliation::Agree, Vec::new()));
    }
}
