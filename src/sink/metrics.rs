//! The report as Prometheus text exposition format (version 0.0.4), for a Pushgateway.
//!
//! Labels take only values from closed sets (category, severity, grade, status), so a
//! cluster adds a fixed number of series however many objects it has; which cluster
//! pushed is the Pushgateway grouping key's business. Every label combination is
//! written, zeros included, so an alert never sees a series vanish when it clears.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::engine::{Category, Severity, Status};
use crate::report::Report;
use crate::score::Grade;

const GRADES: [(Grade, &str); 5] =
    [(Grade::A, "A"), (Grade::B, "B"), (Grade::C, "C"), (Grade::D, "D"), (Grade::F, "F")];
const STATUSES: [Status; 4] = [Status::Pass, Status::Fail, Status::NotEvaluated, Status::NotApplicable];

/// Writes one metric family: HELP, TYPE (always a gauge) and its samples.
fn family(text: &mut String, name: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(text, "{name}{labels} {value}");
    }
}

/// Renders the report's headline figures as metrics.
pub fn render(report: &Report) -> String {
    let mut text = String::new();
    family(
        &mut text,
        "seaworthy_score",
        "Overall production-readiness score, 0 to 100 (docs/scoring.md); NaN when nothing was judged.",
        &[(String::new(), report.score.overall.unwrap_or(f64::NAN))],
    );
    let categories: Vec<(String, f64)> = report
        .score
        .categories
        .iter()
        .map(|(category, score)| (format!("{{category=\"{category}\"}}"), *score))
        .collect();
    family(&mut text, "seaworthy_category_score", "Score per rule category, 0 to 100.", &categories);
    let grades: Vec<(String, f64)> = GRADES
        .iter()
        .map(|(grade, name)| {
            (format!("{{grade=\"{name}\"}}"), if Some(*grade) == report.score.grade { 1.0 } else { 0.0 })
        })
        .collect();
    family(&mut text, "seaworthy_grade", "1 for the scan's grade (A to F), 0 for the others.", &grades);
    family(
        &mut text,
        "seaworthy_coverage_percent",
        "Severity-weighted share of applicable rules that could be judged, 0 to 100.",
        &[(String::new(), report.score.coverage)],
    );

    let mut findings: BTreeMap<(Category, Severity), usize> = BTreeMap::new();
    let mut excepted = 0;
    for result in &report.results {
        excepted += result.excepted.len();
        if let Some(rule) = report.rule(&result.rule_id) {
            *findings.entry((rule.category, rule.severity)).or_default() += result.findings.len();
        }
    }
    let findings: Vec<(String, f64)> = Category::ALL
        .iter()
        .flat_map(|category| Severity::ALL.iter().map(move |severity| (*category, *severity)))
        .map(|key| {
            let count = findings.get(&key).copied().unwrap_or_default();
            (format!("{{category=\"{}\",severity=\"{}\"}}", key.0, key.1), count as f64)
        })
        .collect();
    family(
        &mut text,
        "seaworthy_findings",
        "Failing findings not covered by an exception, by rule category and severity.",
        &findings,
    );
    family(
        &mut text,
        "seaworthy_excepted_findings",
        "Failing findings covered by an exception of the configuration.",
        &[(String::new(), excepted as f64)],
    );
    let rules: Vec<(String, f64)> = STATUSES
        .iter()
        .map(|status| {
            let count = report.results.iter().filter(|result| result.status == *status).count();
            (format!("{{status=\"{}\"}}", status.as_str()), count as f64)
        })
        .collect();
    family(&mut text, "seaworthy_rules", "Rules by result: pass, fail, not_evaluated, not_applicable.", &rules);
    if let Some(baseline) = &report.baseline {
        family(
            &mut text,
            "seaworthy_new_findings",
            "Findings the --baseline scan did not have.",
            &[(String::new(), baseline.new as f64)],
        );
    }
    let finished = report.finished_at.parse::<jiff::Timestamp>().map_or(0.0, |time| time.as_second() as f64);
    family(
        &mut text,
        "seaworthy_last_scan_timestamp_seconds",
        "Unix time the scan finished: alert when it stops moving.",
        &[(String::new(), finished)],
    );
    text
}
