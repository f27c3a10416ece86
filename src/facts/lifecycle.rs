//! End-of-life dates of what nodes run besides Kubernetes: the operating system image
//! and the container runtime, as the kubelet reports them in `status.nodeInfo`. Dated
//! tables like the Kubernetes calendar (`versions.rs`): the scan's clock decides, and
//! a release the tables do not know is unknown, never supported by assumption. They
//! are checked together with the Kubernetes calendar (`versions::CALENDAR_CHECKED`).

use super::versions;

/// An operating system family, as its `osImage` begins, and how many dotted parts of
/// the version that follows name a release ("Ubuntu 22.04.4 LTS" is release 22.04;
/// "Debian GNU/Linux 12 (bookworm)" is release 12).
struct Family {
    prefix: &'static str,
    release_parts: usize,
    /// Release and the last day of free security updates from the distribution.
    releases: &'static [(&'static str, &'static str)],
}

/// Sources: <https://ubuntu.com/about/release-cycle> (end of standard support; Ubuntu
/// Pro's ESM is paid), <https://wiki.debian.org/LTS> (end of Debian LTS),
/// <https://aws.amazon.com/amazon-linux-2/faqs/>, <https://aws.amazon.com/linux/amazon-linux-2023/faqs/>,
/// <https://access.redhat.com/support/policy/updates/errata> (end of maintenance
/// support) and <https://www.centos.org/centos-linux-eol/>. Month-precise sources are
/// read as the month's last day.
const OS_FAMILIES: &[Family] = &[
    Family {
        prefix: "Ubuntu ",
        release_parts: 2,
        releases: &[
            ("16.04", "2021-04-30"),
            ("18.04", "2023-05-31"),
            ("20.04", "2025-05-31"),
            ("22.04", "2027-05-31"),
            ("24.04", "2029-04-30"),
            ("24.10", "2025-07-31"),
            ("25.04", "2026-01-31"),
            ("25.10", "2026-07-31"),
            ("26.04", "2031-04-30"),
        ],
    },
    Family {
        prefix: "Debian GNU/Linux ",
        release_parts: 1,
        releases: &[
            ("9", "2022-06-30"),
            ("10", "2024-06-30"),
            ("11", "2026-08-31"),
            ("12", "2028-06-30"),
            ("13", "2030-06-30"),
        ],
    },
    // "Amazon Linux 2023.6.20241212" is release 2023; "Amazon Linux 2" is release 2.
    Family { prefix: "Amazon Linux ", release_parts: 1, releases: &[("2", "2026-06-30"), ("2023", "2029-06-30")] },
    Family { prefix: "CentOS Linux ", release_parts: 1, releases: &[("7", "2024-06-30"), ("8", "2021-12-31")] },
    Family { prefix: "CentOS Stream ", release_parts: 1, releases: &[("8", "2024-05-31"), ("9", "2027-05-31")] },
    Family {
        prefix: "Red Hat Enterprise Linux ",
        release_parts: 1,
        releases: &[("7", "2024-06-30"), ("8", "2029-05-31"), ("9", "2032-05-31")],
    },
];

/// containerd minors and their end of life, from
/// <https://github.com/containerd/containerd/blob/main/RELEASES.md> ("September 2026"
/// for the 1.7 LTS is read as its last day; 2.3's date is the planned one).
const CONTAINERD: &[(&str, &str)] = &[
    ("1.4", "2022-03-03"),
    ("1.5", "2023-02-28"),
    ("1.6", "2025-08-23"),
    ("1.7", "2026-09-30"),
    ("2.0", "2025-11-07"),
    ("2.1", "2026-05-05"),
    ("2.2", "2026-11-06"),
    ("2.3", "2028-04-27"),
];

/// What the tables know of a piece of node software: its release and end of life.
#[derive(Debug, PartialEq, Eq)]
pub struct Known {
    /// The release it was matched as ("Ubuntu 20.04", "containerd 1.6").
    pub release: String,
    /// The last supported day, `YYYY-MM-DD`.
    pub end_of_life: &'static str,
}

/// The end of life of a node's `osImage`, when its family and release are in the table.
pub fn os_image(os_image: &str) -> Option<Known> {
    OS_FAMILIES.iter().find_map(|family| {
        let version = os_image.strip_prefix(family.prefix)?;
        let release = leading_release(version, family.release_parts)?;
        let (_, end_of_life) = family.releases.iter().find(|(known, _)| *known == release)?;
        Some(Known { release: format!("{}{release}", family.prefix), end_of_life })
    })
}

/// The end of life of a node's `containerRuntimeVersion` (`containerd://1.7.13`,
/// `cri-o://1.29.1`). CRI-O's minors follow Kubernetes' and are supported as long as
/// the Kubernetes minor of the same number; other runtimes are not in the tables.
pub fn container_runtime(runtime_version: &str) -> Option<Known> {
    let (runtime, version) = runtime_version.split_once("://")?;
    let release = leading_release(version.trim_start_matches('v'), 2)?;
    let end_of_life = match runtime {
        "containerd" => CONTAINERD.iter().find(|(known, _)| *known == release).map(|(_, date)| *date)?,
        "cri-o" => versions::end_of_life(release.strip_prefix("1.")?.parse().ok()?)?,
        _ => return None,
    };
    Some(Known { release: format!("{runtime} {release}"), end_of_life })
}

/// The first `parts` dotted numbers of `version` ("22.04.4 LTS", 2 → "22.04"); `None`
/// when it has fewer or does not start with a number.
fn leading_release(version: &str, parts: usize) -> Option<&str> {
    let numeric = version.split(|c: char| !(c.is_ascii_digit() || c == '.')).next()?;
    let mut end = 0;
    for (index, part) in numeric.split('.').take(parts).enumerate() {
        if part.is_empty() {
            return None;
        }
        end += part.len() + usize::from(index > 0);
        if index + 1 == parts {
            return Some(&numeric[..end]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(image: &str) -> Option<(String, &'static str)> {
        os_image(image).map(|known| (known.release, known.end_of_life))
    }

    #[test]
    fn os_images_are_matched_by_family_and_release() {
        assert_eq!(os("Ubuntu 20.04.6 LTS"), Some(("Ubuntu 20.04".into(), "2025-05-31")));
        assert_eq!(os("Ubuntu 24.04 LTS"), Some(("Ubuntu 24.04".into(), "2029-04-30")));
        assert_eq!(os("Debian GNU/Linux 11 (bullseye)"), Some(("Debian GNU/Linux 11".into(), "2026-08-31")));
        assert_eq!(os("Amazon Linux 2"), Some(("Amazon Linux 2".into(), "2026-06-30")));
        assert_eq!(os("Amazon Linux 2023.6.20241212"), Some(("Amazon Linux 2023".into(), "2029-06-30")));
        assert_eq!(
            os("Red Hat Enterprise Linux 8.9 (Ootpa)"),
            Some(("Red Hat Enterprise Linux 8".into(), "2029-05-31"))
        );
        assert_eq!(os("CentOS Linux 7 (Core)"), Some(("CentOS Linux 7".into(), "2024-06-30")));
    }

    #[test]
    fn os_images_the_tables_do_not_know_are_unknown() {
        for image in [
            "",
            "Ubuntu 14.04.6 LTS",
            "Ubuntu",
            "Container-Optimized OS from Google",
            "Bottlerocket OS 1.20.0 (aws-k8s-1.29)",
            "Flatcar Container Linux by Kinvolk 3815.2.0 (Oklo)",
            "Debian GNU/Linux trixie/sid",
        ] {
            assert_eq!(os(image), None, "{image}");
        }
    }

    #[test]
    fn runtimes_are_matched_by_minor_and_cri_o_follows_kubernetes() {
        let runtime = |version: &str| container_runtime(version).map(|known| (known.release, known.end_of_life));
        assert_eq!(runtime("containerd://1.6.20"), Some(("containerd 1.6".into(), "2025-08-23")));
        assert_eq!(runtime("containerd://2.3.1"), Some(("containerd 2.3".into(), "2028-04-27")));
        assert_eq!(runtime("cri-o://1.31.2"), Some(("cri-o 1.31".into(), "2025-10-28")));
        assert_eq!(runtime("containerd://9.0.0"), None, "newer than the table");
        assert_eq!(runtime("docker://20.10.24"), None, "not in the tables");
        assert_eq!(runtime("containerd"), None);
        assert_eq!(runtime(""), None);
    }
}
