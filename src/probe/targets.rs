//! Which endpoints to probe, derived only from the cluster's own objects: nothing
//! outside the cluster's addresses is ever a target.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds;
use crate::facts::{Component, ComponentFact};
use crate::inventory::{Inventory, Node, Service};

/// What is expected to listen at a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TargetKind {
    /// The API server's secure port.
    ApiServer,
    /// The API server's historical insecure port (8080).
    ApiServerInsecure,
    /// etcd's client port.
    EtcdClient,
    /// etcd's peer port.
    EtcdPeer,
    /// The kubelet API (10250, TLS).
    Kubelet,
    /// The kubelet read-only port (10255, plain HTTP).
    KubeletReadOnly,
    /// The standalone cAdvisor port (4194).
    Cadvisor,
    /// The controller manager's secure port (10257).
    ControllerManager,
    /// The scheduler's secure port (10259).
    Scheduler,
    /// Helm v2's Tiller (gRPC, 44134).
    Tiller,
    /// The Kubernetes Dashboard Service.
    Dashboard,
}

impl TargetKind {
    /// The name reports use, as in the JSON report (`apiServer`, `kubelet`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::ApiServer => "apiServer",
            Self::ApiServerInsecure => "apiServerInsecure",
            Self::EtcdClient => "etcdClient",
            Self::EtcdPeer => "etcdPeer",
            Self::Kubelet => "kubelet",
            Self::KubeletReadOnly => "kubeletReadOnly",
            Self::Cadvisor => "cadvisor",
            Self::ControllerManager => "controllerManager",
            Self::Scheduler => "scheduler",
            Self::Tiller => "tiller",
            Self::Dashboard => "dashboard",
        }
    }

    /// Every kind.
    pub const ALL: [Self; 11] = [
        Self::ApiServer,
        Self::ApiServerInsecure,
        Self::EtcdClient,
        Self::EtcdPeer,
        Self::Kubelet,
        Self::KubeletReadOnly,
        Self::Cadvisor,
        Self::ControllerManager,
        Self::Scheduler,
        Self::Tiller,
        Self::Dashboard,
    ];
}

/// One endpoint to probe, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// What should listen there.
    pub kind: TargetKind,
    /// Host (an IP address or a name from the kubeconfig).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Why it is a target, e.g. `node cp1 InternalIP`.
    pub origin: String,
}

/// Ports where components listen; the configuration may override the defaults of the
/// kinds table.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    /// API server secure port, when an endpoint does not say.
    pub apiserver: u16,
    /// API server insecure port, unless its `--insecure-port` says.
    pub apiserver_insecure: u16,
    /// etcd client port.
    pub etcd_client: u16,
    /// etcd peer port.
    pub etcd_peer: u16,
    /// Kubelet API.
    pub kubelet: u16,
    /// Kubelet read-only port.
    pub kubelet_read_only: u16,
    /// cAdvisor.
    pub cadvisor: u16,
    /// Controller manager secure port, unless its `--secure-port` says.
    pub controller_manager: u16,
    /// Scheduler secure port, unless its `--secure-port` says.
    pub scheduler: u16,
    /// Helm v2's Tiller.
    pub tiller: u16,
}

impl Ports {
    /// The port of `kind`.
    pub fn of(self, kind: TargetKind) -> u16 {
        match kind {
            TargetKind::ApiServer => self.apiserver,
            TargetKind::ApiServerInsecure => self.apiserver_insecure,
            TargetKind::EtcdClient => self.etcd_client,
            TargetKind::EtcdPeer => self.etcd_peer,
            TargetKind::Kubelet => self.kubelet,
            TargetKind::KubeletReadOnly => self.kubelet_read_only,
            TargetKind::Cadvisor => self.cadvisor,
            TargetKind::ControllerManager => self.controller_manager,
            TargetKind::Scheduler => self.scheduler,
            TargetKind::Tiller => self.tiller,
            TargetKind::Dashboard => kinds::spec(kind).default_port,
        }
    }
}

impl Default for Ports {
    fn default() -> Self {
        let default = |kind| kinds::spec(kind).default_port;
        Self {
            apiserver: default(TargetKind::ApiServer),
            apiserver_insecure: default(TargetKind::ApiServerInsecure),
            etcd_client: default(TargetKind::EtcdClient),
            etcd_peer: default(TargetKind::EtcdPeer),
            kubelet: default(TargetKind::Kubelet),
            kubelet_read_only: default(TargetKind::KubeletReadOnly),
            cadvisor: default(TargetKind::Cadvisor),
            controller_manager: default(TargetKind::ControllerManager),
            scheduler: default(TargetKind::Scheduler),
            tiller: default(TargetKind::Tiller),
        }
    }
}

/// A target given by hand (`--probe-target HOST:PORT=KIND`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManualTarget {
    /// What should listen there: `apiserver`, `etcd`, `kubelet`, `tiller` or `dashboard`.
    pub kind: TargetKind,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl std::str::FromStr for ManualTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || format!("`{text}` is not HOST:PORT=KIND (KIND: apiserver, etcd, kubelet, tiller, dashboard)");
        let (address, kind) = text.rsplit_once('=').ok_or_else(usage)?;
        let kind = match kind {
            "apiserver" => TargetKind::ApiServer,
            "etcd" => TargetKind::EtcdClient,
            "kubelet" => TargetKind::Kubelet,
            "tiller" => TargetKind::Tiller,
            "dashboard" => TargetKind::Dashboard,
            _ => return Err(usage()),
        };
        let (host, port) = address.rsplit_once(':').ok_or_else(usage)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = port.parse().ok().filter(|port| *port > 0).ok_or_else(usage)?;
        if host.is_empty() {
            return Err(usage());
        }
        Ok(Self { kind, host: host.to_owned(), port })
    }
}

/// Where the scan runs from, which decides what it can reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Inside the cluster (in-cluster configuration): Service addresses route there.
    pub in_cluster: bool,
    /// `--probe-service-addresses`: the operator says this machine reaches them.
    pub service_addresses_opted_in: bool,
}

impl Position {
    /// Whether Service (ClusterIP) addresses are the cluster's here. From a laptop or a
    /// CI runner they are not: the default route takes them to whatever else holds
    /// those addresses on that network.
    pub fn reaches_service_addresses(self) -> bool {
        self.in_cluster || self.service_addresses_opted_in
    }
}

/// The kind of network an address is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AddressClass {
    /// 127.0.0.0/8, ::1: the scanning machine itself.
    Loopback,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// 0.0.0.0, ::.
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (shared), fc00::/7.
    Private,
    /// Anything else.
    Public,
}

impl AddressClass {
    /// The class of an IP address; `None` for a name.
    pub fn of(host: &str) -> Option<Self> {
        use std::net::IpAddr;
        // `::ffff:127.0.0.1` is 127.0.0.1: an IPv4-mapped address is classed as its IPv4.
        Some(match host.parse::<IpAddr>().ok()?.to_canonical() {
            IpAddr::V4(ip) if ip.is_loopback() => Self::Loopback,
            IpAddr::V4(ip) if ip.is_link_local() => Self::LinkLocal,
            IpAddr::V4(ip) if ip.is_unspecified() => Self::Unspecified,
            IpAddr::V4(ip) if ip.is_multicast() || ip.is_broadcast() => Self::Multicast,
            IpAddr::V4(ip) if ip.is_private() || (ip.octets()[0] == 100 && ip.octets()[1] & 0xc0 == 64) => {
                Self::Private
            }
            IpAddr::V6(ip) if ip.is_loopback() => Self::Loopback,
            IpAddr::V6(ip) if ip.is_unicast_link_local() => Self::LinkLocal,
            IpAddr::V6(ip) if ip.is_unspecified() => Self::Unspecified,
            IpAddr::V6(ip) if ip.is_multicast() => Self::Multicast,
            IpAddr::V6(ip) if ip.is_unique_local() => Self::Private,
            IpAddr::V4(_) | IpAddr::V6(_) => Self::Public,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Unspecified => "unspecified",
            Self::Multicast => "multicast",
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

/// Whether an address of class `target` belongs to a cluster whose API server this
/// scan reaches at an address of class `apiserver` (`None`: a name, or none known). A
/// loopback or link-local node address is the cluster's only when the API server is
/// there too (a local test cluster); a private one, unless the API server is public.
fn in_scope(target: Option<AddressClass>, apiserver: Option<AddressClass>) -> bool {
    match target {
        None | Some(AddressClass::Public) => true,
        Some(AddressClass::Private) => apiserver != Some(AddressClass::Public),
        Some(AddressClass::Unspecified | AddressClass::Multicast) => false,
        Some(class @ (AddressClass::Loopback | AddressClass::LinkLocal)) => apiserver == Some(class),
    }
}

/// Why a target the cluster names is not probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeftOutReason {
    /// A Service address, and the scan runs outside the cluster.
    ServiceAddressFromOutside,
    /// An address of another class than the API server's: not the cluster's as seen
    /// from here (a node address of 127.0.0.1 is the scanning machine).
    AddressClass {
        /// The target's class.
        target: AddressClass,
        /// The API server's, when it is an address.
        apiserver: Option<AddressClass>,
    },
    /// The same host:port is probed once, as another kind of target.
    AlreadyProbed {
        /// The kind it is probed as.
        as_kind: TargetKind,
    },
}

impl std::fmt::Display for LeftOutReason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ServiceAddressFromOutside => formatter.write_str(
                "service addresses are reachable only from inside the cluster: run in-cluster or pass --probe-service-addresses",
            ),
            Self::AlreadyProbed { as_kind } => {
                write!(formatter, "the same address and port is probed once, as {}", as_kind.name())
            }
            Self::AddressClass { target, apiserver } => {
                let apiserver = apiserver.map_or("a name", AddressClass::name);
                write!(
                    formatter,
                    "{} addresses are not the cluster's when its API server is {apiserver}: name them with --probe-target to probe them",
                    target.name()
                )
            }
        }
    }
}

/// A target that is not probed, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LeftOut {
    /// The target as it would have been probed.
    pub target: Target,
    /// Why it is not.
    pub reason: LeftOutReason,
}

/// What a scan probes, and what it leaves out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The targets, deduplicated and sorted.
    pub targets: Vec<Target>,
    /// Targets the cluster names that are not probed from here, with the reason.
    pub left_out: Vec<LeftOut>,
}

/// The endpoints of a cluster, deduplicated and sorted: those its own objects name, and
/// those given by hand. Each API server, etcd and kubelet host also gets its companion
/// ports (insecure port, peer port, read-only and cAdvisor ports). Service addresses
/// are probed only from where they reach the cluster ([`Position`]). Planned from the
/// inventory, before any fact is built: the facts are built once, with the answers.
pub fn plan(inventory: &Inventory, ports: Ports, manual: &[ManualTarget], position: Position) -> Plan {
    let mut left_out = Vec::new();
    let mut targets = BTreeSet::new();
    let mut add = |kind, host: &str, port, origin: String| {
        targets.insert(Target { kind, host: host.to_owned(), port, origin });
    };
    let nodes = &inventory.nodes.items;
    let node_ips = |name: &str| -> Vec<&String> {
        nodes.iter().filter(|node| node.meta.name == name).flat_map(|node| &node.internal_ips).collect()
    };
    let components = crate::facts::control_plane_components(inventory);
    // API servers: the kubeconfig's server and the kubernetes Service's endpoints.
    if let Some((host, port)) = inventory.cluster.server.as_deref().and_then(host_and_port) {
        add(TargetKind::ApiServer, &host, port.unwrap_or(443), "kubeconfig server".into());
    }
    for slice in &inventory.apiserver_endpoints.items {
        let port = slice.ports.first().and_then(|port| u16::try_from(*port).ok()).unwrap_or(ports.apiserver);
        let origin = format!("{} endpoint", key_of(&slice.meta));
        for address in &slice.addresses {
            add(TargetKind::ApiServer, address, port, origin.clone());
        }
    }
    // etcd: where the API servers say it is, else on the control-plane nodes.
    let mut etcd_servers = BTreeSet::new();
    for component in components.iter().filter(|component| component.component == Component::KubeApiserver) {
        for url in component.flag_lists.get("etcd-servers").into_iter().flatten() {
            let Some((host, port)) = host_and_port(url) else { continue };
            let port = port.unwrap_or(ports.etcd_client);
            // A loopback URL means "on the API server's own host", not on this machine.
            if is_loopback(&host) {
                for ip in node_ips(&component.node) {
                    let origin = format!("kube-apiserver --etcd-servers on node {}", component.node);
                    etcd_servers.insert((ip.clone(), port, origin));
                }
            } else {
                etcd_servers.insert((host, port, "kube-apiserver --etcd-servers".into()));
            }
        }
    }
    if etcd_servers.is_empty() {
        for node in nodes.iter().filter(|node| crate::facts::is_control_plane_node(&node.meta.labels)) {
            for ip in &node.internal_ips {
                let origin = format!("control-plane node {} InternalIP", node.meta.name);
                add(TargetKind::EtcdClient, ip, ports.etcd_client, origin);
            }
        }
    }
    for (host, port, origin) in etcd_servers {
        add(TargetKind::EtcdClient, &host, port, origin);
    }
    // The controller manager and the scheduler: their secure ports on their nodes.
    for component in &components {
        let (kind, default_port) = match component.component {
            Component::KubeControllerManager => (TargetKind::ControllerManager, ports.controller_manager),
            Component::KubeScheduler => (TargetKind::Scheduler, ports.scheduler),
            Component::KubeApiserver | Component::Etcd => continue,
        };
        let port = match component.flags.get("secure-port").map(|port| port.parse::<u16>()) {
            None => default_port,
            // `--secure-port=0` serves nothing; an unreadable value decides nothing.
            Some(Ok(0) | Err(_)) => continue,
            Some(Ok(port)) => port,
        };
        for ip in node_ips(&component.node) {
            add(kind, ip, port, format!("{} on node {}", component.component.as_str(), component.node));
        }
    }
    // Kubelets: every node's InternalIP.
    for node in nodes {
        for ip in &node.internal_ips {
            add(TargetKind::Kubelet, ip, ports.kubelet, format!("node {} InternalIP", node.meta.name));
        }
    }
    // Add-ons: Tiller and the Dashboard, on their Services' cluster IPs.
    for service in inventory.services.items.iter().filter(|service| !service.cluster_ip.is_empty()) {
        let (kind, wanted) = if is_tiller(service, ports.tiller) {
            (TargetKind::Tiller, ports.tiller)
        } else if is_dashboard(service) {
            (TargetKind::Dashboard, 443)
        } else {
            continue;
        };
        let port = if service.ports.contains(&i64::from(wanted)) { Some(wanted) } else { None };
        if let Some(port) = port.or_else(|| service.ports.first().and_then(|port| u16::try_from(*port).ok())) {
            let origin = format!("{} clusterIP", key_of(&service.meta));
            if position.reaches_service_addresses() {
                add(kind, &service.cluster_ip, port, origin);
            } else {
                let target = Target { kind, host: service.cluster_ip.clone(), port, origin };
                left_out.push(LeftOut { target, reason: LeftOutReason::ServiceAddressFromOutside });
            }
        }
    }
    for target in manual {
        add(target.kind, &target.host, target.port, "--probe-target".into());
    }
    let companions: Vec<Target> =
        targets.iter().flat_map(|target| companions(target, ports, &components, nodes)).collect();
    targets.extend(companions);
    // One target per (kind, host, port): the first reason found is kept.
    let mut seen = BTreeSet::new();
    let targets: Vec<Target> =
        targets.into_iter().filter(|target| seen.insert((target.kind, target.host.clone(), target.port))).collect();
    let targets = within_class(targets, inventory.cluster.server.as_deref(), manual, &mut left_out);
    let targets = once_per_address(targets, &mut left_out);
    left_out.sort();
    Plan { targets, left_out }
}

/// The companion ports of a target on the same host, as the kinds table lists them. The
/// insecure port is where the API server's `--insecure-port` on that host says.
fn companions(target: &Target, ports: Ports, components: &[ComponentFact], nodes: &[Node]) -> Vec<Target> {
    let on_host = |component: &ComponentFact| {
        nodes.iter().any(|node| node.meta.name == component.node && node.internal_ips.contains(&target.host))
    };
    kinds::spec(target.kind)
        .companions
        .iter()
        .map(|&kind| {
            let port = match kind {
                TargetKind::ApiServerInsecure => components
                    .iter()
                    .filter(|component| component.component == Component::KubeApiserver && on_host(component))
                    .find_map(|component| component.flags.get("insecure-port")?.parse::<u16>().ok())
                    .filter(|port| *port != 0)
                    .unwrap_or(ports.apiserver_insecure),
                _ => ports.of(kind),
            };
            Target { kind, host: target.host.clone(), port, origin: target.origin.clone() }
        })
        .collect()
}

/// `Kind/namespace/name`, as findings name objects.
fn key_of(meta: &crate::inventory::Meta) -> String {
    match &meta.namespace {
        Some(namespace) => format!("{}/{namespace}/{}", meta.kind, meta.name),
        None => format!("{}/{}", meta.kind, meta.name),
    }
}

/// Each host:port once, as the first kind that names it (in [`TargetKind`] order): an
/// object that names a node's kubelet port as its Dashboard must not make the scan
/// knock twice. The others go to `left_out`.
fn once_per_address(targets: Vec<Target>, left_out: &mut Vec<LeftOut>) -> Vec<Target> {
    let mut first: std::collections::BTreeMap<(String, u16), TargetKind> = std::collections::BTreeMap::new();
    let mut kept = Vec::with_capacity(targets.len());
    for target in targets {
        if let Some(kind) = first.get(&(target.host.clone(), target.port)) {
            left_out.push(LeftOut { target, reason: LeftOutReason::AlreadyProbed { as_kind: *kind } });
        } else {
            first.insert((target.host.clone(), target.port), target.kind);
            kept.push(target);
        }
    }
    kept
}

/// The targets whose addresses are of the API server's class ([`in_scope`]); the others
/// go to `left_out`. Those named by hand are probed as given.
fn within_class(
    targets: Vec<Target>,
    server: Option<&str>,
    manual: &[ManualTarget],
    left_out: &mut Vec<LeftOut>,
) -> Vec<Target> {
    let apiserver = server.and_then(host_and_port).and_then(|(host, _)| AddressClass::of(&host));
    let by_hand = |target: &Target| manual.iter().any(|manual| manual.host == target.host);
    let (kept, out_of_class): (Vec<Target>, Vec<Target>) =
        targets.into_iter().partition(|target| by_hand(target) || in_scope(AddressClass::of(&target.host), apiserver));
    left_out.extend(out_of_class.into_iter().map(|target| {
        let class = AddressClass::of(&target.host).expect("only addresses are out of class");
        LeftOut { target, reason: LeftOutReason::AddressClass { target: class, apiserver } }
    }));
    kept
}

/// `localhost`, `::1` or 127.0.0.x: the host's own loopback, as kubeadm writes it
/// (`https://127.0.0.1:2379`).
fn is_loopback(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.octets()[..3] == [127, 0, 0],
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => host == "localhost",
    }
}

fn is_tiller(service: &Service, port: u16) -> bool {
    service.meta.name == "tiller-deploy"
        || service.ports.contains(&i64::from(port))
        || (service.selector.get("app").is_some_and(|app| app == "helm")
            && service.selector.get("name").is_some_and(|name| name == "tiller"))
}

fn is_dashboard(service: &Service) -> bool {
    service.meta.name == "kubernetes-dashboard"
        || service.selector.get("k8s-app").is_some_and(|app| app == "kubernetes-dashboard")
}

/// Host and port of a URL (`https://10.0.0.1:6443`), or of a bare `host:port`.
fn host_and_port(url: &str) -> Option<(String, Option<u16>)> {
    let uri: http::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::manifests;

    fn read(dir: &std::path::Path) -> Inventory {
        let mut inventory =
            manifests::read(&[dir.to_path_buf()], manifests::DEFAULT_MAX_INPUT_BYTES).expect("the example reads");
        // As the fake API server serves it: on loopback, like the nodes.
        inventory.cluster.server = Some("https://127.0.10.1:6443".into());
        inventory
    }

    fn weak() -> Inventory {
        read(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/clusters/weak")))
    }

    /// The weak example without its control-plane component pods.
    fn without_components() -> Inventory {
        let mut inventory = weak();
        inventory.workloads.items.retain(|workload| workload.meta.namespace.as_deref() != Some("kube-system"));
        inventory
    }

    /// The targets planned from inside the cluster, where every address is reachable.
    fn inside(inventory: &Inventory, ports: Ports, manual: &[ManualTarget]) -> Vec<Target> {
        plan(inventory, ports, manual, Position { in_cluster: true, service_addresses_opted_in: false }).targets
    }

    fn of_kind(targets: &[Target], kind: TargetKind) -> Vec<String> {
        targets
            .iter()
            .filter(|target| target.kind == kind)
            .map(|target| format!("{}:{}", target.host, target.port))
            .collect()
    }

    #[test]
    fn targets_come_from_the_clusters_own_objects() {
        let targets = inside(&weak(), Ports::default(), &[]);
        assert_eq!(
            of_kind(&targets, TargetKind::ApiServer),
            vec!["127.0.10.1:6443"],
            "the kubernetes Service endpoint"
        );
        assert_eq!(of_kind(&targets, TargetKind::ApiServerInsecure), vec!["127.0.10.1:8080"]);
        assert_eq!(
            of_kind(&targets, TargetKind::EtcdClient),
            vec!["127.0.10.1:2379"],
            "--etcd-servers=http://127.0.0.1:2379 means the API server's own node, cp1"
        );
        assert_eq!(of_kind(&targets, TargetKind::EtcdPeer), vec!["127.0.10.1:2380"]);
        assert_eq!(of_kind(&targets, TargetKind::Tiller), vec!["127.0.10.4:44134"], "the tiller-deploy Service");
        assert_eq!(of_kind(&targets, TargetKind::Dashboard), vec!["127.0.10.5:443"]);
        assert!(
            targets.iter().all(|target| !target.host.starts_with("127.0.0.")),
            "nothing on the scanning machine itself: {targets:?}"
        );
        assert_eq!(
            of_kind(&targets, TargetKind::Kubelet),
            vec!["127.0.10.1:10250", "127.0.10.2:10250", "127.0.10.3:10250"]
        );
        assert_eq!(of_kind(&targets, TargetKind::KubeletReadOnly).len(), 3);
        assert_eq!(of_kind(&targets, TargetKind::Cadvisor).len(), 3);
    }

    #[test]
    fn service_addresses_are_planned_only_from_where_they_reach_the_cluster() {
        let inventory = weak();
        let outside = plan(&inventory, Ports::default(), &[], Position::default());
        let services = ["127.0.10.4", "127.0.10.5"];
        assert!(
            outside.targets.iter().all(|target| !services.contains(&target.host.as_str())),
            "no Service address from outside: {:?}",
            outside.targets
        );
        let left_out: Vec<(TargetKind, String, LeftOutReason)> = outside
            .left_out
            .iter()
            .map(|left| (left.target.kind, format!("{}:{}", left.target.host, left.target.port), left.reason))
            .collect();
        assert_eq!(
            left_out,
            vec![
                (TargetKind::Tiller, "127.0.10.4:44134".into(), LeftOutReason::ServiceAddressFromOutside),
                (TargetKind::Dashboard, "127.0.10.5:443".into(), LeftOutReason::ServiceAddressFromOutside),
            ]
        );
        // Everything else the cluster names is still planned from outside.
        assert_eq!(of_kind(&outside.targets, TargetKind::Kubelet).len(), 3);
        // In the cluster, or when the operator opts in, they are targets.
        for position in [
            Position { in_cluster: true, service_addresses_opted_in: false },
            Position { in_cluster: false, service_addresses_opted_in: true },
        ] {
            let reached = plan(&inventory, Ports::default(), &[], position);
            assert_eq!(of_kind(&reached.targets, TargetKind::Tiller), vec!["127.0.10.4:44134"], "{position:?}");
            assert_eq!(of_kind(&reached.targets, TargetKind::Dashboard), vec!["127.0.10.5:443"], "{position:?}");
            assert!(reached.left_out.is_empty(), "{position:?}");
        }
    }

    /// A plan for the weak example's objects, with its nodes' addresses replaced.
    fn plan_with_nodes(server: &str, addresses: &[&str], manual: &[ManualTarget]) -> Plan {
        let mut inventory = without_components();
        inventory.cluster.server = Some(server.into());
        inventory.apiserver_endpoints.items.clear();
        for (node, address) in inventory.nodes.items.iter_mut().zip(addresses) {
            node.internal_ips = vec![(*address).into()];
        }
        plan(&inventory, Ports::default(), manual, Position::default())
    }

    #[test]
    fn only_addresses_of_the_api_servers_class_are_the_clusters() {
        let kubelets = |plan: &Plan| of_kind(&plan.targets, TargetKind::Kubelet);
        let left_out = |plan: &Plan| -> Vec<String> {
            plan.left_out
                .iter()
                .filter(|left| left.target.kind == TargetKind::Kubelet)
                .map(|left| format!("{} {}", left.target.host, left.reason))
                .collect()
        };
        // A private API server: private nodes are the cluster's; the scanning machine's
        // own loopback, link-local, unspecified and multicast addresses are not.
        let private = plan_with_nodes("https://10.0.0.1:6443", &["10.0.0.5", "127.0.0.1", "169.254.1.1"], &[]);
        assert_eq!(kubelets(&private), vec!["10.0.0.5:10250"]);
        assert_eq!(
            left_out(&private),
            vec![
                "127.0.0.1 loopback addresses are not the cluster's when its API server is private: name them with --probe-target to probe them",
                "169.254.1.1 link-local addresses are not the cluster's when its API server is private: name them with --probe-target to probe them",
            ]
        );
        let odd = plan_with_nodes("https://10.0.0.1:6443", &["0.0.0.0", "224.0.0.1", "::ffff:127.0.0.1"], &[]);
        assert!(kubelets(&odd).is_empty(), "{:?}", odd.targets);
        assert_eq!(left_out(&odd).len(), 3, "an IPv4-mapped loopback is loopback too");
        // A public API server: private node addresses are this machine's network.
        let public = plan_with_nodes("https://203.0.113.1:443", &["10.0.0.5", "203.0.113.7", "fd00::7"], &[]);
        assert_eq!(kubelets(&public), vec!["203.0.113.7:10250"]);
        assert_eq!(left_out(&public).len(), 2, "10.0.0.5 and fd00::7");
        // A local test cluster: its API server on loopback keeps loopback nodes in scope.
        let local = plan_with_nodes("https://127.0.10.1:6443", &["127.0.10.1", "127.0.10.2", "::1"], &[]);
        assert_eq!(kubelets(&local), vec!["127.0.10.1:10250", "127.0.10.2:10250", "::1:10250"]);
        // Named by hand, an address is probed whatever its class.
        let manual = ["127.0.0.1:10250=kubelet".parse().expect("valid")];
        let by_hand = plan_with_nodes("https://10.0.0.1:6443", &["10.0.0.5"], &manual);
        assert!(kubelets(&by_hand).contains(&"127.0.0.1:10250".to_owned()), "{:?}", by_hand.targets);
        // Each host:port once, however many objects name it, and as whatever kind.
        let twice = plan_with_nodes("https://10.0.0.1:6443", &["10.0.0.5", "10.0.0.5", "10.0.0.5"], &[]);
        assert_eq!(kubelets(&twice), vec!["10.0.0.5:10250"]);
        let mut inventory = weak();
        let dashboard = inventory.services.items.iter_mut().find(|service| service.cluster_ip == "127.0.10.5");
        let dashboard = dashboard.expect("the weak example's Dashboard Service");
        (dashboard.cluster_ip, dashboard.ports) = ("127.0.10.2".into(), vec![10250]);
        let inside = Position { in_cluster: true, service_addresses_opted_in: false };
        let knocked = plan(&inventory, Ports::default(), &[], inside);
        let at = |plan: &Plan| {
            plan.targets.iter().filter(|target| target.host == "127.0.10.2" && target.port == 10250).count()
        };
        assert_eq!(at(&knocked), 1, "{:?}", knocked.targets);
        assert_eq!(of_kind(&knocked.targets, TargetKind::Kubelet).len(), 3, "probed as the kubelet it is");
        let again: Vec<String> = knocked.left_out.iter().map(|left| left.reason.to_string()).collect();
        assert_eq!(again, vec!["the same address and port is probed once, as kubelet"]);
    }

    #[test]
    fn a_tenant_pods_flags_never_decide_a_target() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let weak = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/clusters/weak"));
        for entry in std::fs::read_dir(weak).expect("the weak example") {
            let path = entry.expect("an entry").path();
            std::fs::copy(&path, dir.path().join(path.file_name().expect("a name"))).expect("copy");
        }
        // The same apiserver look-alike in a tenant namespace, and in kube-system on a worker.
        let lookalike = |namespace: &str, node: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver-x, namespace: {namespace}, labels: {{tier: control-plane}}}}\nspec:\n  nodeName: {node}\n  containers: [{{name: a, image: 'registry.k8s.io/kube-apiserver:v1.30.4', command: [kube-apiserver, '--etcd-servers=https://127.0.99.9:2379']}}]\n"
            )
        };
        let tenants = format!("{}---\n{}", lookalike("tenant", "cp1"), lookalike("kube-system", "worker1"));
        std::fs::write(dir.path().join("tenants.yaml"), &tenants).expect("write");
        let plan = inside(&read(dir.path()), Ports::default(), &[]);
        assert!(plan.iter().all(|target| target.host != "127.0.99.9"), "a tenant's flag is no target: {plan:?}");
        // Control: the same pod, proven (kube-system, on the control-plane node), is followed.
        std::fs::write(dir.path().join("tenants.yaml"), lookalike("kube-system", "cp1")).expect("write");
        let plan = inside(&read(dir.path()), Ports::default(), &[]);
        assert!(of_kind(&plan, TargetKind::EtcdClient).contains(&"127.0.99.9:2379".to_owned()), "{plan:?}");
    }

    #[test]
    fn without_etcd_servers_the_control_plane_nodes_are_tried() {
        let targets = inside(&without_components(), Ports::default(), &[]);
        assert_eq!(of_kind(&targets, TargetKind::EtcdClient), vec!["127.0.10.1:2379"], "only control-plane nodes");
    }

    #[test]
    fn a_kubeconfig_server_is_a_target_and_ports_can_be_overridden() {
        let mut inventory = weak();
        inventory.cluster.server = Some("https://127.0.10.9:7443/".into());
        let ports = Ports { kubelet_read_only: 10266, ..Ports::default() };
        let targets = inside(&inventory, ports, &[]);
        assert!(of_kind(&targets, TargetKind::ApiServer).contains(&"127.0.10.9:7443".to_owned()));
        assert!(of_kind(&targets, TargetKind::KubeletReadOnly).iter().all(|target| target.ends_with(":10266")));
    }

    #[test]
    fn targets_can_be_added_by_hand_with_their_companion_ports() {
        let manual: ManualTarget = "10.0.0.9:2379=etcd".parse().expect("valid");
        assert_eq!(manual, ManualTarget { kind: TargetKind::EtcdClient, host: "10.0.0.9".into(), port: 2379 });
        let targets = inside(&weak(), Ports::default(), &[manual, "[::1]:10250=kubelet".parse().expect("valid")]);
        assert!(of_kind(&targets, TargetKind::EtcdPeer).contains(&"10.0.0.9:2380".to_owned()));
        assert!(of_kind(&targets, TargetKind::KubeletReadOnly).contains(&"::1:10255".to_owned()));
        for bad in ["10.0.0.9:2379", "10.0.0.9=etcd", "10.0.0.9:0=etcd", "10.0.0.9:2379=redis", ":2379=etcd"] {
            assert!(bad.parse::<ManualTarget>().is_err(), "{bad}");
        }
    }

    /// Every planned target as `kind host:port (origin)`, and every one left out with
    /// its reason.
    fn described(plan: &Plan) -> (Vec<String>, Vec<String>) {
        let target = |target: &Target| {
            format!(
                "{} {} ({})",
                target.kind.name(),
                super::super::run::host_port(&target.host, target.port),
                target.origin
            )
        };
        let left = |left: &LeftOut| format!("{}: {}", target(&left.target), left.reason);
        (plan.targets.iter().map(target).collect(), plan.left_out.iter().map(left).collect())
    }

    #[test]
    fn the_plan_of_a_cluster_naming_addresses_of_every_kind_is_exactly_its_own() {
        let mut inventory = read(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/plans/mixed")));
        inventory.cluster.server = Some("https://10.0.0.1:6443".into());
        let (targets, left_out) = described(&plan(&inventory, Ports::default(), &[], Position::default()));
        assert_eq!(
            targets,
            [
                "apiServer 10.0.0.1:6443 (EndpointSlice/default/kubernetes endpoint)",
                "apiServerInsecure 10.0.0.1:8080 (EndpointSlice/default/kubernetes endpoint)",
                // Two URLs for one etcd (127.0.0.1 on cp1 is 10.0.0.1): probed once.
                "etcdClient 10.0.0.1:2379 (kube-apiserver --etcd-servers)",
                "etcdPeer 10.0.0.1:2380 (kube-apiserver --etcd-servers)",
                // worker1-old shares worker1's address: probed once.
                "kubelet 10.0.0.1:10250 (node cp1 InternalIP)",
                "kubelet 10.0.0.2:10250 (node worker1 InternalIP)",
                "kubeletReadOnly 10.0.0.1:10255 (node cp1 InternalIP)",
                "kubeletReadOnly 10.0.0.2:10255 (node worker1 InternalIP)",
                "cadvisor 10.0.0.1:4194 (node cp1 InternalIP)",
                "cadvisor 10.0.0.2:4194 (node worker1 InternalIP)",
                "controllerManager 10.0.0.1:10357 (kube-controller-manager on node cp1)",
                "scheduler 10.0.0.1:10259 (kube-scheduler on node cp1)",
            ],
            "the tenant's --etcd-servers=http://127.0.1.66:9999 is no target"
        );
        let class = |address: &str, class: &str| {
            format!(
                "{address} ({}): {class} addresses are not the cluster's when its API server is private: name them with --probe-target to probe them",
                if address.starts_with("127") {
                    "node rogue-loopback InternalIP"
                } else {
                    "node rogue-link-local InternalIP"
                }
            )
        };
        let service = "service addresses are reachable only from inside the cluster: run in-cluster or pass --probe-service-addresses";
        assert_eq!(
            left_out,
            [
                format!("kubelet {}", class("127.0.0.1:10250", "loopback")),
                format!("kubelet {}", class("169.254.169.254:10250", "link-local")),
                format!("kubeletReadOnly {}", class("127.0.0.1:10255", "loopback")),
                format!("kubeletReadOnly {}", class("169.254.169.254:10255", "link-local")),
                format!("cadvisor {}", class("127.0.0.1:4194", "loopback")),
                format!("cadvisor {}", class("169.254.169.254:4194", "link-local")),
                format!("tiller 10.96.0.20:44134 (Service/kube-system/tiller-deploy clusterIP): {service}"),
                format!(
                    "dashboard 10.96.0.30:443 (Service/kubernetes-dashboard/kubernetes-dashboard clusterIP): {service}"
                ),
            ]
        );
        // From inside the cluster the Service addresses are targets too; nothing else changes.
        let inside = Position { in_cluster: true, service_addresses_opted_in: false };
        let (targets_inside, left_inside) = described(&plan(&inventory, Ports::default(), &[], inside));
        let added: Vec<&String> = targets_inside.iter().filter(|target| !targets.contains(target)).collect();
        assert_eq!(
            added,
            [
                "tiller 10.96.0.20:44134 (Service/kube-system/tiller-deploy clusterIP)",
                "dashboard 10.96.0.30:443 (Service/kubernetes-dashboard/kubernetes-dashboard clusterIP)"
            ]
        );
        assert_eq!(left_inside, left_out[..6]);
    }

    #[test]
    fn urls_are_parsed_with_their_default_ports() {
        assert_eq!(host_and_port("https://10.0.0.1:2379"), Some(("10.0.0.1".into(), Some(2379))));
        assert_eq!(host_and_port("https://api.example.com"), Some(("api.example.com".into(), Some(443))));
        assert_eq!(host_and_port("http://[::1]:2379"), Some(("::1".into(), Some(2379))));
        assert_eq!(host_and_port("not a url"), None);
    }
}
