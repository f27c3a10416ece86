//! One loopback address per test, so tests can bind real, well-known ports (6443,
//! 2379, 10250, …) in parallel without colliding. nextest runs each test in its own
//! process, so the address is derived from the test's name, not from a counter.

use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// An address in 127.0.0.0/8 (never 127.0.0.1) derived from `name`, with `port` free on
/// it; the next address is tried when the port is taken.
pub fn address(name: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip_with_ports(name, &[port]), port)
}

/// An address in 127.0.0.0/8 derived from `name` on which every port of `ports` is free.
pub fn ip_with_ports(name: &str, ports: &[u16]) -> std::net::IpAddr {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    let seed = hasher.finish();
    for attempt in 0..64_u64 {
        let value = seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9));
        let [.., a, b, c] = value.to_be_bytes();
        // Keep clear of 127.0.0.x, where other software listens.
        let ip = Ipv4Addr::new(127, a.max(1), b, c.clamp(2, 254));
        if ports.iter().all(|port| TcpListener::bind(SocketAddr::from((ip, *port))).is_ok()) {
            return ip.into();
        }
    }
    panic!("no loopback address with ports {ports:?} free");
}
