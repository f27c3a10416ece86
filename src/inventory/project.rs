//! Turns API objects (as JSON) into the compact projections of [`super`].
//!
//! Objects are first deserialized into k8s-openapi types, so a manifest with a field
//! of the wrong type is rejected the way the API server would reject it, and the live
//! source (which receives the same types) shares this code.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;

use super::{
    Binding, Container, ContainerKind, EndpointSlice, HostPathVolume, Labels, Location, Meta, Namespace, NetworkPolicy,
    Node, OwnerRef, Pdb, PodTemplate, PolicyRule, Projected, RbacSubject, Role, RunningImage, Service, ServiceAccount,
    Workload,
};

/// An object of a known kind whose fields do not match the Kubernetes schema.
#[derive(Debug, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct ProjectError {
    /// The object's kind.
    pub kind: String,
    /// What serde said was wrong.
    pub reason: String,
}

/// An API type that has a compact projection. Implemented for every kind the facts use,
/// so that manifests (parsed from JSON) and the live API (typed list pages) share it.
pub trait Project:
    k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + DeserializeOwned + Clone + Send + 'static
{
    /// The projection; `meta` is already filled from the object's metadata.
    fn project(&self, meta: Meta) -> Projected;

    /// Identity and metadata, with the manifest location when there is one.
    fn meta(&self, location: Option<&Location>) -> Meta {
        meta_of(Self::API_VERSION, Self::KIND, self.metadata(), location.cloned())
    }
}

/// Projects one API object given as JSON (a manifest document). Returns `Ok(None)` for
/// kinds the facts do not use.
///
/// The API version's *group* decides the kind; older versions of the same group
/// (`apps/v1beta2`, `policy/v1beta1`, `extensions/v1beta1`) are read as the current
/// one, whose fields they share.
pub fn project_object(
    object: serde_json::Value,
    location: Option<&Location>,
) -> Result<Option<Projected>, ProjectError> {
    // Taken by value: the document is moved into its typed form, never copied.
    let text = |key: &str| object.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let (kind, api_version) = (text("kind"), text("apiVersion"));
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let projected = match (group, kind.as_str()) {
        ("", "Node") => parse::<core::Node>(object, location)?,
        ("", "Namespace") => parse::<core::Namespace>(object, location)?,
        ("", "Pod") => parse::<core::Pod>(object, location)?,
        ("apps" | "extensions", "Deployment") => parse::<apps::Deployment>(object, location)?,
        ("apps", "StatefulSet") => parse::<apps::StatefulSet>(object, location)?,
        ("apps" | "extensions", "ReplicaSet") => parse::<apps::ReplicaSet>(object, location)?,
        ("apps" | "extensions", "DaemonSet") => parse::<apps::DaemonSet>(object, location)?,
        ("batch", "Job") => parse::<batch::Job>(object, location)?,
        ("batch", "CronJob") => parse::<batch::CronJob>(object, location)?,
        ("", "ServiceAccount") => parse::<core::ServiceAccount>(object, location)?,
        ("rbac.authorization.k8s.io", "Role") => parse::<rbac::Role>(object, location)?,
        ("rbac.authorization.k8s.io", "ClusterRole") => parse::<rbac::ClusterRole>(object, location)?,
        ("rbac.authorization.k8s.io", "RoleBinding") => parse::<rbac::RoleBinding>(object, location)?,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => parse::<rbac::ClusterRoleBinding>(object, location)?,
        ("networking.k8s.io" | "extensions", "NetworkPolicy") => parse::<networking::NetworkPolicy>(object, location)?,
        ("", "Service") => parse::<core::Service>(object, location)?,
        ("policy", "PodDisruptionBudget") => parse::<policy::PodDisruptionBudget>(object, location)?,
        ("discovery.k8s.io", "EndpointSlice") => parse::<discovery::EndpointSlice>(object, location)?,
        ("kubelet.config.k8s.io", "KubeletConfiguration") => {
            // A config file has no metadata; it is named after its document.
            let name = object.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or("kubelet-config");
            let meta = Meta {
                api_version: api_version.clone(),
                kind: kind.clone(),
                name: name.to_owned(),
                location: location.cloned(),
                ..Meta::default()
            };
            let config = super::kubelet::parse(&object, meta, None)
                .map_err(|error| ProjectError { kind: kind.clone(), reason: error.to_string() })?;
            Projected::KubeletConfig(config)
        }
        _ => return Ok(None),
    };
    Ok(Some(projected))
}

/// Deserializes `object` as `K` (read as `K`'s API version) and projects it.
fn parse<K: Project>(mut object: serde_json::Value, location: Option<&Location>) -> Result<Projected, ProjectError> {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), K::API_VERSION.into());
    }
    let typed: K = serde_json::from_value(object)
        .map_err(|error| ProjectError { kind: K::KIND.to_owned(), reason: error.to_string() })?;
    Ok(typed.project(typed.meta(location)))
}

impl Project for core::Node {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Node(project_node(meta, self))
    }
}

impl Project for core::Namespace {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Namespace(Namespace { meta })
    }
}

impl Project for core::Pod {
    fn project(&self, meta: Meta) -> Projected {
        let mut projected = workload(meta, None, self.spec.as_ref(), &self.metadata);
        projected.running = running_images(self.status.as_ref());
        Projected::Workload(projected)
    }
}

impl Project for apps::Deployment {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Workload(templated(meta, Some(self.spec.replicas.unwrap_or(1)), Some(&self.spec.template)))
    }
}

impl Project for apps::StatefulSet {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Workload(templated(meta, Some(self.spec.replicas.unwrap_or(1)), Some(&self.spec.template)))
    }
}

impl Project for apps::ReplicaSet {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Workload(templated(meta, Some(self.spec.replicas.unwrap_or(1)), self.spec.template.as_ref()))
    }
}

impl Project for apps::DaemonSet {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Workload(templated(meta, None, Some(&self.spec.template)))
    }
}

impl Project for batch::Job {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Workload(templated(meta, None, self.spec.as_ref().map(|spec| &spec.template)))
    }
}

impl Project for batch::CronJob {
    fn project(&self, meta: Meta) -> Projected {
        let template = self.spec.job_template.spec.as_ref().map(|spec| &spec.template);
        Projected::Workload(templated(meta, None, template))
    }
}

impl Project for core::ServiceAccount {
    fn project(&self, meta: Meta) -> Projected {
        Projected::ServiceAccount(ServiceAccount { meta })
    }
}

impl Project for rbac::Role {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Role(Role { meta, rules: policy_rules(self.rules.as_deref()) })
    }
}

impl Project for rbac::ClusterRole {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Role(Role { meta, rules: policy_rules(self.rules.as_deref()) })
    }
}

impl Project for rbac::RoleBinding {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Binding(project_binding(meta, &self.role_ref, self.subjects.as_deref()))
    }
}

impl Project for rbac::ClusterRoleBinding {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Binding(project_binding(meta, &self.role_ref, self.subjects.as_deref()))
    }
}

impl Project for networking::NetworkPolicy {
    fn project(&self, meta: Meta) -> Projected {
        Projected::NetworkPolicy(project_network_policy(meta, self))
    }
}

impl Project for core::Service {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Service(project_service(meta, self))
    }
}

impl Project for policy::PodDisruptionBudget {
    fn project(&self, meta: Meta) -> Projected {
        Projected::Pdb(project_pdb(meta, self))
    }
}

impl Project for discovery::EndpointSlice {
    fn project(&self, meta: Meta) -> Projected {
        let service = meta.labels.get("kubernetes.io/service-name").cloned().unwrap_or_default();
        Projected::EndpointSlice(EndpointSlice {
            meta,
            service,
            addresses: self
                .endpoints
                .iter()
                .flatten()
                .filter(|endpoint| endpoint.conditions.as_ref().and_then(|conditions| conditions.ready) != Some(false))
                .flat_map(|endpoint| endpoint.addresses.iter().cloned())
                .collect(),
            ports: self.ports.iter().flatten().filter_map(|port| port.port).map(i64::from).collect(),
        })
    }
}

fn meta_of(api_version: &str, kind: &str, raw: &ObjectMeta, location: Option<Location>) -> Meta {
    let controller =
        raw.owner_references.iter().flatten().find(|owner| owner.controller == Some(true)).map(|owner| OwnerRef {
            kind: owner.kind.clone(),
            name: owner.name.clone(),
            uid: Some(owner.uid.clone()).filter(|uid| !uid.is_empty()),
        });
    let mirror = raw.annotations.as_ref().is_some_and(|annotations| annotations.contains_key(MIRROR_ANNOTATION));
    Meta {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace: raw.namespace.clone(),
        name: raw.name.clone().unwrap_or_default(),
        uid: raw.uid.clone(),
        labels: labels_read(kind, raw.labels.as_ref()),
        controller,
        mirror,
        location,
    }
}

/// The metadata labels some fact reads, and only those: memory holds a projection per
/// object, and most labels are read by nothing. A Node's and a Namespace's are read
/// whole (roles, providers, Pod Security), an EndpointSlice's name its Service; of a
/// workload's, those that tell control-plane components and the cluster DNS apart.
/// (A workload's *pod template* labels are a fact of their own and always kept.)
fn labels_read(kind: &str, labels: Option<&BTreeMap<String, String>>) -> Labels {
    const WORKLOAD_LABELS_READ: [&str; 3] = ["component", "tier", "k8s-app"];
    let Some(labels) = labels else { return Labels::default() };
    match kind {
        "Node" | "Namespace" | "EndpointSlice" => labels.clone().into(),
        "Pod" | "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" => labels
            .iter()
            .filter(|(key, _)| WORKLOAD_LABELS_READ.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        _ => Labels::default(),
    }
}

/// The annotation a kubelet puts on the mirror pod of a static pod.
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

fn project_node(meta: Meta, node: &core::Node) -> Node {
    let spec = node.spec.as_ref();
    let status = node.status.as_ref();
    Node {
        meta,
        taints: spec
            .and_then(|spec| spec.taints.as_ref())
            .into_iter()
            .flatten()
            .map(|taint| (taint.key.clone(), taint.effect.clone()))
            .collect(),
        internal_ips: status
            .and_then(|status| status.addresses.as_ref())
            .into_iter()
            .flatten()
            .filter(|address| address.type_ == "InternalIP")
            .map(|address| address.address.clone())
            .collect(),
        provider_id: spec.and_then(|spec| spec.provider_id.clone()),
        kubelet_version: status.and_then(|status| status.node_info.as_ref()).map(|info| info.kubelet_version.clone()),
    }
}

/// A controller's projection; callers default `replicas` to 1 as the API server does.
fn templated(meta: Meta, replicas: Option<i32>, template: Option<&core::PodTemplateSpec>) -> Workload {
    let empty = ObjectMeta::default();
    let template_meta = template.and_then(|template| template.metadata.as_ref()).unwrap_or(&empty);
    let spec = template.and_then(|template| template.spec.as_ref());
    workload(meta, replicas.map(i64::from), spec, template_meta)
}

fn workload(meta: Meta, replicas: Option<i64>, spec: Option<&core::PodSpec>, pod_meta: &ObjectMeta) -> Workload {
    Workload {
        meta,
        replicas,
        pod: pod_template(spec, std::sync::Arc::new(pod_meta.labels.clone().unwrap_or_default().into())),
        running: Vec::new(),
    }
}

fn pod_template(spec: Option<&core::PodSpec>, labels: std::sync::Arc<Labels>) -> PodTemplate {
    let Some(spec) = spec else {
        return PodTemplate { labels, service_account: "default".into(), ..PodTemplate::default() };
    };
    let pod_non_root = spec.security_context.as_ref().and_then(|context| context.run_as_non_root);
    let mut containers: Vec<Container> = Vec::new();
    for (kind, list) in [
        (ContainerKind::Container, Some(&spec.containers)),
        (ContainerKind::InitContainer, spec.init_containers.as_ref()),
    ] {
        for container in list.into_iter().flatten() {
            containers.push(Container {
                name: container.name.clone(),
                kind,
                image: container.image.clone().unwrap_or_default(),
                command: container.command.clone().unwrap_or_default(),
                args: container.args.clone().unwrap_or_default(),
                mounts: mounts(container.volume_mounts.as_deref()),
                ..security(container.security_context.as_ref(), pod_non_root)
            });
        }
    }
    for container in spec.ephemeral_containers.iter().flatten() {
        containers.push(Container {
            name: container.name.clone(),
            kind: ContainerKind::EphemeralContainer,
            image: container.image.clone().unwrap_or_default(),
            command: container.command.clone().unwrap_or_default(),
            args: container.args.clone().unwrap_or_default(),
            mounts: mounts(container.volume_mounts.as_deref()),
            ..security(container.security_context.as_ref(), pod_non_root)
        });
    }
    PodTemplate {
        labels,
        service_account: spec
            .service_account_name
            .clone()
            .or_else(|| spec.service_account.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "default".into()),
        host_network: spec.host_network.unwrap_or(false),
        host_pid: spec.host_pid.unwrap_or(false),
        host_ipc: spec.host_ipc.unwrap_or(false),
        containers,
        host_path_volumes: spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|volume| {
                let host_path = volume.host_path.as_ref()?;
                Some(HostPathVolume { name: volume.name.clone(), path: host_path.path.clone() })
            })
            .collect(),
        node_name: spec.node_name.clone(),
    }
}

/// The security-context part of a container; identity fields are filled by the caller.
fn security(context: Option<&core::SecurityContext>, pod_non_root: Option<bool>) -> Container {
    Container {
        name: String::new(),
        kind: ContainerKind::Container,
        image: String::new(),
        command: Vec::new(),
        args: Vec::new(),
        privileged: context.and_then(|context| context.privileged),
        allow_privilege_escalation: context.and_then(|context| context.allow_privilege_escalation),
        capabilities_add: context
            .and_then(|context| context.capabilities.as_ref())
            .and_then(|capabilities| capabilities.add.clone())
            .unwrap_or_default(),
        read_only_root_filesystem: context.and_then(|context| context.read_only_root_filesystem),
        run_as_non_root: context.and_then(|context| context.run_as_non_root).or(pod_non_root),
        mounts: Vec::new(),
    }
}

fn mounts(mounts: Option<&[core::VolumeMount]>) -> Vec<(String, bool, String)> {
    mounts
        .into_iter()
        .flatten()
        .map(|mount| (mount.name.clone(), mount.read_only.unwrap_or(false), mount.mount_path.clone()))
        .collect()
}

fn running_images(status: Option<&core::PodStatus>) -> Vec<RunningImage> {
    let Some(status) = status else { return Vec::new() };
    [&status.container_statuses, &status.init_container_statuses, &status.ephemeral_container_statuses]
        .into_iter()
        .flatten()
        .flatten()
        .filter(|container| !container.image_id.is_empty())
        .map(|container| RunningImage {
            container: container.name.clone(),
            image: container.image.as_str().into(),
            image_id: container.image_id.as_str().into(),
        })
        .collect()
}

fn policy_rules(rules: Option<&[rbac::PolicyRule]>) -> Vec<PolicyRule> {
    rules
        .into_iter()
        .flatten()
        .map(|rule| PolicyRule {
            api_groups: rule.api_groups.clone().unwrap_or_default(),
            resources: rule.resources.clone().unwrap_or_default(),
            verbs: rule.verbs.clone(),
            non_resource_urls: rule.non_resource_urls.clone().unwrap_or_default(),
        })
        .collect()
}

fn project_binding(meta: Meta, role_ref: &rbac::RoleRef, subjects: Option<&[rbac::Subject]>) -> Binding {
    let namespace = meta.namespace.clone();
    Binding {
        meta,
        role_ref: (role_ref.kind.clone(), role_ref.name.clone()),
        subjects: subjects
            .into_iter()
            .flatten()
            .map(|subject| RbacSubject {
                kind: subject.kind.clone(),
                name: subject.name.clone(),
                // A RoleBinding's ServiceAccount subject without a namespace means its own.
                namespace: subject
                    .namespace
                    .clone()
                    .or_else(|| (subject.kind == "ServiceAccount").then(|| namespace.clone()).flatten()),
            })
            .collect(),
    }
}

fn project_network_policy(meta: Meta, policy: &networking::NetworkPolicy) -> NetworkPolicy {
    let Some(spec) = policy.spec.as_ref() else {
        return NetworkPolicy {
            meta,
            selects_all_pods: true,
            policy_types: vec!["Ingress".into()],
            ..NetworkPolicy::default()
        };
    };
    let selector = &spec.pod_selector;
    let selects_all_pods = selector.as_ref().is_none_or(|selector| {
        selector.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
            && selector.match_expressions.as_ref().is_none_or(Vec::is_empty)
    });
    let ingress_rules = spec.ingress.as_ref().map_or(0, Vec::len);
    let egress_rules = spec.egress.as_ref().map_or(0, Vec::len);
    // Defaulting as in the API reference: Ingress always, Egress when egress rules exist.
    let policy_types = spec.policy_types.clone().unwrap_or_else(|| {
        let mut types = vec!["Ingress".to_owned()];
        if spec.egress.is_some() {
            types.push("Egress".into());
        }
        types
    });
    NetworkPolicy { meta, selects_all_pods, policy_types, ingress_rules, egress_rules }
}

fn project_service(meta: Meta, service: &core::Service) -> Service {
    let spec = service.spec.as_ref();
    Service {
        meta,
        service_type: spec.and_then(|spec| spec.type_.clone()).unwrap_or_else(|| "ClusterIP".into()),
        cluster_ip: spec.and_then(|spec| spec.cluster_ip.clone()).filter(|ip| ip != "None").unwrap_or_default(),
        selector: spec.and_then(|spec| spec.selector.clone()).unwrap_or_default().into(),
        ports: spec
            .and_then(|spec| spec.ports.as_ref())
            .into_iter()
            .flatten()
            .map(|port| i64::from(port.port))
            .collect(),
    }
}

fn project_pdb(meta: Meta, pdb: &policy::PodDisruptionBudget) -> Pdb {
    let spec = pdb.spec.as_ref();
    let int_or_string = |value: Option<&IntOrString>| {
        value.map(|value| match value {
            IntOrString::Int(number) => number.to_string(),
            IntOrString::String(text) => text.clone(),
        })
    };
    Pdb {
        meta,
        selector: spec.and_then(|spec| spec.selector.clone()).and_then(|selector| selector.try_into().ok()),
        min_available: int_or_string(spec.and_then(|spec| spec.min_available.as_ref())),
        max_unavailable: int_or_string(spec.and_then(|spec| spec.max_unavailable.as_ref())),
    }
}
