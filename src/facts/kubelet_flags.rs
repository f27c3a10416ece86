//! A kubelet started with flags — a static pod or a DaemonSet running `kubelet …` —
//! judged like a KubeletConfiguration. Without `--config`, a flag left unset takes the
//! kubelet's command-line default, the permissive one (anonymous requests allowed,
//! `AlwaysAllow`, the read-only port on 10255); with `--config`, the file decides what
//! the flags leave unset, and since the file is not visible here, that is unknown.

use super::{KubeletConfigFact, KubeletConfigOrigin, Subject, flags};
use crate::inventory::Workload;
use crate::inventory::kubelet::kubelet_arguments;

/// (flag, the KubeletConfiguration setting it sets, its default without `--config`).
const SETTINGS: &[(&str, &str, &str)] = &[
    ("anonymous-auth", "anonymousAuth", "true"),
    ("authentication-token-webhook", "webhookAuthentication", "false"),
    ("authorization-mode", "authorizationMode", "AlwaysAllow"),
    ("read-only-port", "readOnlyPort", "10255"),
    ("rotate-certificates", "rotateCertificates", "false"),
    ("rotate-server-certificates", "serverTLSBootstrap", "false"),
    ("tls-cert-file", "tlsCertFile", ""),
    ("tls-min-version", "tlsMinVersion", ""),
    ("tls-cipher-suites", "tlsCipherSuites", ""),
    ("protect-kernel-defaults", "protectKernelDefaults", "false"),
];

/// The kubelets the workloads run, one fact per container that runs one.
pub fn command_line_kubelets<'a>(workloads: impl Iterator<Item = &'a Workload>) -> Vec<KubeletConfigFact> {
    workloads
        .flat_map(|workload| {
            workload.pod.containers.iter().filter_map(move |container| {
                let arguments = kubelet_arguments(&container.command, &container.args)?;
                let subject =
                    Subject { container: Some(container.name.clone()), ..super::build::subject_of(&workload.meta) };
                let node = workload.pod.node_name.clone().unwrap_or_default();
                Some(from_flags(subject, workload.meta.location.clone(), node, &flags::parse(&[], &arguments)))
            })
        })
        .collect()
}

/// The configuration a kubelet's flags give it.
fn from_flags(
    subject: Subject,
    location: Option<crate::inventory::Location>,
    node: String,
    parsed: &flags::Flags,
) -> KubeletConfigFact {
    let mut read = Reader { parsed, config_file: parsed.last.contains_key("config"), unknown: Vec::new() };
    // Unknown settings get placeholders that no rule reads: `unknownSettings` makes
    // the rules abstain.
    let anonymous_auth = read.boolean("anonymous-auth").unwrap_or(false);
    let webhook_authentication = read.boolean("authentication-token-webhook").unwrap_or(false);
    let rotate_certificates = read.boolean("rotate-certificates").unwrap_or(false);
    let server_tls_bootstrap = read.boolean("rotate-server-certificates").unwrap_or(false);
    let protect_kernel_defaults = read.boolean("protect-kernel-defaults").unwrap_or(false);
    let read_only_port = read.number("read-only-port").unwrap_or(0);
    let authorization_mode = read.text("authorization-mode").unwrap_or_default();
    let tls_cert_file = read.text("tls-cert-file").unwrap_or_default();
    let tls_min_version = read.text("tls-min-version").unwrap_or_default();
    let tls_cipher_suites = read.text("tls-cipher-suites").unwrap_or_default();
    KubeletConfigFact {
        subject,
        location,
        node,
        origin: KubeletConfigOrigin::CommandLine,
        anonymous_auth,
        webhook_authentication,
        authorization_mode,
        read_only_port,
        rotate_certificates,
        server_tls_bootstrap,
        tls_cert_file,
        tls_min_version,
        tls_cipher_suites: tls_cipher_suites.split(',').filter(|suite| !suite.is_empty()).map(str::to_owned).collect(),
        protect_kernel_defaults,
        unknown_settings: read.unknown,
    }
}

/// Reads settings from the flags, noting those it cannot tell.
struct Reader<'a> {
    parsed: &'a flags::Flags,
    /// `--config` names a file whose settings the flags override.
    config_file: bool,
    /// Settings neither the flags nor a default give (or given as nonsense).
    unknown: Vec<String>,
}

impl Reader<'_> {
    /// The flag's value, else its default without a file; `None` (noted) when unknown.
    fn text(&mut self, flag: &str) -> Option<String> {
        let value =
            self.parsed.last.get(flag).cloned().or_else(|| (!self.config_file).then(|| known(flag).1.to_owned()));
        if value.is_none() {
            self.note(flag);
        }
        value
    }

    fn boolean(&mut self, flag: &str) -> Option<bool> {
        let value = go_bool(&self.text(flag)?);
        if value.is_none() {
            self.note(flag);
        }
        value
    }

    fn number(&mut self, flag: &str) -> Option<i64> {
        let value = self.text(flag)?.parse().ok();
        if value.is_none() {
            self.note(flag);
        }
        value
    }

    fn note(&mut self, flag: &str) {
        self.unknown.push(known(flag).0.to_owned());
    }
}

/// The setting a flag sets and its default without `--config`.
fn known(flag: &str) -> (&'static str, &'static str) {
    SETTINGS.iter().find(|(known, ..)| *known == flag).map_or(("", ""), |(_, setting, default)| (setting, default))
}

/// A boolean as Go's `strconv.ParseBool` (which pflag uses) reads it.
fn go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(arguments: &str) -> KubeletConfigFact {
        let words: Vec<String> = arguments.split_whitespace().map(str::to_owned).collect();
        from_flags(Subject::default(), None, String::new(), &flags::parse(&[], &words))
    }

    #[test]
    fn without_a_config_file_unset_flags_take_the_permissive_command_line_defaults() {
        let defaults = configured("--kubeconfig=/etc/kubernetes/kubelet.conf");
        assert!(defaults.anonymous_auth);
        assert_eq!(defaults.authorization_mode, "AlwaysAllow");
        assert_eq!(defaults.read_only_port, 10255);
        assert!(!defaults.webhook_authentication && !defaults.rotate_certificates);
        assert!(defaults.unknown_settings.is_empty(), "{:?}", defaults.unknown_settings);
    }

    #[test]
    fn with_a_config_file_only_the_flags_given_are_known() {
        let config = configured("--config=/var/lib/kubelet/config.yaml --anonymous-auth=false --read-only-port 0");
        assert!(!config.anonymous_auth);
        assert_eq!(config.read_only_port, 0);
        assert!(!config.unknown_settings.contains(&"anonymousAuth".to_owned()));
        assert!(config.unknown_settings.contains(&"authorizationMode".to_owned()), "{:?}", config.unknown_settings);
        assert!(config.unknown_settings.contains(&"rotateCertificates".to_owned()));
    }

    #[test]
    fn go_booleans_are_read_as_pflag_reads_them_and_nonsense_is_unknown() {
        assert!(configured("--anonymous-auth=T --tls-cipher-suites=A,B").anonymous_auth);
        assert_eq!(configured("--tls-cipher-suites=A,B").tls_cipher_suites, vec!["A", "B"]);
        assert!(!configured("--anonymous-auth=0").anonymous_auth);
        assert!(configured("--anonymous-auth=maybe").unknown_settings.contains(&"anonymousAuth".to_owned()));
        assert!(configured("--read-only-port=many").unknown_settings.contains(&"readOnlyPort".to_owned()));
    }
}
