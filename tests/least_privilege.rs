//! The ClusterRole shipped in `deploy/` is exactly sufficient: scanning the hardened
//! cluster (fake API server with RBAC enforced from that role, real etcd, kubelets)
//! gives the same coverage as an identity that may read everything, and taking away
//! any single permission lowers it, so no permission is granted for nothing.

mod support;

use support::clusters::hardened_with;
use support::etcd::Mode;
use support::fake_api::FakeApi;
use support::{code, seaworthy_with, stderr, stdout};

/// The clock of the probe tests: the kubelets' certificates are minted relative to it.
const NOW: &str = "2026-11-22T12:00:00Z";

/// Coverage and the collections that were not collected, of one scan with probes on.
fn coverage(api: &FakeApi) -> (f64, Vec<String>) {
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8 path");
    let output = seaworthy_with(&["scan", "--kubeconfig", kubeconfig, "-o", "json"], &[("SEAWORTHY_NOW", NOW)], None);
    assert_ne!(code(&output), 2, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    let missing = report["coverage"]["collections"]
        .as_array()
        .expect("collections")
        .iter()
        // Not applicable is no gap, nor an opt-in read the role leaves out on purpose
        // (`--read-config-maps`: "not read: --…").
        .filter(|collection| collection["status"] != "collected" && collection["status"] != "notApplicable")
        .filter(|collection| !collection["reason"].as_str().is_some_and(|reason| reason.starts_with("not read: --")))
        .map(|collection| format!("{}: {}", collection["name"], collection["reason"]))
        .collect();
    (report["score"]["coverage"].as_f64().expect("a coverage"), missing)
}

/// One permission: the verb on a resource in a rule of the role.
#[derive(Debug)]
struct Permission {
    rule: usize,
    resource: String,
    verb: String,
}

fn permissions(role: &serde_json::Value) -> Vec<Permission> {
    let mut all = Vec::new();
    for (index, rule) in role["rules"].as_array().expect("rules").iter().enumerate() {
        for resource in rule["resources"].as_array().expect("resources") {
            for verb in rule["verbs"].as_array().expect("verbs") {
                let (resource, verb) = (resource.as_str().expect("a name"), verb.as_str().expect("a verb"));
                all.push(Permission { rule: index, resource: resource.into(), verb: verb.into() });
            }
        }
    }
    all
}

/// `role` without one permission: the resource leaves its rule, and comes back in a
/// rule of its own with the rule's other verbs, if any.
fn without(role: &serde_json::Value, permission: &Permission) -> serde_json::Value {
    let mut role = role.clone();
    let rules = role["rules"].as_array_mut().expect("rules");
    let trimmed = &mut rules[permission.rule];
    let mut rest = trimmed.clone();
    trimmed["resources"].as_array_mut().expect("resources").retain(|resource| resource != &*permission.resource);
    rest["resources"] = serde_json::json!([permission.resource]);
    rest["verbs"].as_array_mut().expect("verbs").retain(|verb| verb != &*permission.verb);
    if rules[permission.rule]["resources"].as_array().is_some_and(Vec::is_empty) {
        rules.remove(permission.rule);
    }
    if !rest["verbs"].as_array().is_some_and(Vec::is_empty) {
        rules.push(rest);
    }
    role
}

#[test]
#[allow(clippy::float_cmp)] // Coverage is rounded to one decimal: equal means equal.
fn the_shipped_cluster_role_is_exactly_sufficient() {
    let role = support::shipped_cluster_role();
    let (api, _etcd, _listeners) = hardened_with("least_privilege", false, None, Mode::MutualTls, 401);

    // What an identity that may read everything sees (short of nodes/proxy, which
    // --read-kubelet-config opts into and the role does not grant): kubeadm's
    // kubelet-config ConfigMap gives the kubelet configuration without it.
    let (everything, not_collected) = coverage(&api);
    assert!(not_collected.is_empty(), "nothing is left out: {not_collected:?}");

    api.enforce(&role.to_string());
    let (granted, not_collected_granted) = coverage(&api);
    assert_eq!(granted, everything, "the role reads everything the scan uses: {not_collected_granted:?}");
    assert_eq!(not_collected_granted, not_collected);

    let permissions = permissions(&role);
    let rules_tried: std::collections::BTreeSet<usize> = permissions.iter().map(|permission| permission.rule).collect();
    assert_eq!(rules_tried.len(), role["rules"].as_array().expect("rules").len(), "every rule is tried");
    for permission in &permissions {
        api.enforce(&without(&role, permission).to_string());
        let (reduced, _) = coverage(&api);
        assert!(
            reduced < everything,
            "{} {} is granted for nothing: coverage stays {reduced} without it",
            permission.verb,
            permission.resource
        );
    }
}
