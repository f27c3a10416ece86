//! The in-cluster deployment (`deploy/`): `kubectl kustomize` renders it into objects
//! that k8s-openapi reads back field for field, the CronJob is hardened as promised,
//! its arguments and configuration are ones seaworthy accepts, the ClusterRole only
//! reads, the image runs as the same user the pod demands, and seaworthy's own rules
//! find nothing in it but the tag the operator pins.

mod support;

use std::collections::BTreeSet;
use std::process::Command;

use clap::Parser as _;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use support::{code, failing_rules, repo, seaworthy, stderr, stdout};

/// The rendered objects of one kustomization, typed.
#[derive(Default)]
struct Rendered {
    namespaces: Vec<Namespace>,
    service_accounts: Vec<ServiceAccount>,
    cluster_roles: Vec<ClusterRole>,
    bindings: Vec<ClusterRoleBinding>,
    config_maps: Vec<ConfigMap>,
    network_policies: Vec<NetworkPolicy>,
    quotas: Vec<k8s_openapi::api::core::v1::ResourceQuota>,
    limit_ranges: Vec<k8s_openapi::api::core::v1::LimitRange>,
    cron_jobs: Vec<CronJob>,
    text: String,
}

/// Reads `document` as `T` and checks that nothing was lost on the way: a misspelt or
/// misplaced field would be dropped by the typed form and so differ from the original.
fn strictly<T: serde::de::DeserializeOwned + serde::Serialize>(document: &serde_json::Value) -> T {
    let typed: T = serde_json::from_value(document.clone())
        .unwrap_or_else(|error| panic!("{} does not parse: {error}", document["kind"]));
    let back = serde_json::to_value(&typed).expect("k8s-openapi types serialize");
    assert_eq!(&back, document, "{} has fields k8s-openapi does not know", document["kind"]);
    typed
}

fn kustomize(directory: &str) -> Rendered {
    let output = Command::new("kubectl")
        .args(["kustomize", &repo().join(directory).to_string_lossy()])
        .output()
        .expect("kubectl is needed to render deploy/ (scripts/test installs it)");
    assert!(output.status.success(), "kubectl kustomize {directory}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("UTF-8 YAML");
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("kustomize writes YAML");
    let mut rendered = Rendered { text: text.clone(), ..Rendered::default() };
    for document in &documents {
        match document["kind"].as_str().unwrap_or_default() {
            "Namespace" => rendered.namespaces.push(strictly(document)),
            "ServiceAccount" => rendered.service_accounts.push(strictly(document)),
            "ClusterRole" => rendered.cluster_roles.push(strictly(document)),
            "ClusterRoleBinding" => rendered.bindings.push(strictly(document)),
            "ConfigMap" => rendered.config_maps.push(strictly(document)),
            "NetworkPolicy" => rendered.network_policies.push(strictly(document)),
            "ResourceQuota" => rendered.quotas.push(strictly(document)),
            "LimitRange" => rendered.limit_ranges.push(strictly(document)),
            "CronJob" => rendered.cron_jobs.push(strictly(document)),
            other => panic!("deploy/ renders an unexpected {other}"),
        }
    }
    rendered
}

fn args(cron_job: &CronJob) -> Vec<String> {
    let pod = pod_spec(cron_job);
    pod.containers[0].args.clone().expect("the container has arguments")
}

fn pod_spec(cron_job: &CronJob) -> &k8s_openapi::api::core::v1::PodSpec {
    let job = cron_job.spec.job_template.spec.as_ref().expect("job spec");
    job.template.spec.as_ref().expect("pod spec")
}

#[test]
fn deploy_renders_into_one_of_each_object() {
    let rendered = kustomize("deploy");
    assert_eq!(rendered.namespaces.len(), 1);
    assert_eq!(rendered.service_accounts.len(), 1);
    assert_eq!(rendered.cluster_roles.len(), 1);
    assert_eq!(rendered.bindings.len(), 1);
    assert_eq!(rendered.config_maps.len(), 1);
    assert_eq!(rendered.network_policies.len(), 1);
    assert_eq!((rendered.quotas.len(), rendered.limit_ranges.len()), (1, 1));
    assert_eq!(rendered.cron_jobs.len(), 1);

    // The pieces point at each other.
    let namespace = rendered.namespaces[0].metadata.name.clone().expect("a name");
    let account = &rendered.service_accounts[0].metadata;
    assert_eq!(account.namespace.as_ref(), Some(&namespace));
    let binding = &rendered.bindings[0];
    assert_eq!(Some(&binding.role_ref.name), rendered.cluster_roles[0].metadata.name.as_ref());
    let subject = &binding.subjects.as_ref().expect("subjects")[0];
    assert_eq!((Some(&subject.name), subject.namespace.as_ref()), (account.name.as_ref(), Some(&namespace)));
    let pod = pod_spec(&rendered.cron_jobs[0]);
    assert_eq!(pod.service_account_name, account.name);
    let config_volume = pod.volumes.as_ref().expect("volumes")[0].config_map.as_ref().expect("a ConfigMap volume");
    assert_eq!(Some(&config_volume.name), rendered.config_maps[0].metadata.name.as_ref());
    assert_eq!(
        rendered.namespaces[0].metadata.labels.as_ref().expect("labels")["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
}

#[test]
fn the_cron_job_is_hardened() {
    let rendered = kustomize("deploy");
    let cron_job = &rendered.cron_jobs[0];
    let spec = &cron_job.spec;
    assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
    assert!(spec.successful_jobs_history_limit.is_some() && spec.failed_jobs_history_limit.is_some());
    let job = spec.job_template.spec.as_ref().expect("job spec");
    assert!(job.active_deadline_seconds.is_some_and(|seconds| seconds > 0));
    assert_eq!(job.backoff_limit, Some(0));
    let pod = pod_spec(cron_job);
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let pod_security = pod.security_context.as_ref().expect("a pod security context");
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert!(pod_security.run_as_user.is_some_and(|user| user != 0));
    assert_eq!(pod_security.seccomp_profile.as_ref().map(|profile| profile.type_.as_str()), Some("RuntimeDefault"));
    assert_eq!(pod.containers.len(), 1);
    let container = &pod.containers[0];
    let security = container.security_context.as_ref().expect("a container security context");
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.privileged, Some(false));
    let dropped = security.capabilities.as_ref().and_then(|capabilities| capabilities.drop.clone());
    assert_eq!(dropped, Some(vec!["ALL".to_owned()]));
    assert!(security.capabilities.as_ref().is_some_and(|capabilities| capabilities.add.is_none()));
    let resources = container.resources.as_ref().expect("resources");
    for (what, quantities) in [("requests", &resources.requests), ("limits", &resources.limits)] {
        let quantities = quantities.as_ref().unwrap_or_else(|| panic!("{what}"));
        assert!(quantities.contains_key("cpu") && quantities.contains_key("memory"), "{what}: {quantities:?}");
    }
    assert!(pod.host_network.is_none() && pod.host_pid.is_none(), "nothing of the node's is shared");
}

#[test]
fn the_cron_job_runs_a_command_seaworthy_accepts_with_its_shipped_config() {
    for (directory, probes) in [("deploy", true), ("deploy/overlays/api-only", false)] {
        let rendered = kustomize(directory);
        let args = args(&rendered.cron_jobs[0]);
        let cli = seaworthy::cli::Cli::try_parse_from(std::iter::once("seaworthy".to_owned()).chain(args.clone()))
            .unwrap_or_else(|error| panic!("{directory}: seaworthy refuses {args:?}: {error}"));
        let seaworthy::cli::Command::Scan(scan) = cli.command else { panic!("{directory}: not a scan") };
        assert_eq!(scan.format, seaworthy::cli::Format::Json, "{directory}: the JSON report on stdout");
        assert_eq!(scan.source.live.probes.no_probes, !probes, "{directory}: probes on only in the base");
        assert!(scan.source.manifests.is_empty() && scan.source.snapshot.is_none(), "{directory}: a live scan");

        let config_path = scan.config.expect("--config");
        let mount = &pod_spec(&rendered.cron_jobs[0]).containers[0].volume_mounts.as_ref().expect("mounts")[0];
        let file_name = config_path.strip_prefix(&mount.mount_path).expect("the config is in the mounted ConfigMap");
        let data = rendered.config_maps[0].data.as_ref().expect("ConfigMap data");
        let text = &data[file_name.to_str().expect("UTF-8")];
        seaworthy::config::parse(&config_path.to_string_lossy(), text)
            .unwrap_or_else(|error| panic!("{directory}: {error}"));
    }
}

#[test]
fn the_cluster_role_only_reads_and_never_secrets() {
    let rendered = kustomize("deploy");
    let role = &rendered.cluster_roles[0];
    let rules = role.rules.as_ref().expect("rules");
    let verbs: BTreeSet<&str> = rules.iter().flat_map(|rule| rule.verbs.iter().map(String::as_str)).collect();
    assert!(verbs.is_subset(&BTreeSet::from(["get", "list"])), "read-only verbs: {verbs:?}");
    for rule in rules {
        let resources = rule.resources.as_deref().unwrap_or_default();
        for forbidden in ["secrets", "nodes/proxy", "*"] {
            assert!(!resources.iter().any(|resource| resource == forbidden), "{forbidden} is granted: {rule:?}");
        }
        assert!(!rule.api_groups.as_deref().unwrap_or_default().iter().any(|group| group == "*"));
        assert!(rule.non_resource_urls.is_none(), "no non-resource URLs beyond the defaults");
    }
}

#[test]
fn the_image_runs_as_the_user_the_pod_demands() {
    let containerfile = std::fs::read_to_string(repo().join("deploy/Containerfile")).expect("deploy/Containerfile");
    let last_stage = containerfile.rsplit("\nFROM ").next().expect("a final stage");
    let base = last_stage.lines().next().expect("a base image");
    assert!(
        base.starts_with("gcr.io/distroless/static") || base.starts_with("scratch"),
        "a minimal static base, not {base}"
    );
    let user = last_stage
        .lines()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("the final stage sets USER")
        .split(':')
        .next()
        .expect("a user")
        .parse::<i64>()
        .expect("a numeric user, so runAsNonRoot can verify it");
    let rendered = kustomize("deploy");
    let pod = pod_spec(&rendered.cron_jobs[0]);
    assert_eq!(pod.security_context.as_ref().and_then(|context| context.run_as_user), Some(user));
    assert_ne!(user, 0);
    let entrypoint = last_stage.lines().find_map(|line| line.strip_prefix("ENTRYPOINT ")).expect("an ENTRYPOINT");
    let binary: Vec<String> = serde_json::from_str(entrypoint).expect("ENTRYPOINT in exec form");
    assert!(last_stage.contains(&format!("COPY --from=build /src/target/release/seaworthy {}", binary[0])));
}

#[test]
fn seaworthy_finds_nothing_in_its_own_deployment_but_the_unpinned_tag() {
    let rendered = kustomize("deploy");
    let dir = support::scratch();
    let manifests = support::write(dir.path(), "deploy.yaml", &rendered.text);
    let config = repo().join("deploy/base/seaworthy.yaml");
    let output = seaworthy(&[
        "scan",
        "--manifests",
        manifests.to_str().expect("UTF-8"),
        "--config",
        config.to_str().expect("UTF-8"),
        "-o",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("a JSON report");
    // The digest exists only once the operator has built and pushed the image.
    assert_eq!(failing_rules(&report), vec!["IMAGE-002".to_owned()], "{}", stderr(&output));
    assert_eq!(code(&output), 0, "IMAGE-002 is medium, under the default gate");
}
