//! Kubernetes versions against the upstream support calendar and the version skew
//! policy. The calendar is a dated table: the scan's clock, not the build's, decides
//! whether a minor is still supported.

use super::Facts;
use super::pss::minor;

/// When the table was last checked against <https://kubernetes.io/releases/>.
pub const CALENDAR_CHECKED: &str = "2026-12-01";

/// The end-of-life date of each Kubernetes minor (1.x), from the release pages at
/// <https://kubernetes.io/releases/>. A minor older than the first entry is long out
/// of support; one newer than the last is not in the table (unknown, never supported
/// by assumption).
const END_OF_LIFE: &[(u32, &str)] = &[
    (25, "2023-10-28"),
    (26, "2024-02-28"),
    (27, "2024-06-28"),
    (28, "2024-10-28"),
    (29, "2025-02-28"),
    (30, "2025-07-15"),
    (31, "2025-10-28"),
    (32, "2026-02-28"),
    (33, "2026-06-28"),
    (34, "2026-10-27"),
    (35, "2027-02-28"),
    (36, "2027-06-28"),
];

/// How many minors older than the API server a kubelet may be (the skew policy since
/// 1.28; two before). A kubelet is never newer than its API server.
fn kubelet_skew_allowed(apiserver_minor: u32) -> u32 {
    if apiserver_minor >= 28 { 3 } else { 2 }
}

/// The end-of-life date of Kubernetes 1.`minor`, as `YYYY-MM-DD`; the oldest date of
/// the table for minors older than it; `None` for minors newer than it.
pub fn end_of_life(minor: u32) -> Option<&'static str> {
    let (oldest, oldest_date) = END_OF_LIFE[0];
    if minor < oldest {
        return Some(oldest_date);
    }
    END_OF_LIFE.iter().find(|(known, _)| *known == minor).map(|(_, date)| *date)
}

/// Fills the cluster's end-of-life date and each node's kubelet skew.
pub fn annotate(facts: &mut Facts) {
    let apiserver = facts.cluster.version.as_deref().and_then(minor);
    apiserver.and_then(end_of_life).unwrap_or_default().clone_into(&mut facts.cluster.end_of_life);
    CALENDAR_CHECKED.clone_into(&mut facts.cluster.support_calendar);
    for removed in &mut facts.removed_apis.items {
        let removed_in = u32::try_from(removed.removed_in_minor).unwrap_or(u32::MAX);
        removed.removed_by_next_minor = apiserver.is_none_or(|minor| removed_in <= minor + 1);
    }
    for node in &mut facts.nodes.items {
        let kubelet = node.kubelet_version.as_deref().and_then(minor);
        let (skew, allowed) = match (apiserver, kubelet) {
            (Some(apiserver), Some(kubelet)) => {
                (i64::from(apiserver) - i64::from(kubelet), i64::from(kubelet_skew_allowed(apiserver)))
            }
            _ => (0, 0),
        };
        node.kubelet_skew_known = apiserver.is_some() && kubelet.is_some();
        node.kubelet_minors_behind = skew;
        node.kubelet_skew_allowed = allowed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minors_have_their_end_of_life_and_unknown_ones_none() {
        assert_eq!(end_of_life(31), Some("2025-10-28"));
        assert_eq!(end_of_life(19), Some("2023-10-28"), "older than the table: out of support");
        assert_eq!(end_of_life(40), None, "newer than the table: unknown");
        assert_eq!(kubelet_skew_allowed(31), 3);
        assert_eq!(kubelet_skew_allowed(27), 2);
    }
}
