//! API versions Kubernetes has removed, as the deprecated API migration guide lists them
//! (<https://kubernetes.io/docs/reference/using-api/deprecation-guide/>): a manifest
//! still written against one fails to apply from that minor on.

/// (API version, kind, the minor that removed it, what replaces it).
const REMOVED: &[(&str, &str, u32, &str)] = &[
    ("extensions/v1beta1", "Deployment", 16, "apps/v1"),
    ("extensions/v1beta1", "DaemonSet", 16, "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet", 16, "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy", 16, "networking.k8s.io/v1"),
    ("apps/v1beta1", "Deployment", 16, "apps/v1"),
    ("apps/v1beta1", "StatefulSet", 16, "apps/v1"),
    ("apps/v1beta2", "Deployment", 16, "apps/v1"),
    ("apps/v1beta2", "StatefulSet", 16, "apps/v1"),
    ("apps/v1beta2", "DaemonSet", 16, "apps/v1"),
    ("apps/v1beta2", "ReplicaSet", 16, "apps/v1"),
    ("extensions/v1beta1", "Ingress", 22, "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress", 22, "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass", 22, "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "Role", 22, "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole", 22, "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding", 22, "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", 22, "rbac.authorization.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 22, "apiextensions.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", 22, "admissionregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", 22, "admissionregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 22, "certificates.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", 25, "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice", 25, "discovery.k8s.io/v1"),
    ("policy/v1beta1", "PodDisruptionBudget", 25, "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy", 25, "Pod Security admission"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler", 25, "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", 26, "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 26, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", 29, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 32, "flowcontrol.apiserver.k8s.io/v1"),
];

/// The annotation `kubectl apply` keeps the applied manifest in, whole, as JSON.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// An object whose last applied manifest was written against a removed API version:
/// the API server serves it in a current one, but the next `kubectl apply` of the
/// same manifest fails from the minor that removed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastApplied {
    /// The API version of the applied manifest, e.g. `extensions/v1beta1`.
    pub api_version: String,
    /// The minor that removed it.
    pub removed_in: u32,
    /// What replaces it.
    pub replacement: &'static str,
}

/// The removed API version a last applied configuration was written against, if it
/// was; `None` for a current one and for a value that is not a manifest.
pub fn last_applied(configuration: &str) -> Option<LastApplied> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Identity {
        api_version: String,
        kind: String,
    }
    let identity: Identity = serde_json::from_str(configuration).ok()?;
    let (removed_in, replacement) = removed_in(&identity.api_version, &identity.kind)?;
    Some(LastApplied { api_version: identity.api_version, removed_in, replacement })
}

/// The minor that removed `api_version` for `kind`, and what replaces it.
pub fn removed_in(api_version: &str, kind: &str) -> Option<(u32, &'static str)> {
    REMOVED
        .iter()
        .find(|(version, removed_kind, ..)| *version == api_version && *removed_kind == kind)
        .map(|(_, _, minor, replacement)| (*minor, *replacement))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_applied_manifest_names_its_removed_api_version() {
        let applied = r#"{"apiVersion":"extensions/v1beta1","kind":"Ingress","metadata":{"name":"web"},"spec":{}}"#;
        assert_eq!(
            last_applied(applied),
            Some(LastApplied {
                api_version: "extensions/v1beta1".into(),
                removed_in: 22,
                replacement: "networking.k8s.io/v1"
            })
        );
        let current = r#"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"web"}}"#;
        assert_eq!(last_applied(current), None, "a current version is no finding");
        assert_eq!(last_applied("not json"), None);
        assert_eq!(last_applied(r#"{"kind":"Ingress"}"#), None, "no apiVersion: not a manifest");
    }
}
