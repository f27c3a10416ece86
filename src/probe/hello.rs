//! Old TLS versions and weak cipher suites, seen from the wire.
//!
//! rustls does not speak TLS below 1.2, and should not. To learn whether a server still
//! accepts TLS 1.0 or 1.1, or a weak cipher suite, a minimal ClientHello is built by
//! hand and only the server's first answer is read: a ServerHello (accepted, with the
//! version and suite it picked) or an alert (refused). The handshake is never
//! completed: no key exchange, no data, nothing that a server could mistake for a client.

use std::net::SocketAddr;

use tls_parser::{TlsCipherEnc, TlsCipherEncMode, TlsCipherMac, TlsCipherSuite, TlsMessage, TlsMessageHandshake};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::timeout;

use super::kinds::Hello;
use super::{Failure, HttpEvidence, Timeouts, TlsEvidence};

/// A TLS protocol version a ClientHello can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.0.
    Tls10,
    /// TLS 1.1.
    Tls11,
    /// TLS 1.2.
    Tls12,
}

impl TlsVersion {
    fn wire(self) -> u16 {
        match self {
            Self::Tls10 => 0x0301,
            Self::Tls11 => 0x0302,
            Self::Tls12 => 0x0303,
        }
    }

    /// The name evidence uses, as rustls names versions (`TLSv1_0`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Tls10 => "TLSv1_0",
            Self::Tls11 => "TLSv1_1",
            Self::Tls12 => "TLSv1_2",
        }
    }

    fn from_wire(version: u16) -> Option<Self> {
        [Self::Tls10, Self::Tls11, Self::Tls12].into_iter().find(|known| known.wire() == version)
    }
}

/// Suites any server of TLS 1.0 to 1.2 speaks: ECDHE and RSA with AES, CBC and GCM.
const ORDINARY_SUITES: &[u16] =
    &[0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014, 0xc009, 0xc00a, 0x009c, 0x009d, 0x002f, 0x0035];

/// Weak suites: CBC with SHA-1, 3DES, RC4, DES and export-grade.
const WEAK_SUITES: &[u16] = &[
    0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, // AES-CBC with SHA-1
    0xc012, 0xc008, 0x000a, // 3DES
    0xc011, 0xc007, 0x0005, 0x0004, // RC4
    0x0009, 0x0003, 0x0006, 0x0008, 0x0014, 0x0011, // DES and export
];

/// Whether a cipher suite is weak: CBC with SHA-1 or MD5, 3DES, RC4, DES, no
/// encryption, or export-grade.
pub fn is_weak(suite: &TlsCipherSuite) -> bool {
    matches!(
        suite.enc,
        TlsCipherEnc::Null | TlsCipherEnc::Des | TlsCipherEnc::TripleDes | TlsCipherEnc::Rc2 | TlsCipherEnc::Rc4
    ) || (suite.enc_mode == TlsCipherEncMode::Cbc
        && matches!(suite.mac, TlsCipherMac::HmacSha1 | TlsCipherMac::HmacMd5))
        || suite.name.contains("EXPORT")
}

/// Whether the suite of this IANA name (as Go's `--tls-cipher-suites` spells them) is
/// weak; an unknown name is not judged weak.
pub fn is_weak_named(name: &str) -> bool {
    TlsCipherSuite::from_name(name).is_some_and(is_weak)
}

/// The IANA name of a suite, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
pub fn suite_name(id: u16) -> String {
    TlsCipherSuite::from_id(id).map_or_else(|| format!("0x{id:04x}"), |suite| suite.name.to_owned())
}

/// A ClientHello record offering `version` and `suites`, with the extensions a modern
/// server needs to pick an ECDHE suite. No SNI: targets are addresses.
fn client_hello(version: TlsVersion, suites: &[u16]) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&version.wire().to_be_bytes());
    // The random only has to be 32 bytes; it is never used for keys.
    body.extend_from_slice(&[0x5e; 32]);
    body.push(0); // no session id
    push_u16_prefixed(&mut body, &suites.iter().flat_map(|suite| suite.to_be_bytes()).collect::<Vec<u8>>());
    body.extend_from_slice(&[1, 0]); // null compression only
    let mut extensions = Vec::new();
    // supported_groups: x25519, secp256r1, secp384r1.
    extension(&mut extensions, 0x000a, &[0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed.
    extension(&mut extensions, 0x000b, &[0x01, 0x00]);
    // signature_algorithms (read from TLS 1.2 on): RSA and ECDSA with SHA-256 and SHA-1, RSA-PSS.
    extension(&mut extensions, 0x000d, &[0x00, 0x0a, 0x04, 0x01, 0x04, 0x03, 0x08, 0x04, 0x02, 0x01, 0x02, 0x03]);
    // renegotiation_info, empty: a secure-renegotiation client.
    extension(&mut extensions, 0xff01, &[0x00]);
    push_u16_prefixed(&mut body, &extensions);
    let mut handshake = vec![0x01]; // ClientHello
    let length = u32::try_from(body.len()).expect("a ClientHello is small").to_be_bytes();
    handshake.extend_from_slice(&length[1..]);
    handshake.extend_from_slice(&body);
    // The record layer says TLS 1.0, as clients do for compatibility.
    let mut record = vec![0x16, 0x03, 0x01];
    push_u16_prefixed(&mut record, &handshake);
    record
}

fn push_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u16::try_from(bytes.len()).expect("a ClientHello part is small").to_be_bytes());
    out.extend_from_slice(bytes);
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16_prefixed(out, data);
}

/// What the server said first.
#[derive(Debug, PartialEq, Eq)]
enum FirstAnswer {
    /// A ServerHello: the version and suite it picked.
    Hello { version: u16, suite: u16 },
    /// An alert, by name.
    Alert(String),
    /// Bytes that are not a TLS record.
    NotTls,
}

/// The server's first TLS message in `bytes`, or `None` when more bytes are needed.
fn first_answer(bytes: &[u8]) -> Option<FirstAnswer> {
    let record = match tls_parser::parse_tls_raw_record(bytes) {
        Ok((_, record)) => record,
        Err(tls_parser::Err::Incomplete(_)) => return None,
        Err(_) => return Some(FirstAnswer::NotTls),
    };
    let parsed = tls_parser::parse_tls_record_with_header(record.data, &record.hdr);
    Some(match parsed.ok().and_then(|(_, messages)| messages.into_iter().next()) {
        Some(TlsMessage::Handshake(TlsMessageHandshake::ServerHello(hello))) => {
            FirstAnswer::Hello { version: hello.version.0, suite: hello.cipher.0 }
        }
        Some(TlsMessage::Alert(alert)) => FirstAnswer::Alert(format!("{}", alert.code)),
        _ => FirstAnswer::NotTls,
    })
}

/// What a ClientHello offers, in words, e.g. `TLS ClientHello TLSv1_0 to 10.0.0.1:6443`.
pub fn describe(hello: Hello, address: &str) -> String {
    match hello {
        Hello::Version(version) => format!("TLS ClientHello {} to {address}", version.name()),
        Hello::WeakCipherSuites => format!("TLS ClientHello TLSv1_2 with only weak cipher suites to {address}"),
    }
}

/// Sends one hand-built ClientHello and reads the answer; the connection is closed
/// right after the ServerHello.
pub async fn probe(address: SocketAddr, hello: Hello, timeouts: Timeouts) -> HttpEvidence {
    let (version, suites) = match hello {
        Hello::Version(version) => (version, ORDINARY_SUITES),
        Hello::WeakCipherSuites => (TlsVersion::Tls12, WEAK_SUITES),
    };
    let request = match hello {
        Hello::Version(version) => format!("TLS ClientHello {} to {address}", version.name()),
        Hello::WeakCipherSuites => {
            format!("TLS ClientHello {} with only weak cipher suites to {address}", version.name())
        }
    };
    let mut tcp = match super::http::connect(address, timeouts).await {
        Ok(tcp) => tcp,
        Err(failure) => return HttpEvidence::failed(request, failure),
    };
    let exchanged = timeout(timeouts.request, async {
        tcp.write_all(&client_hello(version, suites)).await?;
        // A ServerHello comes in the first record, of at most 16 KiB and a header.
        let mut read = Vec::with_capacity(4096);
        let mut buffer = [0_u8; 4096];
        loop {
            let more = tcp.read(&mut buffer).await?;
            if more == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            read.extend_from_slice(&buffer[..more]);
            if let Some(answer) = first_answer(&read) {
                return Ok(Some(answer));
            }
            if read.len() > 16 * 1024 + 5 {
                return Ok(Some(FirstAnswer::NotTls));
            }
        }
    })
    .await;
    let failure = match exchanged {
        Err(_) => Failure::NoAnswer(timeouts.request),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => Failure::Reset,
        Ok(Err(error)) => Failure::Connect(format!("read: {error}")),
        Ok(Ok(None)) => Failure::ClosedWithoutAnswer,
        Ok(Ok(Some(FirstAnswer::NotTls))) => Failure::OtherProtocol,
        Ok(Ok(Some(FirstAnswer::Alert(alert)))) => Failure::HandshakeRefused(alert),
        Ok(Ok(Some(FirstAnswer::Hello { version, suite }))) => {
            let tls = TlsEvidence {
                version: Some(
                    TlsVersion::from_wire(version)
                        .map_or_else(|| format!("0x{version:04x}"), |known| known.name().to_owned()),
                ),
                cipher_suite: Some(suite_name(suite)),
                ..TlsEvidence::default()
            };
            return HttpEvidence { answered: true, tls: Some(tls), ..HttpEvidence::pending(request) };
        }
    };
    HttpEvidence::failed(request, failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_hello_is_a_tls_record_that_parses_back() {
        let record = client_hello(TlsVersion::Tls10, ORDINARY_SUITES);
        let (rest, parsed) = tls_parser::parse_tls_plaintext(&record).expect("a valid record");
        assert!(rest.is_empty());
        let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) = parsed.msg.first() else {
            panic!("a ClientHello: {parsed:?}")
        };
        assert_eq!(hello.version.0, 0x0301);
        assert_eq!(hello.ciphers.len(), ORDINARY_SUITES.len());
    }

    #[test]
    fn weak_suites_are_told_from_strong_ones() {
        for id in WEAK_SUITES {
            let suite = TlsCipherSuite::from_id(*id).expect("a known suite");
            assert!(is_weak(suite), "{}", suite.name);
        }
        for id in [0xc02f_u16, 0xc030, 0x1301, 0xcca8] {
            let suite = TlsCipherSuite::from_id(id).expect("a known suite");
            assert!(!is_weak(suite), "{}", suite.name);
        }
    }

    #[test]
    fn the_first_answer_is_a_hello_an_alert_or_not_tls() {
        // A fatal protocol_version alert (70).
        assert_eq!(
            first_answer(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]),
            Some(FirstAnswer::Alert("ProtocolVersion".into()))
        );
        assert_eq!(first_answer(&[0x15, 0x03, 0x01, 0x00]), None, "a record cut short needs more bytes");
        assert_eq!(first_answer(b"HTTP/1.1 400 Bad Request\r\n"), Some(FirstAnswer::NotTls));
    }
}
