//! A fake Kubernetes API server over real HTTPS (rustls, a per-test CA from rcgen, a
//! kubeconfig written per test). It serves a cluster described as YAML objects under
//! `testdata/clusters/<name>/`, the way kube-rs expects: discovery, `/version`, lists
//! with `limit`/`continue`, gets, SelfSubjectAccessReviews, `Status` error bodies. It can
//! forbid resources, expire a continue token, throttle with 429 and fail with 500, and
//! answer anonymous requests 401, 403 or 200. It logs every request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::{loopback, pki, repo};

/// Throttling or failure injection.
#[derive(Clone, Debug)]
pub struct Injection {
    /// Requests whose path starts with this are affected.
    pub path_prefix: String,
    /// How many of them fail (`usize::MAX`: all of them).
    pub times: usize,
    /// The status to answer (429, 500, 503).
    pub status: u16,
    /// `Retry-After` seconds, if any.
    pub retry_after: Option<u64>,
    /// Write `Retry-After` as the HTTP date that many seconds from now, not in seconds.
    pub retry_after_as_date: bool,
}

/// How the fake behaves.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Directory of YAML objects: a name under `testdata/clusters/`, or an absolute path.
    pub cluster: String,
    /// `/version` gitVersion.
    pub git_version: String,
    /// Resources (`pods`, `deployments.apps`) answered 403, to lists and access reviews.
    pub forbidden: Vec<String>,
    /// When set, RBAC as a ClusterRole would have it: only what these grants allow is
    /// answered, everything else is 403 (lists, named gets and access reviews alike).
    pub allow_only: Option<Vec<Grant>>,
    /// Answer 410 Gone to the first request that presents a continue token.
    pub expire_first_continue: bool,
    /// A hostile pager: every page of a list repeats the first continue token, so a
    /// client that trusts it lists forever.
    pub repeat_continue: bool,
    /// Failures to inject.
    pub inject: Option<Injection>,
    /// Status for requests without credentials to `/version` and `/api` (and 403 for
    /// everything else when it is 403).
    pub anonymous: u16,
    /// Requests without credentials may read every resource (RBAC grants
    /// `system:anonymous` the `view` role).
    pub anonymous_reads: bool,
    /// Text replacements applied to the fixture files before they are parsed (node
    /// addresses moved to the test's own loopback addresses).
    pub rewrite: Vec<(String, String)>,
    /// Also serve the whole API, without authentication, over plain HTTP on port 8080
    /// of the same address (the insecure port of old clusters).
    pub insecure_port: bool,
    /// The bearer token the kubeconfig carries and the server accepts.
    pub token: String,
    /// Extra API groups announced by `/apis` (e.g. `config.openshift.io`).
    pub extra_groups: Vec<String>,
    /// Not Kubernetes at all: every authenticated GET answers 200 with this JSON body
    /// (a `/version` that is not a version document, no discovery).
    pub impostor: Option<serde_json::Value>,
}

/// One resource a ClusterRole rule grants verbs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// `plural` for the core group, else `plural.group`; `plural/subresource` for a subresource.
    pub resource: String,
    /// The verbs (`*` is every verb).
    pub verbs: Vec<String>,
    /// `resourceNames`: when set, only these objects, and only by name.
    pub names: Option<Vec<String>>,
}

/// The grants of a ClusterRole (YAML), one per resource of each rule.
pub fn grants_of(cluster_role: &str) -> Vec<Grant> {
    let role: serde_json::Value = serde_saphyr::from_str(cluster_role).expect("the ClusterRole is YAML");
    let mut grants = Vec::new();
    for rule in role["rules"].as_array().into_iter().flatten() {
        let strings = |key: &str| -> Vec<String> {
            rule[key].as_array().into_iter().flatten().filter_map(|value| value.as_str().map(str::to_owned)).collect()
        };
        let names = rule.get("resourceNames").map(|_| strings("resourceNames"));
        for group in strings("apiGroups") {
            for resource in strings("resources") {
                let (plural, subresource) = match resource.split_once('/') {
                    Some((plural, subresource)) => (plural.to_owned(), format!("/{subresource}")),
                    None => (resource.clone(), String::new()),
                };
                let resource =
                    if group.is_empty() { resource.clone() } else { format!("{plural}.{group}{subresource}") };
                grants.push(Grant { resource, verbs: strings("verbs"), names: names.clone() });
            }
        }
    }
    grants
}

impl Settings {
    /// Forbids everything `cluster_role` (YAML) does not grant, as RBAC would.
    pub fn enforcing(mut self, cluster_role: &str) -> Self {
        self.allow_only = Some(grants_of(cluster_role));
        self
    }

    /// Serves `testdata/clusters/<cluster>` with defaults: everything allowed, anonymous
    /// requests refused with 401.
    pub fn cluster(cluster: &str) -> Self {
        Self {
            cluster: cluster.into(),
            // The hardened cluster runs a supported minor (VER-001); the weak one does not.
            git_version: if cluster == "hardened" { "v1.35.1" } else { "v1.31.1" }.into(),
            forbidden: Vec::new(),
            allow_only: None,
            expire_first_continue: false,
            repeat_continue: false,
            inject: None,
            anonymous: 401,
            anonymous_reads: false,
            rewrite: Vec::new(),
            insecure_port: false,
            token: "seaworthy-test-token".into(),
            extra_groups: Vec::new(),
            impostor: None,
        }
    }
}

/// One request the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    pub query: String,
    /// Whether it carried the right bearer token.
    pub authenticated: bool,
    /// The User-Agent header.
    pub user_agent: String,
}

struct Shared {
    settings: Settings,
    /// The grants in force: [`Settings::allow_only`], replaced by [`FakeApi::enforce`].
    allow_only: Mutex<Option<Vec<Grant>>>,
    /// Collections by `group/version/plural` (`/v1/pods` for the core group).
    objects: BTreeMap<String, Vec<serde_json::Value>>,
    /// The KubeletConfiguration every node's `/configz` answers with, if the fixture has one.
    kubelet_config: Option<serde_json::Value>,
    log: Mutex<Vec<Logged>>,
    continue_expired: AtomicBool,
    injected: AtomicUsize,
}

/// A running fake API server; stops when dropped.
pub struct FakeApi {
    /// Where it listens.
    pub address: SocketAddr,
    /// A kubeconfig pointing at it, trusting its CA, with a valid token.
    pub kubeconfig: PathBuf,
    /// The CA that signed the server certificate, PEM.
    pub ca_pem: String,
    shared: Arc<Shared>,
    handle: axum_server::Handle<SocketAddr>,
    thread: Option<std::thread::JoinHandle<()>>,
    dir: tempfile::TempDir,
}

/// Plural, group and version of the kinds the fixtures use.
fn resource_of(api_version: &str, kind: &str) -> Option<(&'static str, &'static str, &'static str)> {
    // Custom kinds with pod templates (a Knative Service is no core Service).
    let custom = match (api_version, kind) {
        ("argoproj.io/v1alpha1", "Rollout") => Some(("argoproj.io", "v1alpha1", "rollouts")),
        ("apps.openshift.io/v1", "DeploymentConfig") => Some(("apps.openshift.io", "v1", "deploymentconfigs")),
        ("serving.knative.dev/v1", "Service") => Some(("serving.knative.dev", "v1", "services")),
        _ => None,
    };
    if custom.is_some() {
        return custom;
    }
    Some(match kind {
        "Node" => ("", "v1", "nodes"),
        "Namespace" => ("", "v1", "namespaces"),
        "Pod" => ("", "v1", "pods"),
        "Service" => ("", "v1", "services"),
        "ServiceAccount" => ("", "v1", "serviceaccounts"),
        "ConfigMap" => ("", "v1", "configmaps"),
        "Secret" => ("", "v1", "secrets"),
        "Deployment" => ("apps", "v1", "deployments"),
        "StatefulSet" => ("apps", "v1", "statefulsets"),
        "DaemonSet" => ("apps", "v1", "daemonsets"),
        "ReplicaSet" => ("apps", "v1", "replicasets"),
        "Job" => ("batch", "v1", "jobs"),
        "CronJob" => ("batch", "v1", "cronjobs"),
        "Role" => ("rbac.authorization.k8s.io", "v1", "roles"),
        "ClusterRole" => ("rbac.authorization.k8s.io", "v1", "clusterroles"),
        "RoleBinding" => ("rbac.authorization.k8s.io", "v1", "rolebindings"),
        "ClusterRoleBinding" => ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
        "NetworkPolicy" => ("networking.k8s.io", "v1", "networkpolicies"),
        "Ingress" => ("networking.k8s.io", "v1", "ingresses"),
        "ResourceQuota" => ("", "v1", "resourcequotas"),
        "LimitRange" => ("", "v1", "limitranges"),
        "PodDisruptionBudget" => ("policy", "v1", "poddisruptionbudgets"),
        "EndpointSlice" => ("discovery.k8s.io", "v1", "endpointslices"),
        _ => return None,
    })
}

fn collection_key(group: &str, version: &str, plural: &str) -> String {
    format!("{group}/{version}/{plural}")
}

fn load(
    cluster: &str,
    rewrite: &[(String, String)],
    home: SocketAddr,
) -> (BTreeMap<String, Vec<serde_json::Value>>, Option<serde_json::Value>) {
    let dir = repo().join("testdata/clusters").join(cluster); // an absolute `cluster` replaces the base
    let relocated = relocate_fixture_addresses(home, rewrite);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    files.sort();
    let mut objects: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut kubelet_config = None;
    for file in files {
        let mut text = std::fs::read_to_string(&file).expect("fixture is readable");
        for (from, to) in rewrite.iter().chain(&relocated) {
            text = text.replace(from.as_str(), to);
        }
        let options = serde_saphyr::options! { budget: serde_saphyr::budget! { max_documents: usize::MAX, max_nodes: usize::MAX, max_events: usize::MAX, max_total_scalar_bytes: usize::MAX } };
        let documents: Vec<serde_json::Value> =
            serde_saphyr::from_multiple_with_options(&text, options).expect("fixture is valid YAML");
        for document in documents {
            let kind = document["kind"].as_str().unwrap_or_default().to_owned();
            if kind == "KubeletConfiguration" {
                kubelet_config = Some(document);
                continue;
            }
            let api_version = document["apiVersion"].as_str().unwrap_or_default();
            let (group, version, plural) = resource_of(api_version, &kind)
                .unwrap_or_else(|| panic!("fixture kind {api_version} {kind} unknown to the fake"));
            objects.entry(collection_key(group, version, plural)).or_default().push(document);
        }
    }
    (objects, kubelet_config)
}

/// The fixtures' own node and Service addresses (`127.0.10.x`, `127.0.20.x`).
const FIXTURE_ADDRESSES: &[&str] = &[
    // Longest first: 127.0.20.1 is a prefix of 127.0.20.11.
    "127.0.20.11",
    "127.0.20.12",
    "127.0.20.13",
    "127.0.10.1",
    "127.0.10.2",
    "127.0.10.3",
    "127.0.10.4",
    "127.0.10.5",
    "127.0.20.1",
    "127.0.20.2",
    "127.0.20.3",
];

/// Moves every fixture address a test did not place itself to an address of that
/// test's own (derived from the fake's own address, which is the test's), so that a scan
/// that probes never reaches another test's listeners. Nothing listens there: probes
/// find those ports closed.
fn relocate_fixture_addresses(home: SocketAddr, rewrite: &[(String, String)]) -> Vec<(String, String)> {
    let seed = home.to_string();
    FIXTURE_ADDRESSES
        .iter()
        .filter(|fixture| !rewrite.iter().any(|(from, _)| from == *fixture))
        .map(|fixture| ((*fixture).to_owned(), loopback::ip_with_ports(&format!("{seed}/{fixture}"), &[]).to_string()))
        .collect()
}

impl FakeApi {
    /// Starts a fake for the test named `test` on its own loopback address, port 6443.
    pub fn start(test: &str, settings: Settings) -> Self {
        Self::start_at(loopback::address(test, 6443), settings)
    }

    /// Starts a fake listening on `address`.
    pub fn start_at(address: SocketAddr, settings: Settings) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = pki::Ca::new("fake-kubernetes-ca");
        let leaf = ca.server(address.ip());
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.cert_der.clone()], leaf.key_der())
            .expect("server certificate");
        let mut tls = tls;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let (objects, kubelet_config) = load(&settings.cluster, &settings.rewrite, address);
        let shared = Arc::new(Shared {
            allow_only: Mutex::new(settings.allow_only.clone()),
            objects,
            kubelet_config,
            settings,
            log: Mutex::new(Vec::new()),
            continue_expired: AtomicBool::new(false),
            injected: AtomicUsize::new(0),
        });
        let handle = axum_server::Handle::new();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let handle = handle.clone();
            let shared = shared.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async move {
                    let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
                    let waiting = handle.clone();
                    tokio::spawn(async move {
                        let _ = ready_tx.send(waiting.listening().await);
                    });
                    if shared.settings.insecure_port {
                        let insecure = SocketAddr::new(address.ip(), 8080);
                        let app = Router::new().fallback(serve_insecure).with_state(shared.clone());
                        let listener = tokio::net::TcpListener::bind(insecure).await.expect("bind the insecure port");
                        tokio::spawn(async move { axum::serve(listener, app).await });
                    }
                    let app = Router::new().fallback(serve).with_state(shared);
                    axum_server::bind_rustls(address, config)
                        .handle(handle)
                        .serve(app.into_make_service())
                        .await
                        .expect("the fake API server runs");
                });
            })
        };
        ready_rx.recv().expect("the fake API server starts").expect("the fake API server listens");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        let token = shared.settings.token.clone();
        write_kubeconfig(&kubeconfig, &format!("https://{address}"), &ca.cert_pem, &token);
        Self { address, kubeconfig, ca_pem: ca.cert_pem, shared, handle, thread: Some(thread), dir }
    }

    /// From now on, forbids everything `cluster_role` (YAML) does not grant.
    pub fn enforce(&self, cluster_role: &str) {
        *self.shared.allow_only.lock().expect("grants lock") = Some(grants_of(cluster_role));
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.log.lock().expect("log lock").clone()
    }

    /// A kubeconfig like [`Self::kubeconfig`] but with another token (for 401 tests).
    pub fn kubeconfig_with_token(&self, token: &str) -> PathBuf {
        let path = self.dir.path().join(format!("kubeconfig-{token}"));
        write_kubeconfig(&path, &format!("https://{}", self.address), &self.ca_pem, token);
        path
    }

    /// A kubeconfig like [`Self::kubeconfig`] but trusting another CA (TLS failure tests).
    pub fn kubeconfig_trusting(&self, ca_pem: &str) -> PathBuf {
        let path = self.dir.path().join("kubeconfig-other-ca");
        write_kubeconfig(&path, &format!("https://{}", self.address), ca_pem, &self.shared.settings.token);
        path
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes a kubeconfig for `server`, trusting `ca_pem`, authenticating with `token`.
pub fn write_kubeconfig(path: &std::path::Path, server: &str, ca_pem: &str, token: &str) {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: tester\n  user:\n    token: {token}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: tester}}\ncurrent-context: fake\n"
    );
    std::fs::write(path, text).expect("kubeconfig is written");
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn json(value: &serde_json::Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

impl Shared {
    /// Whether `verb` on `resource` (and on the object `name`, for a named get) is refused.
    fn forbidden(&self, verb: &str, resource: &str, name: Option<&str>) -> bool {
        if self.settings.forbidden.iter().any(|refused| refused == resource) {
            return true;
        }
        let grants = self.allow_only.lock().expect("grants lock");
        let Some(grants) = grants.as_ref() else { return false };
        !grants.iter().any(|grant| {
            grant.resource == resource
                && grant.verbs.iter().any(|granted| granted == verb || granted == "*")
                // resourceNames allow only requests that name one of them.
                && grant.names.as_ref().is_none_or(|names| name.is_some_and(|name| names.iter().any(|n| n == name)))
        })
    }

    fn groups(&self) -> serde_json::Value {
        let mut names: Vec<String> = [
            "apps",
            "batch",
            "rbac.authorization.k8s.io",
            "networking.k8s.io",
            "policy",
            "discovery.k8s.io",
            "authorization.k8s.io",
        ]
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
        names.extend(self.settings.extra_groups.iter().cloned());
        let mut served: Vec<(String, String)> = names.into_iter().map(|name| (name, "v1".to_owned())).collect();
        // The groups of the custom kinds the fixtures hold, in their own versions.
        for key in self.objects.keys() {
            let mut parts = key.splitn(3, '/');
            if let (Some(group), Some(version)) = (parts.next(), parts.next())
                && !group.is_empty()
                && !served.iter().any(|(name, _)| name == group)
            {
                served.push((group.to_owned(), version.to_owned()));
            }
        }
        let groups: Vec<serde_json::Value> = served
            .iter()
            .map(|(name, version)| {
                let version = serde_json::json!({"groupVersion": format!("{name}/{version}"), "version": version});
                serde_json::json!({"name": name, "versions": [version], "preferredVersion": version})
            })
            .collect();
        serde_json::json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    fn list(&self, group: &str, version: &str, plural: &str, namespace: Option<&str>, query: &str) -> Response {
        // Equality selectors only (`key=value,key2=value2`), which is all seaworthy sends.
        let selector: Vec<(String, String)> = query_param(query, "labelSelector")
            .map(percent_decode)
            .map(|selector| {
                selector
                    .split(',')
                    .filter_map(|term| term.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let items: Vec<&serde_json::Value> = self
            .objects
            .get(&collection_key(group, version, plural))
            .map(|items| {
                items
                    .iter()
                    .filter(|item| namespace.is_none_or(|ns| item["metadata"]["namespace"] == ns))
                    .filter(|item| {
                        selector.iter().all(|(key, value)| item["metadata"]["labels"][key] == value.as_str())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let limit = query_param(query, "limit").and_then(|limit| limit.parse::<usize>().ok()).unwrap_or(usize::MAX);
        let offset = match query_param(query, "continue") {
            Some(token) => {
                if self.settings.expire_first_continue && !self.continue_expired.swap(true, Ordering::SeqCst) {
                    return status(
                        StatusCode::GONE,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent list result.",
                    );
                }
                match percent_decode(token).strip_prefix("offset:").and_then(|offset| offset.parse::<usize>().ok()) {
                    Some(offset) => offset,
                    None => return status(StatusCode::BAD_REQUEST, "BadRequest", "invalid continue token"),
                }
            }
            None => 0,
        };
        let end = offset.saturating_add(limit).min(items.len());
        let page: Vec<serde_json::Value> = items[offset.min(end)..end]
            .iter()
            .map(|item| {
                // Real list items carry neither apiVersion nor kind.
                let mut item = (*item).clone();
                if let Some(map) = item.as_object_mut() {
                    map.remove("apiVersion");
                    map.remove("kind");
                }
                item
            })
            .collect();
        let mut metadata = serde_json::json!({"resourceVersion": "1"});
        if end < items.len() {
            let next = if self.settings.repeat_continue { limit.min(items.len()) } else { end };
            metadata["continue"] = serde_json::Value::from(format!("offset:{next}"));
        }
        json(&serde_json::json!({"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": page}))
    }

    fn get(&self, group: &str, version: &str, plural: &str, namespace: Option<&str>, name: &str) -> Response {
        let found = self.objects.get(&collection_key(group, version, plural)).and_then(|items| {
            items.iter().find(|item| {
                item["metadata"]["name"] == name && namespace.is_none_or(|ns| item["metadata"]["namespace"] == ns)
            })
        });
        match found {
            Some(object) => json(object),
            None => status(StatusCode::NOT_FOUND, "NotFound", &format!("{plural} \"{name}\" not found")),
        }
    }

    fn review(&self, body: &[u8]) -> Response {
        let mut review: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let attributes = &review["spec"]["resourceAttributes"];
        let group = attributes["group"].as_str().unwrap_or_default();
        let plural = attributes["resource"].as_str().unwrap_or_default();
        let mut resource = if group.is_empty() { plural.to_owned() } else { format!("{plural}.{group}") };
        if let Some(subresource) = attributes["subresource"].as_str().filter(|subresource| !subresource.is_empty()) {
            resource = format!("{resource}/{subresource}");
        }
        let verb = attributes["verb"].as_str().unwrap_or_default();
        let name = attributes["name"].as_str().filter(|name| !name.is_empty());
        review["status"] = serde_json::json!({"allowed": !self.forbidden(verb, &resource, name)});
        json(&review)
    }
}

async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let bearer = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let authenticated = bearer.as_deref() == Some(format!("Bearer {}", shared.settings.token).as_str());
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    shared.log.lock().expect("log lock").push(Logged {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        authenticated,
        user_agent,
    });
    if let Some(injection) = &shared.settings.inject
        && path.starts_with(&injection.path_prefix)
        && shared.injected.fetch_add(1, Ordering::SeqCst) < injection.times
    {
        let code = StatusCode::from_u16(injection.status).expect("a valid status");
        let mut response = status(code, "Injected", "injected failure");
        if let Some(seconds) = injection.retry_after {
            let value: header::HeaderValue = if injection.retry_after_as_date {
                let date = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
                httpdate::fmt_http_date(date).parse().expect("a date is a header value")
            } else {
                seconds.into()
            };
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if !authenticated {
        let anonymous_path = path == "/version" || path == "/api";
        let settings = &shared.settings;
        return match (bearer.is_some(), anonymous_path, settings.anonymous) {
            (false, true, 200) => route(&shared, &method, &path, &query, &body),
            (false, false, _) if settings.anonymous_reads => route(&shared, &method, &path, &query, &body),
            (false, _, 403) => status(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("forbidden: User \"system:anonymous\" cannot get path \"{path}\""),
            ),
            _ => status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized"),
        };
    }
    route(&shared, &method, &path, &query, &body)
}

/// The insecure port: every request is served, no credentials asked.
async fn serve_insecure(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, body: Bytes) -> Response {
    route(&shared, &method, uri.path(), uri.query().unwrap_or_default(), &body)
}

fn route(shared: &Shared, method: &Method, path: &str, query: &str, body: &[u8]) -> Response {
    if method == Method::POST && path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
        return shared.review(body);
    }
    if method != Method::GET {
        return status(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "the fake serves GET only");
    }
    if let Some(body) = &shared.settings.impostor {
        return json(body);
    }
    match path {
        "/version" => {
            let version = &shared.settings.git_version;
            let minor = version.split('.').nth(1).unwrap_or_default();
            return json(
                &serde_json::json!({"major": "1", "minor": minor, "gitVersion": version, "gitCommit": "", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"}),
            );
        }
        "/api" => {
            return json(
                &serde_json::json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            );
        }
        "/apis" => return json(&shared.groups()),
        _ => {}
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, rest): (&str, &str, &[&str]) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", version, rest),
        ["apis", group, version, rest @ ..] => (group, version, rest),
        _ => return status(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource"),
    };
    if let ["nodes", node, "proxy", "configz"] = rest {
        if shared.forbidden("get", "nodes/proxy", Some(node)) {
            return status(StatusCode::FORBIDDEN, "Forbidden", "nodes/proxy is forbidden");
        }
        return match &shared.kubelet_config {
            Some(config) => json(&serde_json::json!({"kubeletconfig": config})),
            None => {
                status(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &format!("kubelet on {node} unreachable"))
            }
        };
    }
    let (namespace, plural, name) = match rest {
        [plural] => (None, *plural, None),
        ["namespaces", namespace, plural] => (Some(*namespace), *plural, None),
        ["namespaces", namespace, plural, name] => (Some(*namespace), *plural, Some(*name)),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return status(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource"),
    };
    let resource = if group.is_empty() { plural.to_owned() } else { format!("{plural}.{group}") };
    let verb = if name.is_some() { "get" } else { "list" };
    if shared.forbidden(verb, &resource, name) {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{resource} is forbidden: User \"tester\" cannot {verb} resource \"{plural}\" in API group \"{group}\""
            ),
        );
    }
    match name {
        Some(name) => shared.get(group, version, plural, namespace, name),
        None => shared.list(group, version, plural, namespace, query),
    }
}
