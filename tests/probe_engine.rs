//! The probe engine against loopback listeners that misbehave on purpose: refused,
//! black hole, endless body, plain HTTP, TLS with and without client-certificate demands.
//! Secure and insecure cases stand side by side so a pass cannot come from lax probing.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use seaworthy::probe::http::{Scheme, get};
use seaworthy::probe::{BODY_CAP, Outcome, Timeouts};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// Generous: these tests are about what comes back, not about how fast.
const TIMEOUTS: Timeouts = Timeouts { connect: Duration::from_secs(10), request: Duration::from_secs(30) };
/// For the black hole, where the timeout firing is the behaviour under test.
const SHORT: Timeouts = Timeouts { connect: Duration::from_secs(10), request: Duration::from_millis(300) };

async fn listener(test: &str) -> (TcpListener, SocketAddr) {
    let address = support::loopback::address(test, 10250);
    let listener = TcpListener::bind(address).await.expect("bind the loopback address");
    (listener, address)
}

/// Reads one request head.
async fn read_head<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.is_ok_and(|read| read == 1) {
        head.push(byte[0]);
    }
}

/// Reads one request head, writes `response` and closes.
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: &mut S, response: &[u8]) {
    read_head(stream).await;
    let _ = stream.write_all(response).await;
    let _ = stream.shutdown().await;
}

#[tokio::test]
async fn a_refused_port_is_closed() {
    let address = support::loopback::address("probe_a_refused_port_is_closed", 10255);
    let answer = get(address, "/pods", Scheme::Http, TIMEOUTS).await;
    assert_eq!(answer.evidence.outcome(), Outcome::Closed);
    assert_eq!(answer.evidence.failure, Some(seaworthy::probe::Failure::Refused));
}

#[tokio::test]
async fn a_black_hole_is_inconclusive_never_closed() {
    let (listener, address) = listener("probe_a_black_hole_is_inconclusive").await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream); // accept and never answer
        }
    });
    let answer = get(address, "/pods", Scheme::Http, SHORT).await;
    assert_eq!(answer.evidence.outcome(), Outcome::Inconclusive);
    assert!(reason(&answer.evidence).starts_with("no answer within"), "{answer:?}");
}

#[tokio::test]
async fn an_endless_body_is_capped() {
    let (listener, address) = listener("probe_an_endless_body_is_capped").await;
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        read_head(&mut stream).await;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").await;
        let chunk = format!("{:x}\r\n{}\r\n", 8192, "x".repeat(8192));
        // Writes until the probe hangs up; bounded so the task ends either way.
        for _ in 0..100_000 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let answer = get(address, "/metrics/cadvisor", Scheme::Http, TIMEOUTS).await;
    assert_eq!(answer.evidence.outcome(), Outcome::Open);
    assert_eq!(answer.evidence.status, Some(200));
    assert_eq!(answer.evidence.body_bytes, BODY_CAP);
    assert!(answer.evidence.body_truncated);
    assert_eq!(answer.body.len(), BODY_CAP);
}

#[tokio::test]
async fn plain_http_answers_are_open_with_their_status() {
    let (listener, address) = listener("probe_plain_http_answers_are_open").await;
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        answer(
            &mut stream,
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 12\r\nconnection: close\r\n\r\nUnauthorized",
        )
        .await;
    });
    let answer = get(address, "/pods", Scheme::Http, TIMEOUTS).await;
    assert_eq!((answer.evidence.outcome(), answer.evidence.status), (Outcome::Open, Some(401)));
    assert_eq!(answer.body, b"Unauthorized");
    assert_eq!(answer.evidence.request, format!("GET http://{address}/pods"));
    assert!(answer.evidence.tls.is_none());
}

/// A TLS server on `address`; `clients` is `None` (no client auth), or the CA whose
/// certificates it asks for, required or optional.
async fn tls_server(test: &str, clients: Option<bool>) -> (SocketAddr, Vec<u8>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (listener, address) = listener(test).await;
    let ca = support::pki::Ca::new("probe-test-ca");
    let leaf = ca.server(address.ip());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some(required) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(rustls::pki_types::CertificateDer::from(pem_to_der(&ca.cert_pem))).expect("CA root");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if required { verifier.build() } else { verifier.allow_unauthenticated().build() };
            builder.with_client_cert_verifier(verifier.expect("client verifier"))
        }
    };
    let config = builder.with_single_cert(vec![leaf.cert_der.clone()], leaf.key_der()).expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(mut stream) = acceptor.accept(tcp).await {
                answer(&mut stream, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
            }
        }
    });
    (address, leaf.cert_der.to_vec())
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("PEM body")
}

#[tokio::test]
async fn tls_without_client_auth_is_open_and_shows_its_certificate() {
    let (address, leaf) = tls_server("probe_tls_without_client_auth", None).await;
    let answer = get(address, "/version", Scheme::Https, TIMEOUTS).await;
    assert_eq!((answer.evidence.outcome(), answer.evidence.status), (Outcome::Open, Some(200)), "{answer:?}");
    let tls = answer.evidence.tls.expect("TLS evidence");
    assert!(tls.handshake);
    assert!(!tls.client_certificate_requested);
    assert_eq!(tls.peer_certificates.first(), Some(&leaf), "the leaf is recorded as evidence");
}

#[tokio::test]
async fn tls_that_requires_a_client_certificate_is_closed() {
    let (address, _) = tls_server("probe_tls_that_requires_a_client_certificate", Some(true)).await;
    let answer = get(address, "/version", Scheme::Https, TIMEOUTS).await;
    assert_eq!(answer.evidence.outcome(), Outcome::Closed, "{answer:?}");
    let reason = reason(&answer.evidence);
    assert!(reason.starts_with("TLS: the server requires a client certificate (alert"), "{reason}");
    assert!(answer.evidence.tls.expect("TLS evidence").client_certificate_requested);
}

/// A TLS server that asks for (but does not require) a client certificate, then ends
/// the connection its own way instead of answering: with garbage, or with a reset.
async fn asking_then(test: &str, garbage: bool) -> SocketAddr {
    use tokio::io::AsyncWriteExt as _;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (listener, address) = listener(test).await;
    let ca = support::pki::Ca::new("probe-test-ca");
    let leaf = ca.server(address.ip());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(pem_to_der(&ca.cert_pem))).expect("CA root");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .expect("client verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![leaf.cert_der.clone()], leaf.key_der())
        .expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(stream) = acceptor.accept(tcp).await {
                let (mut tcp, _) = stream.into_inner();
                if garbage {
                    let _ = tcp
                        .write_all(
                            b"garbage that is no TLS record at all
",
                        )
                        .await;
                } else {
                    let _ = tcp.set_zero_linger();
                }
                drop(tcp);
            }
        }
    });
    address
}

#[tokio::test]
async fn tls_that_asks_for_a_certificate_then_misbehaves_is_inconclusive() {
    for garbage in [true, false] {
        let address = asking_then(&format!("probe_tls_asks_then_misbehaves_{garbage}"), garbage).await;
        let answer = get(address, "/version", Scheme::Https, TIMEOUTS).await;
        assert_eq!(answer.evidence.outcome(), Outcome::Inconclusive, "garbage {garbage}: {answer:?}");
        assert!(answer.evidence.tls.expect("TLS evidence").client_certificate_requested);
    }
}

#[tokio::test]
async fn tls_that_only_asks_for_a_client_certificate_is_open() {
    let (address, _) = tls_server("probe_tls_that_only_asks_for_a_client_certificate", Some(false)).await;
    let answer = get(address, "/version", Scheme::Https, TIMEOUTS).await;
    assert_eq!((answer.evidence.outcome(), answer.evidence.status), (Outcome::Open, Some(200)), "{answer:?}");
    assert!(answer.evidence.tls.expect("TLS evidence").client_certificate_requested, "asked, but not required");
}

/// A listener that accepts connections and never answers, recording each peer. The
/// count is exact without any wait: connections are accepted in the order they arrive,
/// so once a last, sentinel connection is recorded, every earlier one has been.
struct CountingBlackHole {
    address: SocketAddr,
    peers: Arc<(std::sync::Mutex<Vec<SocketAddr>>, std::sync::Condvar)>,
    sentinels: std::sync::Mutex<Vec<SocketAddr>>,
}

impl CountingBlackHole {
    fn start(test: &str) -> Self {
        let address = support::loopback::address(test, 10250);
        let listener = std::net::TcpListener::bind(address).expect("bind the loopback address");
        let peers = Arc::new((std::sync::Mutex::new(Vec::new()), std::sync::Condvar::new()));
        let recorded = peers.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for (stream, peer) in std::iter::from_fn(|| listener.accept().ok()) {
                let (list, changed) = &*recorded;
                list.lock().expect("the peer list").push(peer);
                changed.notify_all();
                held.push(stream);
            }
        });
        Self { address, peers, sentinels: std::sync::Mutex::default() }
    }

    /// Connections accepted before this call, exactly, not counting the sentinels of
    /// earlier counts.
    fn count(&self) -> usize {
        let sentinel = std::net::TcpStream::connect(self.address).expect("the sentinel connects");
        let own = sentinel.local_addr().expect("the sentinel's address");
        let (list, changed) = &*self.peers;
        let mut peers = list.lock().expect("the peer list");
        while !peers.contains(&own) {
            peers = changed.wait(peers).expect("the peer list");
        }
        let mut sentinels = self.sentinels.lock().expect("the sentinel list");
        sentinels.push(own);
        peers.len() - sentinels.len()
    }
}

/// A kubelet target at `address`.
fn kubelet_at(address: SocketAddr) -> seaworthy::probe::targets::Target {
    use seaworthy::probe::targets::{Target, TargetKind};
    Target { kind: TargetKind::Kubelet, host: address.ip().to_string(), port: address.port(), origin: "test".into() }
}

#[test]
fn a_hung_endpoint_is_asked_once_and_its_other_requests_are_inconclusive() {
    use seaworthy::probe::run::{ProbeSettings, run};
    let hole = CountingBlackHole::start("probe_a_hung_endpoint_is_asked_once");
    let target = kubelet_at(hole.address);
    let probed = support::block_on(run(
        &[target],
        ProbeSettings { timeouts: SHORT, concurrency: 4, budget: Duration::from_secs(3600) },
    ));
    let checks = &probed[0].checks;
    assert_eq!(
        checks.len(),
        seaworthy::probe::kinds::spec(seaworthy::probe::targets::TargetKind::Kubelet).requests.len(),
        "every planned check is reported"
    );
    assert!(checks.iter().all(|check| check.evidence.outcome() == Outcome::Inconclusive), "{checks:?}");
    assert!(reason(&checks[0].evidence).starts_with("no answer within"));
    let second = reason(&checks[1].evidence);
    assert!(second.starts_with("not asked: GET https://") && second.contains("/pods got no answer"), "{second}");
    assert_eq!(hole.count(), 1, "the second request was never sent");
    // Control: an endpoint that refuses is asked everything (a refusal is an answer).
    let refused = support::loopback::address("probe_a_hung_endpoint_control", 10250);
    let target = kubelet_at(refused);
    let probed = support::block_on(run(
        &[target],
        ProbeSettings { timeouts: SHORT, concurrency: 4, budget: Duration::from_secs(3600) },
    ));
    for check in &probed[0].checks {
        assert_eq!(check.evidence.outcome(), Outcome::Closed, "{check:?}");
    }
}

#[test]
fn probes_share_one_budget_and_what_it_leaves_unasked_is_inconclusive() {
    use seaworthy::probe::run::{ProbeSettings, run};
    use seaworthy::probe::targets::Target;
    let hole = CountingBlackHole::start("probe_budget_black_hole");
    let targets: Vec<Target> = (0..4).map(|_| kubelet_at(hole.address)).collect();
    // No budget left (a collection that used all of `--timeout`): nothing is sent, and
    // every check says why.
    let spent = ProbeSettings { timeouts: SHORT, concurrency: 4, budget: Duration::ZERO };
    for probed in support::block_on(run(&targets, spent)) {
        assert_eq!(
            probed.checks.len(),
            seaworthy::probe::kinds::spec(seaworthy::probe::targets::TargetKind::Kubelet).requests.len()
        );
        for check in &probed.checks {
            assert_eq!(check.evidence.outcome(), Outcome::Inconclusive, "{check:?}");
            let reason = reason(&check.evidence);
            assert!(reason.starts_with("probe budget exhausted (0ns)"), "{reason}");
        }
    }
    assert_eq!(hole.count(), 0, "no request was sent");
    // Control: with budget to spare, each black hole is asked once, and is inconclusive.
    let ample = ProbeSettings { timeouts: SHORT, concurrency: 4, budget: Duration::from_secs(3600) };
    for probed in support::block_on(run(&targets, ample)) {
        let reason = reason(&probed.checks[0].evidence);
        assert!(reason.starts_with("no answer within"), "{reason}");
        assert!(probed.checks.iter().all(|check| check.evidence.outcome() == Outcome::Inconclusive));
    }
    assert_eq!(hole.count(), 4, "one request per hung endpoint");
}

#[tokio::test]
async fn probes_run_on_the_callers_runtime() {
    // The library starts no runtime of its own: calling it from async code (here, a
    // tokio test) must not panic with "cannot start a runtime from within a runtime".
    use seaworthy::probe::run::{ProbeSettings, run};
    let refused = support::loopback::address("probe_on_the_callers_runtime", 10250);
    let target = kubelet_at(refused);
    let probed = run(&[target], ProbeSettings { timeouts: SHORT, ..ProbeSettings::default() }).await;
    assert!(probed[0].checks.iter().all(|check| check.evidence.outcome() == Outcome::Closed), "{probed:?}");
}

#[tokio::test]
async fn an_ipv6_target_is_probed_and_named_with_brackets() {
    // The kubelet's read-only port on ::1, as a node with an IPv6 InternalIP names it.
    let listener = TcpListener::bind("[::1]:0").await.expect("IPv6 loopback");
    let port = listener.local_addr().expect("bound").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            answer(&mut stream, b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"items\": []}").await;
        }
    });
    let target = seaworthy::probe::targets::Target {
        kind: seaworthy::probe::targets::TargetKind::KubeletReadOnly,
        host: "::1".into(),
        port,
        origin: "node v6 InternalIP".into(),
    };
    let settings =
        seaworthy::probe::run::ProbeSettings { timeouts: TIMEOUTS, concurrency: 4, budget: Duration::from_secs(60) };
    let probed = seaworthy::probe::run::run(&[target], settings).await;
    let check = &probed[0].checks[0];
    assert_eq!(check.evidence.outcome(), Outcome::Open, "{check:?}");
    assert_eq!(check.evidence.status, Some(200), "{check:?}");
    assert!(check.evidence.request.contains(&format!("http://[::1]:{port}/")), "{}", check.evidence.request);
}

/// A check's failure, in words.
fn reason(evidence: &seaworthy::probe::HttpEvidence) -> String {
    evidence.failure.as_ref().map(ToString::to_string).unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn many_black_holes_finish_within_the_budget_and_none_passes() {
    // The clock is tokio's, paused: it moves only when every probe waits, so "within
    // the budget" is exact, not a timing margin.
    use seaworthy::probe::FailureKind;
    use seaworthy::probe::run::{ProbeSettings, run};
    // Bound and never accepted: the kernel completes each handshake, and nothing answers.
    let holes: Vec<std::net::TcpListener> = (0..50)
        .map(|index| {
            let address = support::loopback::address(&format!("probe_budget_many_holes_{index}"), 10250);
            std::net::TcpListener::bind(address).expect("bind a black hole")
        })
        .collect();
    let targets: Vec<_> = holes.iter().map(|hole| kubelet_at(hole.local_addr().expect("an address"))).collect();
    let budget = Duration::from_secs(20);
    let settings = ProbeSettings {
        timeouts: Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(5) },
        concurrency: 4,
        budget,
    };
    let started = tokio::time::Instant::now();
    let probed = run(&targets, settings).await;
    assert!(started.elapsed() <= budget, "every probe ended within the budget: {:?}", started.elapsed());
    let kinds: Vec<FailureKind> =
        probed.iter().flat_map(|probed| &probed.checks).map(|check| check.evidence.failure_kind()).collect();
    assert_eq!(
        kinds.len(),
        50 * seaworthy::probe::kinds::spec(seaworthy::probe::targets::TargetKind::Kubelet).requests.len()
    );
    assert!(
        probed.iter().flat_map(|probed| &probed.checks).all(|check| check.evidence.outcome() == Outcome::Inconclusive),
        "a black hole is never open or closed"
    );
    assert!(kinds.contains(&FailureKind::BudgetExhausted), "50 hung endpoints at 4 at a time need more than 20 s");
    assert!(kinds.contains(&FailureKind::Timeout), "those reached in time timed out: {kinds:?}");
}

#[tokio::test]
async fn a_hand_built_client_hello_tells_an_old_tls_server_from_a_modern_one() {
    use seaworthy::probe::hello::{self, TlsVersion};
    use seaworthy::probe::kinds::Hello;
    use seaworthy::probe::{Failure, FailureKind};
    let timeouts = Timeouts { connect: Duration::from_secs(10), request: Duration::from_secs(10) };
    // Insecure: openssl s_server with TLS 1.0 and every suite allowed.
    let old_address = support::loopback::address("probe_hello_old_tls", 10257);
    let _old = support::old_tls::OldTls::start(old_address);
    for (version, name) in [(TlsVersion::Tls10, "TLSv1_0"), (TlsVersion::Tls11, "TLSv1_1")] {
        let evidence = hello::probe(old_address, Hello::Version(version), timeouts).await;
        assert_eq!(evidence.outcome(), Outcome::Open, "{evidence:?}");
        assert_eq!(evidence.tls.as_ref().and_then(|tls| tls.version.as_deref()), Some(name), "{evidence:?}");
    }
    let weak = hello::probe(old_address, Hello::WeakCipherSuites, timeouts).await;
    let suite = weak.tls.as_ref().and_then(|tls| tls.cipher_suite.clone()).unwrap_or_default();
    assert!(suite.contains("CBC_SHA") || suite.contains("3DES") || suite.contains("RC4"), "{weak:?}");
    // Secure: rustls speaks TLS 1.2 and 1.3 with AEAD suites only, and says so with alerts.
    let (listener, modern_address) = listener("probe_hello_modern_tls").await;
    let leaf = support::pki::self_signed(modern_address.ip(), (2100, 1, 1));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(leaf.server_config()));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    for hello in [Hello::Version(TlsVersion::Tls10), Hello::Version(TlsVersion::Tls11), Hello::WeakCipherSuites] {
        let evidence = hello::probe(modern_address, hello, timeouts).await;
        assert_eq!(evidence.outcome(), Outcome::Closed, "{hello:?}: {evidence:?}");
        assert_eq!(evidence.failure_kind(), FailureKind::HandshakeRefused, "{hello:?}: {evidence:?}");
    }
    // Control: nothing listening is a refused connection, not a refused version.
    let nothing = support::loopback::address("probe_hello_nothing", 10259);
    let refused = hello::probe(nothing, Hello::Version(TlsVersion::Tls10), timeouts).await;
    assert_eq!(refused.failure, Some(Failure::Refused));
}
