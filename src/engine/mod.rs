//! The rule engine: loads the catalog (YAML + CEL) and judges a facts document.
//!
//! The engine is a pure function of the facts: it does no I/O beyond reading rule
//! files at load time. Each rule yields `pass`, `fail` (one finding per failing
//! subject), `not_evaluated` (with the reason) or `not_applicable`.

pub mod budget;
mod judge;
pub mod rule;
mod shape;
mod template;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cel::{Context, Env, Program, Value};
use globset::{Glob, GlobMatcher};
use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, IntoParallelRefIterator, ParallelIterator};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use judge::{Parallelism, evaluate, evaluate_with};
pub use rule::{Category, Rule, Severity};
use shape::Vocabulary;

use crate::facts::Subject;
use crate::inventory::Location;

/// The built-in catalog: `(path, contents)` of every `rules/**/*.yaml`, embedded by `build.rs`.
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// Loading or selecting rules failed.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A rule file is malformed or refers to something that does not exist.
    #[error("{file}:{line}: {reason}")]
    Invalid {
        /// The rule file.
        file: String,
        /// The line of the offending key.
        line: u32,
        /// What is wrong.
        reason: String,
    },
    /// A rules directory could not be read.
    #[error("cannot read rules from {path}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Two rule files share an id.
    #[error("duplicate rule id {id}: {first} and {second}")]
    Duplicate {
        /// The id.
        id: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// A selection (`--select`, `--ignore`, a severity override) names no rule.
    #[error("{option}: no rule matches `{pattern}` (see `seaworthy rules`)")]
    UnknownRule {
        /// Where the pattern came from.
        option: String,
        /// The id or glob.
        pattern: String,
    },
    /// A selection pattern is not a valid glob.
    #[error("{option}: invalid pattern `{pattern}`: {reason}")]
    BadPattern {
        /// Where the pattern came from.
        option: String,
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        reason: String,
    },
}

/// The CEL environment: the standard library plus the strings extension (`split`,
/// `lowerAscii`, …), as Kubernetes' own CEL offers.
fn environment() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        env.add_extension(cel::extensions::strings).expect("the strings extension registers once");
        Arc::new(env)
    })
    .clone()
}

/// Compiles a CEL expression in seaworthy's environment.
pub(crate) fn compile(source: &str) -> Result<Program, cel::ParseErrors> {
    environment().compile(source)
}

/// What rules may refer to, built once from the schemas.
fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::new(&crate::facts::schema(), &crate::config::rule_inputs_schema()))
}

/// A loaded set of rules.
pub struct Catalog {
    /// The rules, sorted by id.
    pub rules: Vec<Rule>,
}

/// The rule files of a catalog, read and checked but not compiled: what is selected
/// from them is compiled ([`Drafts::compile`]), so `--select IMAGE-*` compiles two rules.
pub struct Drafts {
    /// In file order; ids are unique.
    drafts: Vec<rule::Draft>,
}

impl Drafts {
    /// Reads the built-in rules (unless `builtin` is false) and every `.yaml`/`.yml`
    /// file under `dirs`.
    pub fn read(builtin: bool, dirs: &[PathBuf]) -> Result<Self, RuleError> {
        let mut files: Vec<(String, String)> = Vec::new();
        if builtin {
            files.extend(BUILTIN.iter().map(|(path, text)| ((*path).to_owned(), (*text).to_owned())));
        }
        for dir in dirs {
            for path in rule_files(dir)? {
                let shown = path.display().to_string();
                let text = crate::walk::read_small_file(&path)
                    .map_err(|source| RuleError::Read { path: shown.clone(), source })?;
                files.push((shown, text));
            }
        }
        Self::from_sources(&files)
    }

    /// Parses `(origin, text)` pairs; ids must be unique.
    pub fn from_sources(files: &[(String, String)]) -> Result<Self, RuleError> {
        let parsed: Vec<Result<rule::Draft, RuleError>> =
            files.par_iter().with_min_len(4).map(|(origin, text)| rule::parse(origin, text)).collect();
        let mut drafts: Vec<rule::Draft> = Vec::with_capacity(files.len());
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for ((origin, _), draft) in files.iter().zip(parsed) {
            let draft = draft?;
            if let Some(first) = seen.insert(draft.id().to_owned(), origin.clone()) {
                return Err(RuleError::Duplicate { id: draft.id().to_owned(), first, second: origin.clone() });
            }
            drafts.push(draft);
        }
        Ok(Self { drafts })
    }

    /// Every rule id.
    pub fn ids(&self) -> Vec<&str> {
        self.drafts.iter().map(rule::Draft::id).collect()
    }

    /// Keeps the rules matching any `select` pattern (all when empty), then drops those
    /// matching any `ignore` pattern. A pattern that matches no rule is an error: a
    /// typo must not silently select nothing.
    pub fn select(&mut self, select: &[String], ignore: &[String]) -> Result<(), RuleError> {
        let ids = self.ids();
        let select = matchers("--select", select, &ids)?;
        let ignore = matchers("--ignore", ignore, &ids)?;
        self.drafts.retain(|draft| {
            (select.is_empty() || select.iter().any(|matcher| matcher.is_match(draft.id())))
                && !ignore.iter().any(|matcher| matcher.is_match(draft.id()))
        });
        Ok(())
    }

    /// Compiles the rules, on every core; the first error in file order is returned.
    pub fn compile(self) -> Result<Catalog, RuleError> {
        let (vocabulary, programs) = (vocabulary(), rule::Programs::default());
        let compiled: Vec<Result<Rule, RuleError>> = self
            .drafts
            .into_par_iter()
            .with_min_len(8)
            .map(|draft| rule::compile(draft, vocabulary, &programs))
            .collect();
        let mut rules = compiled.into_iter().collect::<Result<Vec<Rule>, RuleError>>()?;
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalog { rules })
    }
}

impl Catalog {
    /// Loads and compiles the built-in rules (unless `builtin` is false) and every
    /// `.yaml`/`.yml` file under `dirs`.
    pub fn load(builtin: bool, dirs: &[PathBuf]) -> Result<Self, RuleError> {
        Drafts::read(builtin, dirs)?.compile()
    }

    /// Builds a catalog from `(origin, text)` pairs; ids must be unique.
    pub fn from_sources(files: &[(String, String)]) -> Result<Self, RuleError> {
        Drafts::from_sources(files)?.compile()
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// Applies severity overrides by rule id or glob.
    pub fn override_severities(&mut self, overrides: &BTreeMap<String, Severity>) -> Result<(), RuleError> {
        for (pattern, severity) in overrides {
            let ids: Vec<&str> = self.rules.iter().map(|rule| rule.id.as_str()).collect();
            let matcher = matcher("severity", pattern, &ids)?;
            for rule in self.rules.iter_mut().filter(|rule| matcher.is_match(&rule.id)) {
                rule.severity = *severity;
            }
        }
        Ok(())
    }
}

fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, RuleError> {
    crate::walk::files_below(dir, &["yaml", "yml"])
        .map_err(|(path, source)| RuleError::Read { path: path.display().to_string(), source })
}

fn matcher(option: &str, pattern: &str, ids: &[&str]) -> Result<GlobMatcher, RuleError> {
    let glob = Glob::new(pattern).map_err(|error| RuleError::BadPattern {
        option: option.to_owned(),
        pattern: pattern.to_owned(),
        reason: error.kind().to_string(),
    })?;
    let matcher = glob.compile_matcher();
    if !ids.iter().any(|id| matcher.is_match(id)) {
        return Err(RuleError::UnknownRule { option: option.to_owned(), pattern: pattern.to_owned() });
    }
    Ok(matcher)
}

fn matchers(option: &str, patterns: &[String], ids: &[&str]) -> Result<Vec<GlobMatcher>, RuleError> {
    patterns.iter().map(|pattern| matcher(option, pattern, ids)).collect()
}

/// The outcome of one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every subject passed.
    Pass,
    /// At least one subject failed.
    Fail,
    /// Evidence was missing or inconclusive; never counts as a pass.
    NotEvaluated,
    /// Nothing to judge: no subjects, or the rule does not apply to this cluster.
    NotApplicable,
}

impl Status {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NotEvaluated => "not_evaluated",
            Self::NotApplicable => "not_applicable",
        }
    }
}

/// One failing subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// What failed.
    // Shared by every finding of one subject: one copy, not one per failing rule.
    pub subject: std::sync::Arc<Subject>,
    /// The rule's message for it.
    pub message: String,
    /// Named evidence values, from the rule's `evidence` expressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<crate::compact_map::CompactMap<serde_json::Value>>,
    /// Stable identity: SHA-256 of cluster identity, rule id and subject key.
    pub fingerprint: Fingerprint,
    /// Manifest file and line, when read from manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Against `--baseline`: whether the baseline had this finding too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

/// A finding compared with a baseline scan (SARIF's `baselineState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BaselineState {
    /// The baseline did not have it.
    New,
    /// The baseline had it too.
    Unchanged,
}

/// What a rule's subjects came to: the typed counts its status is decided from, in one
/// place ([`Tally::decide`]). The engine fills it; exceptions move failing subjects to
/// `excepted`; score, coverage, reports and drift read the status it decides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// A collection the rule reads is missing: the status and reason it forces.
    pub blocked: Option<(Status, String)>,
    /// What the rule iterates, for "nothing to judge" (`workloads`, or `cluster`).
    pub scope: String,
    /// Subjects that passed.
    pub passing: usize,
    /// Subjects that failed and are not covered by an exception.
    pub failing: usize,
    /// Failing subjects covered by an exception.
    pub excepted: usize,
    /// Subjects whose evidence was inconclusive (`unknown` held).
    pub inconclusive: usize,
    /// Subjects whose evaluation failed, with the first error.
    pub errors: usize,
    /// The first evaluation error.
    pub first_error: Option<String>,
    /// Evaluation steps charged against the rule's budget (estimates; see `budget`).
    pub steps: u64,
}

impl Tally {
    /// Subjects judged: passed, failed or excepted.
    pub fn judged(&self) -> usize {
        self.passing + self.failing + self.excepted
    }

    /// The status and its reason. A failure stands; otherwise any subject that could
    /// not be judged makes the rule not evaluated — an excepted finding never turns an
    /// unknown subject into a pass.
    pub fn decide(&self) -> (Status, Option<String>) {
        if let Some((status, reason)) = &self.blocked {
            return (*status, Some(reason.clone()));
        }
        let unjudged = match (&self.first_error, self.inconclusive) {
            (Some(error), _) => Some(format!("evaluation error on {} subject(s): {error}", self.errors)),
            (None, 0) => None,
            (None, count) => Some(format!("evidence inconclusive for {count} subject(s)")),
        };
        if self.failing > 0 {
            (Status::Fail, unjudged.map(|reason| format!("also not judged: {reason}")))
        } else if let Some(reason) = unjudged {
            (Status::NotEvaluated, Some(reason))
        } else if self.judged() == 0 {
            (Status::NotApplicable, Some(format!("no {} to which the rule applies", self.scope)))
        } else {
            (Status::Pass, None)
        }
    }
}

/// The result of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleResult {
    /// The rule.
    pub rule_id: String,
    /// The outcome, as [`Tally::decide`] decided it.
    pub status: Status,
    /// Why, for `not_evaluated` and `not_applicable`; for `fail`, subjects that could
    /// not be judged besides the failing ones.
    pub reason: Option<String>,
    /// Subjects judged (passed, failed or excepted).
    pub subjects: usize,
    /// Failing subjects not covered by an exception.
    pub findings: Vec<Finding>,
    /// The first [`INCONCLUSIVE_KEPT`] subjects whose evidence was inconclusive, in
    /// subject order, each with why (its evidence, or the `unknown` condition that held)
    /// as its message; the tally counts them all.
    pub inconclusive: Vec<Finding>,
    /// The counts the status is decided from.
    pub tally: Tally,
}

/// Inconclusive subjects a result keeps, to say why: all of them would cost a
/// finding's memory each where a probe timed out on every node.
pub const INCONCLUSIVE_KEPT: usize = 20;

impl RuleResult {
    /// A result whose status, reason and subject count follow from `tally`.
    pub fn new(rule_id: String, tally: Tally, findings: Vec<Finding>) -> Self {
        let mut result = Self {
            rule_id,
            status: Status::NotApplicable,
            reason: None,
            subjects: 0,
            findings,
            inconclusive: Vec::new(),
            tally,
        };
        result.settle();
        result
    }

    /// Decides status, reason and subject count from the tally again, after the tally
    /// changed (exceptions moved findings).
    pub fn settle(&mut self) {
        (self.status, self.reason) = self.tally.decide();
        self.subjects = self.tally.judged();
    }
}

/// A finding's stable identity: the SHA-256 of cluster identity, rule id and subject
/// key. Kept as its 32 bytes (a scan may hold hundreds of thousands) and written as 64
/// lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u8; 32]);

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(formatter, "{byte:02x}"))
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("`{text}` is not a fingerprint (64 hex digits)");
        if text.len() != 64 || !text.is_ascii() {
            return Err(invalid());
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(Self(bytes))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Fingerprint {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Fingerprint".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "SHA-256 of cluster identity, rule id and subject key, as 64 lowercase hex digits.",
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
        })
    }
}

/// A stable fingerprint for a finding.
pub fn fingerprint(identity: &str, rule_id: &str, subject: &Subject) -> Fingerprint {
    let key = format!("{identity}\u{1f}{rule_id}\u{1f}{}", subject.key());
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    Fingerprint(digest.as_ref().try_into().expect("SHA-256 is 32 bytes"))
}

/// Evaluates a condition that must be boolean.
fn check(condition: &rule::Condition, key: &str, scope: &Context<'_, '_>) -> Result<bool, String> {
    match condition.program.execute(scope) {
        Ok(Value::Bool(value)) => Ok(value),
        Ok(other) => Err(format!("{key} returned {other:?}, expected a boolean")),
        Err(error) => Err(format!("{key}: {error}")),
    }
}

/// The verdict on one subject; `None` when `when` excludes it. Each condition is
/// charged to `meter` before it runs.
fn verdict(
    rule: &Rule,
    costs: &RuleCosts,
    meter: &budget::Meter,
    scope: &Context<'_, '_>,
) -> Result<Option<Verdict>, Spent> {
    let afford = |cost| if meter.charge(cost) { Ok(()) } else { Err(Spent::Budget) };
    if let Some(when) = &rule.when {
        afford(costs.when)?;
        if !check(when, "when", scope).map_err(Spent::Error)? {
            return Ok(None);
        }
    }
    if let Some(unknown) = &rule.unknown {
        afford(costs.unknown)?;
        if check(unknown, "unknown", scope).map_err(Spent::Error)? {
            return Ok(Some(Verdict::Inconclusive));
        }
    }
    afford(costs.require)?;
    Ok(Some(if check(&rule.require, "require", scope).map_err(Spent::Error)? { Verdict::Pass } else { Verdict::Fail }))
}

/// Why a subject got no verdict.
enum Spent {
    /// Its evaluation failed.
    Error(String),
    /// The rule's budget ran out before it.
    Budget,
}

/// The estimated cost of each of a rule's expressions over the facts being judged.
struct RuleCosts {
    when: budget::Cost,
    unknown: budget::Cost,
    require: budget::Cost,
    /// Message and evidence, for a failing subject.
    finding: budget::Cost,
}

impl RuleCosts {
    fn of(rule: &Rule, sizes: &budget::Sizes) -> Self {
        let cost = |condition: Option<&rule::Condition>| {
            condition
                .map_or_else(budget::Cost::default, |condition| budget::estimate(condition.program.expression(), sizes))
        };
        let finding = rule.evidence.iter().map(|(_, condition)| condition).chain(rule.message.holes()).fold(
            budget::Cost::default(),
            |total, condition| {
                let cost = cost(Some(condition));
                budget::Cost {
                    steps: total.steps.saturating_add(cost.steps),
                    string_bytes: total.string_bytes.max(cost.string_bytes),
                }
            },
        );
        Self {
            when: cost(rule.when.as_ref()),
            unknown: cost(rule.unknown.as_ref()),
            require: cost(Some(&rule.require)),
            finding,
        }
    }

    /// Why the rule may not run at all: one of its expressions alone is over budget.
    fn refusal(&self) -> Option<String> {
        [
            ("when", self.when),
            ("unknown", self.unknown),
            ("require", self.require),
            ("message and evidence", self.finding),
        ]
        .into_iter()
        .find_map(|(key, cost)| {
            cost.refusal().map(|why| format!("rule exceeded its evaluation budget: {key} needs {why}"))
        })
    }
}

enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleInputs;
    use crate::facts::{self, Facts, SourceKind};
    use crate::inventory::Availability;
    use crate::source::manifests::read_str;

    fn rule(id: &str, body: &str) -> (String, String) {
        (
            format!("{id}.yaml"),
            format!(
                "id: {id}\ntitle: t\nseverity: high\ncategory: security\n{body}\nmessage: m\nrationale: r\nremediation: r\n"
            ),
        )
    }

    fn facts_of(manifests: &str) -> Facts {
        let inventory = read_str("test.yaml", manifests).expect("valid manifests");
        facts::build(inventory, SourceKind::Manifests)
    }

    fn judge_one(body: &str, facts: &Facts) -> RuleResult {
        let catalog = Catalog::from_sources(&[rule("T-001", body)]).expect("rule loads");
        evaluate(&catalog, facts, &RuleInputs::default()).remove(0)
    }

    #[test]
    fn rules_know_which_fields_of_their_subject_they_read() {
        let catalog = Catalog::from_sources(&[
            rule(
                "T-001",
                "each: workloads\nrequire: \"!it.hostPID && has(it.replicas) && it.labels.exists(k, k == 'x')\"",
            ),
            rule("T-002", "each: workloads\nrequire: 'it.hostIPC == false'\nevidence: {whole: it}"),
            rule("T-003", "each: workloads\nrequire: '[1, 2].all(it, it > 0) && !it.hostNetwork'"),
        ])
        .expect("rules load");
        let fields = |id: &str| {
            let fields = catalog.get(id).expect("loaded").subject_fields.clone();
            fields.map(|fields| fields.into_iter().collect::<Vec<String>>())
        };
        assert_eq!(fields("T-001"), Some(vec!["hostPID".into(), "labels".into(), "replicas".into()]));
        // Evidence of the whole subject needs all of it.
        assert_eq!(fields("T-002"), None);
        // A loop variable named `it` is not the subject.
        assert_eq!(fields("T-003"), Some(vec!["hostNetwork".into()]));
    }

    #[test]
    fn an_expression_repeated_by_rules_is_parsed_once_and_checked_by_each() {
        let catalog = Catalog::from_sources(&[
            rule("T-001", "each: workloads\nrequire: '!it.hostPID'"),
            rule("T-002", "each: workloads\nrequire: '!it.hostPID'"),
            rule("T-003", "each: workloads\nrequire: '!it.hostIPC'"),
        ])
        .expect("rules load");
        let program = |id: &str| &catalog.get(id).expect("loaded").require.program;
        assert!(Arc::ptr_eq(program("T-001"), program("T-002")), "one program for one expression");
        assert!(!Arc::ptr_eq(program("T-001"), program("T-003")), "another expression, another program");
        // Shared programs are still checked against each rule's subject.
        let error = Catalog::from_sources(&[
            rule("T-001", "each: workloads\nrequire: '!it.hostPID'"),
            rule("T-002", "each: images\nrequire: '!it.hostPID'"),
        ])
        .err()
        .expect("images have no hostPID");
        assert!(error.to_string().starts_with("T-002.yaml:"), "{error}");
    }

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: 'web:1'}]\n";

    #[test]
    fn an_uncollected_collection_is_not_evaluated_never_passed() {
        let facts = facts_of(DEPLOYMENT);
        let result = judge_one("require: size(nodes) >= 0", &facts);
        assert_eq!(result.status, Status::NotEvaluated);
        assert!(
            result
                .reason
                .as_deref()
                .is_some_and(|reason| reason.starts_with("nodes not collected: not part of this source")),
            "{result:?}"
        );
    }

    #[test]
    fn collections_read_inside_comprehensions_are_dependencies() {
        let facts = facts_of(DEPLOYMENT);
        let result = judge_one("each: workloads\nrequire: \"nodes.all(n, n.name != it.subject.name)\"", &facts);
        assert_eq!(result.status, Status::NotEvaluated, "{result:?}");
    }

    #[test]
    fn a_not_applicable_collection_makes_the_rule_not_applicable() {
        let mut facts = facts_of(DEPLOYMENT);
        facts.components.availability = Availability::NotApplicable { reason: "managed control plane: eks".into() };
        let result = judge_one("each: components\nrequire: it.component != 'etcd'", &facts);
        assert_eq!(result.status, Status::NotApplicable);
        assert_eq!(result.reason.as_deref(), Some("components: managed control plane: eks"));
    }

    #[test]
    fn no_matching_subject_is_not_applicable() {
        let facts = facts_of(DEPLOYMENT);
        let result = judge_one("each: workloads\nwhen: it.subject.name == 'other'\nrequire: false", &facts);
        assert_eq!(result.status, Status::NotApplicable);
    }

    #[test]
    fn an_evaluation_error_is_not_evaluated_never_passed() {
        let facts = facts_of(DEPLOYMENT);
        let result = judge_one("each: workloads\nrequire: \"int(it.labels['app']) > 0\"", &facts);
        assert_eq!(result.status, Status::NotEvaluated);
        assert!(result.reason.as_deref().is_some_and(|reason| reason.contains("evaluation error")), "{result:?}");
    }

    #[test]
    fn a_non_boolean_condition_is_an_evaluation_error() {
        // `dyn` hides the type until run time; a plain string field is refused at load.
        let facts = facts_of(DEPLOYMENT);
        let result = judge_one("each: workloads\nrequire: \"dyn(it.subject.name)\"", &facts);
        assert_eq!(result.status, Status::NotEvaluated);
    }

    #[test]
    fn inconclusive_subjects_are_not_evaluated_and_failures_still_win() {
        let facts = facts_of(&format!("{DEPLOYMENT}---\n{}", DEPLOYMENT.replace("name: web,", "name: api,")));
        let unknown = judge_one("each: workloads\nunknown: \"true\"\nrequire: \"true\"", &facts);
        assert_eq!(unknown.status, Status::NotEvaluated);
        assert_eq!(unknown.reason.as_deref(), Some("evidence inconclusive for 2 subject(s)"));
        let mixed = judge_one("each: workloads\nunknown: it.subject.name == 'api'\nrequire: \"false\"", &facts);
        assert_eq!(mixed.status, Status::Fail);
        assert_eq!(mixed.findings.len(), 1);
        assert_eq!(mixed.reason.as_deref(), Some("also not judged: evidence inconclusive for 1 subject(s)"));
    }

    #[test]
    fn inconclusive_subjects_say_why() {
        let facts = facts_of(&format!("{DEPLOYMENT}---\n{}", DEPLOYMENT.replace("name: web,", "name: api,")));
        // With evidence, the evidence says why; without, the `unknown` condition that held.
        let with_evidence = judge_one(
            "each: workloads\nunknown: it.subject.name == 'api'\nrequire: \"false\"\nevidence: {probe: \"'timed out after 3s'\"}",
            &facts,
        );
        let why: Vec<(&str, &str)> = with_evidence
            .inconclusive
            .iter()
            .map(|finding| (finding.subject.name.as_str(), finding.message.as_str()))
            .collect();
        assert_eq!(why, vec![("api", "inconclusive: probe timed out after 3s")]);
        let without = judge_one("each: workloads\nunknown: \"true\"\nrequire: \"true\"", &facts);
        assert_eq!(without.inconclusive.len(), 2);
        assert!(without.inconclusive.iter().all(|finding| finding.message == "inconclusive: `true` held"));
        // Control: a rule whose subjects are all judged keeps no inconclusive subject.
        assert!(judge_one("each: workloads\nrequire: \"false\"", &facts).inconclusive.is_empty());
    }

    #[test]
    fn no_built_in_rule_comes_near_the_evaluation_budget() {
        // A large cluster: 100,000 workloads and what comes with them.
        let collections = [
            ("nodes", 5_000),
            ("controlPlane", 1),
            ("components", 12),
            ("workloads", 100_000),
            ("containers", 150_000),
            ("images", 10_000),
            ("serviceAccounts", 20_000),
            ("bindings", 20_000),
            ("rbacSubjects", 20_000),
            ("namespaces", 2_000),
            ("services", 20_000),
            ("ingresses", 5_000),
            ("removedApis", 5_000),
            ("configMaps", 20_000),
            ("pdbs", 5_000),
            ("apiserverEndpoints", 3),
            ("kubeletConfigs", 5_000),
            ("apiservers", 3),
            ("etcd", 3),
            ("kubelets", 5_000),
            ("componentEndpoints", 10),
            ("addonEndpoints", 10),
            ("tlsEndpoints", 5_000),
            ("certificates", 5_000),
        ];
        let sizes = budget::Sizes {
            collections: collections.iter().map(|(name, items)| ((*name).to_owned(), *items)).collect(),
            longest_list: 200,
            longest_string: 4096,
        };
        let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
        for rule in &catalog.rules {
            let costs = RuleCosts::of(rule, &sizes);
            for (key, cost) in [
                ("when", costs.when),
                ("unknown", costs.unknown),
                ("require", costs.require),
                ("finding", costs.finding),
            ] {
                assert!(cost.steps < budget::SUBJECT_BUDGET / 2, "{} {key}: {cost:?}", rule.id);
                assert!(cost.string_bytes < budget::MAX_STRING_BYTES / 16, "{} {key}: {cost:?}", rule.id);
            }
        }
        // And judging the weak example spends a sliver of each rule's budget.
        let facts = facts_of(include_str!("../../testdata/clusters/weak/workloads.yaml"));
        for result in evaluate(&catalog, &facts, &RuleInputs::default()) {
            assert!(
                result.tally.steps < budget::RULE_BUDGET / 1000,
                "{}: {} steps",
                result.rule_id,
                result.tally.steps
            );
        }
    }

    #[test]
    fn a_rule_over_budget_is_not_evaluated_and_the_scan_goes_on() {
        let mut manifests = String::new();
        for index in 0..1_200 {
            manifests.push_str(&DEPLOYMENT.replace("name: web,", &format!("name: web{index},")));
            manifests.push_str("---\n");
        }
        let facts = facts_of(&manifests);
        let catalog = Catalog::from_sources(&[
            // Cubic: refused before it runs.
            rule("T-001", "require: \"workloads.all(a, workloads.all(b, workloads.all(c, a != b || b != c)))\""),
            // Quadratic per subject, so cubic in all: stopped once the rule's budget is
            // spent (`exists` stops at its first match, so it runs quickly up to there).
            rule("T-002", "each: workloads\nrequire: \"workloads.all(a, workloads.exists(b, true))\""),
            rule("T-003", "each: workloads\nrequire: \"it.replicas >= 1\""),
        ])
        .expect("rules load");
        let results = evaluate(&catalog, &facts, &RuleInputs::default());
        let nested = &results[0];
        assert_eq!(nested.status, Status::NotEvaluated, "{nested:?}");
        assert!(
            nested
                .reason
                .as_deref()
                .is_some_and(|reason| reason.starts_with("rule exceeded its evaluation budget: require needs"))
        );
        let quadratic = &results[1];
        assert_eq!(quadratic.status, Status::NotEvaluated, "{quadratic:?}");
        assert!(
            quadratic
                .reason
                .as_deref()
                .is_some_and(|reason| reason.contains("before its 1200 subject(s) were all judged")),
            "{quadratic:?}"
        );
        // Control: a linear rule over the same workloads is judged.
        assert_eq!(results[2].status, Status::Pass, "{:?}", results[2]);
        assert_eq!(results[2].subjects, 1_200);
    }

    #[test]
    fn duplicate_ids_name_both_files() {
        let error = Catalog::from_sources(&[
            rule("T-001", "require: \"true\""),
            ("other.yaml".into(), rule("T-001", "require: \"true\"").1),
        ])
        .err()
        .expect("duplicate id");
        assert_eq!(error.to_string(), "duplicate rule id T-001: T-001.yaml and other.yaml");
    }

    #[test]
    fn load_errors_name_file_and_line() {
        let cases = [
            ("each: nodez\nrequire: \"true\"", "T-001.yaml:5: each: unknown collection `nodez`"),
            ("require: \"it.x\"", "T-001.yaml:5: require: unknown variable `it`"),
            ("require: \"nodes.exists(n, n.zonee == '')\"", "T-001.yaml:5: require: unknown field `zonee`"),
            ("require: \"1 +\"", "T-001.yaml:5: require: "),
            (
                "each: containers\nrequire: \"it.name.endWith('x')\"",
                "T-001.yaml:6: require: unknown function `endWith`",
            ),
            (
                "each: containers\nrequire: \"it.type != 'initContainr'\"",
                "T-001.yaml:6: require: compares a closed-set field with 'initContainr', which it never holds (allowed: 'container', 'ephemeralContainer', 'initContainer')",
            ),
            (
                "each: containers\nrequire: \"it.type in ['container', 'sidecar']\"",
                "T-001.yaml:6: require: compares a closed-set field with 'sidecar'",
            ),
            (
                "each: containers\nrequire: it.name",
                "T-001.yaml:6: require: must be a boolean expression, this is a string",
            ),
            ("require: size(nodes)", "T-001.yaml:5: require: must be a boolean expression, this is a number"),
            (
                "when: \"'yes'\"\nrequire: \"true\"",
                "T-001.yaml:5: when: must be a boolean expression, this is a string",
            ),
            ("require: \"true\"\nmessage2: x", "T-001.yaml:6: unknown field `message2`"),
        ];
        for (body, expected) in cases {
            let error = Catalog::from_sources(&[rule("T-001", body)]).err().expect("invalid rule");
            assert!(error.to_string().starts_with(expected), "{body}: {error}");
        }
        let missing = Catalog::from_sources(&[(
            "T-002.yaml".into(),
            "id: T-002\ntitle: t\nseverity: high\ncategory: security\nmessage: m\nrationale: r\nremediation: r\n"
                .into(),
        )]);
        assert!(missing.err().expect("require is required").to_string().contains("require"));
        let severity = Catalog::from_sources(&[("T-003.yaml".into(), "id: T-003\ntitle: t\nseverity: severe\ncategory: security\nrequire: 'true'\nmessage: m\nrationale: r\nremediation: r\n".into())]);
        assert!(
            severity.err().expect("bad severity").to_string().starts_with("T-003.yaml:3: unknown variant `severe`")
        );
    }

    #[test]
    fn messages_and_evidence_are_rendered_per_subject() {
        let facts = facts_of(DEPLOYMENT);
        let catalog = Catalog::from_sources(&[(
            "T-004.yaml".into(),
            "id: T-004\ntitle: t\nseverity: high\ncategory: security\neach: containers\nrequire: \"false\"\nmessage: \"{{it.name}} runs {{it.image.reference}} ({{it.image.registry}})\"\nevidence:\n  tag: it.image.tag\nrationale: r\nremediation: r\n".into(),
        )])
        .expect("rule loads");
        let result = evaluate(&catalog, &facts, &RuleInputs::default()).remove(0);
        let finding = &result.findings[0];
        assert_eq!(finding.message, "web runs web:1 (docker.io)");
        assert_eq!(finding.evidence.as_ref().map(|evidence| evidence["tag"].clone()), Some(serde_json::json!("1")));
        assert_eq!(finding.subject.container.as_deref(), Some("web"));
        assert_eq!(finding.location.as_ref().map(|location| location.line), Some(1));
        let text = finding.fingerprint.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<Fingerprint>(), Ok(finding.fingerprint), "it reads back");
    }
}
