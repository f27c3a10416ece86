//! The probe engine against real etcd in its three modes, side by side: a plaintext
//! client port answers anyone, TLS alone still answers anyone, mutual TLS turns away a
//! client without a certificate. A pass cannot come from lax probing: each secure case
//! has an insecure control in the same file.

mod support;

use std::time::Duration;

use seaworthy::probe::http::{Scheme, get};
use seaworthy::probe::{Outcome, Timeouts};
use support::etcd::{Etcd, Mode};

const TIMEOUTS: Timeouts = Timeouts { connect: Duration::from_secs(10), request: Duration::from_secs(30) };

#[tokio::test]
async fn plaintext_etcd_answers_anyone() {
    let etcd = Etcd::start("etcd_plaintext_answers_anyone", Mode::Plain);
    let answer = get(etcd.client, "/version", Scheme::Http, TIMEOUTS).await;
    assert_eq!((answer.evidence.outcome(), answer.evidence.status), (Outcome::Open, Some(200)), "{answer:?}");
    assert!(String::from_utf8_lossy(&answer.body).contains("etcdserver"), "an etcd version document");
}

#[tokio::test]
async fn tls_without_client_certificates_still_answers_anyone() {
    let etcd = Etcd::start("etcd_tls_still_answers_anyone", Mode::Tls);
    let answer = get(etcd.client, "/version", Scheme::Https, TIMEOUTS).await;
    assert_eq!((answer.evidence.outcome(), answer.evidence.status), (Outcome::Open, Some(200)), "{answer:?}");
    let tls = answer.evidence.tls.expect("TLS evidence");
    assert!(!tls.client_certificate_requested);
    assert_eq!(
        tls.peer_certificates.first(),
        etcd.server_certificate.as_ref(),
        "etcd's own certificate is the evidence"
    );
    let plaintext = get(etcd.client, "/version", Scheme::Http, TIMEOUTS).await;
    assert_ne!(plaintext.evidence.status, Some(200), "a TLS port does not serve /version in plaintext: {plaintext:?}");
}

#[tokio::test]
async fn mutual_tls_turns_away_a_client_without_a_certificate() {
    let etcd = Etcd::start("etcd_mutual_tls_turns_away", Mode::MutualTls);
    let answer = get(etcd.client, "/version", Scheme::Https, TIMEOUTS).await;
    assert_eq!(answer.evidence.outcome(), Outcome::Closed, "{answer:?}");
    assert_eq!(
        answer.evidence.failure,
        Some(seaworthy::probe::Failure::ClientCertificateRequired("BadCertificate".into())),
        "real etcd refuses with a bad_certificate alert"
    );
    assert!(answer.evidence.tls.expect("TLS evidence").client_certificate_requested);
}
