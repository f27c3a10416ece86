//! The HTML report (`-o html`): one self-contained file — inline CSS, a few lines of
//! inline script that only open the collapsed sections before printing, no request
//! to anywhere — readable on a phone and printable. Everything is written through
//! maud, which escapes every value: a name from the cluster is text, never markup.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Report, ResultEntry, RuleInfo, by_reason};
use crate::compliance::ControlStatus;
use crate::engine::{BaselineState, Finding, Severity, Status};
use crate::exception::ExceptionState;

/// Findings a rule shows before the rest are counted (the JSON report has them all):
/// a page with 100,000 rows is no page anyone reads.
const FINDINGS_SHOWN: usize = 200;

const STYLE: &str = include_str!("html.css");

/// Opens every collapsed section before printing, so that paper shows all of it.
const SCRIPT: &str =
    "addEventListener('beforeprint',()=>document.querySelectorAll('details').forEach(d=>d.open=true));";

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    let grade = report.score.grade.map_or_else(|| "no grade".to_owned(), |grade| format!("grade {grade:?}"));
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No request leaves the page: no scripts, styles, fonts or images from anywhere.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
                title { "seaworthy: " (report.cluster.name) " — " (grade) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (header(report))
                nav {
                    @if !report.attack_paths.is_empty() { a href="#attack-paths" { "Attack paths" } }
                    a href="#findings" { "Findings" }
                    a href="#not-evaluated" { "Not evaluated" }
                    a href="#compliance" { "Compliance" }
                    a href="#passed" { "Passed" }
                    @if !report.exceptions.is_empty() { a href="#exceptions" { "Exceptions" } }
                }
                main {
                    (attack_paths(report))
                    (findings(report))
                    (not_judged(report, Status::NotEvaluated, "not-evaluated", "Not evaluated", "Missing evidence never counts as a pass."))
                    (compliance(report))
                    (passed(report))
                    (not_judged(report, Status::NotApplicable, "not-applicable", "Not applicable", "Nothing these rules judge was found."))
                    (exceptions(report))
                }
                footer {
                    "seaworthy " (report.tool.version) " · run " (report.run_id) " · " (report.started_at) " to " (report.finished_at)
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

/// Cluster, source, time, score and grade, coverage, counts, categories as bars.
fn header(report: &Report) -> Markup {
    let score = &report.score;
    let cluster = &report.cluster;
    let counts = &report.summary;
    html! {
        header {
            div.verdict {
                @match (score.overall, score.grade) {
                    (Some(overall), Some(grade)) => {
                        div class={ "grade grade-" (format!("{grade:?}")) } { (format!("{grade:?}")) }
                        div.score { span.number { (format!("{overall:.1}")) } " / 100" }
                    }
                    _ => {
                        div.grade.grade-none { "–" }
                        div.score { "nothing judged: " (score.ungraded.as_deref().unwrap_or("no rule could be judged")) }
                    }
                }
            }
            div.identity {
                h1 { "seaworthy report: " (cluster.name) }
                dl {
                    dt { "Kubernetes" } dd { (cluster.version.as_deref().unwrap_or("unknown")) }
                    dt { "Provider" } dd { (cluster.provider) }
                    dt { "Source" } dd { (source_kind(report)) ": " (report.source.paths.join(", ")) }
                    dt { "Scanned" } dd { (report.started_at) }
                    dt { "Coverage" } dd { (format!("{:.1}", score.coverage)) "% of applicable rules judged" }
                    dt { "Rules" } dd {
                        (counts.pass) " passed · " (counts.fail) " failed · " (counts.not_evaluated) " not evaluated · "
                        (counts.not_applicable) " not applicable"
                        @if counts.excepted > 0 { " · " (counts.excepted) " findings excepted" }
                    }
                    @if let Some(left_out) = report.source.left_out() {
                        dt { "Input" } dd {
                            (left_out)
                            @if !report.source.unparsed.is_empty() {
                                ul.unparsed {
                                    @for unparsed in report.source.unparsed.iter().take(20) {
                                        li { code { (unparsed.location.file) ":" (unparsed.location.line) } " " (unparsed.reason) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(capped) = &score.capped {
                        dt { "Grade" } dd { (capped) }
                    }
                    @if let Some(gate) = &report.gate {
                        dt { "Gate" } dd { (gate.summary()) }
                    }
                    @if let Some(baseline) = &report.baseline {
                        dt { "Since baseline" } dd {
                            (baseline.new) " new · " (baseline.unchanged) " unchanged · " (baseline.resolved) " resolved · "
                            (baseline.now_excepted) " now excepted · " (baseline.no_longer_judged) " no longer judged (baseline "
                            (baseline.scan.started_at)
                            @if let Some(change) = baseline.score_change { ", score " (format!("{change:+.1}")) }
                            ")"
                        }
                    }
                }
            }
            @if !score.categories.is_empty() {
                div.categories {
                    @for (category, value) in &score.categories {
                        div.category {
                            span.name { (category.as_str()) }
                            span.bar { span class={ "fill " (band(*value)) } style={ "width:" (format!("{value:.1}")) "%" } {} }
                            span.value { (format!("{value:.1}")) }
                        }
                    }
                }
            }
        }
    }
}

fn source_kind(report: &Report) -> &'static str {
    match report.source.kind {
        super::InputKind::Manifests => "manifests",
        super::InputKind::Snapshot => "snapshot",
        super::InputKind::Live => "live cluster",
    }
}

/// The attack paths, each a chain of steps from its entry point to its goal, with the
/// evidence of every step and the cheapest fix.
fn attack_paths(report: &Report) -> Markup {
    html! {
        @if !report.attack_paths.is_empty() {
            section #attack-paths {
                h2 { "Attack paths (" (report.attack_paths.len()) ")" }
                p.lede { "How the findings combine into routes to takeover. Each step rests on a finding or fact of this scan; a possible step rests on evidence that could not be judged." }
                @for path in &report.attack_paths {
                    article class={ "path " (if path.verified { "verified" } else { "possible" }) } {
                        h4 {
                            (path.entry_label) " → " strong { (path.goal.label()) }
                            @if !path.verified { " " span.badge.possible { "possible" } }
                        }
                        ol.chain {
                            @for (number, step) in path.steps.iter().enumerate() {
                                li class={ @if number == path.fix { "fix" } } {
                                    span.action { (step.action) }
                                    " → " em { (step.to) }
                                    @if !step.verified { " " span.badge.possible { "unverified" } }
                                    div.evidence {
                                        code { (step.rule_id.as_deref().unwrap_or("fact")) }
                                        @if let Some(location) = &step.location { " " code { (location.file) ":" (location.line) } }
                                        " " (step.evidence)
                                    }
                                }
                            }
                        }
                        p.fix { strong { "Fix: " } "step " (path.fix + 1) " (" (path.steps[path.fix].rule_id.as_deref().unwrap_or("the fact")) "), which breaks " (path.fix_breaks) " of the paths." }
                    }
                }
            }
        }
    }
}

/// Failing rules by severity, each with its findings, remediation and references.
fn findings(report: &Report) -> Markup {
    let failing = |severity: Severity| -> Vec<(&ResultEntry, &RuleInfo)> {
        report.with_status(Status::Fail).filter(|(_, rule)| rule.severity == severity).collect()
    };
    html! {
        section #findings {
            h2 { "Findings" }
            @if report.summary.fail == 0 { p.none { "No failing rules." } }
            @for severity in Severity::ALL {
                @let rules = failing(severity);
                @if !rules.is_empty() {
                    h3 { (capitalised(severity.as_str())) " — " (rules.len()) " rule(s), "
                        (rules.iter().map(|(result, _)| result.findings.len()).sum::<usize>()) " finding(s)" }
                    @for (result, rule) in rules { (rule_block(result, rule)) }
                }
            }
        }
    }
}

fn rule_block(result: &ResultEntry, rule: &RuleInfo) -> Markup {
    let severity = rule.severity.as_str();
    html! {
        article class={ "rule sev-" (severity) } id={ "rule-" (rule.id) } {
            h4 { span class={ "badge sev-" (severity) } { (severity) } " " code { (rule.id) } " " (rule.title) }
            table.findings {
                thead { tr { th { "Subject" } th { "Location" } th { "Evidence" } } }
                tbody {
                    @for finding in result.findings.iter().take(FINDINGS_SHOWN) { (finding_row(finding)) }
                }
            }
            @if result.findings.len() > FINDINGS_SHOWN {
                p.more { "… and " (result.findings.len() - FINDINGS_SHOWN) " more (the JSON report lists all)." }
            }
            @if !result.excepted.is_empty() {
                p.note { (result.excepted.len()) " finding(s) excepted by the configuration." }
            }
            @if let Some(reason) = &result.reason {
                p.note { (reason) }
                (inconclusive(result))
            }
            div.remediation {
                strong { "Remediation" }
                @for paragraph in rule.remediation.split("\n\n") { p { (with_code(paragraph)) } }
            }
            @if !rule.references.is_empty() {
                ul.references {
                    @for reference in &rule.references {
                        // Only web links are links: a custom rule's `javascript:` stays text.
                        @if reference.starts_with("https://") || reference.starts_with("http://") {
                            li { a href=(reference) rel="noreferrer" { (reference) } }
                        } @else {
                            li { (reference) }
                        }
                    }
                }
            }
        }
    }
}

fn finding_row(finding: &Finding) -> Markup {
    html! {
        tr {
            td {
                @if finding.baseline == Some(BaselineState::New) { span.badge.new { "new" } " " }
                (super::terminal::subject_text(&finding.subject))
            }
            td.location {
                @if let Some(location) = &finding.location { code { (location.file) ":" (location.line) } }
            }
            td {
                (finding.message)
                @if let Some(evidence) = &finding.evidence {
                    dl.evidence {
                        @for (name, value) in evidence.iter() {
                            dt { (name) } dd { code { (evidence_text(value)) } }
                        }
                    }
                }
            }
        }
    }
}

fn evidence_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The inconclusive subjects a result kept, each with why.
fn inconclusive(result: &ResultEntry) -> Markup {
    html! {
        @if !result.inconclusive.is_empty() {
            ul.inconclusive {
                @for finding in &result.inconclusive {
                    li {
                        @if let Some(location) = &finding.location { code { (location.file) ":" (location.line) } " " }
                        (super::terminal::subject_text(&finding.subject)) ": " (finding.message)
                    }
                }
            }
        }
    }
}

/// Rules of one status grouped by reason: one entry per reason with its rules.
fn not_judged(report: &Report, status: Status, id: &str, heading: &str, lede: &str) -> Markup {
    let groups = by_reason(report, status);
    let count: usize = groups.iter().map(|group| group.results.len()).sum();
    let collapsed = status == Status::NotApplicable;
    let body = html! {
        p.lede { (lede) }
        @for group in &groups {
            div.reason {
                p {
                    strong { (group.reason) }
                    @if !group.collections.is_empty() { " (not collected: " (group.collections.join(", ")) ")" }
                }
                p.ids {
                    @for result in &group.results {
                        @let title = report.rule(&result.rule_id).map_or("", |rule| rule.title.as_str());
                        code title=(title) { (result.rule_id) } " "
                    }
                }
                @for result in group.results.iter().filter(|result| !result.inconclusive.is_empty()) {
                    p { code { (result.rule_id) } }
                    (inconclusive(result))
                }
            }
        }
    };
    html! {
        section id=(id) {
            @if collapsed {
                details { summary { h2 { (heading) " (" (count) ")" } } (body) }
            } @else {
                h2 { (heading) " (" (count) ")" }
                @if groups.is_empty() { p.none { "Every applicable rule was judged." } } @else { (body) }
            }
        }
    }
}

/// Every framework's controls, each framework collapsed; a failed rule links to its block.
fn compliance(report: &Report) -> Markup {
    let failed: std::collections::BTreeSet<&str> =
        report.with_status(Status::Fail).map(|(result, _)| result.rule_id.as_str()).collect();
    html! {
        section #compliance {
            h2 { "Compliance" }
            @for view in &report.compliance {
                details {
                    summary { h3 { (view.name) " " (view.version) } " " (counts(&view.counts)) }
                    @for section in &view.sections {
                        h4 { (section.id) " " (section.title) " " (counts(&section.counts)) }
                        table.controls {
                            tbody {
                                @for control in &section.controls {
                                    tr {
                                        td { code { (control.id) } }
                                        td { span class={ "status " (status_class(control.status)) } { (control.status.words()) } }
                                        td { (control.title) }
                                        td {
                                            @for rule in &control.rules {
                                                @if failed.contains(rule.as_str()) { a href={ "#rule-" (rule) } { (rule) } } @else { code { (rule) } }
                                                " "
                                            }
                                            @if let Some(reason) = &control.reason { span.reason { (reason) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn counts(counts: &std::collections::BTreeMap<ControlStatus, usize>) -> Markup {
    html! {
        span.counts {
            @for status in ControlStatus::ALL {
                @if let Some(count) = counts.get(&status) {
                    span class={ "status " (status_class(status)) } { (count) " " (status.words()) } " "
                }
            }
        }
    }
}

fn status_class(status: ControlStatus) -> &'static str {
    match status {
        ControlStatus::Fail => "fail",
        ControlStatus::NotEvaluated => "not-evaluated",
        ControlStatus::Pass => "pass",
        ControlStatus::NotApplicable => "not-applicable",
        ControlStatus::Manual => "manual",
        ControlStatus::NotCovered => "not-covered",
    }
}

/// Passed rules, collapsed.
fn passed(report: &Report) -> Markup {
    let passed: Vec<&RuleInfo> = report.with_status(Status::Pass).map(|(_, rule)| rule).collect();
    html! {
        section #passed {
            details {
                summary { h2 { "Passed (" (passed.len()) ")" } }
                ul.passed { @for rule in passed { li { code { (rule.id) } " " (rule.title) } } }
            }
        }
    }
}

/// The configuration's exceptions: state, rule, subject, reason, owner, expiry.
fn exceptions(report: &Report) -> Markup {
    html! {
        @if !report.exceptions.is_empty() {
            section #exceptions {
                h2 { "Exceptions (" (report.exceptions.len()) ")" }
                table.exceptions {
                    thead { tr { th { "State" } th { "Rule" } th { "Subject" } th { "Reason" } th { "Owner" } th { "Expires" } th { "Findings" } } }
                    tbody {
                        @for exception in &report.exceptions {
                            tr {
                                td { (match exception.state { ExceptionState::Applied => "applied", ExceptionState::Unused => "unused", ExceptionState::Expired => "expired" }) }
                                td { code { (exception.rule) } }
                                td { (super::terminal::selector_text(&exception.subject)) }
                                td { (exception.reason) }
                                td { (exception.owner) }
                                td { (exception.expires.as_deref().unwrap_or("never")) }
                                td { (exception.findings) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A score's colour band: under 50 is poor, under 75 fair.
fn band(value: f64) -> &'static str {
    if value < 50.0 {
        "poor"
    } else if value < 75.0 {
        "fair"
    } else {
        "good"
    }
}

/// Text with its `backticked` parts as code (rule texts are written that way).
fn with_code(text: &str) -> Markup {
    html! {
        @for (index, part) in text.split('`').enumerate() {
            @if index % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}
