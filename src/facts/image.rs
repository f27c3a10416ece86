//! Container image references, parsed by the distribution grammar (`oci-spec`'s
//! `Reference`, a port of the reference regexp Docker and containerd use).
//!
//! `[registry[:port]/]repository[:tag][@digest]`: the first path component is a
//! registry only when it contains `.` or `:` or is `localhost`; otherwise the image is
//! on Docker Hub, where one-component names live under `library/`. A digest pins the
//! image only when its algorithm is known and its hex part has the algorithm's length in
//! lower case, as the OCI image spec requires; an invalid reference pins nothing and is
//! reported as invalid.

use oci_spec::distribution::Reference;

use super::ImageRef;

/// The registry a reference without one resolves to.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// Compiles the reference grammar now, on the calling thread: its regex takes about
/// 20 ms to build, which a scan can spend on another core while it reads its input.
pub fn warm_up() {
    let _ = Reference::try_from("warm-up");
}

/// Parses an image reference as written in a pod spec.
pub fn parse(reference: &str) -> ImageRef {
    let parsed =
        Reference::try_from(reference).map_err(|error| error.to_string()).and_then(|parsed| match parsed.digest() {
            // The OCI image spec allows only lower-case hex in sha256/sha512 digests.
            Some(digest) if digest.chars().any(|character| character.is_ascii_uppercase()) => {
                Err("digest must be lower-case hex".to_owned())
            }
            _ => Ok(parsed),
        });
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(problem) => {
            return ImageRef {
                reference: reference.to_owned(),
                name: reference.to_owned(),
                invalid: problem,
                ..ImageRef::default()
            };
        }
    };
    let digest = parsed.digest().unwrap_or_default().to_owned();
    // The parser reads a reference without tag or digest as `:latest`; the facts keep
    // what was written, so that "no tag" and "`latest`" can be told apart in messages.
    let name_part = reference.split('@').next().unwrap_or_default();
    let tag_written = name_part.rsplit_once(':').is_some_and(|(_, tag)| !tag.contains('/'));
    let tag = if tag_written { parsed.tag().unwrap_or_default().to_owned() } else { String::new() };
    let digest_pinned = !digest.is_empty();
    ImageRef {
        reference: reference.to_owned(),
        name: format!("{}/{}", parsed.registry(), parsed.repository()),
        registry: parsed.registry().to_owned(),
        repository: parsed.repository().to_owned(),
        // A digest pins the image whatever the tag says: `nginx:latest@sha256:…` is pinned.
        latest: !digest_pinned && (tag.is_empty() || tag == "latest"),
        tag,
        digest,
        digest_pinned,
        invalid: String::new(),
    }
}

/// The reference without digest, normalised so that spellings of one image agree
/// (`nginx:1.27` and `docker.io/library/nginx:1.27`): `registry/repository:tag`, with
/// `latest` for an untagged reference, or `registry/repository@digest` when only a
/// digest is given. An invalid reference stays as written.
pub fn normalized(reference: &str) -> String {
    let image = parse(reference);
    if !image.invalid.is_empty() {
        return image.reference;
    }
    match (image.tag.as_str(), image.digest.as_str()) {
        ("", "") => format!("{}:latest", image.name),
        ("", digest) => format!("{}@{digest}", image.name),
        (tag, _) => format!("{}:{tag}", image.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:4c1a2f7e3e0c2b8e1d9f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";

    fn parts(reference: &str) -> (String, String, String, String) {
        let image = parse(reference);
        (image.registry, image.repository, image.tag, image.digest)
    }

    fn owned(registry: &str, repository: &str, tag: &str, digest: &str) -> (String, String, String, String) {
        (registry.into(), repository.into(), tag.into(), digest.into())
    }

    #[test]
    fn registry_with_port_is_not_a_tag() {
        assert_eq!(parts("registry:5000/app"), owned("registry:5000", "app", "", ""));
        assert_eq!(parts("registry:5000/team/app:2.0"), owned("registry:5000", "team/app", "2.0", ""));
    }

    #[test]
    fn bare_name_is_docker_hub_library_and_latest() {
        assert_eq!(parts("app"), owned("docker.io", "library/app", "", ""));
        assert!(parse("app").latest);
        assert!(!parse("app").digest_pinned);
    }

    #[test]
    fn explicit_latest_tag() {
        assert_eq!(parts("app:latest"), owned("docker.io", "library/app", "latest", ""));
        assert!(parse("app:latest").latest);
    }

    #[test]
    fn digest_only_is_pinned_and_not_latest() {
        let reference = format!("app@{DIGEST}");
        assert_eq!(parts(&reference), owned("docker.io", "library/app", "", DIGEST));
        assert!(parse(&reference).digest_pinned);
        assert!(!parse(&reference).latest);
    }

    #[test]
    fn tag_and_digest_together() {
        let reference = format!("app:1.2@{DIGEST}");
        assert_eq!(parts(&reference), owned("docker.io", "library/app", "1.2", DIGEST));
        assert!(parse(&reference).digest_pinned);
    }

    #[test]
    fn fully_qualified_docker_hub() {
        assert_eq!(parts("docker.io/library/app:1.2"), owned("docker.io", "library/app", "1.2", ""));
        assert_eq!(parse("docker.io/library/app:1.2").name, "docker.io/library/app");
        assert_eq!(parts("index.docker.io/library/app:1.2"), owned("docker.io", "library/app", "1.2", ""));
    }

    #[test]
    fn normalized_references_agree_across_spellings() {
        assert_eq!(normalized("nginx:1.27"), "docker.io/library/nginx:1.27");
        assert_eq!(normalized("docker.io/library/nginx:1.27"), "docker.io/library/nginx:1.27");
        assert_eq!(normalized(&format!("nginx:1.27@{DIGEST}")), "docker.io/library/nginx:1.27");
        assert_eq!(normalized("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalized(&format!("nginx@{DIGEST}")), format!("docker.io/library/nginx@{DIGEST}"));
    }

    #[test]
    fn only_a_valid_digest_pins() {
        for invalid in ["nginx@latest", "nginx@sha256:abc", "nginx@md5:0123456789abcdef0123456789abcdef", "Nginx:1"] {
            let image = parse(invalid);
            assert!(!image.invalid.is_empty(), "{invalid} is invalid");
            assert!(!image.digest_pinned, "{invalid} pins nothing");
        }
        let upper = format!("nginx@{}", DIGEST.to_uppercase().replace("SHA256", "sha256"));
        assert_eq!(parse(&upper).invalid, "digest must be lower-case hex");
        assert!(!parse(&upper).digest_pinned);
        // `sha256:abc` as a whole reference is an image named sha256 with tag abc.
        let odd = parse("sha256:abc");
        assert_eq!((odd.repository.as_str(), odd.tag.as_str(), odd.digest_pinned), ("library/sha256", "abc", false));
        // Control: a real digest pins, with a tag too, even `latest`.
        let pinned = parse(&format!("nginx:latest@{DIGEST}"));
        assert!(pinned.digest_pinned && !pinned.latest && pinned.invalid.is_empty());
    }

    #[test]
    fn organisation_on_docker_hub_and_other_registries() {
        assert_eq!(parts("kubernetesui/dashboard:v2.7.0"), owned("docker.io", "kubernetesui/dashboard", "v2.7.0", ""));
        assert_eq!(parts("registry.k8s.io/etcd:3.5.9-0"), owned("registry.k8s.io", "etcd", "3.5.9-0", ""));
        assert_eq!(parts("localhost/app:dev"), owned("localhost", "app", "dev", ""));
    }
}
