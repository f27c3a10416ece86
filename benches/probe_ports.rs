//! Probe throughput with the default settings (256 in flight, 2 s connect and 5 s
//! request timeouts), two runs:
//! - 1,000 open loopback ports that answer HTTP and 1,000 closed ones, probed as
//!   cAdvisor targets (one GET each);
//! - 2,000 kubelet endpoints (two requests each) of which 200 (10 %) accept and never
//!   answer: none may pass, and the run must finish in under 10 s.
//!
//! Prints the time, the outcomes and the process's peak RSS (VmHWM, which includes the
//! listeners). Run with `cargo bench --bench probe_ports`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use seaworthy::probe::Outcome;
use seaworthy::probe::run::{self, ProbeSettings};
use seaworthy::probe::targets::{Target, TargetKind};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PORTS: usize = 1_000;
const OPEN_IP: Ipv4Addr = Ipv4Addr::new(127, 77, 1, 1);
/// Nothing listens on this address: every port refuses.
const CLOSED_IP: Ipv4Addr = Ipv4Addr::new(127, 77, 2, 1);
/// Listeners here accept and never answer.
const HUNG_IP: Ipv4Addr = Ipv4Addr::new(127, 77, 3, 1);
const HUNG: usize = 200;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| text.lines().find(|line| line.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()))
        .unwrap_or(0)
}

/// Starts `count` listeners on `ip` answering every request with a tiny 200 (or, when
/// `answer` is false, accepting and never answering); returns their ports.
fn listen(ip: Ipv4Addr, count: usize, answer: bool) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| {
            let listener = std::net::TcpListener::bind((ip, 0)).expect("bind a loopback port");
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
                            if answer {
                                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                            } else {
                                std::future::pending::<()>().await;
                            }
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
    let target = |kind: TargetKind, ip: Ipv4Addr, port: u16| Target {
        kind,
        host: ip.to_string(),
        port,
        origin: "benchmark".into(),
    };
    let settings = ProbeSettings::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let open = listen(OPEN_IP, PORTS, true);
    let mut targets: Vec<Target> = open.iter().map(|port| target(TargetKind::Cadvisor, OPEN_IP, *port)).collect();
    targets.extend(
        (0..PORTS).map(|index| target(TargetKind::Cadvisor, CLOSED_IP, 20_000 + u16::try_from(index).expect("a port"))),
    );
    let started = Instant::now();
    let probed = runtime.block_on(run::run(&targets, settings));
    let elapsed = started.elapsed();
    let count = |probed: &[run::Probed], wanted: Outcome| {
        probed.iter().filter(|probed| probed.checks.iter().all(|check| check.evidence.outcome() == wanted)).count()
    };
    let (opened, closed) = (count(&probed, Outcome::Open), count(&probed, Outcome::Closed));
    println!(
        "probe_ports: {} targets ({PORTS} open, {PORTS} closed) with {} in flight",
        targets.len(),
        settings.concurrency
    );
    println!("probe_ports: {opened} open, {closed} closed, {} other", targets.len() - opened - closed);
    println!("probe_ports: {:.2} s, peak RSS {:.1} MiB", elapsed.as_secs_f64(), peak_rss_kib() as f64 / 1024.0);
    assert_eq!((opened, closed), (PORTS, PORTS), "every port is judged for what it is");

    // 2,000 kubelets, 10 % of them hung.
    let answering = listen(OPEN_IP, 2 * PORTS - HUNG, true);
    let hung = listen(HUNG_IP, HUNG, false);
    let mut kubelets: Vec<Target> = answering.iter().map(|port| target(TargetKind::Kubelet, OPEN_IP, *port)).collect();
    kubelets.extend(hung.iter().map(|port| target(TargetKind::Kubelet, HUNG_IP, *port)));
    let started = Instant::now();
    let probed = runtime.block_on(run::run(&kubelets, settings));
    let elapsed = started.elapsed();
    let hung_probed = &probed[answering.len()..];
    let inconclusive = count(hung_probed, Outcome::Inconclusive);
    println!(
        "probe_ports: {} kubelets, {HUNG} of them hung: {:.2} s; hung ones inconclusive: {inconclusive} of {HUNG}",
        kubelets.len(),
        elapsed.as_secs_f64()
    );
    assert_eq!(inconclusive, HUNG, "no hung endpoint passes or closes");
    assert!(elapsed < Duration::from_secs(10), "2,000 endpoints with 10 % hung take under 10 s");
}
