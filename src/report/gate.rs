//! The gate: what decides a scan's exit code, decided once from the report, and said —
//! on stderr as its last line, and in the JSON report as `gate`.

use schemars::JsonSchema;
use serde::Serialize;

use super::Report;
use crate::engine::{BaselineState, Severity};

/// The thresholds a scan was given (`--fail-on`, `--min-score`, `--min-coverage`,
/// `--fail-on-new`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Thresholds {
    /// The least severe finding that fails the gate; `None` when findings never do.
    pub fail_on: Option<Severity>,
    /// The lowest passing score.
    pub min_score: Option<f64>,
    /// The lowest passing coverage, in percent.
    pub min_coverage: Option<f64>,
    /// Only findings new against the baseline count.
    pub fail_on_new: bool,
}

/// What the gate decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Exit 0.
    Pass,
    /// Exit 1: findings at or above the threshold, or a score below the minimum.
    Fail,
    /// Exit 3: nothing judged, coverage below the minimum, or input that could not be read.
    Incomplete,
}

impl Verdict {
    /// The exit code this verdict gives (a failed sink, 4, is decided elsewhere).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Pass => 0,
            Self::Fail => 1,
            Self::Incomplete => 3,
        }
    }
}

/// The gate's decision and every reason behind it, the deciding one first.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    /// The thresholds.
    pub thresholds: Thresholds,
    /// The verdict.
    pub verdict: Verdict,
    /// Why: the reason that decided the verdict first, then any other threshold that
    /// failed too. For a pass, what was checked.
    pub reasons: Vec<String>,
}

impl Gate {
    /// The line stderr ends with.
    pub fn summary(&self) -> String {
        let reason = self.reasons.first().map_or("", String::as_str);
        match self.verdict {
            Verdict::Pass => format!("gate passed: {reason}"),
            Verdict::Fail => format!("gate failed: {reason}"),
            Verdict::Incomplete => format!("gate incomplete: {reason}"),
        }
    }
}

/// Decides the gate: nothing judged is incomplete whatever else holds; findings at or
/// above `fail_on` and a score below `min_score` fail; coverage below `min_coverage` and
/// documents that could not be read are incomplete.
pub fn decide(report: &Report, thresholds: Thresholds) -> Gate {
    if let Some(ungraded) = &report.score.ungraded {
        // Worded "nothing judged: …" by the score.
        return Gate { thresholds, verdict: Verdict::Incomplete, reasons: vec![ungraded.clone()] };
    }
    let mut failed = Vec::new();
    let flag = severity_flag(thresholds.fail_on);
    if let Some(threshold) = thresholds.fail_on {
        let counts = |state: Option<BaselineState>| !thresholds.fail_on_new || state == Some(BaselineState::New);
        let severe: usize = report
            .results
            .iter()
            .filter(|result| report.rule(&result.rule_id).is_some_and(|rule| rule.severity <= threshold))
            .map(|result| result.findings.iter().filter(|finding| counts(finding.baseline)).count())
            .sum();
        if severe > 0 {
            let new = if thresholds.fail_on_new { "new " } else { "" };
            failed.push(format!("{severe} {new}finding(s) at or above {} ({flag})", threshold.as_str()));
        }
    }
    let score = report.score.overall;
    if let (Some(minimum), Some(score)) = (thresholds.min_score, score)
        && score < minimum
    {
        failed.push(format!("score {score:.1} below --min-score {minimum}"));
    }
    let coverage = report.score.coverage;
    let short = thresholds
        .min_coverage
        .filter(|minimum| coverage < *minimum)
        .map(|minimum| format!("coverage {coverage:.1}% below --min-coverage {minimum}"));
    // Missing evidence never passes: what could not be read was not judged.
    let unread = report.source.unparsed.len();
    let unread = (unread > 0).then(|| {
        format!("{unread} document(s) could not be read and were not judged (see source.unparsed; --strict stops at the first)")
    });
    let incomplete: Vec<String> = short.into_iter().chain(unread).collect();
    let (verdict, reasons) = if !failed.is_empty() {
        failed.extend(incomplete);
        (Verdict::Fail, failed)
    } else if !incomplete.is_empty() {
        (Verdict::Incomplete, incomplete)
    } else {
        let findings = match thresholds.fail_on {
            Some(threshold) => format!("no finding at or above {} ({flag})", threshold.as_str()),
            None => "findings do not fail the gate (--fail-on none)".to_owned(),
        };
        (Verdict::Pass, vec![findings])
    };
    Gate { thresholds, verdict, reasons }
}

fn severity_flag(fail_on: Option<Severity>) -> String {
    format!("--fail-on {}", fail_on.map_or("none", Severity::as_str))
}
