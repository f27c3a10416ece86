//! One bounded GET over plain TCP or TLS, with the evidence of what happened.
//!
//! TLS is spoken to observe, not to trust: the server's chain is recorded and not
//! verified (handshake signatures still are), and no client certificate is ever
//! offered, so a server that demands one shows itself by asking. Nothing secret is
//! sent: no credentials, no cookies, one request line and a few headers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http::{Request, header};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WantsClientCert};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{BODY_CAP, Failure, HttpEvidence, Timeouts, TlsEvidence};

/// Plain HTTP or HTTPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`.
    Http,
    /// `https://`.
    Https,
}

impl Scheme {
    /// `http` or `https`, as URLs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// What a GET sends, in words: `GET https://10.0.0.1:6443/version`.
pub fn describe_get(scheme: Scheme, address: &str, path: &str) -> String {
    format!("GET {}://{address}{path}", scheme.name())
}

/// What the HTTP/2 probe sends, in words.
pub fn describe_preface(address: &str) -> String {
    format!("HTTP/2 preface (plaintext) to {address}")
}

/// The evidence of a GET, and up to [`BODY_CAP`] bytes of the body for the caller to
/// summarise (never to keep).
#[derive(Clone, Debug)]
pub struct Answer {
    /// What was sent and what came back.
    pub evidence: HttpEvidence,
    /// The start of the body.
    pub body: Vec<u8>,
}

/// GETs `path` from `address`.
pub async fn get(address: SocketAddr, path: &str, scheme: Scheme, timeouts: Timeouts) -> Answer {
    let mut evidence = HttpEvidence::pending(describe_get(scheme, &address.to_string(), path));
    let tcp = match connect(address, timeouts).await {
        Ok(tcp) => tcp,
        Err(failure) => return failed(evidence, failure),
    };
    let exchanged = match scheme {
        Scheme::Http => timeout(timeouts.request, exchange(tcp, address, path)).await,
        Scheme::Https => {
            let recorder = Arc::new(Recorder::default());
            let result = timeout(timeouts.request, async {
                let connector = tokio_rustls::TlsConnector::from(Arc::new(observing_config(&recorder)));
                let stream =
                    connector.connect(ServerName::IpAddress(address.ip().into()), tcp).await.map_err(|error| {
                        match certificate_alert(&error) {
                            Some(alert) => Failed::CertificateRefused(alert),
                            None => Failed::Other(Failure::Tls(format!("TLS handshake: {error}"))),
                        }
                    })?;
                let connection = stream.get_ref().1;
                let version = connection.protocol_version().map(|version| format!("{version:?}"));
                let suite = connection.negotiated_cipher_suite().map(|suite| format!("{:?}", suite.suite()));
                recorder.state().version = version;
                recorder.state().cipher_suite = suite;
                recorder.state().handshake = true;
                exchange(stream, address, path).await
            })
            .await;
            let tls = recorder.state().clone();
            let client_certificate_requested = tls.client_certificate_requested;
            evidence.tls = Some(tls);
            // Only the server's own word proves that it requires a certificate: a TLS alert
            // saying so (with TLS 1.3 it comes after the handshake). A server that merely
            // asked and then reset or sent garbage has proven nothing either way.
            let other = |reason: String| Ok(Err(Failed::Other(Failure::Tls(reason))));
            match result {
                Ok(Err(Failed::CertificateRefused(alert))) if client_certificate_requested => {
                    return failed(evidence, Failure::ClientCertificateRequired(format!("{alert:?}")));
                }
                Ok(Err(Failed::CertificateRefused(alert))) => {
                    other(format!("TLS alert {alert:?} without a certificate request"))
                }
                Ok(Err(Failed::NoAnswer)) if client_certificate_requested => {
                    other("TLS: asked for a client certificate, then closed without an alert".into())
                }
                Ok(Err(Failed::Other(failure))) if client_certificate_requested => {
                    other(format!("TLS: asked for a client certificate, then: {failure}"))
                }
                other => other,
            }
        }
    };
    match exchanged {
        Err(_) => failed(evidence, Failure::NoAnswer(timeouts.request)),
        Ok(Err(Failed::NoAnswer)) => failed(evidence, Failure::ClosedWithoutAnswer),
        Ok(Err(Failed::Other(failure))) => failed(evidence, failure),
        Ok(Err(Failed::CertificateRefused(alert))) => failed(evidence, Failure::Tls(format!("TLS alert {alert:?}"))),
        Ok(Ok((status, body, truncated))) => {
            evidence.answered = true;
            evidence.status = Some(status);
            evidence.body_bytes = body.len();
            evidence.body_truncated = truncated;
            Answer { evidence, body }
        }
    }
}

/// Connects, telling a refusal (closed) from silence (inconclusive).
pub(super) async fn connect(address: SocketAddr, timeouts: Timeouts) -> Result<TcpStream, Failure> {
    match timeout(timeouts.connect, TcpStream::connect(address)).await {
        Err(_) => Err(Failure::ConnectTimeout(timeouts.connect)),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => Err(Failure::Refused),
        Ok(Err(error)) => Err(Failure::Connect(format!("connect: {error}"))),
        Ok(Ok(tcp)) => Ok(tcp),
    }
}

/// The HTTP/2 client preface followed by an empty SETTINGS frame (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// Opens an HTTP/2 connection in plaintext (h2c with prior knowledge) and reads the
/// first frame: a gRPC server without TLS, such as Helm v2's Tiller, answers with its
/// own SETTINGS frame. Nothing beyond the preface is sent.
pub async fn h2c_preface(address: SocketAddr, timeouts: Timeouts) -> Answer {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let evidence = HttpEvidence::pending(describe_preface(&address.to_string()));
    let mut tcp = match connect(address, timeouts).await {
        Ok(tcp) => tcp,
        Err(failure) => return failed(evidence, failure),
    };
    let exchanged = timeout(timeouts.request, async {
        tcp.write_all(H2_PREFACE).await?;
        let mut header = [0_u8; 9];
        let mut read = 0;
        while read < header.len() {
            let more = tcp.read(&mut header[read..]).await?;
            if more == 0 {
                break;
            }
            read += more;
        }
        Ok::<_, std::io::Error>((header, read))
    })
    .await;
    match exchanged {
        Err(_) => failed(evidence, Failure::NoAnswer(timeouts.request)),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => failed(evidence, Failure::Reset),
        Ok(Err(error)) => failed(evidence, Failure::Connect(format!("read: {error}"))),
        // Frame type 4 is SETTINGS.
        Ok(Ok((header, 9))) if header[3] == 4 => {
            let mut evidence = evidence;
            evidence.answered = true;
            Answer { evidence, body: Vec::new() }
        }
        Ok(Ok((_, 0))) => failed(evidence, Failure::ClosedWithoutAnswer),
        Ok(Ok(_)) => failed(evidence, Failure::OtherProtocol),
    }
}

fn failed(mut evidence: HttpEvidence, failure: Failure) -> Answer {
    evidence.failure = Some(failure);
    Answer { evidence, body: Vec::new() }
}

/// Why an exchange ended without an answer.
enum Failed {
    /// The server closed the connection before sending a response: it accepts TCP but
    /// does not speak this protocol (a TLS port asked in plaintext, typically).
    NoAnswer,
    /// The server sent a TLS alert refusing the connection for want of a certificate.
    CertificateRefused(rustls::AlertDescription),
    /// Anything else.
    Other(Failure),
}

/// The TLS alert in an error's chain that refuses a connection without a client
/// certificate: `certificate_required` (TLS 1.3), `bad_certificate` or
/// `handshake_failure` (what TLS 1.2 servers send when a required certificate is
/// missing).
fn certificate_alert(error: &(dyn std::error::Error + 'static)) -> Option<rustls::AlertDescription> {
    use rustls::AlertDescription::{BadCertificate, CertificateRequired, HandshakeFailure};
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        let tls = current
            .downcast_ref::<rustls::Error>()
            .or_else(|| current.downcast_ref::<std::io::Error>()?.get_ref()?.downcast_ref::<rustls::Error>());
        if let Some(rustls::Error::AlertReceived(alert @ (CertificateRequired | BadCertificate | HandshakeFailure))) =
            tls
        {
            return Some(*alert);
        }
        cause = current.source();
    }
    None
}

fn http_failure(error: &hyper::Error) -> Failed {
    if let Some(alert) = certificate_alert(error) {
        Failed::CertificateRefused(alert)
    } else if error.is_incomplete_message() {
        Failed::NoAnswer
    } else {
        Failed::Other(Failure::Http(format!("HTTP: {error}")))
    }
}

/// Sends one GET and reads the status and at most [`BODY_CAP`] bytes of the body.
async fn exchange<S>(stream: S, address: SocketAddr, path: &str) -> Result<(u16, Vec<u8>, bool), Failed>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|error| http_failure(&error))?;
    // The connection task ends with this function: a body that never ends is not read on.
    let driver = tokio::spawn(connection);
    let result = async {
        let request = Request::get(path)
            .header(header::HOST, address.to_string())
            .header(header::USER_AGENT, concat!("seaworthy-probe/", env!("CARGO_PKG_VERSION")))
            .body(Empty::<Bytes>::new())
            .map_err(|error| Failed::Other(Failure::Http(error.to_string())))?;
        let response = sender.send_request(request).await.map_err(|error| http_failure(&error))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut read = Vec::new();
        let mut truncated = false;
        while let Some(frame) = body.frame().await {
            let Ok(data) =
                frame.map_err(|error| Failed::Other(Failure::Http(format!("HTTP body: {error}"))))?.into_data()
            else {
                continue;
            };
            let room = BODY_CAP - read.len();
            read.extend_from_slice(&data[..data.len().min(room)]);
            if data.len() > room || read.len() == BODY_CAP {
                truncated = data.len() > room || body.frame().await.is_some();
                break;
            }
        }
        Ok((status, read, truncated))
    }
    .await;
    driver.abort();
    result
}

/// What the TLS handshake revealed, filled in by the verifier and the resolver.
#[derive(Default, Debug)]
struct Recorder(Mutex<TlsEvidence>);

impl Recorder {
    fn state(&self) -> std::sync::MutexGuard<'_, TlsEvidence> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Records the server's chain instead of judging it; signatures are still checked.
#[derive(Debug)]
struct Observer {
    recorder: Arc<Recorder>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Observer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity).chain(intermediates).map(|certificate| certificate.to_vec()).collect();
        self.recorder.state().peer_certificates = chain;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Notes that the server asked for a client certificate, and offers none.
#[derive(Debug)]
struct NoClientCertificate(Arc<Recorder>);

impl ResolvesClientCert for NoClientCertificate {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.0.state().client_certificate_requested = true;
        None
    }

    fn has_certs(&self) -> bool {
        // True so that rustls asks `resolve`, which is how a request is noticed.
        true
    }
}

fn observing_config(recorder: &Arc<Recorder>) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder: rustls::ConfigBuilder<ClientConfig, WantsClientCert> =
        ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Observer { recorder: recorder.clone(), provider }));
    let mut config = builder.with_client_cert_resolver(Arc::new(NoClientCertificate(recorder.clone())));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
