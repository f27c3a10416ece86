//! Judging: every selected rule over its subjects, on every core.
//!
//! Each item's CEL value is built once, straight from its fact struct, and every rule
//! that iterates its collection judges it before the value is dropped; only the
//! collections some rule reads as a whole (`pdbs.exists(…)`) are built up front, once,
//! and shared. Subjects are judged in chunks on rayon's threads; the chunks' counts and
//! findings are merged in subject order, so the results do not depend on the number
//! of threads.

use std::collections::{BTreeMap, BTreeSet};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use cel::Context;
use cel::common::types::CelList;
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use rayon::iter::{IntoParallelIterator, ParallelIterator};

use super::budget::{self, Meter};
use super::value::{self, Extent, Item};
use super::{Catalog, Finding, Rule, RuleCosts, RuleResult, Spent, Status, Tally, Verdict, fingerprint, verdict};
use crate::config::RuleInputs;
use crate::facts::{self, Collection, CollectionVisitor, Facts, Subject};
use crate::inventory::{Availability, Location};
use crate::progress::Progress;

/// How judging is spread over threads.
#[derive(Clone, Copy, Debug)]
pub struct Parallelism {
    /// Worker threads (1: judge on the calling thread).
    pub workers: usize,
    /// Subjects per unit of work.
    pub chunk: usize,
}

impl Parallelism {
    /// One worker per core.
    pub fn available() -> Self {
        Self { workers: rayon::current_num_threads(), chunk: 256 }
    }
}

/// Runs `work` on `workers` threads: rayon's global pool when that is its size, else a
/// pool of its own (tests ask for other sizes).
fn within<R: Send>(workers: usize, work: impl FnOnce() -> R + Send) -> R {
    if workers == rayon::current_num_threads() {
        return work();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(workers).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// Judges facts with every rule of the catalog, on every core; results in catalog order.
pub fn evaluate(catalog: &Catalog, facts: &Facts, inputs: &RuleInputs) -> Vec<RuleResult> {
    evaluate_with(catalog, facts, inputs, Parallelism::available(), &Progress::on_stderr(false))
}

/// [`evaluate`] with the threads given, telling `progress` how many subjects were
/// judged: the results are the same for any `parallelism`.
pub fn evaluate_with(
    catalog: &Catalog,
    facts: &Facts,
    inputs: &RuleInputs,
    parallelism: Parallelism,
    progress: &Progress,
) -> Vec<RuleResult> {
    let mut views = Views::default();
    facts.visit_collections(&mut views);
    let views = views.0;
    let sizes = sizes(facts, &views);
    let globals = Globals::new(catalog, facts, inputs, &views);
    let judge = Judge {
        progress,
        judged: AtomicUsize::new(0),
        subjects: catalog
            .rules
            .iter()
            .filter_map(|rule| rule.each.as_deref())
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .filter_map(|name| views.get(name).map(|view| view.items.len()))
            .sum(),
        identity: facts.cluster.uid.clone().unwrap_or_else(|| facts.cluster.name.clone()),
        cluster_subject: Arc::new(Subject {
            kind: "Cluster".into(),
            name: facts.cluster.name.clone(),
            ..Subject::default()
        }),
        globals: &globals,
    };
    let mut results: Vec<Option<RuleResult>> = catalog.rules.iter().map(|_| None).collect();
    // Rules that iterate a collection, grouped by it; cluster rules are judged at once.
    let mut by_collection: BTreeMap<&str, Vec<Plan>> = BTreeMap::new();
    for (index, rule) in catalog.rules.iter().enumerate() {
        let scope = rule.each.clone().unwrap_or_else(|| "cluster".into());
        let costs = RuleCosts::of(rule, &sizes);
        let blocked =
            missing_dependency(rule, &views).or_else(|| costs.refusal().map(|refusal| (Status::NotEvaluated, refusal)));
        if let Some(blocked) = blocked {
            let tally = Tally { scope, blocked: Some(blocked), ..Tally::default() };
            results[index] = Some(RuleResult::new(rule.id.clone(), tally, Vec::new()));
            continue;
        }
        let plan = Plan { index, rule, costs, meter: Meter::default() };
        if let Some(each) = &rule.each {
            by_collection.entry(each.as_str()).or_default().push(plan);
        } else {
            let mut partial = Partial::default();
            judge.subject(&plan, &mut partial, None, None, &mut Some(judge.cluster_subject.clone()));
            results[index] = Some(plan.finish(scope, partial, 1));
        }
    }
    for (name, plans) in &by_collection {
        // `each` names a collection of the layout (checked at load), which every facts visit.
        let items = views.get(name).expect("a rule's `each` names a collection of the facts").items;
        let partials = judge.collection(plans, items, parallelism);
        for (plan, partial) in plans.iter().zip(partials) {
            results[plan.index] = Some(plan.finish((*name).to_owned(), partial, items.len()));
        }
    }
    results.into_iter().map(|result| result.expect("every rule is judged once")).collect()
}

/// A collection as rules see it.
struct View<'a> {
    availability: &'a Availability,
    items: &'a dyn Items,
}

/// Every collection of the facts, by name.
#[derive(Default)]
struct Views<'a>(BTreeMap<&'static str, View<'a>>);

impl<'a> CollectionVisitor<'a> for Views<'a> {
    fn visit<T: facts::Item>(&mut self, name: &'static str, collection: &'a Collection<T>) {
        self.0.insert(name, View { availability: &collection.availability, items: &collection.items });
    }
}

/// A collection's items, whatever their fact type.
trait Items: Sync {
    fn len(&self) -> usize;
    /// The CEL value of one item, with only `fields` when given.
    fn value(&self, index: usize, fields: Option<&BTreeSet<String>>) -> Item;
    fn subject(&self, index: usize) -> &Subject;
    fn location(&self, index: usize) -> Option<&Location>;
    fn measure(&self, extent: &mut Extent);
}

impl<T: facts::Item> Items for Vec<T> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn value(&self, index: usize, fields: Option<&BTreeSet<String>>) -> Item {
        match fields {
            Some(fields) => value::to_val_only(&self[index], fields),
            None => value::to_val(&self[index]),
        }
    }
    fn subject(&self, index: usize) -> &Subject {
        self[index].subject()
    }
    fn location(&self, index: usize) -> Option<&Location> {
        self[index].location()
    }
    fn measure(&self, extent: &mut Extent) {
        for item in self {
            value::measure(item, extent);
        }
    }
}

/// How large the facts are, for the budget's estimates.
fn sizes(facts: &Facts, views: &BTreeMap<&'static str, View<'_>>) -> budget::Sizes {
    let mut extent = Extent::default();
    value::measure(&facts.cluster, &mut extent);
    for view in views.values() {
        view.items.measure(&mut extent);
    }
    budget::Sizes {
        collections: views.iter().map(|(name, view)| ((*name).to_owned(), view.items.len() as u64)).collect(),
        longest_list: extent.longest_list,
        longest_string: extent.longest_string,
    }
}

/// The variables every subject sees: `cluster` and `config`, and the collections some
/// selected rule reads as a whole, each built when a rule first reads it. DNS-002 reads
/// `pdbs` only for the cluster DNS, so most scans never build the list (10,000
/// budgets are 7 MB of CEL values).
struct Globals<'a> {
    built: BTreeMap<&'static str, Item>,
    collections: BTreeMap<&'a str, (&'a dyn Items, OnceLock<Item>)>,
}

impl<'a> Globals<'a> {
    fn new(catalog: &'a Catalog, facts: &Facts, inputs: &RuleInputs, views: &BTreeMap<&'static str, View<'a>>) -> Self {
        let built = BTreeMap::from([("cluster", value::to_val(&facts.cluster)), ("config", value::to_val(inputs))]);
        let collections = catalog
            .rules
            .iter()
            .flat_map(|rule| &rule.reads)
            .filter_map(|name| Some((name.as_str(), (views.get(name.as_str())?.items, OnceLock::new()))))
            .collect();
        Self { built, collections }
    }

    fn get(&self, name: &str) -> Option<&dyn Val> {
        if let Some(value) = self.built.get(name) {
            return Some(value.as_ref());
        }
        let (items, list) = self.collections.get(name)?;
        let list = list.get_or_init(|| {
            let values: Vec<Item> = (0..items.len()).map(|index| items.value(index, None)).collect();
            Box::new(CelList::from(values))
        });
        Some(list.as_ref())
    }
}

/// Why a rule cannot be judged, from the availability of the collections it reads:
/// a not-applicable collection wins over a not-collected one.
fn missing_dependency(rule: &Rule, views: &BTreeMap<&'static str, View<'_>>) -> Option<(Status, String)> {
    let mut missing = None;
    for dependency in &rule.dependencies {
        match views.get(dependency.as_str()).map(|view| view.availability) {
            Some(Availability::NotApplicable { reason }) => {
                return Some((Status::NotApplicable, format!("{dependency}: {reason}")));
            }
            Some(Availability::NotCollected { reason }) => {
                missing.get_or_insert_with(|| (Status::NotEvaluated, format!("{dependency} not collected: {reason}")));
            }
            _ => {}
        }
    }
    missing
}

/// A rule about to be judged.
struct Plan<'a> {
    /// Its place in the catalog.
    index: usize,
    rule: &'a Rule,
    costs: RuleCosts,
    /// Shared by the threads judging its subjects.
    meter: Meter,
}

impl Plan<'_> {
    /// The result, from the merged counts of all its subjects.
    fn finish(&self, scope: String, partial: Partial, total: usize) -> RuleResult {
        let mut tally = partial.tally;
        tally.scope = scope;
        tally.steps = self.meter.spent();
        if self.meter.exhausted() {
            // Worded without the point it stopped at, which depends on the threads.
            tally.blocked = Some((
                Status::NotEvaluated,
                format!(
                    "rule exceeded its evaluation budget of {} steps before its {total} subject(s) were all judged",
                    budget::RULE_BUDGET
                ),
            ));
            return RuleResult::new(self.rule.id.clone(), tally, Vec::new());
        }
        let mut findings = partial.findings;
        // In place: a stable sort allocates a scratch copy of the findings (8 MB at
        // 50,000). The order is the same for any number of threads all the same: the
        // findings arrive in collection order whichever threads judged them.
        findings.sort_unstable_by(|a, b| a.subject.cmp(&b.subject));
        let mut inconclusive = partial.inconclusive;
        inconclusive.sort_unstable_by(|a, b| a.subject.cmp(&b.subject));
        inconclusive.truncate(super::INCONCLUSIVE_KEPT);
        RuleResult { inconclusive, ..RuleResult::new(self.rule.id.clone(), tally, findings) }
    }
}

/// What one rule made of a run of subjects.
#[derive(Default)]
struct Partial {
    tally: Tally,
    findings: Vec<Finding>,
    /// At most [`super::INCONCLUSIVE_KEPT`] per run of subjects.
    inconclusive: Vec<Finding>,
}

impl Partial {
    /// Appends the counts of the subjects that came after these.
    fn extend(&mut self, later: Self) {
        let (tally, other) = (&mut self.tally, later.tally);
        tally.passing += other.passing;
        tally.failing += other.failing;
        tally.inconclusive += other.inconclusive;
        tally.errors += other.errors;
        if tally.first_error.is_none() {
            tally.first_error = other.first_error;
        }
        self.findings.extend(later.findings);
        self.inconclusive.extend(later.inconclusive);
    }
}

/// What judging needs besides the rules and the subjects.
struct Judge<'a> {
    progress: &'a Progress,
    /// Subjects judged so far, of `subjects` in all collections.
    judged: AtomicUsize,
    subjects: usize,
    identity: String,
    cluster_subject: Arc<Subject>,
    globals: &'a Globals<'a>,
}

/// Resolves `it` to the subject being judged and every other name to a global.
struct Variables<'a> {
    globals: &'a Globals<'a>,
    it: Option<&'a dyn Val>,
}

impl VariableResolver for Variables<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == "it" {
            return self.it.map(CowVal::Borrowed);
        }
        self.globals.get(variable).map(CowVal::Borrowed)
    }
}

impl Judge<'_> {
    /// Judges a collection's subjects with its rules, in chunks on worker threads;
    /// one partial per plan, merged in subject order.
    fn collection(&self, plans: &[Plan<'_>], items: &dyn Items, parallelism: Parallelism) -> Vec<Partial> {
        let chunk = parallelism.chunk.max(1);
        let chunks = items.len().div_ceil(chunk);
        // Each subject's value holds only the fields these rules read (all of it when
        // one reads the subject whole).
        let fields = plans.iter().try_fold(BTreeSet::new(), |mut fields, plan| {
            fields.extend(plan.rule.subject_fields.as_ref()?.iter().cloned());
            Some(fields)
        });
        let run = |index: usize| {
            let mut partials: Vec<Partial> = plans.iter().map(|_| Partial::default()).collect();
            for subject in index * chunk..((index + 1) * chunk).min(items.len()) {
                let value = items.value(subject, fields.as_ref());
                // One copy of the subject for all of its findings, made at the first.
                let mut shared = None;
                for (plan, partial) in plans.iter().zip(&mut partials) {
                    self.subject(plan, partial, Some(value.as_ref()), Some((items, subject)), &mut shared);
                }
            }
            let done = chunk.min(items.len() - index * chunk);
            let judged = self.judged.fetch_add(done, Ordering::Relaxed) + done;
            self.progress.say(format!("judging: {judged} of {} subjects", self.subjects));
            partials
        };
        // Chunks come back in order, whichever thread judged them.
        let done: Vec<Vec<Partial>> = if parallelism.workers <= 1 || chunks <= 1 {
            (0..chunks).map(run).collect()
        } else {
            within(parallelism.workers, || (0..chunks).into_par_iter().map(run).collect())
        };
        // Reserved whole: grown by doubling, 50,000 findings would be copied and held twice.
        let mut merged: Vec<Partial> = (0..plans.len())
            .map(|plan| Partial {
                findings: Vec::with_capacity(done.iter().map(|partials| partials[plan].findings.len()).sum()),
                ..Partial::default()
            })
            .collect();
        for partials in done {
            for (total, partial) in merged.iter_mut().zip(partials) {
                total.extend(partial);
            }
        }
        merged
    }

    /// Judges one subject (`it`, or the cluster for rules without `each`) with one rule.
    fn subject(
        &self,
        plan: &Plan<'_>,
        partial: &mut Partial,
        it: Option<&dyn Val>,
        item: Option<(&dyn Items, usize)>,
        shared: &mut Option<Arc<Subject>>,
    ) {
        if plan.meter.exhausted() {
            return;
        }
        let variables = Variables { globals: self.globals, it };
        let mut scope = Context::with_env(super::environment());
        scope.set_variable_resolver(&variables);
        let outcome = verdict(plan.rule, &plan.costs, &plan.meter, &scope);
        if matches!(outcome, Ok(Some(Verdict::Fail))) && !plan.meter.charge(plan.costs.finding) {
            return;
        }
        let tally = &mut partial.tally;
        match outcome {
            Ok(None) | Err(Spent::Budget) => {}
            Ok(Some(Verdict::Inconclusive)) => {
                tally.inconclusive += 1;
                if partial.inconclusive.len() < super::INCONCLUSIVE_KEPT {
                    let mut finding = self.finding(plan.rule, &scope, item, shared);
                    finding.message = why_inconclusive(plan.rule, finding.evidence.as_ref());
                    partial.inconclusive.push(finding);
                }
            }
            Ok(Some(Verdict::Pass)) => tally.passing += 1,
            Ok(Some(Verdict::Fail)) => {
                tally.failing += 1;
                partial.findings.push(self.finding(plan.rule, &scope, item, shared));
            }
            Err(Spent::Error(error)) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(error);
            }
        }
    }

    /// The finding for a failing subject: message, evidence, location and fingerprint.
    fn finding(
        &self,
        rule: &Rule,
        scope: &Context<'_, '_>,
        item: Option<(&dyn Items, usize)>,
        shared: &mut Option<Arc<Subject>>,
    ) -> Finding {
        let subject = shared
            .get_or_insert_with(|| {
                Arc::new(item.map_or_else(
                    || self.cluster_subject.as_ref().clone(),
                    |(items, index)| items.subject(index).clone(),
                ))
            })
            .clone();
        let evidence: crate::compact_map::CompactMap<serde_json::Value> = rule
            .evidence
            .iter()
            .map(|(name, condition)| {
                let value = condition
                    .program
                    .execute(scope)
                    .map_or_else(|error| error.to_string().into(), |value| value::to_json(&value));
                (name.clone(), value)
            })
            .collect();
        Finding {
            fingerprint: fingerprint(&self.identity, &rule.id, &subject),
            message: rule.message.render(scope),
            evidence: (!evidence.is_empty()).then_some(evidence),
            location: item.and_then(|(items, index)| items.location(index).cloned()),
            subject,
            baseline: None,
        }
    }
}

/// Why a subject is inconclusive: its evidence (`request GET /api, detail connection
/// timed out`), or, for a rule without evidence, the `unknown` condition that held.
fn why_inconclusive(rule: &Rule, evidence: Option<&crate::compact_map::CompactMap<serde_json::Value>>) -> String {
    let shown: Vec<String> = evidence
        .into_iter()
        .flat_map(crate::compact_map::CompactMap::iter)
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => format!("{name} {text}"),
            other => format!("{name} {other}"),
        })
        .collect();
    if shown.is_empty() {
        let held = rule.unknown.as_ref().map_or("", |condition| condition.source.as_str());
        format!("inconclusive: `{held}` held")
    } else {
        format!("inconclusive: {}", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::facts::SourceKind;
    use crate::source::manifests::read_str;

    /// Deployments of which every third runs privileged, every fifth has an image the
    /// rule cannot parse a tag of, and one namespace each.
    fn many_workloads(count: usize) -> Facts {
        let mut manifests = String::new();
        for index in 0..count {
            let privileged = index % 3 == 0;
            let image = if index % 5 == 0 { format!("web{index}") } else { format!("web:{index}") };
            let _ = write!(
                manifests,
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web{index}, namespace: team-{}}}\nspec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: '{image}', securityContext: {{privileged: {privileged}}}}}]\n",
                index % 7
            );
        }
        manifests.push_str("---\n");
        manifests.push_str(include_str!("../../testdata/clusters/weak/workloads.yaml"));
        let inventory = read_str("many.yaml", &manifests).expect("valid manifests");
        facts::build(inventory, SourceKind::Manifests)
    }

    fn rule(id: &str, body: &str) -> (String, String) {
        (
            format!("{id}.yaml"),
            format!(
                "id: {id}\ntitle: t\nseverity: high\ncategory: security\n{body}\nmessage: \"{{{{it.subject.name}}}} fails\"\nrationale: r\nremediation: r\n"
            ),
        )
    }

    /// Everything a report shows of the results, as JSON text.
    fn shown(results: &[RuleResult]) -> String {
        let shown: Vec<serde_json::Value> = results
            .iter()
            .map(|result| {
                serde_json::json!({
                    "rule": result.rule_id,
                    "status": result.status,
                    "reason": result.reason,
                    "subjects": result.subjects,
                    "counts": [result.tally.passing, result.tally.failing, result.tally.inconclusive, result.tally.errors],
                    "firstError": result.tally.first_error,
                    "findings": result.findings,
                })
            })
            .collect();
        serde_json::to_string_pretty(&shown).expect("plain data")
    }

    #[test]
    fn parallel_and_sequential_judging_give_identical_results() {
        let facts = many_workloads(1_500);
        let mut catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
        let extra = Catalog::from_sources(&[
            // Fails on some subjects, errs on others: the first error must be the first
            // in subject order whatever thread met it.
            rule("T-001", "each: containers\nrequire: \"int(it.image.tag) % 2 == 0\""),
            rule("T-002", "each: workloads\nunknown: it.subject.name.endsWith('7')\nrequire: \"true\""),
            // Over budget part way: stopped, in the same words, whatever the threads.
            rule("T-003", "each: workloads\nrequire: \"workloads.all(a, workloads.exists(b, true))\""),
        ])
        .expect("rules load");
        catalog.rules.extend(extra.rules);
        let inputs = RuleInputs::default();
        let sequential = evaluate_with(
            &catalog,
            &facts,
            &inputs,
            Parallelism { workers: 1, chunk: usize::MAX },
            &Progress::on_stderr(false),
        );
        for parallelism in [Parallelism { workers: 2, chunk: 256 }, Parallelism { workers: 4, chunk: 7 }] {
            let parallel = evaluate_with(&catalog, &facts, &inputs, parallelism, &Progress::on_stderr(false));
            assert_eq!(shown(&parallel), shown(&sequential), "{parallelism:?}");
        }
        // The comparison is not vacuous: findings, errors, unknowns and a budget stop.
        let by_id = |id: &str| sequential.iter().find(|result| result.rule_id == id).expect("judged");
        assert!(by_id("POD-001").findings.len() >= 500, "{:?}", by_id("POD-001").tally);
        let errors = by_id("T-001");
        assert_eq!(errors.status, Status::Fail);
        assert!(errors.tally.errors >= 300 && errors.tally.failing >= 300, "{:?}", errors.tally);
        assert!(errors.tally.first_error.is_some());
        assert!(by_id("T-002").tally.inconclusive >= 150);
        assert!(by_id("T-003").reason.as_deref().is_some_and(|reason| reason.contains("evaluation budget")));
    }

    #[test]
    fn every_collection_of_the_layout_is_visited() {
        let facts = many_workloads(1);
        let document = serde_json::to_value(&facts).expect("facts serialize");
        let in_layout: BTreeSet<&str> = document
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, entry)| entry.get("items").is_some())
            .map(|(name, _)| name.as_str())
            .collect();
        let mut views = Views::default();
        facts.visit_collections(&mut views);
        assert_eq!(views.0.keys().copied().collect::<BTreeSet<_>>(), in_layout);
    }
}
