//! Compliance views: each control of a framework — the CIS Kubernetes Benchmark, the
//! NSA/CISA hardening guide, the Pod Security Standards — with the status the scan's
//! rules give it. The frameworks are data (`frameworks/*.yaml`, titles in our own
//! words); rules name the controls they bear on in their `mappings`.
//!
//! A control's status: `fail` when a rule behind it failed; else `notEvaluated` when
//! one could not be judged; else `pass` when one passed; else `notApplicable`. Without
//! a rule it is `manual` (seaworthy cannot judge it from where it runs; the reason
//! says why) or `notCovered` (no rule checks it yet). Missing evidence never passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::Status;
use crate::report::{ResultEntry, RuleInfo};

/// A framework's controls, as `frameworks/*.yaml` writes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// What `--framework` calls it: `cis`, `nsa`, `pss-baseline`, `pss-restricted`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The version the controls and the rules' mappings follow.
    pub version: String,
    /// The key of rules' `mappings` that names its controls.
    pub mapping: String,
    /// Another framework whose sections come first (Restricted includes Baseline).
    #[serde(default)]
    pub includes: Option<String>,
    /// Its sections, in order.
    pub sections: Vec<Section>,
}

/// A section of a framework.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Its number or name.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Why none of its controls can be judged by seaworthy, when that holds for all.
    #[serde(default)]
    pub manual: Option<String>,
    /// Its controls, in order.
    pub controls: Vec<Control>,
}

/// One control.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Its id, as rules' mappings name it.
    pub id: String,
    /// What it asks, in our words.
    pub title: String,
    /// Why seaworthy cannot judge it, when it cannot.
    #[serde(default)]
    pub manual: Option<String>,
}

impl Control {
    /// Why it is manual: its own reason, else its section's.
    fn manual_reason<'s>(&'s self, section: &'s Section) -> Option<&'s str> {
        self.manual.as_deref().or(section.manual.as_deref())
    }
}

const SOURCES: [(&str, &str); 4] = [
    ("frameworks/cis.yaml", include_str!("../frameworks/cis.yaml")),
    ("frameworks/nsa.yaml", include_str!("../frameworks/nsa.yaml")),
    ("frameworks/pss-baseline.yaml", include_str!("../frameworks/pss-baseline.yaml")),
    ("frameworks/pss-restricted.yaml", include_str!("../frameworks/pss-restricted.yaml")),
];

/// Every framework, in `--framework` order; parsed once.
pub fn frameworks() -> &'static [Framework] {
    static FRAMEWORKS: OnceLock<Vec<Framework>> = OnceLock::new();
    FRAMEWORKS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(path, text)| {
                serde_saphyr::from_str(text).unwrap_or_else(|error| panic!("{path} is a framework: {error}"))
            })
            .collect()
    })
}

/// The framework `id` names.
pub fn framework(id: &str) -> Option<&'static Framework> {
    frameworks().iter().find(|framework| framework.id == id)
}

impl Framework {
    /// Its sections with those of the framework it includes first.
    pub fn all_sections(&self) -> Vec<&Section> {
        let included = self.includes.as_deref().and_then(framework);
        included.into_iter().flat_map(|framework| framework.sections.iter()).chain(&self.sections).collect()
    }

    fn has_control(&self, id: &str) -> bool {
        self.all_sections().iter().any(|section| section.controls.iter().any(|control| control.id == id))
    }
}

/// Mappings of `rules` that name no control of their framework, as `RULE: key ID`.
pub fn unknown_mappings<'r>(
    rules: impl IntoIterator<Item = (&'r str, &'r BTreeMap<String, Vec<String>>)>,
) -> Vec<String> {
    let mut unknown = Vec::new();
    for (rule, mappings) in rules {
        for (key, ids) in mappings {
            // `pss` names the controls of both levels; Restricted includes Baseline.
            let named: Vec<&Framework> = frameworks().iter().filter(|framework| framework.mapping == *key).collect();
            let Some(widest) = named.last() else { continue };
            for id in ids.iter().filter(|id| !named.iter().any(|framework| framework.has_control(id))) {
                unknown.push(format!("{rule}: {key} {id} is no control of {} {}", widest.name, widest.version));
            }
        }
    }
    unknown
}

/// A control's status in a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ControlStatus {
    /// A rule behind it failed.
    Fail,
    /// A rule behind it could not be judged and none failed.
    NotEvaluated,
    /// Its rules passed (or did not apply).
    Pass,
    /// None of its rules applied.
    NotApplicable,
    /// seaworthy cannot judge it from where it runs: check it by hand.
    Manual,
    /// No rule checks it.
    NotCovered,
}

impl ControlStatus {
    /// Every status, in the order views count them.
    pub const ALL: [Self; 6] =
        [Self::Fail, Self::NotEvaluated, Self::Pass, Self::NotApplicable, Self::Manual, Self::NotCovered];

    /// As the JSON report writes it, in words: `not evaluated`.
    pub fn words(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::NotEvaluated => "not evaluated",
            Self::Pass => "pass",
            Self::NotApplicable => "not applicable",
            Self::Manual => "manual",
            Self::NotCovered => "not covered",
        }
    }
}

/// One framework's controls judged by a scan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct View {
    /// The framework (`cis`, `nsa`, `pss-baseline`, `pss-restricted`).
    pub framework: String,
    /// Its name.
    pub name: String,
    /// The version its controls follow.
    pub version: String,
    /// Controls per status.
    pub counts: BTreeMap<ControlStatus, usize>,
    /// Its sections.
    pub sections: Vec<SectionView>,
}

/// A section's controls judged by a scan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct SectionView {
    /// Its number or name.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Controls per status.
    pub counts: BTreeMap<ControlStatus, usize>,
    /// Its controls.
    pub controls: Vec<ControlView>,
}

/// One control judged by a scan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ControlView {
    /// Its id.
    pub id: String,
    /// What it asks.
    pub title: String,
    /// Its status.
    pub status: ControlStatus,
    /// Why: the rules that failed or could not be judged, why it is manual or not covered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rules of this scan behind it.
    pub rules: Vec<String>,
}

/// Every framework's view of a scan's results.
pub fn views(rules: &[RuleInfo], results: &[ResultEntry]) -> Vec<View> {
    frameworks().iter().map(|framework| view(framework, rules, results)).collect()
}

fn view(framework: &Framework, rules: &[RuleInfo], results: &[ResultEntry]) -> View {
    let result_of: BTreeMap<&str, &ResultEntry> =
        results.iter().map(|result| (result.rule_id.as_str(), result)).collect();
    let mut counts = BTreeMap::new();
    let sections = framework
        .all_sections()
        .into_iter()
        .map(|section| {
            let controls: Vec<ControlView> = section
                .controls
                .iter()
                .map(|control| {
                    let behind: Vec<&ResultEntry> = rules
                        .iter()
                        .filter(|rule| {
                            rule.mappings.get(&framework.mapping).is_some_and(|ids| ids.contains(&control.id))
                        })
                        .filter_map(|rule| result_of.get(rule.id.as_str()).copied())
                        .collect();
                    judge(control, control.manual_reason(section), &behind)
                })
                .collect();
            let mut section_counts = BTreeMap::new();
            for control in &controls {
                *section_counts.entry(control.status).or_insert(0) += 1;
                *counts.entry(control.status).or_insert(0) += 1;
            }
            SectionView { id: section.id.clone(), title: section.title.clone(), counts: section_counts, controls }
        })
        .collect();
    View {
        framework: framework.id.clone(),
        name: framework.name.clone(),
        version: framework.version.clone(),
        counts,
        sections,
    }
}

/// A control's status from the results of the rules behind it.
fn judge(control: &Control, manual: Option<&str>, behind: &[&ResultEntry]) -> ControlView {
    let rules = behind.iter().map(|result| result.rule_id.clone()).collect();
    let with = |status, reason: Option<String>| ControlView {
        id: control.id.clone(),
        title: control.title.clone(),
        status,
        reason,
        rules,
    };
    if behind.is_empty() {
        return match manual {
            Some(reason) => with(ControlStatus::Manual, Some(reason.to_owned())),
            None => with(ControlStatus::NotCovered, Some("no rule of this scan checks it".into())),
        };
    }
    let of = |status: Status| behind.iter().filter(move |result| result.status == status);
    let failed: Vec<String> = of(Status::Fail).map(|result| format!("{} failed", result.rule_id)).collect();
    if !failed.is_empty() {
        return with(ControlStatus::Fail, Some(failed.join("; ")));
    }
    let unjudged: Vec<String> = of(Status::NotEvaluated)
        .map(|result| format!("{}: {}", result.rule_id, result.reason.as_deref().unwrap_or("not evaluated")))
        .collect();
    if !unjudged.is_empty() {
        return with(ControlStatus::NotEvaluated, Some(unjudged.join("; ")));
    }
    if of(Status::Pass).next().is_some() {
        // An excepted finding is accepted, not compliant: say so.
        let excepted: usize = behind.iter().map(|result| result.excepted.len()).sum();
        let reason = (excepted > 0).then(|| format!("passes with {excepted} finding(s) excepted by the configuration"));
        return with(ControlStatus::Pass, reason);
    }
    with(ControlStatus::NotApplicable, Some("none of its rules applied".into()))
}

/// `docs/compliance.md`: every framework's controls and the rules of `rules` behind each.
pub fn markdown(rules: &[RuleInfo]) -> String {
    let mut out = String::from(
        "# Compliance mappings\n\n<!-- Generated from frameworks/*.yaml and the rules' mappings by `UPDATE_DOCS=1 cargo test --test generated_docs`; do not edit. -->\n\n\
         `seaworthy scan --framework cis|nsa|pss-baseline|pss-restricted` shows each control\n\
         with the status its rules give it; the JSON report carries every framework under\n\
         `compliance`. A control is `fail` when a rule behind it failed, else `not evaluated`\n\
         when one could not be judged, else `pass` when one passed, else `not applicable`.\n\
         Without a rule it is `manual` (seaworthy cannot judge it from where it runs: the\n\
         reason says why) or `not covered` (no rule checks it yet). Control titles are our\n\
         own words; the numbers follow the version named.\n",
    );
    for framework in frameworks() {
        let _ = write!(out, "\n## {} {} (`--framework {}`)\n", framework.name, framework.version, framework.id);
        let mut covered = 0;
        let mut total = 0;
        for section in framework.all_sections() {
            let _ = write!(
                out,
                "\n### {} {}\n\n| Control | What it asks | Rules |\n|---|---|---|\n",
                section.id, section.title
            );
            for control in &section.controls {
                let ids: Vec<String> = rules
                    .iter()
                    .filter(|rule| rule.mappings.get(&framework.mapping).is_some_and(|ids| ids.contains(&control.id)))
                    .map(|rule| format!("[{}](rules.md#{})", rule.id, rule.id.to_lowercase()))
                    .collect();
                total += 1;
                let rules_cell = if ids.is_empty() {
                    match control.manual_reason(section) {
                        Some(reason) => format!("manual: {reason}"),
                        None => "not covered".to_owned(),
                    }
                } else {
                    covered += 1;
                    ids.join(", ")
                };
                let _ = writeln!(out, "| {} | {} | {rules_cell} |", control.id, control.title.replace('|', "\\|"));
            }
        }
        let _ = write!(out, "\n{covered} of {total} controls have a rule.\n");
    }
    out
}
