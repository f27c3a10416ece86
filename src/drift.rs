//! Drift between two scans of one cluster: findings, matched by fingerprint, are new,
//! resolved or still failing, and the score change is told.
//!
//! A past report is read through a small view of the JSON envelope (only the fields
//! compared), so reports of other seaworthy versions with the same layout still load.
//! A finding that disappears is "resolved" only when its rule was judged again in full;
//! when the rule could not be judged, or some of its subjects could not, the finding is
//! "no longer judged": missing evidence never counts as a fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{BaselineState, Category, Finding, Fingerprint, Severity, Status};
use crate::facts::Subject;
use crate::report::{OLDEST_READABLE_REPORT_VERSION, REPORT_SCHEMA_VERSION, Report};
use crate::score::Grade;

/// Why a past report cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a seaworthy JSON report.
    #[error("{path} is not a seaworthy JSON report (`seaworthy scan -o json`): {reason}")]
    NotAReport {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The report has another layout version.
    #[error(
        "{path} has report schemaVersion {found}, this seaworthy reads {OLDEST_READABLE_REPORT_VERSION} to {REPORT_SCHEMA_VERSION}"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The reports are of different clusters: every finding would look new.
    #[error("the reports are of different clusters: {old} and {new}")]
    OtherCluster {
        /// The older report's cluster.
        old: String,
        /// The newer report's cluster.
        new: String,
    },
}

impl DriftError {
    /// The next step a user can take.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::Read { .. } => "check the path",
            Self::NotAReport { .. } | Self::Version { .. } => "give a report written by `seaworthy scan -o json`",
            Self::OtherCluster { .. } => "compare two scans of one cluster; fingerprints include its identity",
        })
    }
}

/// A scan report as far as drift needs it (its tool and layout version are checked
/// by [`parse`] before it is read).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanRecord {
    run_id: String,
    started_at: String,
    cluster: ClusterView,
    score: ScoreView,
    rules: Vec<RuleView>,
    results: Vec<ResultView>,
}

#[derive(Clone, Debug, Deserialize)]
struct ClusterView {
    name: String,
    uid: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
struct ScoreView {
    overall: Option<f64>,
    grade: Option<Grade>,
    coverage: f64,
}

#[derive(Clone, Debug, Deserialize)]
struct RuleView {
    id: String,
    title: String,
    severity: Severity,
    category: Category,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultView {
    rule_id: String,
    status: Status,
    reason: Option<String>,
    findings: Vec<Finding>,
    excepted: Vec<Finding>,
}

impl ScanRecord {
    /// The cluster's identity, as fingerprints use it: the kube-system UID, else the name.
    fn identity(&self) -> &str {
        self.cluster.uid.as_deref().unwrap_or(&self.cluster.name)
    }

    /// The cluster as a person tells it apart: its name, and its UID when it has one.
    fn cluster_label(&self) -> String {
        match &self.cluster.uid {
            Some(uid) => format!("{} (kube-system uid {uid})", self.cluster.name),
            None => self.cluster.name.clone(),
        }
    }

    fn summary(&self) -> ScanSummary {
        ScanSummary {
            run_id: self.run_id.clone(),
            started_at: self.started_at.clone(),
            score: self.score.overall,
            grade: self.score.grade,
            coverage: self.score.coverage,
        }
    }
}

/// Reads a report written by `seaworthy scan -o json`.
pub fn read(path: &Path) -> Result<ScanRecord, DriftError> {
    let text = crate::walk::read_small_file(path).map_err(|source| DriftError::Read { path: path.into(), source })?;
    parse(&text, path)
}

/// Parses a JSON report; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<ScanRecord, DriftError> {
    let not_a_report = |reason: String| DriftError::NotAReport { path: path.into(), reason };
    let document: serde_json::Value = serde_json::from_str(text).map_err(|error| not_a_report(error.to_string()))?;
    if document.pointer("/tool/name").and_then(serde_json::Value::as_str) != Some(env!("CARGO_PKG_NAME")) {
        return Err(not_a_report("no `tool.name: seaworthy`".into()));
    }
    match document.get("schemaVersion").and_then(serde_json::Value::as_u64) {
        Some(version)
            if (u64::from(OLDEST_READABLE_REPORT_VERSION)..=u64::from(REPORT_SCHEMA_VERSION)).contains(&version) => {}
        Some(version) => {
            return Err(DriftError::Version { path: path.into(), found: u32::try_from(version).unwrap_or(u32::MAX) });
        }
        None => return Err(not_a_report("no `schemaVersion`".into())),
    }
    serde_json::from_value(document).map_err(|error| not_a_report(error.to_string()))
}

/// One scan's headline figures.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanSummary {
    /// Its run id.
    pub run_id: String,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// Overall score, 0–100; `None` when that scan judged nothing.
    pub score: Option<f64>,
    /// Grade; `None` when that scan judged nothing.
    pub grade: Option<Grade>,
    /// Coverage, 0–100.
    pub coverage: f64,
}

/// One finding that changed state (or did not) between the scans.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The rule.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's severity, in the newer scan when it ran there.
    pub severity: Severity,
    /// The rule's category.
    pub category: Category,
    /// What failed.
    pub subject: std::sync::Arc<Subject>,
    /// The message, from the scan that saw the finding last.
    pub message: String,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
}

/// What changed between an older and a newer scan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The older scan.
    pub old: ScanSummary,
    /// The newer scan.
    pub new: ScanSummary,
    /// New score minus old score; `None` when either scan judged nothing.
    pub score_change: Option<f64>,
    /// Findings of the newer scan that the older one did not have.
    pub new_findings: Vec<Change>,
    /// Findings of the older scan whose rule was judged in full again and passed them.
    pub resolved: Vec<Change>,
    /// Findings in both scans.
    pub still_failing: Vec<Change>,
    /// Findings of the older scan that an exception covers now.
    pub now_excepted: Vec<Change>,
    /// Findings of the older scan whose rule (or subject) could not be judged now.
    pub no_longer_judged: Vec<Change>,
}

impl Drift {
    /// A regression: a new finding, a lower score, or a scan that judges nothing where
    /// the older one was graded.
    pub fn regressed(&self) -> bool {
        !self.new_findings.is_empty()
            || self.score_change.is_some_and(|change| change < 0.0)
            || (self.old.grade.is_some() && self.new.grade.is_none())
    }
}

/// Compares two scans of the same cluster.
pub fn compare(old: &ScanRecord, new: &ScanRecord) -> Result<Drift, DriftError> {
    if old.identity() != new.identity() {
        return Err(DriftError::OtherCluster { old: old.cluster_label(), new: new.cluster_label() });
    }
    let rules: BTreeMap<&str, &RuleView> =
        old.rules.iter().chain(&new.rules).map(|rule| (rule.id.as_str(), rule)).collect();
    let change = |rule_id: &str, finding: &Finding| {
        let rule = rules.get(rule_id);
        Change {
            rule_id: rule_id.to_owned(),
            title: rule.map(|rule| rule.title.clone()).unwrap_or_default(),
            severity: rule.map_or(Severity::Info, |rule| rule.severity),
            category: rule.map_or(Category::Operations, |rule| rule.category),
            subject: finding.subject.clone(),
            message: finding.message.clone(),
            fingerprint: finding.fingerprint,
        }
    };
    let failing = |record: &ScanRecord| -> BTreeSet<Fingerprint> {
        record.results.iter().flat_map(|result| &result.findings).map(|finding| finding.fingerprint).collect()
    };
    let (old_failing, new_failing) = (failing(old), failing(new));
    let new_excepted: BTreeSet<Fingerprint> =
        new.results.iter().flat_map(|result| &result.excepted).map(|finding| finding.fingerprint).collect();
    // Judged in full: passed, or failed with every subject judged (no reason given).
    let judged_in_full: BTreeSet<&str> = new
        .results
        .iter()
        .filter(|result| result.status == Status::Pass || (result.status == Status::Fail && result.reason.is_none()))
        .map(|result| result.rule_id.as_str())
        .collect();

    let mut drift = Drift {
        old: old.summary(),
        new: new.summary(),
        score_change: new.score.overall.zip(old.score.overall).map(|(new, old)| ((new - old) * 10.0).round() / 10.0),
        new_findings: Vec::new(),
        resolved: Vec::new(),
        still_failing: Vec::new(),
        now_excepted: Vec::new(),
        no_longer_judged: Vec::new(),
    };
    for result in &new.results {
        for finding in &result.findings {
            let list = if old_failing.contains(&finding.fingerprint) {
                &mut drift.still_failing
            } else {
                &mut drift.new_findings
            };
            list.push(change(&result.rule_id, finding));
        }
    }
    for result in &old.results {
        for finding in result.findings.iter().filter(|finding| !new_failing.contains(&finding.fingerprint)) {
            let list = if new_excepted.contains(&finding.fingerprint) {
                &mut drift.now_excepted
            } else if judged_in_full.contains(result.rule_id.as_str()) {
                &mut drift.resolved
            } else {
                &mut drift.no_longer_judged
            };
            list.push(change(&result.rule_id, finding));
        }
    }
    for list in [
        &mut drift.new_findings,
        &mut drift.resolved,
        &mut drift.still_failing,
        &mut drift.now_excepted,
        &mut drift.no_longer_judged,
    ] {
        list.sort_by(|a, b| (a.severity, &a.rule_id, &a.subject).cmp(&(b.severity, &b.rule_id, &b.subject)));
    }
    Ok(drift)
}

/// The `baseline` block of a report scanned with `--baseline`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaselineSummary {
    /// The baseline scan.
    pub scan: ScanSummary,
    /// This score minus the baseline's; `None` when either scan judged nothing.
    pub score_change: Option<f64>,
    /// Findings the baseline did not have.
    pub new: usize,
    /// Findings the baseline had too.
    pub unchanged: usize,
    /// Baseline findings whose rule was judged in full again and passed them.
    pub resolved: usize,
    /// Baseline findings that an exception covers now.
    pub now_excepted: usize,
    /// Baseline findings whose rule (or subject) could not be judged in this scan.
    pub no_longer_judged: usize,
}

/// Marks every finding of `report` new or unchanged against `baseline`, and fills the
/// report's `baseline` block.
pub fn mark(report: &mut Report, baseline: &ScanRecord) -> Result<(), DriftError> {
    let current: ScanRecord = serde_json::to_value(&*report)
        .and_then(serde_json::from_value)
        .expect("a report reads back as a scan record: same serde types");
    let drift = compare(baseline, &current)?;
    let new: BTreeSet<Fingerprint> = drift.new_findings.iter().map(|change| change.fingerprint).collect();
    for finding in report.results.iter_mut().flat_map(|result| &mut result.findings) {
        finding.baseline =
            Some(if new.contains(&finding.fingerprint) { BaselineState::New } else { BaselineState::Unchanged });
    }
    report.baseline = Some(BaselineSummary {
        scan: drift.old.clone(),
        score_change: drift.score_change,
        new: drift.new_findings.len(),
        unchanged: drift.still_failing.len(),
        resolved: drift.resolved.len(),
        now_excepted: drift.now_excepted.len(),
        no_longer_judged: drift.no_longer_judged.len(),
    });
    Ok(())
}
