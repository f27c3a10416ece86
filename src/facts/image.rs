//! Container image references, parsed the way container runtimes resolve them.
//!
//! Grammar: `[registry[:port]/]repository[:tag][@digest]`. The first path component is
//! a registry only when it contains `.` or `:` or is `localhost`; otherwise the image is
//! on Docker Hub, where one-component names live under `library/`.

use super::ImageRef;

/// The registry a reference without one resolves to.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// Parses an image reference as written in a pod spec.
pub fn parse(reference: &str) -> ImageRef {
    let (name_and_tag, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, digest.to_owned()),
        None => (reference, String::new()),
    };
    // A tag follows the last ':' only if no '/' comes after it (else it is a port).
    let (name, tag) = match name_and_tag.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag.to_owned()),
        _ => (name_and_tag, String::new()),
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_owned(), rest.to_owned())
        }
        _ => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
    };
    let registry = if registry == "index.docker.io" { DEFAULT_REGISTRY.to_owned() } else { registry };
    let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    let digest_pinned = !digest.is_empty();
    ImageRef {
        reference: reference.to_owned(),
        name: format!("{registry}/{repository}"),
        registry,
        repository,
        latest: tag == "latest" || (tag.is_empty() && !digest_pinned),
        tag,
        digest,
        digest_pinned,
    }
}

/// The reference without digest, normalised so that spellings of one image agree
/// (`nginx:1.27` and `docker.io/library/nginx:1.27`): `registry/repository:tag`, with
/// `latest` for an untagged reference, or `registry/repository@digest` when only a
/// digest is given.
pub fn normalized(reference: &str) -> String {
    let image = parse(reference);
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
    fn organisation_on_docker_hub_and_other_registries() {
        assert_eq!(parts("kubernetesui/dashboard:v2.7.0"), owned("docker.io", "kubernetesui/dashboard", "v2.7.0", ""));
        assert_eq!(parts("registry.k8s.io/etcd:3.5.9-0"), owned("registry.k8s.io", "etcd", "3.5.9-0", ""));
        assert_eq!(parts("localhost/app:dev"), owned("localhost", "app", "dev", ""));
    }
}
