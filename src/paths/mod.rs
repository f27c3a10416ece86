//! Attack paths: how the findings combine into routes from an entry point (the scan's
//! network position, any authenticated user, a pod of a workload) to a goal
//! (cluster-admin, every Secret, root on a node, etcd). Computed from the facts and the
//! judged results, with no I/O: every step rests on one finding or one fact, with its
//! evidence, and a step that rests on evidence that could not be judged is `possible`,
//! never `verified`.
//!
//! [`graph`] turns the evidence into steps; this module searches them (petgraph's
//! simple paths, at most [`MAX_STEPS`] steps, at most [`PATHS_PER_GOAL`] per goal)
//! and names each path's cheapest fix.

mod graph;

use std::collections::BTreeMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use schemars::JsonSchema;
use serde::Serialize;

use crate::facts::{Facts, Subject};
use crate::inventory::Location;
use crate::report::ResultEntry;

/// The longest path reported, in steps: longer chains are real but rarely the ones to
/// fix first, and the search stays bounded on clusters of any size.
pub const MAX_STEPS: usize = 6;
/// Paths kept per goal and kind of entry point (the network, any authenticated user,
/// pods), the shortest and verified first.
pub const PATHS_PER_GOAL: usize = 5;
/// Simple paths looked at per entry point and goal before the shortest are chosen.
const CANDIDATES: usize = 64;

/// Where an attacker starts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", tag = "kind", content = "workload")]
pub enum Entry {
    /// The scan's network position, without credentials.
    Network,
    /// Any authenticated user with no bindings of its own (`system:authenticated`).
    Authenticated,
    /// Code execution in a pod of this workload (`Kind/namespace/name`).
    Pod(String),
}

impl Entry {
    /// In words.
    pub fn label(&self) -> String {
        match self {
            Self::Network => "the network, without credentials".into(),
            Self::Authenticated => "any authenticated user (system:authenticated)".into(),
            Self::Pod(workload) => format!("a pod of {workload}"),
        }
    }
}

/// What an attacker wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Goal {
    /// Every verb on every resource.
    ClusterAdmin,
    /// Every Secret, and with them every service-account token.
    AllSecrets,
    /// Root on a node.
    NodeRoot,
    /// Reading and writing etcd: every object, Secrets included, bypassing the API.
    Etcd,
}

impl Goal {
    /// Every goal, in report order.
    pub const ALL: [Self; 4] = [Self::ClusterAdmin, Self::Etcd, Self::AllSecrets, Self::NodeRoot];

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Self::ClusterAdmin => "cluster-admin",
            Self::AllSecrets => "every Secret",
            Self::NodeRoot => "root on a node",
            Self::Etcd => "etcd",
        }
    }

    /// A goal that, reached from the network, caps the grade at F.
    pub fn caps_the_grade(self) -> bool {
        matches!(self, Self::ClusterAdmin | Self::AllSecrets | Self::Etcd)
    }
}

/// One step of a path: what the attacker does, and the evidence that they can.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Where the step starts, in words.
    pub from: String,
    /// Where it leads, in words.
    pub to: String,
    /// What the attacker does.
    pub action: String,
    /// The rule whose finding this step rests on; absent when it rests on a fact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The finding's (or fact's) subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Arc<Subject>>,
    /// Where that subject is written, in manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The evidence: the finding's message, or the fact.
    pub evidence: String,
    /// False when the step rests on evidence that could not be judged (an inconclusive
    /// subject, a rule not evaluated): possible, not proven.
    pub verified: bool,
}

impl Step {
    /// What identifies the step across paths: the fix for one is the fix for all.
    fn identity(&self) -> (Option<String>, Option<String>, String, String) {
        (self.rule_id.clone(), self.subject.as_ref().map(|subject| subject.key()), self.from.clone(), self.to.clone())
    }
}

/// A route from an entry point to a goal.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttackPath {
    /// Where it starts.
    pub entry: Entry,
    /// The entry point in words.
    pub entry_label: String,
    /// Where it ends.
    pub goal: Goal,
    /// Every step verified by judged evidence; a path with a possible step never counts
    /// for the grade.
    pub verified: bool,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The index in `steps` of the cheapest fix: the step that the most reported paths
    /// share, so that removing it breaks the most.
    pub fix: usize,
    /// How many reported paths that fix breaks.
    pub fix_breaks: usize,
}

/// A graph position: an entry point, an identity or capability held, or a goal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Position {
    Entry(Entry),
    Anonymous,
    ServiceAccount(String),
    /// Any service-account token of a namespace (`None`: of every namespace).
    Tokens(Option<String>),
    /// Commands in any pod, through the kubelet API.
    ExecAnyPod,
    Goal(Goal),
}

impl Position {
    fn label(&self) -> String {
        match self {
            Self::Entry(entry) => entry.label(),
            Self::Anonymous => "anonymous requests (system:anonymous)".into(),
            Self::ServiceAccount(account) => format!("service account {account}"),
            Self::Tokens(Some(namespace)) => format!("any service-account token in {namespace}"),
            Self::Tokens(None) => "any service-account token".into(),
            Self::ExecAnyPod => "commands in any pod (the kubelet API)".into(),
            Self::Goal(goal) => goal.label().into(),
        }
    }
}

/// The steps the evidence allows, between positions.
#[derive(Default)]
pub(crate) struct Steps {
    graph: DiGraph<Position, ()>,
    nodes: BTreeMap<Position, NodeIndex>,
    /// Every step between two positions (several findings may allow the same move).
    between: BTreeMap<(NodeIndex, NodeIndex), Vec<Step>>,
}

impl Steps {
    fn node(&mut self, position: Position) -> NodeIndex {
        if let Some(index) = self.nodes.get(&position) {
            return *index;
        }
        let index = self.graph.add_node(position.clone());
        self.nodes.insert(position, index);
        index
    }

    /// Adds a step from `from` to `to`; `step`'s `from` and `to` are filled in.
    pub(crate) fn add(&mut self, from: Position, to: Position, mut step: Step) {
        if from == to {
            return;
        }
        step.from = from.label();
        step.to = to.label();
        let (from, to) = (self.node(from), self.node(to));
        let steps = self.between.entry((from, to)).or_default();
        if steps.is_empty() {
            self.graph.add_edge(from, to, ());
        }
        if !steps.contains(&step) {
            steps.push(step);
        }
    }

    /// Whether a step leaves `position`.
    pub(crate) fn leaves(&self, position: &Position) -> bool {
        self.nodes.get(position).is_some_and(|index| self.graph.neighbors(*index).next().is_some())
    }

    /// The best step between two positions: verified first, then the first added.
    fn best(&self, from: NodeIndex, to: NodeIndex) -> &Step {
        let steps = &self.between[&(from, to)];
        steps.iter().find(|step| step.verified).unwrap_or(&steps[0])
    }
}

/// Every attack path the facts and results allow, bounded (see [`MAX_STEPS`] and
/// [`PATHS_PER_GOAL`]), each with its cheapest fix.
pub fn find(facts: &Facts, results: &[ResultEntry]) -> Vec<AttackPath> {
    let steps = graph::build(facts, results);
    let entries: Vec<(Entry, NodeIndex)> = steps
        .nodes
        .iter()
        .filter_map(|(position, index)| match position {
            Position::Entry(entry) => Some((entry.clone(), *index)),
            _ => None,
        })
        .collect();
    let mut paths = Vec::new();
    for goal in Goal::ALL {
        let Some(&target) = steps.nodes.get(&Position::Goal(goal)) else { continue };
        // Steps to the goal from every position, in one pass over the reversed graph:
        // only entry points that reach it are searched, the nearest first, so that a
        // cluster with 100,000 pods searches a few of them, not all.
        let distance = petgraph::algo::dijkstra(petgraph::visit::Reversed(&steps.graph), target, None, |_| 1usize);
        let mut reaching: Vec<(usize, &Entry, NodeIndex)> = entries
            .iter()
            .filter_map(|(entry, start)| Some((*distance.get(start)?, entry, *start)))
            .filter(|(steps, ..)| *steps <= MAX_STEPS)
            .collect();
        reaching.sort();
        let mut searched: std::collections::HashMap<std::mem::Discriminant<Entry>, usize> =
            std::collections::HashMap::new();
        reaching.retain(|(_, entry, _)| {
            let count = searched.entry(std::mem::discriminant(*entry)).or_default();
            *count += 1;
            *count <= PATHS_PER_GOAL
        });
        let mut found: Vec<AttackPath> = Vec::new();
        for (_, entry, start) in reaching {
            let routes = petgraph::algo::all_simple_paths::<Vec<NodeIndex>, _, std::hash::RandomState>(
                &steps.graph,
                start,
                target,
                0,
                Some(MAX_STEPS - 1),
            )
            .take(CANDIDATES);
            for route in routes {
                let chosen: Vec<Step> = route.windows(2).map(|pair| steps.best(pair[0], pair[1]).clone()).collect();
                let verified = chosen.iter().all(|step| step.verified);
                found.push(AttackPath {
                    entry: entry.clone(),
                    entry_label: entry.label(),
                    goal,
                    verified,
                    steps: chosen,
                    fix: 0,
                    fix_breaks: 0,
                });
            }
        }
        // Shorter before longer, verified before possible, then by entry point; at most
        // PATHS_PER_GOAL from the network, from any authenticated user, and from pods.
        found.sort_by(|a, b| (a.steps.len(), !a.verified, &a.entry).cmp(&(b.steps.len(), !b.verified, &b.entry)));
        // One path per entry point and way in (its first step): the shortest. Longer
        // routes through the same first step add nothing to fix.
        let mut ways_in = std::collections::HashSet::new();
        found.retain(|path| {
            let first = path.steps.first().map(|step| (step.rule_id.clone(), step.to.clone(), step.evidence.clone()));
            ways_in.insert((path.entry.clone(), first))
        });
        let mut kept: std::collections::HashMap<std::mem::Discriminant<Entry>, usize> =
            std::collections::HashMap::new();
        found.retain(|path| {
            let count = kept.entry(std::mem::discriminant(&path.entry)).or_default();
            *count += 1;
            *count <= PATHS_PER_GOAL
        });
        paths.extend(found);
    }
    name_fixes(&mut paths);
    paths
}

/// Names each path's cheapest fix: of its steps, the one the most reported paths share
/// (the first such step on a tie).
fn name_fixes(paths: &mut [AttackPath]) {
    let mut shared: BTreeMap<_, usize> = BTreeMap::new();
    for step in paths.iter().flat_map(|path| &path.steps) {
        *shared.entry(step.identity()).or_default() += 1;
    }
    for path in paths.iter_mut() {
        let counts: Vec<usize> = path.steps.iter().map(|step| shared[&step.identity()]).collect();
        let most = counts.iter().copied().max().unwrap_or(0);
        path.fix = counts.iter().position(|count| *count == most).unwrap_or(0);
        path.fix_breaks = most;
    }
}

/// The verified paths from the network to a goal that caps the grade, in words, for
/// the score's reason.
pub fn grade_cap(paths: &[AttackPath]) -> Option<String> {
    let capping: Vec<&AttackPath> = paths
        .iter()
        .filter(|path| path.verified && path.entry == Entry::Network && path.goal.caps_the_grade())
        .collect();
    let first = capping.first()?;
    let goals: std::collections::BTreeSet<&str> = capping.iter().map(|path| path.goal.label()).collect();
    let first: Vec<&str> = first.steps.iter().map(|step| step.rule_id.as_deref().unwrap_or("fact")).collect();
    Some(format!(
        "grade capped at F: {} verified attack path(s) from the network to {} (the first through {})",
        capping.len(),
        goals.into_iter().collect::<Vec<_>>().join(", "),
        first.join(" → ")
    ))
}
