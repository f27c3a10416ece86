//! kubeadm's ClusterConfiguration, `kube-system/kubeadm-config`: the command lines
//! kubeadm writes the control-plane static pods from — its own defaults, overridden by
//! the configuration's `extraArgs`. Facts judge these where the static pods themselves
//! are not visible (pods not listable, or manifests holding only the ConfigMap).
//!
//! The defaults are those of kubeadm's `controlplane` and `etcd` phases
//! (`cmd/kubeadm/app/phases/{controlplane/manifests.go,etcd/local.go}`); flags that name
//! a node's own address (`--advertise-address`, etcd's peer and client URLs on it) are
//! not in the ClusterConfiguration and are left out.

use super::{Location, Meta, Projected};
use crate::inventory::project::ProjectError;

/// What a ClusterConfiguration declares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubeadmConfig {
    /// The ConfigMap.
    pub meta: Meta,
    /// `kubernetesVersion`, e.g. `v1.31.1`.
    pub kubernetes_version: Option<String>,
    /// Each component kubeadm runs as a static pod (etcd only when local): its binary
    /// and the command line kubeadm writes for it.
    pub commands: Vec<DeclaredCommand>,
}

/// One static pod's command line, as kubeadm would write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredCommand {
    /// `kube-apiserver`, `kube-controller-manager`, `kube-scheduler` or `etcd`.
    pub binary: &'static str,
    /// The image kubeadm pulls for it (`imageRepository`, the Kubernetes version).
    pub image: String,
    /// `--flag=value` words, defaults first (those not overridden), then `extraArgs`.
    pub args: Vec<String>,
}

/// `{pki}` stands for `certificatesDir`.
const APISERVER: &[(&str, &str)] = &[
    ("allow-privileged", "true"),
    ("authorization-mode", "Node,RBAC"),
    ("client-ca-file", "{pki}/ca.crt"),
    ("enable-admission-plugins", "NodeRestriction"),
    ("enable-bootstrap-token-auth", "true"),
    ("kubelet-client-certificate", "{pki}/apiserver-kubelet-client.crt"),
    ("kubelet-client-key", "{pki}/apiserver-kubelet-client.key"),
    ("kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname"),
    ("proxy-client-cert-file", "{pki}/front-proxy-client.crt"),
    ("proxy-client-key-file", "{pki}/front-proxy-client.key"),
    ("requestheader-allowed-names", "front-proxy-client"),
    ("requestheader-client-ca-file", "{pki}/front-proxy-ca.crt"),
    ("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
    ("requestheader-group-headers", "X-Remote-Group"),
    ("requestheader-username-headers", "X-Remote-User"),
    ("secure-port", "6443"),
    ("service-account-issuer", "https://kubernetes.default.svc.cluster.local"),
    ("service-account-key-file", "{pki}/sa.pub"),
    ("service-account-signing-key-file", "{pki}/sa.key"),
    ("tls-cert-file", "{pki}/apiserver.crt"),
    ("tls-private-key-file", "{pki}/apiserver.key"),
];

/// The API server's etcd flags with a local etcd.
const APISERVER_LOCAL_ETCD: &[(&str, &str)] = &[
    ("etcd-cafile", "{pki}/etcd/ca.crt"),
    ("etcd-certfile", "{pki}/apiserver-etcd-client.crt"),
    ("etcd-keyfile", "{pki}/apiserver-etcd-client.key"),
    ("etcd-servers", "https://127.0.0.1:2379"),
];

const CONTROLLER_MANAGER: &[(&str, &str)] = &[
    ("authentication-kubeconfig", "/etc/kubernetes/controller-manager.conf"),
    ("authorization-kubeconfig", "/etc/kubernetes/controller-manager.conf"),
    ("bind-address", "127.0.0.1"),
    ("client-ca-file", "{pki}/ca.crt"),
    ("cluster-signing-cert-file", "{pki}/ca.crt"),
    ("cluster-signing-key-file", "{pki}/ca.key"),
    ("controllers", "*,bootstrapsigner,tokencleaner"),
    ("kubeconfig", "/etc/kubernetes/controller-manager.conf"),
    ("leader-elect", "true"),
    ("requestheader-client-ca-file", "{pki}/front-proxy-ca.crt"),
    ("root-ca-file", "{pki}/ca.crt"),
    ("service-account-private-key-file", "{pki}/sa.key"),
    ("use-service-account-credentials", "true"),
];

const SCHEDULER: &[(&str, &str)] = &[
    ("authentication-kubeconfig", "/etc/kubernetes/scheduler.conf"),
    ("authorization-kubeconfig", "/etc/kubernetes/scheduler.conf"),
    ("bind-address", "127.0.0.1"),
    ("kubeconfig", "/etc/kubernetes/scheduler.conf"),
    ("leader-elect", "true"),
];

/// A local etcd's flags, less those naming the node's own address.
const ETCD: &[(&str, &str)] = &[
    ("cert-file", "{pki}/etcd/server.crt"),
    ("client-cert-auth", "true"),
    ("data-dir", "/var/lib/etcd"),
    ("key-file", "{pki}/etcd/server.key"),
    ("listen-client-urls", "https://127.0.0.1:2379"),
    ("listen-metrics-urls", "http://127.0.0.1:2381"),
    ("peer-cert-file", "{pki}/etcd/peer.crt"),
    ("peer-client-cert-auth", "true"),
    ("peer-key-file", "{pki}/etcd/peer.key"),
    ("peer-trusted-ca-file", "{pki}/etcd/ca.crt"),
    ("snapshot-count", "10000"),
    ("trusted-ca-file", "{pki}/etcd/ca.crt"),
];

/// The ClusterConfiguration of `kube-system/kubeadm-config`, or `None` for any other
/// ConfigMap (and for one without `data.ClusterConfiguration`).
pub fn project(object: &serde_json::Value, location: Option<&Location>) -> Result<Option<Projected>, ProjectError> {
    let name = object.pointer("/metadata/name").and_then(serde_json::Value::as_str);
    let namespace = object.pointer("/metadata/namespace").and_then(serde_json::Value::as_str);
    if (namespace, name) != (Some("kube-system"), Some("kubeadm-config")) {
        return Ok(None);
    }
    let Some(text) = object.pointer("/data/ClusterConfiguration").and_then(serde_json::Value::as_str) else {
        return Ok(None);
    };
    let configuration: serde_json::Value = serde_saphyr::from_str(text).map_err(|error| ProjectError {
        kind: "ConfigMap".into(),
        reason: format!("kubeadm-config: data.ClusterConfiguration: {error}"),
    })?;
    let meta = Meta {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("kube-system".into()),
        name: "kubeadm-config".into(),
        location: location.cloned(),
        ..Meta::default()
    };
    Ok(Some(Projected::KubeadmConfig(declared(&configuration, meta))))
}

/// The command lines a ClusterConfiguration declares.
fn declared(configuration: &serde_json::Value, meta: Meta) -> KubeadmConfig {
    let text = |pointer: &str| configuration.pointer(pointer).and_then(serde_json::Value::as_str);
    let pki = text("/certificatesDir").unwrap_or("/etc/kubernetes/pki");
    let repository = text("/imageRepository").unwrap_or("registry.k8s.io");
    let kubernetes_version = text("/kubernetesVersion").map(str::to_owned);
    let tag = kubernetes_version.as_deref().map(|version| format!(":{version}")).unwrap_or_default();
    let image = |binary: &str| format!("{repository}/{binary}{tag}");
    let external = configuration.pointer("/etcd/external");
    let mut apiserver: Vec<(String, String)> = defaults(APISERVER, pki);
    match external {
        None => apiserver.extend(defaults(APISERVER_LOCAL_ETCD, pki)),
        Some(external) => apiserver.extend(external_etcd_flags(external)),
    }
    if let Some(subnet) = text("/networking/serviceSubnet") {
        apiserver.push(("service-cluster-ip-range".into(), subnet.to_owned()));
    }
    let extra = |pointer: &str| extra_args(configuration.pointer(pointer));
    let mut commands = vec![
        command("kube-apiserver", image("kube-apiserver"), apiserver, extra("/apiServer/extraArgs")),
        command(
            "kube-controller-manager",
            image("kube-controller-manager"),
            defaults(CONTROLLER_MANAGER, pki),
            extra("/controllerManager/extraArgs"),
        ),
        command("kube-scheduler", image("kube-scheduler"), defaults(SCHEDULER, pki), extra("/scheduler/extraArgs")),
    ];
    if external.is_none() {
        let etcd_image = match text("/etcd/local/imageTag") {
            Some(etcd_tag) => format!("{repository}/etcd:{etcd_tag}"),
            None => format!("{repository}/etcd"),
        };
        commands.push(command("etcd", etcd_image, defaults(ETCD, pki), extra("/etcd/local/extraArgs")));
    }
    KubeadmConfig { meta, kubernetes_version, commands }
}

fn defaults(table: &[(&str, &str)], pki: &str) -> Vec<(String, String)> {
    table.iter().map(|(flag, value)| ((*flag).to_owned(), value.replace("{pki}", pki))).collect()
}

/// An external etcd's endpoints and client credentials; kubeadm passes the certificate
/// pair only when both are set.
fn external_etcd_flags(external: &serde_json::Value) -> Vec<(String, String)> {
    let text = |key: &str| external.get(key).and_then(serde_json::Value::as_str).filter(|value| !value.is_empty());
    let endpoints: Vec<&str> = external
        .get("endpoints")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    let mut flags = vec![("etcd-servers".to_owned(), endpoints.join(","))];
    if let Some(ca) = text("caFile") {
        flags.push(("etcd-cafile".into(), ca.to_owned()));
    }
    if let (Some(cert), Some(key)) = (text("certFile"), text("keyFile")) {
        flags.push(("etcd-certfile".into(), cert.to_owned()));
        flags.push(("etcd-keyfile".into(), key.to_owned()));
    }
    flags
}

/// `extraArgs` in either layout: a map (`v1beta3`) or a list of `{name, value}` that may
/// repeat a name (`v1beta4`). Values that YAML typed (`false`, `10`) are read as written.
fn extra_args(value: Option<&serde_json::Value>) -> Vec<(String, String)> {
    let written = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match value {
        Some(serde_json::Value::Object(map)) => {
            map.iter().map(|(name, value)| (name.clone(), written(value))).collect()
        }
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .filter_map(|entry| Some((entry.get("name")?.as_str()?.to_owned(), entry.get("value").map(written)?)))
            .collect(),
        _ => Vec::new(),
    }
}

/// kubeadm's merge: a default is dropped when `extraArgs` names the same flag, and every
/// extra argument follows, in order.
fn command(
    binary: &'static str,
    image: String,
    defaults: Vec<(String, String)>,
    extra: Vec<(String, String)>,
) -> DeclaredCommand {
    let kept: Vec<(String, String)> =
        defaults.into_iter().filter(|(flag, _)| !extra.iter().any(|(name, _)| name == flag)).collect();
    let args = kept.into_iter().chain(extra).map(|(flag, value)| format!("--{flag}={value}")).collect();
    DeclaredCommand { binary, image, args }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared_by(configuration: &str) -> KubeadmConfig {
        let value: serde_json::Value = serde_saphyr::from_str(configuration).expect("YAML");
        declared(&value, Meta::default())
    }

    fn args_of<'a>(config: &'a KubeadmConfig, binary: &str) -> &'a [String] {
        &config.commands.iter().find(|command| command.binary == binary).expect(binary).args
    }

    #[test]
    fn defaults_are_kubeadms_and_extra_args_override_them_in_both_layouts() {
        let v1beta3 = declared_by(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.4\n\
             apiServer:\n  extraArgs:\n    authorization-mode: AlwaysAllow\n    profiling: false\n",
        );
        let apiserver = args_of(&v1beta3, "kube-apiserver");
        assert!(apiserver.contains(&"--authorization-mode=AlwaysAllow".to_owned()), "{apiserver:?}");
        assert!(!apiserver.contains(&"--authorization-mode=Node,RBAC".to_owned()), "the default is replaced");
        assert!(apiserver.contains(&"--profiling=false".to_owned()), "a YAML boolean as written");
        assert!(apiserver.contains(&"--client-ca-file=/etc/kubernetes/pki/ca.crt".to_owned()));
        let image = &v1beta3.commands[0].image;
        assert_eq!(image, "registry.k8s.io/kube-apiserver:v1.30.4");

        let v1beta4 = declared_by(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: /pki\n\
             etcd:\n  local:\n    extraArgs:\n    - {name: client-cert-auth, value: \"false\"}\n\
             scheduler:\n  extraArgs:\n  - {name: bind-address, value: 0.0.0.0}\n",
        );
        let etcd = args_of(&v1beta4, "etcd");
        assert!(etcd.contains(&"--client-cert-auth=false".to_owned()), "{etcd:?}");
        assert!(!etcd.contains(&"--client-cert-auth=true".to_owned()));
        assert!(etcd.contains(&"--trusted-ca-file=/pki/etcd/ca.crt".to_owned()), "certificatesDir is used");
        assert!(args_of(&v1beta4, "kube-scheduler").contains(&"--bind-address=0.0.0.0".to_owned()));
        assert!(args_of(&v1beta4, "kube-controller-manager").contains(&"--bind-address=127.0.0.1".to_owned()));
    }

    #[test]
    fn an_external_etcd_is_no_component_and_its_credentials_reach_the_api_server() {
        let config = declared_by(
            "kind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [https://10.0.0.9:2379, https://10.0.0.10:2379]\n\
             \x20   caFile: /etc/etcd/ca.crt\n    certFile: /etc/etcd/client.crt\n",
        );
        assert!(!config.commands.iter().any(|command| command.binary == "etcd"), "not run by kubeadm");
        let apiserver = args_of(&config, "kube-apiserver");
        assert!(apiserver.contains(&"--etcd-servers=https://10.0.0.9:2379,https://10.0.0.10:2379".to_owned()));
        assert!(apiserver.contains(&"--etcd-cafile=/etc/etcd/ca.crt".to_owned()));
        assert!(!apiserver.iter().any(|arg| arg.starts_with("--etcd-certfile")), "no key file: no pair passed");
    }
}
