//! Which Kubernetes distribution runs the cluster, from the evidence the API shows.

use crate::inventory::Node;

/// Guesses the provider: the version string (EKS, GKE, k3s, RKE2), OpenShift's API
/// group, AKS node labels or provider IDs, kubeadm's ConfigMap; else `unknown`.
pub fn detect(git_version: &str, api_groups: &[String], nodes: &[Node], kubeadm_config: bool) -> &'static str {
    if git_version.contains("-eks-") {
        "eks"
    } else if git_version.contains("-gke.") {
        "gke"
    } else if git_version.contains("+k3s") {
        "k3s"
    } else if git_version.contains("+rke2") {
        "rke2"
    } else if api_groups.iter().any(|group| group == "config.openshift.io") {
        "openshift"
    } else if nodes.iter().any(|node| {
        node.meta.labels.keys().any(|label| label.starts_with("kubernetes.azure.com/"))
            || node.provider_id.as_deref().is_some_and(|id| id.starts_with("azure://"))
    }) {
        "aks"
    } else if kubeadm_config {
        "kubeadm"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Meta;

    #[test]
    fn providers_are_told_apart() {
        assert_eq!(detect("v1.30.4-eks-a737599", &[], &[], false), "eks");
        assert_eq!(detect("v1.30.5-gke.1014001", &[], &[], false), "gke");
        assert_eq!(detect("v1.31.1+k3s1", &[], &[], false), "k3s");
        assert_eq!(detect("v1.31.1+rke2r1", &[], &[], false), "rke2");
        assert_eq!(detect("v1.30.4", &["config.openshift.io".into()], &[], false), "openshift");
        let azure =
            Node { provider_id: Some("azure:///subscriptions/x".into()), meta: Meta::default(), ..Node::default() };
        assert_eq!(detect("v1.30.4", &[], &[azure], false), "aks");
        assert_eq!(detect("v1.30.4", &[], &[], true), "kubeadm");
        assert_eq!(detect("v1.30.4", &[], &[], false), "unknown");
    }
}
