//! Helpers shared by the integration tests: running the real binary, finding files.
#![allow(dead_code)] // Each test crate uses a different part of this module.

pub mod clusters;
pub mod etcd;
pub mod fake_api;
pub mod kubelet;
pub mod loopback;
pub mod old_tls;
pub mod pki;
pub mod sink;
pub mod terminal;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
/// Runs a future of the library to completion on a runtime of its own, as `main` does.
#[allow(dead_code)] // Not every test binary awaits the library.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime").block_on(future)
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The SARIF 2.1.0 schema, vendored under `testdata/schemas` (see its README).
///
/// The published schema's `language` patterns have a stray `]` that ECMA-262 reads as
/// a literal but Rust's regex engines reject, so the validator refuses the whole
/// schema. They are escaped here, which keeps their meaning; nothing else is touched.
pub fn sarif_schema() -> serde_json::Value {
    const PUBLISHED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const ESCAPED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$";
    fn escape(node: &mut serde_json::Value, count: &mut usize) {
        match node {
            serde_json::Value::String(text) if text == PUBLISHED => {
                ESCAPED.clone_into(text);
                *count += 1;
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|item| escape(item, count)),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(|value| escape(value, count)),
            _ => {}
        }
    }
    let path = repo().join("testdata/schemas/sarif-2.1.0.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("the SARIF schema must be at {}: {error}", path.display()));
    let mut schema: serde_json::Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    let mut count = 0;
    escape(&mut schema, &mut count);
    assert!(count > 0, "the schema no longer has the language pattern this works around: remove the workaround");
    schema
}

/// The committed JSON Schema of the report.
pub fn report_schema() -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo().join("docs/report.schema.json")).expect("docs/report.schema.json is committed");
    serde_json::from_str(&text).expect("the report schema is JSON")
}

/// Validates `instance` against `schema`, listing every violation.
pub fn assert_valid(schema: &serde_json::Value, instance: &serde_json::Value, what: &str) {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|error| format!("{} at {}", error, error.instance_path())).collect();
    assert!(errors.is_empty(), "{what} violates its schema:\n{}", errors.join("\n"));
}

/// Runs `seaworthy` in the repository root with a fixed clock and no colour.
pub fn seaworthy(args: &[&str]) -> Output {
    seaworthy_with(args, &[], None)
}

/// Runs `seaworthy` with extra environment variables and optional stdin.
pub fn seaworthy_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seaworthy"));
    command
        .args(args)
        .current_dir(repo())
        .env("SEAWORTHY_NOW", "2026-03-01T12:00:00Z")
        .env("NO_COLOR", "1")
        // The terminal report wraps at COLUMNS (else 100): the runner's must not change it.
        .env_remove("COLUMNS")
        // Sinks come from these too; the runner's own must not reach a test.
        .env_remove("SEAWORTHY_PUSH_METRICS")
        .env_remove("SEAWORTHY_WEBHOOK")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the seaworthy binary runs");
    if let Some(text) = stdin {
        child.stdin.take().expect("piped stdin").write_all(text.as_bytes()).expect("stdin accepts the manifests");
    }
    child.wait_with_output().expect("seaworthy exits")
}

/// The exit code, which must exist (no signal).
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("seaworthy exited normally")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// A directory for one test's files.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create fixture directory");
    }
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// The ids of the rules a JSON report says failed, sorted.
pub fn failing_rules(report: &serde_json::Value) -> Vec<String> {
    let mut failing: Vec<String> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|result| result["status"] == "fail")
        .map(|result| result["ruleId"].as_str().expect("ruleId").to_owned())
        .collect();
    failing.sort();
    failing
}

/// The ClusterRole shipped in `deploy/base/rbac.yaml`, as JSON (which is YAML too).
pub fn shipped_cluster_role() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("deploy/base/rbac.yaml")).expect("deploy/base/rbac.yaml");
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("rbac.yaml is YAML");
    documents.into_iter().find(|document| document["kind"] == "ClusterRole").expect("rbac.yaml has a ClusterRole")
}

/// `xmllint --noout --schema` of `xml` against the vendored Jenkins JUnit schema: Ok,
/// or what xmllint said.
pub fn junit_schema_check(xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("report.xml");
    std::fs::write(&path, xml).expect("the report is written");
    let schema = repo().join("testdata/schemas/junit-10.xsd");
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&path)
        .output()
        .expect("xmllint runs (scripts/test installs Debian's libxml2-utils)");
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

/// What an XPath expression counts in `xml` (xmllint --xpath).
pub fn xpath_count(xml: &str, expression: &str) -> usize {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("report.xml");
    std::fs::write(&path, xml).expect("the report is written");
    let output = std::process::Command::new("xmllint")
        .arg("--xpath")
        .arg(format!("count({expression})"))
        .arg(&path)
        .output()
        .expect("xmllint runs");
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or_else(|_| panic!("a count for {expression}"))
}

/// The facts and the report of a manifest scan with every built-in rule, read as the
/// binary's tests run it (the same fixed clock).
pub fn judged(manifests: &str) -> (seaworthy::facts::Facts, seaworthy::report::Report) {
    use seaworthy::scan::{self, FixedClock, Input};
    let config = seaworthy::config::Config::default();
    let catalog = scan::load_catalog(&[], &config, &[], &[]).expect("catalog");
    let clock = FixedClock("2026-03-01T12:00:00Z".parse().expect("timestamp"));
    let input = Input::Manifests {
        paths: vec![PathBuf::from(manifests)],
        max_bytes: seaworthy::source::manifests::DEFAULT_MAX_INPUT_BYTES,
        progress: false,
        exclude: Vec::new(),
        strict: true,
    };
    let (facts, source) = block_on(scan::read_facts(&input, &clock)).expect("the manifests read");
    let run = scan::Run { id: "00000000-0000-4000-8000-000000000000".into(), started_at: clock.0, progress: false };
    let report = scan::judge(&facts, source, &catalog, &config, &clock, run).expect("judged");
    (facts, report)
}
