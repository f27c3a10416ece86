//! SARIF 2.1.0 for code-scanning uploads (GitHub code scanning conventions).
//!
//! One run per cluster with `automationDetails.id`; every result has a physical
//! location (the manifest path and line, or a stable pseudo-path
//! `k8s/<cluster>/<namespace|_cluster>/<Kind>/<name>` with `startLine: 1`), logical
//! locations, and our own `partialFingerprints.primaryLocationLineHash`. Excepted
//! findings are left out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_sarif::sarif::{
    ArtifactLocation, CodeFlow, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult,
    ResultBaselineState, ResultLevel, Run, RunAutomationDetails, Sarif, ThreadFlow, ThreadFlowLocation, Tool,
    ToolComponent,
};

use super::{Report, RuleInfo};
use crate::engine::{BaselineState, Finding, Severity};
use crate::facts::Subject;
use crate::paths::{AttackPath, Goal};
use crate::source::manifests::STDIN_NAME;

/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;

/// The subject kind of probe evidence; its name is `<component>/<host>[/<port>]`.
const ENDPOINT_KIND: &str = "Endpoint";

/// Characters kept as they are in pseudo-path segments: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// GitHub's `security-severity`: critical ≥ 9.0, high ≥ 7.0, medium ≥ 4.0, low > 0.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// The stable pseudo-path of a finding without a manifest file: an endpoint's
/// `_endpoints/<component>/<host>[/<port>]`, an object's
/// `k8s/<cluster>/<namespace|_cluster>/<Kind>/<name>`.
pub fn pseudo_path(cluster: &str, subject: &Subject) -> String {
    let segment = |text: &str| utf8_percent_encode(text, SEGMENT).to_string();
    if subject.kind == ENDPOINT_KIND {
        let segments: Vec<String> = subject.name.split('/').map(segment).collect();
        return format!("_endpoints/{}", segments.join("/"));
    }
    let namespace = subject.namespace.as_deref().unwrap_or("_cluster");
    format!("k8s/{}/{}/{}/{}", segment(cluster), segment(namespace), segment(&subject.kind), segment(&subject.name))
}

/// The artifact URI and line of a finding: its manifest relative to `base` (with `/`
/// separators), or the pseudo-path at line 1.
fn artifact(
    cluster: &str,
    subject: &Subject,
    location: Option<&crate::inventory::Location>,
    base: &Path,
) -> (String, i64) {
    match location {
        Some(location) if &*location.file != STDIN_NAME => {
            let path = Path::new(&*location.file);
            let relative = path.strip_prefix(base).unwrap_or(path);
            let uri = relative
                .components()
                .map(|part| utf8_percent_encode(&part.as_os_str().to_string_lossy(), SEGMENT).to_string())
                .collect::<Vec<_>>()
                .join("/");
            (uri, i64::from(location.line.max(1)))
        }
        _ => (pseudo_path(cluster, subject), 1),
    }
}

fn descriptor(rule: &RuleInfo) -> ReportingDescriptor {
    let mut tags = vec![rule.category.as_str().to_owned(), "kubernetes".to_owned()];
    for (benchmark, items) in &rule.mappings {
        tags.extend(items.iter().map(|item| format!("{benchmark}:{item}")));
    }
    let mut properties = BTreeMap::new();
    if let Some(score) = security_severity(rule.severity) {
        properties.insert("security-severity".to_owned(), serde_json::Value::from(score));
    }
    properties.insert("precision".to_owned(), serde_json::Value::from("high"));
    let references = rule.references.iter().fold(String::new(), |mut list, reference| {
        let _ = writeln!(list, "- <{reference}>");
        list
    });
    let markdown = format!(
        "**{}** ({} severity, {})\n\n{}\n\n**Remediation**\n\n{}\n\n**References**\n\n{references}",
        rule.title,
        rule.severity,
        rule.category,
        rule.rationale.trim(),
        rule.remediation.trim()
    );
    let help = MultiformatMessageString::builder().text(rule.remediation.trim().to_owned()).markdown(markdown).build();
    let builder = ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(rule.id.replace('-', ""))
        .short_description(MultiformatMessageString::builder().text(rule.title.clone()).build())
        .full_description(MultiformatMessageString::builder().text(rule.rationale.trim().to_owned()).build())
        .help(help)
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::to_value(level(rule.severity)).unwrap_or_default())
                .build(),
        )
        .properties(PropertyBag::builder().tags(tags).additional_properties(properties).build());
    match rule.references.first() {
        Some(uri) => builder.help_uri(uri.clone()).build(),
        None => builder.build(),
    }
}

fn result(report: &Report, index: usize, rule: &RuleInfo, finding: &Finding, base: &Path) -> SarifResult {
    let cluster = &report.cluster.name;
    let (uri, line) = artifact(cluster, &finding.subject, finding.location.as_ref(), base);
    let subject = &finding.subject;
    let mut logical = vec![
        LogicalLocation::builder()
            .name(subject.name.clone())
            .fully_qualified_name(subject.key())
            .kind(subject.kind.to_ascii_lowercase())
            .build(),
    ];
    if let Some(container) = &subject.container {
        logical.push(
            LogicalLocation::builder()
                .name(container.clone())
                .fully_qualified_name(subject.key())
                .kind("container")
                .build(),
        );
    }
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(uri).build())
                .region(Region::builder().start_line(line).build())
                .build(),
        )
        .logical_locations(logical)
        .build();
    let fingerprints = BTreeMap::from([("primaryLocationLineHash".to_owned(), finding.fingerprint.to_string())]);
    let mut result = SarifResult::builder()
        .rule_id(rule.id.clone())
        .rule_index(i64::try_from(index).unwrap_or(i64::MAX))
        .level(level(rule.severity))
        .message(Message::builder().text(finding.message.clone()).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .build();
    result.baseline_state = finding.baseline.map(|state| {
        let state = match state {
            BaselineState::New => ResultBaselineState::New,
            BaselineState::Unchanged => ResultBaselineState::Unchanged,
        };
        serde_json::to_value(state).expect("a SARIF enum serializes")
    });
    result
}

/// Renders the report as a SARIF log; manifest paths are made relative to `base`.
pub fn render(report: &Report, base: &Path) -> String {
    let mut rules: Vec<ReportingDescriptor> = report.rules.iter().map(descriptor).collect();
    // One rule per goal for attack paths, after the catalog's: a path is a result with
    // its steps as a code flow.
    let first_path_rule = rules.len();
    rules.extend(Goal::ALL.iter().map(|goal| path_descriptor(*goal)));
    let index: BTreeMap<&str, usize> =
        report.rules.iter().enumerate().map(|(position, rule)| (rule.id.as_str(), position)).collect();
    let results: Vec<SarifResult> = report
        .results
        .iter()
        .flat_map(|entry| entry.findings.iter().map(move |finding| (entry.rule_id.as_str(), finding)))
        .filter_map(|(rule_id, finding)| {
            let position = *index.get(rule_id)?;
            Some(result(report, position, &report.rules[position], finding, base))
        })
        .take(MAX_RESULTS)
        .collect();
    let mut results = results;
    let room = MAX_RESULTS.saturating_sub(results.len());
    results.extend(report.attack_paths.iter().take(room).map(|path| {
        let position = first_path_rule + Goal::ALL.iter().position(|goal| *goal == path.goal).unwrap_or(0);
        path_result(report, position, path, base)
    }));
    let identity = report.cluster.uid.clone().unwrap_or_else(|| report.cluster.name.clone());
    let driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .rules(rules)
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .automation_details(RunAutomationDetails::builder().id(format!("seaworthy/{identity}/")).build())
        .invocations(vec![invocation(report)])
        .results(results)
        .build();
    // seaworthy's run ids are UUIDs, as SARIF's GUIDs must be; anything else is left out.
    run.baseline_guid = report
        .baseline
        .as_ref()
        .map(|baseline| baseline.scan.run_id.clone())
        .filter(|run_id| uuid::Uuid::parse_str(run_id).is_ok());
    let log = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log).expect("a SARIF log serializes");
    text.push('\n');
    text
}

/// `PATH-CLUSTER-ADMIN` and its siblings: the rule of the attack paths to one goal.
fn path_rule_id(goal: Goal) -> String {
    let name = match goal {
        Goal::ClusterAdmin => "CLUSTER-ADMIN",
        Goal::AllSecrets => "ALL-SECRETS",
        Goal::NodeRoot => "NODE-ROOT",
        Goal::Etcd => "ETCD",
    };
    format!("PATH-{name}")
}

fn path_descriptor(goal: Goal) -> ReportingDescriptor {
    let title = format!("Attack path to {}", goal.label());
    let help = "Each step rests on a finding or fact of this scan; break the path at its named fix (the step the most paths share). See docs/attack-paths.md.";
    let mut properties = BTreeMap::new();
    properties.insert("security-severity".to_owned(), serde_json::Value::from("9.5"));
    properties.insert("precision".to_owned(), serde_json::Value::from("high"));
    ReportingDescriptor::builder()
        .id(path_rule_id(goal))
        .name(path_rule_id(goal).replace('-', ""))
        .short_description(MultiformatMessageString::builder().text(title.clone()).build())
        .full_description(
            MultiformatMessageString::builder()
                .text(format!("{title}: findings that combine into a route from an entry point to {}.", goal.label()))
                .build(),
        )
        .help(MultiformatMessageString::builder().text(help.to_owned()).build())
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::to_value(ResultLevel::Error).unwrap_or_default())
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["security".to_owned(), "kubernetes".to_owned(), "attack-path".to_owned()])
                .additional_properties(properties)
                .build(),
        )
        .build()
}

/// A path as one result: located at its fix, its steps as a thread flow in order.
fn path_result(report: &Report, index: usize, path: &AttackPath, base: &Path) -> SarifResult {
    let cluster = &report.cluster.name;
    let place = |step: &crate::paths::Step, text: String| {
        let subject = step.subject.as_deref().cloned().unwrap_or_else(|| Subject {
            kind: "Cluster".into(),
            name: cluster.clone(),
            ..Subject::default()
        });
        let (uri, line) = artifact(cluster, &subject, step.location.as_ref(), base);
        let logical = LogicalLocation::builder()
            .name(subject.name.clone())
            .fully_qualified_name(subject.key())
            .kind(subject.kind.to_ascii_lowercase())
            .build();
        Location::builder()
            .physical_location(
                PhysicalLocation::builder()
                    .artifact_location(ArtifactLocation::builder().uri(uri).build())
                    .region(Region::builder().start_line(line).build())
                    .build(),
            )
            .logical_locations(vec![logical])
            .message(Message::builder().text(text).build())
            .build()
    };
    let steps: Vec<ThreadFlowLocation> = path
        .steps
        .iter()
        .enumerate()
        .map(|(number, step)| {
            let rule = step.rule_id.as_deref().unwrap_or("fact");
            let shown = if step.verified { "" } else { " (possible, unverified)" };
            let text = format!("{}. {} → {} [{rule}]{shown}: {}", number + 1, step.action, step.to, step.evidence);
            ThreadFlowLocation::builder()
                .location(place(step, text))
                .execution_order(i64::try_from(number).unwrap_or(0))
                .build()
        })
        .collect();
    let fix = &path.steps[path.fix];
    let verified = if path.verified { "" } else { "possible (a step is unverified): " };
    let message = format!(
        "{verified}{} → {} in {} step(s). Cheapest fix: step {} ({}), which breaks {} path(s).",
        path.entry_label,
        path.goal.label(),
        path.steps.len(),
        path.fix + 1,
        fix.rule_id.as_deref().unwrap_or(&fix.action),
        path.fix_breaks
    );
    let identity: String = std::iter::once(format!("{:?}>{:?}", path.entry, path.goal))
        .chain(
            path.steps
                .iter()
                .map(|step| format!("{}|{}|{}", step.rule_id.as_deref().unwrap_or(""), step.from, step.to)),
        )
        .collect::<Vec<_>>()
        .join(";");
    let digest = ring::digest::digest(&ring::digest::SHA256, identity.as_bytes());
    let fingerprint = digest.as_ref().iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    let flow = CodeFlow::builder()
        .message(Message::builder().text(format!("{} to {}", path.entry_label, path.goal.label())).build())
        .thread_flows(vec![ThreadFlow::builder().locations(steps).build()])
        .build();
    let mut result = SarifResult::builder()
        .rule_id(path_rule_id(path.goal))
        .rule_index(i64::try_from(index).unwrap_or(i64::MAX))
        .level(if path.verified { ResultLevel::Error } else { ResultLevel::Warning })
        .message(Message::builder().text(message).build())
        .locations(vec![place(fix, fix.evidence.clone())])
        .code_flows(vec![flow])
        .partial_fingerprints(BTreeMap::from([("primaryLocationLineHash".to_owned(), fingerprint)]))
        .build();
    // Against a baseline, a path is new when a finding it rests on is.
    if report.baseline.is_some() {
        let new = path.steps.iter().any(|step| finding_state(report, step) == Some(BaselineState::New));
        let state = if new { ResultBaselineState::New } else { ResultBaselineState::Unchanged };
        result.baseline_state = Some(serde_json::to_value(state).expect("a SARIF enum serializes"));
    }
    result
}

/// The baseline state of the finding a step rests on.
fn finding_state(report: &Report, step: &crate::paths::Step) -> Option<BaselineState> {
    let (rule, subject) = (step.rule_id.as_deref()?, step.subject.as_ref()?);
    let result = report.results.iter().find(|result| result.rule_id == rule)?;
    result.findings.iter().find(|finding| finding.subject.key() == subject.key())?.baseline
}

/// The invocation: successful only when the scan judged something. A scan of nothing
/// says why in an error notification, so that an empty result list is never read as
/// "no problems".
fn invocation(report: &Report) -> Invocation {
    match &report.score.ungraded {
        None => Invocation::builder().execution_successful(true).build(),
        Some(reason) => {
            let notification = Notification::builder()
                .message(Message::builder().text(reason.clone()).build())
                .level(serde_json::Value::from("error"))
                .build();
            Invocation::builder().execution_successful(false).tool_execution_notifications(vec![notification]).build()
        }
    }
}
