//! The rule file format (`rules/<area>/<ID>.yaml`) and its load-time validation.
//!
//! A rule that does not parse, names an unknown collection or field, or whose CEL does
//! not compile is an error naming file and line: never a silent skip.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use cel::Program;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::RuleError;
use super::shape::{Reads, Shape, Vocabulary};
use super::template::Template;

/// How bad a failure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Compromise of the cluster is one step away.
    Critical,
    /// A serious weakness.
    High,
    /// A weakness worth fixing soon.
    Medium,
    /// Hardening.
    Low,
    /// A signal, never a failure on its own.
    Info,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 5] = [Self::Critical, Self::High, Self::Medium, Self::Low, Self::Info];

    /// Lower-case name as in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(self.as_str())
    }
}

/// What a rule is about; scores are also given per category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Confidentiality and integrity of the cluster.
    Security,
    /// No single point of failure.
    Availability,
    /// Immutable, traceable images.
    SupplyChain,
    /// Day-two hygiene: versions, audit, profiling.
    Operations,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 4] = [Self::Security, Self::Availability, Self::SupplyChain, Self::Operations];

    /// Name as in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Security => "security",
            Self::Availability => "availability",
            Self::SupplyChain => "supply-chain",
            Self::Operations => "operations",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.pad(self.as_str())
    }
}

/// A rule file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: Spanned<String>,
    title: String,
    severity: Severity,
    category: Category,
    each: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    unknown: Option<Spanned<String>>,
    require: Spanned<String>,
    message: Spanned<String>,
    #[serde(default)]
    evidence: BTreeMap<String, Spanned<String>>,
    rationale: String,
    remediation: String,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    mappings: BTreeMap<String, Vec<String>>,
}

/// A compiled CEL condition with its source.
pub struct Condition {
    /// The expression as written.
    pub source: String,
    /// The compiled program, shared by the rules that repeat the expression.
    pub program: Arc<Program>,
}

/// Programs already compiled, by source. Rules repeat expressions (`it.subject.name` is
/// in 50 messages; 445 expressions are 233 distinct ones), and parsing is most of
/// compiling; each rule still checks the program against its own vocabulary.
#[derive(Default)]
pub struct Programs(Mutex<HashMap<String, Arc<Program>>>);

impl Programs {
    /// The program of `source`, parsed once.
    fn compile(&self, source: &str) -> Result<Arc<Program>, cel::ParseErrors> {
        let known = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(source).cloned();
        if let Some(program) = known {
            return Ok(program);
        }
        let program = Arc::new(super::compile(source)?);
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(source.to_owned(), Arc::clone(&program));
        Ok(program)
    }
}

/// A loaded, validated rule.
pub struct Rule {
    /// Stable id, e.g. `KUBELET-002`.
    pub id: String,
    /// Names the bad state.
    pub title: String,
    /// Severity (after any override from the config).
    pub severity: Severity,
    /// Category.
    pub category: Category,
    /// Collection iterated; `None` for one cluster-wide check.
    pub each: Option<String>,
    /// Applicability condition.
    pub when: Option<Condition>,
    /// Condition under which the evidence is inconclusive.
    pub unknown: Option<Condition>,
    /// Passing condition.
    pub require: Condition,
    /// Message for a failing subject.
    pub message: Template,
    /// Named evidence expressions evaluated for failing subjects.
    pub evidence: Vec<(Arc<str>, Condition)>,
    /// Why it matters.
    pub rationale: String,
    /// How to fix it.
    pub remediation: String,
    /// Documentation links.
    pub references: Vec<String>,
    /// Benchmark mappings, e.g. `cis: ["1.2.1"]`.
    pub mappings: BTreeMap<String, Vec<String>>,
    /// The file it came from.
    pub origin: String,
    /// Collections its expressions read (including `each`).
    pub dependencies: BTreeSet<String>,
    /// The collections its expressions read as a whole (not through `each`): the
    /// engine builds these once for every subject to see.
    pub reads: BTreeSet<String>,
    /// The top-level fields of its subject that its expressions read; `None` when they
    /// read the subject whole. A subject's value is built with only the fields that
    /// some rule judging it reads.
    pub subject_fields: Option<BTreeSet<String>>,
}

/// Rule ids: upper-case area, a dash, three digits (`ETCD-001`, `RBAC-012`).
fn valid_id(id: &str) -> bool {
    let Some((area, number)) = id.rsplit_once('-') else { return false };
    !area.is_empty()
        && area
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        && area.starts_with(|c: char| c.is_ascii_uppercase())
        && number.len() == 3
        && number.chars().all(|c| c.is_ascii_digit())
}

/// The keys whose expressions decide a verdict: each must be boolean.
const CONDITIONS: &[&str] = &["when", "unknown", "require"];

fn line_of<T>(spanned: &Spanned<T>) -> u32 {
    u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX)
}

/// A rule file read and checked, its expressions not yet compiled: selection works on
/// these, and only the selected are compiled.
pub struct Draft {
    origin: String,
    file: RuleFile,
}

impl Draft {
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.file.id.value
    }
}

/// Parses one rule file: its YAML, id and texts.
pub fn parse(origin: &str, text: &str) -> Result<Draft, RuleError> {
    let file: RuleFile = serde_saphyr::from_str(text).map_err(|error| {
        let problem = crate::yaml::describe(&error);
        RuleError::Invalid { file: origin.to_owned(), line: problem.line, reason: problem.reason }
    })?;
    let invalid = |line: u32, reason: String| RuleError::Invalid { file: origin.to_owned(), line, reason };
    if !valid_id(&file.id.value) {
        return Err(invalid(line_of(&file.id), format!("id `{}` is not of the form AREA-123", file.id.value)));
    }
    for (field, value) in [("title", &file.title), ("rationale", &file.rationale), ("remediation", &file.remediation)] {
        if value.trim().is_empty() {
            return Err(invalid(line_of(&file.id), format!("`{field}` must not be empty")));
        }
    }
    Ok(Draft { origin: origin.to_owned(), file })
}

/// Compiles a draft's expressions and checks them against the facts vocabulary.
pub fn compile(draft: Draft, vocabulary: &Vocabulary, programs: &Programs) -> Result<Rule, RuleError> {
    let Draft { origin, file } = draft;
    let origin = origin.as_str();
    let invalid = |line: u32, reason: String| RuleError::Invalid { file: origin.to_owned(), line, reason };
    let mut it: Option<Shape> = None;
    if let Some(each) = &file.each {
        let Some(item) = vocabulary.item_shape(&each.value) else {
            let known = vocabulary.collections().join(", ");
            return Err(invalid(line_of(each), format!("each: unknown collection `{}` (known: {known})", each.value)));
        };
        it = Some(item);
    }
    let mut reads = Reads::default();
    let mut compile = |key: &str, spanned: &Spanned<String>| -> Result<Condition, RuleError> {
        // Size first: the parser recurses, and a deep expression would overflow its stack.
        super::budget::check_source(&spanned.value)
            .map_err(|error| invalid(line_of(spanned), format!("{key}: {error}")))?;
        let program = programs
            .compile(&spanned.value)
            .map_err(|error| invalid(line_of(spanned), format!("{key}: {}", first_line(&error.to_string()))))?;
        super::budget::check_depth(program.expression())
            .map_err(|error| invalid(line_of(spanned), format!("{key}: {error}")))?;
        let (used, shape) = vocabulary
            .check(program.expression(), it.as_ref())
            .map_err(|error| invalid(line_of(spanned), format!("{key}: {error}")))?;
        if CONDITIONS.contains(&key) && shape.is_never_boolean() {
            let found = shape.describe();
            return Err(invalid(line_of(spanned), format!("{key}: must be a boolean expression, this is {found}")));
        }
        reads.extend(used);
        Ok(Condition { source: spanned.value.clone(), program })
    };
    let when = file.when.as_ref().map(|when| compile("when", when)).transpose()?;
    let unknown = file.unknown.as_ref().map(|unknown| compile("unknown", unknown)).transpose()?;
    let require = compile("require", &file.require)?;
    let evidence = file
        .evidence
        .iter()
        .map(|(name, expression)| Ok((name.as_str().into(), compile(&format!("evidence.{name}"), expression)?)))
        .collect::<Result<Vec<_>, RuleError>>()?;
    let message_line = line_of(&file.message);
    let message = Template::parse(
        &file.message.value,
        |expression| {
            let spanned = Spanned {
                value: expression.to_owned(),
                referenced: file.message.referenced,
                defined: file.message.defined,
            };
            compile("message", &spanned)
        },
        |reason| invalid(message_line, reason),
    )?;
    let Reads { collections: reads, subject_fields } = reads;
    let dependencies = file.each.iter().map(|each| each.value.clone()).chain(reads.iter().cloned()).collect();
    Ok(Rule {
        id: file.id.value,
        title: file.title,
        severity: file.severity,
        category: file.category,
        each: file.each.map(|each| each.value),
        when,
        unknown,
        require,
        message,
        evidence,
        rationale: file.rationale,
        remediation: file.remediation,
        references: file.references,
        mappings: file.mappings,
        origin: origin.to_owned(),
        dependencies,
        reads,
        subject_fields,
    })
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("ERROR: <input>:").unwrap_or(line).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_area_dash_three_digits() {
        for good in ["ETCD-001", "RBAC-012", "K8S-API-100"] {
            assert!(valid_id(good), "{good}");
        }
        for bad in ["etcd-001", "ETCD-1", "ETCD001", "-001", "ETCD-0001", "1ETCD-001"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
