//! Builds the facts document from an [`Inventory`].

use std::collections::{BTreeMap, BTreeSet};

use super::lifecycle;
use super::rbac::{self, RoleIndex};
use super::{
    Addon, ApiserverEndpointFact, BindingFact, ClusterFacts, Collection, Component, ComponentFact, ComponentOrigin,
    ConfigMapFact, ContainerFact, ControlPlaneFact, EscalationFact, FACTS_SCHEMA_VERSION, Facts, HostPathFact,
    ImageFact, IngressFact, KubeletConfigFact, KubeletConfigOrigin, ManifestOrigin, NamespaceFact, NodeFact, PdbFact,
    PodSecurityFact, Provider, RbacSubjectFact, RemovedApiFact, ServiceAccountFact, ServiceFact, SourceKind, Subject,
    WorkloadFact, flags, image,
};
use crate::inventory::{
    Availability, Binding, FoldedPod, Gathered, Inventory, Labels, Meta, Namespace, NetworkPolicy, Node, Pdb, Role,
    RunningImage, Service, ServiceAccount, Workload, kubeadm::KubeadmConfig,
};

/// Namespaces Kubernetes itself creates and uses.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// The control-plane components of a cluster, read from its inventory before facts are
/// built: the probe planner takes etcd, controller-manager and scheduler addresses
/// from them. The same proof of membership as [`Facts::components`].
pub fn control_plane_components(inventory: &Inventory) -> Vec<ComponentFact> {
    components(&inventory.workloads.items, &Membership::new(&inventory.nodes))
}

/// Builds the facts of a live cluster with what its endpoints answered to the probes.
pub fn build_probed(inventory: Inventory, probing: &super::wire::Probing, now: jiff::Timestamp) -> Facts {
    let mut facts = build(inventory, SourceKind::Live);
    super::wire::attach(&mut facts, probing, now);
    facts
}

/// Builds the facts document, consuming the inventory: each projection is freed (or
/// moved into its fact) as its facts are made, so that the two never both hold the
/// whole cluster.
#[expect(clippy::too_many_lines, reason = "one line per collection: the facts document's layout in one place")]
pub fn build(inventory: Inventory, source: SourceKind) -> Facts {
    let Inventory {
        cluster: info,
        nodes,
        namespaces,
        workloads,
        folded_pods,
        service_accounts,
        roles,
        bindings,
        network_policies,
        services,
        pdbs,
        apiserver_endpoints,
        kubelet_configs,
        kubeadm_config,
        config_maps,
        ingresses,
        namespace_limits,
        removed_apis,
        skipped: _,
        unparsed: _,
        duplicates: _,
    } = inventory;
    let workloads_available = workloads.availability.clone();
    let membership = Membership::new(&nodes);
    let judged = judge_workloads(workloads.items, &folded_pods, &pdbs.items, &services.items, &membership);
    drop(folded_pods);
    let rbac_available = Availability::combine([&workloads_available, &roles.availability, &bindings.availability]);
    let provider = info.provider.as_deref().map_or(Provider::Unknown, Provider::named);
    // A managed control plane is run by the vendor: judging its nodes and pods makes
    // no sense, and their absence is no failure.
    let managed = provider
        .is_managed()
        .then(|| Availability::NotApplicable { reason: format!("managed control plane: {provider}") });
    let pods_visible = !judged.components.is_empty();
    let declared =
        if managed.is_some() { Vec::new() } else { declared_components(&kubeadm_config.items, &judged.components) };
    let components_available = if let Some(managed) = &managed {
        managed.clone()
    } else if !pods_visible && !declared.is_empty() {
        // The static pods are out of sight; kubeadm's configuration says what they run.
        Availability::Collected
    } else if !workloads_available.is_collected() {
        workloads_available.clone()
    } else if judged.components.is_empty() {
        Availability::not_collected(match source {
            SourceKind::Manifests => "not part of this source: no control-plane component pods in the manifests",
            SourceKind::Live => "no control-plane component pods visible in the cluster",
        })
    } else {
        Availability::Collected
    };
    let not_probed = Availability::not_collected(match source {
        SourceKind::Manifests => "not probed: manifests name no live endpoints (probes run against live clusters)",
        SourceKind::Live => "not probed",
    });
    let mut components = judged.components;
    components.extend(declared);
    let version = apiserver_version(&components);
    let cluster = cluster_facts(info, &namespaces.items, version, provider, source, pods_visible);
    let node_facts: Vec<NodeFact> = nodes.items.iter().map(node_fact).collect();
    let control_plane = control_plane(&cluster.name, &node_facts);
    let rbac_lists = Availability::combine([&roles.availability, &bindings.availability]);
    let facts = Facts {
        schema_version: FACTS_SCHEMA_VERSION,
        control_plane: Collection::new(managed.unwrap_or_else(|| nodes.availability.clone()), vec![control_plane]),
        nodes: Collection::new(nodes.availability, node_facts),
        components: Collection::new(components_available, components),
        service_accounts: Collection::new(
            rbac_available,
            service_account_facts(&service_accounts.items, &roles.items, &bindings.items, &judged.workloads),
        ),
        bindings: Collection::new(rbac_lists.clone(), binding_facts(&roles.items, &bindings.items)),
        rbac_subjects: Collection::new(
            rbac_lists,
            rbac_subject_facts(&roles.items, &bindings.items, &judged.workloads),
        ),
        namespaces: Collection::new(
            Availability::combine([
                &namespaces.availability,
                &network_policies.availability,
                &namespace_limits.availability,
                &workloads_available,
            ]),
            namespace_facts(&namespaces.items, &network_policies.items, &namespace_limits.items, &judged.workloads),
        ),
        services: Collection::new(services.availability, services.items.into_iter().map(service_fact).collect()),
        ingresses: Collection::new(ingresses.availability, ingresses.items.into_iter().map(ingress_fact).collect()),
        config_maps: Collection::new(
            config_maps.availability,
            config_maps
                .items
                .into_iter()
                .map(|map| ConfigMapFact {
                    location: map.meta.location.clone(),
                    subject: into_subject(map.meta),
                    secret_entries: map.secret_entries,
                })
                .collect(),
        ),
        removed_apis: Collection::new(
            removed_apis.availability,
            removed_apis.items.into_iter().map(removed_api_fact).collect(),
        ),
        pdbs: Collection::new(Availability::combine([&pdbs.availability, &workloads_available]), judged.pdbs),
        apiserver_endpoints: Collection::new(
            apiserver_endpoints.availability,
            apiserver_endpoint_facts(&apiserver_endpoints.items),
        ),
        kubelet_configs: Collection::new(
            kubelet_configs.availability,
            kubelet_configs.items.iter().map(kubelet_config).chain(judged.kubelets).collect(),
        ),
        workloads: Collection::new(workloads_available.clone(), judged.workloads),
        containers: Collection::new(workloads_available.clone(), judged.containers),
        images: Collection::new(workloads_available, judged.images),
        // Filled in by `wire::attach` once the endpoints are probed.
        apiservers: Collection::new(not_probed.clone(), Vec::new()),
        etcd: Collection::new(not_probed.clone(), Vec::new()),
        kubelets: Collection::new(not_probed.clone(), Vec::new()),
        component_endpoints: Collection::new(not_probed.clone(), Vec::new()),
        addon_endpoints: Collection::new(not_probed.clone(), Vec::new()),
        tls_endpoints: Collection::new(not_probed.clone(), Vec::new()),
        certificates: Collection::new(not_probed, Vec::new()),
        cluster,
    };
    annotated(facts)
}

/// A document written against a removed API version; whether the cluster's next minor
/// still serves it is decided once its version is known (`versions::annotate`).
fn removed_api_fact(removed: crate::inventory::RemovedApi) -> RemovedApiFact {
    RemovedApiFact {
        location: removed.meta.location.clone(),
        api_version: removed.meta.api_version.to_string(),
        subject: into_subject(removed.meta),
        removed_in: format!("1.{}", removed.removed_in),
        removed_in_minor: i64::from(removed.removed_in),
        replacement: removed.replacement.to_owned(),
        removed_by_next_minor: true,
        written_in: if removed.last_applied { ManifestOrigin::LastApplied } else { ManifestOrigin::Document },
    }
}

/// An Ingress and the hosts it serves without TLS.
fn ingress_fact(ingress: crate::inventory::Ingress) -> IngressFact {
    // A rule without host serves every host: only a TLS entry without hosts covers it.
    let covered = |host: &str| {
        ingress.tls_hosts.iter().any(|tls| {
            tls == host
                || tls
                    .strip_prefix("*.")
                    .is_some_and(|domain| host.split_once('.').is_some_and(|(_, rest)| rest == domain))
        })
    };
    let hosts_without_tls = if ingress.has_tls && ingress.tls_hosts.is_empty() {
        Vec::new()
    } else {
        ingress
            .hosts
            .iter()
            .filter(|host| !covered(host))
            .map(|host| if host.is_empty() { "*".to_owned() } else { host.clone() })
            .collect()
    };
    IngressFact {
        location: ingress.meta.location.clone(),
        subject: into_subject(ingress.meta),
        hosts: ingress.hosts,
        backends: ingress.backends,
        tls: ingress.has_tls,
        hosts_without_tls,
    }
}

/// The cluster's identity. Its place in the support calendar is filled in later
/// (`versions::annotate`).
fn cluster_facts(
    info: crate::inventory::ClusterInfo,
    namespaces: &[crate::inventory::Namespace],
    apiserver_image_version: Option<String>,
    provider: Provider,
    source: SourceKind,
    control_plane_visible: bool,
) -> ClusterFacts {
    ClusterFacts {
        // The kube-system namespace's UID identifies a cluster across renames.
        uid: info
            .uid
            .or_else(|| namespaces.iter().find(|namespace| namespace.meta.name == "kube-system")?.meta.uid.clone()),
        name: info.name,
        server: info.server,
        version: info.version.or(apiserver_image_version),
        end_of_life: String::new(),
        support_calendar: String::new(),
        provider,
        source,
        control_plane_visible,
        ca_certificate: info.ca_certificate,
    }
}

/// What can be said about workloads only once every collection is built: the Pod
/// Security level and sysctls of the cluster's version, and the grants of their accounts.
fn annotated(mut facts: Facts) -> Facts {
    super::pss::annotate(&mut facts);
    super::versions::annotate(&mut facts);
    mark_granted_service_accounts(&mut facts);
    facts
}

/// Marks the workloads whose service account holds some grant: a token they may use.
fn mark_granted_service_accounts(facts: &mut Facts) {
    let granted: BTreeSet<(Option<&str>, &str)> = facts
        .service_accounts
        .items
        .iter()
        .filter(|account| !account.grants.is_empty())
        .map(|account| (account.subject.namespace.as_deref(), account.subject.name.as_str()))
        .collect();
    let marks: Vec<bool> = facts
        .workloads
        .items
        .iter()
        .map(|workload| granted.contains(&(workload.subject.namespace.as_deref(), workload.service_account.as_str())))
        .collect();
    for (workload, mark) in facts.workloads.items.iter_mut().zip(marks) {
        workload.service_account_granted = mark;
    }
}

/// The version the API server's image tag names (`v1.31.1`), when it names one.
fn apiserver_version(components: &[ComponentFact]) -> Option<String> {
    components
        .iter()
        .find(|component| component.component == Component::KubeApiserver)
        .map(|component| image::parse(&component.image).tag)
        .filter(|tag| tag.starts_with('v'))
}

/// The facts made from workloads.
struct JudgedWorkloads {
    components: Vec<ComponentFact>,
    workloads: Vec<WorkloadFact>,
    containers: Vec<ContainerFact>,
    images: Vec<ImageFact>,
    pdbs: Vec<PdbFact>,
    /// Kubelets run in pods, judged by their flags.
    kubelets: Vec<KubeletConfigFact>,
}

/// What is decided about a root workload while every workload can still be seen.
struct RootPlan {
    position: usize,
    control_plane: bool,
    /// Names of the disruption budgets selecting its pods.
    budgets: Vec<String>,
    /// Names of the Services selecting its pods.
    services: Vec<String>,
    /// Some budget selecting its pods allows at least one voluntary disruption.
    budget_allows_disruption: bool,
    /// Running images of the workload and of every pod it owns, with the pod's name.
    running: Vec<(String, RunningImage)>,
}

/// Whether a budget lets at least one of `replicas` pods be evicted: `maxUnavailable`
/// above zero, or `minAvailable` below the replica count. A percentage is rounded as the
/// disruption controller rounds it (`minAvailable` up, `maxUnavailable` up); a value
/// that is not a number or a percentage allows nothing.
fn allows_disruption(pdb: &Pdb, replicas: i64) -> bool {
    let amount = |value: &str, round_up: bool| -> Option<i64> {
        if let Some(percent) = value.strip_suffix('%') {
            let percent: i64 = percent.trim().parse().ok()?;
            let scaled = replicas * percent;
            Some(if round_up { (scaled + 99) / 100 } else { scaled / 100 })
        } else {
            value.trim().parse().ok()
        }
    };
    match (pdb.max_unavailable.as_deref(), pdb.min_available.as_deref()) {
        (Some(max), _) => amount(max, true).is_some_and(|max| max > 0),
        (None, Some(min)) => amount(min, true).is_some_and(|min| min < replicas),
        // Neither set: the API server defaults minAvailable to 1.
        (None, None) => replicas > 1,
    }
}

/// The names of the Services that select each root's pods, in root order. Services are
/// indexed by one label their selector requires, so each root looks only at the
/// Services that could select it.
fn serving_services(services: &[crate::inventory::Service], roots: &[Root<'_>]) -> Vec<Vec<String>> {
    let mut by_label: BTreeMap<(Option<&str>, &str, &str), Vec<&crate::inventory::Service>> = BTreeMap::new();
    for service in services {
        if let Some((key, value)) = service.selector.iter().next() {
            by_label.entry((service.meta.namespace.as_deref(), key, value.as_str())).or_default().push(service);
        }
    }
    roots
        .iter()
        .map(|root| {
            let labels = &root.workload.pod.labels;
            let namespace = root.workload.meta.namespace.as_deref();
            let mut names: Vec<String> = labels
                .iter()
                .filter_map(|(key, value)| by_label.get(&(namespace, key, value.as_str())))
                .flatten()
                .filter(|service| service.selector.iter().all(|(key, value)| labels.get(key) == Some(value)))
                .map(|service| service.meta.name.clone())
                .collect();
            names.sort_unstable();
            names.dedup();
            names
        })
        .collect()
}

/// Folds workloads into their owners and matches budgets while all are borrowed, then
/// consumes them one by one into their facts: a folded workload is dropped, a root's
/// strings and labels move into its fact.
fn judge_workloads(
    workloads: Vec<Workload>,
    folded_pods: &[FoldedPod],
    pdbs: &[Pdb],
    services: &[crate::inventory::Service],
    membership: &Membership,
) -> JudgedWorkloads {
    let (components, pdb_facts, plans, kubelets) = {
        let roots = fold_owned_workloads(&workloads, folded_pods);
        // Once per root: a DaemonSet's pods run its kubelet, they are not more kubelets.
        let kubelets = super::kubelet_flags::command_line_kubelets(roots.iter().map(|root| root.workload));
        let budgets = Budgets::match_once(pdbs, &roots);
        let mut serving = serving_services(services, &roots).into_iter();
        let plans: Vec<RootPlan> = roots
            .iter()
            .zip(&budgets.of_root)
            .map(|(root, budgets)| RootPlan {
                position: root.position,
                control_plane: membership.proves(root.workload),
                budgets: budgets.iter().map(|pdb| pdb.meta.name.clone()).collect(),
                services: serving.next().unwrap_or_default(),
                budget_allows_disruption: budgets
                    .iter()
                    .any(|pdb| allows_disruption(pdb, root.workload.replicas.unwrap_or(1))),
                running: root.running.iter().map(|(pod, image)| (pod.clone(), (*image).clone())).collect(),
            })
            .collect();
        (components(&workloads, membership), pdb_facts(pdbs, &roots, &budgets), plans, kubelets)
    };
    let mut workload_facts = Vec::with_capacity(plans.len());
    // Sized at once: grown by doubling, 50,000 container facts (19 MB) would be copied
    // while the copy before is still held.
    let mut container_facts =
        Vec::with_capacity(plans.iter().map(|plan| workloads[plan.position].pod.containers.len()).sum());
    let mut plans = plans.into_iter().peekable();
    let mut running = Vec::new();
    for (position, workload) in workloads.into_iter().enumerate() {
        // Folded into another: dropped here.
        let Some(plan) = plans.next_if(|plan| plan.position == position) else { continue };
        container_facts.extend(containers(&workload, plan.control_plane));
        workload_facts.push(workload_fact(workload, &plan));
        running.extend(plan.running);
    }
    let images = images(&container_facts, &running);
    JudgedWorkloads {
        components,
        workloads: workload_facts,
        containers: container_facts,
        images,
        pdbs: pdb_facts,
        kubelets,
    }
}

/// A workload with the pods folded into it.
struct Root<'a> {
    /// Where the workload is in the inventory.
    position: usize,
    workload: &'a Workload,
    /// Running images of the workload and of every pod it owns, with the pod's name.
    running: Vec<(String, &'a RunningImage)>,
}

/// The owner kinds that may control a kind of workload, as Kubernetes' own controllers
/// create them. An owner reference of any other shape proves nothing.
/// The workload that owns `workload`, when the owner proves it: the owner is in the
/// input, of a kind that creates such objects, with the uid the reference names (where
/// both have one), and `workload` runs exactly the owner's template. A claim that fails any of
/// these is ignored, so a privileged pod cannot hide behind a harmless Deployment.
fn proven_owner(
    workload: &Workload,
    index: &BTreeMap<(Option<&str>, &str, &str), Vec<usize>>,
    workloads: &[Workload],
) -> Option<usize> {
    let meta = &workload.meta;
    let claim = meta.controller.as_ref()?;
    let candidates = index.get(&(meta.namespace.as_deref(), claim.kind.as_str(), claim.name.as_str()))?;
    candidates.iter().copied().find(|position| workload.owned_by(&workloads[*position]))
}

/// Keeps the owning controllers: a pod owned by a ReplicaSet owned by a Deployment is
/// judged as the Deployment, and its running images are credited to it. Only proven
/// ownership folds ([`proven_owner`]). The kinds that may own form no cycle (Pod <
/// ReplicaSet < Deployment, Pod < Job < CronJob), so a self-reference or two objects
/// naming each other prove nothing and every chain ends within three steps.
fn fold_owned_workloads<'a>(workloads: &'a [Workload], folded_pods: &'a [FoldedPod]) -> Vec<Root<'a>> {
    let mut index: BTreeMap<(Option<&str>, &str, &str), Vec<usize>> = BTreeMap::new();
    for (position, workload) in workloads.iter().enumerate() {
        let meta = &workload.meta;
        index.entry((meta.namespace.as_deref(), &*meta.kind, meta.name.as_str())).or_default().push(position);
    }
    let owners: Vec<Option<usize>> =
        workloads.iter().map(|workload| proven_owner(workload, &index, workloads)).collect();
    let root_of = |start: usize| -> usize {
        let mut current = start;
        while let Some(owner) = owners[current] {
            current = owner;
        }
        current
    };
    let roots: Vec<usize> = (0..workloads.len()).map(root_of).collect();
    let mut running: BTreeMap<usize, Vec<(String, &RunningImage)>> = BTreeMap::new();
    for (position, workload) in workloads.iter().enumerate() {
        let pod = format!("{}/{}", workload.meta.namespace.as_deref().unwrap_or_default(), workload.meta.name);
        running.entry(roots[position]).or_default().extend(workload.running.iter().map(|image| (pod.clone(), image)));
    }
    // Pods folded while they were collected proved their owner then; they credit its root.
    for folded in folded_pods {
        let owner = &folded.owner;
        let Some(position) =
            index.get(&(folded.namespace.as_deref(), owner.kind.as_str(), owner.name.as_str())).and_then(
                |candidates| candidates.iter().copied().find(|position| owner.uid_matches(&workloads[*position].meta)),
            )
        else {
            continue;
        };
        let pod = format!("{}/{}", folded.namespace.as_deref().unwrap_or_default(), folded.name);
        running.entry(roots[position]).or_default().extend(folded.running.iter().map(|image| (pod.clone(), image)));
    }
    workloads
        .iter()
        .enumerate()
        .filter(|(position, _)| roots[*position] == *position)
        .map(|(position, workload)| Root { position, workload, running: running.remove(&position).unwrap_or_default() })
        .collect()
}

pub(super) fn subject_of(meta: &Meta) -> Subject {
    Subject {
        api_version: Some(meta.api_version.clone()),
        kind: meta.kind.clone(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        container: None,
    }
}

/// [`subject_of`], moving the strings.
fn into_subject(meta: Meta) -> Subject {
    Subject {
        api_version: Some(meta.api_version),
        kind: meta.kind,
        namespace: meta.namespace,
        name: meta.name,
        container: None,
    }
}

fn cluster_subject(cluster: &str) -> Subject {
    Subject { kind: "Cluster".into(), name: cluster.into(), ..Subject::default() }
}

/// `Kind/namespace/name`, the way facts refer to other objects.
fn reference(meta: &Meta) -> String {
    subject_of(meta).key()
}

/// The component a container runs: its binary's name, else the pod's `component` label.
fn component_of(workload: &Workload) -> Option<(Component, &crate::inventory::Container)> {
    let by_binary = workload.pod.containers.iter().find_map(|container| {
        let binary = container.command.first()?.rsplit('/').next()?;
        Component::named(binary).map(|component| (component, container))
    });
    by_binary.or_else(|| {
        let label = workload.meta.labels.get("component").or_else(|| workload.pod.labels.get("component"))?;
        Some((Component::named(label)?, workload.pod.containers.first()?))
    })
}

/// The label kubeadm and RKE2 put on their control-plane static pods.
const CONTROL_PLANE_TIER: (&str, &str) = ("tier", "control-plane");

/// What proves that a pod is a control-plane member: the names of the control-plane
/// nodes, or `None` when the source shows no Node objects (manifests of static pods).
struct Membership {
    control_plane_nodes: Option<BTreeSet<String>>,
}

impl Membership {
    fn new(nodes: &Gathered<Node>) -> Self {
        let nodes_shown = nodes.availability.is_collected() && !nodes.items.is_empty();
        let control_plane_nodes = nodes_shown.then(|| {
            nodes
                .items
                .iter()
                .filter(|node| is_control_plane_node(&node.meta.labels))
                .map(|node| node.meta.name.clone())
                .collect()
        });
        Self { control_plane_nodes }
    }

    /// True when `workload` is proven to be a control-plane component: a pod in
    /// kube-system that is either a kubelet's mirror pod (the mirror annotation and a
    /// Node owner) or carries the kubeadm tier label and runs on a control-plane node
    /// (the label alone where the source has no nodes to check). A look-alike anywhere
    /// else — another namespace, a worker node — never counts: it would make HA rules
    /// pass and decide which addresses are probed.
    fn proves(&self, workload: &Workload) -> bool {
        let meta = &workload.meta;
        if meta.kind != "Pod" || meta.namespace.as_deref() != Some("kube-system") || component_of(workload).is_none() {
            return false;
        }
        let mirror = meta.mirror && meta.controller.as_ref().is_some_and(|owner| owner.kind == "Node");
        let (key, value) = CONTROL_PLANE_TIER;
        let tier = meta.labels.get(key).is_some_and(|tier| tier == value);
        let on_control_plane = match (&self.control_plane_nodes, &workload.pod.node_name) {
            (None, _) => true,
            (Some(nodes), Some(node)) => nodes.contains(node),
            (Some(_), None) => false,
        };
        mirror || (tier && on_control_plane)
    }
}

/// Node labels of control-plane nodes (current and pre-1.20).
pub fn is_control_plane_node(labels: &Labels) -> bool {
    labels.contains_key("node-role.kubernetes.io/control-plane")
        || labels.contains_key("node-role.kubernetes.io/master")
}

/// The control-plane components proven among `workloads` ([`Membership::proves`]).
fn components(workloads: &[Workload], membership: &Membership) -> Vec<ComponentFact> {
    let mut placed: BTreeSet<(Component, String)> = BTreeSet::new();
    workloads
        .iter()
        .filter(|workload| membership.proves(workload))
        .filter_map(|workload| {
            let (component, container) = component_of(workload)?;
            let node = workload.pod.node_name.clone().unwrap_or_default();
            let first_on_node = node.is_empty() || placed.insert((component, node.clone()));
            Some(ComponentFact {
                node,
                first_on_node,
                ..component_fact(
                    subject_of(&workload.meta),
                    workload.meta.location.clone(),
                    component,
                    ComponentOrigin::Pod,
                    container.image.clone(),
                    flags::parse(&container.command, &container.args),
                )
            })
        })
        .collect()
}

/// The components kubeadm's ClusterConfiguration declares, for those of which no pod
/// is visible. Each is subject `kubeadm-config`, with the component as its container
/// (so that each has its own findings), and counts as no instance.
fn declared_components(configs: &[KubeadmConfig], visible: &[ComponentFact]) -> Vec<ComponentFact> {
    let Some(config) = configs.first() else { return Vec::new() };
    config
        .commands
        .iter()
        .filter_map(|command| {
            let component = Component::named(command.binary)?;
            if visible.iter().any(|pod| pod.component == component) {
                return None;
            }
            let subject = Subject { container: Some(command.binary.to_owned()), ..subject_of(&config.meta) };
            let parsed = flags::parse(&[], &command.args);
            Some(component_fact(
                subject,
                config.meta.location.clone(),
                component,
                ComponentOrigin::KubeadmConfig,
                command.image.clone(),
                parsed,
            ))
        })
        .collect()
}

/// A component's fact from its parsed command line, on no node yet.
fn component_fact(
    subject: Subject,
    location: Option<crate::inventory::Location>,
    component: Component,
    origin: ComponentOrigin,
    image: String,
    parsed: flags::Flags,
) -> ComponentFact {
    ComponentFact {
        subject,
        location,
        component,
        origin,
        node: String::new(),
        first_on_node: false,
        image,
        flags: parsed.last,
        weak_cipher_suites: ["tls-cipher-suites", "cipher-suites"]
            .iter()
            .filter_map(|flag| parsed.lists.get(*flag))
            .flatten()
            .filter(|name| crate::probe::hello::is_weak_named(name))
            .cloned()
            .collect(),
        flag_lists: parsed.lists,
    }
}

fn addon_of(workload: &Workload) -> Addon {
    let name = workload.meta.name.as_str();
    let images: Vec<String> =
        workload.pod.containers.iter().map(|container| image::parse(&container.image).repository).collect();
    if name.contains("kubernetes-dashboard")
        || images.iter().any(|repository| {
            repository.ends_with("kubernetes-dashboard")
                || repository.ends_with("kubernetesui/dashboard")
                || repository.contains("kubernetes-dashboard-")
        })
    {
        Addon::Dashboard
    } else if name == "tiller-deploy" || images.iter().any(|repository| repository.ends_with("/tiller")) {
        Addon::Tiller
    } else {
        Addon::None
    }
}

fn selector_matches(pdb: &Pdb, labels: &Labels) -> bool {
    use kube::core::SelectorExt as _;
    // kube matches a BTreeMap; only candidates that carry the required label get here.
    pdb.selector.as_ref().is_some_and(|selector| selector.matches(&labels.to_btree()))
}

/// A root workload's fact; its strings and labels move into it.
fn workload_fact(workload: Workload, plan: &RootPlan) -> WorkloadFact {
    let addon = addon_of(&workload);
    let addon_listen = if addon == Addon::Tiller { tiller_listen(&workload) } else { String::new() };
    let addon_unsafe_flags = if addon == Addon::Dashboard { dashboard_unsafe_flags(&workload) } else { Vec::new() };
    let Workload { meta, replicas, pod, running: _ } = workload;
    let mount_is_read_only = |volume: &str| {
        pod.containers
            .iter()
            .flat_map(|container| &container.mounts)
            .filter(|(name, _, _)| name == volume)
            .all(|(_, read_only, _)| *read_only)
    };
    let system = meta.namespace.as_deref() == Some("kube-system");
    let dns_label =
        [&meta.labels, &*pod.labels].iter().any(|labels| labels.get("k8s-app").is_some_and(|app| app == "kube-dns"));
    let host_paths = pod
        .host_path_volumes
        .iter()
        .map(|volume| HostPathFact {
            name: volume.name.clone(),
            path: volume.path.clone(),
            read_only: mount_is_read_only(&volume.name),
        })
        .collect();
    let cluster_dns =
        system && meta.kind != "Pod" && (dns_label || matches!(meta.name.as_str(), "coredns" | "kube-dns"));
    let disruption_budgets = if meta.kind == "Pod" { Vec::new() } else { plan.budgets.clone() };
    WorkloadFact {
        location: meta.location.clone(),
        subject: into_subject(meta),
        replicas,
        service_account: pod.service_account,
        labels: pod.labels,
        host_network: pod.host_network,
        host_pid: pod.host_pid,
        host_ipc: pod.host_ipc,
        host_paths,
        control_plane: plan.control_plane,
        system,
        cluster_dns,
        addon,
        addon_listen,
        addon_unsafe_flags,
        automount_service_account_token: pod.automount_token.unwrap_or(true),
        // Filled in once grants are known (`mark_granted_service_accounts`).
        service_account_granted: false,
        runtime_sockets: pod
            .host_path_volumes
            .iter()
            .filter(|volume| is_runtime_socket(&volume.path))
            .map(|volume| volume.path.clone())
            .collect(),
        restricted_volume_types: pod.restricted_volume_types,
        sysctls: pod.sysctls,
        // Filled in once the cluster's version and namespaces are known (`pss::annotate`).
        unsafe_sysctls: Vec::new(),
        pod_security_enforce: super::PodSecurityLevel::Privileged,
        spread: pod.spread,
        services: plan.services.clone(),
        budget_allows_disruption: plan.budget_allows_disruption,
        disruption_budgets,
    }
}

/// Where container runtimes listen: Docker, containerd, CRI-O and cri-dockerd.
const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    "/run/cri-dockerd.sock",
    "/var/run/cri-dockerd.sock",
];

/// A host path that is a runtime's socket, or a directory holding one (`/run`,
/// `/var/run/containerd`): the root directory is POD-005's, not this.
fn is_runtime_socket(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    !path.is_empty()
        && RUNTIME_SOCKETS
            .iter()
            .any(|socket| *socket == path || socket.strip_prefix(path).is_some_and(|rest| rest.starts_with('/')))
}

/// The Dashboard's flags that open it to anyone who reaches it: login skipped, login
/// over plain HTTP, settings writable by anyone.
fn dashboard_unsafe_flags(workload: &Workload) -> Vec<String> {
    const UNSAFE: [&str; 3] = ["enable-skip-login", "enable-insecure-login", "disable-settings-authorizer"];
    let mut found: Vec<String> = workload
        .pod
        .containers
        .iter()
        .flat_map(|container| {
            let parsed = flags::parse(&container.command, &container.args);
            UNSAFE
                .iter()
                // A bare `--enable-skip-login` is true, as Go's flag package reads it.
                .filter(move |flag| parsed.last.get(**flag).is_some_and(|value| value != "false"))
                .map(|flag| format!("--{flag}=true"))
                .collect::<Vec<_>>()
        })
        .collect();
    found.dedup();
    found
}

/// Where Tiller listens: its `--listen` flag, else its default of every address.
fn tiller_listen(workload: &Workload) -> String {
    workload
        .pod
        .containers
        .iter()
        .find_map(|container| flags::parse(&container.command, &container.args).last.get("listen").cloned())
        .unwrap_or_else(|| ":44134".to_owned())
}

/// The facts of a root workload's containers.
fn containers(workload: &Workload, control_plane: bool) -> Vec<ContainerFact> {
    let system = workload.meta.namespace.as_deref() == Some("kube-system");
    let subject = subject_of(&workload.meta);
    workload
        .pod
        .containers
        .iter()
        .map(|container| {
            let privileged = container.privileged.unwrap_or(false);
            let sys_admin = container
                .capabilities_add
                .iter()
                .any(|capability| capability == "SYS_ADMIN" || capability == "CAP_SYS_ADMIN");
            ContainerFact {
                subject: Subject { container: Some(container.name.clone()), ..subject.clone() },
                location: workload.meta.location.clone(),
                name: container.name.clone(),
                container_type: container.kind,
                image: image::parse(&container.image),
                privileged,
                // Defaults per the Pod Security Standards: escalation is allowed unless
                // explicitly forbidden, and privileged or SYS_ADMIN always allows it.
                allow_privilege_escalation: container.allow_privilege_escalation.unwrap_or(true)
                    || privileged
                    || sys_admin,
                capabilities_add: container.capabilities_add.clone(),
                read_only_root_filesystem: container.read_only_root_filesystem.unwrap_or(false),
                run_as_non_root: container.run_as_non_root.unwrap_or(false),
                drops_all_capabilities: container.security.drops_all_capabilities,
                run_as_user: container.security.run_as_user,
                seccomp_profile: container.security.seccomp,
                app_armor_profile: container.security.app_armor,
                se_linux_type: container.security.se_linux_type.clone().unwrap_or_default(),
                se_linux_user_or_role: container.security.se_linux_user_or_role,
                proc_mount: container.security.proc_mount,
                host_process: container.security.host_process,
                host_ports: container.host_ports.clone(),
                cpu_request: container.resources.cpu_request,
                memory_request: container.resources.memory_request,
                cpu_limit: container.resources.cpu_limit,
                memory_limit: container.resources.memory_limit,
                liveness_probe: container.probes.liveness,
                readiness_probe: container.probes.readiness,
                startup_probe: container.probes.startup,
                image_pull_policy: container.image_pull_policy,
                secret_env: container.secret_env.clone(),
                // Filled in once namespaces are known (`pss::annotate`).
                pod_security_enforce: super::PodSecurityLevel::Privileged,
                // Kept as they are until the cluster's version decides (`pss::annotate`).
                forbidden_handler_hosts: container.handler_hosts.clone(),
                control_plane,
                system,
            }
        })
        .collect()
}

fn images(containers: &[ContainerFact], running: &[(String, RunningImage)]) -> Vec<ImageFact> {
    #[derive(Default)]
    struct Usage {
        location: Option<crate::inventory::Location>,
        workloads: BTreeSet<String>,
        digests: BTreeSet<String>,
        pods: BTreeSet<String>,
    }
    let mut usage: BTreeMap<String, Usage> = BTreeMap::new();
    for container in containers {
        let workload = Subject { container: None, ..container.subject.clone() }.key();
        let entry = usage.entry(image::normalized(&container.image.reference)).or_default();
        entry.workloads.insert(workload);
        if entry.location.is_none() {
            entry.location.clone_from(&container.location);
        }
    }
    for (pod, running) in running {
        let Some((_, digest)) = running.image_id.rsplit_once('@') else { continue };
        let entry = usage.entry(image::normalized(&running.image)).or_default();
        entry.digests.insert(digest.to_owned());
        entry.pods.insert(format!("{pod} → {digest}"));
    }
    usage
        .into_iter()
        .map(|(reference, usage)| ImageFact {
            subject: Subject { kind: "Image".into(), name: reference.clone(), ..Subject::default() },
            location: usage.location,
            reference,
            workloads: usage.workloads.into_iter().collect(),
            running_digests: usage.digests.into_iter().collect(),
            running_pods: usage.pods.into_iter().collect(),
        })
        .collect()
}

fn node_fact(node: &crate::inventory::Node) -> NodeFact {
    let labels = &node.meta.labels;
    let control_plane = is_control_plane_node(labels);
    let (os, runtime) =
        (lifecycle::os_image(&node.os_image), lifecycle::container_runtime(&node.container_runtime_version));
    NodeFact {
        subject: subject_of(&node.meta),
        location: node.meta.location.clone(),
        name: node.meta.name.clone(),
        control_plane,
        zone: labels
            .get("topology.kubernetes.io/zone")
            .or_else(|| labels.get("failure-domain.beta.kubernetes.io/zone"))
            .cloned()
            .unwrap_or_default(),
        taints: node.taints.iter().map(|(key, effect)| format!("{key}:{effect}")).collect(),
        no_schedule: node.taints.iter().any(|(_, effect)| effect == "NoSchedule" || effect == "NoExecute"),
        internal_ips: node.internal_ips.clone(),
        kubelet_version: node.kubelet_version.clone(),
        // Filled in once the API server's version is known (`versions::annotate`).
        kubelet_skew_known: false,
        kubelet_minors_behind: 0,
        kubelet_skew_allowed: 0,
        os_image: node.os_image.clone(),
        os_release: os.as_ref().map(|known| known.release.clone()).unwrap_or_default(),
        os_end_of_life: os.map(|known| known.end_of_life.to_owned()).unwrap_or_default(),
        container_runtime: node.container_runtime_version.clone(),
        runtime_release: runtime.as_ref().map(|known| known.release.clone()).unwrap_or_default(),
        runtime_end_of_life: runtime.map(|known| known.end_of_life.to_owned()).unwrap_or_default(),
    }
}

fn control_plane(cluster: &str, nodes: &[NodeFact]) -> ControlPlaneFact {
    let members: Vec<&NodeFact> = nodes.iter().filter(|node| node.control_plane).collect();
    let zones: BTreeSet<&str> = members.iter().map(|node| node.zone.as_str()).filter(|zone| !zone.is_empty()).collect();
    ControlPlaneFact {
        subject: cluster_subject(cluster),
        nodes: i64::try_from(members.len()).unwrap_or(i64::MAX),
        node_names: members.iter().map(|node| node.name.clone()).collect(),
        zones: zones.into_iter().map(str::to_owned).collect(),
        zone_labelled: !members.is_empty() && members.iter().all(|node| !node.zone.is_empty()),
    }
}

fn service_account_facts(
    service_accounts: &[ServiceAccount],
    roles: &[Role],
    bindings: &[Binding],
    workloads: &[WorkloadFact],
) -> Vec<ServiceAccountFact> {
    // Every account that exists, is used by a workload, or is named by a binding.
    // Borrowed (namespace, name) keys: 60,000 accounts' names are copied once, into
    // their facts.
    let mut accounts: BTreeMap<(&str, &str), Option<&Meta>> = BTreeMap::new();
    for account in service_accounts {
        let namespace = account.meta.namespace.as_deref().unwrap_or_default();
        accounts.insert((namespace, account.meta.name.as_str()), Some(&account.meta));
    }
    for workload in workloads {
        let namespace = workload.subject.namespace.as_deref().unwrap_or("default");
        accounts.entry((namespace, workload.service_account.as_str())).or_insert(None);
    }
    for binding in bindings {
        for subject in binding.subjects.iter().filter(|subject| subject.kind == "ServiceAccount") {
            let namespace = subject.namespace.as_deref().unwrap_or_default();
            accounts.entry((namespace, subject.name.as_str())).or_insert(None);
        }
    }
    let index = RoleIndex::new(roles);
    let bindings = rbac::BindingIndex::new(bindings);
    // Each workload's account, indexed once rather than searched per account.
    let mut users_of: BTreeMap<(&str, &str), Vec<&WorkloadFact>> = BTreeMap::new();
    for workload in workloads {
        let namespace = workload.subject.namespace.as_deref().unwrap_or("default");
        users_of.entry((namespace, workload.service_account.as_str())).or_default().push(workload);
    }
    accounts
        .into_iter()
        .map(|((namespace, name), meta)| {
            let users = users_of.get(&(namespace, name)).cloned().unwrap_or_default();
            let mut cluster_admin = false;
            let mut wildcard = false;
            let mut grants = Vec::new();
            for binding in bindings.reaching(namespace, name) {
                let power = index.power(binding);
                cluster_admin |= power.full && binding.meta.kind == "ClusterRoleBinding";
                wildcard |= power.wildcard;
                let text = format!(
                    "{}/{} → {}/{}",
                    binding.meta.kind, binding.meta.name, binding.role_ref.0, binding.role_ref.1
                );
                grants.push((u8::from(!power.full) + u8::from(!power.wildcard), text));
            }
            // The grant that matters first: full power, then wildcards, then the rest.
            grants.sort_by_key(|(rank, _)| *rank);
            let grants: Vec<String> = grants.into_iter().map(|(_, grant)| grant).collect();
            let addon = users
                .iter()
                .map(|fact| fact.addon)
                .find(|addon| *addon != Addon::None)
                .or(match name {
                    "kubernetes-dashboard" => Some(Addon::Dashboard),
                    "tiller" => Some(Addon::Tiller),
                    _ => None,
                })
                .unwrap_or_default();
            ServiceAccountFact {
                subject: Subject {
                    api_version: Some("v1".into()),
                    kind: "ServiceAccount".into(),
                    namespace: Some(namespace.to_owned()),
                    name: name.to_owned(),
                    container: None,
                },
                location: meta.and_then(|meta| meta.location.clone()),
                exists: meta.is_some(),
                workloads: users.iter().map(|fact| fact.subject.key()).collect(),
                cluster_admin,
                wildcard,
                grants,
                addon,
            }
        })
        .collect()
}

/// Every subject of a binding that is not a bootstrap one, with its grants: the most
/// powerful first, so that the one that matters leads the evidence.
fn rbac_subject_facts(roles: &[Role], bindings: &[Binding], workloads: &[WorkloadFact]) -> Vec<RbacSubjectFact> {
    // (kind, namespace for service accounts, name).
    type SubjectKey<'a> = (&'a str, Option<&'a str>, &'a str);
    let index = RoleIndex::new(roles);
    let used: BTreeSet<(&str, &str)> = workloads
        .iter()
        .map(|workload| (workload.subject.namespace.as_deref().unwrap_or("default"), workload.service_account.as_str()))
        .collect();
    let mut subjects: BTreeMap<SubjectKey<'_>, RbacSubjectFact> = BTreeMap::new();
    let mut ranked: BTreeMap<SubjectKey<'_>, Vec<(u8, String)>> = BTreeMap::new();
    for binding in bindings.iter().filter(|binding| !rbac::is_bootstrap(binding)) {
        let power = index.power(binding);
        let cluster_wide = binding.meta.kind == "ClusterRoleBinding";
        let grant =
            format!("{}/{} → {}/{}", binding.meta.kind, binding.meta.name, binding.role_ref.0, binding.role_ref.1);
        let scope = if cluster_wide {
            Some("cluster-wide")
        } else if binding.meta.namespace.as_deref() == Some("kube-system") {
            Some("kube-system")
        } else {
            None
        };
        let escalations = scope.map(|_| index.escalations(binding)).unwrap_or_default();
        // Full power first, then wildcards, then escalations, then the rest.
        let rank = if power.full {
            0
        } else if power.wildcard {
            1
        } else if escalations.is_empty() {
            3
        } else {
            2
        };
        for subject in &binding.subjects {
            let namespace =
                (subject.kind == "ServiceAccount").then(|| subject.namespace.as_deref().unwrap_or_default());
            let key = (subject.kind.as_str(), namespace, subject.name.as_str());
            let fact = subjects.entry(key).or_insert_with(|| RbacSubjectFact {
                subject: Subject {
                    api_version: None,
                    kind: subject.kind.clone().into(),
                    namespace: namespace.map(str::to_owned),
                    name: subject.name.clone(),
                    container: None,
                },
                location: binding.meta.location.clone(),
                system: rbac::is_system_identity(subject),
                used_by_workloads: namespace
                    .is_some_and(|namespace| used.contains(&(namespace, subject.name.as_str()))),
                cluster_admin: false,
                wildcard: false,
                grants: Vec::new(),
                escalations: Vec::new(),
            });
            fact.cluster_admin |= power.full && cluster_wide;
            fact.wildcard |= power.wildcard;
            fact.escalations.extend(escalations.iter().map(|kind| EscalationFact {
                kind: *kind,
                scope: scope.unwrap_or_default().to_owned(),
                grant: grant.clone(),
            }));
            ranked.entry(key).or_default().push((rank, grant.clone()));
        }
    }
    subjects
        .into_iter()
        .map(|(key, mut fact)| {
            let mut grants = ranked.remove(&key).unwrap_or_default();
            grants.sort_by_key(|(rank, _)| *rank);
            fact.grants = grants.into_iter().map(|(_, grant)| grant).collect();
            fact.escalations.sort_by_key(|escalation| escalation.kind);
            fact
        })
        .collect()
}

fn binding_facts(roles: &[Role], bindings: &[Binding]) -> Vec<BindingFact> {
    let index = RoleIndex::new(roles);
    bindings
        .iter()
        .map(|binding| {
            let power = index.power(binding);
            let names = |kind: &str, name: &str| {
                binding.subjects.iter().any(|subject| subject.kind == kind && subject.name == name)
            };
            BindingFact {
                subject: subject_of(&binding.meta),
                location: binding.meta.location.clone(),
                role_kind: binding.role_ref.0.clone(),
                role_name: binding.role_ref.1.clone(),
                subjects: binding.subjects.clone(),
                anonymous: names("User", "system:anonymous") || names("Group", "system:unauthenticated"),
                authenticated: names("Group", "system:authenticated"),
                default: rbac::is_default(binding),
                grants_cluster_admin: power.full,
                grants_wildcard: power.wildcard,
            }
        })
        .collect()
}

fn namespace_facts(
    namespaces: &[Namespace],
    policies: &[NetworkPolicy],
    limits: &[crate::inventory::NamespaceLimit],
    workloads: &[WorkloadFact],
) -> Vec<NamespaceFact> {
    let limited = |kind: &str| -> BTreeSet<&str> {
        limits
            .iter()
            .filter(|limit| limit.meta.kind == kind)
            .map(|limit| limit.meta.namespace.as_deref().unwrap_or_default())
            .collect()
    };
    let (quotas, ranges) = (limited("ResourceQuota"), limited("LimitRange"));
    // Policies and workload counts by namespace, gathered in one pass each.
    let mut policies_in: BTreeMap<&str, Vec<&NetworkPolicy>> = BTreeMap::new();
    for policy in policies {
        policies_in.entry(policy.meta.namespace.as_deref().unwrap_or_default()).or_default().push(policy);
    }
    let mut workloads_in: BTreeMap<&str, usize> = BTreeMap::new();
    for workload in workloads {
        *workloads_in.entry(workload.subject.namespace.as_deref().unwrap_or_default()).or_default() += 1;
    }
    namespaces
        .iter()
        .map(|namespace| {
            let name = namespace.meta.name.clone();
            let policies = policies_in.get(name.as_str()).map_or(&[][..], Vec::as_slice);
            let denies = |direction: &str, rules: fn(&NetworkPolicy) -> usize| {
                policies.iter().any(|policy| {
                    policy.selects_all_pods
                        && policy.policy_types.iter().any(|kind| kind == direction)
                        && rules(policy) == 0
                })
            };
            let count = workloads_in.get(name.as_str()).copied().unwrap_or(0);
            let workload_count = i64::try_from(count).unwrap_or(i64::MAX);
            let system = SYSTEM_NAMESPACES.contains(&name.as_str());
            let label = |key: &str| {
                namespace.meta.labels.get(&format!("pod-security.kubernetes.io/{key}")).cloned().unwrap_or_default()
            };
            NamespaceFact {
                subject: subject_of(&namespace.meta),
                location: namespace.meta.location.clone(),
                system,
                application: !system && (name != "default" || workload_count > 0),
                workloads: workload_count,
                pod_security: PodSecurityFact { enforce: label("enforce"), audit: label("audit"), warn: label("warn") },
                resource_quota: quotas.contains(name.as_str()),
                limit_range: ranges.contains(name.as_str()),
                network_policies: i64::try_from(policies.len()).unwrap_or(i64::MAX),
                default_deny_ingress: denies("Ingress", |policy| policy.ingress_rules),
                default_deny_egress: denies("Egress", |policy| policy.egress_rules),
                name,
            }
        })
        .collect()
}

/// A Service's fact; its strings move into it.
fn service_fact(service: Service) -> ServiceFact {
    ServiceFact {
        location: service.meta.location.clone(),
        subject: into_subject(service.meta),
        service_type: service.service_type,
        cluster_ip: service.cluster_ip,
        ports: service.ports,
        selector: service.selector,
    }
}

fn pdb_facts(pdbs: &[Pdb], roots: &[Root<'_>], budgets: &Budgets<'_>) -> Vec<PdbFact> {
    pdbs.iter()
        .zip(&budgets.of_pdb)
        .map(|(pdb, selected)| PdbFact {
            subject: subject_of(&pdb.meta),
            location: pdb.meta.location.clone(),
            min_available: pdb.min_available.clone(),
            max_unavailable: pdb.max_unavailable.clone(),
            workloads: selected.iter().map(|index| reference(&roots[*index].workload.meta)).collect(),
        })
        .collect()
}

/// Which workloads each disruption budget selects, matched once for both directions.
struct Budgets<'a> {
    /// Per root, in order: the budgets selecting its pods.
    of_root: Vec<Vec<&'a Pdb>>,
    /// Per budget, in order: the roots it selects, by index.
    of_pdb: Vec<Vec<usize>>,
}

impl<'a> Budgets<'a> {
    /// A budget only selects pods of its own namespace, and a selector that requires a
    /// label value only the workloads carrying it: both are looked up, so matching stays
    /// linear in the cluster rather than workloads × budgets.
    fn match_once(pdbs: &'a [Pdb], roots: &[Root<'_>]) -> Self {
        // Only namespaces with budgets, and only label keys budgets require, are indexed.
        let required: Vec<Option<(String, String)>> = pdbs.iter().map(required_label).collect();
        let namespaces: BTreeSet<Option<&str>> = pdbs.iter().map(|pdb| pdb.meta.namespace.as_deref()).collect();
        let keys: BTreeSet<&str> = required.iter().flatten().map(|(key, _)| key.as_str()).collect();
        let mut by_label: BTreeMap<(Option<&str>, &str, &str), Vec<usize>> = BTreeMap::new();
        let mut by_namespace: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
        for (index, root) in roots.iter().enumerate() {
            let namespace = root.workload.meta.namespace.as_deref();
            if !namespaces.contains(&namespace) {
                continue;
            }
            by_namespace.entry(namespace).or_default().push(index);
            for (key, value) in root.workload.pod.labels.iter() {
                if keys.contains(key) {
                    by_label.entry((namespace, key, value)).or_default().push(index);
                }
            }
        }
        let mut of_root = vec![Vec::new(); roots.len()];
        let mut of_pdb = Vec::with_capacity(pdbs.len());
        for (pdb, required) in pdbs.iter().zip(&required) {
            let namespace = pdb.meta.namespace.as_deref();
            let candidates = match required {
                Some((key, value)) => by_label.get(&(namespace, key.as_str(), value.as_str())),
                None => by_namespace.get(&namespace),
            };
            let selected: Vec<usize> = candidates
                .into_iter()
                .flatten()
                .copied()
                .filter(|index| selector_matches(pdb, &roots[*index].workload.pod.labels))
                .collect();
            for index in &selected {
                of_root[*index].push(pdb);
            }
            of_pdb.push(selected);
        }
        Self { of_root, of_pdb }
    }
}

/// A `key=value` the selector requires, if any: only workloads with it can match.
fn required_label(pdb: &Pdb) -> Option<(String, String)> {
    pdb.selector.clone()?.into_iter().find_map(|expression| match expression {
        kube::core::Expression::Equal(key, value) => Some((key, value)),
        _ => None,
    })
}

fn apiserver_endpoint_facts(slices: &[crate::inventory::EndpointSlice]) -> Vec<ApiserverEndpointFact> {
    let mut seen = BTreeSet::new();
    slices
        .iter()
        .flat_map(|slice| slice.addresses.iter().map(move |address| (slice, address)))
        // One instance listed by two slices (IPv4 and IPv6 views) counts once per address.
        .filter(|(_, address)| seen.insert((*address).clone()))
        .map(|(slice, address)| ApiserverEndpointFact {
            subject: subject_of(&slice.meta),
            location: slice.meta.location.clone(),
            address: address.clone(),
            ports: slice.ports.clone(),
        })
        .collect()
}

/// Effective kubelet settings: unset ones take the KubeletConfiguration v1beta1
/// defaults (<https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/>).
fn kubelet_config(config: &crate::inventory::KubeletConfig) -> KubeletConfigFact {
    KubeletConfigFact {
        subject: subject_of(&config.meta),
        location: config.meta.location.clone(),
        node: config.node.clone().unwrap_or_default(),
        origin: KubeletConfigOrigin::Configuration,
        anonymous_auth: config.anonymous_auth.unwrap_or(false),
        webhook_authentication: config.webhook_authentication.unwrap_or(true),
        authorization_mode: config.authorization_mode.clone().unwrap_or_else(|| "Webhook".into()),
        read_only_port: config.read_only_port.unwrap_or(0),
        rotate_certificates: config.rotate_certificates.unwrap_or(false),
        server_tls_bootstrap: config.server_tls_bootstrap.unwrap_or(false),
        tls_cert_file: config.tls_cert_file.clone().unwrap_or_default(),
        tls_min_version: config.tls_min_version.clone().unwrap_or_default(),
        tls_cipher_suites: config.tls_cipher_suites.clone().unwrap_or_default(),
        protect_kernel_defaults: config.protect_kernel_defaults.unwrap_or(false),
        unknown_settings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ContainerKind;
    use crate::source::manifests::read_str;

    fn facts_of(manifests: &str) -> Facts {
        let inventory = read_str("test.yaml", manifests).expect("valid manifests");
        build(inventory, SourceKind::Manifests)
    }

    const OWNED: &str = r"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: web, image: 'web:1'}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d4f
  namespace: app
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: 'web:1'}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d4f-a
  namespace: app
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d4f, uid: u2, controller: true}]
spec: {containers: [{name: web, image: 'web:1'}]}
status:
  containerStatuses:
  - {name: web, image: 'web:1', imageID: 'docker.io/library/web@sha256:aaa', ready: true, restartCount: 0}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d4f-b
  namespace: app
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d4f, uid: u2, controller: true}]
spec: {containers: [{name: web, image: 'web:1'}]}
status:
  containerStatuses:
  - {name: web, image: 'web:1', imageID: 'docker.io/library/web@sha256:bbb', ready: true, restartCount: 0}
";

    #[test]
    fn a_kubelet_daemon_set_is_one_kubelet_configuration_not_one_per_pod() {
        let manifests = r"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kubelet, namespace: node-agents}
spec:
  selector: {matchLabels: {app: kubelet}}
  template:
    metadata: {labels: {app: kubelet}}
    spec: {containers: [{name: kubelet, image: 'kubelet:1', command: [kubelet, --anonymous-auth=true]}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: kubelet-x1
  namespace: node-agents
  labels: {app: kubelet}
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: kubelet, uid: u1, controller: true}]
spec: {nodeName: node1, containers: [{name: kubelet, image: 'kubelet:1', command: [kubelet, --anonymous-auth=true]}]}
";
        let facts = facts_of(manifests);
        let kubelets: Vec<String> = facts.kubelet_configs.items.iter().map(|config| config.subject.key()).collect();
        assert_eq!(kubelets, vec!["DaemonSet/node-agents/kubelet/kubelet"], "the pod folds into its DaemonSet");
        assert!(facts.kubelet_configs.items[0].anonymous_auth);
    }

    #[test]
    fn pods_fold_onto_their_owning_controller_with_their_running_digests() {
        let facts = facts_of(OWNED);
        let names: Vec<String> = facts.workloads.items.iter().map(|workload| workload.subject.key()).collect();
        assert_eq!(names, vec!["Deployment/app/web"]);
        assert_eq!(facts.containers.items.len(), 1);
        let image = &facts.images.items[0];
        assert_eq!(image.reference, "docker.io/library/web:1");
        assert_eq!(image.running_digests, vec!["sha256:aaa", "sha256:bbb"]);
        assert_eq!(image.workloads, vec!["Deployment/app/web"]);
    }

    #[test]
    fn init_and_ephemeral_containers_are_containers_too() {
        let pod = r"
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: app}
spec:
  initContainers: [{name: setup, image: 'busybox:1.36'}]
  containers: [{name: main, image: 'web:1'}]
  ephemeralContainers: [{name: debugger, image: 'busybox', securityContext: {privileged: true}}]
";
        let facts = facts_of(pod);
        let kinds: Vec<(&str, ContainerKind)> = facts
            .containers
            .items
            .iter()
            .map(|container| (container.name.as_str(), container.container_type))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("main", ContainerKind::Container),
                ("setup", ContainerKind::InitContainer),
                ("debugger", ContainerKind::EphemeralContainer)
            ]
        );
        let debugger = &facts.containers.items[2];
        assert!(debugger.privileged && debugger.image.latest);
        assert_eq!(debugger.subject.key(), "Pod/app/debug/debugger");
    }

    #[test]
    fn disruption_budgets_match_labels_and_expressions() {
        let budgets = r"
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: by-labels, namespace: app}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: by-expression, namespace: app}
spec: {maxUnavailable: 1, selector: {matchExpressions: [{key: tier, operator: In, values: [front]}]}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: not-matching, namespace: app}
spec: {maxUnavailable: 1, selector: {matchExpressions: [{key: tier, operator: NotIn, values: [front]}]}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: other-namespace, namespace: other}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: empty-selects-all, namespace: app}
spec: {maxUnavailable: 1, selector: {}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: null-selects-none, namespace: app}
spec: {maxUnavailable: 1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: unknown-operator, namespace: app}
spec: {maxUnavailable: 1, selector: {matchExpressions: [{key: tier, operator: Like, values: [front]}]}}
";
        let facts = facts_of(&format!("{OWNED}{budgets}"));
        // policy/v1: an empty selector selects every pod of the namespace, a null one none.
        assert_eq!(
            facts.workloads.items[0].disruption_budgets,
            vec!["by-labels", "by-expression", "empty-selects-all"]
        );
    }

    #[test]
    fn default_deny_needs_an_empty_selector_the_direction_and_no_rules() {
        let manifests = r"
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-defaulted-types, namespace: a}
spec: {podSelector: {}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-some-egress, namespace: b}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress: [{to: [{podSelector: {}}]}]
";
        let facts = facts_of(manifests);
        let [a, b] = [&facts.namespaces.items[0], &facts.namespaces.items[1]];
        assert!(a.default_deny_ingress, "policyTypes defaults to Ingress");
        assert!(!a.default_deny_egress, "Egress is only implied by egress rules");
        assert!(b.default_deny_ingress);
        assert!(!b.default_deny_egress, "an egress rule allows traffic");
    }

    #[test]
    fn components_are_found_by_binary_or_by_label() {
        let manifests = r"
apiVersion: v1
kind: Pod
metadata: {name: etcd-cp1, namespace: kube-system, labels: {tier: control-plane}}
spec: {containers: [{name: etcd, image: 'registry.k8s.io/etcd:3.5.15-0', command: [/usr/local/bin/etcd, --client-cert-auth]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: scheduler, namespace: kube-system, labels: {component: kube-scheduler, tier: control-plane}}
spec: {containers: [{name: s, image: 'registry.k8s.io/kube-scheduler:v1.31.1', args: [--leader-elect=false]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: unrelated, namespace: kube-system}
spec: {containers: [{name: x, image: 'busybox:1.36', command: [sh, -c, 'etcd --fake']}]}
";
        let facts = facts_of(manifests);
        let found: Vec<(&str, &str)> =
            facts.components.items.iter().map(|c| (c.component.as_str(), c.subject.name.as_str())).collect();
        assert_eq!(found, vec![("etcd", "etcd-cp1"), ("kube-scheduler", "scheduler")]);
        assert_eq!(facts.components.items[0].flags["client-cert-auth"], "true");
        assert_eq!(facts.components.items[1].flags["leader-elect"], "false");
        assert!(facts.workloads.items.iter().filter(|workload| workload.control_plane).count() == 2);
    }

    #[test]
    fn service_accounts_are_cluster_admin_only_through_cluster_role_bindings() {
        let manifests = r"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ns-admin, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: web}]
";
        let facts = facts_of(&format!("{OWNED}---\n{manifests}"));
        let account =
            facts.service_accounts.items.iter().find(|account| account.subject.name == "web").expect("bound account");
        assert!(!account.cluster_admin, "a RoleBinding to cluster-admin is admin of one namespace");
        assert!(account.wildcard);
        assert_eq!(account.grants, vec!["RoleBinding/ns-admin → ClusterRole/cluster-admin"]);
        assert_eq!(
            account.subject.namespace.as_deref(),
            Some("app"),
            "a RoleBinding subject defaults to its namespace"
        );
    }

    #[test]
    fn the_grant_that_matters_comes_first_in_the_evidence() {
        let harmless = |index: usize| {
            format!(
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: a{index}-read, namespace: kube-system}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\nsubjects: [{{kind: ServiceAccount, name: tiller, namespace: kube-system}}, {{kind: User, name: alice}}]\n"
            )
        };
        let mut manifests: String = (0..4).map(harmless).collect();
        manifests.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: z-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: tiller, namespace: kube-system}, {kind: User, name: alice}]\n");
        let facts = facts_of(&manifests);
        let tiller =
            facts.service_accounts.items.iter().find(|account| account.subject.name == "tiller").expect("tiller");
        assert_eq!(tiller.grants[0], "ClusterRoleBinding/z-admin → ClusterRole/cluster-admin", "{:?}", tiller.grants);
        assert_eq!(tiller.grants.len(), 5, "the harmless ones are still listed, after it");
        let alice = facts.rbac_subjects.items.iter().find(|subject| subject.subject.name == "alice").expect("alice");
        assert!(alice.cluster_admin);
        assert_eq!(alice.grants[0], "ClusterRoleBinding/z-admin → ClusterRole/cluster-admin", "{:?}", alice.grants);
    }
}
