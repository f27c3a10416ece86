//! Certificates minted per test with rcgen: a CA and server certificates for loopback
//! addresses, so TLS is real and every test trusts only its own CA.

use std::net::IpAddr;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};

/// A certificate authority.
pub struct Ca {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate with its private key.
pub struct Leaf {
    /// Certificate chain (leaf only), PEM.
    pub cert_pem: String,
    /// Private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The certificate, DER.
    pub cert_der: rustls::pki_types::CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl Leaf {
    /// The private key, DER, for rustls.
    pub fn key_der(&self) -> rustls::pki_types::PrivateKeyDer<'static> {
        rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into())
    }

    /// A rustls server configuration serving this certificate over HTTP/1.1.
    pub fn server_config(&self) -> rustls::ServerConfig {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], self.key_der())
            .expect("serving certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }
}

impl Ca {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).expect("a self-signed CA");
        Self { cert_pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// A server certificate for `ip`, signed by this CA.
    pub fn server(&self, ip: IpAddr) -> Leaf {
        self.server_until(ip, (2100, 1, 1))
    }

    /// A server certificate for `ip`, signed by this CA, valid until `not_after`.
    pub fn server_until(&self, ip: IpAddr, not_after: (i32, u8, u8)) -> Leaf {
        let key = KeyPair::generate().expect("a server key");
        let cert = server_params(ip, not_after).signed_by(&key, &self.issuer).expect("a signed server certificate");
        leaf(&cert, &key)
    }
}

/// A self-signed server certificate for `ip` (what a kubelet makes for itself).
pub fn self_signed(ip: IpAddr, not_after: (i32, u8, u8)) -> Leaf {
    let key = KeyPair::generate().expect("a server key");
    let cert = server_params(ip, not_after).self_signed(&key).expect("a self-signed certificate");
    leaf(&cert, &key)
}

fn server_params(ip: IpAddr, not_after: (i32, u8, u8)) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("server parameters");
    params.subject_alt_names = vec![SanType::IpAddress(ip)];
    params.distinguished_name.push(DnType::CommonName, ip.to_string());
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    params
}

fn leaf(cert: &rcgen::Certificate, key: &KeyPair) -> Leaf {
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().clone(),
        key_der: key.serialize_der(),
    }
}
