//! The steps the evidence allows. Each step rests on one finding (the rule that failed,
//! its subject and message) or on one fact (an RBAC grant, an automounted token), and
//! is `verified` only when that evidence was judged: an inconclusive subject, or a rule
//! that could not be evaluated, makes a step possible at most.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Entry, Goal, Position, Step, Steps};
use crate::engine::{Finding, Status};
use crate::facts::rbac::Escalation;
use crate::facts::{Addon, Facts, RbacSubjectFact, Subject, WorkloadFact};
use crate::inventory::{Availability, Location};
use crate::report::ResultEntry;
use crate::report::terminal::subject_text;

/// Findings that open etcd to the network, and what the attacker does with each.
const ETCD_OPEN: [(&str, &str); 5] = [
    ("ETCD-009", "reads and writes etcd over its plaintext client port"),
    ("ETCD-010", "reads and writes etcd without a client certificate"),
    ("ETCD-008", "connects to etcd's plaintext client URL"),
    ("ETCD-001", "connects to etcd, which serves clients without TLS"),
    ("ETCD-002", "connects to etcd, which asks clients for no certificate"),
];
/// Findings that let a request from the network skip authentication and authorization.
const INSECURE_PORT: [(&str, &str); 2] = [
    ("APISERVER-018", "sends requests to the insecure port, which skips authentication and authorization"),
    ("APISERVER-004", "sends requests to the insecure port, which skips authentication and authorization"),
];
/// Findings that let a request without credentials through as `system:anonymous`.
const ANONYMOUS: [(&str, &str); 3] = [
    ("APISERVER-016", "sends requests without credentials, which the API server serves"),
    ("APISERVER-017", "sends requests without credentials, as system:anonymous"),
    ("APISERVER-001", "sends requests without credentials, as system:anonymous"),
];
/// Findings on a workload that give root on its node.
const NODE_ROOT: [(&str, &str); 4] = [
    ("POD-001", "runs as a privileged container: root on the node"),
    ("POD-003", "shares the host's process namespace: the node's processes"),
    ("POD-005", "writes a host path: the node's files"),
    ("POD-007", "holds a container runtime socket: any container on the node"),
];
/// The rules that judge each subject's cluster-admin grant.
const CLUSTER_ADMIN_RULES: [&str; 7] =
    ["RBAC-001", "RBAC-002", "RBAC-003", "RBAC-004", "RBAC-005", "RBAC-006", "RBAC-007"];

/// An object a finding is about: rule, kind, namespace, name. A container's findings
/// are about its workload.
type About<'r> = (&'r str, &'r str, Option<&'r str>, &'r str);

/// The judged results, indexed once: steps look findings up per subject, and a
/// cluster has as many subjects as findings.
struct Evidence<'r> {
    by_rule: HashMap<&'r str, &'r ResultEntry>,
    /// The first failing finding of each rule about each object.
    failing: HashMap<About<'r>, &'r Finding>,
}

impl<'r> Evidence<'r> {
    fn new(results: &'r [ResultEntry]) -> Self {
        let mut failing = HashMap::new();
        for result in results {
            for finding in &result.findings {
                let subject = &*finding.subject;
                let about =
                    (result.rule_id.as_str(), &*subject.kind, subject.namespace.as_deref(), subject.name.as_str());
                failing.entry(about).or_insert(finding);
            }
        }
        Self { by_rule: results.iter().map(|result| (result.rule_id.as_str(), result)).collect(), failing }
    }

    fn result(&self, rule: &str) -> Option<&'r ResultEntry> {
        self.by_rule.get(rule).copied()
    }

    fn status(&self, rule: &str) -> Option<Status> {
        self.result(rule).map(|result| result.status)
    }

    /// The rule's failing findings (verified) and inconclusive subjects (possible).
    fn of(&self, rule: &str) -> impl Iterator<Item = (&'r Finding, bool)> {
        self.result(rule).into_iter().flat_map(|result| {
            let failing = result.findings.iter().map(|finding| (finding, true));
            failing.chain(result.inconclusive.iter().map(|finding| (finding, false)))
        })
    }

    /// The failing finding of `rule` about `subject` (or one of its containers).
    fn about(&self, rule: &str, subject: &Subject) -> Option<&'r Finding> {
        self.failing.get(&(rule, &*subject.kind, subject.namespace.as_deref(), subject.name.as_str())).copied()
    }
}

fn finding_step(rule: &str, finding: &Finding, action: &str, verified: bool) -> Step {
    Step {
        from: String::new(),
        to: String::new(),
        action: action.to_owned(),
        rule_id: Some(rule.to_owned()),
        subject: Some(Arc::clone(&finding.subject)),
        location: finding.location.clone(),
        evidence: finding.message.clone(),
        verified,
    }
}

fn fact_step(subject: &Subject, location: Option<&Location>, action: String, evidence: String) -> Step {
    Step {
        from: String::new(),
        to: String::new(),
        action,
        rule_id: None,
        subject: Some(Arc::new(subject.clone())),
        location: location.cloned(),
        evidence,
        verified: true,
    }
}

/// Every step the facts and results allow.
pub(super) fn build(facts: &Facts, results: &[ResultEntry]) -> Steps {
    let evidence = Evidence::new(results);
    let mut steps = Steps::default();
    let network = || Position::Entry(Entry::Network);
    for (rule, action) in ETCD_OPEN {
        for (finding, verified) in evidence.of(rule) {
            steps.add(network(), Position::Goal(Goal::Etcd), finding_step(rule, finding, action, verified));
        }
    }
    for (rule, action) in INSECURE_PORT {
        for (finding, verified) in evidence.of(rule) {
            steps.add(network(), Position::Goal(Goal::ClusterAdmin), finding_step(rule, finding, action, verified));
        }
    }
    for (rule, action) in ANONYMOUS {
        for (finding, verified) in evidence.of(rule) {
            steps.add(network(), Position::Anonymous, finding_step(rule, finding, action, verified));
        }
    }
    kubelets(&mut steps, &evidence);
    add_ons(&mut steps, &evidence, facts);
    if facts.rbac_subjects.availability == Availability::Collected {
        for subject in &facts.rbac_subjects.items {
            grants(&mut steps, &evidence, subject);
        }
        tokens(&mut steps, &facts.rbac_subjects.items);
    }
    workloads(&mut steps, &evidence, &facts.workloads.items);
    steps
}

/// A kubelet that serves anyone (wire evidence, or anonymous access with AlwaysAllow in
/// its configuration) runs commands in any of its pods.
fn kubelets(steps: &mut Steps, evidence: &Evidence<'_>) {
    let exec = "runs commands in any pod of the node through the kubelet API, without credentials";
    for (finding, verified) in evidence.of("KUBELET-002") {
        steps.add(
            Position::Entry(Entry::Network),
            Position::ExecAnyPod,
            finding_step("KUBELET-002", finding, exec, verified),
        );
    }
    for (finding, verified) in evidence.of("KCFG-002") {
        // AlwaysAllow alone asks credentials first; with anonymous access it asks nothing.
        let Some(anonymous) = evidence.about("KCFG-001", &finding.subject) else { continue };
        let mut step = finding_step("KCFG-002", finding, exec, verified);
        step.evidence = format!("{}; {}", anonymous.message, finding.message);
        steps.add(Position::Entry(Entry::Network), Position::ExecAnyPod, step);
    }
}

/// The Dashboard without login, and Tiller without TLS, act as their service accounts
/// for whoever reaches them.
fn add_ons(steps: &mut Steps, evidence: &Evidence<'_>, facts: &Facts) {
    let account_of = |subject: &Subject| {
        facts.workloads.items.iter().find(|workload| workload.subject.key() == subject.key()).map(account)
    };
    for (finding, verified) in evidence.of("ADDON-003") {
        let Some(account) = account_of(&finding.subject) else { continue };
        let action = "uses the Dashboard without logging in: it acts as its service account";
        steps.add(Position::Entry(Entry::Network), account, finding_step("ADDON-003", finding, action, verified));
    }
    let tillers: Vec<&WorkloadFact> =
        facts.workloads.items.iter().filter(|workload| workload.addon == Addon::Tiller).collect();
    let action = "sends Helm's gRPC to Tiller, which acts as its service account";
    for (finding, verified) in evidence.of("ADDON-002") {
        for tiller in &tillers {
            steps.add(
                Position::Entry(Entry::Network),
                account(tiller),
                finding_step("ADDON-002", finding, action, verified),
            );
        }
    }
    // Without the probe, that Tiller answers without TLS is possible, not proven.
    if evidence.status("ADDON-002") == Some(Status::NotEvaluated) {
        let why = evidence.result("ADDON-002").and_then(|result| result.reason.clone()).unwrap_or_default();
        for (finding, _) in evidence.of("ADDON-001") {
            let Some(account) = account_of(&finding.subject) else { continue };
            let mut step = finding_step("ADDON-001", finding, action, false);
            step.evidence = format!(
                "{}; Tiller takes requests without credentials unless started with --tls-verify (ADDON-002 not evaluated: {why})",
                finding.message
            );
            steps.add(Position::Entry(Entry::Network), account, step);
        }
    }
}

fn account(workload: &WorkloadFact) -> Position {
    Position::ServiceAccount(format!(
        "{}/{}",
        workload.subject.namespace.as_deref().unwrap_or_default(),
        workload.service_account
    ))
}

/// Where an RBAC subject sits in the graph: a service account, the anonymous user, every
/// authenticated user; `None` for users and groups no entry point reaches.
fn position_of(subject: &Subject) -> Option<Position> {
    match (&*subject.kind, subject.name.as_str()) {
        ("ServiceAccount", name) => {
            Some(Position::ServiceAccount(format!("{}/{name}", subject.namespace.as_deref().unwrap_or_default())))
        }
        ("User", "system:anonymous") | ("Group", "system:unauthenticated") => Some(Position::Anonymous),
        ("Group", "system:authenticated") => Some(Position::Entry(Entry::Authenticated)),
        _ => None,
    }
}

/// What a subject's grants unlock: cluster-admin, and each escalation grant.
fn grants(steps: &mut Steps, evidence: &Evidence<'_>, rbac: &RbacSubjectFact) {
    let Some(from) = position_of(&rbac.subject) else { return };
    if rbac.cluster_admin {
        let action = "holds cluster-admin";
        let finding = CLUSTER_ADMIN_RULES.iter().find_map(|rule| {
            evidence.about(rule, &rbac.subject).map(|finding| (rule, finding)).or_else(|| {
                // The anonymous and authenticated groups are judged by their binding.
                let binding = rbac.grants.first()?.split(" → ").next()?;
                evidence
                    .of(rule)
                    .find(|(finding, verified)| {
                        *verified && format!("{}/{}", finding.subject.kind, finding.subject.name) == binding
                    })
                    .map(|(finding, _)| (rule, finding))
            })
        });
        let step = match finding {
            Some((rule, finding)) => finding_step(rule, finding, action, true),
            None => fact_step(
                &rbac.subject,
                rbac.location.as_ref(),
                action.into(),
                format!("bound: {}", rbac.grants.join("; ")),
            ),
        };
        steps.add(from.clone(), Position::Goal(Goal::ClusterAdmin), step);
    }
    for escalation in &rbac.escalations {
        let scope = (escalation.scope != "cluster-wide").then_some(escalation.scope.as_str());
        let (rule, action, to) = escalation_step(escalation.kind, scope);
        let step = match evidence.about(rule, &rbac.subject) {
            Some(finding) => finding_step(rule, finding, &action, true),
            None => fact_step(
                &rbac.subject,
                rbac.location.as_ref(),
                action,
                format!("{} ({})", escalation.grant, escalation.scope),
            ),
        };
        for to in to {
            steps.add(from.clone(), to, step.clone());
        }
    }
}

/// The rule that judges an escalation grant, what the attacker does with it, and
/// where it leads.
fn escalation_step(kind: Escalation, scope: Option<&str>) -> (&'static str, String, Vec<Position>) {
    let within = scope.map_or_else(|| "in every namespace".to_owned(), |namespace| format!("in {namespace}"));
    let tokens = Position::Tokens(scope.map(str::to_owned));
    let admin = Position::Goal(Goal::ClusterAdmin);
    match kind {
        Escalation::ReadSecrets if scope.is_none() => (
            "RBAC-008",
            "reads every Secret, service-account tokens included".into(),
            vec![Position::Goal(Goal::AllSecrets), tokens],
        ),
        Escalation::ReadSecrets => {
            ("RBAC-008", format!("reads the Secrets {within}, their tokens included"), vec![tokens])
        }
        Escalation::CreateWorkloads => {
            ("RBAC-009", format!("creates a pod {within} that runs as any of its service accounts"), vec![tokens])
        }
        Escalation::ExecIntoPods => {
            ("RBAC-010", format!("execs into the pods {within} and takes their tokens"), vec![tokens])
        }
        Escalation::NodeProxy => {
            ("RBAC-011", "runs commands in any pod through nodes/proxy".into(), vec![Position::ExecAnyPod])
        }
        Escalation::EscalateOrBind => {
            ("RBAC-012", "binds itself to cluster-admin (escalate or bind)".into(), vec![admin])
        }
        Escalation::Impersonate => ("RBAC-013", "impersonates system:masters".into(), vec![admin]),
        Escalation::CreateTokens => {
            ("RBAC-014", format!("creates a token for any service account {within}"), vec![tokens])
        }
        Escalation::ApproveCertificates => {
            ("RBAC-015", "approves a client certificate for a cluster-admin identity".into(), vec![admin])
        }
        Escalation::WriteWebhooks => (
            "RBAC-016",
            "installs an admission webhook that sees every object written".into(),
            vec![Position::Goal(Goal::AllSecrets)],
        ),
        Escalation::WritePersistentVolumes => (
            "RBAC-017",
            "mounts a hostPath PersistentVolume: the node's files".into(),
            vec![Position::Goal(Goal::NodeRoot)],
        ),
        Escalation::PatchNodes => ("RBAC-018", "patches Nodes".into(), Vec::new()),
    }
}

/// Any token of a namespace (or of all) is the token of each account there that holds
/// something.
fn tokens(steps: &mut Steps, subjects: &[RbacSubjectFact]) {
    for rbac in subjects.iter().filter(|rbac| rbac.subject.kind == "ServiceAccount") {
        let Some(account) = position_of(&rbac.subject) else { continue };
        if !steps.leaves(&account) {
            continue;
        }
        let namespace = rbac.subject.namespace.clone().unwrap_or_default();
        let action = format!("takes the token of {}", subject_text(&rbac.subject));
        let evidence = format!("bound: {}", rbac.grants.join("; "));
        for scope in [Some(namespace), None] {
            let step = fact_step(&rbac.subject, rbac.location.as_ref(), action.clone(), evidence.clone());
            steps.add(Position::Tokens(scope), account.clone(), step);
        }
    }
}

/// A pod holds its automounted token, and a privileged pod its node; commands in any
/// pod reach both.
fn workloads(steps: &mut Steps, evidence: &Evidence<'_>, workloads: &[WorkloadFact]) {
    for workload in workloads {
        let pod = Position::Entry(Entry::Pod(subject_text(&workload.subject)));
        let account = account(workload);
        if workload.automount_service_account_token && steps.leaves(&account) {
            let action = format!("reads the automounted token of service account {}", workload.service_account);
            let evidence =
                format!("{} mounts the token of {}", subject_text(&workload.subject), workload.service_account);
            let step = fact_step(&workload.subject, workload.location.as_ref(), action, evidence);
            steps.add(pod.clone(), account.clone(), step.clone());
            steps.add(Position::ExecAnyPod, account, step);
        }
        for (rule, action) in NODE_ROOT {
            let Some(finding) = evidence.about(rule, &workload.subject) else { continue };
            steps.add(pod.clone(), Position::Goal(Goal::NodeRoot), finding_step(rule, finding, action, true));
            steps.add(Position::ExecAnyPod, Position::Goal(Goal::NodeRoot), finding_step(rule, finding, action, true));
        }
    }
}
