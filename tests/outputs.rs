//! Snapshots of what people and pipelines read: the table, the JSON report and the
//! SARIF log of the weak example, with a fixed clock and run id. The tool version is
//! redacted so that a release does not churn the snapshots.

mod support;

use std::path::PathBuf;

use seaworthy::config::Config;
use seaworthy::report::{self, Report, terminal};
use seaworthy::scan::{self, FixedClock, Input};
use seaworthy::source::manifests::DEFAULT_MAX_INPUT_BYTES;

const RUN_ID: &str = "00000000-0000-4000-8000-000000000000";

/// The weak example judged by the rules matching `select` (relative paths: tests run
/// in the package root, so locations are stable across machines).
fn weak_report(select: &[&str]) -> Report {
    let select: Vec<String> = select.iter().map(|pattern| (*pattern).to_owned()).collect();
    let config = Config::default();
    let catalog = scan::load_catalog(&[], &config, &select, &[]).expect("catalog");
    let clock = FixedClock("2026-03-01T12:00:00Z".parse().expect("timestamp"));
    let (facts, source) = support::block_on(scan::read_facts(
        &Input::Manifests {
            paths: vec![PathBuf::from("testdata/clusters/weak")],
            max_bytes: DEFAULT_MAX_INPUT_BYTES,
            progress: false,
            exclude: Vec::new(),
            strict: true,
        },
        &clock,
    ))
    .expect("weak example reads");
    let run = scan::Run { id: RUN_ID.into(), started_at: clock.0, progress: false };
    scan::judge(&facts, source, &catalog, &config, &clock, run).expect("judged")
}

fn redact_version(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

fn terminal(report: &Report, colour: bool, width: usize) -> String {
    let style = terminal::Style { colour, width };
    redact_version(&terminal::render(report, style, &terminal::Show::default()))
}

#[test]
fn terminal_report_of_the_weak_example_at_80_and_120_columns() {
    let report = weak_report(&[]);
    insta::assert_snapshot!("weak_terminal_80", terminal(&report, false, 80));
    insta::assert_snapshot!("weak_terminal_120", terminal(&report, false, 120));
    insta::assert_snapshot!("weak_terminal_80_colour", terminal(&report, true, 80));
    insta::assert_snapshot!("weak_terminal_120_colour", terminal(&report, true, 120));
}

#[test]
fn colour_changes_nothing_but_the_styles() {
    let report = weak_report(&[]);
    for width in [80, 120] {
        let coloured = terminal(&report, true, width);
        assert!(coloured.contains("\u{1b}["), "colour was asked for");
        assert_eq!(support::terminal::unstyled(&coloured), terminal(&report, false, width), "at {width} columns");
    }
}

#[test]
fn the_terminal_report_wraps_at_its_width_and_never_inside_a_word() {
    let report = weak_report(&[]);
    for width in [80, 100, 120] {
        let text = terminal(&report, false, width);
        for line in text.lines() {
            let columns = line.chars().count();
            // A line is only wider when it is one word that does not fit after its indent.
            let words = line.split_whitespace().count();
            assert!(
                columns <= width || words == 1 || line.trim_start().starts_with(['?', '-']) && words <= 2,
                "{width}: {line}"
            );
        }
        // Every place and every flag of a finding is on one line, whole.
        let findings = report.results.iter().flat_map(|result| result.findings.iter().take(10));
        for finding in findings {
            if let Some(location) = &finding.location {
                let place = format!("{}:{}:", location.file, location.line);
                assert!(text.lines().any(|line| line.contains(&place)), "{width}: {place} is split");
            }
            for word in finding.message.split_whitespace().filter(|word| word.starts_with("--") || word.contains("://"))
            {
                assert!(
                    text.lines().any(|line| line.split_whitespace().any(|shown| shown == word)),
                    "{width}: {word} is split"
                );
            }
        }
    }
    // Control: the weak example has a flag-and-URL word the check looks for.
    assert!(terminal(&report, false, 80).contains("--etcd-servers=http://127.0.0.1:2379"));
}

#[test]
fn the_terminal_report_groups_what_was_not_evaluated_by_reason() {
    let report = weak_report(&[]);
    let text = terminal(&report, false, 100);
    let section = text.split("not evaluated — missing evidence never counts as a pass (29)").nth(1).expect("section");
    let reasons: Vec<&str> = section
        .lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| !line.starts_with("      "))
        .collect();
    assert_eq!(reasons.len(), 1, "one reason, one line: {reasons:?}");
    for missing in &report.coverage.not_evaluated {
        assert!(section.split_whitespace().any(|word| word == missing.rule_id), "{} is listed", missing.rule_id);
    }
}

#[test]
fn json_of_the_weak_example() {
    let text = report::json::render(&weak_report(&["ETCD-*", "RBAC-*", "HA-*"]));
    insta::assert_snapshot!("weak_json", redact_version(&text));
}

#[test]
fn sarif_of_the_weak_example() {
    let text = report::sarif::render(&weak_report(&["ETCD-*", "RBAC-*", "HA-*"]), support::repo());
    insta::assert_snapshot!("weak_sarif", redact_version(&text));
}

#[test]
fn same_input_gives_byte_identical_output() {
    let first = report::json::render(&weak_report(&[]));
    let second = report::json::render(&weak_report(&[]));
    assert_eq!(first, second);
    let first = report::sarif::render(&weak_report(&[]), support::repo());
    let second = report::sarif::render(&weak_report(&[]), support::repo());
    assert_eq!(first, second);
}

#[test]
fn junit_of_the_weak_example_is_valid_and_has_a_case_per_rule() {
    let report = weak_report(&[]);
    let xml = report::junit::render(&report);
    support::junit_schema_check(&xml).expect("valid against the Jenkins JUnit schema");
    assert_eq!(support::xpath_count(&xml, "//testsuite"), 4, "one suite per category");
    assert_eq!(support::xpath_count(&xml, "//testcase"), report.results.len(), "one case per rule");
    assert_eq!(support::xpath_count(&xml, "//testcase[failure]"), report.summary.fail);
    assert_eq!(
        support::xpath_count(&xml, "//testcase[skipped]"),
        report.summary.not_evaluated + report.summary.not_applicable
    );
    assert_eq!(
        support::xpath_count(&xml, "//skipped[starts-with(@message, 'not evaluated: ')]"),
        report.summary.not_evaluated
    );
    // A failure carries each finding with its place.
    assert!(xml.contains("testdata/clusters/weak/control-plane.yaml:2: Pod kube-system/kube-apiserver-cp1"), "{xml}");
    // Control: the check is real — a case without its required name is refused.
    let broken = xml.replacen("<testcase name=", "<testcase label=", 1);
    assert!(support::junit_schema_check(&broken).is_err(), "xmllint refuses an invalid document");
}
