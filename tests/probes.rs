//! Probes end to end, through the real binary: the `weak` and `hardened` fixture
//! clusters are served by the fake API server with their node addresses moved to this
//! test's own loopback addresses, where real etcd, fake kubelets, a plaintext gRPC
//! Tiller and the API server's insecure port listen (or do not). Secure and insecure
//! clusters stand side by side, so a pass cannot come from probes that see nothing.

mod support;

use std::net::{IpAddr, SocketAddr};

use support::clusters::{CONTROL_PLANE_PORTS, NODE_PORTS, hardened_with, ip};
use support::etcd::{Etcd, Mode};
use support::fake_api::{FakeApi, Settings};
use support::kubelet::{Behaviour, Listeners};
use support::old_tls::OldTls;
use support::{code, failing_rules, seaworthy_with, stderr, stdout};

/// The clock the scans run with: kubelet certificates are minted relative to it.
const NOW: &str = "2026-11-22T12:00:00Z";

fn scan(api: &FakeApi, format: &str, extra: &[&str]) -> std::process::Output {
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8 path");
    let mut args = vec!["scan", "--kubeconfig", kubeconfig, "--read-kubelet-config", "-o", format];
    args.extend_from_slice(extra);
    seaworthy_with(&args, &[("SEAWORTHY_NOW", NOW)], None)
}

fn result<'a>(report: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|result| result["ruleId"] == rule)
        .unwrap_or_else(|| panic!("{rule} ran"))
}

fn status<'a>(report: &'a serde_json::Value, rule: &str) -> &'a str {
    result(report, rule)["status"].as_str().expect("a status")
}

fn messages(report: &serde_json::Value, rule: &str) -> Vec<String> {
    result(report, rule)["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|finding| finding["message"].as_str().expect("a message").to_owned())
        .collect()
}

const PROBE_RULES: &[&str] = &[
    "APISERVER-016",
    "APISERVER-017",
    "APISERVER-018",
    "APISERVER-019",
    "ETCD-009",
    "ETCD-010",
    "ETCD-011",
    "ETCD-012",
    "ETCD-013",
    "KUBELET-001",
    "KUBELET-002",
    "KUBELET-003",
    "KUBELET-004",
    "KUBELET-005",
    "KUBELET-006",
    "KUBELET-007",
    "CERT-001",
    "CERT-002",
    "CERT-003",
    "ADDON-002",
];

/// The weak cluster, live: plaintext etcd, anonymous API and kubelets, the insecure
/// port, Tiller without TLS, and a kubelet certificate nine days from expiry.
struct Weak {
    api: FakeApi,
    control_plane: IpAddr,
    _etcd: Etcd,
    _listeners: Listeners,
    _controller_manager: OldTls,
}

fn weak(test: &str) -> Weak {
    let control_plane = ip(test, "cp1", CONTROL_PLANE_PORTS);
    let node2 = ip(test, "node2", NODE_PORTS);
    let node3 = ip(test, "node3", NODE_PORTS);
    let tiller = ip(test, "tiller", &[44134, 443]);
    let mut settings = Settings::cluster("weak");
    settings.rewrite = vec![
        ("127.0.10.1".into(), control_plane.to_string()),
        ("127.0.10.2".into(), node2.to_string()),
        ("127.0.10.3".into(), node3.to_string()),
        ("127.0.10.4".into(), tiller.to_string()),
        // The Dashboard Service's address: nothing listens there.
        ("127.0.10.5".into(), tiller.to_string()),
    ];
    settings.anonymous = 200;
    settings.anonymous_reads = true;
    settings.insecure_port = true;
    let api = FakeApi::start_at(SocketAddr::new(control_plane, 6443), settings);
    let etcd = Etcd::start_at(control_plane, Mode::Plain);
    let listeners = Listeners::new();
    listeners.kubelet(control_plane, &Behaviour::weak());
    listeners.kubelet(node2, &Behaviour::weak());
    listeners.kubelet(node3, &Behaviour { not_after: (2026, 12, 1), ..Behaviour::weak() });
    listeners.plaintext_grpc(SocketAddr::new(tiller, 44134));
    // The controller manager still takes TLS 1.0 and weak suites, and answers anyone;
    // the scheduler serves /metrics and /configz anonymously.
    let controller_manager = OldTls::start(SocketAddr::new(control_plane, 10257));
    listeners.component(SocketAddr::new(control_plane, 10259), 200);
    Weak { api, control_plane, _etcd: etcd, _listeners: listeners, _controller_manager: controller_manager }
}

#[test]
fn weak_cluster_probed_shows_etcd_apiserver_and_kubelet_evidence() {
    let cluster = weak("probes_weak_evidence");
    let cp = cluster.control_plane;
    // The stand-ins answer on the Services' addresses, as they would from inside.
    let output = scan(&cluster.api, "json", &["--probe-service-addresses"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    let failing = failing_rules(&report);
    for rule in [
        "ETCD-009",
        "ETCD-010",
        "ETCD-011",
        "APISERVER-016",
        "APISERVER-017",
        "APISERVER-018",
        "KUBELET-001",
        "KUBELET-002",
        "KUBELET-003",
        "KUBELET-004",
        "KUBELET-005",
        "KUBELET-006",
        "CERT-002",
        "ADDON-002",
    ] {
        assert!(failing.iter().any(|id| id == rule), "{rule} fails on the weak cluster: {failing:?}");
    }
    // The flags of the weak pods say what the wire shows: nothing to reconcile.
    for rule in ["APISERVER-019", "ETCD-013", "KUBELET-007", "CERT-001", "CERT-003"] {
        assert_eq!(status(&report, rule), "pass", "{rule}: {}", result(&report, rule));
    }
    assert_eq!(status(&report, "ETCD-012"), "not_applicable", "plaintext etcd has no certificate to compare");

    // What was sent and what came back, in the messages.
    assert_eq!(messages(&report, "ETCD-009"), vec![format!("GET http://{cp}:2379/version → 200, version 3.4.23")]);
    assert!(
        messages(&report, "KUBELET-001")
            .contains(&format!("node cp1: GET http://{cp}:10255/pods → 200, 3 pods listed")),
        "{:?}",
        messages(&report, "KUBELET-001")
    );
    assert_eq!(
        messages(&report, "APISERVER-018"),
        vec![format!("GET http://{cp}:8080/version → 200, version v1.31.1")]
    );
    assert_eq!(
        messages(&report, "APISERVER-016"),
        vec![format!(
            "{cp}:6443 answered without credentials: GET https://{cp}:6443/api/v1/namespaces → 200, 3 namespaces listed"
        )]
    );
    let expiring = messages(&report, "CERT-002");
    assert_eq!(expiring.len(), 1, "only node3's certificate expires soon: {expiring:?}");
    assert!(expiring[0].contains("which expires in 8 day(s) (2026-12-01T00:00:00Z)"), "{expiring:?}");
    // Structured evidence in JSON, and the facts behind it.
    let finding = &result(&report, "KUBELET-002")["findings"][0];
    assert_eq!(finding["evidence"]["httpStatus"], 200);
    assert_eq!(finding["subject"]["kind"], "Endpoint");
    // The etcd the API server names as 127.0.0.1 is probed on its own node, not here.
    // The new wire evidence: TLS 1.0 and a weak suite on the controller manager, its
    // /configz and the scheduler's /metrics to anyone, etcd's profiler in plaintext.
    for rule in ["TLS-001", "TLS-002", "CM-007", "SCHED-004", "ETCD-014", "ETCD-015"] {
        assert_eq!(status(&report, rule), "fail", "{rule}: {}", result(&report, rule));
    }
    assert_eq!(
        messages(&report, "TLS-001"),
        vec![format!(
            "kube-controller-manager/{cp}/10257: TLS ClientHello TLSv1_0 to {cp}:10257 → ServerHello TLSv1_0, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        )]
    );
    assert_eq!(
        messages(&report, "ETCD-014"),
        vec![format!("{cp}:2379: GET http://{cp}:2379/debug/pprof/ → 200, profiling index served")]
    );
    assert!(
        messages(&report, "SCHED-004")[0].contains(&format!("GET https://{cp}:10259/metrics → 200")),
        "{:?}",
        messages(&report, "SCHED-004")
    );
    let requests = cluster.api.requests();
    assert!(
        requests.iter().any(|request| request.path == "/api/v1/namespaces" && !request.authenticated),
        "the API server was asked without credentials"
    );
    assert!(requests.iter().all(|request| request.method == "GET" || request.path.ends_with("accessreviews")));
}

#[test]
fn from_outside_the_cluster_service_addresses_are_not_probed() {
    let cluster = weak("probes_weak_outside");
    let output = scan(&cluster.api, "json", &["-v"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    // Tiller and the Dashboard listen on Service addresses: from a machine outside the
    // cluster those belong to whatever else is on its network, so they are left out of
    // the plan, and what they would have shown is unknown, not safe.
    let (status_of, reason) = (status(&report, "ADDON-002"), result(&report, "ADDON-002")["reason"].clone());
    assert_eq!(status_of, "not_evaluated", "{reason}");
    let reason = reason.as_str().expect("a reason");
    assert!(reason.contains("service addresses are reachable only from inside the cluster"), "{reason}");
    assert!(reason.contains(":44134, ") && reason.ends_with(":443)"), "the two addresses left out: {reason}");
    // The report lists them, with where they came from and why, as its schema says.
    support::assert_valid(&support::report_schema(), &report, "the report of a scan from outside");
    let not_probed = report["source"]["notProbed"].as_array().expect("the targets left out");
    let kinds: Vec<&str> = not_probed.iter().map(|target| target["kind"].as_str().expect("a kind")).collect();
    assert_eq!(kinds, vec!["tiller", "dashboard"], "{not_probed:?}");
    assert_eq!(not_probed[0]["port"], 44134);
    assert!(not_probed[0]["origin"].as_str().is_some_and(|origin| origin.ends_with("clusterIP")), "{not_probed:?}");
    assert!(
        not_probed[0]["reason"]
            .as_str()
            .is_some_and(|reason| reason.starts_with("service addresses are reachable only")),
        "{not_probed:?}"
    );
    let log = stderr(&output);
    assert!(log.contains("left_out=2"), "the plan says what it left out: {log}");
    assert_eq!(log.lines().filter(|line| line.contains("not probed")).count(), 2, "{log}");
    // Everything else the cluster names is still probed from outside.
    assert!(failing_rules(&report).iter().any(|id| id == "KUBELET-001"), "the kubelets were probed");
}

#[test]
fn weak_cluster_evidence_reaches_the_table_and_sarif() {
    let cluster = weak("probes_weak_outputs");
    let cp = cluster.control_plane;
    let table = scan(&cluster.api, "table", &[]);
    // The Findings column, with its cells' wrapping (even inside words) undone.
    let text = stdout(&table).split_whitespace().collect::<String>();
    let unwrapped = |line: String| line.split_whitespace().collect::<String>();
    for line in [
        format!("GET http://{cp}:2379/version → 200, version 3.4.23"),
        format!("GET http://{cp}:10255/pods → 200, 3 pods listed"),
        format!("GET https://{cp}:6443/api/v1/namespaces → 200, 3 namespaces listed"),
    ] {
        assert!(text.contains(&unwrapped(line.clone())), "{line} in the table:\n{}", stdout(&table));
    }

    let sarif = scan(&cluster.api, "sarif", &[]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&sarif)).expect("a SARIF log");
    support::assert_valid(&support::sarif_schema(), &log, "SARIF with probe evidence");
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("a URI"))
        .collect();
    for expected in [format!("_endpoints/etcd/{cp}/2379"), format!("_endpoints/kubelet/{cp}")] {
        assert!(uris.contains(&expected.as_str()), "{expected} in {uris:?}");
    }
}

/// The hardened cluster, live: mutual-TLS etcd with its own CA on the first
/// control-plane node, API servers refusing anonymous requests, kubelets with
/// CA-signed certificates and nothing on 10255 or 4194. With `etcd_shares_cluster_ca`,
/// etcd's certificates come from the CA published in kube-root-ca.crt; `black_hole`
/// names a node whose kubelet ports accept connections and never answer.
fn hardened(test: &str, etcd_shares_cluster_ca: bool, black_hole: Option<&str>) -> (FakeApi, Etcd, Listeners) {
    hardened_with(test, etcd_shares_cluster_ca, black_hole, Mode::MutualTls, 401)
}

#[test]
fn hardened_cluster_probed_passes_every_probe_rule() {
    let (api, _etcd, _listeners) = hardened("probes_hardened", false, None);
    let output = scan(&api, "json", &[]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    let failing = failing_rules(&report);
    for rule in PROBE_RULES {
        assert!(
            !failing.iter().any(|id| id == rule),
            "{rule} fails on the hardened cluster: {}",
            result(&report, rule)
        );
    }
    for rule in ["ETCD-009", "ETCD-010", "ETCD-011", "ETCD-012", "APISERVER-016", "APISERVER-017", "KUBELET-001"] {
        assert_eq!(status(&report, rule), "pass", "{rule}: {}", result(&report, rule));
    }
    for rule in ["KUBELET-002", "KUBELET-006", "KUBELET-007", "CERT-001", "CERT-002", "CERT-003", "APISERVER-019"] {
        assert_eq!(status(&report, rule), "pass", "{rule}: {}", result(&report, rule));
    }
    assert_eq!(status(&report, "ADDON-002"), "not_applicable", "no Tiller Service");
    // The wire checks of TLS versions, suites, /metrics and /debug/pprof/ pass on the
    // secure stand-ins (real etcd with AEAD suites only, rustls servers).
    for rule in ["TLS-001", "TLS-002", "ETCD-014", "ETCD-015", "APISERVER-020", "APISERVER-021", "CM-007", "SCHED-004"]
    {
        assert_eq!(status(&report, rule), "pass", "{rule}: {}", result(&report, rule));
    }
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn etcd_with_a_certificate_from_the_cluster_ca_is_found() {
    // The control to the hardened test: the same cluster, but kube-root-ca.crt is the CA
    // that issued etcd's certificate.
    let (api, etcd, _listeners) = hardened("probes_etcd_shares_cluster_ca", true, None);
    let output = scan(&api, "json", &[]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    assert_eq!(status(&report, "ETCD-012"), "fail", "{}", result(&report, "ETCD-012"));
    assert_eq!(
        messages(&report, "ETCD-012"),
        vec![format!("{}:2379 presents a certificate issued by the cluster CA (CN=etcd-ca)", etcd.client.ip())]
    );
}

#[test]
fn flags_contradicted_by_the_wire_are_findings() {
    // The hardened pods say --anonymous-auth=false and --client-cert-auth=true; here the
    // API server answers anonymous requests 403 and etcd serves TLS to anyone.
    let (api, etcd, _listeners) = hardened_with("probes_flags_contradicted", false, None, Mode::Tls, 403);
    let output = scan(&api, "json", &[]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    let etcd_host = etcd.client.ip();
    let api_host = api.address.ip();
    assert_eq!(status(&report, "ETCD-009"), "pass", "TLS: no plaintext");
    assert_eq!(
        messages(&report, "ETCD-010"),
        vec![format!(
            "{etcd_host}:2379 answered a client that presented no certificate: GET https://{etcd_host}:2379/version → 200, version 3.4.23"
        )]
    );
    assert_eq!(
        messages(&report, "ETCD-013"),
        vec![format!(
            "{etcd_host}:2379: --client-cert-auth=true over https, but without a client certificate: GET https://{etcd_host}:2379/version → 200, version 3.4.23"
        )]
    );
    assert_eq!(status(&report, "APISERVER-016"), "pass", "403 is not 200");
    assert_eq!(status(&report, "APISERVER-017"), "fail", "403: anonymous authentication is on");
    let contradicted = messages(&report, "APISERVER-019");
    assert_eq!(contradicted.len(), 1, "{contradicted:?}");
    assert!(
        contradicted[0].starts_with(&format!(
            "{api_host}:6443: --anonymous-auth=false, but without credentials: GET https://{api_host}:6443/api → 403"
        )),
        "{contradicted:?}"
    );
}

#[test]
fn a_black_hole_kubelet_is_never_a_pass() {
    let (api, _etcd, _listeners) = hardened("probes_black_hole", false, Some("worker3"));
    let output = scan(&api, "json", &["--probe-timeout", "1s", "--probe-connect-timeout", "1s"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    for rule in ["KUBELET-001", "KUBELET-002", "KUBELET-004", "KUBELET-006"] {
        let result = result(&report, rule);
        assert_eq!(result["status"], "not_evaluated", "{rule}: {result}");
        assert_eq!(result["reason"], "evidence inconclusive for 1 subject(s)", "{rule}");
    }
    assert_eq!(status(&report, "CERT-001"), "not_evaluated", "a handshake that never came is not a valid certificate");
}

#[test]
fn no_probes_leaves_probe_rules_not_evaluated_and_sends_nothing() {
    let cluster = weak("probes_turned_off");
    let output = scan(&cluster.api, "json", &["--no-probes"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    for rule in PROBE_RULES {
        let result = result(&report, rule);
        assert_eq!(result["status"], "not_evaluated", "{rule}");
        assert!(result["reason"].as_str().expect("a reason").contains("probes turned off (--no-probes)"), "{result}");
    }
    assert!(
        cluster.api.requests().iter().all(|request| request.authenticated),
        "no anonymous probe reached the API server"
    );
}

#[test]
fn a_probe_target_given_by_hand_is_probed() {
    // The hardened fixture names no Tiller; one is added by hand.
    let (api, _etcd, listeners) = hardened("probes_manual_target", false, None);
    let tiller = SocketAddr::new(ip("probes_manual_target", "tiller", &[44134]), 44134);
    listeners.plaintext_grpc(tiller);
    let output = scan(&api, "json", &["--probe-target", &format!("{tiller}=tiller")]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    assert_eq!(
        messages(&report, "ADDON-002"),
        vec![format!(
            "--probe-target: HTTP/2 preface (plaintext) to {tiller} → answered with an HTTP/2 SETTINGS frame, without TLS"
        )]
    );
    let bad = scan(&api, "json", &["--probe-target", "10.0.0.1=etcd"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("is not HOST:PORT=KIND"), "{}", stderr(&bad));
}
