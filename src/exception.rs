//! Applies the configuration's exceptions to rule results.
//!
//! An exception moves matching findings out of a result into its `excepted` list; a
//! result left with no finding passes. An exception past its expiry date applies to
//! nothing and is reported as expired, with the findings it would have covered, so
//! that an expiry is noticed rather than silently re-failing.

use globset::{Glob, GlobMatcher};
use jiff::civil::Date;
use schemars::JsonSchema;
use serde::Serialize;

use crate::config::{Exception, SubjectSelector};
use crate::engine::{Finding, RuleResult, Status};
use crate::facts::Subject;

/// A finding covered by an exception.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptedFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// Index of the exception in the report's `exceptions` list.
    pub exception: usize,
}

/// What became of an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    /// It covered at least one finding.
    Applied,
    /// It matched no finding (fixed, or a typo in its selector).
    Unused,
    /// Its expiry date has passed; it covered nothing.
    Expired,
}

/// An exception with what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionOutcome {
    /// Rule id or glob.
    pub rule: String,
    /// Subject selector.
    pub subject: SubjectSelector,
    /// Why it was accepted.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// Last day it applies (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Applied, unused or expired.
    pub state: ExceptionState,
    /// Findings it covers (or, when expired, would have covered).
    pub findings: usize,
}

/// Results with exceptions applied.
pub struct Excepted {
    /// Excepted findings per result, in the order of the results.
    pub per_result: Vec<Vec<ExceptedFinding>>,
    /// Every exception, in configuration order.
    pub outcomes: Vec<ExceptionOutcome>,
}

/// An exception's selector does not compile.
#[derive(Debug, thiserror::Error)]
#[error("exception {index}: invalid pattern `{pattern}`: {reason}")]
pub struct ExceptionError {
    /// 1-based position in the configuration.
    pub index: usize,
    /// The pattern.
    pub pattern: String,
    /// Why it is invalid.
    pub reason: String,
}

struct Compiled {
    rule: GlobMatcher,
    fields: [Option<GlobMatcher>; 4],
    expired: bool,
}

impl Compiled {
    fn matches(&self, rule_id: &str, subject: &Subject) -> bool {
        let values = [Some(&subject.kind), subject.namespace.as_ref(), Some(&subject.name), subject.container.as_ref()];
        self.rule.is_match(rule_id)
            && self.fields.iter().zip(values).all(|(matcher, value)| {
                matcher.as_ref().is_none_or(|matcher| value.is_some_and(|value| matcher.is_match(value)))
            })
    }
}

/// Applies `exceptions` as of `today`: moves covered findings out of `results`.
pub fn apply(results: &mut [RuleResult], exceptions: &[Exception], today: Date) -> Result<Excepted, ExceptionError> {
    let compiled = exceptions
        .iter()
        .enumerate()
        .map(|(index, exception)| compile(index + 1, exception, today))
        .collect::<Result<Vec<_>, _>>()?;
    let mut counts = vec![0_usize; exceptions.len()];
    let mut per_result = Vec::with_capacity(results.len());
    for result in results.iter_mut() {
        let mut excepted = Vec::new();
        let mut kept = Vec::new();
        for finding in std::mem::take(&mut result.findings) {
            let first = compiled.iter().position(|exception| exception.matches(&result.rule_id, &finding.subject));
            match first {
                Some(index) => {
                    counts[index] += 1;
                    if compiled[index].expired {
                        kept.push(finding);
                    } else {
                        excepted.push(ExceptedFinding { finding, exception: index });
                    }
                }
                None => kept.push(finding),
            }
        }
        result.findings = kept;
        if result.status == Status::Fail && result.findings.is_empty() {
            result.status = Status::Pass;
        }
        per_result.push(excepted);
    }
    let outcomes = exceptions
        .iter()
        .zip(&compiled)
        .zip(counts)
        .map(|((exception, compiled), findings)| ExceptionOutcome {
            rule: exception.rule.clone(),
            subject: exception.subject.clone(),
            reason: exception.reason.clone(),
            owner: exception.owner.clone(),
            expires: exception.expires.map(|date| date.to_string()),
            state: if compiled.expired {
                ExceptionState::Expired
            } else if findings > 0 {
                ExceptionState::Applied
            } else {
                ExceptionState::Unused
            },
            findings,
        })
        .collect();
    Ok(Excepted { per_result, outcomes })
}

fn compile(index: usize, exception: &Exception, today: Date) -> Result<Compiled, ExceptionError> {
    let glob = |pattern: &str| {
        Glob::new(pattern).map(|glob| glob.compile_matcher()).map_err(|error| ExceptionError {
            index,
            pattern: pattern.to_owned(),
            reason: error.kind().to_string(),
        })
    };
    let selector = &exception.subject;
    let optional = |pattern: &Option<String>| pattern.as_deref().map(glob).transpose();
    Ok(Compiled {
        rule: glob(&exception.rule)?,
        fields: [
            optional(&selector.kind)?,
            optional(&selector.namespace)?,
            optional(&selector.name)?,
            optional(&selector.container)?,
        ],
        expired: exception.expires.is_some_and(|expires| expires < today),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(namespace: &str, name: &str) -> Finding {
        Finding {
            subject: Subject {
                kind: "Deployment".into(),
                namespace: Some(namespace.into()),
                name: name.into(),
                ..Subject::default()
            },
            message: "m".into(),
            evidence: None,
            fingerprint: "f".into(),
            location: None,
            baseline: None,
        }
    }

    fn failing(findings: Vec<Finding>) -> RuleResult {
        RuleResult {
            rule_id: "IMAGE-001".into(),
            status: Status::Fail,
            reason: None,
            subjects: findings.len(),
            findings,
        }
    }

    fn exception(namespace: &str, expires: Option<Date>) -> Exception {
        Exception {
            rule: "IMAGE-*".into(),
            subject: SubjectSelector { namespace: Some(namespace.into()), ..SubjectSelector::default() },
            reason: "vendor".into(),
            owner: "team".into(),
            expires,
        }
    }

    #[test]
    fn matching_findings_move_and_a_fully_excepted_rule_passes() {
        let mut results = vec![failing(vec![finding("legacy", "a"), finding("app", "b")])];
        let today = jiff::civil::date(2026, 1, 1);
        let outcome = apply(&mut results, &[exception("legacy", None)], today).expect("valid globs");
        assert_eq!(results[0].findings.len(), 1);
        assert_eq!(outcome.per_result[0].len(), 1);
        assert_eq!(outcome.outcomes[0].state, ExceptionState::Applied);

        let mut results = vec![failing(vec![finding("legacy", "a")])];
        apply(&mut results, &[exception("legacy", None)], today).expect("valid globs");
        assert_eq!(results[0].status, Status::Pass);
    }

    #[test]
    fn expiry_is_judged_against_the_injected_day() {
        let expires = Some(jiff::civil::date(2026, 6, 30));
        let mut results = vec![failing(vec![finding("legacy", "a")])];
        let outcome =
            apply(&mut results, &[exception("legacy", expires)], jiff::civil::date(2026, 6, 30)).expect("valid");
        assert_eq!(outcome.outcomes[0].state, ExceptionState::Applied, "the expiry day itself still applies");

        let mut results = vec![failing(vec![finding("legacy", "a")])];
        let outcome =
            apply(&mut results, &[exception("legacy", expires)], jiff::civil::date(2026, 7, 1)).expect("valid");
        assert_eq!(outcome.outcomes[0].state, ExceptionState::Expired);
        assert_eq!(outcome.outcomes[0].findings, 1);
        assert_eq!(results[0].status, Status::Fail);
        assert!(outcome.per_result[0].is_empty());
    }

    #[test]
    fn unmatched_exceptions_are_reported_unused() {
        let mut results = vec![failing(vec![finding("app", "a")])];
        let outcome = apply(&mut results, &[exception("legacy", None)], jiff::civil::date(2026, 1, 1)).expect("valid");
        assert_eq!(outcome.outcomes[0].state, ExceptionState::Unused);
    }
}
