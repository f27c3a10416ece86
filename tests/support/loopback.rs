//! One loopback address per test, so tests can bind real, well-known ports (6443,
//! 2379, 10250, …) in parallel without colliding. nextest runs each test in its own
//! process, so the address is derived from the test's name, not from a counter.

use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// An address in 127.0.0.0/8 (never 127.0.0.1) derived from `name`, with `port` free on
/// it; the next address is tried when the port is taken.
pub fn address(name: &str, port: u16) -> SocketAddr {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    let seed = hasher.finish();
    for attempt in 0..64_u64 {
        let value = seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9));
        let [.., a, b, c] = value.to_be_bytes();
        // Keep clear of 127.0.0.x, where other software listens.
        let ip = Ipv4Addr::new(127, a.max(1), b, c.clamp(2, 254));
        let candidate = SocketAddr::from((ip, port));
        if TcpListener::bind(candidate).is_ok() {
            return candidate;
        }
    }
    panic!("no free loopback address for port {port}");
}
