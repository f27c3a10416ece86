//! Secrets never leave: generated credentials, written into component flags, URLs, a
//! kubeconfig server and sink URLs, must not survive into any report format, the
//! snapshot, `-vv` logs, errors or `--help`.

mod support;

use proptest::prelude::*;
use support::{code, scratch, seaworthy, seaworthy_with, stderr, stdout, write};

/// A kube-apiserver and an etcd static pod whose flags carry `secret` in every form a
/// credential takes on a command line.
fn components(secret: &str, user: &str) -> String {
    let flags = [
        format!("--token={secret}"),
        "--oidc-client-secret".to_owned(),
        format!("-{secret}x"),
        format!("--basic-auth={user}:{secret}"),
        format!("--api-key={secret}"),
        format!("--credentials={secret}"),
        format!("--private-key={secret}"),
        format!("--encryption-key={secret}"),
        format!("--auth=Basic {secret}"),
        format!("--passwd={secret}"),
        format!("--pwd={secret}"),
        format!("--etcd-servers=https://{user}:{secret}@127.0.0.1:2379"),
        format!("--oidc-issuer-url=https://idp.example.com/auth?access_token={secret}"),
        format!("--service-account-issuer=eyJhbGciOi{secret}.eyJzdWIi{secret}.{secret}"),
    ];
    let command: Vec<String> =
        std::iter::once("kube-apiserver".to_owned()).chain(flags).map(|flag| format!("'{flag}'")).collect();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver-cp1, namespace: kube-system, labels: {{component: kube-apiserver, tier: control-plane}}}}\nspec:\n  nodeName: cp1\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.4\n    command: [{}]\n",
        command.join(", ")
    )
}

fn assert_absent(secret: &str, what: &str, text: &str) {
    assert!(!text.contains(secret), "the secret {secret} reached {what}:\n{text}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn no_credential_survives_into_any_output(secret in "[A-Za-z0-9]{16,24}", user in "[a-z]{4,8}") {
        let dir = scratch();
        let manifest = write(dir.path(), "control-plane.yaml", &components(&secret, &user));
        let path = manifest.to_str().expect("UTF-8");
        for format in ["table", "json", "sarif"] {
            let output = seaworthy(&["scan", "--manifests", path, "-o", format, "-vv"]);
            prop_assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
            assert_absent(&secret, &format!("-o {format}"), &stdout(&output));
            assert_absent(&secret, &format!("-vv logs of -o {format}"), &stderr(&output));
        }
        let snapshot = dir.path().join("facts.json");
        let output = seaworthy(&["snapshot", "--manifests", path, "--output-file", snapshot.to_str().expect("UTF-8"), "-vv"]);
        prop_assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert_absent(&secret, "the snapshot", &std::fs::read_to_string(&snapshot).expect("snapshot"));
        assert_absent(&secret, "snapshot logs", &stderr(&output));
    }
}

#[test]
fn the_flags_are_still_read_after_redaction() {
    // Control for the test above: the same manifest is read, its flags kept by name
    // with only the credentials replaced.
    let dir = scratch();
    let manifest = write(dir.path(), "control-plane.yaml", &components("Zq9Xw2Lr7Tb4Vn8K", "root"));
    let snapshot = dir.path().join("facts.json");
    let output = seaworthy(&[
        "snapshot",
        "--manifests",
        manifest.to_str().expect("UTF-8"),
        "--output-file",
        snapshot.to_str().expect("UTF-8"),
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).expect("snapshot")).expect("JSON");
    let flags = &facts["components"]["items"][0]["flags"];
    assert_eq!(flags["etcd-servers"], "https://redacted@127.0.0.1:2379/");
    assert_eq!(flags["oidc-client-secret"], "<redacted>", "the dash-prefixed value is the flag's");
    assert_eq!(flags["oidc-issuer-url"], "https://idp.example.com/auth?access_token=redacted");
    for name in
        ["token", "basic-auth", "api-key", "credentials", "private-key", "encryption-key", "auth", "passwd", "pwd"]
    {
        assert_eq!(flags[name], "<redacted>", "{name}");
    }
    assert_eq!(flags.as_object().expect("flags").len(), 13, "no value became a flag of its own: {flags}");
}

#[test]
fn kubeconfig_and_sink_urls_are_never_echoed() {
    let secret = "Hk3Lm9Qw2Er5Ty8U";
    let dir = scratch();
    // A kubeconfig whose server carries credentials; nothing listens there.
    let kubeconfig = write(
        dir.path(),
        "kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://admin:{secret}@127.0.0.1:9/?token={secret}', insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user: {{token: {secret}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n"
        ),
    );
    let output = seaworthy(&[
        "scan",
        "--kubeconfig",
        kubeconfig.to_str().expect("UTF-8"),
        "--timeout",
        "10s",
        "--no-probes",
        "-vv",
    ]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert_absent(secret, "the connection error and its logs", &stderr(&output));
    // An invalid sink URL is refused without being quoted.
    for option in ["--webhook", "--push-metrics"] {
        let output = seaworthy(&[
            "scan",
            "--manifests",
            "testdata/clusters/hardened",
            option,
            &format!("ftp://u:{secret}@host/"),
        ]);
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        assert_absent(secret, &format!("the {option} error"), &stderr(&output));
        assert!(stderr(&output).contains("invalid value for"), "{}", stderr(&output));
    }
    // `--help` does not print the environment's sink URLs.
    let pushgateway = format!("https://u:{secret}@pgw.example.com/");
    let webhook = format!("https://hooks.example.com/{secret}");
    let env = [("SEAWORTHY_PUSH_METRICS", pushgateway.as_str()), ("SEAWORTHY_WEBHOOK", webhook.as_str())];
    let output = seaworthy_with(&["scan", "--help"], &env, None);
    assert_eq!(code(&output), 0);
    assert_absent(secret, "--help", &stdout(&output));
    assert!(stdout(&output).contains("SEAWORTHY_PUSH_METRICS"), "the variable is named, its value hidden");
}
