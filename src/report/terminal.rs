//! The terminal report, in the style of compiler diagnostics: a summary block, then one
//! block per failing rule, most severe first — `severity[ID]: title`, one indented line
//! per subject with its location and evidence, a `help:` line with the remediation —
//! then what was not evaluated, grouped by reason, and the exceptions.
//!
//! Text is wrapped at [`Style::width`] with hanging indents, only at spaces: a
//! `path:line`, a flag, a URL or an image reference is never split (a word longer than
//! the line overflows it). Colour only styles words and never changes the layout.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Effects};

use super::{InputKind, Report, ResultEntry, RuleInfo, inert};
use crate::compliance::ControlStatus;
use crate::config::SubjectSelector;
use crate::engine::{BaselineState, Finding, Severity, Status};
use crate::exception::ExceptionState;
use crate::facts::Subject;
use crate::score::Grade;

/// The width when the output is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: usize = 100;
/// Below this the report would be more indent than text.
const NARROWEST: usize = 40;
/// Subjects shown per failing rule before the rest are counted.
const SUBJECTS_SHOWN: usize = 10;
/// Attack paths shown in full, those from the network first.
const PATHS_SHOWN: usize = 8;
/// Inconclusive subjects shown per rule.
const INCONCLUSIVE_SHOWN: usize = 5;
/// Where a summary value starts.
const LABEL_WIDTH: usize = 14;
/// Joins a count to what it counts (`38 passed`), so that a line never breaks between.
const NBSP: char = '\u{a0}';

/// How to draw the report.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Use colour and bold text (ANSI); the layout is the same without.
    pub colour: bool,
    /// Columns to wrap at.
    pub width: usize,
}

/// Sections beyond the failing rules that `--show` and `--framework` ask for.
#[derive(Clone, Debug, Default)]
pub struct Show {
    /// List the rules that passed.
    pub passed: bool,
    /// List the rules that did not apply, grouped by reason.
    pub not_applicable: bool,
    /// Show these frameworks' compliance views (`cis`, `pss-baseline`, …).
    pub frameworks: Vec<&'static str>,
}

/// Renders the report for a terminal.
pub fn render(report: &Report, style: Style, show: &Show) -> String {
    let mut out = Out { text: String::new(), style, width: style.width.max(NARROWEST) };
    summary(&mut out, report);
    attack_paths(&mut out, report);
    failing(&mut out, report);
    not_evaluated(&mut out, report);
    if show.not_applicable {
        not_applicable(&mut out, report);
    }
    if show.passed {
        passed(&mut out, report);
    }
    for id in &show.frameworks {
        if let Some(view) = report.compliance.iter().find(|view| view.framework == *id) {
            compliance(&mut out, view);
        }
    }
    exceptions(&mut out, report);
    out.text
}

/// The text being written, and how.
struct Out {
    text: String,
    style: Style,
    width: usize,
}

impl Out {
    /// `text` wrapped at the width: the first line after `first`, the rest after `rest`.
    fn wrap(&mut self, first: &str, rest: &str, text: &str) {
        let options = textwrap::Options::new(self.width)
            .initial_indent(first)
            .subsequent_indent(rest)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false);
        for line in textwrap::wrap(text, options) {
            self.text.push_str(line.trim_end());
            self.text.push('\n');
        }
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    /// `text` in `style` when colour is on.
    fn paint(&self, text: &str, style: anstyle::Style) -> String {
        if self.style.colour { format!("{style}{text}{style:#}") } else { text.to_owned() }
    }

    fn bold(&self, text: &str) -> String {
        self.paint(text, anstyle::Style::new().effects(Effects::BOLD))
    }

    fn dim(&self, text: &str) -> String {
        self.paint(text, anstyle::Style::new().effects(Effects::DIMMED))
    }

    /// A summary line: the label in its column, the value wrapped beside it.
    fn field(&mut self, label: &str, value: &str) {
        let first = format!("  {label:<width$}", width = LABEL_WIDTH - 2);
        self.wrap(&first, &" ".repeat(LABEL_WIDTH), value);
    }
}

fn severity_style(severity: Severity) -> anstyle::Style {
    let colour = match severity {
        Severity::Critical => AnsiColor::Magenta,
        Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::Blue,
    };
    anstyle::Style::new().fg_color(Some(colour.into())).effects(Effects::BOLD)
}

fn grade_style(grade: Grade) -> anstyle::Style {
    let colour = match grade {
        Grade::A | Grade::B => AnsiColor::Green,
        Grade::C => AnsiColor::Yellow,
        Grade::D => AnsiColor::Red,
        Grade::F => AnsiColor::Magenta,
    };
    anstyle::Style::new().fg_color(Some(colour.into())).effects(Effects::BOLD)
}

/// Describes a subject: `Deployment app/web (container nginx)`.
pub fn subject_text(subject: &Subject) -> String {
    let mut text = format!("{} ", subject.kind);
    if let Some(namespace) = &subject.namespace {
        let _ = write!(text, "{namespace}/");
    }
    text.push_str(&subject.name);
    if let Some(container) = &subject.container {
        let _ = write!(text, " (container {container})");
    }
    text
}

/// One subject line: `[new] file:line: Deployment app/web: message`.
fn finding_text(finding: &Finding) -> String {
    let mut text = String::new();
    if finding.baseline == Some(BaselineState::New) {
        text.push_str("[new] ");
    }
    if let Some(location) = &finding.location {
        let _ = write!(text, "{}:{}: ", location.file, location.line);
    }
    let _ = write!(text, "{}: {}", subject_text(&finding.subject), finding.message);
    inert(&text)
}

/// Source, cluster, score, grade, coverage and counts.
fn summary(out: &mut Out, report: &Report) {
    let source = match report.source.kind {
        InputKind::Manifests => "manifests",
        InputKind::Snapshot => "snapshot",
        InputKind::Live => "live cluster",
    };
    let title = format!("seaworthy {} · {source}: {}", report.tool.version, report.source.paths.join(", "));
    let title = out.bold(&inert(&title));
    out.wrap("", "  ", &title);
    let cluster = &report.cluster;
    let mut identity = cluster.name.clone();
    if let Some(version) = &cluster.version {
        let _ = write!(identity, " · Kubernetes {version}");
    }
    let _ = write!(identity, " · provider {}", cluster.provider);
    out.field("cluster", &inert(&identity));
    let score = &report.score;
    let graded = match (score.overall, score.grade) {
        (Some(overall), Some(grade)) => out.paint(&format!("{overall:.1} / 100 · grade {grade:?}"), grade_style(grade)),
        _ => out.bold(&format!("no grade: {}", score.ungraded.as_deref().unwrap_or("nothing judged"))),
    };
    out.field("score", &graded);
    if let Some(capped) = &score.capped {
        out.field("", &inert(capped));
    }
    out.field("coverage", &format!("{:.1}% of applicable rules judged", score.coverage));
    let categories: Vec<String> =
        score.categories.iter().map(|(category, value)| format!("{category}{NBSP}{value:.1}")).collect();
    if !categories.is_empty() {
        out.field("categories", &categories.join(" · "));
    }
    let counts = &report.summary;
    out.field(
        "rules",
        &format!(
            "{}{NBSP}passed · {}{NBSP}failed · {}{NBSP}not{NBSP}evaluated · {}{NBSP}not{NBSP}applicable",
            counts.pass, counts.fail, counts.not_evaluated, counts.not_applicable
        ),
    );
    let mut findings: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|severity| {
            let count = counts.findings.get(severity).copied().unwrap_or(0);
            (count > 0).then(|| out.paint(&format!("{count}{NBSP}{}", severity.as_str()), severity_style(*severity)))
        })
        .collect();
    if findings.is_empty() {
        findings.push("none".into());
    }
    if counts.excepted > 0 {
        findings.push(format!("{}{NBSP}excepted", counts.excepted));
    }
    out.field("findings", &findings.join(" · "));
    input_field(out, report);
    if let Some(baseline) = &report.baseline {
        let change =
            baseline.score_change.map_or_else(|| "change unknown".to_owned(), |change| format!("{change:+.1}"));
        out.field(
            "baseline",
            &format!(
                "{} new · {} unchanged · {} resolved · {} now excepted · {} no longer judged since {} (score {change})",
                baseline.new,
                baseline.unchanged,
                baseline.resolved,
                baseline.now_excepted,
                baseline.no_longer_judged,
                baseline.scan.started_at
            ),
        );
    }
}

/// What was read but not judged, when anything was: skipped, unread, duplicate, not probed.
fn input_field(out: &mut Out, report: &Report) {
    if let Some(left_out) = report.source.left_out() {
        out.field("input", &format!("{left_out} — listed on stderr and in -o json"));
    }
}

/// The attack paths, first: `3 paths to cluster-admin from the network`, then each path
/// as its numbered steps with their evidence and the cheapest fix.
fn attack_paths(out: &mut Out, report: &Report) {
    let paths = &report.attack_paths;
    if paths.is_empty() {
        return;
    }
    out.blank();
    let mut counts: Vec<String> = Vec::new();
    for goal in crate::paths::Goal::ALL {
        let to_goal: Vec<_> = paths.iter().filter(|path| path.goal == goal).collect();
        if to_goal.is_empty() {
            continue;
        }
        let from_network = to_goal.iter().filter(|path| path.entry == crate::paths::Entry::Network).count();
        let text = if from_network > 0 {
            format!("{from_network} to {} from the network", goal.label())
        } else {
            format!("{} to {}", to_goal.len(), goal.label())
        };
        counts.push(text);
    }
    let heading = format!("attack paths ({}): {}", paths.len(), counts.join(" · "));
    out.wrap("", "  ", &out.bold(&heading));
    // From the network first: no credentials needed.
    let mut shown: Vec<&crate::paths::AttackPath> = paths.iter().collect();
    shown.sort_by_key(|path| path.entry != crate::paths::Entry::Network);
    for path in shown.iter().take(PATHS_SHOWN) {
        let unverified = if path.verified { String::new() } else { " — possible (a step is unverified)".to_owned() };
        let line = format!("{} → {}{unverified}", path.entry_label, path.goal.label());
        let style = if path.verified { severity_style(Severity::Critical) } else { severity_style(Severity::Medium) };
        out.wrap("  ", "      ", &out.paint(&inert(&line), style));
        for (number, step) in path.steps.iter().enumerate() {
            let rule = step.rule_id.as_deref().unwrap_or("fact");
            let place = step
                .location
                .as_ref()
                .map(|location| format!(" {}:{}", location.file, location.line))
                .unwrap_or_default();
            let unverified = if step.verified { "" } else { " (unverified)" };
            let text = format!("{}. [{rule}{place}]{unverified} {}: {}", number + 1, step.action, step.evidence);
            out.wrap("    ", "       ", &inert(&text));
        }
        let fix = &path.steps[path.fix];
        let what = fix.rule_id.as_deref().unwrap_or("the fact");
        let help = out.bold("fix:");
        let text = format!("step {} ({what}) breaks {} of the paths", path.fix + 1, path.fix_breaks);
        out.wrap(&format!("    {help} "), "         ", &inert(&text));
    }
    if paths.len() > PATHS_SHOWN {
        out.wrap(
            "  ",
            "    ",
            &out.dim(&format!("… and {} more (-o json and -o html list all)", paths.len() - PATHS_SHOWN)),
        );
    }
}

/// Failing rules, most severe first, in catalog order within a severity.
fn failing(out: &mut Out, report: &Report) {
    let mut failing: Vec<(&ResultEntry, &RuleInfo)> = report.with_status(Status::Fail).collect();
    failing.sort_by_key(|(_, rule)| rule.severity);
    out.blank();
    if failing.is_empty() {
        out.wrap("", "", "No failing rules.");
        return;
    }
    for (result, rule) in failing {
        rule_block(out, result, rule);
    }
}

/// `severity[ID]: title`, its subjects, what was not judged, and `help:`.
fn rule_block(out: &mut Out, result: &ResultEntry, rule: &RuleInfo) {
    let label = out.paint(&format!("{}[{}]", rule.severity.as_str(), inert(&rule.id)), severity_style(rule.severity));
    let heading = format!("{label}: {}", out.bold(&inert(&rule.title)));
    out.wrap("", "    ", &heading);
    for finding in result.findings.iter().take(SUBJECTS_SHOWN) {
        out.wrap("  ", "      ", &finding_text(finding));
    }
    if result.findings.len() > SUBJECTS_SHOWN {
        let more = format!("… and {} more (-o json lists all)", result.findings.len() - SUBJECTS_SHOWN);
        out.wrap("  ", "    ", &out.dim(&more));
    }
    if !result.excepted.is_empty() {
        out.wrap(
            "  ",
            "        ",
            &format!("note: {} finding(s) excepted by the configuration", result.excepted.len()),
        );
    }
    if let Some(reason) = &result.reason {
        out.wrap("  ", "        ", &format!("note: {}", inert(reason)));
        inconclusive_lines(out, result, "    ");
    }
    // The first paragraph, unwrapped: it is wrapped to the width here.
    let remediation = rule.remediation.split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>();
    if !remediation.is_empty() {
        let help = out.bold("help:");
        out.wrap(&format!("  {help} "), "        ", &inert(&remediation.join(" ")));
    }
    out.blank();
}

/// The inconclusive subjects a result kept, each with why.
fn inconclusive_lines(out: &mut Out, result: &ResultEntry, indent: &str) {
    let hanging = format!("{indent}    ");
    for finding in result.inconclusive.iter().take(INCONCLUSIVE_SHOWN) {
        out.wrap(&format!("{indent}? "), &hanging, &finding_text(finding));
    }
    if result.inconclusive.len() > INCONCLUSIVE_SHOWN {
        let more = format!("… and {} more (-o json lists up to 20)", result.inconclusive.len() - INCONCLUSIVE_SHOWN);
        out.wrap(indent, &hanging, &out.dim(&more));
    }
}

/// One line per reason with the rules it kept from being judged, then their
/// inconclusive subjects.
fn grouped(out: &mut Out, report: &Report, status: Status, heading: &str) {
    let groups = super::by_reason(report, status);
    if groups.is_empty() {
        return;
    }
    let count: usize = groups.iter().map(|group| group.results.len()).sum();
    out.wrap("", "  ", &out.bold(&format!("{heading} ({count})")));
    for group in groups {
        let ids: Vec<String> = group.results.iter().map(|result| inert(&result.rule_id)).collect();
        let missing = if group.collections.is_empty() {
            String::new()
        } else {
            format!(" [not collected: {}]", group.collections.join(", "))
        };
        let line = format!("{}{missing} ({}): {}", group.reason, ids.len(), ids.join(" "));
        out.wrap("  ", "      ", &inert(&line));
        for result in group.results.iter().filter(|result| !result.inconclusive.is_empty()) {
            out.wrap("    ", "      ", &format!("{}:", inert(&result.rule_id)));
            inconclusive_lines(out, result, "      ");
        }
    }
    out.blank();
}

fn not_evaluated(out: &mut Out, report: &Report) {
    grouped(out, report, Status::NotEvaluated, "not evaluated — missing evidence never counts as a pass");
}

fn not_applicable(out: &mut Out, report: &Report) {
    grouped(out, report, Status::NotApplicable, "not applicable");
}

/// `--show passed`: one line per rule that passed.
fn passed(out: &mut Out, report: &Report) {
    let passed: Vec<&RuleInfo> = report.with_status(Status::Pass).map(|(_, rule)| rule).collect();
    if passed.is_empty() {
        return;
    }
    out.wrap("", "  ", &out.bold(&format!("passed ({})", passed.len())));
    let id_width = passed.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
    for rule in passed {
        let first = format!("  {:<id_width$}  ", inert(&rule.id));
        out.wrap(&first, &" ".repeat(id_width + 4), &inert(&rule.title));
    }
    out.blank();
}

/// `CIS Kubernetes Benchmark v1.9.0`: counts, then per section its counts and one line
/// per control with its status, and its rules or why it has none.
fn compliance(out: &mut Out, view: &crate::compliance::View) {
    let heading = format!("{} {} — {}", view.name, view.version, status_counts(&view.counts));
    out.wrap("", "  ", &out.bold(&inert(&heading)));
    let width = ControlStatus::ALL.iter().map(|status| status.words().len()).max().unwrap_or(0);
    for section in &view.sections {
        out.wrap(
            "  ",
            "      ",
            &inert(&format!("{} {} — {}", section.id, section.title, status_counts(&section.counts))),
        );
        // A reason every manual control of the section shares is said once.
        let manual: Vec<&str> = section
            .controls
            .iter()
            .filter(|control| control.status == ControlStatus::Manual)
            .filter_map(|control| control.reason.as_deref())
            .collect();
        let shared =
            manual.first().copied().filter(|first| manual.len() > 1 && manual.iter().all(|reason| reason == first));
        if let Some(reason) = shared {
            out.wrap("      ", "        ", &inert(&format!("manual: {reason}")));
        }
        for control in &section.controls {
            let status = out.paint(&format!("{:<width$}", control.status.words()), control_style(control.status));
            let why = if control.rules.is_empty() || control.status == ControlStatus::Fail {
                control.reason.as_deref().filter(|reason| Some(*reason) != shared).unwrap_or_default().to_owned()
            } else {
                control.rules.join(" ")
            };
            // Pod Security controls are named `baseline: Seccomp` under the Baseline section.
            let id = control.id.strip_prefix(&format!("{}: ", section.id)).unwrap_or(&control.id);
            let line = if why.is_empty() {
                format!("{}: {}", inert(id), inert(&control.title))
            } else {
                format!("{}: {} — {}", inert(id), inert(&control.title), inert(&why))
            };
            out.wrap(&format!("    {status} "), &" ".repeat(width + 9), &line);
        }
    }
    out.blank();
}

/// `3 fail · 2 pass · 21 manual`, in the order of [`ControlStatus::ALL`].
fn status_counts(counts: &std::collections::BTreeMap<ControlStatus, usize>) -> String {
    let shown: Vec<String> = ControlStatus::ALL
        .iter()
        .filter_map(|status| {
            counts.get(status).map(|count| format!("{count}{NBSP}{}", status.words().replace(' ', "\u{a0}")))
        })
        .collect();
    shown.join(" · ")
}

fn control_style(status: ControlStatus) -> anstyle::Style {
    let colour = match status {
        ControlStatus::Fail => AnsiColor::Red,
        ControlStatus::NotEvaluated => AnsiColor::Yellow,
        ControlStatus::Pass => AnsiColor::Green,
        ControlStatus::NotApplicable | ControlStatus::Manual | ControlStatus::NotCovered => AnsiColor::Blue,
    };
    anstyle::Style::new().fg_color(Some(colour.into()))
}

/// The configuration's exceptions: state, rule, subject, reason, owner, expiry.
fn exceptions(out: &mut Out, report: &Report) {
    if report.exceptions.is_empty() {
        return;
    }
    out.wrap("", "  ", &out.bold(&format!("exceptions ({})", report.exceptions.len())));
    for exception in &report.exceptions {
        let state = match exception.state {
            ExceptionState::Applied => "applied",
            ExceptionState::Unused => "unused",
            ExceptionState::Expired => "EXPIRED",
        };
        let expires =
            exception.expires.as_deref().map_or_else(|| "no expiry".to_owned(), |day| format!("expires {day}"));
        let line = format!(
            "{state} {} for {}: {} — owner {}, {expires}, {} finding(s)",
            exception.rule,
            selector_text(&exception.subject),
            exception.reason.split_whitespace().collect::<Vec<_>>().join(" "),
            exception.owner,
            exception.findings
        );
        out.wrap("  ", "      ", &inert(&line));
    }
    out.blank();
}

/// `kind Deployment, namespace app, name web-*`, or `every subject`.
pub(super) fn selector_text(selector: &SubjectSelector) -> String {
    let parts: Vec<String> = [
        ("kind", &selector.kind),
        ("namespace", &selector.namespace),
        ("name", &selector.name),
        ("container", &selector.container),
    ]
    .iter()
    .filter_map(|(label, value)| value.as_ref().map(|value| format!("{label} {value}")))
    .collect();
    if parts.is_empty() { "every subject".into() } else { parts.join(", ") }
}
