//! The terminal report: a header with score, grade and coverage, then failing rules
//! grouped by severity with their findings and remediation.

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::{InputKind, Report};
use crate::engine::{Finding, Severity, Status};
use crate::exception::ExceptionState;
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

fn table(style: Style) -> Table {
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

/// Describes a finding's subject: `Deployment web (namespace app, container nginx) at file:line`.
fn subject_line(finding: &Finding) -> String {
    let subject = &finding.subject;
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
    if let Some(location) = &finding.location {
        let _ = write!(line, " at {}:{}", location.file, location.line);
    }
    line
}

/// Renders the report for a terminal.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let source = match report.source.kind {
        InputKind::Manifests => "manifests",
        InputKind::Snapshot => "snapshot",
        InputKind::Live => "live cluster",
    };
    let mut header = table(style);
    let cluster = &report.cluster;
    let mut identity = cluster.name.clone();
    if let Some(version) = &cluster.version {
        let _ = write!(identity, ", Kubernetes {version}");
    }
    let _ = write!(identity, ", provider {}", cluster.provider);
    let score = &report.score;
    let grade_cell = |text: String| {
        let cell = Cell::new(text).add_attribute(Attribute::Bold);
        if style.colour { cell.fg(grade_colour(score.grade)) } else { cell }
    };
    header.add_row(vec![Cell::new("Source"), Cell::new(format!("{source}: {}", report.source.paths.join(", ")))]);
    header.add_row(vec![Cell::new("Cluster"), Cell::new(identity)]);
    header.add_row(vec![Cell::new("Score"), grade_cell(format!("{:.1} / 100, grade {:?}", score.overall, score.grade))]);
    header.add_row(vec![Cell::new("Coverage"), Cell::new(format!("{:.1}% of applicable rules judged", score.coverage))]);
    let categories: Vec<String> = score.categories.iter().map(|(category, value)| format!("{category} {value:.1}")).collect();
    header.add_row(vec![Cell::new("Categories"), Cell::new(categories.join(", "))]);
    let summary = &report.summary;
    header.add_row(vec![
        Cell::new("Rules"),
        Cell::new(format!(
            "{} passed, {} failed, {} not evaluated, {} not applicable ({} findings excepted)",
            summary.pass, summary.fail, summary.not_evaluated, summary.not_applicable, summary.excepted
        )),
    ]);
    let _ = writeln!(out, "{header}");
    if summary.fail == 0 {
        let _ = writeln!(out, "\nNo failing rules.");
    }

    for severity in Severity::ALL {
        let failing: Vec<_> = report
            .results
            .iter()
            .filter(|result| result.status == Status::Fail)
            .filter(|result| report.rule(&result.rule_id).is_some_and(|rule| rule.severity == severity))
            .collect();
        if failing.is_empty() {
            continue;
        }
        let findings: usize = failing.iter().map(|result| result.findings.len()).sum();
        let _ = writeln!(out, "\n{} — {} failing rule(s), {} finding(s)", severity.as_str().to_uppercase(), failing.len(), findings);
        let mut section = table(style);
        section.set_header(vec!["Rule", "Findings", "Remediation"]);
        for result in failing {
            let Some(rule) = report.rule(&result.rule_id) else { continue };
            let mut lines = Vec::new();
            for finding in result.findings.iter().take(FINDINGS_PER_RULE) {
                lines.push(format!("• {}\n  {}", subject_line(finding), finding.message));
            }
            if result.findings.len() > FINDINGS_PER_RULE {
                lines.push(format!("… and {} more (see -o json)", result.findings.len() - FINDINGS_PER_RULE));
            }
            let id = Cell::new(format!("{}\n{}", rule.id, rule.title)).add_attribute(Attribute::Bold);
            let id = if style.colour { id.fg(severity_colour(severity)) } else { id };
            // The first paragraph, unwrapped: the table wraps it to the column.
            let remediation = rule.remediation.split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
            section.add_row(vec![id, Cell::new(lines.join("\n")), Cell::new(remediation)]);
        }
        let _ = writeln!(out, "{section}");
    }

    if !report.coverage.not_evaluated.is_empty() {
        let _ = writeln!(out, "\nNOT EVALUATED — missing evidence never counts as a pass");
        let mut section = table(style);
        section.set_header(vec!["Rule", "Reason"]);
        for missing in &report.coverage.not_evaluated {
            let title = report.rule(&missing.rule_id).map_or("", |rule| rule.title.as_str());
            section.add_row(vec![format!("{}\n{title}", missing.rule_id), missing.reason.clone()]);
        }
        let _ = writeln!(out, "{section}");
    }

    if !report.exceptions.is_empty() {
        let _ = writeln!(out, "\nEXCEPTIONS");
        let mut section = table(style);
        section.set_header(vec!["State", "Rule", "Subject", "Owner", "Expires", "Findings"]);
        for exception in &report.exceptions {
            let state = match exception.state {
                ExceptionState::Applied => "applied",
                ExceptionState::Unused => "unused",
                ExceptionState::Expired => "EXPIRED",
            };
            let subject = serde_json::to_string(&exception.subject).unwrap_or_default();
            section.add_row(vec![
                state.to_owned(),
                exception.rule.clone(),
                subject,
                exception.owner.clone(),
                exception.expires.clone().unwrap_or_else(|| "never".into()),
                exception.findings.to_string(),
            ]);
        }
        let _ = writeln!(out, "{section}");
    }
    out
}
