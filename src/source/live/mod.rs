//! The live source: reads a cluster through the Kubernetes API (kube-rs).
//!
//! Read-only and polite by construction (see [`polite`]): a permission preflight per
//! resource, paginated lists (kube's `Request` and `ListParams`) that restart cleanly
//! when a continue token expires, and each page decoded as an `ObjectList` of lean
//! shapes ([`crate::inventory::lean`]: what no projection reads is skipped unread) and
//! projected on another thread while the next is fetched, so at most two pages are in
//! memory at a time.
//! A resource this identity may not list is marked "not collected (forbidden: …)", so
//! the rules that need it are `not_evaluated`, never passed.

pub mod polite;
pub mod provider;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, ListMeta};
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use self::polite::{Failure, Limits, Polite};
use crate::inventory::{
    ArgoRollout, Availability, ClusterInfo, DeploymentConfig, FoldedPod, Gathered, Inventory, KnativeService, OwnerRef,
    Project, Projected, RunningImage, Workload,
};

/// How to reach the cluster and how politely to read it.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Kubeconfig file; `KUBECONFIG` or `~/.kube/config` when unset.
    pub kubeconfig: Option<PathBuf>,
    /// Context; the kubeconfig's current context when unset.
    pub context: Option<String>,
    /// Requests per second.
    pub qps: f64,
    /// Requests allowed at once before `qps` applies.
    pub burst: u32,
    /// Objects per list page.
    pub page_size: u32,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// Timeout of the whole collection.
    pub timeout: Duration,
    /// Provider override (`eks`, `gke`, `aks`, `kubeadm`, …).
    pub provider: Option<String>,
    /// Read each kubelet's `/configz` through the API server's node proxy (opt-in:
    /// `nodes/proxy` also allows running commands in pods).
    pub read_kubelet_config: bool,
    /// List ConfigMaps to find secret-looking values in them (opt-in: their data is read,
    /// classified and never kept).
    pub read_config_maps: bool,
    /// Show a progress spinner on stderr.
    pub progress: bool,
    /// The most objects one list may return before the scan stops (`--max-list-objects`).
    pub max_list_objects: usize,
}

/// Reading the cluster failed as a whole (a forbidden resource is not a failure).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The kubeconfig could not be read, or names no usable context.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The API server could not be reached (refused, TLS verification, DNS, timeout).
    #[error("cannot reach the API server at {server}: {reason}")]
    Unreachable {
        /// API server URL.
        server: String,
        /// What failed.
        reason: String,
    },
    /// 401: the credentials were rejected (expired token, wrong certificate).
    #[error("the API server at {server} rejected the credentials: {reason}")]
    Unauthorized {
        /// API server URL.
        server: String,
        /// The server's message.
        reason: String,
    },
    /// 429 or 5xx after every retry.
    #[error("{path}: the API server kept answering HTTP {status} ({attempts} attempts), giving up")]
    Throttled {
        /// The request.
        path: String,
        /// The last status.
        status: u16,
        /// Requests sent.
        attempts: u32,
    },
    /// The server answers, but not as a Kubernetes API server: grading it would grade
    /// nothing.
    #[error("{server} is not a Kubernetes API server: {reason}")]
    NotKubernetes {
        /// API server URL.
        server: String,
        /// What gave it away.
        reason: String,
    },
    /// A list did not end the way a Kubernetes list does: it repeated a continue token
    /// (it would be listed forever) or returned more objects than the cap.
    #[error("listing {resource}: {reason}")]
    RunawayList {
        /// The resource, e.g. `pods`.
        resource: String,
        /// What went wrong.
        reason: String,
    },
    /// The overall `--timeout` passed.
    #[error("the scan did not finish within {limit:?}: {reason}")]
    Timeout {
        /// The limit.
        limit: Duration,
        /// What was going on.
        reason: String,
    },
}

impl LiveError {
    /// The next step a user can take.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::Kubeconfig(_) => "check --kubeconfig and --context; `kubectl config get-contexts` lists them",
            Self::Unreachable { .. } => {
                "is the API server reachable from here? a TLS error means the kubeconfig's CA does not match the server"
            }
            Self::Unauthorized { .. } => {
                "the credentials expired or are wrong: log in again, or pick another --context"
            }
            Self::Throttled { .. } => "the API server is overloaded: retry later, or lower --qps",
            Self::Timeout { .. } => "raise --timeout, or lower --page-size on a slow API server",
            Self::RunawayList { .. } => {
                "a list that never ends is a broken or hostile API server; raise --max-list-objects only for a cluster that big"
            }
            Self::NotKubernetes { .. } => {
                "check the kubeconfig's server URL: it points at something other than a Kubernetes API server"
            }
        })
    }
}

/// Reads the cluster into an inventory, within `options.timeout`.
pub async fn collect(options: &LiveOptions) -> Result<Inventory, LiveError> {
    // The one TLS provider compiled in; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match tokio::time::timeout(options.timeout, collect_async(options)).await {
        Ok(result) => result,
        Err(_) => Err(LiveError::Timeout { limit: options.timeout, reason: "collection was still running".into() }),
    }
}

/// The client configuration, the cluster's name, and whether it is the in-cluster one.
/// Whether the scan runs with the in-cluster configuration: in a pod (the kubelet sets
/// `KUBERNETES_SERVICE_HOST`; an empty value counts as unset) and with neither
/// `--kubeconfig` nor `--context`. Only then are Service addresses the cluster's.
fn uses_in_cluster_config(options: &LiveOptions, service_host: Option<std::ffi::OsString>) -> bool {
    let in_pod = service_host.is_some_and(|host| !host.is_empty());
    options.kubeconfig.is_none() && options.context.is_none() && in_pod
}

async fn client_config(options: &LiveOptions) -> Result<(kube::Config, String, bool), LiveError> {
    let in_cluster = uses_in_cluster_config(options, std::env::var_os("KUBERNETES_SERVICE_HOST"));
    let (mut config, name) = if in_cluster {
        let config =
            kube::Config::incluster().map_err(|error| LiveError::Kubeconfig(format!("in-cluster: {error}")))?;
        (config, "in-cluster".to_owned())
    } else {
        let kubeconfig = match &options.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|error| LiveError::Kubeconfig(polite::chain(&error)))?;
        let context = options
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
            .ok_or_else(|| LiveError::Kubeconfig("no current context; pass --context".into()))?;
        if !kubeconfig.contexts.iter().any(|named| named.name == context) {
            let known: Vec<&str> = kubeconfig.contexts.iter().map(|named| named.name.as_str()).collect();
            return Err(LiveError::Kubeconfig(format!("context `{context}` not found (known: {})", known.join(", "))));
        }
        let choice = KubeConfigOptions { context: Some(context.clone()), ..KubeConfigOptions::default() };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &choice)
            .await
            .map_err(|error| LiveError::Kubeconfig(polite::chain(&error)))?;
        (config, context)
    };
    // Our own polite layer retries (and honours Retry-After); kube's would retry again.
    config.default_retry = false;
    config.read_timeout = Some(options.request_timeout);
    config.connect_timeout = Some(options.request_timeout.min(Duration::from_secs(10)));
    let agent = http::HeaderValue::from_str(&format!("seaworthy/{}", env!("CARGO_PKG_VERSION"))).expect("ASCII");
    config.headers.push((http::header::USER_AGENT, agent));
    Ok((config, name, in_cluster))
}

/// A failure that ends the scan; `None` for failures that only make one collection
/// unavailable.
fn fatal(failure: &Failure, path: &str, server: &str, options: &LiveOptions) -> Option<LiveError> {
    match failure {
        Failure::Unauthorized(reason) => {
            Some(LiveError::Unauthorized { server: server.into(), reason: reason.clone() })
        }
        Failure::Transport(reason) => Some(LiveError::Unreachable { server: server.into(), reason: reason.clone() }),
        Failure::Exhausted { status, attempts } => {
            Some(LiveError::Throttled { path: path.into(), status: *status, attempts: *attempts })
        }
        Failure::Timeout(reason) => Some(LiveError::Timeout { limit: options.timeout, reason: reason.clone() }),
        _ => None,
    }
}

/// Characters left as they are in a path segment (a node's name): RFC 3986 unreserved.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A page being fetched: the request's path and the answer.
type PageFetch<'s> = std::pin::Pin<Box<dyn Future<Output = (String, Result<Vec<u8>, Failure>)> + 's>>;

/// A list page's metadata and item count, read without decoding the items.
#[derive(Deserialize)]
struct ListHead {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<serde::de::IgnoredAny>,
}

/// Decodes a list page of `K` as kube's `ObjectList` of `K`'s lean shape (what no
/// projection reads is skipped unread) and projects its objects, in order.
fn project_page<K: Project>(body: &[u8]) -> Result<Vec<Projected>, serde_json::Error> {
    let page: kube::core::ObjectList<K::Lean> = serde_json::from_slice(body)?;
    Ok(page.items.into_iter().map(|object| K::project(object, None)).collect())
}

/// Where kind `K` is listed: cluster-wide, or in one namespace.
fn collection_path<K: k8s_openapi::Resource>(namespace: Option<&str>) -> String {
    let root =
        if K::GROUP.is_empty() { format!("/api/{}", K::VERSION) } else { format!("/apis/{}/{}", K::GROUP, K::VERSION) };
    match namespace {
        Some(namespace) => format!("{root}/namespaces/{namespace}/{}", K::URL_PATH_SEGMENT),
        None => format!("{root}/{}", K::URL_PATH_SEGMENT),
    }
}

/// Narrows a list to one namespace and label selector.
#[derive(Clone, Copy, Default)]
struct Scope<'a> {
    namespace: Option<&'a str>,
    label_selector: Option<&'a str>,
}

/// The name RBAC knows a resource by: `pods`, `deployments.apps`.
fn resource_name<K: k8s_openapi::Resource>() -> String {
    if K::GROUP.is_empty() { K::URL_PATH_SEGMENT.to_owned() } else { format!("{}.{}", K::URL_PATH_SEGMENT, K::GROUP) }
}

struct Collector<'a> {
    polite: Polite,
    options: &'a LiveOptions,
    server: String,
    progress: ProgressBar,
}

impl Collector<'_> {
    /// Every object of kind `K`, projected; or why they could not be listed.
    async fn gather<K: Project>(&self) -> Result<Gathered<Projected>, LiveError> {
        self.gather_in::<K>(Scope::default(), &mut Some).await
    }

    /// The objects of kind `K` within `scope`, projected, each kept only when `keep`
    /// gives it back; or why they could not be listed.
    async fn gather_in<K: Project>(
        &self,
        scope: Scope<'_>,
        keep: &mut dyn FnMut(Projected) -> Option<Projected>,
    ) -> Result<Gathered<Projected>, LiveError> {
        let resource = resource_name::<K>();
        self.progress.set_message(format!("checking access to {resource}"));
        if self.polite.may("list", K::GROUP, K::URL_PATH_SEGMENT, scope.namespace).await == Some(false) {
            tracing::info!(%resource, "forbidden by the access review; not listed");
            return Ok(unavailable(format!("forbidden: list {resource}")));
        }
        let url_path = collection_path::<K>(scope.namespace);
        let first_page = ListParams {
            label_selector: scope.label_selector.map(str::to_owned),
            limit: Some(self.options.page_size),
            ..ListParams::default()
        };
        let mut restarts = 0;
        'restart: loop {
            let mut items = Vec::new();
            let mut listed = 0;
            let mut pages = 0;
            let mut tokens_seen: BTreeSet<String> = BTreeSet::new();
            let mut fetching = Some(self.page(&url_path, &first_page));
            while let Some(fetch) = fetching.take() {
                pages += 1;
                self.progress.set_message(format!("listing {resource}: page {pages}, {} so far", items.len()));
                let body = match fetch.await {
                    (_, Ok(body)) => body,
                    (_, Err(Failure::Gone)) if restarts < 3 => {
                        restarts += 1;
                        tracing::info!(%resource, "continue token expired; listing again from the start");
                        continue 'restart;
                    }
                    (_, Err(Failure::Forbidden(_))) => return Ok(unavailable(format!("forbidden: list {resource}"))),
                    (_, Err(Failure::NotFound)) => {
                        return Ok(unavailable(format!("not served by this API server: {url_path}")));
                    }
                    (path, Err(failure)) => {
                        if let Some(error) = fatal(&failure, &path, &self.server, self.options) {
                            return Err(error);
                        }
                        return Ok(unavailable(format!("listing {resource} failed: {failure:?}")));
                    }
                };
                let runaway = |reason: String| LiveError::RunawayList { resource: resource.clone(), reason };
                // A first pass that skips the objects reads the continue token and counts
                // the items, so that the next page is fetched while this one is decoded.
                let head = match serde_json::from_slice::<ListHead>(&body) {
                    Ok(head) => head,
                    Err(error) => return Ok(unavailable(format!("undecodable answer listing {resource}: {error}"))),
                };
                listed += head.items.len();
                if listed > self.options.max_list_objects {
                    return Err(runaway(format!(
                        "more than {} objects (--max-list-objects raises the cap)",
                        self.options.max_list_objects
                    )));
                }
                if let Some(token) = head.metadata.continue_.filter(|token| !token.is_empty()) {
                    if !tokens_seen.insert(token.clone()) {
                        return Err(runaway(format!("the server repeated a continue token after {pages} pages")));
                    }
                    let next = ListParams { continue_token: Some(token), ..first_page.clone() };
                    fetching = Some(self.page(&url_path, &next));
                }
                // Decoded and projected on another thread while the next page arrives;
                // this page is dropped before the one after that is asked for.
                let decode = tokio::task::spawn_blocking(move || project_page::<K>(&body));
                let projected = match fetching.take() {
                    Some(next) => {
                        let (projected, arrived) = tokio::join!(decode, next);
                        fetching = Some(Box::pin(std::future::ready(arrived)));
                        projected
                    }
                    None => decode.await,
                };
                match projected.expect("decoding a page does not panic") {
                    Ok(projected) => items.extend(projected.into_iter().filter_map(&mut *keep)),
                    Err(error) => return Ok(unavailable(format!("undecodable answer listing {resource}: {error}"))),
                }
            }
            return Ok(Gathered { availability: Availability::Collected, items });
        }
    }

    /// Fetches one page of the list at `url_path` (kube builds the query from `params`);
    /// the path is returned with the answer, to name it in errors.
    fn page<'s>(&'s self, url_path: &str, params: &ListParams) -> PageFetch<'s> {
        let path = match kube::core::Request::new(url_path).list(params) {
            Ok(request) => request.uri().to_string(),
            Err(error) => {
                let failure = Failure::Refused(format!("{url_path}: {error}"));
                return Box::pin(std::future::ready((url_path.to_owned(), Err(failure))));
            }
        };
        Box::pin(async move {
            let answer = self.polite.get(&path).await;
            (path, answer)
        })
    }

    /// Pods and the controllers that own pod templates. Owners are listed first, so that
    /// each page of pods folds into them as it is read: a pod that proves its owner
    /// keeps only the images it runs (into `folded`), and memory grows with controllers,
    /// not pods. Pods come first in the result, as they always were filed.
    async fn workloads(
        &self,
        served: &BTreeSet<String>,
        folded: &mut Vec<FoldedPod>,
    ) -> Result<Vec<Gathered<Projected>>, LiveError> {
        let mut owners = vec![
            self.gather::<apps::Deployment>().await?,
            self.gather::<apps::StatefulSet>().await?,
            self.gather::<apps::DaemonSet>().await?,
            self.gather::<apps::ReplicaSet>().await?,
            self.gather::<batch::Job>().await?,
            self.gather::<batch::CronJob>().await?,
        ];
        owners.extend(self.custom_workloads::<ArgoRollout>(served).await?);
        owners.extend(self.custom_workloads::<DeploymentConfig>(served).await?);
        owners.extend(self.custom_workloads::<KnativeService>(served).await?);
        let pods = {
            let index = OwnerIndex::new(&owners);
            let mut shared = Shared::default();
            self.gather_in::<core::Pod>(Scope::default(), &mut |projected| index.fold(projected, folded, &mut shared))
                .await?
        };
        Ok(std::iter::once(pods).chain(owners).collect())
    }

    /// The objects of custom kind `K` that hold a pod template, when the API server
    /// serves its group version (`None` when it does not: there are none to list).
    async fn custom_workloads<K: Project>(
        &self,
        served: &BTreeSet<String>,
    ) -> Result<Option<Gathered<Projected>>, LiveError> {
        if !served.contains(K::API_VERSION) {
            return Ok(None);
        }
        let with_template = &mut |projected: Projected| match &projected {
            Projected::Workload(workload) if workload.pod.containers.is_empty() => None,
            _ => Some(projected),
        };
        Ok(Some(self.gather_in::<K>(Scope::default(), with_template).await?))
    }

    /// Every node's kubelet configuration, through the API server's node proxy. All or
    /// nothing: a node that cannot be read makes the collection unavailable rather than
    /// quietly leaving that node unjudged.
    async fn kubelet_configs(&self, inventory: &Inventory) -> Result<Gathered<Projected>, LiveError> {
        if !inventory.nodes.availability.is_collected() {
            return Ok(unavailable("nodes not collected".into()));
        }
        if self.polite.may("get", "", "nodes/proxy", None).await == Some(false) {
            return Ok(unavailable("forbidden: get nodes/proxy".into()));
        }
        let mut items = Vec::new();
        for node in &inventory.nodes.items {
            let name = &node.meta.name;
            self.progress.set_message(format!("reading the kubelet configuration of {name}"));
            let path = format!("/api/v1/nodes/{}/proxy/configz", utf8_percent_encode(name, PATH_SEGMENT));
            let body = match self.polite.get(&path).await {
                Ok(body) => body,
                Err(Failure::Forbidden(_)) => return Ok(unavailable("forbidden: get nodes/proxy".into())),
                Err(failure) => {
                    if let Some(error) = fatal(&failure, &path, &self.server, self.options) {
                        return Err(error);
                    }
                    return Ok(unavailable(format!(
                        "the kubelet configuration of node {name} could not be read: {failure:?}"
                    )));
                }
            };
            let document: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let meta = crate::inventory::Meta {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: name.clone(),
                ..Default::default()
            };
            match crate::inventory::kubelet::parse(&document["kubeletconfig"], meta, Some(name.clone())) {
                Ok(config) => items.push(Projected::KubeletConfig(config)),
                Err(error) => {
                    return Ok(unavailable(format!("node {name}: /configz is not a kubelet configuration: {error}")));
                }
            }
        }
        Ok(Gathered { availability: Availability::Collected, items })
    }

    /// GETs a JSON document; `Ok(None)` for 403 and 404.
    /// Refuses a server that is not a Kubernetes API server: its `/version` must be a
    /// Kubernetes build, and it must serve core discovery at `/api` (every API server
    /// lists `v1` there; one that forbids it may still be one, one without it is not).
    async fn check_kubernetes(&self, version: &k8s_openapi::apimachinery::pkg::version::Info) -> Result<(), LiveError> {
        let not_kubernetes = |reason: String| LiveError::NotKubernetes { server: self.server.clone(), reason };
        kubernetes_version(version).map_err(not_kubernetes)?;
        match self.polite.get("/api").await {
            Ok(body) => kubernetes_discovery(&body).map_err(not_kubernetes),
            Err(Failure::Forbidden(_)) => Ok(()),
            Err(Failure::NotFound) => Err(not_kubernetes("/api is not served (404)".into())),
            Err(failure) => fatal(&failure, "/api", &self.server, self.options).map_or(Ok(()), Err),
        }
    }

    /// kubeadm's cluster-wide KubeletConfiguration (`kube-system/kubelet-config`), read
    /// by name like the cluster CA: the kubelet rules judge it without `nodes/proxy`.
    /// Kubelet configurations and ConfigMaps: kubeadm's, read by name, and what the
    /// opt-ins (`--read-kubelet-config`, `--read-config-maps`) add.
    async fn configuration(&self, inventory: &mut Inventory) -> Result<(), LiveError> {
        let kubelet_configs = if self.options.read_kubelet_config {
            self.kubelet_configs(inventory).await?
        } else {
            unavailable("not read: --read-kubelet-config reads each kubelet's /configz through the API server (needs get nodes/proxy)".into())
        };
        file(inventory, vec![kubelet_configs], |inventory| &mut inventory.kubelet_configs.availability);
        self.kubeadm_config_maps(inventory).await?;
        let config_maps = if self.options.read_config_maps {
            self.gather::<core::ConfigMap>().await?
        } else {
            unavailable("not read: --read-config-maps lists ConfigMaps (needs list configmaps), whose data is classified and never kept".into())
        };
        file(inventory, vec![config_maps], |inventory| &mut inventory.config_maps.availability);
        Ok(())
    }

    /// kubeadm's own ConfigMaps, each read by name (never listed): the cluster-wide
    /// KubeletConfiguration, judged like a kubelet's, and the ClusterConfiguration the
    /// control-plane static pods are written from.
    async fn kubeadm_config_maps(&self, inventory: &mut Inventory) -> Result<(), LiveError> {
        for name in ["kubelet-config", "kubeadm-config"] {
            let object: Option<serde_json::Value> =
                self.document(&format!("/api/v1/namespaces/kube-system/configmaps/{name}")).await?;
            let Some(Ok(Some(projected))) = object.map(|object| crate::inventory::project_object(object, None)) else {
                continue;
            };
            match projected {
                Projected::KubeletConfig(_) if !inventory.kubelet_configs.availability.is_collected() => {
                    inventory.kubelet_configs.availability = Availability::Collected;
                }
                // Without the configuration it should hold, a plain ConfigMap: judged only
                // where ConfigMaps are listed.
                Projected::ConfigMap(_) => continue,
                _ => {}
            }
            inventory.add(projected);
        }
        Ok(())
    }

    async fn document<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>, LiveError> {
        match self.polite.get(path).await {
            Ok(body) => Ok(serde_json::from_slice(&body).ok()),
            Err(Failure::Forbidden(_) | Failure::NotFound) => Ok(None),
            Err(failure) => match fatal(&failure, path, &self.server, self.options) {
                Some(error) => Err(error),
                None => Ok(None),
            },
        }
    }
}

fn unavailable(reason: String) -> Gathered<Projected> {
    Gathered { availability: Availability::not_collected(reason), items: Vec::new() }
}

/// Files gathered objects into the inventory; a group of kinds is only as available as
/// its least available member.
fn file(
    inventory: &mut Inventory,
    group: Vec<Gathered<Projected>>,
    availability: impl Fn(&mut Inventory) -> &mut Availability,
) {
    let combined = Availability::combine(group.iter().map(|gathered| &gathered.availability));
    for gathered in group {
        for item in gathered.items {
            inventory.add(item);
        }
    }
    *availability(inventory) = combined;
}

/// The collected controllers by namespace, kind and name, to fold pods into.
struct OwnerIndex<'a>(BTreeMap<(Option<&'a str>, &'a str, &'a str), Vec<&'a Workload>>);

impl<'a> OwnerIndex<'a> {
    fn new(owners: &'a [Gathered<Projected>]) -> Self {
        let mut index: BTreeMap<(Option<&str>, &str, &str), Vec<&Workload>> = BTreeMap::new();
        for projected in owners.iter().flat_map(|gathered| &gathered.items) {
            if let Projected::Workload(owner) = projected {
                let meta = &owner.meta;
                index.entry((meta.namespace.as_deref(), &meta.kind, &meta.name)).or_default().push(owner);
            }
        }
        Self(index)
    }

    /// A pod that proves its owner goes to `folded`, its repeated strings made one
    /// copy through `shared`; anything else is given back.
    fn fold(&self, projected: Projected, folded: &mut Vec<FoldedPod>, shared: &mut Shared) -> Option<Projected> {
        let Projected::Workload(pod) = &projected else { return Some(projected) };
        let proven = pod.meta.kind == "Pod"
            && pod.meta.controller.as_ref().is_some_and(|claim| {
                let key = (pod.meta.namespace.as_deref(), claim.kind.as_str(), claim.name.as_str());
                self.0.get(&key).into_iter().flatten().any(|owner| pod.owned_by(owner))
            });
        if !proven {
            return Some(projected);
        }
        let Projected::Workload(pod) = projected else { return None };
        let running = pod
            .running
            .into_iter()
            .map(|image| RunningImage {
                container: image.container,
                image: shared.text(&image.image),
                image_id: shared.text(&image.image_id),
            })
            .collect();
        folded.push(FoldedPod {
            namespace: pod.meta.namespace.as_deref().map(|namespace| shared.text(namespace)),
            name: pod.meta.name,
            owner: shared.owner(pod.meta.controller.unwrap_or_default()),
            running,
        });
        None
    }
}

/// One copy of each string that folded pods repeat: pods of one controller share their
/// namespace, owner, images and digests.
#[derive(Default)]
struct Shared {
    texts: BTreeSet<Arc<str>>,
    owners: BTreeSet<Arc<OwnerRef>>,
}

impl Shared {
    fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.texts.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.texts.insert(Arc::clone(&shared));
        shared
    }

    fn owner(&mut self, owner: OwnerRef) -> Arc<OwnerRef> {
        if let Some(shared) = self.owners.get(&owner) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(owner);
        self.owners.insert(Arc::clone(&shared));
        shared
    }
}

/// Checks that `/version` describes a Kubernetes build: `gitVersion` like `v1.31.1`
/// (distributions add suffixes: `v1.30.4-eks-a737599`, `v1.31.1+k3s1`) and a numeric major.
fn kubernetes_version(version: &k8s_openapi::apimachinery::pkg::version::Info) -> Result<(), String> {
    let numbers: Vec<&str> = version
        .git_version
        .strip_prefix('v')
        .unwrap_or_default()
        .split(['-', '+'])
        .next()
        .unwrap_or_default()
        .split('.')
        .collect();
    let semantic = numbers.len() == 3
        && numbers.iter().all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
    if !semantic {
        return Err(format!(
            "/version has no Kubernetes gitVersion (found `{}`)",
            crate::report::inert(&version.git_version)
        ));
    }
    if version.major.is_empty() || !version.major.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("/version has no numeric major version".into());
    }
    Ok(())
}

/// Checks that `/api` is the core discovery document (`kind: APIVersions` with `v1`).
fn kubernetes_discovery(body: &[u8]) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Discovery {
        #[serde(default)]
        kind: String,
        #[serde(default)]
        versions: Vec<String>,
    }
    let discovery: Discovery =
        serde_json::from_slice(body).map_err(|error| format!("/api is not a discovery document: {error}"))?;
    if discovery.kind != "APIVersions" || !discovery.versions.iter().any(|version| version == "v1") {
        return Err("/api does not list the core v1 API (kind APIVersions)".into());
    }
    Ok(())
}

async fn collect_async(options: &LiveOptions) -> Result<Inventory, LiveError> {
    let (config, name, in_cluster) = client_config(options).await?;
    // A kubeconfig server may carry `user:pass@` or `?token=`: never shown or stored.
    let server = crate::redact::text(&config.cluster_url.to_string());
    let client = kube::Client::try_from(config).map_err(|error| LiveError::Kubeconfig(polite::chain(&error)))?;
    let deadline = tokio::time::Instant::now() + options.timeout;
    let limits = Limits { qps: options.qps, burst: options.burst, request_timeout: options.request_timeout, deadline };
    let progress = if options.progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        ProgressBar::hidden()
    };
    let opted_in =
        polite::OptIns { kubelet_configz: options.read_kubelet_config, config_map_lists: options.read_config_maps };
    let polite = Polite::new(client, limits, opted_in);
    let collector = Collector { polite, options, server: server.clone(), progress };

    // The version doubles as the connectivity and credentials check.
    collector.progress.set_message(format!("connecting to {server}"));
    let version: k8s_openapi::apimachinery::pkg::version::Info = match collector.polite.get("/version").await {
        Ok(body) => serde_json::from_slice(&body).map_err(|error| LiveError::Unreachable {
            server: server.clone(),
            reason: format!("/version is not a Kubernetes version document: {error}"),
        })?,
        Err(failure) => {
            return Err(fatal(&failure, "/version", &server, options).unwrap_or_else(|| LiveError::Unreachable {
                server: server.clone(),
                reason: format!("/version: {failure:?}"),
            }));
        }
    };
    collector.check_kubernetes(&version).await?;
    let groups: Option<APIGroupList> = collector.document("/apis").await?;
    let groups: Vec<_> = groups.into_iter().flat_map(|list| list.groups).collect();
    let group_names: Vec<String> = groups.iter().map(|group| group.name.clone()).collect();
    let group_versions: BTreeSet<String> =
        groups.into_iter().flat_map(|group| group.versions).map(|version| version.group_version).collect();

    let mut inventory = Inventory::default();
    file(&mut inventory, vec![collector.gather::<core::Node>().await?], |inventory| &mut inventory.nodes.availability);
    file(&mut inventory, vec![collector.gather::<core::Namespace>().await?], |inventory| {
        &mut inventory.namespaces.availability
    });
    let workloads = collector.workloads(&group_versions, &mut inventory.folded_pods).await?;
    file(&mut inventory, workloads, |inventory| &mut inventory.workloads.availability);
    // ServiceAccount objects are not listed: the accounts that rules judge are those
    // workloads run as and bindings name, and a permission no rule needs is not asked for.
    inventory.service_accounts.availability =
        Availability::not_collected("not listed: accounts come from workloads and bindings");
    let roles = vec![collector.gather::<rbac::Role>().await?, collector.gather::<rbac::ClusterRole>().await?];
    file(&mut inventory, roles, |inventory| &mut inventory.roles.availability);
    let bindings =
        vec![collector.gather::<rbac::RoleBinding>().await?, collector.gather::<rbac::ClusterRoleBinding>().await?];
    file(&mut inventory, bindings, |inventory| &mut inventory.bindings.availability);
    file(&mut inventory, vec![collector.gather::<networking::NetworkPolicy>().await?], |inventory| {
        &mut inventory.network_policies.availability
    });
    file(&mut inventory, vec![collector.gather::<core::Service>().await?], |inventory| {
        &mut inventory.services.availability
    });
    file(&mut inventory, vec![collector.gather::<policy::PodDisruptionBudget>().await?], |inventory| {
        &mut inventory.pdbs.availability
    });
    file(&mut inventory, vec![collector.gather::<networking::Ingress>().await?], |inventory| {
        &mut inventory.ingresses.availability
    });
    let limits = vec![collector.gather::<core::ResourceQuota>().await?, collector.gather::<core::LimitRange>().await?];
    file(&mut inventory, limits, |inventory| &mut inventory.namespace_limits.availability);
    let endpoints = collector
        .gather_in::<discovery::EndpointSlice>(
            Scope { namespace: Some("default"), label_selector: Some("kubernetes.io/service-name=kubernetes") },
            &mut Some,
        )
        .await?;
    file(&mut inventory, vec![endpoints], |inventory| &mut inventory.apiserver_endpoints.availability);
    collector.configuration(&mut inventory).await?;
    let root_ca: Option<core::ConfigMap> =
        collector.document("/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt").await?;
    let ca_certificate = root_ca.and_then(|map| map.data?.remove("ca.crt"));
    collector.progress.finish_and_clear();

    let detected = provider::detect(
        &version.git_version,
        &group_names,
        &inventory.nodes.items,
        provider::has_kubeadm_static_pods(&inventory.workloads.items),
    );
    inventory.cluster = ClusterInfo {
        name,
        server: Some(server),
        uid: None,
        version: Some(version.git_version),
        provider: Some(options.provider.clone().unwrap_or_else(|| detected.to_owned())),
        ca_certificate,
        in_cluster,
    };
    inventory.shrink_to_fit();
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Meta, OwnerRef, RunningImage};

    fn options(kubeconfig: Option<&str>, context: Option<&str>) -> LiveOptions {
        LiveOptions {
            kubeconfig: kubeconfig.map(PathBuf::from),
            context: context.map(str::to_owned),
            qps: 1.0,
            burst: 1,
            page_size: 1,
            request_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            provider: None,
            read_kubelet_config: false,
            read_config_maps: false,
            progress: false,
            max_list_objects: 1,
        }
    }

    #[test]
    fn only_a_pod_without_a_kubeconfig_or_context_uses_the_in_cluster_configuration() {
        let in_pod = || Some(std::ffi::OsString::from("10.96.0.1"));
        assert!(uses_in_cluster_config(&options(None, None), in_pod()));
        // Controls: outside a pod, or told to use a kubeconfig or context, it is outside.
        assert!(!uses_in_cluster_config(&options(None, None), None));
        assert!(!uses_in_cluster_config(&options(None, None), Some(std::ffi::OsString::new())), "empty is unset");
        assert!(!uses_in_cluster_config(&options(Some("/tmp/kubeconfig"), None), in_pod()));
        assert!(!uses_in_cluster_config(&options(None, Some("prod")), in_pod()));
    }

    fn workload(kind: &str, name: &str, uid: &str, controller: Option<OwnerRef>) -> Workload {
        Workload {
            meta: Meta {
                kind: kind.to_owned().into(),
                name: name.into(),
                namespace: Some("app".into()),
                uid: Some(uid.into()),
                controller,
                ..Meta::default()
            },
            ..Workload::default()
        }
    }

    #[allow(clippy::unnecessary_wraps)] // A claim is what `Meta::controller` holds.
    fn claim(kind: &str, name: &str, uid: &str) -> Option<OwnerRef> {
        Some(OwnerRef { kind: kind.into(), name: name.into(), uid: Some(uid.into()) })
    }

    #[test]
    fn only_pods_that_prove_their_owner_fold_as_they_are_collected() {
        let owners = vec![Gathered {
            availability: Availability::Collected,
            items: vec![Projected::Workload(workload("ReplicaSet", "web-1", "rs-uid", None))],
        }];
        let index = OwnerIndex::new(&owners);
        let (mut folded, mut shared) = (Vec::new(), Shared::default());
        // Pods their ReplicaSet proves to own fold, keeping their images; what they
        // repeat (namespace, owner, image, digest) is held once.
        for name in ["web-1-a", "web-1-z"] {
            let mut pod = workload("Pod", name, &format!("{name}-uid"), claim("ReplicaSet", "web-1", "rs-uid"));
            let image_id = "docker.io/library/web@sha256:aaa".into();
            pod.running = vec![RunningImage { container: "web".into(), image: "web:1".into(), image_id }];
            assert_eq!(index.fold(Projected::Workload(pod), &mut folded, &mut shared), None);
        }
        assert_eq!(folded.len(), 2);
        assert_eq!((folded[0].name.as_str(), folded[0].running.len()), ("web-1-a", 1));
        let (first, second) = (&folded[0], &folded[1]);
        assert!(Arc::ptr_eq(&first.owner, &second.owner));
        assert!(Arc::ptr_eq(&first.running[0].image_id, &second.running[0].image_id));
        assert!(Arc::ptr_eq(first.namespace.as_ref().expect("namespaced"), second.namespace.as_ref().expect("too")));
        // Kept and judged on its own: no controller, a uid the owner does not have, a
        // spec other than the template, an owner that was not collected.
        let mut privileged = workload("Pod", "web-1-b", "pod-b", claim("ReplicaSet", "web-1", "rs-uid"));
        privileged.pod.host_pid = true;
        for kept in [
            workload("Pod", "bare", "pod-c", None),
            workload("Pod", "web-1-d", "pod-d", claim("ReplicaSet", "web-1", "another-uid")),
            privileged,
            workload("Pod", "job-1-e", "pod-e", claim("Job", "job-1", "job-uid")),
        ] {
            let name = kept.meta.name.clone();
            assert!(index.fold(Projected::Workload(kept), &mut folded, &mut shared).is_some(), "{name} is kept");
        }
        assert_eq!(folded.len(), 2);
    }

    /// A pod page as an API server sends it, with `extra` spliced into the pod's object.
    fn pod_page(metadata_extra: &str, status: &str, spec: &str) -> Vec<u8> {
        format!(
            r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"7"}},"items":[{{
                "metadata":{{"name":"web-a","namespace":"app","uid":"pod-a",
                    "annotations":{{"kubectl.kubernetes.io/last-applied-configuration":"{{}}"}}{metadata_extra}}},
                "spec":{spec},
                "status":{status}}}]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn pages_are_read_only_as_far_as_projections_read_them() {
        let spec = r#"{"containers":[{"name":"web","image":"web:1"}]}"#;
        let status = r#"{"phase":"Running","containerStatuses":[{"name":"web","image":"web:1","imageID":"sha256:aaa","ready":true,"restartCount":0}]}"#;
        // Control: a plain page projects its pod and the images it runs.
        let plain = project_page::<core::Pod>(&pod_page("", status, spec)).expect("a plain page decodes");
        let [Projected::Workload(pod)] = plain.as_slice() else { panic!("one workload: {plain:?}") };
        assert_eq!((pod.meta.name.as_str(), pod.running.len()), ("web-a", 1));
        // What no projection reads (managedFields, conditions, annotation values) is
        // skipped unread: were it decoded, these values of the wrong type would fail.
        let skipped = project_page::<core::Pod>(&pod_page(
            r#","managedFields":"not a list","creationTimestamp":42"#,
            r#"{"conditions":7,"phase":["?"],"containerStatuses":[{"name":"web","image":"web:1","imageID":"sha256:aaa","ready":"yes","state":1}]}"#,
            spec,
        ))
        .expect("unread fields are not decoded");
        assert_eq!(skipped, plain);
        // What projections read stays typed: a spec of the wrong type is an error.
        let wrong = pod_page("", status, r#"{"containers":[{"name":"web","image":1}]}"#);
        assert!(project_page::<core::Pod>(&wrong).is_err());
    }
}
