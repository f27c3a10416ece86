//! Compact, typed projections of Kubernetes objects: what a source collected.
//!
//! Sources (manifests today, the live API later) turn API objects into these small
//! structs and never keep whole objects. Each kind of object is gathered with an
//! [`Availability`] so that "none found" and "could not look" never look alike.

pub mod kubeadm;
pub mod kubelet;
pub mod lean;
mod project;
pub mod removed;

pub use project::{ArgoRollout, DeploymentConfig, KnativeService, Project, ProjectError, project_object};

use std::borrow::Cow;
use std::sync::Arc;

pub use crate::compact_map::Labels;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where an object was read from: a manifest file and the line its document starts on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// Path as given on the command line (relative paths stay relative); `<stdin>` for `-`.
    // One allocation shared by every object of the file (and their facts and findings).
    pub file: Arc<str>,
    /// 1-based line of the object's first key.
    pub line: u32,
}

/// A document that was read but is not judged, and why: never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    /// Where the document starts.
    pub location: Location,
    /// Why it is not judged, e.g. `not a Kubernetes object (no apiVersion or kind)`.
    pub reason: String,
}

/// A part of a manifest that could not be read (malformed YAML, or an object that does
/// not match its kind's schema): left out and reported, and the scan is incomplete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unparsed {
    /// Where the problem is: the line of a YAML error, or where the object starts.
    pub location: Location,
    /// 1-based column of a YAML error; 0 when the whole object is at fault.
    pub column: u32,
    /// What is wrong.
    pub reason: String,
}

/// The same object given more than once (two paths, a symlink, a repeated dump).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Duplicate {
    /// The object, as `Kind/namespace/name` (or its uid).
    pub object: String,
    /// Where it was first read; that copy is the one judged.
    pub first: Location,
    /// Where it was read again; ignored.
    pub again: Location,
}

/// Whether a source could look at a kind of object, and if not, why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Availability {
    /// The source looked; an empty list means there are none.
    #[default]
    Collected,
    /// The source could not look (forbidden, timeout, not part of this source).
    NotCollected {
        /// Why, e.g. `not part of this source: no Node objects in the manifests`.
        reason: String,
    },
    /// Looking makes no sense here, e.g. control-plane pods on a managed control plane.
    NotApplicable {
        /// Why, e.g. `managed control plane: eks`.
        reason: String,
    },
}

impl Availability {
    /// A `NotCollected` with the given reason.
    pub fn not_collected(reason: impl Into<String>) -> Self {
        Self::NotCollected { reason: reason.into() }
    }

    /// True when the source looked.
    pub fn is_collected(&self) -> bool {
        matches!(self, Self::Collected)
    }

    /// The first availability that is not `Collected`, else `Collected`: a view built from
    /// several kinds of objects is only as available as its least available input.
    pub fn combine<'a>(all: impl IntoIterator<Item = &'a Availability>) -> Availability {
        all.into_iter().find(|availability| !availability.is_collected()).cloned().unwrap_or_default()
    }
}

/// Objects of one kind (or group of kinds) together with whether they could be gathered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gathered<T> {
    /// Whether the source looked.
    pub availability: Availability,
    /// What it found.
    pub items: Vec<T>,
}

/// Identity and the few metadata fields the facts need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meta {
    /// `apiVersion` as written, e.g. `apps/v1`.
    pub api_version: Cow<'static, str>,
    /// `kind`, e.g. `Deployment`.
    pub kind: Cow<'static, str>,
    /// Namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid` when the source has one.
    pub uid: Option<String>,
    /// The `metadata.labels` that facts read (`project::labels_read`): all of a Node's,
    /// a Namespace's and an EndpointSlice's, a few of a workload's, none of the others.
    pub labels: Labels,
    /// The controlling owner (`ownerReferences[].controller == true`), as it claims to be:
    /// the facts fold an object into it only when the owner proves it.
    pub controller: Option<OwnerRef>,
    /// True for a mirror pod: the API server's copy of a static pod that a kubelet runs
    /// from a file on its node (annotation `kubernetes.io/config.mirror`).
    pub mirror: bool,
    /// The object's last applied manifest was written against a removed API version
    /// (annotation `kubectl.kubernetes.io/last-applied-configuration`); taken out into
    /// the inventory's removed APIs as the object is filed.
    pub last_applied_removed: Option<Box<removed::LastApplied>>,
    /// Manifest file and line, for sources that have them.
    pub location: Option<Location>,
}

/// An `ownerReferences[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct OwnerRef {
    /// The owner's kind.
    pub kind: String,
    /// The owner's name, in the owned object's namespace.
    pub name: String,
    /// The owner's uid, when given.
    pub uid: Option<String>,
}

impl OwnerRef {
    /// True when the reference's uid is `owner`'s, or either has none (manifests).
    pub fn uid_matches(&self, owner: &Meta) -> bool {
        match (&self.uid, &owner.uid) {
            (Some(claimed), Some(actual)) => claimed == actual,
            _ => true,
        }
    }
}

/// A cluster identity as far as the source knows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterInfo {
    /// A name for the cluster (kubeconfig context, or `manifests`).
    pub name: String,
    /// API server URL, when known.
    pub server: Option<String>,
    /// UID of the `kube-system` namespace: stable identity across renames.
    pub uid: Option<String>,
    /// Kubernetes version (`gitVersion`), when known.
    pub version: Option<String>,
    /// Distribution (`kubeadm`, `eks`, …), when the source can tell.
    pub provider: Option<String>,
    /// The cluster CA (PEM) published in the `kube-root-ca.crt` ConfigMap, when readable.
    pub ca_certificate: Option<String>,
    /// Read from inside the cluster (in-cluster configuration): Service addresses are
    /// the cluster's from here.
    pub in_cluster: bool,
}

/// Everything a source gathered, one [`Gathered`] per kind of object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inventory {
    /// Cluster identity.
    pub cluster: ClusterInfo,
    /// Node objects.
    pub nodes: Gathered<Node>,
    /// Namespace objects.
    pub namespaces: Gathered<Namespace>,
    /// Pods and the controllers that own pod templates.
    pub workloads: Gathered<Workload>,
    /// Pods folded into their proven owner as they were collected (live): only the
    /// images they run are kept.
    pub folded_pods: Vec<FoldedPod>,
    /// ServiceAccount objects.
    pub service_accounts: Gathered<ServiceAccount>,
    /// Roles and ClusterRoles.
    pub roles: Gathered<Role>,
    /// RoleBindings and ClusterRoleBindings.
    pub bindings: Gathered<Binding>,
    /// NetworkPolicy objects.
    pub network_policies: Gathered<NetworkPolicy>,
    /// Service objects.
    pub services: Gathered<Service>,
    /// PodDisruptionBudget objects.
    pub pdbs: Gathered<Pdb>,
    /// Ingress objects.
    pub ingresses: Gathered<Ingress>,
    /// ResourceQuota and LimitRange objects.
    pub namespace_limits: Gathered<NamespaceLimit>,
    /// Documents written against an API version Kubernetes has removed (manifests only:
    /// a live API server serves every object in its current versions).
    pub removed_apis: Gathered<RemovedApi>,
    /// EndpointSlices of the `kubernetes` Service: the API server instances.
    pub apiserver_endpoints: Gathered<EndpointSlice>,
    /// Kubelet configurations (config files, or `/configz` when opted in).
    pub kubelet_configs: Gathered<KubeletConfig>,
    /// kubeadm's ClusterConfiguration (`kube-system/kubeadm-config`, read by name): the
    /// control-plane command lines it declares.
    pub kubeadm_config: Gathered<kubeadm::KubeadmConfig>,
    /// ConfigMaps and their secret-looking entries (live: only with `--read-config-maps`).
    pub config_maps: Gathered<ConfigMap>,
    /// Documents read but not judged (not Kubernetes objects, kinds seaworthy does not read).
    pub skipped: Vec<Skipped>,
    /// Parts of manifests that could not be read (without `--strict`).
    pub unparsed: Vec<Unparsed>,
    /// Objects given more than once; each is judged once.
    pub duplicates: Vec<Duplicate>,
}

/// One API object, projected: what [`project_object`] returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Projected {
    /// A Node.
    Node(Node),
    /// A Namespace.
    Namespace(Namespace),
    /// A Pod or a controller with a pod template.
    Workload(Workload),
    /// A ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// A Role or ClusterRole.
    Role(Role),
    /// A RoleBinding or ClusterRoleBinding.
    Binding(Binding),
    /// A NetworkPolicy.
    NetworkPolicy(NetworkPolicy),
    /// A Service.
    Service(Service),
    /// A PodDisruptionBudget.
    Pdb(Pdb),
    /// An EndpointSlice.
    EndpointSlice(EndpointSlice),
    /// A kubelet configuration.
    KubeletConfig(KubeletConfig),
    /// An Ingress.
    Ingress(Ingress),
    /// A ResourceQuota or LimitRange.
    NamespaceLimit(NamespaceLimit),
    /// kubeadm's ClusterConfiguration.
    KubeadmConfig(kubeadm::KubeadmConfig),
    /// A ConfigMap, as far as secret-looking entries go.
    ConfigMap(ConfigMap),
}

/// The `meta` field of whichever object a [`Projected`] holds.
macro_rules! projected_meta {
    ($object:expr, $($reference:tt)+) => {
        match $object {
            Projected::Node(node) => $($reference)+ node.meta,
            Projected::Namespace(namespace) => $($reference)+ namespace.meta,
            Projected::Workload(workload) => $($reference)+ workload.meta,
            Projected::ServiceAccount(account) => $($reference)+ account.meta,
            Projected::Role(role) => $($reference)+ role.meta,
            Projected::Binding(binding) => $($reference)+ binding.meta,
            Projected::NetworkPolicy(policy) => $($reference)+ policy.meta,
            Projected::Service(service) => $($reference)+ service.meta,
            Projected::Pdb(pdb) => $($reference)+ pdb.meta,
            Projected::EndpointSlice(slice) => $($reference)+ slice.meta,
            Projected::KubeletConfig(config) => $($reference)+ config.meta,
            Projected::Ingress(ingress) => $($reference)+ ingress.meta,
            Projected::NamespaceLimit(limit) => $($reference)+ limit.meta,
            Projected::KubeadmConfig(config) => $($reference)+ config.meta,
            Projected::ConfigMap(map) => $($reference)+ map.meta,
        }
    };
}

impl Projected {
    /// The object's identity.
    pub fn meta(&self) -> &Meta {
        projected_meta!(self, &)
    }

    fn meta_mut(&mut self) -> &mut Meta {
        projected_meta!(self, &mut)
    }
}

impl Meta {
    /// What makes two copies the same object: the uid where there is one, else the
    /// API group, kind, namespace and name. Projections carry the current API version
    /// of their kind, so an object read as `extensions/v1beta1` and as `apps/v1` is one.
    pub fn identity(&self) -> String {
        if let Some(uid) = self.uid.as_deref().filter(|uid| !uid.is_empty()) {
            return format!("uid {uid}");
        }
        let group = self.api_version.rsplit_once('/').map_or("", |(group, _)| group);
        format!("{group}/{}/{}/{}", self.kind, self.namespace.as_deref().unwrap_or_default(), self.name)
    }
}

impl Inventory {
    /// Files a projected object under its kind, and under the removed APIs when its last
    /// applied manifest was written against one.
    pub fn add(&mut self, mut object: Projected) {
        if let Some(applied) = object.meta_mut().last_applied_removed.take() {
            let meta = Meta { api_version: applied.api_version.into(), ..object.meta().clone() };
            let (removed_in, replacement) = (applied.removed_in, applied.replacement);
            self.removed_apis.items.push(RemovedApi { meta, removed_in, replacement, last_applied: true });
        }
        match object {
            Projected::Node(node) => self.nodes.items.push(node),
            Projected::Namespace(namespace) => self.namespaces.items.push(namespace),
            Projected::Workload(workload) => self.workloads.items.push(workload),
            Projected::ServiceAccount(account) => self.service_accounts.items.push(account),
            Projected::Role(role) => self.roles.items.push(role),
            Projected::Binding(binding) => self.bindings.items.push(binding),
            Projected::NetworkPolicy(policy) => self.network_policies.items.push(policy),
            Projected::Service(service) => self.services.items.push(service),
            Projected::Pdb(pdb) => self.pdbs.items.push(pdb),
            Projected::KubeletConfig(config) => self.kubelet_configs.items.push(config),
            Projected::Ingress(ingress) => self.ingresses.items.push(ingress),
            Projected::NamespaceLimit(limit) => self.namespace_limits.items.push(limit),
            Projected::KubeadmConfig(config) => self.kubeadm_config.items.push(config),
            Projected::ConfigMap(map) => self.config_maps.items.push(map),
            // Only the API server's slices matter; other services' are not kept.
            Projected::EndpointSlice(slice) => {
                if slice.is_apiserver() {
                    self.apiserver_endpoints.items.push(slice);
                }
            }
        }
    }

    /// Gives back what the lists reserved while they grew (up to half of each): the
    /// inventory is complete, and facts are built beside it.
    pub fn shrink_to_fit(&mut self) {
        self.nodes.items.shrink_to_fit();
        self.namespaces.items.shrink_to_fit();
        self.workloads.items.shrink_to_fit();
        self.service_accounts.items.shrink_to_fit();
        self.roles.items.shrink_to_fit();
        self.bindings.items.shrink_to_fit();
        self.network_policies.items.shrink_to_fit();
        self.services.items.shrink_to_fit();
        self.pdbs.items.shrink_to_fit();
        self.kubelet_configs.items.shrink_to_fit();
        self.ingresses.items.shrink_to_fit();
        self.namespace_limits.items.shrink_to_fit();
        self.config_maps.items.shrink_to_fit();
        self.apiserver_endpoints.items.shrink_to_fit();
    }
}

/// A Node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// Identity and labels.
    pub meta: Meta,
    /// `spec.taints` as (key, effect).
    pub taints: Vec<(String, String)>,
    /// `status.addresses` of type InternalIP.
    pub internal_ips: Vec<String>,
    /// `spec.providerID`.
    pub provider_id: Option<String>,
    /// `status.nodeInfo.kubeletVersion`.
    pub kubelet_version: Option<String>,
    /// `status.nodeInfo.osImage`; empty when not reported.
    pub os_image: String,
    /// `status.nodeInfo.containerRuntimeVersion`; empty when not reported.
    pub container_runtime_version: String,
}

/// A Namespace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Namespace {
    /// Identity and labels (Pod Security labels live here).
    pub meta: Meta,
}

/// Where a container sits in the pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ContainerKind {
    /// `spec.containers[]`.
    Container,
    /// `spec.initContainers[]`.
    InitContainer,
    /// `spec.ephemeralContainers[]`.
    EphemeralContainer,
}

/// Declares a closed set of values as the Kubernetes API spells them, with `""` for
/// unset and `other` for a value the API does not define (a manifest the API server
/// would refuse): rules compare with the API's own words.
macro_rules! api_words {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            /// Not set: the default applies.
            #[default]
            #[serde(rename = "")]
            Unset,
            $($(#[$variant_meta])* $variant,)+
            /// A value the API does not define.
            #[serde(rename = "other")]
            Other,
        }

        impl $name {
            /// The value named `word` by the API; `None` gives [`Self::Unset`].
            pub fn named(word: Option<&str>) -> Self {
                match word {
                    None => Self::Unset,
                    $(Some(stringify!($variant)) => Self::$variant,)+
                    Some(_) => Self::Other,
                }
            }
        }
    };
}

api_words! {
    /// A seccomp or AppArmor profile type.
    ProfileType {
        /// The container runtime's default profile.
        RuntimeDefault,
        /// A profile loaded on the node.
        Localhost,
        /// No profile.
        Unconfined,
    }
}

impl ProfileType {
    /// The profile an AppArmor annotation's value names (`runtime/default`,
    /// `localhost/<profile>`, `unconfined`).
    pub fn from_app_armor_annotation(value: &str) -> Self {
        match value {
            "runtime/default" | "docker/default" => Self::RuntimeDefault,
            "unconfined" => Self::Unconfined,
            _ if value.starts_with("localhost/") => Self::Localhost,
            _ => Self::Other,
        }
    }
}

api_words! {
    /// `securityContext.procMount`.
    ProcMount {
        /// The runtime's masked `/proc`.
        Default,
        /// Nothing masked.
        Unmasked,
    }
}

api_words! {
    /// `imagePullPolicy`.
    PullPolicy {
        /// Pull on every start.
        Always,
        /// Pull when the node does not have the image.
        IfNotPresent,
        /// Never pull.
        Never,
    }
}

/// A container of a pod template, reduced to what the rules judge.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Regular, init or ephemeral.
    pub kind: ContainerKind,
    /// `image` as written.
    pub image: String,
    /// `command`, as written; kept only in kube-system, where control-plane components
    /// run (empty elsewhere: no fact reads it).
    pub command: Vec<String>,
    /// `args`, kept as `command` is.
    pub args: Vec<String>,
    /// `securityContext.privileged`.
    pub privileged: Option<bool>,
    /// `securityContext.allowPrivilegeEscalation`.
    pub allow_privilege_escalation: Option<bool>,
    /// `securityContext.capabilities.add`.
    pub capabilities_add: Vec<String>,
    /// `securityContext.readOnlyRootFilesystem`.
    pub read_only_root_filesystem: Option<bool>,
    /// `securityContext.runAsNonRoot` (container, else pod level).
    pub run_as_non_root: Option<bool>,
    /// `volumeMounts[]` as (volume name, readOnly, mountPath).
    pub mounts: Vec<(String, bool, String)>,
    /// The Pod Security Standards' settings of the container, pod-level values filled in.
    pub security: PodSecurity,
    /// Requests and limits set.
    pub resources: Resources,
    /// Probes set.
    pub probes: Probes,
    /// `imagePullPolicy`, as written.
    pub image_pull_policy: PullPolicy,
    /// `ports[].hostPort` that are set (and not 0).
    pub host_ports: Vec<i64>,
    /// Names of `env` variables whose literal value looks like a secret (by name or by
    /// shape); the values are never kept.
    pub secret_env: Vec<String>,
    /// `host` of probe and lifecycle handlers (`httpGet.host`, `tcpSocket.host`), where
    /// set: the kubelet connects there, from the node.
    pub handler_hosts: Vec<String>,
}

/// The settings the Pod Security Standards judge that a container may inherit from its
/// pod: each is the container's, else the pod's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSecurity {
    /// `securityContext.capabilities.drop` holds `ALL`.
    pub drops_all_capabilities: bool,
    /// `runAsUser`.
    pub run_as_user: Option<i64>,
    /// `seccompProfile.type`.
    pub seccomp: ProfileType,
    /// `appArmorProfile.type`.
    pub app_armor: ProfileType,
    /// `seLinuxOptions.type`.
    pub se_linux_type: Option<String>,
    /// `seLinuxOptions.user` or `.role` is set.
    pub se_linux_user_or_role: bool,
    /// `procMount` (container only).
    pub proc_mount: ProcMount,
    /// `windowsOptions.hostProcess`.
    pub host_process: bool,
}

/// Which requests and limits a container sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // Four independent facts, each a rule's.
pub struct Resources {
    /// `resources.requests.cpu`.
    pub cpu_request: bool,
    /// `resources.requests.memory`.
    pub memory_request: bool,
    /// `resources.limits.cpu`.
    pub cpu_limit: bool,
    /// `resources.limits.memory`.
    pub memory_limit: bool,
}

/// Which probes a container has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Probes {
    /// `livenessProbe`.
    pub liveness: bool,
    /// `readinessProbe`.
    pub readiness: bool,
    /// `startupProbe`.
    pub startup: bool,
}

/// A `hostPath` volume of a pod template.
#[derive(Clone, Debug, PartialEq)]
pub struct HostPathVolume {
    /// Volume name (what mounts refer to).
    pub name: String,
    /// Path on the node.
    pub path: String,
}

/// The part of a pod spec the facts need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodTemplate {
    /// Pod labels (template labels for controllers), shared with the workload's fact.
    pub labels: Arc<Labels>,
    /// `serviceAccountName`, `default` when unset.
    pub service_account: String,
    /// `hostNetwork`.
    pub host_network: bool,
    /// `hostPID`.
    pub host_pid: bool,
    /// `hostIPC`.
    pub host_ipc: bool,
    /// All containers: regular, init and ephemeral.
    pub containers: Vec<Container>,
    /// `hostPath` volumes.
    pub host_path_volumes: Vec<HostPathVolume>,
    /// `spec.nodeName`, set on static and scheduled pods.
    pub node_name: Option<String>,
    /// `automountServiceAccountToken`, as written.
    pub automount_token: Option<bool>,
    /// Volume types the `restricted` Pod Security level does not allow (`hostPath`,
    /// `nfs`, `iscsi`, …), one entry per volume.
    pub restricted_volume_types: Vec<String>,
    /// `securityContext.sysctls[].name`.
    pub sysctls: Vec<String>,
    /// Pod anti-affinity or topology spread constraints are set.
    pub spread: bool,
}

/// Where kubelets mount a pod's service-account token: the API server adds this mount
/// to every pod made from a template, so it never tells a pod from its template.
const SERVICE_ACCOUNT_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

impl PodTemplate {
    /// True when a pod (or a controller's template) made from `template` runs exactly what
    /// the template says. What the API server and scheduler add — the node, labels such as
    /// `pod-template-hash`, the service-account token mount — is left out; anything else
    /// that differs (a privileged container, another image, a host path) means the object
    /// is not what its owner would have made, and it is judged on its own. Arguments are
    /// compared where they are kept, in kube-system ([`Container::command`]).
    pub fn made_from(&self, template: &PodTemplate) -> bool {
        let without_token = |containers: &[Container]| -> Vec<Container> {
            containers
                .iter()
                .map(|container| Container {
                    mounts: container
                        .mounts
                        .iter()
                        .filter(|(_, _, path)| path != SERVICE_ACCOUNT_MOUNT)
                        .cloned()
                        .collect(),
                    // A LimitRange's defaults are added to pods, never to templates.
                    resources: Resources::default(),
                    ..container.clone()
                })
                .collect()
        };
        self.service_account == template.service_account
            && self.host_network == template.host_network
            && self.host_pid == template.host_pid
            && self.host_ipc == template.host_ipc
            && self.host_path_volumes == template.host_path_volumes
            && self.restricted_volume_types == template.restricted_volume_types
            && self.sysctls == template.sysctls
            && without_token(&self.containers) == without_token(&template.containers)
    }
}

/// A pod folded into its owner as it was collected: what the facts still use of it.
/// There is one per pod of the cluster, so what pods repeat (namespace, owner, images)
/// is one shared copy.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldedPod {
    /// The pod's namespace.
    pub namespace: Option<Arc<str>>,
    /// The pod's name.
    pub name: String,
    /// Its controller, which proved to own it ([`Workload::owned_by`]).
    pub owner: Arc<OwnerRef>,
    /// The images it runs.
    pub running: Vec<RunningImage>,
}

/// Whether objects of `owner_kind` create objects of `kind`. The kinds form no cycle
/// (Pod < ReplicaSet < Deployment, Pod < Job < CronJob), so ownership chains end.
pub fn may_own(owner_kind: &str, kind: &str) -> bool {
    matches!(
        (owner_kind, kind),
        ("ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job", "Pod") | ("Deployment", "ReplicaSet") | ("CronJob", "Job")
    )
}

impl Workload {
    /// True when `owner` proves to be this object's controller: the reference names it
    /// (kind, name, namespace, and uid where both have one), its kind creates objects of
    /// this kind, and this object runs exactly the owner's template. A claim that fails
    /// any of these proves nothing, so a privileged pod cannot hide behind a harmless
    /// Deployment.
    pub fn owned_by(&self, owner: &Workload) -> bool {
        let Some(claim) = &self.meta.controller else { return false };
        may_own(&claim.kind, &self.meta.kind)
            && claim.kind == owner.meta.kind
            && claim.name == owner.meta.name
            && self.meta.namespace == owner.meta.namespace
            && claim.uid_matches(&owner.meta)
            && self.pod.made_from(&owner.pod)
    }
}

/// An image a pod is actually running, from `status.containerStatuses[]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningImage {
    /// Container name.
    pub container: String,
    /// `image` as reported.
    pub image: Arc<str>,
    /// `imageID`: the resolved digest reference.
    pub image_id: Arc<str>,
}

/// A pod or a controller with a pod template (Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, Job, CronJob).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workload {
    /// Identity; `meta.controller` links a pod to its owner.
    pub meta: Meta,
    /// Desired replicas, for kinds that have them (default 1 when unset).
    pub replicas: Option<i64>,
    /// The pod template (or the pod's own spec).
    pub pod: PodTemplate,
    /// Images running, for pods with a status.
    pub running: Vec<RunningImage>,
}

/// A ServiceAccount.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceAccount {
    /// Identity.
    pub meta: Meta,
}

/// One `rules[]` entry of a Role or ClusterRole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyRule {
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `resources`.
    pub resources: Vec<String>,
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `nonResourceURLs`.
    pub non_resource_urls: Vec<String>,
    /// `resourceNames` is set: the rule reaches named objects only.
    pub named_only: bool,
}

/// A Role or ClusterRole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Role {
    /// Identity; `meta.kind` tells Role from ClusterRole.
    pub meta: Meta,
    /// Its rules.
    pub rules: Vec<PolicyRule>,
}

/// A subject of a binding.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct RbacSubject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace, for ServiceAccounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Binding {
    /// Identity; `meta.kind` tells RoleBinding from ClusterRoleBinding.
    pub meta: Meta,
    /// `roleRef` as (kind, name).
    pub role_ref: (String, String),
    /// `subjects`.
    pub subjects: Vec<RbacSubject>,
}

/// A NetworkPolicy, reduced to what decides "default deny".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkPolicy {
    /// Identity.
    pub meta: Meta,
    /// True when `podSelector` is empty: the policy selects every pod of its namespace.
    pub selects_all_pods: bool,
    /// Effective policy types (`Ingress`, `Egress`), defaulted as the API server does.
    pub policy_types: Vec<String>,
    /// Number of `ingress` rules.
    pub ingress_rules: usize,
    /// Number of `egress` rules.
    pub egress_rules: usize,
}

/// A Service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Service {
    /// Identity.
    pub meta: Meta,
    /// `spec.type`, `ClusterIP` when unset.
    pub service_type: String,
    /// `spec.clusterIP`; empty when unset or headless.
    pub cluster_ip: String,
    /// `spec.selector`.
    pub selector: Labels,
    /// `spec.ports[].port`.
    pub ports: Vec<i64>,
}

/// A PodDisruptionBudget.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pdb {
    /// Identity.
    pub meta: Meta,
    /// `spec.selector`, matched as the API server matches it (`kube::core::Selector`);
    /// `None` when absent or invalid (an unknown operator): then it selects no pod, as a
    /// null selector does in `policy/v1`.
    pub selector: Option<kube::core::Selector>,
    /// `spec.minAvailable` as written.
    pub min_available: Option<String>,
    /// `spec.maxUnavailable` as written.
    pub max_unavailable: Option<String>,
}

/// A document written against a removed API version.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemovedApi {
    /// The object, with the API version as written.
    pub meta: Meta,
    /// The minor that removed it.
    pub removed_in: u32,
    /// What replaces it.
    pub replacement: &'static str,
    /// Read from the object's last applied configuration, not from its document.
    pub last_applied: bool,
}

/// An Ingress, reduced to its hosts and TLS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ingress {
    /// Identity.
    pub meta: Meta,
    /// `spec.rules[].host` (empty for a rule without host: every host).
    pub hosts: Vec<String>,
    /// `spec.tls[].hosts`.
    pub tls_hosts: Vec<String>,
    /// `spec.tls` has an entry.
    pub has_tls: bool,
    /// The Services it routes to (`defaultBackend` and every path's backend), in its
    /// own namespace.
    pub backends: Vec<String>,
}

/// A ResourceQuota or LimitRange (`meta.kind` tells which): what a namespace's limits
/// are is not judged, only that it has them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamespaceLimit {
    /// Identity.
    pub meta: Meta,
}

/// A ConfigMap, reduced to the names of its entries that look like secrets: the values
/// are read to classify them and never kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigMap {
    /// Identity.
    pub meta: Meta,
    /// `key` for a whole entry (`DB_PASSWORD`), `key: setting` for a setting inside a
    /// file-like entry (`application.properties: db.password`).
    pub secret_entries: Vec<String>,
}

/// An EndpointSlice, reduced to the addresses that serve.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndpointSlice {
    /// Identity.
    pub meta: Meta,
    /// The Service it belongs to (`kubernetes.io/service-name`).
    pub service: String,
    /// Addresses of endpoints that are not known to be unready.
    pub addresses: Vec<String>,
    /// Ports.
    pub ports: Vec<i64>,
}

impl EndpointSlice {
    /// True for the `kubernetes` Service in `default`: the API server instances.
    pub fn is_apiserver(&self) -> bool {
        self.service == "kubernetes" && self.meta.namespace.as_deref() == Some("default")
    }
}

/// A kubelet's configuration, as written (`None`: not set, the default applies).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubeletConfig {
    /// Identity: the Node (from `/configz`) or the config file's document.
    pub meta: Meta,
    /// The node, when read from it.
    pub node: Option<String>,
    /// `authentication.anonymous.enabled`.
    pub anonymous_auth: Option<bool>,
    /// `authentication.webhook.enabled`.
    pub webhook_authentication: Option<bool>,
    /// `authorization.mode`.
    pub authorization_mode: Option<String>,
    /// `readOnlyPort`.
    pub read_only_port: Option<i64>,
    /// `rotateCertificates`.
    pub rotate_certificates: Option<bool>,
    /// `serverTLSBootstrap`.
    pub server_tls_bootstrap: Option<bool>,
    /// `tlsCertFile`.
    pub tls_cert_file: Option<String>,
    /// `tlsMinVersion`.
    pub tls_min_version: Option<String>,
    /// `tlsCipherSuites`.
    pub tls_cipher_suites: Option<Vec<String>>,
    /// `protectKernelDefaults`.
    pub protect_kernel_defaults: Option<bool>,
}
