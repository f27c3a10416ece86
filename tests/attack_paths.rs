//! Attack paths: the weak example's routes to takeover, none in the hardened one, each
//! kind of step with and without the finding or fact that enables it, and the property
//! that removing the finding behind a step removes every path through it.

mod support;

use support::{code, scratch, seaworthy, stderr, stdout, write};

const WEAK: &str = "testdata/clusters/weak";
const HARDENED: &str = "testdata/clusters/hardened";

/// The attack paths of a manifest scan, from the JSON report.
fn paths_of(manifests: &str) -> Vec<serde_json::Value> {
    let output = seaworthy(&["scan", "--manifests", manifests, "-o", "json", "--fail-on", "none"]);
    assert!(matches!(code(&output), 0 | 3), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    report["attackPaths"].as_array().cloned().unwrap_or_default()
}

/// The paths of one manifest text.
fn paths_of_text(text: &str) -> Vec<serde_json::Value> {
    let dir = scratch();
    let file = write(dir.path(), "cluster.yaml", text);
    paths_of(file.to_str().expect("UTF-8"))
}

/// A path from `entry` (`network`, `authenticated`, `pod`) to `goal` whose steps rest,
/// in order, on `rules` (`None` for a fact): its `verified` flag.
fn find(paths: &[serde_json::Value], entry: &str, goal: &str, rules: &[Option<&str>]) -> Option<bool> {
    paths
        .iter()
        .find(|path| {
            let steps: Vec<Option<&str>> =
                path["steps"].as_array().into_iter().flatten().map(|step| step["ruleId"].as_str()).collect();
            path["entry"]["kind"] == entry && path["goal"] == goal && steps == rules
        })
        .map(|path| path["verified"] == true)
}

fn to(paths: &[serde_json::Value], entry: &str, goal: &str) -> usize {
    paths.iter().filter(|path| path["entry"]["kind"] == entry && path["goal"] == goal).count()
}

#[test]
fn the_weak_example_has_its_routes_to_takeover_and_the_hardened_one_none() {
    let weak = paths_of(WEAK);
    // Network → plaintext etcd → every object.
    assert_eq!(find(&weak, "network", "etcd", &[Some("ETCD-008")]), Some(true), "{weak:#?}");
    // Network → anonymous → cluster-admin, through the binding of system:unauthenticated.
    assert_eq!(find(&weak, "network", "clusterAdmin", &[Some("APISERVER-001"), Some("RBAC-005")]), Some(true));
    // Network → Tiller → cluster-admin: possible, since manifests cannot show Tiller answers.
    assert_eq!(find(&weak, "network", "clusterAdmin", &[Some("ADDON-001"), Some("RBAC-002")]), Some(false));
    // The Dashboard without login → its cluster-admin service account.
    assert_eq!(find(&weak, "network", "clusterAdmin", &[Some("ADDON-003"), Some("RBAC-001")]), Some(true));
    // The insecure port → cluster-admin in one step.
    assert_eq!(find(&weak, "network", "clusterAdmin", &[Some("APISERVER-004")]), Some(true));
    // A pod in shop holds only shop's default token, which grants nothing: no path to
    // cluster-admin from there; its privileged pods are root on their node.
    let from_shop = |goal: &str| {
        weak.iter()
            .filter(|path| {
                path["entry"]["kind"] == "pod"
                    && path["entry"]["workload"].as_str().is_some_and(|w| w.contains(" shop/"))
            })
            .filter(|path| path["goal"] == goal)
            .count()
    };
    assert_eq!(from_shop("clusterAdmin"), 0, "{weak:#?}");
    assert!(from_shop("nodeRoot") >= 1);
    // Every path has a fix among its steps.
    for path in &weak {
        let steps = path["steps"].as_array().expect("steps").len();
        assert!(path["fix"].as_u64().is_some_and(|fix| fix < steps as u64), "{path}");
    }
    assert!(paths_of(HARDENED).is_empty(), "the hardened example has no path");
}

const APISERVER: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver-cp1, namespace: kube-system, labels: {component: kube-apiserver, tier: control-plane}}\nspec:\n  hostNetwork: true\n  nodeName: cp1\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.31.1\n    command: [kube-apiserver, --authorization-mode=Node,RBAC, FLAGS]\n";

fn apiserver(flags: &str) -> String {
    APISERVER.replace("FLAGS", flags)
}

fn cluster_admin(kind: &str, name: &str, namespace: Option<&str>) -> String {
    let namespace = namespace.map(|namespace| format!(", namespace: {namespace}")).unwrap_or_default();
    let binding = name.replace(':', "-");
    format!(
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {binding}-admin}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects:\n- {{kind: {kind}, name: {name}{namespace}}}\n"
    )
}

fn deployment(namespace: &str, name: &str, account: &str, image: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      serviceAccountName: {account}\n{extra}      containers:\n      - name: {name}\n        image: {image}\n"
    )
}

#[test]
fn plaintext_etcd_is_a_step_to_etcd_only_when_a_finding_says_so() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd-cp1, namespace: kube-system, labels: {component: etcd, tier: control-plane}}\nspec:\n  hostNetwork: true\n  nodeName: cp1\n  containers:\n  - name: etcd\n    image: registry.k8s.io/etcd:3.5.15-0\n    command: [etcd, --name=cp1, FLAGS]\n";
    let open = paths_of_text(&pod.replace("FLAGS", "--listen-client-urls=http://0.0.0.0:2379"));
    assert_eq!(find(&open, "network", "etcd", &[Some("ETCD-008")]), Some(true), "{open:#?}");
    let closed = paths_of_text(&pod.replace(
        "FLAGS",
        "--listen-client-urls=https://0.0.0.0:2379, --cert-file=/p/s.crt, --key-file=/p/s.key, --client-cert-auth=true, --trusted-ca-file=/p/ca.crt",
    ));
    assert_eq!(to(&closed, "network", "etcd"), 0, "{closed:#?}");
}

#[test]
fn the_insecure_port_is_a_step_to_cluster_admin_only_when_it_is_open() {
    let open = paths_of_text(&apiserver("--insecure-port=8080, --anonymous-auth=false"));
    assert_eq!(find(&open, "network", "clusterAdmin", &[Some("APISERVER-004")]), Some(true), "{open:#?}");
    let closed = paths_of_text(&apiserver("--anonymous-auth=false"));
    assert_eq!(to(&closed, "network", "clusterAdmin"), 0, "{closed:#?}");
}

#[test]
fn anonymous_requests_reach_what_the_unauthenticated_are_bound_to() {
    let binding = cluster_admin("Group", "system:unauthenticated", None);
    let open = paths_of_text(&format!("{}{binding}", apiserver("--anonymous-auth=true")));
    assert_eq!(
        find(&open, "network", "clusterAdmin", &[Some("APISERVER-001"), Some("RBAC-005")]),
        Some(true),
        "{open:#?}"
    );
    // Control: anonymous requests refused, and anonymous requests bound to nothing.
    let refused = paths_of_text(&format!("{}{binding}", apiserver("--anonymous-auth=false")));
    assert_eq!(to(&refused, "network", "clusterAdmin"), 0, "{refused:#?}");
    let unbound = paths_of_text(&apiserver("--anonymous-auth=true"));
    assert_eq!(to(&unbound, "network", "clusterAdmin"), 0, "{unbound:#?}");
}

#[test]
fn the_dashboard_without_login_acts_as_its_service_account() {
    let dashboard = |args: &str| {
        let image = format!("kubernetesui/dashboard:v2.7.0\n        args: [{args}]");
        format!(
            "{}{}",
            deployment("kubernetes-dashboard", "kubernetes-dashboard", "kubernetes-dashboard", &image, ""),
            cluster_admin("ServiceAccount", "kubernetes-dashboard", Some("kubernetes-dashboard"))
        )
    };
    let open = paths_of_text(&dashboard("--enable-skip-login"));
    assert_eq!(find(&open, "network", "clusterAdmin", &[Some("ADDON-003"), Some("RBAC-001")]), Some(true), "{open:#?}");
    let closed = paths_of_text(&dashboard("--auto-generate-certificates"));
    assert_eq!(to(&closed, "network", "clusterAdmin"), 0, "{closed:#?}");
}

#[test]
fn tiller_is_a_possible_step_until_a_probe_shows_it_answers() {
    let binding = cluster_admin("ServiceAccount", "tiller", Some("kube-system"));
    let installed = paths_of_text(&format!(
        "{}{binding}",
        deployment("kube-system", "tiller-deploy", "tiller", "gcr.io/kubernetes-helm/tiller:v2.16.12", "")
    ));
    assert_eq!(
        find(&installed, "network", "clusterAdmin", &[Some("ADDON-001"), Some("RBAC-002")]),
        Some(false),
        "{installed:#?}"
    );
    // Control: the same service account without Tiller.
    let absent =
        paths_of_text(&format!("{}{binding}", deployment("kube-system", "helm", "tiller", "example.com/helm:1", "")));
    assert_eq!(to(&absent, "network", "clusterAdmin"), 0, "{absent:#?}");
}

#[test]
fn a_kubelet_that_serves_anyone_runs_commands_in_its_pods() {
    let kubelet = |mode: &str| {
        format!(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous: {{enabled: true}}\nauthorization: {{mode: {mode}}}\n{}{}",
            deployment("ops", "runner", "runner", "example.com/runner:1", ""),
            cluster_admin("ServiceAccount", "runner", Some("ops"))
        )
    };
    let open = paths_of_text(&kubelet("AlwaysAllow"));
    assert_eq!(
        find(&open, "network", "clusterAdmin", &[Some("KCFG-002"), None, Some("RBAC-003")]),
        Some(true),
        "{open:#?}"
    );
    let closed = paths_of_text(&kubelet("Webhook"));
    assert_eq!(to(&closed, "network", "clusterAdmin"), 0, "{closed:#?}");
}

#[test]
fn a_privileged_pod_is_root_on_its_node() {
    let pod = |privileged: bool| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: debug, namespace: shop}}\nspec:\n  containers:\n  - name: shell\n    image: example.com/shell:1\n    securityContext: {{privileged: {privileged}}}\n"
        )
    };
    let open = paths_of_text(&pod(true));
    assert_eq!(find(&open, "pod", "nodeRoot", &[Some("POD-001")]), Some(true), "{open:#?}");
    assert_eq!(to(&paths_of_text(&pod(false)), "pod", "nodeRoot"), 0);
}

#[test]
fn an_automounted_token_carries_its_grants_and_an_unmounted_one_does_not() {
    let workload = |extra: &str| {
        format!(
            "{}{}",
            deployment("ops", "runner", "runner", "example.com/runner:1", extra),
            cluster_admin("ServiceAccount", "runner", Some("ops"))
        )
    };
    let mounted = paths_of_text(&workload(""));
    assert_eq!(find(&mounted, "pod", "clusterAdmin", &[None, Some("RBAC-003")]), Some(true), "{mounted:#?}");
    let unmounted = paths_of_text(&workload("      automountServiceAccountToken: false\n"));
    assert_eq!(to(&unmounted, "pod", "clusterAdmin"), 0, "{unmounted:#?}");
}

#[test]
fn an_escalation_grant_leads_to_the_tokens_it_reaches() {
    // `deployer` may create pods in kube-system, where `admin` holds cluster-admin.
    let cluster = |verbs: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: deploy, namespace: kube-system}}\nrules:\n- {{apiGroups: [''], resources: [pods], verbs: [{verbs}]}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: deploy, namespace: kube-system}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: deploy}}\nsubjects:\n- {{kind: ServiceAccount, name: deployer, namespace: ci}}\n{}{}",
            deployment("ci", "pipeline", "deployer", "example.com/ci:1", ""),
            cluster_admin("ServiceAccount", "admin", Some("kube-system"))
        )
    };
    let open = paths_of_text(&cluster("create"));
    // kube-system's accounts are the control plane's, which no rule judges: the last
    // step rests on the fact of the binding.
    assert_eq!(find(&open, "pod", "clusterAdmin", &[None, Some("RBAC-009"), None, None]), Some(true), "{open:#?}");
    let closed = paths_of_text(&cluster("get, list"));
    assert_eq!(to(&closed, "pod", "clusterAdmin"), 0, "{closed:#?}");
}

/// Removing the finding behind any step of the weak example's paths removes every path
/// through that step: no path outlives its evidence.
#[test]
fn removing_the_finding_behind_a_step_removes_every_path_through_it() {
    let (facts, report) = support::judged(WEAK);
    let steps: std::collections::BTreeSet<(String, String)> = report
        .attack_paths
        .iter()
        .flat_map(|path| &path.steps)
        .filter_map(|step| Some((step.rule_id.clone()?, step.subject.as_ref()?.key())))
        .collect();
    assert!(steps.len() >= 8, "the weak example's paths rest on many findings: {steps:?}");
    for (rule, subject) in &steps {
        let mut results = report.results.clone();
        for result in results.iter_mut().filter(|result| &result.rule_id == rule) {
            result.findings.retain(|finding| &finding.subject.key() != subject);
            result.inconclusive.retain(|finding| &finding.subject.key() != subject);
        }
        let left = seaworthy::paths::find(&facts, &results);
        let through = left.iter().flat_map(|path| &path.steps).find(|step| {
            step.rule_id.as_deref() == Some(rule.as_str()) && step.subject.as_ref().is_some_and(|s| &s.key() == subject)
        });
        assert!(through.is_none(), "{rule} on {subject} was removed, yet a path still rests on it");
    }
}

fn report_of_text(text: &str) -> serde_json::Value {
    let dir = scratch();
    let file = write(dir.path(), "cluster.yaml", text);
    let output = seaworthy(&["scan", "--manifests", file.to_str().expect("UTF-8"), "-o", "json", "--fail-on", "none"]);
    serde_json::from_str(&stdout(&output)).expect("JSON")
}

#[test]
fn a_verified_path_from_the_network_caps_the_grade_and_a_possible_one_does_not() {
    let open = report_of_text(&apiserver("--insecure-port=8080, --anonymous-auth=false"));
    assert_eq!(open["score"]["grade"], "F", "{}", open["score"]);
    assert!(
        open["score"]["capped"].as_str().is_some_and(|reason| reason.contains("from the network to cluster-admin")),
        "{}",
        open["score"]
    );
    // Control: the same API server without the insecure port is graded on its score.
    let closed = report_of_text(&apiserver("--anonymous-auth=false"));
    assert!(closed["score"].get("capped").is_none(), "{}", closed["score"]);
    // A possible path never caps: Tiller is unverified on manifests.
    let binding = cluster_admin("ServiceAccount", "tiller", Some("kube-system"));
    let tiller = report_of_text(&format!(
        "{}{binding}",
        deployment("kube-system", "tiller-deploy", "tiller", "gcr.io/kubernetes-helm/tiller:v2.16.12", "")
    ));
    assert!(tiller["attackPaths"].as_array().is_some_and(|paths| !paths.is_empty()), "a possible path");
    assert!(tiller["score"].get("capped").is_none(), "{}", tiller["score"]);
}

#[test]
fn the_terminal_report_opens_with_the_paths() {
    let output = support::seaworthy_with(&["scan", "--manifests", WEAK], &[("COLUMNS", "100")], None);
    let text = stdout(&output);
    // The first section after the summary block.
    let after_summary = text.split("\n\n").nth(1).expect("a section after the summary");
    assert!(after_summary.starts_with("attack paths ("), "{text}");
    assert!(after_summary.contains("5 to cluster-admin from the network"), "{after_summary}");
    assert!(after_summary.contains("fix: step 1 (APISERVER-004)"), "{after_summary}");
    assert!(text.contains("grade capped at F"), "{text}");
}

#[test]
fn sarif_carries_each_path_as_a_code_flow_github_can_show() {
    let output = seaworthy(&["scan", "--manifests", WEAK, "-o", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("SARIF");
    support::assert_valid(&support::sarif_schema(), &log, "SARIF with attack paths");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let paths: Vec<&serde_json::Value> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|result| result["ruleId"].as_str().is_some_and(|id| id.starts_with("PATH-")))
        .collect();
    assert_eq!(paths.len(), paths_of(WEAK).len(), "one result per path");
    for result in paths {
        // GitHub: the rule is in the driver at ruleIndex, and every location is a file and line.
        let index = usize::try_from(result["ruleIndex"].as_u64().expect("ruleIndex")).expect("an index");
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result["partialFingerprints"]["primaryLocationLineHash"].as_str().is_some_and(|hash| hash.len() == 64));
        let steps = result["codeFlows"][0]["threadFlows"][0]["locations"].as_array().expect("thread flow locations");
        assert!(!steps.is_empty());
        for (order, step) in steps.iter().enumerate() {
            assert_eq!(step["executionOrder"], order);
            let physical = &step["location"]["physicalLocation"];
            assert!(physical["artifactLocation"]["uri"].as_str().is_some_and(|uri| !uri.is_empty()), "{step}");
            assert!(physical["region"]["startLine"].as_u64() >= Some(1), "{step}");
            assert!(
                step["location"]["message"]["text"]
                    .as_str()
                    .is_some_and(|text| text.starts_with(&format!("{}. ", order + 1)))
            );
        }
    }
}
