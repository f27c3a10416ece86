//! Runs every built-in rule alone over its fixtures under `testdata/rules/<ID>/`:
//! each `pass/` case must pass, each `fail/` case must fail with findings, each
//! `inconclusive/` case must be `not_evaluated`. A rule without fixtures, a rule with an
//! `unknown` condition but no inconclusive case, and a fixture directory that names no
//! rule all fail the test (clippy's missing-test-files check).

use std::path::{Path, PathBuf};

use seaworthy::config::{self, RuleInputs};
use seaworthy::engine::{self, Catalog, Status};
use seaworthy::scan::{self, Input};

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
    let (facts, _) = scan::read_facts(&Input::Manifests(vec![case.to_path_buf()]))
        .unwrap_or_else(|error| panic!("{}: {error}", case.display()));
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
        let inputs = match std::fs::read_to_string(dir.join("config.yaml")) {
            Ok(text) => RuleInputs::from(&config::parse("config.yaml", &text).expect("fixture config parses")),
            Err(_) => RuleInputs::default(),
        };
        let mut expectations = vec![("pass", Status::Pass), ("fail", Status::Fail)];
        if rule.unknown.is_some() {
            expectations.push(("inconclusive", Status::NotEvaluated));
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
