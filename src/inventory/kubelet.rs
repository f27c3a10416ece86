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

/// The words after `kubelet` when a container runs the kubelet — `kubelet …`,
/// `hyperkube kubelet …`, or a shell told to (`sh -c "exec kubelet …"`) — and `None`
/// when it runs anything else. Its flags are its configuration.
pub fn kubelet_arguments(command: &[String], args: &[String]) -> Option<Vec<String>> {
    let words: Vec<&str> = command.iter().chain(args).map(String::as_str).collect();
    let is_kubelet = |word: &str| word.rsplit('/').next() == Some("kubelet");
    let is_shell = |word: &str| matches!(word.rsplit('/').next(), Some("sh" | "bash" | "ash" | "dash"));
    if let [shell, "-c", script, ..] = words.as_slice()
        && is_shell(shell)
    {
        let script: Vec<&str> = script.split_whitespace().skip_while(|word| *word == "exec").collect();
        let (first, rest) = script.split_first()?;
        return is_kubelet(first).then(|| rest.iter().map(|word| (*word).to_owned()).collect());
    }
    let start = match words.as_slice() {
        [first, ..] if is_kubelet(first) => 1,
        [first, second, ..] if first.rsplit('/').next() == Some("hyperkube") && is_kubelet(second) => 2,
        _ => return None,
    };
    Some(words[start..].iter().map(|word| (*word).to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn a_kubelet_is_told_by_its_binary_however_it_is_started() {
        let expected = Some(words("--anonymous-auth=true --read-only-port=10255"));
        assert_eq!(
            kubelet_arguments(&words("/usr/bin/kubelet --anonymous-auth=true"), &words("--read-only-port=10255")),
            expected
        );
        assert_eq!(kubelet_arguments(&[], &words("kubelet --anonymous-auth=true --read-only-port=10255")), expected);
        assert_eq!(
            kubelet_arguments(&words("hyperkube kubelet --anonymous-auth=true --read-only-port=10255"), &[]),
            expected
        );
        let shell = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            "exec kubelet --anonymous-auth=true --read-only-port=10255".to_owned(),
        ];
        assert_eq!(kubelet_arguments(&shell, &[]), expected);
    }

    #[test]
    fn other_binaries_are_no_kubelet() {
        assert_eq!(kubelet_arguments(&words("kube-apiserver --anonymous-auth=true"), &[]), None);
        assert_eq!(kubelet_arguments(&words("kubeletctl --anonymous-auth=true"), &[]), None);
        assert_eq!(kubelet_arguments(&words("nginx"), &words("kubelet")), None, "an argument, not the binary");
        let shell = vec!["sh".to_owned(), "-c".to_owned(), "echo kubelet".to_owned()];
        assert_eq!(kubelet_arguments(&shell, &[]), None);
        assert_eq!(kubelet_arguments(&[], &[]), None);
    }
}
