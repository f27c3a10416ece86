//! Network probes: what the cluster's endpoints answer, seen from the wire.
//!
//! Probes are read-only and bounded: a connect timeout and a request timeout, one GET
//! per request, no redirects followed, response bodies read up to [`BODY_CAP`] and never
//! kept whole. Every outcome is tri-state, because a probe that could not tell must
//! never read as "closed": inconclusive evidence makes rules `not_evaluated`.

pub mod certificate;
pub mod http;
pub mod run;
pub mod targets;

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most of a response body a probe reads.
pub const BODY_CAP: usize = 64 * 1024;

/// What a probe concluded about an endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// It answered.
    Open,
    /// It refused the connection (or, for TLS, refused to talk without credentials).
    Closed,
    /// It could not be told: a timeout, a reset, an unexpected answer.
    #[default]
    Inconclusive,
}

/// Timeouts of one probe.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// To establish the TCP connection.
    pub connect: Duration,
    /// For the TLS handshake and the response, after connecting.
    pub request: Duration,
}

/// What the TLS handshake showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsEvidence {
    /// The handshake completed (without a client certificate).
    pub handshake: bool,
    /// The server asked for a client certificate.
    pub client_certificate_requested: bool,
    /// The server's certificate chain, DER, leaf first (not verified: evidence only).
    #[serde(skip)]
    #[schemars(skip)]
    pub peer_certificates: Vec<Vec<u8>>,
    /// Negotiated protocol version, e.g. `TLSv1_3`.
    pub version: Option<String>,
}

/// One GET and what came back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpEvidence {
    /// What was sent, e.g. `GET https://127.0.0.12:10250/pods`.
    pub request: String,
    /// Open, closed or inconclusive.
    pub outcome: Outcome,
    /// Why, for closed and inconclusive outcomes (refused, timeout, TLS alert, …).
    pub reason: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Body bytes read (at most [`BODY_CAP`]).
    pub body_bytes: usize,
    /// The body was longer than [`BODY_CAP`] and was not read to the end.
    pub body_truncated: bool,
    /// TLS evidence, for `https` requests.
    pub tls: Option<TlsEvidence>,
}

impl HttpEvidence {
    /// The evidence of a request not yet answered: inconclusive until it is.
    pub fn pending(request: String) -> Self {
        Self {
            request,
            outcome: Outcome::Inconclusive,
            reason: None,
            status: None,
            body_bytes: 0,
            body_truncated: false,
            tls: None,
        }
    }
}
