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
use crate::engine::{Finding, RuleResult};
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

/// An exception of the configuration is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ExceptionError {
    /// A selector does not compile.
    #[error("exception {index}: invalid pattern `{pattern}`: {reason}")]
    BadPattern {
        /// 1-based position in the configuration.
        index: usize,
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A field every exception needs is empty.
    #[error(
        "exception {index} (rule `{rule}`): `{field}` must say something: an exception needs a reason and an owner"
    )]
    Empty {
        /// 1-based position in the configuration.
        index: usize,
        /// Its rule pattern.
        rule: String,
        /// The empty field.
        field: &'static str,
    },
    /// The rule pattern matches no rule of the catalog: a typo would except nothing,
    /// or a rule that is later added.
    #[error("exception {index}: rule `{rule}` matches no rule (see `seaworthy rules`)")]
    NoRule {
        /// 1-based position in the configuration.
        index: usize,
        /// Its rule pattern.
        rule: String,
    },
    /// The exception matches every rule and every subject: it would hide the whole scan.
    #[error(
        "exception {index}: rule `{rule}` with no subject selector excepts everything: name the rules and subjects it covers"
    )]
    Everything {
        /// 1-based position in the configuration.
        index: usize,
        /// Its rule pattern.
        rule: String,
    },
}

/// Checks every exception against the whole catalog (before `--select` narrows it): a
/// reason and an owner are given, the rule pattern compiles and matches at least one
/// rule, and no exception covers every rule and subject at once.
pub fn validate(exceptions: &[Exception], rule_ids: &[&str]) -> Result<(), ExceptionError> {
    for (position, exception) in exceptions.iter().enumerate() {
        let index = position + 1;
        for (field, value) in [("reason", &exception.reason), ("owner", &exception.owner)] {
            if value.trim().is_empty() {
                return Err(ExceptionError::Empty { index, rule: exception.rule.clone(), field });
            }
        }
        let compiled = compile(index, exception, jiff::civil::Date::MIN)?;
        let matched = rule_ids.iter().filter(|id| compiled.rule.is_match(id)).count();
        if matched == 0 {
            return Err(ExceptionError::NoRule { index, rule: exception.rule.clone() });
        }
        if matched == rule_ids.len() && compiled.fields.iter().all(Option::is_none) {
            return Err(ExceptionError::Everything { index, rule: exception.rule.clone() });
        }
    }
    Ok(())
}

struct Compiled {
    rule: GlobMatcher,
    fields: [Option<GlobMatcher>; 4],
    expired: bool,
}

impl Compiled {
    fn matches(&self, rule_id: &str, subject: &Subject) -> bool {
        let values = [
            Some(&*subject.kind),
            subject.namespace.as_deref(),
            Some(subject.name.as_str()),
            subject.container.as_deref(),
        ];
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
        let rule_id = result.rule_id.as_str();
        let first_match =
            |finding: &Finding| compiled.iter().position(|exception| exception.matches(rule_id, &finding.subject));
        // Moved out in place: a copy of the kept findings would double the memory of
        // the largest result (50,000 findings are 11 MB) for the moment of the copy.
        let excepted: Vec<ExceptedFinding> = result
            .findings
            .extract_if(.., |finding| {
                let Some(index) = first_match(finding) else { return false };
                counts[index] += 1;
                !compiled[index].expired
            })
            .map(|finding| {
                let exception = first_match(&finding).expect("an extracted finding matched an exception");
                ExceptedFinding { finding, exception }
            })
            .collect();
        result.tally.excepted += excepted.len();
        result.tally.failing = result.findings.len();
        result.settle();
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
        Glob::new(pattern).map(|glob| glob.compile_matcher()).map_err(|error| ExceptionError::BadPattern {
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
    use crate::engine::{Status, Tally};

    fn finding(namespace: &str, name: &str) -> Finding {
        Finding {
            subject: Subject {
                kind: "Deployment".into(),
                namespace: Some(namespace.into()),
                name: name.into(),
                ..Subject::default()
            }
            .into(),
            message: "m".into(),
            evidence: None,
            fingerprint: crate::engine::fingerprint("test", "IMAGE-001", &Subject::default()),
            location: None,
            baseline: None,
        }
    }

    fn failing(findings: Vec<Finding>) -> RuleResult {
        let tally = Tally { failing: findings.len(), scope: "containers".into(), ..Tally::default() };
        RuleResult::new("IMAGE-001".into(), tally, findings)
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
    fn an_exception_never_turns_an_unknown_subject_into_a_pass() {
        let mut result = failing(vec![finding("legacy", "a")]);
        result.tally.inconclusive = 1;
        result.settle();
        assert_eq!(result.status, Status::Fail);
        let mut results = vec![result];
        apply(&mut results, &[exception("legacy", None)], jiff::civil::date(2026, 1, 1)).expect("valid");
        assert_eq!(results[0].status, Status::NotEvaluated, "the inconclusive subject is still unjudged");
        assert_eq!(results[0].reason.as_deref(), Some("evidence inconclusive for 1 subject(s)"));
        assert_eq!(results[0].subjects, 1, "the excepted subject was judged");
        // Control: without the inconclusive subject the excepted rule passes.
        let mut results = vec![failing(vec![finding("legacy", "a")])];
        apply(&mut results, &[exception("legacy", None)], jiff::civil::date(2026, 1, 1)).expect("valid");
        assert_eq!(results[0].status, Status::Pass);
    }

    #[test]
    fn exceptions_need_a_reason_an_owner_and_a_rule_they_match() {
        let rules = ["IMAGE-001", "IMAGE-002", "POD-001"];
        let valid = exception("legacy", None);
        assert!(validate(std::slice::from_ref(&valid), &rules).is_ok());
        let cases = [
            (Exception { reason: " ".into(), ..valid.clone() }, "`reason` must say something"),
            (Exception { owner: String::new(), ..valid.clone() }, "`owner` must say something"),
            (Exception { rule: "IMAGE-01*".into(), ..valid.clone() }, "matches no rule"),
            (Exception { rule: "[".into(), ..valid.clone() }, "invalid pattern"),
            (
                Exception { rule: "*".into(), subject: SubjectSelector::default(), ..valid.clone() },
                "excepts everything",
            ),
        ];
        for (exception, expected) in cases {
            let error = validate(&[valid.clone(), exception], &rules).expect_err(expected).to_string();
            assert!(error.starts_with("exception 2"), "{error}");
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn unmatched_exceptions_are_reported_unused() {
        let mut results = vec![failing(vec![finding("app", "a")])];
        let outcome = apply(&mut results, &[exception("legacy", None)], jiff::civil::date(2026, 1, 1)).expect("valid");
        assert_eq!(outcome.outcomes[0].state, ExceptionState::Unused);
    }
}
