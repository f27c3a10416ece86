//! Which endpoints to probe, derived only from the cluster's own objects: nothing
//! outside the cluster's addresses is ever a target.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::Facts;

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

/// Default ports; the configuration may override them.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    /// API server secure port, when an endpoint does not say.
    pub apiserver: u16,
    /// API server insecure port.
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
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            apiserver: 6443,
            apiserver_insecure: 8080,
            etcd_client: 2379,
            etcd_peer: 2380,
            kubelet: 10250,
            kubelet_read_only: 10255,
            cadvisor: 4194,
        }
    }
}

/// The endpoints of a cluster, deduplicated and sorted.
pub fn targets(facts: &Facts, ports: Ports) -> Vec<Target> {
    let mut targets = BTreeSet::new();
    let mut add = |kind, host: &str, port, origin: String| {
        targets.insert(Target { kind, host: host.to_owned(), port, origin });
    };
    // API servers: the kubeconfig's server and the kubernetes Service's endpoints.
    let mut apiserver_hosts = BTreeSet::new();
    if let Some((host, port)) = facts.cluster.server.as_deref().and_then(host_and_port) {
        add(TargetKind::ApiServer, &host, port.unwrap_or(443), "kubeconfig server".into());
        apiserver_hosts.insert(host);
    }
    for endpoint in &facts.apiserver_endpoints.items {
        let port = endpoint.ports.first().and_then(|port| u16::try_from(*port).ok()).unwrap_or(ports.apiserver);
        add(TargetKind::ApiServer, &endpoint.address, port, format!("{} endpoint", endpoint.subject.key()));
        apiserver_hosts.insert(endpoint.address.clone());
    }
    for host in &apiserver_hosts {
        add(TargetKind::ApiServerInsecure, host, ports.apiserver_insecure, format!("API server host {host}"));
    }
    // etcd: where the API servers say it is, else on the control-plane nodes.
    let etcd_servers: BTreeSet<(String, u16)> = facts
        .components
        .items
        .iter()
        .filter(|component| component.component == "kube-apiserver")
        .flat_map(|component| component.flag_lists.get("etcd-servers").into_iter().flatten())
        .filter_map(|url| host_and_port(url).map(|(host, port)| (host, port.unwrap_or(ports.etcd_client))))
        .collect();
    let mut etcd_hosts = BTreeSet::new();
    if etcd_servers.is_empty() {
        for node in facts.nodes.items.iter().filter(|node| node.control_plane) {
            for ip in &node.internal_ips {
                add(
                    TargetKind::EtcdClient,
                    ip,
                    ports.etcd_client,
                    format!("control-plane node {} InternalIP", node.name),
                );
                etcd_hosts.insert(ip.clone());
            }
        }
    } else {
        for (host, port) in &etcd_servers {
            add(TargetKind::EtcdClient, host, *port, "kube-apiserver --etcd-servers".into());
            etcd_hosts.insert(host.clone());
        }
    }
    for host in etcd_hosts {
        add(TargetKind::EtcdPeer, &host, ports.etcd_peer, format!("etcd host {host}"));
    }
    // Kubelets: every node's InternalIP.
    for node in &facts.nodes.items {
        for ip in &node.internal_ips {
            let origin = format!("node {} InternalIP", node.name);
            add(TargetKind::Kubelet, ip, ports.kubelet, origin.clone());
            add(TargetKind::KubeletReadOnly, ip, ports.kubelet_read_only, origin.clone());
            add(TargetKind::Cadvisor, ip, ports.cadvisor, origin);
        }
    }
    // One target per (kind, host, port): the first reason found is kept.
    let mut seen = BTreeSet::new();
    targets.into_iter().filter(|target| seen.insert((target.kind, target.host.clone(), target.port))).collect()
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
    use crate::facts::{self, SourceKind};
    use crate::source::manifests;

    fn weak() -> Facts {
        let inventory = manifests::read(&[std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/clusters/weak"
        ))])
        .expect("the weak example reads");
        facts::build(&inventory, SourceKind::Manifests)
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
        let targets = targets(&weak(), Ports::default());
        assert_eq!(
            of_kind(&targets, TargetKind::ApiServer),
            vec!["127.0.10.1:6443"],
            "the kubernetes Service endpoint"
        );
        assert_eq!(of_kind(&targets, TargetKind::ApiServerInsecure), vec!["127.0.10.1:8080"]);
        assert_eq!(of_kind(&targets, TargetKind::EtcdClient), vec!["127.0.0.1:2379"], "kube-apiserver --etcd-servers");
        assert_eq!(of_kind(&targets, TargetKind::EtcdPeer), vec!["127.0.0.1:2380"]);
        assert_eq!(
            of_kind(&targets, TargetKind::Kubelet),
            vec!["127.0.10.1:10250", "127.0.10.2:10250", "127.0.10.3:10250"]
        );
        assert_eq!(of_kind(&targets, TargetKind::KubeletReadOnly).len(), 3);
        assert_eq!(of_kind(&targets, TargetKind::Cadvisor).len(), 3);
    }

    #[test]
    fn without_etcd_servers_the_control_plane_nodes_are_tried() {
        let mut facts = weak();
        facts.components.items.clear();
        let targets = targets(&facts, Ports::default());
        assert_eq!(of_kind(&targets, TargetKind::EtcdClient), vec!["127.0.10.1:2379"], "only control-plane nodes");
    }

    #[test]
    fn a_kubeconfig_server_is_a_target_and_ports_can_be_overridden() {
        let mut facts = weak();
        facts.cluster.server = Some("https://127.0.10.9:7443/".into());
        let ports = Ports { kubelet_read_only: 10266, ..Ports::default() };
        let targets = targets(&facts, ports);
        assert!(of_kind(&targets, TargetKind::ApiServer).contains(&"127.0.10.9:7443".to_owned()));
        assert!(of_kind(&targets, TargetKind::KubeletReadOnly).iter().all(|target| target.ends_with(":10266")));
    }

    #[test]
    fn urls_are_parsed_with_their_default_ports() {
        assert_eq!(host_and_port("https://10.0.0.1:2379"), Some(("10.0.0.1".into(), Some(2379))));
        assert_eq!(host_and_port("https://api.example.com"), Some(("api.example.com".into(), Some(443))));
        assert_eq!(host_and_port("http://[::1]:2379"), Some(("::1".into(), Some(2379))));
        assert_eq!(host_and_port("not a url"), None);
    }
}
