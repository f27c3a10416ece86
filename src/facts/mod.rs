//! The facts document: everything rules may judge, as named collections.
//!
//! Rust computes facts (parsing flags and image references, resolving RBAC, matching
//! disruption budgets) so that rule expressions stay one line. Every collection says
//! whether it was collected; a rule over an uncollected one is never a pass.
//! `docs/facts.md` is generated from these types.

mod build;
mod docs;
pub mod flags;
pub mod image;
mod kubelet_flags;
mod lifecycle;
mod pss;
pub mod rbac;
mod versions;
pub mod wire;

pub use build::{build, build_probed, control_plane_components, is_control_plane_node};
pub use docs::markdown;

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::inventory::{Availability, ContainerKind, Location, RbacSubject};

/// Version of the facts document layout; snapshots of another version are refused.
/// 3: closed sets are enums, `components[].firstOnNode` and `image.invalid` are new.
/// 4: the facts issue 13's rules judge (Pod Security, reliability, RBAC subjects,
/// versions and node software, removed APIs, Ingresses, namespace limits).
pub const FACTS_SCHEMA_VERSION: u32 = 4;

/// The facts document (also the snapshot file format).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// Layout version: [`FACTS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Cluster identity; always present.
    pub cluster: ClusterFacts,
    /// One item per Node.
    pub nodes: Collection<NodeFact>,
    /// One item summarising the control-plane nodes (built from `nodes`).
    pub control_plane: Collection<ControlPlaneFact>,
    /// Control-plane components (kube-apiserver, etcd, kube-controller-manager,
    /// kube-scheduler) with their parsed command-line flags: only pods proven to be
    /// members — kube-system mirror pods (mirror annotation and a Node owner), or
    /// kube-system pods labelled `tier: control-plane` on a control-plane node (on the
    /// label alone when the source has no Node objects). Look-alikes elsewhere never count.
    pub components: Collection<ComponentFact>,
    /// Workloads: owning controllers (Deployment, StatefulSet, DaemonSet, ReplicaSet,
    /// Job, CronJob), bare Pods, and objects of any other kind with a pod template in
    /// `spec.template` or `spec.jobTemplate.spec.template` (Argo Rollouts, OpenShift
    /// DeploymentConfigs, Knative Services; in manifests and snapshots). An object is folded into its owner only when the
    /// owner is in the input, of a kind that creates it, with the uid the reference names,
    /// and the object runs exactly the owner's template; otherwise it is judged itself.
    pub workloads: Collection<WorkloadFact>,
    /// Every container (regular, init, ephemeral) of every workload.
    pub containers: Collection<ContainerFact>,
    /// One item per image reference in use, with the digests seen running.
    pub images: Collection<ImageFact>,
    /// Service accounts with their effective RBAC grants.
    pub service_accounts: Collection<ServiceAccountFact>,
    /// RoleBindings and ClusterRoleBindings.
    pub bindings: Collection<BindingFact>,
    /// Every user, group and service account a binding names (bootstrap bindings of
    /// the API server and kubeadm aside), with what its bindings grant.
    pub rbac_subjects: Collection<RbacSubjectFact>,
    /// Namespaces with Pod Security labels and default-deny NetworkPolicies.
    pub namespaces: Collection<NamespaceFact>,
    /// Services.
    pub services: Collection<ServiceFact>,
    /// Ingresses, with the hosts they serve without TLS.
    pub ingresses: Collection<IngressFact>,
    /// Documents written against an API version Kubernetes has removed (manifests and
    /// their snapshots; a live API server converts every object to a served version).
    pub removed_apis: Collection<RemovedApiFact>,
    /// ConfigMaps and the names of their secret-looking entries (live: only with
    /// `--read-config-maps`).
    pub config_maps: Collection<ConfigMapFact>,
    /// PodDisruptionBudgets.
    pub pdbs: Collection<PdbFact>,
    /// Addresses serving the `kubernetes` Service: the API server instances, from its
    /// EndpointSlices.
    pub apiserver_endpoints: Collection<ApiserverEndpointFact>,
    /// Kubelet configurations: KubeletConfiguration files in the manifests, or each
    /// node's `/configz` when `--read-kubelet-config` is given.
    pub kubelet_configs: Collection<KubeletConfigFact>,
    /// Probe evidence: each API server endpoint, asked without credentials.
    pub apiservers: Collection<wire::ApiserverProbeFact>,
    /// Probe evidence: each etcd endpoint, asked without a client certificate.
    pub etcd: Collection<wire::EtcdProbeFact>,
    /// Probe evidence: each node's kubelet ports.
    pub kubelets: Collection<wire::KubeletProbeFact>,
    /// Probe evidence: each controller manager and scheduler secure port.
    pub component_endpoints: Collection<wire::ComponentProbeFact>,
    /// Probe evidence: Tiller and Dashboard Services.
    pub addon_endpoints: Collection<wire::AddonProbeFact>,
    /// Probe evidence: TLS versions and cipher suites each component endpoint accepts.
    pub tls_endpoints: Collection<wire::TlsProbeFact>,
    /// Probe evidence: the certificate each TLS endpoint presented.
    pub certificates: Collection<wire::CertificateProbeFact>,
}

impl Facts {
    /// How many objects and endpoints the facts hold, over every collection drawn from
    /// the input (`controlPlane` is a summary of `nodes`, not an object of its own).
    /// Zero means nothing was read that a rule could judge.
    pub fn object_count(&self) -> usize {
        [
            self.nodes.items.len(),
            self.components.items.len(),
            self.workloads.items.len(),
            self.service_accounts.items.len(),
            self.bindings.items.len(),
            self.rbac_subjects.items.len(),
            self.namespaces.items.len(),
            self.services.items.len(),
            self.ingresses.items.len(),
            self.removed_apis.items.len(),
            self.config_maps.items.len(),
            self.pdbs.items.len(),
            self.apiserver_endpoints.items.len(),
            self.kubelet_configs.items.len(),
            self.apiservers.items.len(),
            self.etcd.items.len(),
            self.kubelets.items.len(),
            self.component_endpoints.items.len(),
            self.addon_endpoints.items.len(),
            self.tls_endpoints.items.len(),
            self.certificates.items.len(),
        ]
        .iter()
        .sum()
    }

    /// Hands every collection to `visitor`, under its name in the facts layout.
    pub fn visit_collections<'a, V: CollectionVisitor<'a>>(&'a self, visitor: &mut V) {
        visitor.visit("nodes", &self.nodes);
        visitor.visit("controlPlane", &self.control_plane);
        visitor.visit("components", &self.components);
        visitor.visit("workloads", &self.workloads);
        visitor.visit("containers", &self.containers);
        visitor.visit("images", &self.images);
        visitor.visit("serviceAccounts", &self.service_accounts);
        visitor.visit("bindings", &self.bindings);
        visitor.visit("rbacSubjects", &self.rbac_subjects);
        visitor.visit("namespaces", &self.namespaces);
        visitor.visit("services", &self.services);
        visitor.visit("ingresses", &self.ingresses);
        visitor.visit("removedApis", &self.removed_apis);
        visitor.visit("configMaps", &self.config_maps);
        visitor.visit("pdbs", &self.pdbs);
        visitor.visit("apiserverEndpoints", &self.apiserver_endpoints);
        visitor.visit("kubeletConfigs", &self.kubelet_configs);
        visitor.visit("apiservers", &self.apiservers);
        visitor.visit("etcd", &self.etcd);
        visitor.visit("kubelets", &self.kubelets);
        visitor.visit("componentEndpoints", &self.component_endpoints);
        visitor.visit("addonEndpoints", &self.addon_endpoints);
        visitor.visit("tlsEndpoints", &self.tls_endpoints);
        visitor.visit("certificates", &self.certificates);
    }
}

/// Receives the collections of a facts document one by one ([`Facts::visit_collections`]).
pub trait CollectionVisitor<'a> {
    /// One collection, by its name in the facts layout.
    fn visit<T: Item>(&mut self, name: &'static str, collection: &'a Collection<T>);
}

/// An item of a collection: what rules read (its serialized form), what a finding
/// names and where it was read.
pub trait Item: Serialize + Sync {
    /// What the item is about.
    fn subject(&self) -> &Subject;
    /// Manifest file and line, when read from manifests.
    fn location(&self) -> Option<&Location>;
}

macro_rules! item {
    ($($fact:ty),* $(,)?) => {$(
        impl Item for $fact {
            fn subject(&self) -> &Subject {
                &self.subject
            }
            fn location(&self) -> Option<&Location> {
                self.location.as_ref()
            }
        }
    )*};
    (without location: $($fact:ty),* $(,)?) => {$(
        impl Item for $fact {
            fn subject(&self) -> &Subject {
                &self.subject
            }
            fn location(&self) -> Option<&Location> {
                None
            }
        }
    )*};
}

item!(
    NodeFact,
    IngressFact,
    RemovedApiFact,
    ConfigMapFact,
    RbacSubjectFact,
    ComponentFact,
    WorkloadFact,
    ContainerFact,
    ImageFact,
    ServiceAccountFact,
    BindingFact,
    NamespaceFact,
    ServiceFact,
    PdbFact,
    ApiserverEndpointFact,
    KubeletConfigFact,
);
item!(
    without location: ControlPlaneFact,
    wire::ApiserverProbeFact,
    wire::EtcdProbeFact,
    wire::KubeletProbeFact,
    wire::ComponentProbeFact,
    wire::AddonProbeFact,
    wire::TlsProbeFact,
    wire::CertificateProbeFact,
);

/// A control-plane component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    /// The API server.
    KubeApiserver,
    /// etcd.
    Etcd,
    /// The controller manager.
    KubeControllerManager,
    /// The scheduler.
    KubeScheduler,
}

/// Where a component's command line was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentOrigin {
    /// Its pod (a static pod's mirror, or a manifest).
    Pod,
    /// `kube-system/kubeadm-config`: kubeadm's defaults and the ClusterConfiguration's
    /// `extraArgs`, as kubeadm writes the static pod from them.
    KubeadmConfig,
}

impl Component {
    /// Every component.
    pub const ALL: [Component; 4] = [Self::KubeApiserver, Self::Etcd, Self::KubeControllerManager, Self::KubeScheduler];

    /// Its binary's name, as in `command` and the `component` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KubeApiserver => "kube-apiserver",
            Self::Etcd => "etcd",
            Self::KubeControllerManager => "kube-controller-manager",
            Self::KubeScheduler => "kube-scheduler",
        }
    }

    /// The component whose binary or label is `name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|component| component.as_str() == name)
    }
}

/// The Kubernetes distribution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// kubeadm.
    Kubeadm,
    /// Amazon EKS (managed control plane).
    Eks,
    /// Google GKE (managed control plane).
    Gke,
    /// Azure AKS (managed control plane).
    Aks,
    /// k3s.
    K3s,
    /// RKE2.
    Rke2,
    /// OpenShift.
    Openshift,
    /// Not recognised.
    #[default]
    Unknown,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 8] =
        [Self::Kubeadm, Self::Eks, Self::Gke, Self::Aks, Self::K3s, Self::Rke2, Self::Openshift, Self::Unknown];

    /// The lower-case name, as in `--provider` and the facts.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kubeadm => "kubeadm",
            Self::Eks => "eks",
            Self::Gke => "gke",
            Self::Aks => "aks",
            Self::K3s => "k3s",
            Self::Rke2 => "rke2",
            Self::Openshift => "openshift",
            Self::Unknown => "unknown",
        }
    }

    /// The provider named `name`; `unknown` for any other name.
    pub fn named(name: &str) -> Self {
        Self::ALL.into_iter().find(|provider| provider.as_str() == name).unwrap_or_default()
    }

    /// True when the vendor runs and hides the control plane.
    pub fn is_managed(self) -> bool {
        matches!(self, Self::Eks | Self::Gke | Self::Aks)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A Pod Security Standards level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// No restriction: what an unlabelled namespace enforces.
    #[default]
    Privileged,
    /// Known privilege escalations prevented.
    Baseline,
    /// Current hardening practice.
    Restricted,
}

impl PodSecurityLevel {
    /// The level a `pod-security.kubernetes.io/enforce` label names; an unset or unknown
    /// value enforces nothing.
    pub fn named(label: &str) -> Self {
        match label {
            "baseline" => Self::Baseline,
            "restricted" => Self::Restricted,
            _ => Self::Privileged,
        }
    }
}

/// A well-known add-on with a history of cluster-admin grants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Addon {
    /// None of them.
    #[default]
    #[serde(rename = "")]
    None,
    /// The Kubernetes Dashboard.
    #[serde(rename = "dashboard")]
    Dashboard,
    /// Helm v2's Tiller.
    #[serde(rename = "tiller")]
    Tiller,
}

/// A collection: its items and whether they were collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Collection<T> {
    /// `collected`, `notCollected` or `notApplicable`, with a `reason` for the latter two.
    #[serde(flatten)]
    pub availability: Availability,
    /// The items; empty when not collected.
    pub items: Vec<T>,
}

impl<T> Collection<T> {
    /// A collection with the given availability; items are dropped unless collected.
    pub fn new(availability: Availability, items: Vec<T>) -> Self {
        let items = if availability.is_collected() { items } else { Vec::new() };
        Self { availability, items }
    }
}

/// Where the facts came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    /// Manifest files or stdin.
    Manifests,
    /// A live cluster through the Kubernetes API.
    Live,
}

/// Cluster identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFacts {
    /// Cluster name (kubeconfig context, or `manifests`).
    pub name: String,
    /// API server URL, when known.
    pub server: Option<String>,
    /// UID of the `kube-system` namespace, when known.
    pub uid: Option<String>,
    /// Kubernetes version, when known (from the kube-apiserver image tag for manifests).
    pub version: Option<String>,
    /// The end-of-life date of its minor (`YYYY-MM-DD`) from the upstream release
    /// calendar; empty when the version is unknown or newer than the calendar.
    pub end_of_life: String,
    /// When the release calendar seaworthy carries was last checked.
    pub support_calendar: String,
    /// `kubeadm`, `eks`, `gke`, `aks`, `k3s`, `rke2`, `openshift` or `unknown`.
    pub provider: Provider,
    /// Where the facts were read from.
    pub source: SourceKind,
    /// True when control-plane component pods were found.
    pub control_plane_visible: bool,
    /// The cluster CA (PEM) from the `kube-root-ca.crt` ConfigMap, when readable: what
    /// certificates seen on the wire are compared with.
    pub ca_certificate: Option<String>,
}

/// What a finding is about: the object a person would go and change.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// API version, for API objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<Cow<'static, str>>,
    /// Kind: an API kind, or `Cluster` / `Image` for facts that are not one object.
    // `Cow`: the kinds and versions seaworthy knows are shared text, not a string in
    // each of 300,000 subjects.
    pub kind: Cow<'static, str>,
    /// Namespace of namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Container name, for container facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

impl Subject {
    /// A stable, human-readable key: `Kind/namespace/name[/container]`.
    pub fn key(&self) -> String {
        let mut key = self.kind.to_string();
        for part in [&self.namespace, &Some(self.name.clone()), &self.container].into_iter().flatten() {
            key.push('/');
            key.push_str(part);
        }
        key
    }
}

/// A node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeFact {
    /// The Node.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// Node name.
    pub name: String,
    /// Labelled `node-role.kubernetes.io/control-plane` (or the older `master`).
    pub control_plane: bool,
    /// `topology.kubernetes.io/zone` (or the deprecated beta label); empty when unset.
    pub zone: String,
    /// Taints as `key:effect`.
    pub taints: Vec<String>,
    /// Has a taint with effect `NoSchedule` or `NoExecute`: pods without a matching
    /// toleration cannot land here.
    pub no_schedule: bool,
    /// InternalIP addresses.
    #[serde(rename = "internalIPs")]
    pub internal_ips: Vec<String>,
    /// Kubelet version, when reported.
    pub kubelet_version: Option<String>,
    /// Both the kubelet's and the API server's versions are known.
    pub kubelet_skew_known: bool,
    /// How many minors the kubelet is behind the API server (negative: ahead).
    pub kubelet_minors_behind: i64,
    /// How many minors behind the skew policy allows for this API server (3 since 1.28).
    pub kubelet_skew_allowed: i64,
    /// `status.nodeInfo.osImage`; empty when not reported.
    pub os_image: String,
    /// The release the end-of-life table matched the OS image as ("Ubuntu 20.04");
    /// empty when the table does not know it.
    pub os_release: String,
    /// The OS release's last day of free security updates, `YYYY-MM-DD`; empty when
    /// the table does not know it.
    pub os_end_of_life: String,
    /// `status.nodeInfo.containerRuntimeVersion` ("containerd://1.7.13"); empty when
    /// not reported.
    pub container_runtime: String,
    /// The runtime release the end-of-life table matched ("containerd 1.7"); empty when
    /// the table does not know it.
    pub runtime_release: String,
    /// The runtime release's end of life, `YYYY-MM-DD`; empty when unknown.
    pub runtime_end_of_life: String,
}

/// The control plane as the nodes show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneFact {
    /// The cluster.
    pub subject: Subject,
    /// Number of control-plane nodes.
    pub nodes: i64,
    /// Their names.
    pub node_names: Vec<String>,
    /// Distinct zones of control-plane nodes (non-empty zone labels only).
    pub zones: Vec<String>,
    /// True when every control-plane node carries a zone label.
    pub zone_labelled: bool,
}

/// A control-plane component pod with its parsed flags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentFact {
    /// The Pod.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// `kube-apiserver`, `etcd`, `kube-controller-manager` or `kube-scheduler`.
    pub component: Component,
    /// Where its command line was read: a running pod, or kubeadm's ClusterConfiguration
    /// when no pod of the component is visible (then it is no instance: `node` is empty
    /// and `firstOnNode` false, and nothing counts it).
    pub origin: ComponentOrigin,
    /// Node the pod runs on, when known.
    pub node: String,
    /// False for a second instance of the same component on the same node: counting the
    /// instances with `firstOnNode` counts nodes, which is what availability rests on.
    /// Instances whose node is unknown count each.
    pub first_on_node: bool,
    /// Container image.
    pub image: String,
    /// Flags without leading dashes, from `command` and `args`: the last value given
    /// (`--flag=value` and `--flag value`; a bare `--flag` is `true`). Values of
    /// secret-looking flags are redacted.
    pub flags: BTreeMap<String, String>,
    /// Every value of every occurrence of each flag, split on commas: for list flags
    /// such as `authorization-mode` or `enable-admission-plugins`.
    pub flag_lists: BTreeMap<String, Vec<String>>,
    /// The weak cipher suites (CBC with SHA-1, 3DES, RC4, DES, export, NULL) its
    /// `--tls-cipher-suites` (etcd: `--cipher-suites`) allows, classified from the IANA
    /// registry by name.
    pub weak_cipher_suites: Vec<String>,
}

/// A `hostPath` volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostPathFact {
    /// Volume name.
    pub name: String,
    /// Path on the node.
    pub path: String,
    /// True when every mount of it is read-only (an unmounted volume counts as read-only).
    pub read_only: bool,
}

/// A workload: an owning controller or a bare Pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadFact {
    /// The controller or Pod.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// Desired replicas; null for DaemonSets, Jobs, CronJobs and Pods.
    pub replicas: Option<i64>,
    /// Service account name.
    pub service_account: String,
    /// Pod template labels.
    pub labels: std::sync::Arc<crate::compact_map::Labels>,
    /// `hostNetwork`.
    pub host_network: bool,
    /// `hostPID`.
    #[serde(rename = "hostPID")]
    pub host_pid: bool,
    /// `hostIPC`.
    #[serde(rename = "hostIPC")]
    pub host_ipc: bool,
    /// `hostPath` volumes.
    pub host_paths: Vec<HostPathFact>,
    /// A control-plane component pod.
    pub control_plane: bool,
    /// Runs in `kube-system`, where node agents (kube-proxy, CNI) legitimately need
    /// host access; workload-hardening rules leave these to dedicated rules.
    pub system: bool,
    /// The cluster DNS (CoreDNS or kube-dns in `kube-system`).
    pub cluster_dns: bool,
    /// `dashboard` (Kubernetes Dashboard), `tiller` (Helm v2) or empty.
    pub addon: Addon,
    /// Tiller's `--listen` address (`:44134` unless set); empty for other workloads.
    pub addon_listen: String,
    /// The Dashboard's flags that open it to anyone (`--enable-skip-login=true`,
    /// `--enable-insecure-login=true`, `--disable-settings-authorizer=true`).
    pub addon_unsafe_flags: Vec<String>,
    /// Effective `automountServiceAccountToken` (true unless set to false).
    pub automount_service_account_token: bool,
    /// Its service account is bound to some role: the workload may call the API.
    pub service_account_granted: bool,
    /// Volume types the `restricted` Pod Security level forbids, one per volume.
    pub restricted_volume_types: Vec<String>,
    /// `securityContext.sysctls[].name`.
    pub sysctls: Vec<String>,
    /// Sysctls the `baseline` Pod Security level of the cluster's version does not
    /// allow (with no known version, those no version allows).
    pub unsafe_sysctls: Vec<String>,
    /// The Pod Security level its namespace enforces (`pod-security.kubernetes.io/enforce`):
    /// `privileged` when unset.
    pub pod_security_enforce: PodSecurityLevel,
    /// Pod anti-affinity or topology spread constraints spread its pods.
    pub spread: bool,
    /// Host paths that are a container runtime's socket or a directory holding one
    /// (`/var/run/docker.sock`, `/run/containerd`), mounted read-only or not.
    pub runtime_sockets: Vec<String>,
    /// Names of the Services in its namespace that select its pods.
    pub services: Vec<String>,
    /// Some PodDisruptionBudget selecting its pods allows at least one voluntary
    /// disruption (`maxUnavailable` above zero, or `minAvailable` below its replicas).
    pub budget_allows_disruption: bool,
    /// Names of PodDisruptionBudgets selecting this workload's pods.
    pub disruption_budgets: Vec<String>,
}

/// A parsed image reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    /// As written in the pod spec.
    pub reference: String,
    /// Registry host (with port), `docker.io` when none is written.
    pub registry: String,
    /// Repository path, with `library/` added for official Docker Hub images.
    pub repository: String,
    /// `registry/repository`.
    pub name: String,
    /// Tag; empty when none is written.
    pub tag: String,
    /// Digest (`sha256:…`); empty when none is written.
    pub digest: String,
    /// Pinned by digest: the image cannot change under the same reference.
    pub digest_pinned: bool,
    /// Tag `latest`, or neither tag nor digest (which means `latest`); false when a
    /// digest pins the image.
    pub latest: bool,
    /// Why the reference is not a valid image reference (`invalid reference format`,
    /// `invalid checksum digest length`, …); empty when it is valid.
    #[serde(default)]
    pub invalid: String,
}

/// A container of a workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerFact {
    /// The owning workload, with the container name.
    pub subject: Subject,
    /// Manifest location of the workload, when read from manifests.
    pub location: Option<Location>,
    /// Container name.
    pub name: String,
    /// `container`, `initContainer` or `ephemeralContainer`.
    #[serde(rename = "type")]
    pub container_type: ContainerKind,
    /// The image reference.
    pub image: ImageRef,
    /// `securityContext.privileged`.
    pub privileged: bool,
    /// Effective privilege escalation: true unless `allowPrivilegeEscalation: false`
    /// is set, and always true for privileged containers or those adding `SYS_ADMIN`.
    pub allow_privilege_escalation: bool,
    /// Capabilities added.
    pub capabilities_add: Vec<String>,
    /// `securityContext.readOnlyRootFilesystem`.
    pub read_only_root_filesystem: bool,
    /// `runAsNonRoot` (container, else pod level).
    pub run_as_non_root: bool,
    /// `capabilities.drop` holds `ALL`.
    pub drops_all_capabilities: bool,
    /// `runAsUser` (container, else pod level); null when unset (the image decides).
    pub run_as_user: Option<i64>,
    /// `seccompProfile.type` (container, else pod level): `RuntimeDefault`,
    /// `Localhost`, `Unconfined`, empty when unset, `other` for a value the API does
    /// not define.
    pub seccomp_profile: crate::inventory::ProfileType,
    /// `appArmorProfile.type` (container, else pod level), as `seccompProfile`.
    pub app_armor_profile: crate::inventory::ProfileType,
    /// `seLinuxOptions.type` (container, else pod level), or empty when unset.
    pub se_linux_type: String,
    /// `seLinuxOptions.user` or `.role` is set, at container or pod level.
    pub se_linux_user_or_role: bool,
    /// `procMount`: `Default`, `Unmasked`, empty when unset, or `other`.
    pub proc_mount: crate::inventory::ProcMount,
    /// `windowsOptions.hostProcess` (container, else pod level).
    pub host_process: bool,
    /// `ports[].hostPort` set.
    pub host_ports: Vec<i64>,
    /// `resources.requests.cpu` is set.
    pub cpu_request: bool,
    /// `resources.requests.memory` is set.
    pub memory_request: bool,
    /// `resources.limits.cpu` is set.
    pub cpu_limit: bool,
    /// `resources.limits.memory` is set.
    pub memory_limit: bool,
    /// `livenessProbe` is set.
    pub liveness_probe: bool,
    /// `readinessProbe` is set.
    pub readiness_probe: bool,
    /// `startupProbe` is set.
    pub startup_probe: bool,
    /// `imagePullPolicy`: `Always`, `IfNotPresent`, `Never`, empty when unset
    /// (Kubernetes then defaults to `Always` for `:latest` or untagged images,
    /// `IfNotPresent` otherwise), or `other`.
    pub image_pull_policy: crate::inventory::PullPolicy,
    /// Names of `env` variables whose literal value looks like a secret (by name or by
    /// shape). Values are never read into facts.
    pub secret_env: Vec<String>,
    /// The Pod Security level its namespace enforces: `privileged` when unset.
    pub pod_security_enforce: PodSecurityLevel,
    /// Hosts set in its probe and lifecycle handlers, when the `baseline` level of the
    /// cluster's version forbids them (1.34 and later, or an unknown version).
    pub forbidden_handler_hosts: Vec<String>,
    /// The workload is a control-plane component.
    pub control_plane: bool,
    /// The workload runs in `kube-system`.
    pub system: bool,
}

/// An image in use, by normalised reference (`registry/repository:tag`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageFact {
    /// Kind `Image`, named by the normalised reference.
    pub subject: Subject,
    /// Manifest location of the first workload using it, when read from manifests:
    /// where a person would go to pin it.
    pub location: Option<Location>,
    /// `registry/repository:tag` (`latest` when untagged), or `registry/repository@digest`
    /// for digest-only references; spellings of one image share one item.
    pub reference: String,
    /// Workloads using it, as `Kind/namespace/name`.
    pub workloads: Vec<String>,
    /// Distinct digests that pods report running for it (`status.containerStatuses[].imageID`).
    pub running_digests: Vec<String>,
    /// Pods reporting a digest, as `namespace/pod → digest`.
    pub running_pods: Vec<String>,
}

/// A service account with its effective grants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountFact {
    /// The ServiceAccount.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// A ServiceAccount object was read (it may only be referenced). Live scans do not
    /// list ServiceAccounts (no rule needs them), so there it is always false.
    pub exists: bool,
    /// Workloads running as it, as `Kind/namespace/name`.
    pub workloads: Vec<String>,
    /// Cluster-wide admin: bound through a ClusterRoleBinding (directly or through one
    /// of its groups) to `cluster-admin` or to a role granting every verb on every
    /// resource.
    pub cluster_admin: bool,
    /// Some bound role uses `*` in verbs or resources.
    pub wildcard: bool,
    /// The grants, as `BindingKind/name → RoleKind/name`.
    pub grants: Vec<String>,
    /// `dashboard`, `tiller` or empty: the add-on it belongs to.
    pub addon: Addon,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingFact {
    /// The binding.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// Role kind (`Role` or `ClusterRole`).
    pub role_kind: String,
    /// Role name.
    pub role_name: String,
    /// The binding's subjects.
    pub subjects: Vec<RbacSubject>,
    /// Binds the user `system:anonymous` or the group `system:unauthenticated`.
    pub anonymous: bool,
    /// Binds the group `system:authenticated` (every authenticated identity).
    pub authenticated: bool,
    /// One of the bindings Kubernetes or kubeadm create by default, with its default role.
    pub default: bool,
    /// The role is `cluster-admin` or grants every verb on every resource.
    pub grants_cluster_admin: bool,
    /// The role uses `*` in verbs or resources.
    pub grants_wildcard: bool,
}

/// A user, group or service account named by RoleBindings or ClusterRoleBindings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RbacSubjectFact {
    /// `User`, `Group` or `ServiceAccount`, with its name (and namespace).
    pub subject: Subject,
    /// Where the first binding naming it was read, in manifests.
    pub location: Option<Location>,
    /// An identity the control plane runs as (`system:` users and groups, kube-system's
    /// service accounts).
    pub system: bool,
    /// A service account some workload runs as (RBAC-003 and RBAC-004 judge those).
    pub used_by_workloads: bool,
    /// Bound cluster-wide to `cluster-admin` or to `*` on `*` in every API group.
    pub cluster_admin: bool,
    /// Some bound role uses `*` in verbs or resources.
    pub wildcard: bool,
    /// The grants, `BindingKind/name → RoleKind/name`, the most powerful first.
    pub grants: Vec<String>,
    /// Each privilege-escalation grant, cluster-wide or in kube-system.
    pub escalations: Vec<EscalationFact>,
}

/// One privilege-escalation grant of a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EscalationFact {
    /// What it allows: `read-secrets`, `create-workloads`, `exec-into-pods`,
    /// `node-proxy`, `escalate-or-bind`, `impersonate`, `create-tokens`,
    /// `approve-certificates`, `write-webhooks`, `write-persistent-volumes`, `patch-nodes`.
    pub kind: rbac::Escalation,
    /// `cluster-wide` (a ClusterRoleBinding) or `kube-system` (a RoleBinding there).
    pub scope: String,
    /// The grant, `BindingKind/name → RoleKind/name`.
    pub grant: String,
}

/// A document written against a removed API version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemovedApiFact {
    /// The object, with its API version as written.
    pub subject: Subject,
    /// Manifest location.
    pub location: Option<Location>,
    /// The API version as written, e.g. `batch/v1beta1`.
    pub api_version: String,
    /// The Kubernetes release that removed it, e.g. `1.25`.
    pub removed_in: String,
    /// That release's minor, e.g. 25.
    pub removed_in_minor: i64,
    /// What replaces it, e.g. `batch/v1`.
    pub replacement: String,
    /// Removed by the cluster's minor or the next one (with no known version: removed).
    pub removed_by_next_minor: bool,
    /// Where the API version was read.
    pub written_in: ManifestOrigin,
}

/// Where a removed API version was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestOrigin {
    /// The manifest document itself.
    Document,
    /// The object's `kubectl.kubernetes.io/last-applied-configuration`: the manifest
    /// it was last applied from.
    LastApplied,
}

/// A ConfigMap: the names of its entries that look like secrets, never the values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapFact {
    /// The ConfigMap.
    pub subject: Subject,
    /// Manifest location.
    pub location: Option<Location>,
    /// `key` for a whole entry (`DB_PASSWORD`), `key: setting` for a setting inside a
    /// file-like entry (`application.properties: db.password`); empty when none looks
    /// like a secret.
    pub secret_entries: Vec<String>,
}

/// An Ingress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressFact {
    /// The Ingress.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// `spec.rules[].host`; empty for a rule that serves every host.
    pub hosts: Vec<String>,
    /// `spec.tls` has an entry.
    pub tls: bool,
    /// The hosts its rules serve that no `spec.tls` entry covers (`*` for a rule
    /// without host).
    pub hosts_without_tls: Vec<String>,
    /// The Services it routes to, in its namespace (`defaultBackend` and each path's).
    pub backends: Vec<String>,
}

/// Pod Security admission labels of a namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityFact {
    /// `pod-security.kubernetes.io/enforce`; empty when unset.
    pub enforce: String,
    /// `pod-security.kubernetes.io/audit`; empty when unset.
    pub audit: String,
    /// `pod-security.kubernetes.io/warn`; empty when unset.
    pub warn: String,
}

/// A namespace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceFact {
    /// The Namespace.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// Name.
    pub name: String,
    /// `kube-system`, `kube-public` or `kube-node-lease`.
    pub system: bool,
    /// Holds applications: not a system namespace, and not an empty `default`.
    pub application: bool,
    /// Number of workloads in it.
    pub workloads: i64,
    /// Pod Security admission labels.
    pub pod_security: PodSecurityFact,
    /// A ResourceQuota is set in the namespace.
    pub resource_quota: bool,
    /// A LimitRange is set in the namespace.
    pub limit_range: bool,
    /// Number of NetworkPolicies in it.
    pub network_policies: i64,
    /// A policy selects every pod for Ingress and allows nothing.
    pub default_deny_ingress: bool,
    /// A policy selects every pod for Egress and allows nothing.
    pub default_deny_egress: bool,
}

/// A Service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceFact {
    /// The Service.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// `spec.clusterIP`; empty when unset or headless: where probes reach the Service.
    #[serde(rename = "clusterIP")]
    pub cluster_ip: String,
    /// Ports.
    pub ports: Vec<i64>,
    /// Pod selector.
    pub selector: crate::compact_map::Labels,
}

/// A PodDisruptionBudget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PdbFact {
    /// The PodDisruptionBudget.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// `minAvailable` as written.
    pub min_available: Option<String>,
    /// `maxUnavailable` as written.
    pub max_unavailable: Option<String>,
    /// Workloads whose pods it selects, as `Kind/namespace/name`.
    pub workloads: Vec<String>,
}

/// An API server instance behind the `kubernetes` Service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiserverEndpointFact {
    /// The EndpointSlice listing it.
    pub subject: Subject,
    /// Manifest location, when read from manifests.
    pub location: Option<Location>,
    /// The address.
    pub address: String,
    /// The ports served.
    pub ports: Vec<i64>,
}

/// A kubelet's effective configuration. Settings a config file leaves out take the
/// KubeletConfiguration v1beta1 defaults (`/configz` shows every setting).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfigFact {
    /// The Node (from `/configz`) or the KubeletConfiguration document.
    pub subject: Subject,
    /// Manifest location, when read from a file.
    pub location: Option<Location>,
    /// The node, when read from it (or the pod running the kubelet is bound to it);
    /// empty for a config file and a DaemonSet.
    pub node: String,
    /// Where the settings were read: a KubeletConfiguration, or a kubelet's flags.
    pub origin: KubeletConfigOrigin,
    /// `authentication.anonymous.enabled` (default false).
    pub anonymous_auth: bool,
    /// `authentication.webhook.enabled` (default true).
    pub webhook_authentication: bool,
    /// `authorization.mode` (default `Webhook`).
    pub authorization_mode: String,
    /// `readOnlyPort` (default 0: disabled).
    pub read_only_port: i64,
    /// `rotateCertificates`: client certificate rotation (default false).
    pub rotate_certificates: bool,
    /// `serverTLSBootstrap`: serving certificate from the certificates API (default false).
    #[serde(rename = "serverTLSBootstrap")]
    pub server_tls_bootstrap: bool,
    /// `tlsCertFile`; empty when unset (then the kubelet serves a self-signed certificate
    /// unless `serverTLSBootstrap` is on).
    pub tls_cert_file: String,
    /// `tlsMinVersion`; empty when unset (the Go default applies).
    pub tls_min_version: String,
    /// `tlsCipherSuites`; empty when unset.
    pub tls_cipher_suites: Vec<String>,
    /// `protectKernelDefaults` (default false).
    pub protect_kernel_defaults: bool,
    /// Settings this source cannot tell (their fields hold placeholders): a kubelet
    /// started with `--config` and without the flag, whose file is not visible here.
    pub unknown_settings: Vec<String>,
}

/// Where a kubelet's settings were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KubeletConfigOrigin {
    /// A KubeletConfiguration: a config file, kubeadm's ConfigMap, or `/configz`.
    Configuration,
    /// The flags of a kubelet run in a pod (`kubelet --anonymous-auth=…`), with the
    /// kubelet's command-line defaults for those unset when no `--config` is given.
    CommandLine,
}

/// The JSON Schema of the facts document; the engine checks rule field paths against it.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Facts)).expect("a schema is plain JSON")
}
