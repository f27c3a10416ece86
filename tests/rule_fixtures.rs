//! Runs every built-in rule alone over its fixtures under `testdata/rules/<ID>/`:
//! each `pass/` case must pass, each `fail/` case must fail with findings, each
//! `inconclusive/` case must be `not_evaluated`. A rule without fixtures, a rule with an
//! `unknown` condition but no inconclusive case (or inconclusive cases but no `unknown`),
//! and a fixture directory that names no rule all fail the test (clippy's
//! missing-test-files check).
//!
//! Rules over probe evidence take `*.facts.yaml` cases: each names collections and the
//! fields of their items that matter to the case; the harness lays them over a
//! complete, secure item (see [`template`]) in an otherwise empty live facts document.

use std::path::{Path, PathBuf};

use seaworthy::config::{self, RuleInputs};
use seaworthy::engine::{self, Catalog, Status};
use seaworthy::facts::wire::{self, Probing};
use seaworthy::facts::{self, Facts, SourceKind};
use seaworthy::inventory::Inventory;
use seaworthy::scan::{self, FixedClock, Input};
use seaworthy::source::manifests::DEFAULT_MAX_INPUT_BYTES;
use serde_json::{Value, json};

fn now() -> jiff::Timestamp {
    "2026-03-01T00:00:00Z".parse().expect("a timestamp")
}

/// A check that was refused: the secure default of every port.
fn refused(request: &str, port: u16) -> Value {
    json!({"status": "closed", "failure": "refused", "port": port, "request": request, "httpStatus": 0,
        "reason": "connection refused", "detail": "", "evidence": format!("{request} → closed (connection refused)")})
}

/// A check answered with `status` and no body worth summarising.
fn answered(request: &str, port: u16, status: u16) -> Value {
    json!({"status": "open", "failure": "none", "port": port, "request": request, "httpStatus": status, "reason": "",
        "detail": "", "evidence": format!("{request} → {status}")})
}

/// A ClientHello that the server turned away with an alert.
fn hello_refused(request: &str, port: u16) -> Value {
    json!({"status": "closed", "failure": "handshake-refused", "port": port, "request": request, "httpStatus": 0,
        "reason": "TLS alert ProtocolVersion", "detail": "",
        "evidence": format!("{request} → closed (TLS alert ProtocolVersion)")})
}

/// A client certificate demanded: what mutual TLS answers to a client without one.
fn certificate_required(request: &str, port: u16) -> Value {
    json!({"status": "closed", "failure": "client-certificate-required", "port": port, "request": request,
        "httpStatus": 0, "reason": "TLS: the server requires a client certificate", "detail": "",
        "evidence": format!("{request} → closed (TLS: the server requires a client certificate)")})
}

/// A complete item of a probe collection, as a well-secured cluster shows it.
fn template(collection: &str) -> Value {
    let endpoint = |name: &str| json!({"kind": "Endpoint", "name": name});
    match collection {
        "apiservers" => json!({
            "subject": endpoint("kube-apiserver/10.0.0.1/6443"), "host": "10.0.0.1", "port": 6443, "origin": "fixture",
            "version": answered("GET https://10.0.0.1:6443/version", 6443, 401),
            "api": answered("GET https://10.0.0.1:6443/api", 6443, 401),
            "namespaces": answered("GET https://10.0.0.1:6443/api/v1/namespaces", 6443, 401),
            "metrics": answered("GET https://10.0.0.1:6443/metrics", 6443, 401),
            "pprof": answered("GET https://10.0.0.1:6443/debug/pprof/", 6443, 401),
            "anonymous": "off", "metricsExposure": "not-exposed", "pprofExposure": "not-exposed",
            "insecurePort": refused("GET http://10.0.0.1:8080/version", 8080),
            "reconciliation": "agree", "disagreements": []
        }),
        "etcd" => json!({
            "subject": endpoint("etcd/10.0.0.1/2379"), "host": "10.0.0.1", "port": 2379, "origin": "fixture",
            "plaintext": answered("GET http://10.0.0.1:2379/version", 2379, 400),
            "tls": certificate_required("GET https://10.0.0.1:2379/version", 2379),
            "metrics": answered("GET http://10.0.0.1:2379/metrics", 2379, 400),
            "metricsTls": certificate_required("GET https://10.0.0.1:2379/metrics", 2379),
            "pprof": answered("GET http://10.0.0.1:2379/debug/pprof/", 2379, 400),
            "pprofTls": certificate_required("GET https://10.0.0.1:2379/debug/pprof/", 2379),
            "metricsExposure": "not-exposed", "pprofExposure": "not-exposed",
            "peerPlaintext": answered("GET http://10.0.0.1:2380/version", 2380, 400),
            "peerTls": refused("GET https://10.0.0.1:2380/version", 2380),
            "clientCertAuth": "required", "peerTlsStatus": "on", "clusterCa": "separate",
            "serverCertificateIssuer": "CN=etcd-ca", "reconciliation": "agree", "disagreements": []
        }),
        "kubelets" => json!({
            "subject": endpoint("kubelet/10.0.0.5"), "node": "node1", "host": "10.0.0.5",
            "pods": answered("GET https://10.0.0.5:10250/pods", 10250, 401),
            "metrics": answered("GET https://10.0.0.5:10250/metrics/cadvisor", 10250, 401),
            "readOnlyPods": refused("GET http://10.0.0.5:10255/pods", 10255),
            "readOnlyMetrics": refused("GET http://10.0.0.5:10255/metrics/cadvisor", 10255),
            "cadvisor": refused("GET http://10.0.0.5:4194/", 4194),
            "anonymous": "off", "metricsAnonymous": "no", "servingCertificate": "ca-signed",
            "reconciliation": "agree", "disagreements": []
        }),
        "addonEndpoints" => json!({
            "subject": endpoint("tiller/10.96.0.20/44134"), "addon": "tiller", "host": "10.96.0.20", "port": 44134,
            "origin": "Service/kube-system/tiller-deploy clusterIP",
            "probe": {"status": "closed", "failure": "closed-without-answer", "port": 44134,
                "request": "HTTP/2 preface (plaintext) to 10.96.0.20:44134", "httpStatus": 0,
                "reason": "closed the connection without an answer", "detail": "",
                "evidence": "HTTP/2 preface (plaintext) to 10.96.0.20:44134 → closed (closed the connection without an answer)"},
            "listen": ":44134", "localhostOnly": false
        }),
        "componentEndpoints" => json!({
            "subject": endpoint("kube-scheduler/10.0.0.1/10259"), "component": "kube-scheduler", "host": "10.0.0.1",
            "port": 10259, "origin": "fixture",
            "metrics": answered("GET https://10.0.0.1:10259/metrics", 10259, 403),
            "configz": answered("GET https://10.0.0.1:10259/configz", 10259, 403),
            "metricsExposure": "not-exposed", "configzExposure": "not-exposed"
        }),
        "tlsEndpoints" => json!({
            "subject": endpoint("kube-apiserver/10.0.0.1/6443"), "component": "kube-apiserver", "host": "10.0.0.1",
            "port": 6443, "tls10": "refused", "tls11": "refused", "weakCipherSuites": "refused",
            "acceptedWeakSuite": "", "negotiated": "TLSv1_3 TLS13_AES_128_GCM_SHA256",
            "tls10Check": hello_refused("TLS ClientHello TLSv1_0 to 10.0.0.1:6443", 6443),
            "tls11Check": hello_refused("TLS ClientHello TLSv1_1 to 10.0.0.1:6443", 6443),
            "weakCipherSuitesCheck": hello_refused("TLS ClientHello TLSv1_2 with only weak cipher suites to 10.0.0.1:6443", 6443),
            "minVersionFlag": "VersionTLS12", "cipherSuitesFlag": [], "reconciliation": "agree", "disagreements": []
        }),
        "certificates" => json!({
            "subject": endpoint("kubelet/10.0.0.5/10250"), "endpoint": "https://10.0.0.5:10250", "component": "kubelet",
            "status": "seen", "reason": "",
            "certificate": {"subject": "CN=node1", "issuer": "CN=kubernetes", "dnsNames": ["node1"],
                "ipAddresses": ["10.0.0.5"], "notAfter": "2027-03-01T00:00:00Z", "daysLeft": 365, "selfSigned": false,
                "keyType": "EC", "keyBits": 256, "signatureAlgorithm": "ecdsa-with-SHA256", "weakSignature": false}
        }),
        other => panic!("no template for collection `{other}`"),
    }
}

/// Lays `patch` over `base`: objects merge key by key, anything else replaces.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, patch) => *base = patch,
    }
}

/// The committed facts schema (`docs/facts.schema.json`), compiled once.
fn facts_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/facts.schema.json");
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("the facts schema is committed"))
                .expect("the facts schema is JSON");
        jsonschema::validator_for(&schema).expect("the facts schema compiles")
    })
}

/// A live facts document (nothing probed) with the case's collections laid over it.
fn facts_case(case: &Path) -> Facts {
    let text = std::fs::read_to_string(case).expect("readable fixture");
    facts_from_patch(&text).unwrap_or_else(|error| panic!("{}: {error}", case.display()))
}

/// Lays a fixture's collections over a live facts document and checks the result
/// against the facts schema: a value outside a closed set is refused, as the rule
/// loader refuses it in a rule.
fn facts_from_patch(text: &str) -> Result<Facts, String> {
    let patch: serde_json::Map<String, Value> = serde_saphyr::from_str(text).map_err(|error| error.to_string())?;
    let mut facts = facts::build(Inventory::default(), SourceKind::Live);
    wire::attach(&mut facts, &Probing::Skipped("fixture".into()), now());
    let mut document = serde_json::to_value(&facts).expect("facts are JSON");
    for (collection, items) in patch {
        let items: Vec<Value> = items
            .as_array()
            .ok_or_else(|| format!("`{collection}` is not a list"))?
            .iter()
            .map(|item| {
                let mut full = template(&collection);
                merge(&mut full, item.clone());
                full
            })
            .collect();
        document[&collection] = json!({"status": "collected", "items": items});
    }
    let violations: Vec<String> =
        facts_schema().iter_errors(&document).map(|error| format!("{error} at {}", error.instance_path())).collect();
    if !violations.is_empty() {
        return Err(format!("violates docs/facts.schema.json: {}", violations.join("; ")));
    }
    serde_json::from_value(document).map_err(|error| format!("not a facts document: {error}"))
}

#[test]
fn a_fixture_with_a_value_outside_the_vocabulary_is_refused() {
    let error = facts_from_patch("kubelets:\n- {anonymous: of}\n").expect_err("`of` is no anonymous state");
    assert!(error.contains("violates docs/facts.schema.json") && error.contains("anonymous"), "{error}");
    // Control: a value of the vocabulary is accepted.
    assert!(facts_from_patch("kubelets:\n- {anonymous: allowed}\n").is_ok());
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rules")
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable fixture directory").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    files.sort();
    files
}

/// The status of the one rule of `alone` over one fixture, with its message for diagnostics.
fn judge(alone: &Catalog, case: &Path, inputs: &RuleInputs) -> (Status, usize, String) {
    let facts = if case.to_string_lossy().ends_with(".facts.yaml") {
        facts_case(case)
    } else {
        let input = Input::Manifests {
            paths: vec![case.to_path_buf()],
            max_bytes: DEFAULT_MAX_INPUT_BYTES,
            progress: false,
            exclude: Vec::new(),
            strict: true,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a tokio runtime");
        runtime
            .block_on(scan::read_facts(&input, &FixedClock(now())))
            .unwrap_or_else(|error| panic!("{}: {error}", case.display()))
            .0
    };
    let result = engine::evaluate(alone, &facts, inputs).remove(0);
    let detail = result.reason.clone().unwrap_or_else(|| {
        result.findings.iter().map(|finding| finding.message.clone()).collect::<Vec<_>>().join("; ")
    });
    (result.status, result.findings.len(), detail)
}

#[test]
fn every_rule_passes_fails_and_abstains_on_its_fixtures() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    let rule_count = catalog.rules.len();
    let mut problems = Vec::new();
    let mut judged = 0;
    for rule in catalog.rules {
        // The rule alone, as ruff's `for_rule` settings: no other rule can make a case fail.
        let alone = Catalog { rules: vec![rule] };
        let rule = &alone.rules[0];
        let dir = fixtures_root().join(&rule.id);
        let config = match std::fs::read_to_string(dir.join("config.yaml")) {
            Ok(text) => config::parse("config.yaml", &text).expect("fixture config parses"),
            Err(_) => config::Config::default(),
        };
        // Fixtures are judged on the harness's day, like probe certificates.
        let inputs = scan::rule_inputs(&config, &FixedClock(now()));
        let mut expectations = vec![("pass", Status::Pass), ("fail", Status::Fail)];
        if rule.unknown.is_some() {
            expectations.push(("inconclusive", Status::NotEvaluated));
        } else if !cases(&dir.join("inconclusive")).is_empty() {
            // Never judged, it would prove nothing: the rule has no way to abstain.
            problems.push(format!("{}: inconclusive fixtures, but the rule has no `unknown` condition", rule.id));
        }
        for (kind, expected) in expectations {
            let files = cases(&dir.join(kind));
            if files.is_empty() {
                problems.push(format!("{}: no {kind} fixture in {}", rule.id, dir.join(kind).display()));
            }
            for case in files {
                let (status, findings, detail) = judge(&alone, &case, &inputs);
                judged += 1;
                if status != expected || (expected == Status::Fail && findings == 0) {
                    problems.push(format!(
                        "{}: {} is {status:?}, expected {expected:?} ({detail})",
                        rule.id,
                        case.display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} fixture problem(s):\n{}", problems.len(), problems.join("\n"));
    assert!(judged >= 2 * rule_count, "every rule has at least a pass and a fail case");
}

#[test]
fn every_fixture_directory_names_a_rule() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    let orphans: Vec<String> = std::fs::read_dir(fixtures_root())
        .expect("testdata/rules exists")
        .map(|entry| entry.expect("readable").file_name().to_string_lossy().into_owned())
        .filter(|name| catalog.get(name).is_none())
        .collect();
    assert!(orphans.is_empty(), "fixture directories without a rule: {orphans:?}");
}
