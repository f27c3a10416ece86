//! The command line through the real binary: exit codes, one-line errors, inputs,
//! snapshots, exceptions and the machine-readable outputs against their schemas.

mod support;

use support::{
    assert_valid, code, failing_rules, report_schema, sarif_schema, scratch, seaworthy, seaworthy_with, stderr, stdout,
    write,
};

const WEAK: &str = "testdata/clusters/weak";
const HARDENED: &str = "testdata/clusters/hardened";

fn json_report(args: &[&str]) -> serde_json::Value {
    let output = seaworthy(args);
    assert!(matches!(code(&output), 0 | 1), "scan ran: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("the JSON report parses")
}

fn assert_one_line_error(stderr: &str, needle: &str) {
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("seaworthy: error: "), "{stderr}");
    assert!(stderr.contains(needle), "`{needle}` in: {stderr}");
}

#[test]
fn weak_example_fails_the_gate_with_a_graded_report() {
    let output = seaworthy(&["scan", "--manifests", WEAK]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("grade F"), "{text}");
    assert!(text.contains("critical[RBAC-001]: "), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when stdout is not a terminal");
}

#[test]
fn hardened_example_scores_higher_and_has_no_critical_or_high_failure() {
    let weak = json_report(&["scan", "--manifests", WEAK, "-o", "json"]);
    let hardened = json_report(&["scan", "--manifests", HARDENED, "-o", "json"]);
    assert!(hardened["score"]["overall"].as_f64() > weak["score"]["overall"].as_f64());
    let severities: std::collections::BTreeMap<String, String> = hardened["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|rule| {
            (rule["id"].as_str().expect("id").to_owned(), rule["severity"].as_str().expect("severity").to_owned())
        })
        .collect();
    let severe: Vec<String> = failing_rules(&hardened)
        .into_iter()
        .filter(|id| matches!(severities[id].as_str(), "critical" | "high"))
        .collect();
    assert!(severe.is_empty(), "hardened example fails {severe:?}");
    let output = seaworthy(&["scan", "--manifests", HARDENED]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn weak_example_fails_the_rules_it_was_built_to_fail() {
    let report = json_report(&["scan", "--manifests", WEAK, "-o", "json"]);
    let failing = failing_rules(&report);
    for expected in [
        "APISERVER-001",
        "APISERVER-003",
        "APISERVER-004",
        "ETCD-001",
        "ETCD-002",
        "RBAC-001",
        "RBAC-002",
        "RBAC-005",
        "ADDON-001",
        "IMAGE-001",
        "POD-001",
        "POD-003",
        "POD-005",
        "NS-001",
        "NS-003",
        "HA-001",
        "HA-003",
        "NODE-001",
        "DNS-001",
        "DNS-002",
    ] {
        assert!(
            failing.contains(&expected.to_owned()),
            "{expected} should fail on the weak example; failing: {failing:?}"
        );
    }
}

#[test]
fn fail_on_and_min_score_set_the_exit_code() {
    assert_eq!(code(&seaworthy(&["scan", "--manifests", WEAK, "--fail-on", "none"])), 0);
    assert_eq!(code(&seaworthy(&["scan", "--manifests", HARDENED, "--fail-on", "low"])), 0);
    assert_eq!(code(&seaworthy(&["scan", "--manifests", WEAK, "--fail-on", "none", "--min-score", "50"])), 1);
    assert_eq!(code(&seaworthy(&["scan", "--manifests", HARDENED, "--min-score", "90"])), 0);
}

/// The last line of stderr: the gate's word on the exit code.
fn last_line(output: &std::process::Output) -> String {
    stderr(output).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn the_gate_says_what_decided_the_exit_code() {
    let weak = seaworthy(&["scan", "--manifests", WEAK, "-o", "json"]);
    assert_eq!(code(&weak), 1);
    let line = last_line(&weak);
    assert!(
        line.starts_with("seaworthy: gate failed: ") && line.ends_with("finding(s) at or above high (--fail-on high)"),
        "{line}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&weak)).expect("JSON");
    let gate = &report["gate"];
    assert_eq!(gate["verdict"], "fail");
    assert_eq!(gate["thresholds"]["failOn"], "high");
    let counted = line.trim_start_matches("seaworthy: gate failed: ").split(' ').next().expect("a count");
    assert_eq!(gate["reasons"][0].as_str().expect("a reason").split(' ').next(), Some(counted));

    let score =
        seaworthy(&["scan", "--manifests", WEAK, "--fail-on", "none", "--min-score", "50", "--min-coverage", "90"]);
    assert_eq!(
        (code(&score), last_line(&score).as_str()),
        (1, "seaworthy: gate failed: score 0.0 below --min-score 50")
    );
    let coverage = seaworthy(&["scan", "--manifests", WEAK, "--fail-on", "none", "--min-coverage", "90"]);
    assert_eq!(
        (code(&coverage), last_line(&coverage).as_str()),
        (3, "seaworthy: gate incomplete: coverage 78.1% below --min-coverage 90")
    );
    let hardened = seaworthy(&["scan", "--manifests", HARDENED]);
    assert_eq!(
        (code(&hardened), last_line(&hardened).as_str()),
        (0, "seaworthy: gate passed: no finding at or above high (--fail-on high)")
    );
    let empty = scratch();
    let nothing = seaworthy(&["scan", "--manifests", empty.path().to_str().expect("UTF-8 path"), "-o", "json"]);
    assert_eq!(code(&nothing), 3);
    assert!(last_line(&nothing).starts_with("seaworthy: gate incomplete: nothing judged: "), "{}", last_line(&nothing));
    let report: serde_json::Value = serde_json::from_str(&stdout(&nothing)).expect("JSON");
    assert_eq!(report["gate"]["verdict"], "incomplete");
}

#[test]
fn coverage_below_the_minimum_exits_3() {
    // A chart-like bundle: no nodes, no namespaces, no RBAC, so most rules cannot be judged.
    let dir = scratch();
    let chart = write(
        dir.path(),
        "deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000\n        securityContext: {allowPrivilegeEscalation: false}\n",
    );
    let path = chart.to_str().expect("UTF-8 path");
    let output = seaworthy(&["scan", "--manifests", path, "--min-coverage", "90", "-o", "json"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let not_evaluated = report["coverage"]["notEvaluated"].as_array().expect("list");
    assert!(
        not_evaluated
            .iter()
            .any(|entry| entry["reason"].as_str().is_some_and(|reason| reason.contains("not part of this source")))
    );
    assert!(report["score"]["coverage"].as_f64().expect("coverage") < 90.0);
    assert_eq!(code(&seaworthy(&["scan", "--manifests", path, "--min-coverage", "0"])), 0);
}

/// A Deployment that parses.
const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: 'web:1'}]}\n";

#[test]
fn exclude_leaves_paths_out_of_a_manifest_scan() {
    let dir = scratch();
    write(dir.path(), "app/web.yaml", WEB);
    write(dir.path(), "charts/broken/templates/web.yaml", "kind: [unclosed\n");
    let root = dir.path().to_str().expect("UTF-8 path");
    // Control: the broken file is reported and makes the scan incomplete.
    let output = seaworthy(&["scan", "--manifests", root, "-o", "json"]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains("charts/broken/templates/web.yaml:1:7: not read"), "{}", stderr(&output));
    // Left out by a glob below the directory given, the rest is judged and nothing is unread.
    let output = seaworthy(&["scan", "--manifests", root, "--exclude", "charts/**", "-o", "json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert!(report["results"].to_string().contains("web"), "the Deployment is judged");
    assert!(report["source"].get("unparsed").is_none(), "{}", report["source"]);
    // A glob on the path as shown works too; a pattern that is no glob is a usage error.
    let shown = format!("{root}/charts/**");
    assert_ne!(code(&seaworthy(&["scan", "--manifests", root, "--exclude", &shown])), 2);
    let output = seaworthy(&["scan", "--manifests", root, "--exclude", "charts/[unclosed"]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "--exclude charts/[unclosed");
}

#[test]
fn charts_and_kustomizations_are_skipped_with_how_to_render_them() {
    let dir = scratch();
    write(dir.path(), "plain/web.yaml", WEB);
    write(dir.path(), "chart/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 1.0.0\n");
    write(
        dir.path(),
        "chart/templates/web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    write(dir.path(), "overlay/kustomization.yaml", "resources: [../plain]\npatches: [{path: patch.yaml}]\n");
    write(
        dir.path(),
        "overlay/patch.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n",
    );
    let root = dir.path().to_str().expect("UTF-8 path");
    let output = seaworthy(&["scan", "--manifests", root, "-o", "json"]);
    assert_ne!(code(&output), 2, "{}", stderr(&output));
    let warnings = stderr(&output);
    let chart = dir.path().join("chart");
    assert!(
        warnings.contains(&format!("a Helm chart, not objects: render it first (`helm template {}", chart.display())),
        "{warnings}"
    );
    assert!(warnings.contains("a kustomization, not objects: render it first (`kubectl kustomize"), "{warnings}");
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let workloads: Vec<String> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .flat_map(|result| result["findings"].as_array().into_iter().flatten())
        .filter(|finding| finding["subject"]["kind"] == "Deployment")
        .filter_map(|finding| finding["location"]["file"].as_str().map(str::to_owned))
        .collect();
    assert!(!workloads.is_empty() && workloads.iter().all(|file| file.ends_with("plain/web.yaml")), "{workloads:?}");
}

#[test]
fn missing_path_is_a_one_line_error() {
    let output = seaworthy(&["scan", "--manifests", "does/not/exist.yaml"]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "cannot read does/not/exist.yaml");
}

#[test]
fn a_manifest_that_does_not_parse_is_reported_and_the_scan_goes_on() {
    let dir = scratch();
    write(dir.path(), "app/web.yaml", WEB);
    let bad = write(dir.path(), "app/bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n");
    let invalid = write(
        dir.path(),
        "app/invalid.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {replicas: many}\n",
    );
    let template =
        write(dir.path(), "app/tpl.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n");
    let root = dir.path().to_str().expect("UTF-8 path");
    let output = seaworthy(&["scan", "--manifests", root, "-o", "json"]);
    // The scan goes on: a report, and the gate is at best incomplete.
    assert!(matches!(code(&output), 1 | 3), "{}", stderr(&output));
    let warnings = stderr(&output);
    assert!(warnings.contains(&format!("{}:4:", bad.display())), "{warnings}");
    assert!(warnings.contains(&format!("{}:5:", invalid.display())), "{warnings}");
    assert!(warnings.contains(&format!("{}:1: skipped: a Helm template", template.display())), "{warnings}");
    assert!(warnings.contains("helm template"), "{warnings}");
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let unparsed: Vec<(String, u64)> = report["source"]["unparsed"]
        .as_array()
        .expect("source.unparsed")
        .iter()
        .map(|entry| {
            (
                entry["location"]["file"].as_str().unwrap_or("").to_owned(),
                entry["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(unparsed, vec![(bad.display().to_string(), 4), (invalid.display().to_string(), 5)], "{unparsed:?}");
    // What did parse is judged: the Deployment of web.yaml and the Namespace beside the invalid object.
    let judged = |kind: &str, name: &str| {
        report["results"].as_array().expect("results").iter().any(|result| {
            result["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|finding| finding["subject"]["kind"] == kind && finding["subject"]["name"] == name)
        })
    };
    assert!(judged("Deployment", "web"), "web.yaml is judged");
    assert!(!judged("Deployment", "api"), "the object that does not parse is not judged");
    let reasons = report["gate"]["reasons"].to_string();
    assert!(reasons.contains("2 document(s) could not be read"), "{reasons}");
    assert!(warnings.trim_end().lines().last().is_some_and(|line| line.starts_with("seaworthy: gate")), "{warnings}");
}

#[test]
fn strict_stops_at_the_first_manifest_that_does_not_parse() {
    let dir = scratch();
    let bad = write(dir.path(), "bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n");
    let path = bad.to_str().expect("UTF-8");
    let output = seaworthy(&["scan", "--manifests", path, "--strict"]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), &format!("{}:4:", bad.display()));
    // Control: without --strict the same file is reported, and nothing judged is incomplete.
    let output = seaworthy(&["scan", "--manifests", path]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("{}:4:", bad.display())), "{}", stderr(&output));
}

#[test]
fn broken_rule_file_names_file_and_line() {
    let dir = scratch();
    write(
        dir.path(),
        "custom/TEAM-001.yaml",
        "id: TEAM-001\ntitle: t\nseverity: high\ncategory: security\neach: workloads\nrequire: it.replicaz > 1\nmessage: m\nrationale: r\nremediation: r\n",
    );
    let rules = dir.path().join("custom");
    let output = seaworthy(&["scan", "--manifests", WEAK, "--rules", rules.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "TEAM-001.yaml:6: require: unknown field `replicaz`");
}

#[test]
fn custom_rules_run_beside_the_built_in_ones() {
    let dir = scratch();
    write(
        dir.path(),
        "TEAM-001.yaml",
        "id: TEAM-001\ntitle: Workload has a single replica\nseverity: low\ncategory: availability\neach: workloads\nwhen: it.replicas != null\nrequire: it.replicas > 1\nmessage: \"{{it.subject.name}} has {{it.replicas}} replica\"\nrationale: One replica is one failure away from an outage.\nremediation: Run two or more.\n",
    );
    let report = json_report(&[
        "scan",
        "--manifests",
        WEAK,
        "-o",
        "json",
        "--rules",
        dir.path().to_str().expect("UTF-8"),
        "--select",
        "TEAM-*",
    ]);
    assert_eq!(report["rules"].as_array().map(Vec::len), Some(1));
    assert_eq!(failing_rules(&report), vec!["TEAM-001"]);
    let message = &report["results"][0]["findings"][0]["message"];
    assert_eq!(message, "coredns has 1 replica");
}

#[test]
fn unknown_rule_in_select_is_an_error() {
    let output = seaworthy(&["scan", "--manifests", WEAK, "--select", "NOPE-001"]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "--select: no rule matches `NOPE-001`");
}

#[test]
fn no_source_means_a_live_cluster_and_a_missing_kubeconfig_is_a_clear_error() {
    let dir = scratch();
    let missing = dir.path().join("no-kubeconfig");
    let missing = missing.to_str().expect("UTF-8");
    let output = seaworthy_with(&["scan"], &[("KUBECONFIG", missing), ("KUBERNETES_SERVICE_HOST", "")], None);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "kubeconfig: failed to read kubeconfig");
}

#[test]
fn stdin_is_read_with_dash_like_helm_template_output() {
    let manifest = std::fs::read_to_string(support::repo().join(WEAK).join("workloads.yaml")).expect("fixture");
    let output =
        seaworthy_with(&["scan", "--manifests", "-", "-o", "json", "--select", "IMAGE-001"], &[], Some(&manifest));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let finding = &report["results"][0]["findings"][0];
    assert_eq!(finding["location"]["file"], "<stdin>");
    assert!(finding["location"]["line"].as_u64() > Some(0));
}

#[test]
fn a_snapshot_judges_like_the_manifests_it_was_taken_from() {
    let dir = scratch();
    let snapshot = dir.path().join("weak.facts.json");
    let snapshot_path = snapshot.to_str().expect("UTF-8");
    let output = seaworthy(&["snapshot", "--manifests", WEAK, "--output-file", snapshot_path]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let direct = json_report(&["scan", "--manifests", WEAK, "-o", "json"]);
    let judged = json_report(&["scan", "--snapshot", snapshot_path, "-o", "json"]);
    assert_eq!(direct["results"], judged["results"]);
    assert_eq!(direct["score"], judged["score"]);
    assert_eq!(judged["source"]["kind"], "snapshot");
}

#[test]
fn dash_o_names_the_format_everywhere_and_a_path_there_gets_a_hint() {
    let dir = scratch();
    let path = dir.path().join("weak.facts.json");
    let shown = path.to_str().expect("UTF-8");
    let output = seaworthy(&["snapshot", "--manifests", WEAK, "-o", shown]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains(&format!("write the file with --output-file {shown}")), "{}", stderr(&output));
    assert!(!path.exists() && !dir.path().join("json").exists(), "no file named after the format or the path");
    // Control: `-o json` is the format, and without --output-file the snapshot is stdout.
    let output = seaworthy(&["snapshot", "--manifests", WEAK, "-o", "json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let facts: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("the snapshot on stdout");
    assert_eq!(facts["cluster"]["name"], "manifests");
    let rules = seaworthy(&["rules", "-o", "json"]);
    assert_eq!(code(&rules), 0, "{}", stderr(&rules));
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout(&rules))
            .expect("JSON")
            .as_array()
            .is_some_and(|rules| rules.len() >= 160)
    );
}

#[test]
fn a_snapshot_of_another_version_is_refused() {
    let dir = scratch();
    let old = write(dir.path(), "old.json", "{\"schemaVersion\": 0}");
    let output = seaworthy(&["scan", "--snapshot", old.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "not a seaworthy snapshot: facts schemaVersion 0");
}

#[test]
fn exceptions_apply_until_they_expire() {
    let dir = scratch();
    let config = write(
        dir.path(),
        "seaworthy.yaml",
        "exceptions:\n  - rule: IMAGE-001\n    subject: {namespace: shop}\n    reason: vendor images are pinned next quarter\n    owner: shop-team\n    expires: 2026-06-30\n",
    );
    let config = config.to_str().expect("UTF-8");
    let args = ["scan", "--manifests", WEAK, "-o", "json", "--config", config, "--select", "IMAGE-001"];
    let before = seaworthy_with(&args, &[("SEAWORTHY_NOW", "2026-06-30T23:59:59Z")], None);
    let report: serde_json::Value = serde_json::from_str(&stdout(&before)).expect("JSON");
    let result = &report["results"][0];
    assert_eq!(report["exceptions"][0]["state"], "applied");
    let excepted = result["excepted"].as_array().expect("excepted").len();
    assert!(excepted >= 2, "the shop findings are excepted");
    let after = seaworthy_with(&args, &[("SEAWORTHY_NOW", "2026-07-01T00:00:00Z")], None);
    let report: serde_json::Value = serde_json::from_str(&stdout(&after)).expect("JSON");
    assert_eq!(report["exceptions"][0]["state"], "expired");
    assert_eq!(report["exceptions"][0]["findings"], excepted);
    assert!(report["results"][0]["excepted"].as_array().expect("excepted").is_empty());
    // The terminal names the exception's subject in words, with its reason and owner.
    let terminal_args = ["scan", "--manifests", WEAK, "--config", config, "--select", "IMAGE-001"];
    let table = stdout(&seaworthy_with(&terminal_args, &[("SEAWORTHY_NOW", "2026-06-30T23:59:59Z")], None));
    let flat = table.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("applied IMAGE-001 for namespace shop: vendor images are pinned next quarter — owner shop-team, expires 2026-06-30"),
        "{table}"
    );
    assert!(!table.contains("{\""), "no subject as raw JSON: {table}");
}

#[test]
fn json_output_validates_against_the_committed_schema() {
    let schema = report_schema();
    for example in [WEAK, HARDENED] {
        let report = json_report(&["scan", "--manifests", example, "-o", "json"]);
        assert_valid(&schema, &report, example);
    }
}

#[test]
fn sarif_output_validates_and_every_result_is_located_and_fingerprinted() {
    let schema = sarif_schema();
    let output = seaworthy(&["scan", "--manifests", WEAK, "-o", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("SARIF is JSON");
    assert_valid(&schema, &log, "SARIF log");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() > 20);
    for result in results {
        let physical = &result["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
        // Objects have their manifest; cluster-wide findings (HA-002, …) have no one file.
        let cluster_wide = result["locations"][0]["logicalLocations"][0]["kind"] == "cluster";
        let expected =
            if cluster_wide { "k8s/manifests/_cluster/Cluster/manifests" } else { "testdata/clusters/weak/" };
        assert!(uri.starts_with(expected), "{uri} should start with {expected}");
        assert!(physical["region"]["startLine"].as_u64() >= Some(1));
        assert!(result["partialFingerprints"]["primaryLocationLineHash"].as_str().is_some_and(|hash| hash.len() == 64));
        assert!(!result["locations"][0]["logicalLocations"].as_array().expect("logical").is_empty());
    }
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert!(rule["help"]["markdown"].as_str().is_some());
    assert!(rule["properties"]["security-severity"].as_str().is_some());
}

#[test]
fn sarif_from_stdin_uses_pseudo_paths() {
    let manifest = std::fs::read_to_string(support::repo().join(WEAK).join("addons.yaml")).expect("fixture");
    let output =
        seaworthy_with(&["scan", "--manifests", "-", "-o", "sarif", "--select", "RBAC-*"], &[], Some(&manifest));
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("SARIF is JSON");
    assert_valid(&sarif_schema(), &log, "SARIF log");
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|result| result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains(&"k8s/manifests/kubernetes-dashboard/ServiceAccount/kubernetes-dashboard"), "{uris:?}");
    assert!(uris.contains(&"k8s/manifests/_cluster/ClusterRoleBinding/anonymous-view"), "{uris:?}");
}

#[test]
fn output_file_receives_the_report() {
    let dir = scratch();
    let file = dir.path().join("report.sarif");
    let output =
        seaworthy(&["scan", "--manifests", WEAK, "-o", "sarif", "--output-file", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 1);
    assert!(stdout(&output).is_empty());
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    assert_eq!(log["version"], "2.1.0");
}

#[test]
fn rules_lists_at_least_35_and_explain_shows_one() {
    let output = seaworthy(&["rules", "--format", "json"]);
    assert_eq!(code(&output), 0);
    let rules: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert!(rules.as_array().expect("list").len() >= 35);
    let output = seaworthy(&["explain", "etcd-002"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).contains("etcd does not require client certificates"));
    let output = seaworthy(&["explain", "NOPE-001"]);
    assert_eq!(code(&output), 2);
}

#[test]
fn only_the_selected_rules_are_compiled() {
    // A team rule whose expression does not compile (an unknown field): it is an
    // error wherever it is part of the scan, and costs nothing when it is not.
    let dir = scratch();
    write(
        dir.path(),
        "TEAM-001.yaml",
        "id: TEAM-001\ntitle: t\nseverity: low\ncategory: operations\neach: workloads\nrequire: it.replicaz > 1\nmessage: m\nrationale: r\nremediation: r\n",
    );
    let rules = dir.path().to_str().expect("UTF-8");
    let selected = seaworthy(&["scan", "--manifests", WEAK, "--rules", rules, "--select", "POD-001", "-o", "json"]);
    assert_eq!(code(&selected), 1, "POD-001 fails on the weak example: {}", stderr(&selected));
    let report: serde_json::Value = serde_json::from_str(&stdout(&selected)).expect("the JSON report parses");
    assert_eq!(report["results"].as_array().map(Vec::len), Some(1));
    // Control: in the selection, the same file is a load error naming its line.
    for args in [vec!["scan", "--manifests", WEAK, "--rules", rules], vec!["rules", "--rules", rules]] {
        let output = seaworthy(&args);
        assert_eq!(code(&output), 2, "{args:?}: {}", stdout(&output));
        assert_one_line_error(&stderr(&output), "TEAM-001.yaml:6: require: unknown field `replicaz`");
    }
    // An id the selection names must still exist, compiled or not.
    let typo = seaworthy(&["scan", "--manifests", WEAK, "--rules", rules, "--select", "TEAM-002"]);
    assert_one_line_error(&stderr(&typo), "--select: no rule matches `TEAM-002`");
}

#[test]
fn the_terminal_report_says_why_subjects_are_inconclusive_and_shows_passed_rules_on_request() {
    let dir = scratch();
    write(dir.path(), "app/web.yaml", WEB);
    write(
        dir.path(),
        "rules/TEAM-001.yaml",
        "id: TEAM-001\ntitle: Workload image is unverified\nseverity: low\ncategory: security\neach: workloads\nunknown: \"true\"\nrequire: \"true\"\nmessage: m\nevidence:\n  signature: \"'registry timed out after 3s'\"\nrationale: r\nremediation: r\n",
    );
    let (manifests, rules) = (dir.path().join("app"), dir.path().join("rules"));
    let args = ["scan", "--manifests", manifests.to_str().expect("UTF-8"), "--rules", rules.to_str().expect("UTF-8")];
    let output = seaworthy_with(&args, &[("COLUMNS", "80")], None);
    let text = stdout(&output);
    let group =
        text.lines().find(|line| line.contains("evidence inconclusive for 1 subject(s)")).expect("a group line");
    assert!(group.contains("TEAM-001"), "{text}");
    let why = "web.yaml:1: Deployment app/web: inconclusive: signature registry timed out after 3s";
    assert!(text.split_whitespace().collect::<Vec<_>>().join(" ").contains(why), "{text}");
    assert!(text.lines().all(|line| line.chars().count() <= 80 || line.split_whitespace().count() == 1), "{text}");
    // Passed rules only on request.
    assert!(!text.contains("\npassed ("), "{text}");
    let shown = stdout(&seaworthy_with(&[&args[..], &["--show", "passed"]].concat(), &[("COLUMNS", "80")], None));
    let passed = shown.split("\npassed (").nth(1).expect("a passed section");
    assert!(passed.lines().nth(1).is_some_and(|line| line.starts_with("  ") && line.contains('-')), "{passed}");
}

#[test]
fn compliance_views_show_each_control_with_its_status_and_rules() {
    let report = json_report(&["scan", "--manifests", WEAK, "-o", "json"]);
    let views = report["compliance"].as_array().expect("compliance");
    let ids: Vec<&str> = views.iter().filter_map(|view| view["framework"].as_str()).collect();
    assert_eq!(ids, ["cis", "nsa", "pss-baseline", "pss-restricted"], "the JSON report carries every framework");
    let cis = &views[0];
    assert_eq!(cis["version"], "v1.9.0");
    let control = |id: &str| {
        cis["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|section| section["controls"].as_array().into_iter().flatten())
            .find(|control| control["id"] == id)
            .unwrap_or_else(|| panic!("control {id}"))
            .clone()
    };
    // Weak: anonymous auth on, a control that must be checked on the node, one no rule covers,
    // and one whose probe rules cannot run on manifests.
    assert_eq!(control("1.2.1")["status"], "fail");
    assert!(control("1.2.1")["rules"].to_string().contains("APISERVER-001"));
    assert_eq!(control("1.1.1")["status"], "manual");
    assert!(control("1.1.1")["reason"].as_str().is_some_and(|reason| reason.contains("shell on each node")));
    assert_eq!(control("1.2.3")["status"], "notCovered");
    // Counts add up to the controls.
    let total: u64 = cis["counts"].as_object().expect("counts").values().filter_map(serde_json::Value::as_u64).sum();
    let controls = cis["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|section| section["controls"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert_eq!(total, controls as u64);
    // The terminal shows the frameworks asked for, and only those.
    let text = stdout(&seaworthy(&["scan", "--manifests", WEAK, "--framework", "pss-restricted"]));
    assert!(text.contains("Pod Security Standards, Restricted Kubernetes v1.34"), "{text}");
    assert!(
        text.lines().any(|line| line.trim_start().starts_with("fail") && line.contains("Privileged Containers:")),
        "{text}"
    );
    assert!(!text.contains("CIS Kubernetes Benchmark"), "{text}");
    let hardened = stdout(&seaworthy(&["scan", "--manifests", HARDENED, "--framework", "pss-restricted"]));
    let view = hardened.split("Pod Security Standards, Restricted").nth(1).expect("the view");
    assert!(!view.lines().any(|line| line.trim_start().starts_with("fail ")), "{view}");
}

#[test]
fn junit_stays_valid_xml_whatever_the_cluster_names_things() {
    let dir = scratch();
    let pod = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web</failure><script>x</script>\\u001b[2J\", \"namespace\": \"app&amp\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"web:1\", \"securityContext\": {\"privileged\": true}}]}}\n";
    let file = write(dir.path(), "pod.yaml", pod);
    let output = seaworthy(&["scan", "--manifests", file.to_str().expect("UTF-8"), "-o", "junit"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let xml = stdout(&output);
    support::junit_schema_check(&xml).expect("valid against the Jenkins JUnit schema");
    assert!(xml.contains("web&lt;/failure&gt;&lt;script&gt;x&lt;/script&gt;\\u{1b}[2J"), "{xml}");
    assert!(xml.contains("app&amp;amp/"), "{xml}");
    assert!(!xml.contains('\u{1b}'), "no raw control character");
    assert_eq!(
        support::xpath_count(&xml, "//failure[contains(., 'Pod app&amp/web')]"),
        support::xpath_count(&xml, "//testcase[failure]")
    );
}

#[test]
fn rules_fit_the_terminal_width() {
    let width = |columns: &str| {
        let output = seaworthy_with(&["rules"], &[("COLUMNS", columns)], None);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        stdout(&output).lines().map(|line| line.chars().count()).max().unwrap_or(0)
    };
    assert!(width("72") <= 72, "at 72 columns: {}", width("72"));
    // Control: a wide terminal gets the titles on one line.
    assert!(width("200") > 100, "at 200 columns: {}", width("200"));
    // Not a terminal and no COLUMNS: 100.
    let output = seaworthy(&["rules"]);
    assert!(stdout(&output).lines().all(|line| line.chars().count() <= 100), "{}", stdout(&output));
}

#[test]
fn usage_errors_are_one_line_with_a_hint() {
    let cases: [(&[&str], &str, &str); 4] = [
        (&["scan", "--bogus"], "unexpected argument '--bogus'", "hint: see `seaworthy scan --help`"),
        (&["scan", "-o", "htm"], "invalid value 'htm' for '--output <FORMAT>'", "a similar value exists: 'html'"),
        (&["scan", "--fail-on"], "a value is required for '--fail-on <FAIL_ON>'", "possible values: critical"),
        (&["nonsense"], "unrecognized subcommand 'nonsense'", "hint: see `seaworthy --help`"),
    ];
    for (args, error, hint) in cases {
        let output = seaworthy(args);
        assert_eq!(code(&output), 2, "{args:?}");
        assert_one_line_error(&stderr(&output), error);
        assert!(stderr(&output).contains(hint), "{args:?}: {}", stderr(&output));
    }
    // Control: help and version are not errors and keep their pages.
    let help = seaworthy(&["scan", "--help"]);
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).lines().count() > 20, "{}", stdout(&help));
    assert_eq!(code(&seaworthy(&["--version"])), 0);
}

#[test]
fn verbose_logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    // NO_COLOR is removed: only "stderr is not a terminal" may turn the colour off.
    let run = |flag: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_seaworthy"));
        command
            .args([flag, "scan", "--manifests", WEAK, "-o", "json"])
            .current_dir(support::repo())
            .env("SEAWORTHY_NOW", "2026-03-01T12:00:00Z")
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::null());
        let output = command.output().expect("seaworthy runs");
        String::from_utf8(output.stderr).expect("UTF-8")
    };
    let progress = run("-v");
    assert!(progress.contains("INFO") && progress.contains("catalog loaded"), "{progress}");
    assert!(!progress.contains('\u{1b}'), "no colour codes: {progress:?}");
    let debug = run("-vv");
    assert!(debug.contains("INFO seaworthy::scan: manifests read"), "-vv names the module: {debug}");
    assert!(!debug.contains('\u{1b}'), "no colour codes: {debug:?}");
}

#[test]
fn completions_and_man_pages_come_from_the_command_line_definition() {
    let bash = seaworthy(&["completions", "bash"]);
    assert_eq!(code(&bash), 0, "{}", stderr(&bash));
    let script = stdout(&bash);
    for word in ["scan", "snapshot", "--framework", "--strict", "junit", "pss-restricted"] {
        assert!(script.contains(word), "bash completes {word}");
    }
    // The script is valid bash.
    let dir = scratch();
    let path = write(dir.path(), "seaworthy.bash", &script);
    let checked = std::process::Command::new("bash").arg("-n").arg(&path).output().expect("bash runs");
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    for (shell, framework) in
        [("zsh", "--framework"), ("fish", "-l framework"), ("powershell", "--framework"), ("elvish", "--framework")]
    {
        let output = seaworthy(&["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}");
        assert!(stdout(&output).contains(framework), "{shell} completes --framework");
    }
    // Control: a shell clap_complete does not know is a usage error.
    assert_eq!(code(&seaworthy(&["completions", "tcsh"])), 2);
    let main = stdout(&seaworthy(&["man"]));
    assert!(main.contains(".TH seaworthy 1") && main.contains(".SH NAME"), "{main}");
    let scan = stdout(&seaworthy(&["man", "scan"]));
    assert!(scan.contains(".TH seaworthy-scan 1") && scan.contains("\\fB\\-\\-framework\\fR"), "{scan}");
    let output = seaworthy(&["man", "nope"]);
    assert_eq!(code(&output), 2);
    assert_one_line_error(&stderr(&output), "no subcommand `nope`");
}
