//! Drift between scans, through the real binary: `seaworthy diff` sorts findings into
//! new, resolved, still failing, now excepted and no longer judged (a rule that could
//! not run again never counts as a fix), and `scan --baseline` marks findings in JSON
//! and SARIF and lets `--fail-on-new` gate on new ones only.

mod support;

use std::path::{Path, PathBuf};

use support::{assert_valid, code, repo, report_schema, sarif_schema, scratch, seaworthy, stderr, stdout, write};

/// A copy of the weak example that a test may change.
fn weak_copy(dir: &Path) -> PathBuf {
    let cluster = dir.join("cluster");
    std::fs::create_dir(&cluster).expect("a cluster directory");
    for entry in std::fs::read_dir(repo().join("testdata/clusters/weak")).expect("the weak example") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), cluster.join(entry.file_name())).expect("a copy");
    }
    cluster
}

/// Removes the YAML document that names `name` from `file`.
fn remove_document(file: &Path, name: &str) {
    let text = std::fs::read_to_string(file).expect("the manifest");
    let kept: Vec<&str> =
        text.split("\n---\n").filter(|document| !document.contains(&format!("name: {name}"))).collect();
    assert!(kept.len() < text.split("\n---\n").count(), "{name} is in {}", file.display());
    std::fs::write(file, kept.join("\n---\n")).expect("the manifest is written");
}

/// Scans `cluster` as JSON into `dir/<name>.json`.
fn scan_into(dir: &Path, name: &str, cluster: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["scan", "--manifests", cluster.to_str().expect("UTF-8"), "-o", "json"];
    args.extend_from_slice(extra);
    let output = seaworthy(&args);
    assert_ne!(code(&output), 2, "{}", stderr(&output));
    write(dir, &format!("{name}.json"), &stdout(&output))
}

fn path(file: &Path) -> &str {
    file.to_str().expect("UTF-8")
}

/// `rule subject-name` of each change in a drift list.
fn changes(drift: &serde_json::Value, list: &str) -> Vec<String> {
    drift[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|change| {
            format!(
                "{} {}",
                change["ruleId"].as_str().expect("a rule"),
                change["subject"]["name"].as_str().expect("a name")
            )
        })
        .collect()
}

/// The weak example scanned twice: in between, the debug-shell Pod is deleted,
/// IMAGE-004 starts running, NS-003 stops running and shop's NS-002 gets an exception.
fn two_scans(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let cluster = weak_copy(dir);
    let old = scan_into(dir, "old", &cluster, &["--ignore", "IMAGE-004"]);
    remove_document(&cluster.join("workloads.yaml"), "debug-shell");
    let config = write(
        dir,
        "seaworthy.yaml",
        "exceptions:\n  - rule: NS-002\n    subject: {kind: Namespace, name: shop}\n    reason: egress is open by design\n    owner: shop-team\n",
    );
    let new = scan_into(dir, "new", &cluster, &["--ignore", "NS-003", "--config", path(&config)]);
    (cluster, old, new)
}

#[test]
fn diff_sorts_every_finding_and_exits_1_on_a_regression() {
    let dir = scratch();
    let (_, old, new) = two_scans(dir.path());
    let output = seaworthy(&["diff", path(&old), path(&new), "-o", "json"]);
    assert_eq!(code(&output), 1, "a new finding is a regression: {}", stderr(&output));
    let drift: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");

    assert_eq!(changes(&drift, "newFindings"), ["IMAGE-004 docker.io/library/nginx:latest"]);
    let resolved = changes(&drift, "resolved");
    for rule in ["POD-001", "POD-002", "POD-003", "POD-005", "POD-006", "IMAGE-002"] {
        assert!(resolved.contains(&format!("{rule} debug-shell")), "{rule} debug-shell in {resolved:?}");
    }
    // Every finding of the deleted pod is resolved, and nothing else is.
    assert!(resolved.iter().all(|finding| finding.ends_with(" debug-shell")), "{resolved:?}");
    assert_eq!(changes(&drift, "nowExcepted"), ["NS-002 shop"]);
    assert_eq!(changes(&drift, "noLongerJudged"), ["NS-003 kubernetes-dashboard", "NS-003 shop"]);
    let old_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old).expect("old")).expect("JSON");
    let old_findings: usize = old_report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["findings"].as_array().expect("f").len())
        .sum();
    let still = changes(&drift, "stillFailing").len();
    assert_eq!(still + resolved.len() + 1 + 2, old_findings, "every old finding is accounted for exactly once");
    assert_eq!(drift["old"]["runId"], old_report["runId"]);

    let table = seaworthy(&["diff", path(&old), path(&new)]);
    assert_eq!(code(&table), 1);
    let text = stdout(&table);
    let resolved_heading = format!("RESOLVED ({})", resolved.len());
    for expected in
        ["NEW (1)", &resolved_heading, "NOW EXCEPTED (1)", "NO LONGER JUDGED (2)", "REGRESSION: 1 new finding(s)"]
    {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
}

#[test]
fn diff_without_new_findings_or_a_lower_score_exits_0() {
    let dir = scratch();
    let (_, old, new) = two_scans(dir.path());
    // Backwards: IMAGE-004 disappears (its rule did not run: no longer judged), the
    // debug-shell findings come back (new).
    let output = seaworthy(&["diff", path(&new), path(&old), "-o", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let same = seaworthy(&["diff", path(&old), path(&old)]);
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    assert!(stdout(&same).contains("No regression"), "{}", stdout(&same));
}

#[test]
fn diff_refuses_other_clusters_and_files_that_are_not_reports() {
    let dir = scratch();
    let weak = scan_into(dir.path(), "weak", &repo().join("testdata/clusters/weak"), &[]);
    let hardened = scan_into(dir.path(), "hardened", &repo().join("testdata/clusters/hardened"), &[]);
    let output = seaworthy(&["diff", path(&weak), path(&hardened)]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("different clusters"), "{}", stderr(&output));
    let sarif = write(
        dir.path(),
        "scan.sarif",
        &stdout(&seaworthy(&["scan", "--manifests", "testdata/clusters/weak", "-o", "sarif"])),
    );
    for (file, expected) in
        [(sarif.as_path(), "is not a seaworthy JSON report"), (Path::new("/no/such/file.json"), "cannot read")]
    {
        let output = seaworthy(&["diff", path(file), path(&weak)]);
        assert_eq!(code(&output), 2);
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
}

#[test]
fn a_baseline_marks_findings_in_json_and_sarif() {
    let dir = scratch();
    let (cluster, old, _) = two_scans(dir.path());
    let cluster = path(&cluster);
    let output = seaworthy(&["scan", "--manifests", cluster, "--baseline", path(&old), "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_valid(&report_schema(), &report, "a report with a baseline");
    let baseline = &report["baseline"];
    // Resolved: every finding the old scan made on the deleted debug-shell pod.
    let old_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old).expect("old")).expect("JSON");
    let on_debug_shell = old_report["results"]
        .as_array()
        .expect("results")
        .iter()
        .flat_map(|result| result["findings"].as_array().expect("findings"))
        .filter(|finding| finding["subject"]["name"] == "debug-shell")
        .count();
    assert!(on_debug_shell >= 6, "the pod fails POD-001 … IMAGE-002 at least");
    assert_eq!(
        (baseline["new"].as_u64(), baseline["resolved"].as_u64()),
        (Some(1), Some(on_debug_shell as u64)),
        "{baseline}"
    );
    let mut marks = std::collections::BTreeMap::new();
    for result in report["results"].as_array().expect("results") {
        for finding in result["findings"].as_array().expect("findings") {
            let mark = finding["baseline"].as_str().expect("every finding is marked").to_owned();
            marks.entry(mark).or_insert_with(Vec::new).push(result["ruleId"].as_str().expect("id").to_owned());
        }
    }
    assert_eq!(marks["new"], ["IMAGE-004"]);
    assert_eq!(marks["unchanged"].len() as u64, baseline["unchanged"].as_u64().expect("a count"));

    let output = seaworthy(&["scan", "--manifests", cluster, "--baseline", path(&old), "-o", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("SARIF");
    assert_valid(&sarif_schema(), &sarif, "SARIF with baseline states");
    let run = &sarif["runs"][0];
    let old_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old).expect("old")).expect("JSON");
    assert_eq!(run["baselineGuid"], old_report["runId"]);
    let new_results: Vec<&str> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|result| result["baselineState"] == "new")
        .map(|result| result["ruleId"].as_str().expect("id"))
        .collect();
    assert_eq!(new_results, ["IMAGE-004"]);
    assert!(run["results"].as_array().expect("results").iter().all(|result| result["baselineState"].is_string()));

    let table = seaworthy(&["scan", "--manifests", cluster, "--baseline", path(&old)]);
    let marked =
        stdout(&table).lines().filter(|line| line.starts_with("  [new] ")).map(str::to_owned).collect::<Vec<_>>();
    assert!(!marked.is_empty() && marked.iter().all(|line| line.contains(": Image ")), "{}", stdout(&table));
}

#[test]
fn fail_on_new_gates_only_on_new_findings() {
    let dir = scratch();
    let (cluster, old, _) = two_scans(dir.path());
    let cluster = path(&cluster);
    let current = scan_into(dir.path(), "current", Path::new(cluster), &[]);
    // The weak cluster fails the gate, but nothing is new against itself.
    let plain = seaworthy(&["scan", "--manifests", cluster, "--baseline", path(&current)]);
    assert_eq!(code(&plain), 1);
    let only_new = seaworthy(&["scan", "--manifests", cluster, "--baseline", path(&current), "--fail-on-new"]);
    assert_eq!(code(&only_new), 0, "{}", stderr(&only_new));
    // Against the older scan, IMAGE-004 (critical) is new.
    let regressed = seaworthy(&[
        "scan",
        "--manifests",
        cluster,
        "--baseline",
        path(&old),
        "--fail-on-new",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code(&regressed), 1, "{}", stderr(&regressed));

    let missing = seaworthy(&["scan", "--manifests", cluster, "--baseline", "/no/such/report.json"]);
    assert_eq!(code(&missing), 2);
    assert!(stdout(&missing).is_empty(), "a bad baseline stops the scan before it starts");
}

#[test]
fn reports_of_the_previous_layout_are_still_read_and_future_ones_refused() {
    let dir = scratch();
    let weak = scan_into(dir.path(), "weak", &repo().join("testdata/clusters/weak"), &[]);
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&weak).expect("the report")).expect("JSON");
    assert_eq!(report["schemaVersion"], 2);
    // Layout 1 always had a numeric score; it reads as a baseline.
    report["schemaVersion"] = 1.into();
    let older = write(dir.path(), "v1.json", &report.to_string());
    let output = seaworthy(&["diff", path(&older), path(&weak)]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    report["schemaVersion"] = 3.into();
    let newer = write(dir.path(), "v3.json", &report.to_string());
    let output = seaworthy(&["diff", path(&newer), path(&weak)]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("schemaVersion 3, this seaworthy reads 1 to 2"), "{}", stderr(&output));
}
