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
    /// 0–100, one decimal; `null` when nothing was judged (see `ungraded`).
    pub overall: Option<f64>,
    /// A–F; `null` when nothing was judged.
    pub grade: Option<Grade>,
    /// Why there is no score and grade: nothing was judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ungraded: Option<String>,
    /// 0–100, one decimal: severity-weighted share of applicable rules judged.
    pub coverage: f64,
    /// Score per category, 0–100, for categories with at least one rule.
    pub categories: BTreeMap<Category, f64>,
    /// Why the grade is F whatever the score: a verified attack path from the network
    /// to cluster-admin, etcd or every Secret (see `attackPaths`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capped: Option<String>,
}

impl Score {
    /// Caps a graded score's grade at F, saying why.
    pub fn cap(&mut self, reason: String) {
        if self.grade.is_some() {
            self.grade = Some(Grade::F);
            self.capped = Some(reason);
        }
    }
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

/// Why a scan gets no grade, if it gets none: no object of a kind the catalog reads,
/// or no applicable rule judged. A scan of nothing must never look like an A.
fn ungraded(objects: usize, coverage: f64) -> Option<String> {
    if objects == 0 {
        Some("nothing judged: the input holds no object of a kind seaworthy reads".into())
    } else if coverage <= 0.0 {
        Some("nothing judged: no applicable rule could be evaluated (coverage 0%)".into())
    } else {
        None
    }
}

/// Scores a set of results over facts that hold `objects` objects.
pub fn score(rules: &[Judged], objects: usize) -> Score {
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
    // `+ 0.0` turns a negative zero into a positive one: coverage never prints `-0.0`.
    let coverage = round(coverage) + 0.0;
    match ungraded(objects, coverage) {
        Some(reason) => Score {
            overall: None,
            grade: None,
            ungraded: Some(reason),
            coverage,
            categories: BTreeMap::new(),
            capped: None,
        },
        None => Score {
            overall: Some(overall),
            grade: Some(grade(overall, critical_failure)),
            ungraded: None,
            coverage,
            categories,
            capped: None,
        },
    }
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
            let before = score(&rules, 1);
            let mut after = rules.clone();
            if let Some(rule) = (!after.is_empty()).then(|| &mut after[pick.index(rules.len())])
                && rule.failing > 0
            {
                rule.failing -= 1;
                if rule.failing == 0 {
                    rule.status = Status::Pass;
                }
            }
            let after = score(&after, 1);
            prop_assert!(after.overall.unwrap_or(100.0) >= before.overall.unwrap_or(100.0));
            for (category, value) in &before.categories {
                prop_assert!(after.categories.get(category).is_none_or(|after| after >= value));
            }
        }

        #[test]
        fn excluding_a_rule_never_lowers_the_score(rules in prop::collection::vec(judged(), 1..30), pick in any::<prop::sample::Index>()) {
            let before = score(&rules, 1);
            let mut after = rules.clone();
            after.remove(pick.index(rules.len()));
            prop_assert!(score(&after, 1).overall.unwrap_or(100.0) >= before.overall.unwrap_or(100.0));
        }

        #[test]
        fn score_and_coverage_stay_within_bounds(rules in prop::collection::vec(judged(), 0..60)) {
            let result = score(&rules, 1);
            prop_assert!((0.0..=100.0).contains(&result.overall.unwrap_or(0.0)));
            prop_assert_eq!(result.overall.is_none(), result.coverage <= 0.0);
            prop_assert!((0.0..=100.0).contains(&result.coverage));
        }
    }

    #[test]
    fn an_empty_scan_has_zero_coverage_and_no_grade() {
        let result = score(&[], 0);
        assert!(result.coverage.abs() < f64::EPSILON);
        assert!(result.coverage.is_sign_positive(), "never -0.0");
        assert_eq!((result.overall, result.grade), (None, None));
    }

    #[test]
    fn rules_that_pass_over_no_object_give_no_grade() {
        let passing = Judged {
            severity: Severity::High,
            category: Category::Security,
            status: Status::Pass,
            failing: 0,
            subjects: 1,
        };
        let nothing = score(&[passing], 0);
        assert_eq!(nothing.grade, None);
        assert!(nothing.ungraded.as_deref().is_some_and(|reason| reason.starts_with("nothing judged")));
        // Control: the same result over one object is graded.
        assert_eq!(score(&[passing], 1).grade, Some(Grade::A));
    }

    #[test]
    fn nothing_judged_means_zero_coverage_and_no_grade() {
        let unjudged = Judged {
            severity: Severity::High,
            category: Category::Security,
            status: Status::NotEvaluated,
            failing: 0,
            subjects: 0,
        };
        let result = score(&[unjudged], 5);
        assert_eq!(result.overall, None);
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
        assert!((score(&[high_half], 1).overall.expect("graded") - 85.0).abs() < 1e-9);
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
