//! Kubelet configuration (`KubeletConfiguration`, kubelet.config.k8s.io/v1beta1), from a
//! config file in the manifests or a kubelet's `/configz`, reduced to what rules judge.

use serde::Deserialize;

use super::{KubeletConfig, Meta};

/// The fields of a KubeletConfiguration the facts use; everything else is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct KubeletConfiguration {
    authentication: Authentication,
    authorization: Authorization,
    read_only_port: Option<i64>,
    rotate_certificates: Option<bool>,
    #[serde(rename = "serverTLSBootstrap")]
    server_tls_bootstrap: Option<bool>,
    tls_cert_file: Option<String>,
    tls_min_version: Option<String>,
    tls_cipher_suites: Option<Vec<String>>,
    protect_kernel_defaults: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Authentication {
    anonymous: Enabled,
    webhook: Enabled,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Enabled {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Authorization {
    mode: Option<String>,
}

/// Reads a KubeletConfiguration document (a config file, or `/configz`'s `kubeletconfig`).
pub fn parse(config: &serde_json::Value, meta: Meta, node: Option<String>) -> Result<KubeletConfig, serde_json::Error> {
    let parsed: KubeletConfiguration = serde_json::from_value(config.clone())?;
    Ok(KubeletConfig {
        meta,
        node,
        anonymous_auth: parsed.authentication.anonymous.enabled,
        webhook_authentication: parsed.authentication.webhook.enabled,
        authorization_mode: parsed.authorization.mode,
        read_only_port: parsed.read_only_port,
        rotate_certificates: parsed.rotate_certificates,
        server_tls_bootstrap: parsed.server_tls_bootstrap,
        tls_cert_file: parsed.tls_cert_file,
        tls_min_version: parsed.tls_min_version,
        tls_cipher_suites: parsed.tls_cipher_suites,
        protect_kernel_defaults: parsed.protect_kernel_defaults,
    })
}
