//! Network probes: what the cluster's endpoints answer, seen from the wire.
//!
//! Probes are read-only and bounded: a connect timeout and a request timeout, one GET
//! per request, no redirects followed, response bodies read up to [`BODY_CAP`] and never
//! kept whole. Every outcome is tri-state, because a probe that could not tell must
//! never read as "closed": inconclusive evidence makes rules `not_evaluated`.

pub mod certificate;
pub mod hello;
pub mod http;
pub mod kinds;
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
    /// Negotiated cipher suite, e.g. `TLS13_AES_128_GCM_SHA256`.
    pub cipher_suite: Option<String>,
}

/// Why a probe came back without an answer, or with a refusal. Verdicts match on
/// these variants, never on the words of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The TCP connection was refused: nothing listens.
    Refused,
    /// No TCP answer within the connect timeout.
    ConnectTimeout(Duration),
    /// No answer within the request timeout, after connecting.
    NoAnswer(Duration),
    /// The host name could not be resolved.
    Unresolved(String),
    /// Connecting failed otherwise (unreachable network, …).
    Connect(String),
    /// TCP was accepted, then closed without an answer in this protocol (a TLS port
    /// asked in plaintext, or the reverse).
    ClosedWithoutAnswer,
    /// The connection was reset: the port does not speak this protocol.
    Reset,
    /// It answered, but not in the protocol asked (no HTTP/2 SETTINGS frame).
    OtherProtocol,
    /// The TLS server refused a client without a certificate, with this alert.
    ClientCertificateRequired(String),
    /// The TLS server answered a ClientHello with this alert: it does not accept what
    /// was offered (an old version, weak suites).
    HandshakeRefused(String),
    /// The TLS handshake failed otherwise.
    Tls(String),
    /// HTTP went wrong after the handshake.
    Http(String),
    /// Not sent: an earlier request to the same endpoint got no answer.
    NotAsked {
        /// The earlier request.
        request: String,
        /// Why it got none.
        because: Box<Failure>,
    },
    /// Not sent, or not answered, before the probe budget ran out.
    BudgetExhausted(Duration),
}

impl Failure {
    /// What this failure shows about the endpoint: only a refusal, or a server's own
    /// word, is `closed`; silence is `inconclusive`.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Refused
            | Self::ClosedWithoutAnswer
            | Self::Reset
            | Self::OtherProtocol
            | Self::ClientCertificateRequired(_)
            | Self::HandshakeRefused(_) => Outcome::Closed,
            _ => Outcome::Inconclusive,
        }
    }

    /// No answer in time: the endpoint's other requests are not worth waiting for.
    pub fn is_silence(&self) -> bool {
        matches!(self, Self::ConnectTimeout(_) | Self::NoAnswer(_))
    }

    /// The closed set of failure kinds, as facts and rules name them.
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Refused => FailureKind::Refused,
            Self::ConnectTimeout(_) | Self::NoAnswer(_) => FailureKind::Timeout,
            Self::Unresolved(_) | Self::Connect(_) => FailureKind::Unreachable,
            Self::ClosedWithoutAnswer => FailureKind::ClosedWithoutAnswer,
            Self::Reset => FailureKind::Reset,
            Self::OtherProtocol => FailureKind::OtherProtocol,
            Self::ClientCertificateRequired(_) => FailureKind::ClientCertificateRequired,
            Self::HandshakeRefused(_) => FailureKind::HandshakeRefused,
            Self::Tls(_) => FailureKind::Tls,
            Self::Http(_) => FailureKind::Http,
            Self::NotAsked { .. } => FailureKind::NotAsked,
            Self::BudgetExhausted(_) => FailureKind::BudgetExhausted,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused => formatter.write_str("connection refused"),
            Self::ConnectTimeout(timeout) => write!(formatter, "no TCP answer within {timeout:?}"),
            Self::NoAnswer(timeout) => write!(formatter, "no answer within {timeout:?}"),
            Self::Unresolved(reason) | Self::Connect(reason) | Self::Tls(reason) | Self::Http(reason) => {
                formatter.write_str(reason)
            }
            Self::ClosedWithoutAnswer => formatter.write_str("closed the connection without an answer"),
            Self::Reset => formatter.write_str("connection reset"),
            Self::OtherProtocol => formatter.write_str("answered, but not in this protocol"),
            Self::ClientCertificateRequired(alert) => {
                write!(formatter, "TLS: the server requires a client certificate (alert {alert})")
            }
            Self::HandshakeRefused(alert) => write!(formatter, "TLS alert {alert}"),
            Self::NotAsked { request, because } => write!(formatter, "not asked: {request} got no answer ({because})"),
            Self::BudgetExhausted(budget) => write!(formatter, "probe budget exhausted ({budget:?})"),
        }
    }
}

/// The kinds of [`Failure`], for facts and rules (`it.probe.failure == 'refused'`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// It answered: no failure.
    #[default]
    None,
    /// Connection refused: nothing listens.
    Refused,
    /// No answer in time.
    Timeout,
    /// The address could not be reached or resolved.
    Unreachable,
    /// Accepted, then closed without an answer.
    ClosedWithoutAnswer,
    /// Reset.
    Reset,
    /// Answered in another protocol.
    OtherProtocol,
    /// TLS refused a client without a certificate.
    ClientCertificateRequired,
    /// A ClientHello was answered with an alert.
    HandshakeRefused,
    /// TLS failed otherwise.
    Tls,
    /// HTTP failed after the handshake.
    Http,
    /// Not sent: an earlier request to the endpoint got no answer.
    NotAsked,
    /// The probe budget ran out first.
    BudgetExhausted,
    /// The target was not probed at all.
    NotProbed,
}

/// One request and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEvidence {
    /// What was sent, e.g. `GET https://127.0.0.12:10250/pods`.
    pub request: String,
    /// Why there was no answer, or a refusal; `None` when it answered.
    pub failure: Option<Failure>,
    /// It answered in the protocol asked.
    pub answered: bool,
    /// The HTTP status, when there was an HTTP answer.
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
        Self { request, failure: None, answered: false, status: None, body_bytes: 0, body_truncated: false, tls: None }
    }

    /// The evidence of a request that failed.
    pub fn failed(request: String, failure: Failure) -> Self {
        Self { failure: Some(failure), ..Self::pending(request) }
    }

    /// Open (it answered), closed or inconclusive.
    pub fn outcome(&self) -> Outcome {
        match &self.failure {
            Some(failure) => failure.outcome(),
            None if self.answered => Outcome::Open,
            None => Outcome::Inconclusive,
        }
    }

    /// The failure's kind; `none` when it answered.
    pub fn failure_kind(&self) -> FailureKind {
        self.failure.as_ref().map_or(FailureKind::None, Failure::kind)
    }
}
