//! Fixture clusters served live: the fake API server with the fixture's node addresses
//! moved to a test's own loopback addresses, and real etcd and fake kubelets there.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::etcd::{Etcd, Mode};
use super::fake_api::{FakeApi, Settings};
use super::kubelet::{Behaviour, Listeners};
use super::{loopback, pki};

/// Ports bound on a control-plane node's address.
pub const CONTROL_PLANE_PORTS: &[u16] = &[6443, 8080, 2379, 2380, 10250, 10255, 4194, 10257, 10259];
/// Ports bound on a worker's address.
pub const NODE_PORTS: &[u16] = &[10250, 10255, 4194];

/// A loopback address for one role in one test.
pub fn ip(test: &str, role: &str, ports: &[u16]) -> IpAddr {
    loopback::ip_with_ports(&format!("{test}/{role}"), ports)
}

/// The hardened cluster, live, on `test`'s own loopback addresses: real etcd in
/// `etcd_mode` with a CA of its own, kubelets with CA-signed certificates and nothing
/// on 10255 or 4194, and the API server answering anonymous requests with
/// `anonymous`, whatever the fixture's flags say. With `etcd_shares_cluster_ca`,
/// etcd's certificates come from the CA published in kube-root-ca.crt; `black_hole`
/// names a node whose kubelet ports accept connections and never answer.
pub fn hardened_with(
    test: &str,
    etcd_shares_cluster_ca: bool,
    black_hole: Option<&str>,
    etcd_mode: Mode,
    anonymous: u16,
) -> (FakeApi, Etcd, Listeners) {
    let kubelet_ca = Arc::new(pki::Ca::new("kubernetes"));
    let listeners = Listeners::new();
    let mut settings = Settings::cluster("hardened");
    // Addresses first: once listeners are bound, the same name would yield another address.
    let control_plane = ip(test, "cp1", CONTROL_PLANE_PORTS);
    // Longest first: 127.0.20.1 is a prefix of 127.0.20.11.
    for (node, fixture) in [
        ("worker1", "127.0.20.11"),
        ("worker2", "127.0.20.12"),
        ("worker3", "127.0.20.13"),
        ("cp1", "127.0.20.1"),
        ("cp2", "127.0.20.2"),
        ("cp3", "127.0.20.3"),
    ] {
        let address = if node == "cp1" { control_plane } else { ip(test, node, NODE_PORTS) };
        settings.rewrite.push((fixture.into(), address.to_string()));
        if black_hole == Some(node) {
            for port in NODE_PORTS {
                listeners.black_hole(SocketAddr::new(address, *port));
            }
        } else {
            listeners.kubelet(address, &Behaviour::hardened(kubelet_ca.clone()));
        }
    }
    let etcd_ca = pki::Ca::new("etcd-ca");
    if etcd_shares_cluster_ca {
        let fixture = std::fs::read_to_string(super::repo().join("testdata/clusters/hardened/namespaces.yaml"))
            .expect("the hardened fixture");
        let published = fixture.split("ca.crt: |\n").nth(1).expect("the fixture publishes a cluster CA").to_owned();
        let indented = etcd_ca.cert_pem.lines().fold(String::new(), |text, line| text + "    " + line + "\n");
        settings.rewrite.push((published, indented));
    }
    // The controller manager and the scheduler forbid anonymous requests.
    listeners.component(SocketAddr::new(control_plane, 10257), 403);
    listeners.component(SocketAddr::new(control_plane, 10259), 403);
    settings.anonymous = anonymous;
    let etcd = Etcd::start_with_ca(control_plane, etcd_mode, &etcd_ca);
    let api = FakeApi::start_at(SocketAddr::new(control_plane, 6443), settings);
    (api, etcd, listeners)
}
