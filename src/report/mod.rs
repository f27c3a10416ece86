//! The report: everything a scan concluded, as one serde type. Presenters in this
//! module's children turn it into a table, JSON or SARIF and decide nothing.
//!
//! The JSON form is a contract: `docs/report.schema.json` is generated from these
//! types, fields may be added but never renamed.

pub mod catalog;
pub mod drift;
pub mod gate;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod table;
pub mod terminal;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::drift::BaselineSummary;
use crate::engine::{Category, Finding, RuleResult, Severity, Status};
use crate::exception::{ExceptedFinding, ExceptionOutcome};
use crate::facts::{ClusterFacts, Collection, CollectionVisitor, Facts, Item};
use crate::inventory::{Availability, Duplicate, Skipped, Unparsed};
use crate::score::Score;

/// Version of the report layout. 2: `score.overall` and `score.grade` may be `null`
/// (nothing judged, with `score.ungraded`), and `source` lists skipped documents and
/// duplicates.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// The oldest report layout `--baseline` and `seaworthy diff` still read: version 1
/// differs only in always having a numeric score.
pub const OLDEST_READABLE_REPORT_VERSION: u32 = 1;

/// The report of one scan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Layout version: [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// Unique id of this run.
    pub run_id: String,
    /// Start of the scan, RFC 3339 UTC.
    pub started_at: String,
    /// End of the scan, RFC 3339 UTC.
    pub finished_at: String,
    /// What was read.
    pub source: SourceInfo,
    /// Cluster identity.
    pub cluster: ClusterFacts,
    /// Score, grade and coverage.
    pub score: Score,
    /// Counts.
    pub summary: Summary,
    /// The rules that ran, with their metadata.
    pub rules: Vec<RuleInfo>,
    /// One result per rule, in rule order.
    pub results: Vec<ResultEntry>,
    /// The configuration's exceptions and what became of them.
    pub exceptions: Vec<ExceptionOutcome>,
    /// What could not be collected or judged, and why.
    pub coverage: CoverageInfo,
    /// Routes from an entry point to a goal that the findings and facts allow, each
    /// step with its evidence, the verified and shortest first (see docs/attack-paths.md).
    pub attack_paths: Vec<crate::paths::AttackPath>,
    /// Every framework's controls with the status the rules give them (CIS, NSA/CISA,
    /// Pod Security Standards Baseline and Restricted), whatever `--framework` shows.
    pub compliance: Vec<crate::compliance::View>,
    /// With `--baseline`: the baseline scan and how many findings are new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
    /// What decided the exit code: thresholds, verdict and reasons (set by `scan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<gate::Gate>,
}

/// The tool that wrote the report.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Tool {
    /// `seaworthy`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// What kind of input the scan read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum InputKind {
    /// Manifest files or stdin.
    Manifests,
    /// A facts snapshot.
    Snapshot,
    /// A live cluster.
    Live,
}

/// The scan's input.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct SourceInfo {
    /// Manifests, snapshot or live.
    pub kind: InputKind,
    /// Paths read (manifest paths, the snapshot file), as given.
    pub paths: Vec<String>,
    /// Documents read but not judged: not Kubernetes objects, or kinds seaworthy does not read.
    pub skipped: Vec<Skipped>,
    /// Documents and objects that could not be read (malformed YAML, an object that does
    /// not match its kind's schema): not judged, and the gate is at best incomplete.
    /// Absent when everything was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unparsed: Vec<Unparsed>,
    /// Objects given more than once; the first copy is judged.
    pub duplicates: Vec<Duplicate>,
    /// Endpoints the cluster names that were not probed from where the scan ran, and
    /// why (a Service address from outside the cluster, an address of another class
    /// than the API server's). Absent when every target was probed.
    #[serde(rename = "notProbed", default, skip_serializing_if = "Vec::is_empty")]
    pub not_probed: Vec<NotProbed>,
}

impl SourceInfo {
    /// A source with nothing skipped.
    pub fn new(kind: InputKind, paths: Vec<String>) -> Self {
        Self { kind, paths, skipped: Vec::new(), unparsed: Vec::new(), duplicates: Vec::new(), not_probed: Vec::new() }
    }

    /// What was read but not judged, counted: `2 not read (source.unparsed) · 1
    /// skipped`; `None` when nothing was.
    pub fn left_out(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.unparsed.len(), "not read (source.unparsed)"),
            (self.skipped.len(), "skipped"),
            (self.duplicates.len(), "duplicate(s)"),
            (self.not_probed.len(), "endpoint(s) not probed"),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

/// An endpoint left out of the probe plan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct NotProbed {
    /// The endpoint as it would have been probed (kind, host, port, origin).
    #[serde(flatten)]
    pub target: crate::probe::targets::Target,
    /// Why it was not.
    pub reason: String,
}

impl From<&crate::probe::targets::LeftOut> for NotProbed {
    fn from(left: &crate::probe::targets::LeftOut) -> Self {
        Self { target: left.target.clone(), reason: left.reason.to_string() }
    }
}

/// Counts of results and findings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Rules that passed.
    pub pass: usize,
    /// Rules that failed.
    pub fail: usize,
    /// Rules that could not be judged.
    pub not_evaluated: usize,
    /// Rules that did not apply.
    pub not_applicable: usize,
    /// Findings (after exceptions) per severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Findings covered by exceptions.
    pub excepted: usize,
}

/// A rule's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RuleInfo {
    /// Stable id.
    pub id: String,
    /// Names the bad state.
    pub title: String,
    /// Severity (after overrides).
    pub severity: Severity,
    /// Category.
    pub category: Category,
    /// Benchmark mappings, e.g. `{"cis": ["1.2.1"]}`.
    pub mappings: BTreeMap<String, Vec<String>>,
    /// Why it matters.
    pub rationale: String,
    /// How to fix it.
    pub remediation: String,
    /// Documentation links.
    pub references: Vec<String>,
}

/// One rule's result.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultEntry {
    /// The rule.
    pub rule_id: String,
    /// `pass`, `fail`, `not_evaluated` or `not_applicable`.
    pub status: Status,
    /// Why, for `not_evaluated` and `not_applicable`; for `fail`, subjects that could
    /// not be judged besides the failing ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Subjects judged.
    pub subjects: usize,
    /// Failing subjects not covered by an exception.
    pub findings: Vec<Finding>,
    /// Failing subjects covered by an exception.
    pub excepted: Vec<ExceptedFinding>,
    /// The first subjects (at most 20) whose evidence was inconclusive, each with why as
    /// its message; `reason` counts them all. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inconclusive: Vec<Finding>,
}

/// A collection's availability.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CollectionInfo {
    /// Collection name, as rules name it.
    pub name: String,
    /// `collected`, `notCollected` or `notApplicable`.
    pub status: String,
    /// Why not collected or not applicable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What is missing from the scan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoverageInfo {
    /// Every collection and whether it was collected.
    pub collections: Vec<CollectionInfo>,
    /// Rules that could not be judged, with the reason.
    pub not_evaluated: Vec<NotEvaluated>,
}

/// A rule that could not be judged.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotEvaluated {
    /// The rule.
    pub rule_id: String,
    /// Why.
    pub reason: String,
}

/// Everything [`Report::new`] is built from.
pub struct ReportParts<'a> {
    /// Unique run id.
    pub run_id: String,
    /// Start, RFC 3339.
    pub started_at: String,
    /// End, RFC 3339.
    pub finished_at: String,
    /// What was read.
    pub source: SourceInfo,
    /// The facts judged.
    pub facts: &'a Facts,
    /// Rule metadata, in result order.
    pub rules: Vec<RuleInfo>,
    /// Results after exceptions.
    pub results: Vec<RuleResult>,
    /// Excepted findings per result.
    pub excepted: Vec<Vec<ExceptedFinding>>,
    /// Exception outcomes.
    pub exceptions: Vec<ExceptionOutcome>,
    /// The score.
    pub score: Score,
}

impl Report {
    /// Assembles a report.
    pub fn new(parts: ReportParts<'_>) -> Self {
        let mut summary = Summary::default();
        let severity: BTreeMap<&str, Severity> =
            parts.rules.iter().map(|rule| (rule.id.as_str(), rule.severity)).collect();
        for result in &parts.results {
            match result.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::NotEvaluated => summary.not_evaluated += 1,
                Status::NotApplicable => summary.not_applicable += 1,
            }
            if let Some(severity) = severity.get(result.rule_id.as_str()) {
                *summary.findings.entry(*severity).or_default() += result.findings.len();
            }
        }
        summary.excepted = parts.excepted.iter().map(Vec::len).sum();
        let coverage = CoverageInfo {
            collections: collections(parts.facts),
            not_evaluated: parts
                .results
                .iter()
                .filter(|result| result.status == Status::NotEvaluated)
                .map(|result| NotEvaluated {
                    rule_id: result.rule_id.clone(),
                    reason: result.reason.clone().unwrap_or_default(),
                })
                .collect(),
        };
        let results: Vec<ResultEntry> = parts
            .results
            .into_iter()
            .zip(parts.excepted)
            .map(|(result, excepted)| ResultEntry {
                rule_id: result.rule_id,
                status: result.status,
                reason: result.reason,
                subjects: result.subjects,
                findings: result.findings,
                excepted,
                inconclusive: result.inconclusive,
            })
            .collect();
        let compliance = crate::compliance::views(&parts.rules, &results);
        Self {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: Tool { name: env!("CARGO_PKG_NAME").into(), version: env!("CARGO_PKG_VERSION").into() },
            run_id: parts.run_id,
            started_at: parts.started_at,
            finished_at: parts.finished_at,
            source: parts.source,
            cluster: parts.facts.cluster.clone(),
            score: parts.score,
            summary,
            rules: parts.rules,
            results,
            exceptions: parts.exceptions,
            coverage,
            attack_paths: Vec::new(),
            compliance,
            baseline: None,
            gate: None,
        }
    }

    /// The metadata of a rule in this report.
    pub fn rule(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// The results with `status` and their rules, in rule order.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = (&ResultEntry, &RuleInfo)> {
        self.results
            .iter()
            .filter(move |result| result.status == status)
            .filter_map(|result| Some((result, self.rule(&result.rule_id)?)))
    }
}

/// Every collection and its availability, sorted by name.
fn collections(facts: &Facts) -> Vec<CollectionInfo> {
    struct Gather(Vec<CollectionInfo>);
    impl CollectionVisitor<'_> for Gather {
        fn visit<T: Item>(&mut self, name: &'static str, collection: &Collection<T>) {
            let (status, reason) = match &collection.availability {
                Availability::Collected => ("collected", None),
                Availability::NotCollected { reason } => ("notCollected", Some(reason.clone())),
                Availability::NotApplicable { reason } => ("notApplicable", Some(reason.clone())),
            };
            self.0.push(CollectionInfo { name: name.to_owned(), status: status.to_owned(), reason });
        }
    }
    let mut gather = Gather(Vec::new());
    facts.visit_collections(&mut gather);
    gather.0.sort_by(|a, b| a.name.cmp(&b.name));
    gather.0
}

/// Rules kept from a verdict by one reason: the collections it names, and the results.
pub(crate) struct Group<'r> {
    /// The reason, without the collection it names.
    pub reason: String,
    /// The collections it names (`apiservers`, `etcd`), when it names any.
    pub collections: Vec<String>,
    /// The results it kept from a verdict.
    pub results: Vec<&'r ResultEntry>,
}

/// Results of one status grouped by reason, in the order each reason first appears.
/// `apiservers not collected: not probed …` and `etcd not collected: not probed …` are
/// one reason naming two collections.
pub(crate) fn by_reason(report: &Report, status: Status) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for result in report.results.iter().filter(|result| result.status == status) {
        let reason = result.reason.as_deref().unwrap_or("no reason given");
        let (collection, reason) = match reason.split_once(" not collected: ") {
            Some((collection, rest)) if !collection.contains(' ') => (Some(collection), rest),
            _ => (None, reason),
        };
        let slot = groups.iter().position(|group| group.reason == reason).unwrap_or_else(|| {
            groups.push(Group { reason: reason.to_owned(), collections: Vec::new(), results: Vec::new() });
            groups.len() - 1
        });
        let group = &mut groups[slot];
        if let Some(collection) = collection.filter(|name| !group.collections.iter().any(|known| known == name)) {
            group.collections.push(collection.to_owned());
        }
        group.results.push(result);
    }
    groups
}

/// `text` made safe for a terminal: control characters (other than newline), DEL, C1
/// controls and Unicode bidirectional overrides are written as `\u{…}` escapes. Object
/// names, images, flags and rule files come from the input, and an escape sequence in
/// one must never clear the screen, retitle the window or write the clipboard (OSC 52).
pub fn inert(text: &str) -> String {
    let dangerous = |character: char| {
        (character.is_control() && character != '\n')
            || matches!(character, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    escape_where(text, dangerous).into_owned()
}

/// `text` with each character `escaped` picks written as its `\u{…}` escape.
pub(crate) fn escape_where(text: &str, escaped: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !text.contains(&escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if escaped(character) {
            out.extend(character.escape_unicode());
        } else {
            out.push(character);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// JSON Schema of the report, committed as `docs/report.schema.json`.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).expect("a schema is plain JSON")
}

impl From<&crate::engine::Rule> for RuleInfo {
    fn from(rule: &crate::engine::Rule) -> Self {
        Self {
            id: rule.id.clone(),
            title: rule.title.clone(),
            severity: rule.severity,
            category: rule.category,
            mappings: rule.mappings.clone(),
            rationale: rule.rationale.trim().to_owned(),
            remediation: rule.remediation.trim().to_owned(),
            references: rule.references.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn terminal_controls_are_escaped_and_text_is_kept() {
        assert_eq!(inert("web-1 ok\nnext"), "web-1 ok\nnext");
        assert_eq!(inert("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(inert("\u{1b}]52;c;cHduZWQ=\u{7}"), "\\u{1b}]52;c;cHduZWQ=\\u{7}");
        assert_eq!(inert("x\u{9b}y\u{202e}z\r"), "x\\u{9b}y\\u{202e}z\\u{d}");
    }
}
