//! Command-line flags of control-plane components, parsed from `command` and `args`.
//!
//! Kubernetes components use pflag: `--flag=value`, `--flag value`, and a bare
//! `--flag` for booleans. Scalar flags keep their last value; list flags are
//! comma-separated and may repeat, so every value is kept as well.

use std::collections::BTreeMap;

pub use crate::redact::REDACTED;

/// Flags parsed from one container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// Last value of each flag.
    pub last: BTreeMap<String, String>,
    /// All values of each flag, split on commas.
    pub lists: BTreeMap<String, Vec<String>>,
}

/// Parses the flags of a container. The first `command` word is the binary unless it
/// starts with `-`.
pub fn parse(command: &[String], args: &[String]) -> Flags {
    let skip = usize::from(command.first().is_some_and(|first| !first.starts_with('-')));
    let words: Vec<&str> = command.iter().skip(skip).chain(args).map(String::as_str).collect();
    let mut flags = Flags::default();
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        index += 1;
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, value.to_owned()),
            None => match words.get(index) {
                // pflag gives a non-boolean flag the next word whatever it looks like:
                // `--token -abc` sets the token to `-abc`, which must not be read as a
                // flag named `abc` and shown.
                Some(next) if !next.starts_with('-') || crate::redact::is_secret_flag(flag) => {
                    index += 1;
                    (flag, (*next).to_owned())
                }
                _ => (flag, "true".to_owned()),
            },
        };
        let value = crate::redact::flag(name, &value);
        flags
            .lists
            .entry(name.to_owned())
            .or_default()
            .extend(value.split(',').filter(|part| !part.is_empty()).map(str::to_owned));
        flags.last.insert(name.to_owned(), value);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn equals_and_space_forms_from_command_and_args() {
        let flags = parse(
            &words("kube-apiserver --anonymous-auth=false --etcd-cafile /etc/ca.crt"),
            &words("--profiling=false"),
        );
        assert_eq!(flags.last["anonymous-auth"], "false");
        assert_eq!(flags.last["etcd-cafile"], "/etc/ca.crt");
        assert_eq!(flags.last["profiling"], "false");
    }

    #[test]
    fn bare_flag_is_true_and_binary_is_not_a_flag() {
        let flags = parse(&words("etcd --client-cert-auth --peer-auto-tls=false"), &[]);
        assert_eq!(flags.last["client-cert-auth"], "true");
        assert_eq!(flags.last["peer-auto-tls"], "false");
        assert_eq!(flags.last.len(), 2);
    }

    #[test]
    fn args_only_containers_are_parsed_whole() {
        let flags = parse(&[], &words("--leader-elect=false --bind-address=0.0.0.0"));
        assert_eq!(flags.last["leader-elect"], "false");
        assert_eq!(flags.last["bind-address"], "0.0.0.0");
    }

    #[test]
    fn repeated_list_flags_accumulate_and_last_value_wins() {
        let flags = parse(
            &words(
                "kube-apiserver --enable-admission-plugins=NodeRestriction --enable-admission-plugins=PodSecurity,EventRateLimit",
            ),
            &[],
        );
        assert_eq!(flags.lists["enable-admission-plugins"], vec!["NodeRestriction", "PodSecurity", "EventRateLimit"]);
        assert_eq!(flags.last["enable-admission-plugins"], "PodSecurity,EventRateLimit");
    }

    #[test]
    fn secrets_are_redacted_but_credential_file_paths_are_kept() {
        let flags = parse(
            &words(
                "kube-apiserver --token=abc --etcd-password abc --token-auth-file=/etc/tokens.csv --oidc-client-secret=s3",
            ),
            &[],
        );
        assert_eq!(flags.last["token"], REDACTED);
        assert_eq!(flags.last["etcd-password"], REDACTED);
        assert_eq!(flags.last["oidc-client-secret"], REDACTED);
        assert_eq!(flags.last["token-auth-file"], "/etc/tokens.csv");
    }

    #[test]
    fn a_dash_prefixed_secret_is_the_flags_value_not_a_flag() {
        let flags = parse(&words("kube-apiserver --token -s3cr3t --profiling=false"), &[]);
        assert_eq!(flags.last["token"], REDACTED);
        assert!(!flags.last.keys().any(|name| name.contains("s3cr3t")), "{flags:?}");
        assert_eq!(flags.last["profiling"], "false");
    }
}
