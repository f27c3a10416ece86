//! What the Pod Security Standards of the cluster's own version say about each workload,
//! and the Pod Security level its namespace enforces.
//!
//! Most controls are the same in every version and are judged by rules directly from
//! the container and workload facts. The one that changed with versions — which sysctls
//! are safe — is decided here from a dated table, with the version the cluster runs.

use std::collections::BTreeMap;

use super::{Facts, PodSecurityLevel};

/// Sysctls the `baseline` level allows, by the Kubernetes minor that first allowed them.
/// Source: k8s.io/pod-security-admission `policy/check_sysctls.go`
/// (`sysctlsAllowedV1Dot0` … `sysctlsAllowedV1Dot32`), as of Kubernetes 1.35.
const SAFE_SYSCTLS: &[(u32, &str)] = &[
    (0, "kernel.shm_rmid_forced"),
    (0, "net.ipv4.ip_local_port_range"),
    (0, "net.ipv4.tcp_syncookies"),
    (0, "net.ipv4.ping_group_range"),
    (0, "net.ipv4.ip_unprivileged_port_start"),
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
];

/// The minor of a Kubernetes version such as `v1.31.4` or `v1.29.0-eks-1`.
pub fn minor(version: &str) -> Option<u32> {
    let rest = version.trim_start_matches('v').strip_prefix("1.")?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Whether `sysctl` is safe under the Pod Security Standards of Kubernetes 1.`minor`;
/// with no known version, the newest table applies (no finding the cluster's own
/// admission would not make).
pub fn safe_sysctl(sysctl: &str, minor: Option<u32>) -> bool {
    SAFE_SYSCTLS.iter().any(|(since, name)| *name == sysctl && minor.is_none_or(|minor| minor >= *since))
}

/// The `baseline` control "Host Probes / Lifecycle Hooks" (a `host` in a probe or
/// lifecycle handler) exists from Kubernetes 1.34 (`hostProbesAndHostLifecycle` in
/// pod-security-admission); with no known version, the newest standard applies.
pub fn host_probes_forbidden(minor: Option<u32>) -> bool {
    minor.is_none_or(|minor| minor >= 34)
}

/// Fills each workload's unsafe sysctls for the cluster's version, and each workload's
/// and container's namespace enforcement level.
pub fn annotate(facts: &mut Facts) {
    let minor = facts.cluster.version.as_deref().and_then(minor);
    let enforce: BTreeMap<&str, PodSecurityLevel> = facts
        .namespaces
        .items
        .iter()
        .map(|namespace| (namespace.subject.name.as_str(), PodSecurityLevel::named(&namespace.pod_security.enforce)))
        .collect();
    let level = |namespace: &Option<String>| -> PodSecurityLevel {
        namespace.as_deref().and_then(|namespace| enforce.get(namespace).copied()).unwrap_or_default()
    };
    let levels: Vec<PodSecurityLevel> =
        facts.workloads.items.iter().map(|workload| level(&workload.subject.namespace)).collect();
    for (workload, level) in facts.workloads.items.iter_mut().zip(levels) {
        workload.unsafe_sysctls =
            workload.sysctls.iter().filter(|sysctl| !safe_sysctl(sysctl, minor)).cloned().collect();
        workload.pod_security_enforce = level;
    }
    let levels: Vec<PodSecurityLevel> =
        facts.containers.items.iter().map(|container| level(&container.subject.namespace)).collect();
    let hosts_forbidden = host_probes_forbidden(minor);
    for (container, level) in facts.containers.items.iter_mut().zip(levels) {
        container.pod_security_enforce = level;
        if !hosts_forbidden {
            container.forbidden_handler_hosts.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sysctl_is_safe_from_the_version_that_allowed_it() {
        assert!(safe_sysctl("net.ipv4.tcp_syncookies", Some(20)));
        assert!(!safe_sysctl("net.ipv4.tcp_keepalive_time", Some(28)), "allowed from 1.29");
        assert!(safe_sysctl("net.ipv4.tcp_keepalive_time", Some(29)));
        assert!(!safe_sysctl("net.ipv4.tcp_rmem", Some(31)) && safe_sysctl("net.ipv4.tcp_rmem", Some(32)));
        assert!(!safe_sysctl("kernel.msgmax", None), "never safe");
        assert!(safe_sysctl("net.ipv4.tcp_rmem", None), "an unknown version gets the newest table");
        assert_eq!(minor("v1.31.4"), Some(31));
        assert_eq!(minor("v1.29.0-eks-1"), Some(29));
        assert_eq!(minor("2.0"), None);
        assert!(!host_probes_forbidden(Some(33)) && host_probes_forbidden(Some(34)) && host_probes_forbidden(None));
    }
}
