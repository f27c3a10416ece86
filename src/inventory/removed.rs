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

/// The minor that removed `api_version` for `kind`, and what replaces it.
pub fn removed_in(api_version: &str, kind: &str) -> Option<(u32, &'static str)> {
    REMOVED
        .iter()
        .find(|(version, removed_kind, ..)| *version == api_version && *removed_kind == kind)
        .map(|(_, _, minor, replacement)| (*minor, *replacement))
}
