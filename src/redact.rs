//! Keeps credentials out of every output: reports, snapshots, logs and errors.
//!
//! Two lines of defence. By **name**: a flag whose name says it carries a credential
//! (`--token`, `--basic-auth`, `--api-key`, `--encryption-key`, …) has its value
//! replaced, unless the value is a path to a file, which rules judge and which is no
//! secret. By **shape**, whatever the name: a URL's userinfo and credential-looking query
//! parameters, `Basic`/`Bearer` authorization values, JSON Web Tokens and PEM private
//! keys.

use std::sync::OnceLock;

use regex::Regex;

/// What replaces a credential.
pub const REDACTED: &str = "<redacted>";

/// What replaces URL userinfo and query values: a word that keeps the URL valid.
const REDACTED_IN_URL: &str = "redacted";

/// Words that make a flag name a credential's (compared with the name's `-`/`_`
/// separated words, and with the whole name for the joined spellings).
const SECRET_WORDS: &[&str] = &["token", "password", "passwd", "pwd", "secret", "bearer", "credential", "credentials"];

/// Two-word names of credentials (`--basic-auth`, `--api-key`, `--private-key`, …).
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("basic", "auth"),
    ("api", "key"),
    ("private", "key"),
    ("encryption", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("signing", "key"),
];

/// Joined spellings (`--apikey`, `--accesskey`) and bare names (`--auth`).
const SECRET_NAMES: &[&str] = &["auth", "apikey", "accesskey", "secretkey", "privatekey", "authorization"];

/// Suffixes of flags that name files: their values are paths, not secrets.
const PATH_SUFFIXES: &[&str] = &["file", "path", "dir"];

/// True when a flag of this name carries a credential as its value.
pub fn is_secret_flag(name: &str) -> bool {
    let lower = name.trim_start_matches('-').to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['-', '_', '.']).filter(|word| !word.is_empty()).collect();
    if words.last().is_some_and(|last| PATH_SUFFIXES.contains(last)) {
        return false;
    }
    SECRET_NAMES.contains(&lower.as_str())
        || words.iter().any(|word| SECRET_WORDS.contains(word))
        || words.windows(2).any(|pair| SECRET_PAIRS.contains(&(pair[0], pair[1])))
}

/// The value of flag `name` as it may be shown. A boolean is no credential
/// (`--use-service-account-credentials=true`), nor is a path to a key file.
pub fn flag(name: &str, value: &str) -> String {
    let boolean = value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false");
    if is_secret_flag(name) && !boolean && !is_file_path(value) {
        return REDACTED.to_owned();
    }
    text(value)
}

/// An absolute path to a key file (`/etc/kubernetes/pki/apiserver-kubelet-client.key`):
/// shown, because rules judge where keys live. A value with spaces or `=` is no path.
fn is_file_path(value: &str) -> bool {
    value.starts_with('/') && !value.contains(char::is_whitespace) && !value.contains('=')
}

/// `text` with every credential-shaped part replaced: URL userinfo and credential
/// query values, `Basic`/`Bearer` values, JSON Web Tokens and PEM private keys.
pub fn text(text: &str) -> String {
    // Each pattern runs (and is compiled, which costs milliseconds) only when the text
    // holds the literal it cannot match without: most flag values hold none.
    let mut text = std::borrow::Cow::Borrowed(text);
    if text.contains("PRIVATE KEY-----") {
        text = pem_private_keys().replace_all(&text, REDACTED).into_owned().into();
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("basic") || lower.contains("bearer") {
        let replaced = authorization_values()
            .replace_all(&text, |captures: &regex::Captures<'_>| format!("{} {REDACTED}", &captures[1]));
        text = replaced.into_owned().into();
    }
    if text.contains("eyJ") {
        text = json_web_tokens().replace_all(&text, REDACTED).into_owned().into();
    }
    if text.contains("://") {
        text = replace_urls(&text).into();
    }
    text.into_owned()
}

/// True when `value` has a credential's shape: a PEM private key, a JSON Web Token, an
/// AWS access key id (`AKIA…`), a GitHub (`ghp_…`) or Slack (`xox…-`) token, or a URL
/// with a password. Used to find secrets written as literal values, whatever their name.
pub fn looks_like_credential(value: &str) -> bool {
    let aws = value.len() == 20
        && (value.starts_with("AKIA") || value.starts_with("ASIA"))
        && value.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    let prefixed =
        ["ghp_", "gho_", "github_pat_", "xoxb-", "xoxp-", "glpat-"].iter().any(|prefix| value.starts_with(prefix));
    aws || prefixed || text(value) != value
}

/// Every URL of `text` through [`url`]. A URL is a scheme (`[A-Za-z][A-Za-z0-9+.-]*`),
/// `://`, then anything up to a separator that cannot be part of a flag's URL
/// (comma-separated lists such as `--etcd-servers` hold several). Scanned by hand: a
/// regex for it takes milliseconds to compile, more than a scan of many flags.
fn replace_urls(text: &str) -> String {
    let is_scheme = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'.' | b'-');
    let ends_url =
        |character: char| character.is_whitespace() || matches!(character, ',' | ';' | '\'' | '"' | '<' | '>');
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut searched) = (0, 0);
    while let Some(found) = text[searched..].find("://").map(|offset| searched + offset) {
        let mut start = found;
        while start > copied && is_scheme(bytes[start - 1]) {
            start -= 1;
        }
        // The scheme starts at its first letter.
        while start < found && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        let rest = &text[found + 3..];
        let end = found + 3 + rest.find(ends_url).unwrap_or(rest.len());
        if start == found || end == found + 3 {
            searched = found + 3;
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(&url(&text[start..end]));
        (copied, searched) = (end, end);
    }
    out.push_str(&text[copied..]);
    out
}

/// One URL with userinfo and credential-looking query values replaced; unchanged when
/// it holds neither (so that its spelling stays as written).
fn url(text: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(text) else {
        // Not parseable: drop anything between `://` and an `@` before the path.
        return match text.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((userinfo, host)) if !userinfo.contains('/') => format!("{scheme}://{REDACTED_IN_URL}@{host}"),
                _ => text.to_owned(),
            },
            None => text.to_owned(),
        };
    };
    let mut changed = false;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username(REDACTED_IN_URL);
        let _ = parsed.set_password(None);
        changed = true;
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                if is_secret_query_key(&key) {
                    changed = true;
                    (key.into_owned(), REDACTED_IN_URL.to_owned())
                } else {
                    (key.into_owned(), value.into_owned())
                }
            })
            .collect();
        if changed {
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    if changed { parsed.to_string() } else { text.to_owned() }
}

/// Query parameters that carry credentials (`?access_token=`, `?sig=`, `?X-Amz-Signature=`).
fn is_secret_query_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    is_secret_flag(&lower)
        || ["sig", "signature", "key", "code", "session"].iter().any(|word| lower == *word || lower.ends_with(word))
}

fn authorization_values() -> &'static Regex {
    static VALUES: OnceLock<Regex> = OnceLock::new();
    VALUES.get_or_init(|| Regex::new(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=\-]+").expect("a valid pattern"))
}

fn json_web_tokens() -> &'static Regex {
    static TOKENS: OnceLock<Regex> = OnceLock::new();
    // Header and payload are base64url JSON objects: they start with `eyJ` (`{"`).
    TOKENS.get_or_init(|| {
        Regex::new(r"eyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*").expect("a valid pattern")
    })
}

fn pem_private_keys() -> &'static Regex {
    static KEYS: OnceLock<Regex> = OnceLock::new();
    KEYS.get_or_init(|| {
        Regex::new(r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)")
            .expect("a valid pattern")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credential_flags_are_recognised_by_name_and_file_flags_are_not() {
        for name in [
            "token",
            "etcd-password",
            "oidc-client-secret",
            "basic-auth",
            "api-key",
            "credentials",
            "private-key",
            "encryption-key",
            "auth",
            "passwd",
            "pwd",
            "apikey",
        ] {
            assert!(is_secret_flag(name), "{name}");
        }
        for name in [
            "token-auth-file",
            "basic-auth-file",
            "tls-private-key-file",
            "anonymous-auth",
            "client-cert-auth",
            "service-account-key-file",
            "encryption-provider-config",
            "authorization-mode",
        ] {
            assert!(!is_secret_flag(name), "{name}");
        }
        assert_eq!(flag("kubelet-client-key", "/etc/kubernetes/pki/client.key"), "/etc/kubernetes/pki/client.key");
        assert_eq!(flag("private-key", "abc"), REDACTED);
        assert_eq!(flag("use-service-account-credentials", "true"), "true");
    }

    #[test]
    fn credential_shapes_are_told_from_ordinary_values() {
        for secret in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig",
            "postgres://app:hunter2@db:5432/app",
        ] {
            assert!(looks_like_credential(secret), "{secret}");
        }
        for ordinary in ["info", "8080", "https://example.com/health", "AKIA", "true"] {
            assert!(!looks_like_credential(ordinary), "{ordinary}");
        }
        assert_eq!(flag("enable-bootstrap-token-auth", "true"), "true", "a boolean is no token");
    }

    #[test]
    fn credential_shapes_are_replaced_whatever_the_flag() {
        assert_eq!(
            text("https://root:hunter2@10.0.0.1:2379,https://10.0.0.2:2379"),
            "https://redacted@10.0.0.1:2379/,https://10.0.0.2:2379"
        );
        assert_eq!(
            text("https://idp.example.com/?access_token=abc&x=1"),
            "https://idp.example.com/?access_token=redacted&x=1"
        );
        assert_eq!(text("Basic dXNlcjpwYXNz"), "Basic <redacted>");
        assert_eq!(text("header=Bearer abc.def"), "header=Bearer <redacted>");
        assert_eq!(text("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), REDACTED);
        assert_eq!(text("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"), REDACTED);
        // Control: what carries no credential stays exactly as written.
        for plain in ["http://127.0.0.1:2379", "--authorization-mode=Node,RBAC", "/etc/kubernetes/pki/ca.crt"] {
            assert_eq!(text(plain), plain);
        }
    }

    /// The URL pattern as a regex: what the hand scan must find, exactly.
    fn by_regex(text: &str) -> String {
        let pattern = Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s,;'\x22<>]+").expect("a valid pattern");
        pattern.replace_all(text, |captures: &regex::Captures<'_>| url(&captures[0])).into_owned()
    }

    #[test]
    fn urls_are_found_where_the_pattern_finds_them() {
        for text in [
            "--etcd-servers=https://u:p@10.0.0.1:2379,https://10.0.0.2:2379",
            "1abc://user:pw@host/x",
            "://nothing before",
            "a:// nothing after",
            "x;http://u:p@y;z 'ftp://a:b@c' <https://d:e@f>",
            "https://u:p@a\u{2003}b and \u{e9}https://v:w@c",
            "ab+c.d-e://k:l@m",
        ] {
            assert_eq!(replace_urls(text), by_regex(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn the_url_scan_agrees_with_the_pattern(text in "[a-z0-9+.:/@ ,;'\"<>\u{2003}\u{e9}-]{0,40}") {
            prop_assert_eq!(replace_urls(&text), by_regex(&text));
        }

        #[test]
        fn no_generated_secret_survives(secret in "[A-Za-z0-9]{12,24}", user in "[a-z]{3,8}") {
            let values = [
                ("token", secret.clone()),
                ("basic-auth", format!("{user}:{secret}")),
                ("x", format!("https://{user}:{secret}@10.1.2.3:2379")),
                ("oidc-issuer-url", format!("https://idp.example.com/realm?token={secret}")),
                ("auth", format!("Basic {secret}")),
                ("header", format!("Bearer {secret}")),
                ("id", format!("eyJ{secret}.eyJ{secret}.{secret}")),
            ];
            for (name, value) in values {
                let shown = flag(name, &value);
                prop_assert!(!shown.contains(&secret), "{name}={value} shown as {shown}");
            }
        }
    }
}
