//! The live source against the fake API server, through the real binary: safety (only
//! GETs and access reviews, never Secrets), partial permissions, pagination, expired
//! continue tokens, throttling, provider handling, snapshots and connection errors.

mod support;

use support::fake_api::{FakeApi, Injection, Settings};
use support::{code, failing_rules, seaworthy, stderr, stdout};

fn scan_json(api: &FakeApi, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8 path");
    let mut args = vec!["scan", "--kubeconfig", kubeconfig, "-o", "json", "--timeout", "60s"];
    args.extend_from_slice(extra);
    let output = seaworthy(&args);
    let report = serde_json::from_str(&stdout(&output)).unwrap_or(serde_json::Value::Null);
    (code(&output), report, stderr(&output))
}

fn status_of<'a>(report: &'a serde_json::Value, rule: &str) -> (&'a str, &'a str) {
    let result = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|result| result["ruleId"] == rule)
        .unwrap_or_else(|| panic!("{rule} ran"));
    (result["status"].as_str().expect("status"), result["reason"].as_str().unwrap_or_default())
}

#[test]
fn weak_cluster_is_judged_with_live_evidence() {
    let api = FakeApi::start("weak_cluster_is_judged_with_live_evidence", Settings::cluster("weak"));
    // As from inside: full coverage needs the add-ons' Service addresses probed.
    let (code, report, stderr) =
        scan_json(&api, &["--read-kubelet-config", "--read-config-maps", "--probe-service-addresses"]);
    assert_eq!(code, 1, "{stderr}");
    let failing = failing_rules(&report);
    for rule in [
        "IMAGE-004",
        "RBAC-001",
        "RBAC-002",
        "APISERVER-003",
        "ETCD-002",
        "HA-001",
        "HA-006",
        "NODE-001",
        "NS-001",
        "KCFG-001",
        "KCFG-002",
        "VER-003",
    ] {
        assert!(failing.iter().any(|id| id == rule), "{rule} fails on the weak cluster: {failing:?}");
    }
    assert_eq!(report["source"]["kind"], "live");
    assert_eq!(report["cluster"]["name"], "fake");
    assert_eq!(report["cluster"]["uid"], "6f1c0c1e-5b0e-4c8e-9a53-0c5a3e1d2b11", "the kube-system UID");
    assert_eq!(report["cluster"]["provider"], "kubeadm", "kubeadm-config is present");
    assert_eq!(report["cluster"]["version"], "v1.31.1");
    assert!(
        report["cluster"]["caCertificate"].as_str().is_some_and(|pem| pem.contains("BEGIN CERTIFICATE")),
        "the cluster CA from kube-root-ca.crt"
    );
    let mutated =
        report["results"].as_array().expect("results").iter().find(|r| r["ruleId"] == "IMAGE-004").expect("IMAGE-004");
    let digests = mutated["findings"][0]["evidence"]["digests"].as_array().expect("digests");
    assert_eq!(digests.len(), 2, "both running digests are evidence");
    // Every rule is judged but ADDON-002: nothing answers at Tiller's Service address
    // here, and a refusal proves nothing about Tiller.
    let not_evaluated: Vec<&str> = report["coverage"]["notEvaluated"]
        .as_array()
        .expect("notEvaluated")
        .iter()
        .filter_map(|entry| entry["ruleId"].as_str())
        .collect();
    assert_eq!(not_evaluated, vec!["ADDON-002"], "{:?}", report["coverage"]["notEvaluated"]);
    let anonymous =
        report["results"].as_array().expect("results").iter().find(|r| r["ruleId"] == "KCFG-001").expect("KCFG-001");
    let nodes: Vec<&str> = anonymous["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["subject"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(nodes, vec!["cp1", "worker1", "worker2"], "one finding per node, from its /configz");
    let configz = api.requests().iter().filter(|request| request.path.ends_with("/proxy/configz")).count();
    assert_eq!(configz, 3, "one /configz read per node and no other proxy path");
}

#[test]
fn kubelet_configuration_is_only_read_when_asked_and_allowed() {
    let api = FakeApi::start("kubelet_configuration_is_only_read_when_asked", Settings::cluster("weak"));
    let (_, report, _) = scan_json(&api, &[]);
    let (status, reason) = status_of(&report, "KCFG-001");
    assert_eq!(status, "not_evaluated");
    assert!(reason.contains("--read-kubelet-config"), "{reason}");
    assert!(!api.requests().iter().any(|request| request.path.contains("/proxy")), "no proxy request without the flag");

    let mut settings = Settings::cluster("weak");
    settings.forbidden = vec!["nodes/proxy".into()];
    let api = FakeApi::start("kubelet_configuration_is_only_read_when_allowed", settings);
    let (_, report, _) = scan_json(&api, &["--read-kubelet-config"]);
    let (status, reason) = status_of(&report, "KCFG-001");
    assert_eq!((status, reason), ("not_evaluated", "kubeletConfigs not collected: forbidden: get nodes/proxy"));
    assert!(
        !api.requests().iter().any(|request| request.path.contains("/proxy")),
        "the access review prevented the request"
    );
}

#[test]
fn only_reads_are_sent_and_secrets_are_never_touched() {
    let api = FakeApi::start("only_reads_are_sent_and_secrets_are_never_touched", Settings::cluster("weak"));
    let (code, _, stderr) = scan_json(&api, &[]);
    assert_eq!(code, 1, "{stderr}");
    let requests = api.requests();
    assert!(requests.len() > 20, "the scan talked to the server");
    for request in &requests {
        let review =
            request.method == "POST" && request.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
        assert!(request.method == "GET" || review, "only GET and access reviews: {request:?}");
        assert!(!request.path.split('/').any(|segment| segment == "secrets"), "never Secrets: {request:?}");
        assert!(!request.path.contains("/proxy"), "never node proxies: {request:?}");
        // The API client says who it is; probes, asking without credentials, say so too.
        let agent = if request.authenticated { "seaworthy/" } else { "seaworthy-probe/" };
        assert!(request.user_agent.starts_with(agent), "User-Agent: {request:?}");
        assert!(!request.query.contains("watch"), "never watch: {request:?}");
    }
    let slices: Vec<_> = requests.iter().filter(|request| request.path.ends_with("/endpointslices")).collect();
    assert!(!slices.is_empty(), "the API server endpoints were read");
    for request in slices {
        assert_eq!(
            request.path, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            "only the default namespace"
        );
        assert!(request.query.contains("labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes"), "{request:?}");
    }
}

#[test]
fn hardened_cluster_has_no_critical_or_high_failure() {
    let api = FakeApi::start("hardened_cluster_has_no_critical_or_high_failure", Settings::cluster("hardened"));
    let (code, report, stderr) = scan_json(&api, &[]);
    assert_eq!(code, 0, "{stderr} {:?}", failing_rules(&report));
    assert_eq!(report["score"]["grade"], "A");
}

#[test]
fn a_forbidden_collection_is_not_evaluated_never_passed() {
    let mut settings = Settings::cluster("weak");
    settings.forbidden = vec!["clusterrolebindings.rbac.authorization.k8s.io".into()];
    let api = FakeApi::start("a_forbidden_collection_is_not_evaluated_never_passed", settings);
    let (_, report, stderr) = scan_json(&api, &[]);
    for rule in ["RBAC-001", "RBAC-002", "RBAC-003", "RBAC-005", "RBAC-006"] {
        let (status, reason) = status_of(&report, rule);
        assert_eq!(status, "not_evaluated", "{rule}: {stderr}");
        assert!(reason.contains("forbidden: list clusterrolebindings.rbac.authorization.k8s.io"), "{rule}: {reason}");
    }
    let missing = report["coverage"]["collections"].as_array().expect("collections");
    assert!(
        missing.iter().any(|collection| collection["name"] == "bindings" && collection["status"] == "notCollected")
    );
    assert!(
        !api.requests().iter().any(|request| request.path.ends_with("/clusterrolebindings")),
        "the access review prevented a list that would be refused"
    );
}

#[test]
fn a_token_without_permissions_still_reports_with_almost_no_coverage() {
    let mut settings = Settings::cluster("weak");
    settings.allow_only = Some(Vec::new());
    let api = FakeApi::start("a_token_without_permissions_still_reports_with_zero_coverage", settings);
    // Probes need no API permission; without them, nothing at all is known.
    let (code, report, stderr) = scan_json(&api, &["--min-coverage", "50", "--no-probes"]);
    assert_eq!(code, 3, "{stderr}");
    // Only the version, which /version serves to anyone, is known: VER-001 alone is
    // judged (1.31 is past its end of life on the test's day).
    let judged: Vec<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|result| result["status"] == "pass" || result["status"] == "fail")
        .filter_map(|result| result["ruleId"].as_str())
        .collect();
    assert_eq!(judged, ["VER-001"], "{stderr}");
    assert!(report["score"]["coverage"].as_f64().is_some_and(|coverage| coverage < 1.0), "{}", report["score"]);
    assert_eq!(report["summary"]["pass"], 0, "nothing passes without evidence");
}

#[test]
fn pagination_visits_every_page() {
    let api = FakeApi::start("pagination_visits_every_page", Settings::cluster("weak"));
    let (_, paged, _) = scan_json(&api, &["--page-size", "2"]);
    let pod_pages = api.requests().iter().filter(|request| request.path == "/api/v1/pods").count();
    assert!(pod_pages >= 4, "7 pods in pages of 2 take 4 requests, saw {pod_pages}");
    let (_, whole, _) = scan_json(&api, &[]);
    assert_eq!(paged["results"], whole["results"], "paging changes nothing but the requests");
}

#[test]
fn an_expired_continue_token_restarts_the_list() {
    let mut settings = Settings::cluster("weak");
    settings.expire_first_continue = true;
    let api = FakeApi::start("an_expired_continue_token_restarts_the_list", settings);
    let (code, expired, stderr) = scan_json(&api, &["--page-size", "2"]);
    assert_eq!(code, 1, "{stderr}");
    let reference = FakeApi::start("an_expired_continue_token_restarts_the_list_reference", Settings::cluster("weak"));
    let (_, whole, _) = scan_json(&reference, &[]);
    // Each fake has fixture addresses of its own, so messages that quote an address
    // differ: compare statuses, subject counts and fingerprints.
    let outcome = |report: &serde_json::Value| -> Vec<String> {
        let results = report["results"].as_array().expect("results");
        results
            .iter()
            .map(|result| {
                let findings = result["findings"].as_array().expect("findings");
                let fingerprints: Vec<&str> =
                    findings.iter().map(|finding| finding["fingerprint"].as_str().unwrap_or_default()).collect();
                format!("{} {} {} {fingerprints:?}", result["ruleId"], result["status"], result["subjects"])
            })
            .collect()
    };
    assert_eq!(outcome(&expired), outcome(&whole), "nothing lost and nothing counted twice");
}

#[test]
fn a_short_burst_of_429_and_500_is_retried() {
    for status in [429, 500] {
        let mut settings = Settings::cluster("weak");
        settings.inject = Some(Injection {
            path_prefix: "/api/v1/nodes".into(),
            times: 2,
            status,
            retry_after: Some(0),
            retry_after_as_date: false,
        });
        let api = FakeApi::start(&format!("a_short_burst_is_retried_{status}"), settings);
        let (code, report, stderr) = scan_json(&api, &[]);
        assert_eq!(code, 1, "{status}: {stderr}");
        assert_eq!(status_of(&report, "HA-001").0, "fail", "nodes were collected after the retries");
    }
}

#[test]
fn a_429_storm_ends_with_a_clear_error() {
    let mut settings = Settings::cluster("weak");
    settings.inject = Some(Injection {
        path_prefix: "/api/v1/nodes".into(),
        times: usize::MAX,
        status: 429,
        retry_after: Some(0),
        retry_after_as_date: false,
    });
    let api = FakeApi::start("a_429_storm_ends_with_a_clear_error", settings);
    let (code, _, stderr) = scan_json(&api, &[]);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("kept answering HTTP 429"), "{stderr}");
    let attempts = api.requests().iter().filter(|request| request.path == "/api/v1/nodes").count();
    assert_eq!(attempts, 6, "one request and five bounded retries");
}

#[test]
fn a_retry_after_beyond_the_timeout_gives_up_at_once() {
    // In seconds, and as an HTTP date (RFC 9110 allows both).
    for as_date in [false, true] {
        let mut settings = Settings::cluster("weak");
        settings.inject = Some(Injection {
            path_prefix: "/api/v1/nodes".into(),
            times: usize::MAX,
            status: 429,
            retry_after: Some(3600),
            retry_after_as_date: as_date,
        });
        let api = FakeApi::start(&format!("a_retry_after_beyond_the_timeout_{as_date}"), settings);
        let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
        let output = seaworthy(&["scan", "--kubeconfig", kubeconfig, "--timeout", "20s"]);
        assert_eq!(code(&output), 2);
        let message = stderr(&output);
        assert!(message.contains("beyond the overall timeout"), "as date: {as_date}: {message}");
    }
}

#[test]
fn managed_control_planes_are_not_applicable() {
    let mut settings = Settings::cluster("weak");
    settings.git_version = "v1.30.4-eks-a737599".into();
    let api = FakeApi::start("managed_control_planes_are_not_applicable", settings);
    let (_, report, stderr) = scan_json(&api, &[]);
    assert_eq!(report["cluster"]["provider"], "eks", "{stderr}");
    for rule in ["APISERVER-001", "ETCD-002", "HA-001", "HA-003"] {
        let (status, reason) = status_of(&report, rule);
        assert_eq!(
            (status, reason.contains("managed control plane: eks")),
            ("not_applicable", true),
            "{rule}: {reason}"
        );
    }
    let (_, overridden, _) = scan_json(&api, &["--provider", "kubeadm"]);
    assert_eq!(status_of(&overridden, "HA-001").0, "fail", "--provider overrides detection");
}

#[test]
fn a_live_snapshot_judges_like_the_live_scan() {
    let api = FakeApi::start("a_live_snapshot_judges_like_the_live_scan", Settings::cluster("weak"));
    let dir = support::scratch();
    let snapshot = dir.path().join("live.facts.json");
    let snapshot_path = snapshot.to_str().expect("UTF-8");
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
    let output = seaworthy(&["snapshot", "--kubeconfig", kubeconfig, "--output-file", snapshot_path]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = std::fs::read_to_string(&snapshot).expect("snapshot written");
    assert!(!text.contains("0123456789abcdef"), "no Secret content in the snapshot");
    assert!(!text.contains("etcd-bootstrap-s3cr3t"), "secret-looking flag values are redacted");
    assert!(text.contains("\"initial-cluster-token\": \"<redacted>\""), "the flag stays, its value does not");
    let (_, live, _) = scan_json(&api, &[]);
    let judged = seaworthy(&["scan", "--snapshot", snapshot_path, "-o", "json"]);
    let judged: serde_json::Value = serde_json::from_str(&stdout(&judged)).expect("JSON");
    assert_eq!(live["results"], judged["results"]);
    assert_eq!(live["score"], judged["score"]);
}

fn one_line_error(args: &[&str], needle: &str) {
    let output = seaworthy(args);
    assert_eq!(code(&output), 2, "{args:?}");
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains(needle), "`{needle}` in {message}");
    assert!(message.contains("(hint: "), "{message}");
}

#[test]
fn connection_problems_are_one_line_errors_with_a_hint() {
    let api = FakeApi::start("connection_problems_are_one_line_errors_with_a_hint", Settings::cluster("weak"));
    let dir = support::scratch();
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");

    let wrong_token = api.kubeconfig_with_token("expired-token");
    one_line_error(&["scan", "--kubeconfig", wrong_token.to_str().expect("UTF-8")], "rejected the credentials");

    let other_ca = support::pki::Ca::new("someone-else");
    let untrusted = api.kubeconfig_trusting(&other_ca.cert_pem);
    one_line_error(&["scan", "--kubeconfig", untrusted.to_str().expect("UTF-8")], "cannot reach the API server");

    one_line_error(&["scan", "--kubeconfig", kubeconfig, "--context", "nope"], "context `nope` not found");

    let garbage = support::write(dir.path(), "garbage", "clusters: [this is not: a kubeconfig\n");
    one_line_error(&["scan", "--kubeconfig", garbage.to_str().expect("UTF-8")], "kubeconfig:");

    // Nothing listens on this address: the connection is refused at once.
    let nobody = support::loopback::address("connection_problems_nobody_listens", 6443);
    let unreachable = dir.path().join("unreachable");
    support::fake_api::write_kubeconfig(&unreachable, &format!("https://{nobody}"), &api.ca_pem, "t");
    one_line_error(
        &["scan", "--kubeconfig", unreachable.to_str().expect("UTF-8"), "--timeout", "20s"],
        "cannot reach the API server",
    );
}

#[test]
fn anonymous_access_is_not_mistaken_for_credentials() {
    // The server lets anyone read /version; a kubeconfig without a token must still fail
    // on the first list, with the credentials named as the cause.
    let mut settings = Settings::cluster("weak");
    settings.anonymous = 200;
    let api = FakeApi::start("anonymous_access_is_not_mistaken_for_credentials", settings);
    let dir = support::scratch();
    let anonymous = dir.path().join("anonymous");
    let text = std::fs::read_to_string(&api.kubeconfig)
        .expect("kubeconfig")
        .replace("    token: seaworthy-test-token\n", "    {}\n");
    std::fs::write(&anonymous, text).expect("write kubeconfig");
    let output = seaworthy(&["scan", "--kubeconfig", anonymous.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("rejected the credentials"), "{}", stderr(&output));
    let version = api.requests().into_iter().find(|request| request.path == "/version").expect("/version was asked");
    assert!(!version.authenticated, "the request really was anonymous");
}

#[test]
fn kubeadm_config_stands_in_for_static_pods_out_of_sight() {
    // The shipped role less pods: a reader that may not list pods sees no static pod;
    // kubeadm's ClusterConfiguration, which the role lets it read by name, says what
    // they run.
    let mut role = support::shipped_cluster_role();
    let core = role["rules"].as_array_mut().expect("rules").iter_mut().find(|rule| rule["apiGroups"][0] == "");
    core.expect("a core-group rule")["resources"].as_array_mut().expect("resources").retain(|r| r != "pods");
    let api = FakeApi::start("kubeadm_config_stands_in_for_static_pods", Settings::cluster("weak"));
    api.enforce(&role.to_string());
    let (_, report, stderr) = scan_json(&api, &[]);
    for rule in ["APISERVER-001", "APISERVER-003", "ETCD-002", "CM-004"] {
        let (status, reason) = status_of(&report, rule);
        assert_eq!(status, "fail", "{rule}: {reason} {stderr}");
    }
    let result = report["results"].as_array().expect("results").iter().find(|r| r["ruleId"] == "APISERVER-003");
    let subject = &result.expect("APISERVER-003")["findings"][0]["subject"];
    assert_eq!((subject["kind"].as_str(), subject["name"].as_str()), (Some("ConfigMap"), Some("kubeadm-config")));
    assert_eq!(subject["container"], "kube-apiserver", "each declared component is its own subject");
    // How many instances run is not in a configuration: not counted, not judged.
    for rule in ["HA-002", "HA-003"] {
        assert_eq!(status_of(&report, rule).0, "not_evaluated", "{rule}");
    }
    let read = |path: &str| api.requests().iter().any(|request| request.method == "GET" && request.path == path);
    assert!(read("/api/v1/namespaces/kube-system/configmaps/kubeadm-config"), "read by name");
    assert!(!read("/api/v1/configmaps") && !read("/api/v1/namespaces/kube-system/configmaps"), "never listed");

    // Control: without the ConfigMap either, the components are honestly not judged.
    let mut settings = Settings::cluster("weak");
    settings.forbidden = vec!["pods".into(), "configmaps".into()];
    let api = FakeApi::start("kubeadm_config_forbidden_too", settings);
    let (_, report, _) = scan_json(&api, &[]);
    let (status, reason) = status_of(&report, "APISERVER-003");
    assert_eq!(status, "not_evaluated", "{reason}");
}

#[test]
fn custom_kinds_with_pod_templates_are_listed_and_judged_live() {
    let api = FakeApi::start("custom_kinds_with_pod_templates_are_listed", Settings::cluster("weak"));
    let (_, report, stderr) = scan_json(&api, &[]);
    let result = report["results"].as_array().expect("results").iter().find(|r| r["ruleId"] == "POD-001");
    let subjects: Vec<(&str, &str)> = result.expect("POD-001")["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            (finding["subject"]["kind"].as_str().unwrap_or(""), finding["subject"]["name"].as_str().unwrap_or(""))
        })
        .collect();
    assert!(
        subjects.contains(&("Rollout", "checkout")),
        "the privileged Rollout is judged live: {subjects:?} {stderr}"
    );
    let listed = |path: &str| api.requests().iter().any(|request| request.path.starts_with(path));
    assert!(listed("/apis/argoproj.io/v1alpha1/rollouts"), "served, so listed");
    assert!(!listed("/apis/apps.openshift.io/"), "not served here, so not asked for");

    // Under the shipped role, the custom kinds are read too (the hardened cluster
    // holds all three; tests/least_privilege.rs proves each grant is used).
    let api = FakeApi::start("custom_kinds_under_the_shipped_role", Settings::cluster("weak"));
    api.enforce(&support::shipped_cluster_role().to_string());
    let (_, report, _) = scan_json(&api, &[]);
    assert_eq!(status_of(&report, "POD-001").0, "fail");
    assert!(
        !report["coverage"]["notEvaluated"]
            .as_array()
            .expect("notEvaluated")
            .iter()
            .any(|entry| entry["ruleId"] == "POD-001"),
        "workloads are fully collected under the shipped role"
    );
}

#[test]
fn config_maps_are_listed_only_when_asked_and_their_values_never_reported() {
    let api = FakeApi::start("config_maps_are_listed_only_when_asked", Settings::cluster("weak"));
    let (_, report, _) = scan_json(&api, &[]);
    let (status, reason) = status_of(&report, "SEC-004");
    assert_eq!(status, "not_evaluated");
    assert!(reason.contains("--read-config-maps"), "{reason}");
    let listed = |api: &FakeApi| api.requests().iter().any(|request| request.path.ends_with("/configmaps"));
    assert!(!listed(&api), "no ConfigMap list without the opt-in");

    let api = FakeApi::start("config_maps_listed_when_asked", Settings::cluster("weak"));
    let (_, report, _) = scan_json(&api, &["--read-config-maps"]);
    assert_eq!(status_of(&report, "SEC-004").0, "fail");
    assert!(listed(&api));
    let text = report.to_string();
    assert!(text.contains("application.properties: spring.datasource.password"), "the setting is named");
    assert!(!text.contains("hunter2"), "the value never is");
}

#[test]
fn dash_vv_logs_the_requests_and_dash_v_only_progress() {
    let api = FakeApi::start("dash_vv_logs_the_requests_and_dash_v_only_progress", Settings::cluster("hardened"));
    let (_, _, requests) = scan_json(&api, &["--no-probes", "-vv"]);
    let lines: Vec<&str> = requests.lines().filter(|line| line.contains("/api/v1/nodes")).collect();
    assert!(!lines.is_empty(), "-vv names the requests: {requests}");
    assert!(!requests.contains('\u{1b}'), "no colour codes off a terminal: {requests:?}");
    // Control: -v logs progress without the requests.
    let (_, _, progress) = scan_json(&api, &["--no-probes", "-v"]);
    assert!(progress.contains("INFO"), "{progress}");
    assert!(!progress.contains("/api/v1/nodes"), "{progress}");
}
