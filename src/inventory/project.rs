//! Turns API objects (as JSON) into the compact projections of [`super`].
//!
//! Objects are read in the [`lean`](super::lean) shapes: what a projection reads is
//! typed by k8s-openapi, so a manifest with such a field of the wrong type is rejected
//! the way the API server would reject it, and everything else is skipped unread. The
//! live source reads its list pages in the same shapes and shares this code.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::lean;
use super::{
    Binding, ConfigMap, Container, ContainerKind, EndpointSlice, HostPathVolume, Ingress, Labels, Location, Meta,
    Namespace, NamespaceLimit, NetworkPolicy, Node, OwnerRef, Pdb, PodSecurity, PodTemplate, PolicyRule, Probes,
    ProcMount, ProfileType, Projected, PullPolicy, RbacSubject, Resources, Role, RunningImage, Service, ServiceAccount,
    Workload,
};
use crate::compact_map::SharedKeys;

/// An object of a known kind whose fields do not match the Kubernetes schema.
#[derive(Debug, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct ProjectError {
    /// The object's kind.
    pub kind: String,
    /// What serde said was wrong.
    pub reason: String,
}

/// A kind that has a compact projection, implemented on k8s-openapi's type of the kind
/// (which names its API version and where it is listed). Objects are read in the
/// [`lean`](super::lean) shape [`Project::Lean`], which skips what the projection does
/// not read; manifests (parsed from JSON) and the live API (list pages) share it.
pub trait Project: k8s_openapi::Resource + Send + 'static {
    /// The shape an object of this kind is read in.
    type Lean: DeserializeOwned + Clone + Send + 'static;

    /// The projection of one object, with its manifest location when there is one.
    fn project(object: Self::Lean, location: Option<&Location>) -> Projected;
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
        ("networking.k8s.io", "Ingress") => parse::<networking::Ingress>(object, location)?,
        ("", "ConfigMap") => {
            if let Some(config) = kubeadm_kubelet_config(&object, location)? {
                return Ok(Some(config));
            }
            if let Some(config) = super::kubeadm::project(&object, location)? {
                return Ok(Some(config));
            }
            parse::<core::ConfigMap>(object, location)?
        }
        ("", "ResourceQuota") => parse::<core::ResourceQuota>(object, location)?,
        ("", "LimitRange") => parse::<core::LimitRange>(object, location)?,
        ("discovery.k8s.io", "EndpointSlice") => parse::<discovery::EndpointSlice>(object, location)?,
        ("kubelet.config.k8s.io", "KubeletConfiguration") => {
            // A config file has no metadata; it is named after its document.
            let name = object.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or("kubelet-config");
            let meta = Meta {
                api_version: api_version.clone().into(),
                kind: kind.clone().into(),
                name: name.to_owned(),
                location: location.cloned(),
                ..Meta::default()
            };
            let config = super::kubelet::parse(&object, meta, None)
                .map_err(|error| ProjectError { kind: kind.clone(), reason: error.to_string() })?;
            Projected::KubeletConfig(config)
        }
        // Any other kind with a pod template (Argo Rollouts, OpenShift
        // DeploymentConfigs, Knative Services, …) is judged by its shape.
        _ => return Ok(by_shape(object, location, api_version, kind)),
    };
    Ok(Some(projected))
}

/// kubeadm's cluster-wide KubeletConfiguration, `kube-system/kubelet-config` (named
/// `kubelet-config-1.<minor>` before 1.24), which live scans read by name like
/// `kubeadm-config`. Any other ConfigMap is only classified: the names of its
/// secret-looking entries are kept, never its data.
fn kubeadm_kubelet_config(
    object: &serde_json::Value,
    location: Option<&Location>,
) -> Result<Option<Projected>, ProjectError> {
    let name = object.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or_default();
    let namespace = object.pointer("/metadata/namespace").and_then(serde_json::Value::as_str);
    if namespace != Some("kube-system") || !(name == "kubelet-config" || name.starts_with("kubelet-config-1.")) {
        return Ok(None);
    }
    let Some(text) = object.pointer("/data/kubelet").and_then(serde_json::Value::as_str) else { return Ok(None) };
    let invalid = |reason: String| ProjectError { kind: "ConfigMap".into(), reason };
    let config: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|error| invalid(format!("{name}: data.kubelet: {error}")))?;
    let meta = Meta {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("kube-system".into()),
        name: name.to_owned(),
        location: location.cloned(),
        ..Meta::default()
    };
    let parsed = super::kubelet::parse(&config, meta, None).map_err(|error| invalid(error.to_string()))?;
    Ok(Some(Projected::KubeletConfig(parsed)))
}

/// The spec of a kind seaworthy does not know, as far as it holds a pod template:
/// `spec.template` (with `spec.replicas`), or `spec.jobTemplate.spec.template`.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeSpec {
    replicas: Option<i32>,
    template: Option<core::PodTemplateSpec>,
    job_template: Option<ShapeJobTemplate>,
}

#[derive(Clone, Default, serde::Deserialize)]
struct ShapeJobTemplate {
    spec: Option<ShapeJobSpec>,
}

#[derive(Clone, Default, serde::Deserialize)]
struct ShapeJobSpec {
    template: Option<core::PodTemplateSpec>,
}

/// A custom kind whose objects carry a pod template, listed by live scans when the API
/// server serves its group version and read by shape (`ShapeSpec`), as any kind with a
/// pod template is in manifests. An object without a template (an Argo Rollout with a
/// `workloadRef`) projects to a workload with no containers, which live scans drop.
macro_rules! custom_workload_kind {
    ($(#[$doc:meta])* $name:ident, $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl k8s_openapi::Resource for $name {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }

        impl Project for $name {
            type Lean = lean::Object<ShapeSpec>;

            fn project(object: Self::Lean, location: Option<&Location>) -> Projected {
                let meta = meta::<Self>(object.metadata, location);
                Projected::Workload(shaped(meta, object.spec.unwrap_or_default()))
            }
        }
    };
}

custom_workload_kind!(
    /// An Argo Rollouts `Rollout`.
    ArgoRollout, "argoproj.io", "v1alpha1", "Rollout", "rollouts"
);
custom_workload_kind!(
    /// An OpenShift `DeploymentConfig`.
    DeploymentConfig, "apps.openshift.io", "v1", "DeploymentConfig", "deploymentconfigs"
);
custom_workload_kind!(
    /// A Knative Serving `Service`.
    KnativeService, "serving.knative.dev", "v1", "Service", "services"
);

/// A workload of an unknown kind, found by the pod template in its spec; `None` when
/// it has none, or one that is not a pod template.
fn by_shape(
    object: serde_json::Value,
    location: Option<&Location>,
    api_version: String,
    kind: String,
) -> Option<Projected> {
    let has_template = object.pointer("/spec/template/spec").is_some_and(serde_json::Value::is_object)
        || object.pointer("/spec/jobTemplate/spec/template/spec").is_some_and(serde_json::Value::is_object);
    if !has_template {
        return None;
    }
    let object: lean::Object<ShapeSpec> = serde_json::from_value(object).ok()?;
    let meta = named_meta(object.metadata, location, api_version.into(), kind.into());
    Some(Projected::Workload(shaped(meta, object.spec?)))
}

/// The workload a spec's pod template makes: `spec.template` (with its replicas, 1 by
/// default), else `spec.jobTemplate.spec.template`, else none (no containers).
fn shaped(meta: Meta, spec: ShapeSpec) -> Workload {
    match spec.template {
        Some(template) => templated(meta, Some(spec.replicas.unwrap_or(1)), Some(template)),
        None => templated(meta, None, spec.job_template.and_then(|job| job.spec?.template)),
    }
}

/// Reads `object` in kind `K`'s lean shape and projects it.
fn parse<K: Project>(object: serde_json::Value, location: Option<&Location>) -> Result<Projected, ProjectError> {
    let lean: K::Lean = serde_json::from_value(object)
        .map_err(|error| ProjectError { kind: K::KIND.to_owned(), reason: error.to_string() })?;
    Ok(K::project(lean, location))
}

impl Project for core::Node {
    type Lean = lean::Object<core::NodeSpec, lean::NodeStatus>;

    fn project(node: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Node(project_node(meta::<Self>(node.metadata, location), node.spec, node.status))
    }
}

impl Project for core::ConfigMap {
    type Lean = lean::ConfigMapData;

    fn project(map: Self::Lean, location: Option<&Location>) -> Projected {
        let secret_entries = map.data.iter().flatten().flat_map(|(key, value)| secret_entries(key, value)).collect();
        Projected::ConfigMap(ConfigMap { meta: meta::<Self>(map.metadata, location), secret_entries })
    }
}

/// The secret-looking parts of one ConfigMap entry: the entry itself (`DB_PASSWORD:
/// hunter2`, or a credential's shape anywhere in it), else each `name=value` or
/// `name: value` line of a file-like entry whose name and value look like a secret.
fn secret_entries(key: &str, value: &str) -> Vec<String> {
    if secret_looking(key, value) {
        return vec![key.to_owned()];
    }
    let mut found: Vec<String> = value
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches("export ");
            let (name, setting) = line.split_once('=').or_else(|| line.split_once(':'))?;
            let (name, setting) = (name.trim(), setting.trim().trim_matches(['"', '\'']));
            // Templating (`${DB_PASSWORD}`, `{{ .password }}`) fills the value in later.
            let templated = setting.starts_with("${") || setting.starts_with("{{") || setting.starts_with("%(");
            (!name.is_empty() && !name.contains(' ') && !templated && secret_looking(name, setting))
                .then(|| format!("{key}: {name}"))
        })
        .collect();
    found.dedup();
    found
}

impl Project for core::Namespace {
    type Lean = lean::Object<IgnoredAny>;

    fn project(namespace: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Namespace(Namespace { meta: meta::<Self>(namespace.metadata, location) })
    }
}

impl Project for core::Pod {
    type Lean = lean::Object<core::PodSpec, lean::PodStatus>;

    fn project(pod: Self::Lean, location: Option<&Location>) -> Projected {
        // A pod's labels are its template's too: taken for it, after the metadata kept
        // those facts read.
        let mut metadata = pod.metadata.unwrap_or_default();
        let labels = metadata.labels.take();
        let app_armor = metadata.annotations.as_mut().map(|annotations| std::mem::take(&mut annotations.app_armor));
        let mut meta = meta::<Self>(Some(metadata), location);
        meta.labels = labels_read(<Self as k8s_openapi::Resource>::KIND, labels.as_ref());
        let mut projected = workload(meta, None, pod.spec, labels, &app_armor.unwrap_or_default());
        projected.running = running_images(pod.status);
        Projected::Workload(projected)
    }
}

impl Project for apps::Deployment {
    type Lean = lean::Object<apps::DeploymentSpec>;

    fn project(deployment: Self::Lean, location: Option<&Location>) -> Projected {
        let spec = deployment.spec.unwrap_or_default();
        let replicas = Some(spec.replicas.unwrap_or(1));
        Projected::Workload(templated(meta::<Self>(deployment.metadata, location), replicas, Some(spec.template)))
    }
}

impl Project for apps::StatefulSet {
    type Lean = lean::Object<apps::StatefulSetSpec>;

    fn project(set: Self::Lean, location: Option<&Location>) -> Projected {
        let spec = set.spec.unwrap_or_default();
        let replicas = Some(spec.replicas.unwrap_or(1));
        Projected::Workload(templated(meta::<Self>(set.metadata, location), replicas, Some(spec.template)))
    }
}

impl Project for apps::ReplicaSet {
    type Lean = lean::Object<apps::ReplicaSetSpec>;

    fn project(set: Self::Lean, location: Option<&Location>) -> Projected {
        let spec = set.spec.unwrap_or_default();
        let replicas = Some(spec.replicas.unwrap_or(1));
        Projected::Workload(templated(meta::<Self>(set.metadata, location), replicas, spec.template))
    }
}

impl Project for apps::DaemonSet {
    type Lean = lean::Object<apps::DaemonSetSpec>;

    fn project(set: Self::Lean, location: Option<&Location>) -> Projected {
        let template = set.spec.map(|spec| spec.template).unwrap_or_default();
        Projected::Workload(templated(meta::<Self>(set.metadata, location), None, Some(template)))
    }
}

impl Project for batch::Job {
    type Lean = lean::Object<batch::JobSpec>;

    fn project(job: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Workload(templated(meta::<Self>(job.metadata, location), None, job.spec.map(|spec| spec.template)))
    }
}

impl Project for batch::CronJob {
    type Lean = lean::Object<batch::CronJobSpec>;

    fn project(cron_job: Self::Lean, location: Option<&Location>) -> Projected {
        let template = cron_job.spec.unwrap_or_default().job_template.spec.map(|spec| spec.template);
        Projected::Workload(templated(meta::<Self>(cron_job.metadata, location), None, template))
    }
}

impl Project for core::ServiceAccount {
    type Lean = lean::Object<IgnoredAny>;

    fn project(account: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::ServiceAccount(ServiceAccount { meta: meta::<Self>(account.metadata, location) })
    }
}

impl Project for rbac::Role {
    type Lean = lean::Role;

    fn project(role: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Role(Role { meta: meta::<Self>(role.metadata, location), rules: policy_rules(role.rules) })
    }
}

impl Project for rbac::ClusterRole {
    type Lean = lean::Role;

    fn project(role: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Role(Role { meta: meta::<Self>(role.metadata, location), rules: policy_rules(role.rules) })
    }
}

impl Project for rbac::RoleBinding {
    type Lean = lean::Binding;

    fn project(binding: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Binding(project_binding::<Self>(binding, location))
    }
}

impl Project for rbac::ClusterRoleBinding {
    type Lean = lean::Binding;

    fn project(binding: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Binding(project_binding::<Self>(binding, location))
    }
}

impl Project for networking::NetworkPolicy {
    type Lean = lean::Object<networking::NetworkPolicySpec>;

    fn project(policy: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::NetworkPolicy(project_network_policy(meta::<Self>(policy.metadata, location), policy.spec))
    }
}

impl Project for core::Service {
    type Lean = lean::Object<core::ServiceSpec>;

    fn project(service: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Service(project_service(meta::<Self>(service.metadata, location), service.spec))
    }
}

impl Project for policy::PodDisruptionBudget {
    type Lean = lean::Object<policy::PodDisruptionBudgetSpec>;

    fn project(pdb: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::Pdb(project_pdb(meta::<Self>(pdb.metadata, location), pdb.spec))
    }
}

impl Project for networking::Ingress {
    type Lean = lean::Object<networking::IngressSpec>;

    fn project(ingress: Self::Lean, location: Option<&Location>) -> Projected {
        let spec = ingress.spec.unwrap_or_default();
        let tls = spec.tls.unwrap_or_default();
        let service = |backend: networking::IngressBackend| backend.service.map(|service| service.name);
        let rules = spec.rules.unwrap_or_default();
        let paths = rules.iter().filter_map(|rule| rule.http.as_ref()).flat_map(|http| &http.paths);
        let mut backends: Vec<String> = spec
            .default_backend
            .and_then(service)
            .into_iter()
            .chain(paths.filter_map(|path| service(path.backend.clone())))
            .collect();
        backends.sort_unstable();
        backends.dedup();
        Projected::Ingress(Ingress {
            meta: meta::<Self>(ingress.metadata, location),
            backends,
            hosts: rules.into_iter().map(|rule| rule.host.unwrap_or_default()).collect(),
            has_tls: !tls.is_empty(),
            tls_hosts: tls.into_iter().flat_map(|entry| entry.hosts.unwrap_or_default()).collect(),
        })
    }
}

impl Project for core::ResourceQuota {
    type Lean = lean::Object<serde::de::IgnoredAny>;

    fn project(quota: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::NamespaceLimit(NamespaceLimit { meta: meta::<Self>(quota.metadata, location) })
    }
}

impl Project for core::LimitRange {
    type Lean = lean::Object<serde::de::IgnoredAny>;

    fn project(range: Self::Lean, location: Option<&Location>) -> Projected {
        Projected::NamespaceLimit(NamespaceLimit { meta: meta::<Self>(range.metadata, location) })
    }
}

impl Project for discovery::EndpointSlice {
    type Lean = lean::EndpointSlice;

    fn project(slice: Self::Lean, location: Option<&Location>) -> Projected {
        let meta = meta::<Self>(slice.metadata, location);
        let service = meta.labels.get("kubernetes.io/service-name").cloned().unwrap_or_default();
        Projected::EndpointSlice(EndpointSlice {
            meta,
            service,
            addresses: slice
                .endpoints
                .into_iter()
                .flatten()
                .filter(|endpoint| endpoint.conditions.as_ref().and_then(|conditions| conditions.ready) != Some(false))
                .flat_map(|endpoint| endpoint.addresses)
                .collect(),
            ports: slice.ports.into_iter().flatten().filter_map(|port| port.port).map(i64::from).collect(),
        })
    }
}

/// The identity and metadata of an object of kind `K`.
fn meta<K: k8s_openapi::Resource>(metadata: Option<lean::Metadata>, location: Option<&Location>) -> Meta {
    named_meta(metadata, location, K::API_VERSION.into(), K::KIND.into())
}

/// The identity of an object of `kind`.
fn named_meta(
    metadata: Option<lean::Metadata>,
    location: Option<&Location>,
    api_version: std::borrow::Cow<'static, str>,
    kind: std::borrow::Cow<'static, str>,
) -> Meta {
    let metadata = metadata.unwrap_or_default();
    let controller =
        metadata.owner_references.into_iter().flatten().find(|owner| owner.controller == Some(true)).map(|owner| {
            OwnerRef { kind: owner.kind, name: owner.name, uid: Some(owner.uid).filter(|uid| !uid.is_empty()) }
        });
    let annotations = metadata.annotations.unwrap_or_default();
    Meta {
        labels: labels_read(&kind, metadata.labels.as_ref()),
        api_version,
        kind,
        namespace: metadata.namespace,
        name: metadata.name.unwrap_or_default(),
        uid: metadata.uid,
        controller,
        mirror: annotations.mirror,
        last_applied_removed: annotations.last_applied_removed,
        location: location.cloned(),
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
    let kept = |key: &str| match kind {
        "Node" | "Namespace" | "EndpointSlice" => true,
        "Pod" | "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" => {
            WORKLOAD_LABELS_READ.contains(&key)
        }
        _ => false,
    };
    labels.iter().filter(|(key, _)| kept(key)).map(|(key, value)| (key.as_str(), value.clone())).collect()
}

fn project_node(meta: Meta, spec: Option<core::NodeSpec>, status: Option<lean::NodeStatus>) -> Node {
    let spec = spec.unwrap_or_default();
    let status = status.unwrap_or_default();
    let info = status.node_info;
    Node {
        meta,
        taints: spec.taints.into_iter().flatten().map(|taint| (taint.key, taint.effect)).collect(),
        internal_ips: status
            .addresses
            .into_iter()
            .flatten()
            .filter(|address| address.type_ == "InternalIP")
            .map(|address| address.address)
            .collect(),
        provider_id: spec.provider_id,
        kubelet_version: info.as_ref().map(|info| info.kubelet_version.clone()),
        os_image: info.as_ref().map(|info| info.os_image.clone()).unwrap_or_default(),
        container_runtime_version: info.map(|info| info.container_runtime_version).unwrap_or_default(),
    }
}

/// A controller's projection; callers default `replicas` to 1 as the API server does.
fn templated(meta: Meta, replicas: Option<i32>, template: Option<core::PodTemplateSpec>) -> Workload {
    let template = template.unwrap_or_default();
    let metadata = template.metadata.unwrap_or_default();
    let app_armor = metadata
        .annotations
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some((key.strip_prefix(lean::APP_ARMOR_ANNOTATION_PREFIX)?.to_owned(), value)))
        .collect::<Vec<_>>();
    workload(meta, replicas.map(i64::from), template.spec, metadata.labels, &app_armor)
}

fn workload(
    meta: Meta,
    replicas: Option<i64>,
    spec: Option<core::PodSpec>,
    pod_labels: Option<BTreeMap<String, String>>,
    app_armor_annotations: &[(String, String)],
) -> Workload {
    // Arguments become facts only for control-plane components, which are pods in
    // kube-system (`facts::build`'s membership proof), for the add-ons whose flags
    // rules judge (`is_addon_image`) and for kubelets run in pods, whose flags are their
    // configuration (`kubelet::kubelet_arguments`); nobody else's are kept. The
    // controllers of kube-system keep theirs too: a pod is folded into its owner only
    // when it runs the owner's template, arguments included.
    let arguments = meta.namespace.as_deref() == Some("kube-system");
    let labels = std::sync::Arc::new(SharedKeys::share_on_this_thread(pod_labels.unwrap_or_default().into()));
    let mut pod = pod_template(spec, labels, arguments);
    // The field wins where both are set (the API server requires them to agree).
    for container in pod.containers.iter_mut().filter(|container| container.security.app_armor == ProfileType::Unset) {
        if let Some((_, value)) = app_armor_annotations.iter().find(|(name, _)| *name == container.name) {
            container.security.app_armor = ProfileType::from_app_armor_annotation(value);
        }
    }
    Workload { meta, replicas, pod, running: Vec::new() }
}

fn pod_template(spec: Option<core::PodSpec>, labels: std::sync::Arc<Labels>, arguments: bool) -> PodTemplate {
    let Some(spec) = spec else {
        return PodTemplate { labels, service_account: "default".into(), ..PodTemplate::default() };
    };
    let pod = spec.security_context.unwrap_or_default();
    let regular = spec.containers.into_iter().map(|container| (ContainerKind::Container, container));
    let init = spec.init_containers.into_iter().flatten().map(|container| (ContainerKind::InitContainer, container));
    // Containers and ephemeral containers are two k8s-openapi types with the same fields.
    macro_rules! parts {
        ($container:expr, $kind:expr, $probes:expr, $hosts:expr) => {{
            let container = $container;
            let keep_arguments = arguments
                || is_addon_image(container.image.as_deref())
                || super::kubelet::kubelet_arguments(
                    container.command.as_deref().unwrap_or_default(),
                    container.args.as_deref().unwrap_or_default(),
                )
                .is_some();
            Parts {
                kind: $kind,
                probes: $probes(&container),
                handler_hosts: $hosts(&container),
                name: container.name,
                image: container.image,
                command: container.command.filter(|_| keep_arguments),
                args: container.args.filter(|_| keep_arguments),
                mounts: container.volume_mounts,
                context: container.security_context,
                resources: container.resources,
                image_pull_policy: container.image_pull_policy,
                ports: container.ports,
                env: container.env,
            }
        }};
    }
    let probes = |container: &core::Container| Probes {
        liveness: container.liveness_probe.is_some(),
        readiness: container.readiness_probe.is_some(),
        startup: container.startup_probe.is_some(),
    };
    let hosts = |container: &core::Container| {
        let probes = [&container.liveness_probe, &container.readiness_probe, &container.startup_probe];
        let probe_hosts = probes
            .into_iter()
            .flatten()
            .flat_map(|probe| handler_hosts(probe.http_get.as_ref(), probe.tcp_socket.as_ref()));
        probe_hosts.chain(lifecycle_hosts(container.lifecycle.as_ref())).collect::<Vec<String>>()
    };
    // Ephemeral containers may not have probes.
    let no_probes = |_: &core::EphemeralContainer| Probes::default();
    let ephemeral_hosts =
        |container: &core::EphemeralContainer| lifecycle_hosts(container.lifecycle.as_ref()).collect::<Vec<String>>();
    let mut containers: Vec<Container> = regular
        .chain(init)
        .map(|(kind, container)| project_container(parts!(container, kind, probes, hosts), &pod))
        .collect();
    containers.extend(spec.ephemeral_containers.into_iter().flatten().map(|container| {
        project_container(parts!(container, ContainerKind::EphemeralContainer, no_probes, ephemeral_hosts), &pod)
    }));
    let anti_affinity = spec.affinity.and_then(|affinity| affinity.pod_anti_affinity).is_some_and(|anti| {
        anti.required_during_scheduling_ignored_during_execution.is_some_and(|terms| !terms.is_empty())
            || anti.preferred_during_scheduling_ignored_during_execution.is_some_and(|terms| !terms.is_empty())
    });
    let volumes = spec.volumes.unwrap_or_default();
    PodTemplate {
        labels,
        service_account: spec
            .service_account_name
            .or(spec.service_account)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "default".into()),
        host_network: spec.host_network.unwrap_or(false),
        host_pid: spec.host_pid.unwrap_or(false),
        host_ipc: spec.host_ipc.unwrap_or(false),
        containers,
        restricted_volume_types: volumes.iter().filter_map(restricted_volume_type).map(str::to_owned).collect(),
        host_path_volumes: volumes
            .into_iter()
            .filter_map(|volume| Some(HostPathVolume { path: volume.host_path?.path, name: volume.name }))
            .collect(),
        node_name: spec.node_name,
        automount_token: spec.automount_service_account_token,
        sysctls: pod.sysctls.into_iter().flatten().map(|sysctl| sysctl.name).collect(),
        spread: anti_affinity || spec.topology_spread_constraints.is_some_and(|constraints| !constraints.is_empty()),
    }
}

/// The Kubernetes Dashboard and Helm v2's Tiller, wherever they run: their arguments
/// decide how exposed they are (`--enable-skip-login`, `--listen`), so they are kept.
fn is_addon_image(image: Option<&str>) -> bool {
    image.is_some_and(|image| {
        image.contains("kubernetes-dashboard") || image.contains("kubernetesui/dashboard") || image.contains("/tiller")
    })
}

/// The `host` of an HTTP or TCP handler, where set.
fn handler_hosts(
    http: Option<&core::HTTPGetAction>,
    tcp: Option<&core::TCPSocketAction>,
) -> impl Iterator<Item = String> {
    let http = http.and_then(|action| action.host.clone());
    let tcp = tcp.and_then(|action| action.host.clone());
    http.into_iter().chain(tcp).filter(|host| !host.is_empty())
}

/// The hosts of a container's `postStart` and `preStop` handlers.
fn lifecycle_hosts(lifecycle: Option<&core::Lifecycle>) -> impl Iterator<Item = String> + '_ {
    let handlers = lifecycle.into_iter().flat_map(|lifecycle| [&lifecycle.post_start, &lifecycle.pre_stop]).flatten();
    handlers.flat_map(|handler| handler_hosts(handler.http_get.as_ref(), handler.tcp_socket.as_ref()))
}

/// The parts of a container (regular, init or ephemeral) the facts read.
struct Parts {
    kind: ContainerKind,
    name: String,
    image: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    mounts: Option<Vec<core::VolumeMount>>,
    context: Option<core::SecurityContext>,
    resources: Option<core::ResourceRequirements>,
    probes: Probes,
    image_pull_policy: Option<String>,
    ports: Option<Vec<core::ContainerPort>>,
    env: Option<Vec<core::EnvVar>>,
    handler_hosts: Vec<String>,
}

/// A container with its pod's security settings filled in where it sets none.
fn project_container(parts: Parts, pod: &core::PodSecurityContext) -> Container {
    type Quantities = BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>;
    let context = parts.context.unwrap_or_default();
    let has = |list: Option<&Quantities>, name: &str| list.is_some_and(|list| list.contains_key(name));
    let requests = parts.resources.as_ref().and_then(|resources| resources.requests.as_ref());
    let limits = parts.resources.as_ref().and_then(|resources| resources.limits.as_ref());
    let user_or_role = |options: Option<&core::SELinuxOptions>| {
        options.is_some_and(|options| options.user.is_some() || options.role.is_some())
    };
    let se_linux_type =
        context.se_linux_options.as_ref().or(pod.se_linux_options.as_ref()).and_then(|options| options.type_.clone());
    let capabilities = context.capabilities.unwrap_or_default();
    let security = PodSecurity {
        drops_all_capabilities: capabilities
            .drop
            .is_some_and(|dropped| dropped.iter().any(|capability| capability.eq_ignore_ascii_case("ALL"))),
        run_as_user: context.run_as_user.or(pod.run_as_user),
        seccomp: ProfileType::named(
            context.seccomp_profile.as_ref().or(pod.seccomp_profile.as_ref()).map(|profile| profile.type_.as_str()),
        ),
        app_armor: ProfileType::named(
            context.app_armor_profile.as_ref().or(pod.app_armor_profile.as_ref()).map(|profile| profile.type_.as_str()),
        ),
        se_linux_type,
        se_linux_user_or_role: user_or_role(context.se_linux_options.as_ref())
            || user_or_role(pod.se_linux_options.as_ref()),
        proc_mount: ProcMount::named(context.proc_mount.as_deref()),
        host_process: context
            .windows_options
            .as_ref()
            .and_then(|options| options.host_process)
            .or_else(|| pod.windows_options.as_ref().and_then(|options| options.host_process))
            .unwrap_or(false),
    };
    Container {
        name: parts.name,
        kind: parts.kind,
        image: parts.image.unwrap_or_default(),
        command: parts.command.unwrap_or_default(),
        args: parts.args.unwrap_or_default(),
        privileged: context.privileged,
        allow_privilege_escalation: context.allow_privilege_escalation,
        read_only_root_filesystem: context.read_only_root_filesystem,
        run_as_non_root: context.run_as_non_root.or(pod.run_as_non_root),
        capabilities_add: capabilities.add.unwrap_or_default(),
        mounts: mounts(parts.mounts),
        security,
        resources: Resources {
            cpu_request: has(requests, "cpu"),
            memory_request: has(requests, "memory"),
            cpu_limit: has(limits, "cpu"),
            memory_limit: has(limits, "memory"),
        },
        probes: parts.probes,
        image_pull_policy: PullPolicy::named(parts.image_pull_policy.as_deref()),
        host_ports: parts
            .ports
            .into_iter()
            .flatten()
            .filter_map(|port| port.host_port.filter(|port| *port != 0).map(i64::from))
            .collect(),
        handler_hosts: parts.handler_hosts,
        secret_env: parts
            .env
            .into_iter()
            .flatten()
            .filter(|variable| variable.value.as_deref().is_some_and(|value| secret_looking(&variable.name, value)))
            .map(|variable| variable.name)
            .collect(),
    }
}

/// A literal environment value that looks like a secret: a non-empty value under a
/// secret's name (`DB_PASSWORD`, `API_TOKEN`, `AWS_SECRET_ACCESS_KEY`), or a value of a
/// credential's shape (a JSON Web Token, a PEM private key, an AWS access key id) under
/// any name. References (`$(VAR)`) and file paths are no secrets.
fn secret_looking(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).collect();
    let reference = value.starts_with('/') || value.starts_with("$(");
    // `PUBLIC_KEY`, `KEY_ID` and `TOKEN_FILE` name no secret.
    let secret_name = ["PASSWORD", "PASSWD", "TOKEN", "SECRET", "KEY", "APIKEY", "CREDENTIALS"]
        .iter()
        .any(|word| words.contains(word))
        && !words.contains(&"PUBLIC")
        && !words.last().is_some_and(|last| ["FILE", "PATH", "DIR", "NAME", "ID", "REF", "URL"].contains(last));
    (secret_name && !value.is_empty() && !reference) || crate::redact::looks_like_credential(value)
}

/// The type of a volume the `restricted` Pod Security level forbids; `None` for the
/// allowed ones (configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim,
/// projected, secret).
fn restricted_volume_type(volume: &core::Volume) -> Option<&'static str> {
    [
        (volume.host_path.is_some(), "hostPath"),
        (volume.nfs.is_some(), "nfs"),
        (volume.iscsi.is_some(), "iscsi"),
        (volume.gce_persistent_disk.is_some(), "gcePersistentDisk"),
        (volume.aws_elastic_block_store.is_some(), "awsElasticBlockStore"),
        (volume.git_repo.is_some(), "gitRepo"),
        (volume.glusterfs.is_some(), "glusterfs"),
        (volume.rbd.is_some(), "rbd"),
        (volume.flex_volume.is_some(), "flexVolume"),
        (volume.cinder.is_some(), "cinder"),
        (volume.cephfs.is_some(), "cephfs"),
        (volume.flocker.is_some(), "flocker"),
        (volume.fc.is_some(), "fc"),
        (volume.azure_file.is_some(), "azureFile"),
        (volume.azure_disk.is_some(), "azureDisk"),
        (volume.vsphere_volume.is_some(), "vsphereVolume"),
        (volume.quobyte.is_some(), "quobyte"),
        (volume.photon_persistent_disk.is_some(), "photonPersistentDisk"),
        (volume.portworx_volume.is_some(), "portworxVolume"),
        (volume.scale_io.is_some(), "scaleIO"),
        (volume.storageos.is_some(), "storageos"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name))
}

fn mounts(mounts: Option<Vec<core::VolumeMount>>) -> Vec<(String, bool, String)> {
    mounts.into_iter().flatten().map(|mount| (mount.name, mount.read_only.unwrap_or(false), mount.mount_path)).collect()
}

fn running_images(status: Option<lean::PodStatus>) -> Vec<RunningImage> {
    let Some(status) = status else { return Vec::new() };
    [status.container_statuses, status.init_container_statuses, status.ephemeral_container_statuses]
        .into_iter()
        .flatten()
        .flatten()
        .filter(|container| !container.image_id.is_empty())
        .map(|container| RunningImage {
            container: container.name,
            image: container.image.into(),
            image_id: container.image_id.into(),
        })
        .collect()
}

fn policy_rules(rules: Option<Vec<rbac::PolicyRule>>) -> Vec<PolicyRule> {
    rules
        .into_iter()
        .flatten()
        .map(|rule| PolicyRule {
            api_groups: rule.api_groups.unwrap_or_default(),
            resources: rule.resources.unwrap_or_default(),
            verbs: rule.verbs,
            non_resource_urls: rule.non_resource_urls.unwrap_or_default(),
            named_only: rule.resource_names.is_some_and(|names| !names.is_empty()),
        })
        .collect()
}

fn project_binding<K: k8s_openapi::Resource>(binding: lean::Binding, location: Option<&Location>) -> Binding {
    let meta = meta::<K>(binding.metadata, location);
    let namespace = meta.namespace.clone();
    let (role_ref, subjects) = (binding.role_ref.unwrap_or_default(), binding.subjects);
    Binding {
        meta,
        role_ref: (role_ref.kind, role_ref.name),
        subjects: subjects
            .into_iter()
            .flatten()
            .map(|subject| RbacSubject {
                // A RoleBinding's ServiceAccount subject without a namespace means its own.
                namespace: subject
                    .namespace
                    .or_else(|| (subject.kind == "ServiceAccount").then(|| namespace.clone()).flatten()),
                kind: subject.kind,
                name: subject.name,
            })
            .collect(),
    }
}

fn project_network_policy(meta: Meta, spec: Option<networking::NetworkPolicySpec>) -> NetworkPolicy {
    let Some(spec) = spec else {
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
    let policy_types = spec.policy_types.unwrap_or_else(|| {
        let mut types = vec!["Ingress".to_owned()];
        if spec.egress.is_some() {
            types.push("Egress".into());
        }
        types
    });
    NetworkPolicy { meta, selects_all_pods, policy_types, ingress_rules, egress_rules }
}

fn project_service(meta: Meta, spec: Option<core::ServiceSpec>) -> Service {
    let spec = spec.unwrap_or_default();
    Service {
        meta,
        service_type: spec.type_.unwrap_or_else(|| "ClusterIP".into()),
        cluster_ip: spec.cluster_ip.filter(|ip| ip != "None").unwrap_or_default(),
        selector: spec.selector.unwrap_or_default().into(),
        ports: spec.ports.into_iter().flatten().map(|port| i64::from(port.port)).collect(),
    }
}

fn project_pdb(meta: Meta, spec: Option<policy::PodDisruptionBudgetSpec>) -> Pdb {
    let spec = spec.unwrap_or_default();
    let int_or_string = |value: Option<IntOrString>| {
        value.map(|value| match value {
            IntOrString::Int(number) => number.to_string(),
            IntOrString::String(text) => text,
        })
    };
    Pdb {
        meta,
        selector: spec.selector.and_then(|selector| selector.try_into().ok()),
        min_available: int_or_string(spec.min_available),
        max_unavailable: int_or_string(spec.max_unavailable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_values_are_told_by_name_or_shape_and_references_are_not() {
        assert!(secret_looking("DB_PASSWORD", "hunter2"));
        assert!(secret_looking("AWS_SECRET_ACCESS_KEY", "abc123"));
        assert!(secret_looking("ANYTHING", "AKIAIOSFODNN7EXAMPLE"), "by shape");
        for (name, value) in [
            ("JWT_PUBLIC_KEY", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
            ("TLS_KEY_FILE", "/etc/tls/tls.key"),
            ("API_TOKEN", "$(TOKEN_FROM_SECRET)"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("DB_PASSWORD", ""),
            ("LOG_LEVEL", "info"),
        ] {
            assert!(!secret_looking(name, value), "{name}={value}");
        }
    }
}
