//! What a certificate seen on the wire says about itself: identity, validity against
//! an injected clock, self-signing, key and signature strength.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::public_key::PublicKey;

/// A certificate, described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateFact {
    /// Subject distinguished name, e.g. `CN=kube-apiserver`.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// DNS names among the subject alternative names.
    pub dns_names: Vec<String>,
    /// IP addresses among the subject alternative names.
    pub ip_addresses: Vec<String>,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// Whole days from now to `notAfter`; negative once expired.
    pub days_left: i64,
    /// Issued by itself: subject and issuer agree (and so do the key identifiers, when
    /// both are present).
    pub self_signed: bool,
    /// `RSA`, `EC`, or the key algorithm's name.
    pub key_type: String,
    /// Key size in bits (0 when unknown).
    pub key_bits: i64,
    /// Signature algorithm, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    /// The signature uses SHA-1 (or MD5): collisions are practical.
    pub weak_signature: bool,
}

/// Describes a DER certificate as of `now`.
pub fn describe(der: &[u8], now: Timestamp) -> Result<CertificateFact, String> {
    let (_, certificate) =
        x509_parser::parse_x509_certificate(der).map_err(|error| format!("not an X.509 certificate: {error}"))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(names)) = certificate.subject_alternative_name() {
        for name in &names.value.general_names {
            match name {
                GeneralName::DNSName(dns) => dns_names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from(bytes) {
                        ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let not_after = certificate.validity().not_after.timestamp();
    let days_left = (not_after - now.as_second()).div_euclid(86_400);
    let not_after = Timestamp::from_second(not_after).map_or_else(|_| "invalid".into(), crate::scan::rfc3339);
    let registry = oid_registry();
    let public_key = certificate.public_key();
    let (key_type, key_bits) = match public_key.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".to_owned(), rsa.key_size()),
        Ok(PublicKey::EC(ec)) => ("EC".to_owned(), ec.key_size()),
        _ => {
            let name = oid2sn(&public_key.algorithm.algorithm, registry).unwrap_or("unknown");
            (name.to_owned(), 0)
        }
    };
    let signature_algorithm = oid2sn(&certificate.signature_algorithm.algorithm, registry)
        .map_or_else(|_| certificate.signature_algorithm.algorithm.to_id_string(), str::to_owned);
    let lower = signature_algorithm.to_ascii_lowercase();
    let same_name = certificate.subject() == certificate.issuer();
    let key_ids_agree = match (subject_key_id(&certificate), authority_key_id(&certificate)) {
        (Some(subject), Some(authority)) => subject == authority,
        _ => true,
    };
    Ok(CertificateFact {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        dns_names,
        ip_addresses,
        not_after,
        days_left,
        self_signed: same_name && key_ids_agree,
        key_type,
        key_bits: i64::try_from(key_bits).unwrap_or(0),
        weak_signature: lower.contains("sha1") || lower.contains("md5"),
        signature_algorithm,
    })
}

/// Whether `leaf` was issued by `ca`: the issuer name is the CA's subject and the
/// leaf's signature verifies with the CA's key (a name alone can be copied).
pub fn issued_by(leaf: &[u8], ca: &[u8]) -> Result<bool, String> {
    let (_, leaf) = x509_parser::parse_x509_certificate(leaf).map_err(|error| format!("leaf: {error}"))?;
    let (_, ca) = x509_parser::parse_x509_certificate(ca).map_err(|error| format!("CA: {error}"))?;
    Ok(leaf.issuer() == ca.subject() && leaf.verify_signature(Some(ca.public_key())).is_ok())
}

/// The DER of the first certificate in a PEM text.
pub fn der_from_pem(pem: &str) -> Result<Vec<u8>, String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|error| format!("not PEM: {error}"))?;
    Ok(pem.contents)
}

fn ip_from(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

fn subject_key_id(certificate: &x509_parser::certificate::X509Certificate<'_>) -> Option<Vec<u8>> {
    certificate.extensions().iter().find_map(|extension| match extension.parsed_extension() {
        x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
        _ => None,
    })
}

fn authority_key_id(certificate: &x509_parser::certificate::X509Certificate<'_>) -> Option<Vec<u8>> {
    certificate.extensions().iter().find_map(|extension| match extension.parsed_extension() {
        x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(id) => {
            id.key_identifier.as_ref().map(|key| key.0.to_vec())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

    fn now() -> Timestamp {
        "2026-03-01T00:00:00Z".parse().expect("a timestamp")
    }

    fn der_from_pem_test(pem: &str) -> Vec<u8> {
        use base64::Engine as _;
        let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(body).expect("PEM body")
    }

    /// A CA and a leaf for 127.0.0.9 and `node1`, valid until `not_after`.
    fn ca_and_leaf(not_after: (i32, u8, u8)) -> (Vec<u8>, Vec<u8>) {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "cluster-ca");
        let ca_cert = ca.self_signed(&ca_key).expect("CA");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("leaf key");
        let mut leaf = CertificateParams::new(vec!["node1".to_owned()]).expect("leaf params");
        leaf.subject_alt_names.push(SanType::IpAddress("127.0.0.9".parse().expect("IP")));
        leaf.distinguished_name.push(DnType::CommonName, "kubelet");
        leaf.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let leaf_cert = leaf.signed_by(&key, &issuer).expect("leaf");
        (ca_cert.der().to_vec(), leaf_cert.der().to_vec())
    }

    #[test]
    fn a_ca_signed_leaf_is_described() {
        let (ca, leaf) = ca_and_leaf((2026, 3, 31));
        let fact = describe(&leaf, now()).expect("parses");
        assert_eq!(fact.subject, "CN=kubelet");
        assert_eq!(fact.issuer, "CN=cluster-ca");
        assert_eq!(fact.dns_names, vec!["node1"]);
        assert_eq!(fact.ip_addresses, vec!["127.0.0.9"]);
        assert_eq!(fact.days_left, 30, "days are counted against the injected clock");
        assert!(!fact.self_signed);
        assert_eq!((fact.key_type.as_str(), fact.key_bits), ("EC", 256));
        assert_eq!(fact.signature_algorithm, "ecdsa-with-SHA256");
        assert!(!fact.weak_signature);
        assert!(describe(&ca, now()).expect("CA parses").self_signed, "a root signs itself");
    }

    #[test]
    fn an_expired_certificate_has_negative_days_left() {
        let (_, leaf) = ca_and_leaf((2026, 2, 1));
        let fact = describe(&leaf, now()).expect("parses");
        assert_eq!(fact.days_left, -28);
        assert_eq!(fact.not_after, "2026-02-01T00:00:00Z");
    }

    #[test]
    fn weak_rsa_and_sha1_are_recognised() {
        let pem = include_str!("../../testdata/certificates/rsa1024-sha1-self-signed.pem");
        let fact = describe(&der_from_pem_test(pem), now()).expect("parses");
        assert_eq!((fact.key_type.as_str(), fact.key_bits), ("RSA", 1024));
        assert_eq!(fact.signature_algorithm, "sha1WithRSAEncryption");
        assert!(fact.weak_signature);
        assert!(fact.self_signed);
        assert_eq!(fact.dns_names, vec!["node1"]);
        assert_eq!(fact.ip_addresses, vec!["10.0.0.5"]);
    }

    #[test]
    fn issuers_are_recognised() {
        let (ca, leaf) = ca_and_leaf((2026, 3, 31));
        let (other_ca, _) = ca_and_leaf((2026, 3, 31));
        assert_eq!(issued_by(&leaf, &ca), Ok(true));
        assert_eq!(issued_by(&leaf, &other_ca), Ok(false), "same name, other key");
        let pem = include_str!("../../testdata/certificates/rsa1024-sha1-self-signed.pem");
        assert_eq!(der_from_pem(pem).expect("PEM"), der_from_pem_test(pem));
        assert!(der_from_pem("no PEM here").is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(describe(b"not a certificate", now()).is_err());
    }
}
