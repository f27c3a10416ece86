//! The one table of probe kinds: for each kind of endpoint, the component behind it,
//! its default port, the read-only requests made against it and how each answer is
//! read. Adding a probe means a row here, its fact type and its fixtures.

use super::hello::TlsVersion;
use super::http::Scheme;
use super::targets::TargetKind;

/// How one request is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A GET of this path.
    Get(Scheme, &'static str),
    /// The HTTP/2 client preface in plaintext (gRPC without TLS).
    H2cPreface,
    /// A hand-built TLS ClientHello; only the ServerHello is read, the handshake is
    /// never completed.
    Hello(Hello),
}

/// What a hand-built ClientHello offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hello {
    /// This protocol version, with ordinary cipher suites: is the version accepted?
    Version(TlsVersion),
    /// TLS 1.2 with only weak cipher suites: is any of them accepted?
    WeakCipherSuites,
}

/// How an answer is summed up in a few words (the body itself is never kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Nothing beyond the status.
    Status,
    /// A Kubernetes list: how many of these items.
    Listed(&'static str),
    /// A version document (`gitVersion`, or etcd's `etcdserver`).
    Version,
    /// API discovery.
    Discovery,
    /// Prometheus metrics: how many sample lines (those starting with the prefix, when
    /// one is given).
    Metrics(Option<&'static str>),
    /// A Go pprof index.
    Pprof,
    /// A component's `/configz`.
    Configz,
    /// The HTTP/2 SETTINGS frame a plaintext gRPC server sends.
    Http2Settings,
    /// The ServerHello to a hand-built ClientHello: version and suite.
    ServerHello,
}

/// One named request of a kind's plan.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// The name facts know it by, e.g. `pods`.
    pub name: &'static str,
    /// What is sent.
    pub method: Method,
    /// How its answer is summed up.
    pub reading: Reading,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct KindSpec {
    /// The component that should answer, e.g. `kubelet`.
    pub component: &'static str,
    /// Its port unless the configuration or the cluster says otherwise.
    pub default_port: u16,
    /// The requests, in the order they are made.
    pub requests: &'static [Request],
    /// Kinds probed on the same host alongside this one (the insecure port beside the
    /// API server, the read-only port beside the kubelet).
    pub companions: &'static [TargetKind],
}

const fn get(name: &'static str, scheme: Scheme, path: &'static str, reading: Reading) -> Request {
    Request { name, method: Method::Get(scheme, path), reading }
}

const fn hello(name: &'static str, hello: Hello) -> Request {
    Request { name, method: Method::Hello(hello), reading: Reading::ServerHello }
}

/// The TLS requests every TLS endpoint of a Kubernetes component gets.
const TLS_10: Request = hello("tls10", Hello::Version(TlsVersion::Tls10));
const TLS_11: Request = hello("tls11", Hello::Version(TlsVersion::Tls11));
const WEAK_SUITES: Request = hello("weakCipherSuites", Hello::WeakCipherSuites);

use Reading::{Configz, Discovery, Listed, Metrics, Pprof, Status, Version};
use Scheme::{Http, Https};

const APISERVER: KindSpec = KindSpec {
    component: "kube-apiserver",
    default_port: 6443,
    requests: &[
        get("version", Https, "/version", Version),
        get("api", Https, "/api", Discovery),
        get("namespaces", Https, "/api/v1/namespaces", Listed("namespaces")),
        get("metrics", Https, "/metrics", Metrics(None)),
        get("pprof", Https, "/debug/pprof/", Pprof),
        TLS_10,
        TLS_11,
        WEAK_SUITES,
    ],
    companions: &[TargetKind::ApiServerInsecure],
};

const APISERVER_INSECURE: KindSpec = KindSpec {
    component: "kube-apiserver",
    default_port: 8080,
    requests: &[get("version", Http, "/version", Version)],
    companions: &[],
};

const ETCD_CLIENT: KindSpec = KindSpec {
    component: "etcd",
    default_port: 2379,
    requests: &[
        get("plaintext", Http, "/version", Version),
        get("tls", Https, "/version", Version),
        get("metrics", Http, "/metrics", Metrics(None)),
        get("metricsTls", Https, "/metrics", Metrics(None)),
        get("pprof", Http, "/debug/pprof/", Pprof),
        get("pprofTls", Https, "/debug/pprof/", Pprof),
        TLS_10,
        TLS_11,
        WEAK_SUITES,
    ],
    companions: &[TargetKind::EtcdPeer],
};

const ETCD_PEER: KindSpec = KindSpec {
    component: "etcd-peer",
    default_port: 2380,
    requests: &[get("plaintext", Http, "/version", Version), get("tls", Https, "/version", Version)],
    companions: &[],
};

const KUBELET: KindSpec = KindSpec {
    component: "kubelet",
    default_port: 10250,
    requests: &[
        get("pods", Https, "/pods", Listed("pods")),
        get("metrics", Https, "/metrics/cadvisor", Metrics(Some("container_"))),
        TLS_10,
        TLS_11,
        WEAK_SUITES,
    ],
    companions: &[TargetKind::KubeletReadOnly, TargetKind::Cadvisor],
};

const KUBELET_READ_ONLY: KindSpec = KindSpec {
    component: "kubelet",
    default_port: 10255,
    requests: &[
        get("pods", Http, "/pods", Listed("pods")),
        get("metrics", Http, "/metrics/cadvisor", Metrics(Some("container_"))),
    ],
    companions: &[],
};

const CADVISOR: KindSpec = KindSpec {
    component: "cadvisor",
    default_port: 4194,
    requests: &[get("root", Http, "/", Status)],
    companions: &[],
};

/// The controller manager and the scheduler serve the same requests.
const COMPONENT_REQUESTS: &[Request] = &[
    get("metrics", Https, "/metrics", Metrics(None)),
    get("configz", Https, "/configz", Configz),
    TLS_10,
    TLS_11,
    WEAK_SUITES,
];

const CONTROLLER_MANAGER: KindSpec = KindSpec {
    component: "kube-controller-manager",
    default_port: 10257,
    requests: COMPONENT_REQUESTS,
    companions: &[],
};

const SCHEDULER: KindSpec =
    KindSpec { component: "kube-scheduler", default_port: 10259, requests: COMPONENT_REQUESTS, companions: &[] };

const TILLER: KindSpec = KindSpec {
    component: "tiller",
    default_port: 44134,
    requests: &[Request { name: "plaintext", method: Method::H2cPreface, reading: Reading::Http2Settings }],
    companions: &[],
};

const DASHBOARD: KindSpec = KindSpec {
    component: "dashboard",
    default_port: 443,
    requests: &[get("tls", Https, "/", Status)],
    companions: &[],
};

/// The row of `kind`.
pub fn spec(kind: TargetKind) -> &'static KindSpec {
    match kind {
        TargetKind::ApiServer => &APISERVER,
        TargetKind::ApiServerInsecure => &APISERVER_INSECURE,
        TargetKind::EtcdClient => &ETCD_CLIENT,
        TargetKind::EtcdPeer => &ETCD_PEER,
        TargetKind::Kubelet => &KUBELET,
        TargetKind::KubeletReadOnly => &KUBELET_READ_ONLY,
        TargetKind::Cadvisor => &CADVISOR,
        TargetKind::ControllerManager => &CONTROLLER_MANAGER,
        TargetKind::Scheduler => &SCHEDULER,
        TargetKind::Tiller => &TILLER,
        TargetKind::Dashboard => &DASHBOARD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_read_only_requests_with_distinct_names() {
        for kind in TargetKind::ALL {
            let requests = spec(kind).requests;
            assert!(!requests.is_empty(), "{kind:?}");
            let mut names: Vec<&str> = requests.iter().map(|request| request.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), requests.len(), "{kind:?}: a request name twice");
            for request in requests {
                if let Method::Get(_, path) = request.method {
                    assert!(path.starts_with('/') && !path.contains('?'), "{kind:?}: {path}");
                }
            }
        }
    }
}
