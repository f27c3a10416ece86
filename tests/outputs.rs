//! Snapshots of what people and pipelines read: the table, the JSON report and the
//! SARIF log of the weak example, with a fixed clock and run id. The tool version is
//! redacted so that a release does not churn the snapshots.

mod support;

use std::path::PathBuf;

use seaworthy::config::Config;
use seaworthy::report::{self, Report, table};
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

#[test]
fn table_of_the_weak_example() {
    let text = table::render(&weak_report(&[]), table::Style { colour: false, terminal_width: false });
    insta::assert_snapshot!("weak_table", redact_version(&text));
}

#[test]
fn table_in_colour_uses_ansi_styles() {
    let text = table::render(&weak_report(&["ETCD-*"]), table::Style { colour: true, terminal_width: false });
    assert!(text.contains("\u{1b}["), "colour was asked for");
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
