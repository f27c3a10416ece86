//! The terminal report: a header with score, grade and coverage, then failing rules
//! grouped by severity with their findings and remediation.

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::{InputKind, Report, inert};
use crate::engine::{BaselineState, Finding, Severity, Status};
use crate::exception::ExceptionState;
use crate::facts::Subject;
use crate::score::Grade;

/// Findings shown per rule before the rest are summarised.
const FINDINGS_PER_RULE: usize = 20;
/// Width used when the output is not a terminal, so that files and tests are stable.
const FIXED_WIDTH: u16 = 120;

/// How to draw the table.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Use colour and bold text.
    pub colour: bool,
    /// Fit the terminal's width instead of [`FIXED_WIDTH`].
    pub terminal_width: bool,
}

/// An empty table in the report's look.
pub(super) fn table(style: Style) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if style.colour {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if !style.terminal_width {
        table.set_width(FIXED_WIDTH);
    }
    table
}

fn severity_colour(severity: Severity) -> Color {
    match severity {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Cyan,
        Severity::Info => Color::White,
    }
}

fn grade_colour(grade: Grade) -> Color {
    match grade {
        Grade::A => Color::Green,
        Grade::B => Color::DarkGreen,
        Grade::C => Color::Yellow,
        Grade::D => Color::Red,
        Grade::F => Color::Magenta,
    }
}

/// Describes a subject: `Deployment web (namespace app, container nginx)`.
pub(super) fn subject_text(subject: &Subject) -> String {
    let mut line = format!("{} {}", subject.kind, subject.name);
    let mut details = Vec::new();
    if let Some(namespace) = &subject.namespace {
        details.push(format!("namespace {namespace}"));
    }
    if let Some(container) = &subject.container {
        details.push(format!("container {container}"));
    }
    if !details.is_empty() {
        let _ = write!(line, " ({})", details.join(", "));
    }
    line
}

/// Describes a finding's subject, where it is written and whether it is new against
/// the baseline: `[new] Deployment web (namespace app) at file:line`.
fn subject_line(finding: &Finding) -> String {
    let mut line = String::new();
    if finding.baseline == Some(BaselineState::New) {
        line.push_str("[new] ");
    }
    line.push_str(&subject_text(&finding.subject));
    if let Some(location) = &finding.location {
        let _ = write!(line, " at {}:{}", location.file, location.line);
    }
    line
}

/// Renders the report for a terminal.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = header(report, style);
    if report.summary.fail == 0 {
        out.push_str("\nNo failing rules.\n");
    }
    for severity in Severity::ALL {
        out.push_str(&failing_section(report, severity, style));
    }
    out.push_str(&not_evaluated_section(report, style));
    out.push_str(&exceptions_section(report, style));
    out
}

/// Source, cluster, score, grade, coverage and counts.
fn header(report: &Report, style: Style) -> String {
    let source = match report.source.kind {
        InputKind::Manifests => "manifests",
        InputKind::Snapshot => "snapshot",
        InputKind::Live => "live cluster",
    };
    let cluster = &report.cluster;
    let mut identity = cluster.name.clone();
    if let Some(version) = &cluster.version {
        let _ = write!(identity, ", Kubernetes {version}");
    }
    let _ = write!(identity, ", provider {}", cluster.provider);
    let score = &report.score;
    let grade = match (score.overall, score.grade) {
        (Some(overall), Some(grade)) => {
            let cell = Cell::new(format!("{overall:.1} / 100, grade {grade:?}")).add_attribute(Attribute::Bold);
            if style.colour { cell.fg(grade_colour(grade)) } else { cell }
        }
        _ => Cell::new(format!("no grade: {}", score.ungraded.as_deref().unwrap_or("nothing judged")))
            .add_attribute(Attribute::Bold),
    };
    let categories: Vec<String> =
        score.categories.iter().map(|(category, value)| format!("{category} {value:.1}")).collect();
    let summary = &report.summary;
    let mut table = table(style);
    table
        .add_row(vec![Cell::new("Source"), Cell::new(inert(&format!("{source}: {}", report.source.paths.join(", "))))]);
    table.add_row(vec![Cell::new("Cluster"), Cell::new(inert(&identity))]);
    table.add_row(vec![Cell::new("Score"), grade]);
    table.add_row(vec![Cell::new("Coverage"), Cell::new(format!("{:.1}% of applicable rules judged", score.coverage))]);
    table.add_row(vec![Cell::new("Categories"), Cell::new(categories.join(", "))]);
    table.add_row(vec![
        Cell::new("Rules"),
        Cell::new(format!(
            "{} passed, {} failed, {} not evaluated, {} not applicable ({} findings excepted)",
            summary.pass, summary.fail, summary.not_evaluated, summary.not_applicable, summary.excepted
        )),
    ]);
    if let Some(baseline) = &report.baseline {
        table.add_row(vec![
            Cell::new("Baseline"),
            Cell::new(format!(
                "{} new, {} unchanged, {} resolved, {} now excepted, {} no longer judged since {} (score {})",
                baseline.new,
                baseline.unchanged,
                baseline.resolved,
                baseline.now_excepted,
                baseline.no_longer_judged,
                baseline.scan.started_at,
                baseline.score_change.map_or_else(|| "change unknown".to_owned(), |change| format!("{change:+.1}"))
            )),
        ]);
    }
    format!("{table}\n")
}

/// Failing rules of one severity, with findings and remediation.
fn failing_section(report: &Report, severity: Severity, style: Style) -> String {
    let failing: Vec<_> = report
        .results
        .iter()
        .filter(|result| result.status == Status::Fail)
        .filter(|result| report.rule(&result.rule_id).is_some_and(|rule| rule.severity == severity))
        .collect();
    if failing.is_empty() {
        return String::new();
    }
    let findings: usize = failing.iter().map(|result| result.findings.len()).sum();
    let mut section = table(style);
    section.set_header(vec!["Rule", "Findings", "Remediation"]);
    for result in &failing {
        let Some(rule) = report.rule(&result.rule_id) else { continue };
        let mut lines = Vec::new();
        for finding in result.findings.iter().take(FINDINGS_PER_RULE) {
            lines.push(format!("• {}\n  {}", subject_line(finding), finding.message));
        }
        if result.findings.len() > FINDINGS_PER_RULE {
            lines.push(format!("… and {} more (see -o json)", result.findings.len() - FINDINGS_PER_RULE));
        }
        let id = Cell::new(inert(&format!("{}\n{}", rule.id, rule.title))).add_attribute(Attribute::Bold);
        let id = if style.colour { id.fg(severity_colour(severity)) } else { id };
        // The first paragraph, unwrapped: the table wraps it to the column.
        let remediation =
            rule.remediation.split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        section.add_row(vec![id, Cell::new(inert(&lines.join("\n"))), Cell::new(inert(&remediation))]);
    }
    let heading = severity.as_str().to_uppercase();
    format!("\n{heading} — {} failing rule(s), {findings} finding(s)\n{section}\n", failing.len())
}

/// Rules that could not be judged, with the reason.
fn not_evaluated_section(report: &Report, style: Style) -> String {
    if report.coverage.not_evaluated.is_empty() {
        return String::new();
    }
    let mut section = table(style);
    section.set_header(vec!["Rule", "Reason"]);
    for missing in &report.coverage.not_evaluated {
        let title = report.rule(&missing.rule_id).map_or("", |rule| rule.title.as_str());
        section.add_row(vec![inert(&format!("{}\n{title}", missing.rule_id)), inert(&missing.reason)]);
    }
    format!("\nNOT EVALUATED — missing evidence never counts as a pass\n{section}\n")
}

/// The configuration's exceptions and what became of them.
fn exceptions_section(report: &Report, style: Style) -> String {
    if report.exceptions.is_empty() {
        return String::new();
    }
    let mut section = table(style);
    section.set_header(vec!["State", "Rule", "Subject", "Owner", "Expires", "Findings"]);
    for exception in &report.exceptions {
        let state = match exception.state {
            ExceptionState::Applied => "applied",
            ExceptionState::Unused => "unused",
            ExceptionState::Expired => "EXPIRED",
        };
        section.add_row(vec![
            state.to_owned(),
            inert(&exception.rule),
            inert(&serde_json::to_string(&exception.subject).unwrap_or_default()),
            inert(&exception.owner),
            exception.expires.clone().unwrap_or_else(|| "never".into()),
            exception.findings.to_string(),
        ]);
    }
    format!("\nEXCEPTIONS\n{section}\n")
}
