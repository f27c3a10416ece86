//! Probe throughput with the default settings (64 in flight, 2 s connect and 5 s
//! request timeouts): 1,000 open loopback ports that answer HTTP and 1,000 closed
//! ones, probed as cAdvisor targets (one GET each). Prints the time, the outcomes and
//! the process's peak RSS (VmHWM, which includes the 1,000 listeners).
//!
//! Goal: under 10 s on a 2-core machine. Run with `cargo bench --bench probe_ports`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use seaworthy::probe::run::{self, ProbeSettings};
use seaworthy::probe::targets::{Target, TargetKind};
use seaworthy::probe::{Outcome, Timeouts};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PORTS: usize = 1_000;
const OPEN_IP: Ipv4Addr = Ipv4Addr::new(127, 77, 1, 1);
/// Nothing listens on this address: every port refuses.
const CLOSED_IP: Ipv4Addr = Ipv4Addr::new(127, 77, 2, 1);

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| text.lines().find(|line| line.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()))
        .unwrap_or(0)
}

/// Starts `PORTS` listeners answering every request with a tiny 200; returns their ports.
fn open_ports() -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..PORTS)
        .map(|_| {
            let listener = std::net::TcpListener::bind((OPEN_IP, 0)).expect("bind a loopback port");
            listener.set_nonblocking(true).expect("non-blocking");
            listener
        })
        .collect();
    let ports = listeners.iter().map(|listener| listener.local_addr().expect("an address").port()).collect();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            for listener in listeners {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                tokio::spawn(async move {
                    while let Ok((mut stream, _)) = listener.accept().await {
                        tokio::spawn(async move {
                            let mut request = [0_u8; 1024];
                            let _ = stream.read(&mut request).await;
                            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                        });
                    }
                });
            }
            std::future::pending::<()>().await;
        });
    });
    ports
}

#[allow(clippy::print_stdout)] // A benchmark prints its figures.
fn main() {
    let open = open_ports();
    let target = |ip: Ipv4Addr, port: u16| Target {
        kind: TargetKind::Cadvisor,
        host: ip.to_string(),
        port,
        origin: "benchmark".into(),
    };
    let mut targets: Vec<Target> = open.iter().map(|port| target(OPEN_IP, *port)).collect();
    targets.extend((0..PORTS).map(|index| target(CLOSED_IP, 20_000 + u16::try_from(index).expect("a port"))));
    let settings = ProbeSettings {
        timeouts: Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) },
        concurrency: 64,
    };
    let started = Instant::now();
    let probed = run::run(&targets, settings);
    let elapsed = started.elapsed();
    let count = |wanted: Outcome| {
        probed.iter().filter(|probed| probed.checks.iter().all(|check| check.evidence.outcome == wanted)).count()
    };
    let (opened, closed) = (count(Outcome::Open), count(Outcome::Closed));
    println!("probe_ports: {} targets ({PORTS} open, {PORTS} closed) with 64 in flight", targets.len());
    println!("probe_ports: {opened} open, {closed} closed, {} other", targets.len() - opened - closed);
    println!("probe_ports: {:.2} s, peak RSS {:.1} MiB", elapsed.as_secs_f64(), peak_rss_kib() as f64 / 1024.0);
    assert_eq!((opened, closed), (PORTS, PORTS), "every port is judged for what it is");
}
