//! Score, grade and coverage (published in `docs/scoring.md`).
//!
//! Each failing rule multiplies the score by `1 - p * (0.5 + 0.5 * f / n)`, where `p`
//! is its severity's penalty and `f` of its `n` judged subjects failed; other rules
//! contribute 1. Coverage is the severity-weighted share of applicable rules that could
//! be judged, so that "no evidence" never looks like a good score.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{Category, Severity, Status};

/// The penalty of one failing rule, by severity.
pub fn penalty(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 0.40,
        Severity::High => 0.20,
        Severity::Medium => 0.08,
        Severity::Low => 0.02,
        Severity::Info => 0.0,
    }
}

/// The weight of a rule in coverage, by severity.
pub fn coverage_weight(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 4.0,
        Severity::High => 3.0,
        Severity::Medium => 2.0,
        Severity::Low | Severity::Info => 1.0,
    }
}

/// A letter grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Grade {
    /// 90 and above.
    A,
    /// 75 and above.
    B,
    /// 60 and above.
    C,
    /// 40 and above, or any failing critical rule.
    D,
    /// Below 40.
    F,
}

/// What the score needs of one rule's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judged {
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's category.
    pub category: Category,
    /// The outcome.
    pub status: Status,
    /// Failing subjects (after exceptions).
    pub failing: usize,
    /// Judged subjects.
    pub subjects: usize,
}

/// Score, grade and coverage of a scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    /// 0–100, one decimal.
    pub overall: f64,
    /// A–F.
    pub grade: Grade,
    /// 0–100, one decimal: severity-weighted share of applicable rules judged.
    pub coverage: f64,
    /// Score per category, 0–100, for categories with at least one rule.
    pub categories: BTreeMap<Category, f64>,
}

fn factor(rule: &Judged) -> f64 {
    if rule.status != Status::Fail || rule.failing == 0 {
        return 1.0;
    }
    let share = rule.failing as f64 / rule.subjects.max(rule.failing) as f64;
    1.0 - penalty(rule.severity) * (0.5 + 0.5 * share)
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The grade of a score; a failing critical rule caps it at D.
pub fn grade(score: f64, critical_failure: bool) -> Grade {
    let grade = match score {
        s if s >= 90.0 => Grade::A,
        s if s >= 75.0 => Grade::B,
        s if s >= 60.0 => Grade::C,
        s if s >= 40.0 => Grade::D,
        _ => Grade::F,
    };
    if critical_failure { grade.max(Grade::D) } else { grade }
}

/// Scores a set of results.
pub fn score(rules: &[Judged]) -> Score {
    let overall = 100.0 * rules.iter().map(factor).product::<f64>();
    let mut categories = BTreeMap::new();
    for category in Category::ALL {
        let members: Vec<&Judged> = rules.iter().filter(|rule| rule.category == category).collect();
        if !members.is_empty() {
            categories.insert(category, round(100.0 * members.iter().map(|rule| factor(rule)).product::<f64>()));
        }
    }
    let applicable: Vec<&Judged> = rules.iter().filter(|rule| rule.status != Status::NotApplicable).collect();
    let total: f64 = applicable.iter().map(|rule| coverage_weight(rule.severity)).sum();
    let judged: f64 = applicable
        .iter()
        .filter(|rule| matches!(rule.status, Status::Pass | Status::Fail))
        .map(|rule| coverage_weight(rule.severity))
        .sum();
    let coverage = if total > 0.0 { 100.0 * judged / total } else { 0.0 };
    let critical_failure =
        rules.iter().any(|rule| rule.severity == Severity::Critical && rule.status == Status::Fail && rule.failing > 0);
    let overall = round(overall);
    Score { overall, grade: grade(overall, critical_failure), coverage: round(coverage), categories }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn severity() -> impl Strategy<Value = Severity> {
        prop::sample::select(Severity::ALL.to_vec())
    }

    fn category() -> impl Strategy<Value = Category> {
        prop::sample::select(Category::ALL.to_vec())
    }

    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(vec![Status::Pass, Status::Fail, Status::NotEvaluated, Status::NotApplicable])
    }

    prop_compose! {
        fn judged()(severity in severity(), category in category(), status in status(), subjects in 1_usize..20)
            (failing in 0..=subjects, severity in Just(severity), category in Just(category), status in Just(status), subjects in Just(subjects)) -> Judged {
            let failing = if status == Status::Fail { failing.max(1) } else { 0 };
            Judged { severity, category, status, failing, subjects }
        }
    }

    proptest! {
        #[test]
        fn excepting_a_finding_never_lowers_the_score(rules in prop::collection::vec(judged(), 0..30), pick in any::<prop::sample::Index>()) {
            let before = score(&rules);
            let mut after = rules.clone();
            if let Some(rule) = (!after.is_empty()).then(|| &mut after[pick.index(rules.len())])
                && rule.failing > 0
            {
                rule.failing -= 1;
                if rule.failing == 0 {
                    rule.status = Status::Pass;
                }
            }
            let after = score(&after);
            prop_assert!(after.overall >= before.overall);
            for (category, value) in &before.categories {
                prop_assert!(after.categories[category] >= *value);
            }
        }

        #[test]
        fn excluding_a_rule_never_lowers_the_score(rules in prop::collection::vec(judged(), 1..30), pick in any::<prop::sample::Index>()) {
            let before = score(&rules);
            let mut after = rules.clone();
            after.remove(pick.index(rules.len()));
            prop_assert!(score(&after).overall >= before.overall);
        }

        #[test]
        fn score_and_coverage_stay_within_bounds(rules in prop::collection::vec(judged(), 0..60)) {
            let result = score(&rules);
            prop_assert!((0.0..=100.0).contains(&result.overall));
            prop_assert!((0.0..=100.0).contains(&result.coverage));
        }
    }

    #[test]
    fn an_empty_scan_has_zero_coverage() {
        let result = score(&[]);
        assert!(result.coverage.abs() < f64::EPSILON);
    }

    #[test]
    fn nothing_judged_means_zero_coverage_even_with_a_perfect_score() {
        let unjudged = Judged {
            severity: Severity::High,
            category: Category::Security,
            status: Status::NotEvaluated,
            failing: 0,
            subjects: 0,
        };
        let result = score(&[unjudged]);
        assert!((result.overall - 100.0).abs() < f64::EPSILON);
        assert!(result.coverage.abs() < f64::EPSILON);
    }

    #[test]
    fn factor_follows_the_published_formula() {
        let high_half = Judged {
            severity: Severity::High,
            category: Category::Security,
            status: Status::Fail,
            failing: 1,
            subjects: 2,
        };
        // 1 - 0.20 * (0.5 + 0.5 * 1/2) = 0.85
        assert!((score(&[high_half]).overall - 85.0).abs() < 1e-9);
    }

    #[test]
    fn a_failing_critical_rule_caps_the_grade_at_d() {
        assert_eq!(grade(95.0, true), Grade::D);
        assert_eq!(grade(20.0, true), Grade::F);
        assert_eq!(grade(95.0, false), Grade::A);
        assert_eq!(grade(75.0, false), Grade::B);
        assert_eq!(grade(59.9, false), Grade::D);
    }
}
