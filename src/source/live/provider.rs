//! Which Kubernetes distribution runs the cluster, from the evidence the API shows.

use crate::inventory::{Node, Workload};

/// Guesses the provider: the version string (EKS, GKE, k3s, RKE2), OpenShift's API
/// group, AKS node labels or provider IDs, kubeadm's static pods; else `unknown`.
pub fn detect(git_version: &str, api_groups: &[String], nodes: &[Node], kubeadm_static_pods: bool) -> &'static str {
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
    } else if kubeadm_static_pods {
        "kubeadm"
    } else {
        "unknown"
    }
}

/// Whether kube-system runs kubeadm's API server static pod, labelled
/// `component: kube-apiserver, tier: control-plane`. Seen from the pod list seaworthy
/// reads anyway, so detecting kubeadm needs no permission of its own (the
/// `kubeadm-config` ConfigMap would).
pub fn has_kubeadm_static_pods(workloads: &[Workload]) -> bool {
    workloads.iter().any(|workload| {
        let label = |key: &str| workload.meta.labels.get(key).map(String::as_str);
        workload.meta.kind == "Pod"
            && workload.meta.namespace.as_deref() == Some("kube-system")
            && label("component") == Some("kube-apiserver")
            && label("tier") == Some("control-plane")
    })
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

    #[test]
    fn kubeadm_is_told_by_its_api_server_static_pod() {
        let pod = |namespace: &str, labels: &[(&str, &str)]| Workload {
            meta: Meta {
                kind: "Pod".into(),
                namespace: Some(namespace.into()),
                labels: labels.iter().map(|(key, value)| (*key, (*value).to_owned())).collect(),
                ..Meta::default()
            },
            ..Workload::default()
        };
        let static_pod = [("component", "kube-apiserver"), ("tier", "control-plane")];
        assert!(has_kubeadm_static_pods(&[pod("kube-system", &static_pod)]));
        assert!(!has_kubeadm_static_pods(&[pod("default", &static_pod)]), "only kube-system counts");
        assert!(!has_kubeadm_static_pods(&[pod("kube-system", &[("component", "kube-apiserver")])]));
    }
}
