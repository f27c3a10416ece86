//! `seaworthy diff` output: the score change, then new, resolved and still-failing
//! findings, as tables or JSON.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::inert;
use super::table::{Style, table};
use super::terminal::subject_text;
use crate::drift::{Change, Drift, ScanSummary};

/// Renders the drift as JSON with a trailing newline.
pub fn json(drift: &Drift) -> String {
    let mut text = serde_json::to_string_pretty(drift).expect("the drift serializes: plain data, string keys");
    text.push('\n');
    text
}

fn scan_line(label: &str, scan: &ScanSummary) -> String {
    let graded = match (scan.score, scan.grade) {
        (Some(score), Some(grade)) => format!("{score:.1} / 100, grade {grade:?}"),
        _ => "nothing judged, no grade".to_owned(),
    };
    format!("{label}: {graded}, coverage {:.1}% (run {} at {})", scan.coverage, scan.run_id, scan.started_at)
}

/// The score change, or why there is none.
fn score_change(drift: &Drift) -> String {
    drift.score_change.map_or_else(|| "none (a scan judged nothing)".to_owned(), |change| format!("{change:+.1}"))
}

/// Renders the drift for a terminal.
pub fn render(drift: &Drift, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", scan_line("Before", &drift.old));
    let _ = writeln!(out, "{}", scan_line("After ", &drift.new));
    let coverage_change = drift.new.coverage - drift.old.coverage;
    let _ = writeln!(out, "Score change: {}; coverage change: {coverage_change:+.1}", score_change(drift));
    let sections: [(&str, &[Change], &str); 4] = [
        ("NEW", &drift.new_findings, ""),
        ("RESOLVED", &drift.resolved, ""),
        ("NOW EXCEPTED", &drift.now_excepted, " — covered by an exception of the configuration"),
        ("NO LONGER JUDGED", &drift.no_longer_judged, " — not evaluated in the newer scan, so not counted as resolved"),
    ];
    for (heading, changes, note) in sections {
        let _ = writeln!(out, "\n{heading} ({}){note}", changes.len());
        if changes.is_empty() {
            continue;
        }
        let mut section = table(style);
        section.set_header(vec!["Severity", "Rule", "Subject", "Message"]);
        for change in changes {
            section.add_row(vec![
                Cell::new(change.severity.as_str()),
                Cell::new(inert(&format!("{}\n{}", change.rule_id, change.title))),
                Cell::new(inert(&subject_text(&change.subject))),
                Cell::new(inert(&change.message)),
            ]);
        }
        let _ = writeln!(out, "{section}");
    }
    out.push_str(&still_failing(&drift.still_failing, style));
    let verdict = if drift.regressed() {
        format!("REGRESSION: {} new finding(s), score change {}", drift.new_findings.len(), score_change(drift))
    } else {
        "No regression: no new findings and no lower score.".to_owned()
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}

/// Findings in both scans, counted per rule: the list itself is in `-o json`.
fn still_failing(changes: &[Change], style: Style) -> String {
    let mut out = format!("\nSTILL FAILING ({}) — per rule; every finding is in -o json\n", changes.len());
    if changes.is_empty() {
        return out;
    }
    let mut section = table(style);
    section.set_header(vec!["Severity", "Rule", "Findings"]);
    // `changes` is sorted by severity and rule, so each rule's findings are adjacent.
    for group in changes.chunk_by(|a, b| a.rule_id == b.rule_id) {
        let first = &group[0];
        section.add_row(vec![
            Cell::new(first.severity.as_str()),
            Cell::new(inert(&format!("{}\n{}", first.rule_id, first.title))),
            Cell::new(group.len()),
        ]);
    }
    let _ = writeln!(out, "{section}");
    out
}
