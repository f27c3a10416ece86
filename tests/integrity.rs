//! Inputs that must not fake a verdict: nothing judged is no grade, every list shape is
//! read, each object counts once, ownership and control-plane membership are proven.
//! Each case has a control beside it that shows the same path still judges.

mod support;

use std::fmt::Write as _;

use support::{code, sarif_schema, scratch, seaworthy, seaworthy_with, stderr, stdout, write};

/// Exit code of a scan that judged nothing.
const NOTHING_JUDGED: i32 = 3;

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: 'web:1'}]\n";

fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|error| panic!("JSON report: {error}: {}", stderr(output)))
}

fn assert_nothing_judged(output: &std::process::Output, what: &str) {
    assert_eq!(code(output), NOTHING_JUDGED, "{what}: {}", stderr(output));
    let errors = stderr(output);
    let headline: Vec<&str> = errors.lines().filter(|line| line.contains("nothing judged")).collect();
    assert_eq!(headline.len(), 1, "{what}: one stderr line says nothing was judged: {errors}");
}

#[test]
fn inputs_with_no_kubernetes_object_are_not_graded() {
    let dir = scratch();
    let compose = write(dir.path(), "compose/docker-compose.yaml", "services:\n  web:\n    image: nginx\n");
    let workflow = write(
        dir.path(),
        "workflow/ci.yml",
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n",
    );
    let empty_file = write(dir.path(), "empty/empty.yaml", "");
    let empty_dir = dir.path().join("nothing");
    std::fs::create_dir_all(&empty_dir).expect("mkdir");
    let crds = write(
        dir.path(),
        "crds/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec: {group: example.com}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    );
    for path in [&compose, &workflow, &empty_file, &empty_dir, &crds] {
        let shown = path.to_str().expect("UTF-8");
        let output = seaworthy(&["scan", "--manifests", shown, "-o", "json"]);
        assert_nothing_judged(&output, shown);
        let report = json_of(&output);
        assert!(report["score"]["overall"].is_null(), "{shown}: no numeric score: {}", report["score"]);
        assert!(report["score"]["grade"].is_null(), "{shown}: no grade: {}", report["score"]);
        assert!(
            report["score"]["ungraded"].as_str().is_some_and(|reason| reason.contains("nothing judged")),
            "{shown}: the reason is given: {}",
            report["score"]
        );
        let table = seaworthy(&["scan", "--manifests", shown]);
        assert_nothing_judged(&table, shown);
        let text = stdout(&table);
        assert!(text.contains("nothing judged"), "{shown}: the table says so: {text}");
        assert!(!text.contains("grade A"), "{shown}: {text}");
        assert!(!text.contains("-0.0"), "{shown}: {text}");
    }
    let stdin = seaworthy_with(&["scan", "--manifests", "-", "-o", "json"], &[], Some(""));
    assert_nothing_judged(&stdin, "empty stdin");

    // Control: one Deployment is judged and graded.
    let deployment = write(dir.path(), "app/deployment.yaml", DEPLOYMENT);
    let output = seaworthy(&["scan", "--manifests", deployment.to_str().expect("UTF-8"), "-o", "json"]);
    assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
    assert!(json_of(&output)["score"]["overall"].is_number());
}

#[test]
fn skipped_documents_are_listed_with_file_and_line() {
    let dir = scratch();
    let mixed = write(
        dir.path(),
        "mixed.yaml",
        &format!(
            "{DEPLOYMENT}---\nservices:\n  web: {{image: nginx}}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\n"
        ),
    );
    let shown = mixed.to_str().expect("UTF-8");
    let output = seaworthy(&["scan", "--manifests", shown, "-o", "json"]);
    assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
    let report = json_of(&output);
    let skipped = report["source"]["skipped"].as_array().expect("skipped documents are in the JSON");
    let lines: Vec<(u64, &str)> = skipped
        .iter()
        .map(|entry| (entry["location"]["line"].as_u64().expect("line"), entry["reason"].as_str().expect("reason")))
        .collect();
    assert_eq!(lines.len(), 2, "{skipped:?}");
    assert_eq!(lines[0].0, 11);
    assert!(lines[0].1.contains("not a Kubernetes object"), "{lines:?}");
    assert_eq!(lines[1].0, 14);
    assert!(lines[1].1.contains("example.com/v1 Widget"), "{lines:?}");
    let errors = stderr(&output);
    assert!(errors.contains(&format!("{shown}:11")), "stderr names the skipped document: {errors}");
    assert!(errors.contains(&format!("{shown}:14")), "{errors}");
}

#[test]
fn nothing_judged_sarif_is_not_a_successful_run() {
    let dir = scratch();
    let compose = write(dir.path(), "docker-compose.yaml", "services:\n  web:\n    image: nginx\n");
    let output = seaworthy(&["scan", "--manifests", compose.to_str().expect("UTF-8"), "-o", "sarif"]);
    assert_eq!(code(&output), NOTHING_JUDGED, "{}", stderr(&output));
    let log = json_of(&output);
    support::assert_valid(&sarif_schema(), &log, "the SARIF log");
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "{invocation}");
    let notes = invocation["toolExecutionNotifications"].as_array().expect("a notification says why");
    assert!(
        notes.iter().any(|note| note["message"]["text"].as_str().is_some_and(|text| text.contains("nothing judged")))
    );

    // Control: a graded scan is a successful run.
    let output = seaworthy(&["scan", "--manifests", "testdata/clusters/hardened", "-o", "sarif"]);
    assert_eq!(json_of(&output)["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

fn pod_list(count: usize, kind: &str) -> String {
    let mut items = String::new();
    for index in 0..count {
        if index > 0 {
            items.push(',');
        }
        let _ = write!(
            items,
            "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"p{index}\",\"namespace\":\"app\",\"uid\":\"u{index}\"}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"web:1\"}}]}}}}"
        );
    }
    format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"{kind}\",\"metadata\":{{\"resourceVersion\":\"1\"}},\"items\":[{items}]}}"
    )
}

/// How many subjects `rule` judged.
fn subjects_of(report: &serde_json::Value, rule: &str) -> u64 {
    let results = report["results"].as_array().expect("results");
    let result = results.iter().find(|result| result["ruleId"] == rule).unwrap_or_else(|| panic!("{rule} ran"));
    result["subjects"].as_u64().expect("subjects")
}

fn judged_workloads(output: &std::process::Output) -> u64 {
    subjects_of(&json_of(output), "IMAGE-002")
}

/// Copies the files of an example cluster into `dir`.
fn copy_example(name: &str, dir: &std::path::Path) {
    for entry in std::fs::read_dir(support::repo().join("testdata/clusters").join(name)).expect("the example") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
}

#[test]
fn every_list_shape_is_read_at_any_size() {
    // `kubectl get pods -o json` says `List`; typed clients write `PodList`.
    for kind in ["List", "PodList"] {
        let output = seaworthy_with(
            &["scan", "--manifests", "-", "-o", "json", "--select", "IMAGE-002"],
            &[],
            Some(&pod_list(3, kind)),
        );
        assert_eq!(judged_workloads(&output), 3, "{kind}: {}", stderr(&output));
    }
    // A List inside a List.
    let nested = format!("{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}", pod_list(2, "PodList"));
    let output =
        seaworthy_with(&["scan", "--manifests", "-", "-o", "json", "--select", "IMAGE-002"], &[], Some(&nested));
    assert_eq!(judged_workloads(&output), 2, "{}", stderr(&output));
    // Far beyond the parser's default budgets (1,024 documents, 250,000 nodes): about
    // 400,000 nodes, where the item-line pass used to stop with "budget breached".
    let output = seaworthy_with(
        &["scan", "--manifests", "-", "-o", "json", "--select", "IMAGE-002"],
        &[],
        Some(&pod_list(20_000, "List")),
    );
    assert_eq!(judged_workloads(&output), 20_000, "{}", stderr(&output));
}

#[test]
fn the_same_object_given_twice_counts_once() {
    let dir = scratch();
    let first = write(dir.path(), "a/deployment.yaml", DEPLOYMENT);
    let link = dir.path().join("b");
    std::fs::create_dir_all(&link).expect("mkdir");
    std::os::unix::fs::symlink(&first, link.join("again.yaml")).expect("symlink");
    let output = seaworthy(&[
        "scan",
        "--manifests",
        dir.path().to_str().expect("UTF-8"),
        "--manifests",
        first.to_str().expect("UTF-8"),
        "-o",
        "json",
        "--select",
        "IMAGE-002",
    ]);
    assert_eq!(judged_workloads(&output), 1, "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(errors.contains("duplicate") && errors.contains("deployment.yaml:1"), "warned with both places: {errors}");

    // Control: two different Deployments count twice.
    write(dir.path(), "c/other.yaml", &DEPLOYMENT.replace("name: web,", "name: api,"));
    let output =
        seaworthy(&["scan", "--manifests", dir.path().to_str().expect("UTF-8"), "-o", "json", "--select", "IMAGE-002"]);
    assert_eq!(judged_workloads(&output), 2, "{}", stderr(&output));
}

#[test]
fn control_plane_nodes_are_counted_once_for_high_availability() {
    // The weak example's single control-plane node, given three times, is still one node.
    let output = seaworthy(&[
        "scan",
        "--manifests",
        "testdata/clusters/weak",
        "--manifests",
        "testdata/clusters/weak/nodes.yaml",
        "--manifests",
        "testdata/clusters/weak/nodes.yaml",
        "--manifests",
        "testdata/clusters/weak/control-plane.yaml",
        "--manifests",
        "testdata/clusters/weak/control-plane.yaml",
        "-o",
        "json",
    ]);
    let report = json_of(&output);
    let failing = support::failing_rules(&report);
    for rule in ["HA-001", "HA-002", "HA-003"] {
        assert!(failing.contains(&rule.to_owned()), "{rule} still fails on one node given twice: {failing:?}");
    }
}

/// Runs seaworthy and waits for it; a run that blocks is killed and reported, so that a
/// regression fails the test instead of hanging the suite.
fn run_bounded(mut command: std::process::Command) -> std::process::Output {
    use std::process::Stdio;
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("seaworthy runs");
    for _ in 0..600 {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().expect("kill");
    panic!("seaworthy blocked for a minute: {:?}", child.wait_with_output().map(|output| stderr(&output)));
}

fn scan_command(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_seaworthy"));
    command.args(args).current_dir(support::repo()).env("NO_COLOR", "1").stdin(std::process::Stdio::null());
    command
}

#[test]
fn devices_fifos_and_sockets_are_refused_at_once() {
    let dir = scratch();
    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let inside = dir.path().join("tree");
    std::fs::create_dir_all(&inside).expect("mkdir");
    write(&inside, "ok.yaml", DEPLOYMENT);
    std::os::unix::fs::symlink("/dev/zero", inside.join("zero.yaml")).expect("symlink");
    let socket_dir = dir.path().join("sockets");
    std::fs::create_dir_all(&socket_dir).expect("mkdir");
    let _socket = std::os::unix::net::UnixListener::bind(socket_dir.join("api.yaml")).expect("a socket");
    for (path, kind) in [
        (fifo.clone(), "a FIFO"),
        ("/dev/zero".into(), "a character device"),
        ("/dev/urandom".into(), "a character device"),
        (inside.clone(), "a character device"),
        (socket_dir.clone(), "a socket"),
    ] {
        let shown = path.to_str().expect("UTF-8").to_owned();
        let output = run_bounded(scan_command(&["scan", "--manifests", &shown]));
        assert_eq!(code(&output), 2, "{shown}: {}", stderr(&output));
        let errors = stderr(&output);
        assert!(errors.contains(kind) && errors.contains("only regular files"), "{shown}: {errors}");
    }
    // Rule directories, the configuration and a baseline are held to the same rule.
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("mkdir");
    std::os::unix::fs::symlink(&fifo, rules.join("TEAM-001.yaml")).expect("symlink");
    let hardened = "testdata/clusters/hardened";
    for extra in [
        vec!["--rules", rules.to_str().expect("UTF-8")],
        vec!["--config", "/dev/zero"],
        vec!["--baseline", fifo.to_str().expect("UTF-8")],
    ] {
        let args = [&["scan", "--manifests", hardened][..], &extra].concat();
        let output = run_bounded(scan_command(&args));
        assert_eq!(code(&output), 2, "{extra:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("not a regular file"), "{extra:?}: {}", stderr(&output));
    }
    // Control: the same tree without the device is read.
    std::fs::remove_file(inside.join("zero.yaml")).expect("rm");
    let output = run_bounded(scan_command(&["scan", "--manifests", inside.to_str().expect("UTF-8")]));
    assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
}

#[test]
fn inputs_past_the_size_limit_are_refused() {
    let dir = scratch();
    let file = write(dir.path(), "deployment.yaml", DEPLOYMENT);
    let shown = file.to_str().expect("UTF-8");
    let output = seaworthy(&["scan", "--manifests", shown, "--max-input-size", "100B"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("larger than the input limit of 100 bytes"), "{}", stderr(&output));
    // Stdin has the same limit; `< /dev/zero` ends at it instead of filling memory.
    let mut command = scan_command(&["scan", "--manifests", "-", "--max-input-size", "1MiB"]);
    command.stdin(std::fs::File::open("/dev/zero").expect("/dev/zero"));
    let output = run_bounded(command);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("<stdin> is larger than the input limit"), "{}", stderr(&output));
    // Control: under the limit it is read.
    let output = seaworthy(&["scan", "--manifests", shown, "--max-input-size", "1KiB"]);
    assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
}

#[test]
fn huge_durations_are_usage_errors_not_panics() {
    for option in ["--timeout", "--request-timeout", "--probe-timeout", "--probe-connect-timeout"] {
        let output = seaworthy(&["scan", option, "9223372036854775807s"]);
        assert_eq!(code(&output), 2, "{option}: {}", stderr(&output));
        assert!(stderr(&output).contains("at most 24h"), "{option}: {}", stderr(&output));
    }
}

#[test]
fn a_failing_gate_exits_1_when_stdout_closes_early() {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut command = scan_command(&["scan", "--manifests", "testdata/clusters/weak"]);
    let output = command.stdout(writer).stderr(std::process::Stdio::piped()).output().expect("seaworthy runs");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    // Control: a passing gate still exits 0.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut command = scan_command(&["scan", "--manifests", "testdata/clusters/hardened"]);
    let output = command.stdout(writer).stderr(std::process::Stdio::piped()).output().expect("seaworthy runs");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

/// A privileged, hostPID pod that mounts `/`, owned (it says) by `owner`.
fn hostile_pod(name: &str, owner: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: app\n  ownerReferences: [{owner}]\nspec:\n  hostPID: true\n  containers:\n  - name: web\n    image: 'web:1'\n    securityContext: {{privileged: true}}\n    volumeMounts: [{{name: root, mountPath: /host}}]\n  volumes: [{{name: root, hostPath: {{path: /}}}}]\n"
    )
}

const REPLICA_SET: &str = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: app\n  uid: rs-uid\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-uid, controller: true}]\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, pod-template-hash: '1'}}\n    spec:\n      containers: [{name: web, image: 'web:1'}]\n";

/// The subjects POD-001/003/005 name, as `rule subject`.
fn pod_findings(report: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    for result in report["results"].as_array().expect("results") {
        let rule = result["ruleId"].as_str().expect("rule");
        if !["POD-001", "POD-003", "POD-005"].contains(&rule) {
            continue;
        }
        for finding in result["findings"].as_array().expect("findings") {
            let subject = &finding["subject"];
            found.push(format!(
                "{rule} {}/{}",
                subject["kind"].as_str().unwrap_or_default(),
                subject["name"].as_str().unwrap_or_default()
            ));
        }
    }
    found.sort();
    found
}

/// The fake owner references a hostile pod may carry, each with its pod name.
fn fake_owners() -> Vec<(&'static str, String)> {
    vec![
        // A harmless Deployment that exists: the pod is not made from its template.
        ("evil-deployment", "{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}".into()),
        // A ReplicaSet that exists, with the right uid, whose template is harmless.
        (
            "evil-replicaset",
            "{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-uid, controller: true}".into(),
        ),
        // Itself.
        ("evil-self", "{apiVersion: v1, kind: Pod, name: evil-self, controller: true}".into()),
    ]
}

fn ownership_manifests() -> String {
    let mut text = format!("{DEPLOYMENT}---\n{}", REPLICA_SET.replace("uid: d-uid, ", ""));
    for (name, owner) in fake_owners() {
        let _ = write!(text, "---\n{}", hostile_pod(name, &owner));
    }
    // Two ReplicaSets naming each other, both privileged.
    for (name, other) in [("loop-a", "loop-b"), ("loop-b", "loop-a")] {
        let _ = write!(
            text,
            "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {name}\n  namespace: app\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: {other}, controller: true}}]\nspec:\n  selector: {{matchLabels: {{app: loop}}}}\n  template:\n    metadata: {{labels: {{app: loop}}}}\n    spec:\n      containers: [{{name: web, image: 'web:1', securityContext: {{privileged: true}}}}]\n"
        );
    }
    // Control: a pod really made from the ReplicaSet's template folds into the Deployment.
    let _ = write!(
        text,
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-abc\n  namespace: app\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: rs-uid, controller: true}}]\n  labels: {{app: web, pod-template-hash: '1'}}\nspec:\n  nodeName: worker1\n  containers:\n  - name: web\n    image: 'web:1'\n    volumeMounts: [{{name: kube-api-access-x, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}}]\n  volumes: [{{name: kube-api-access-x, projected: {{sources: []}}}}]\n"
    );
    text
}

const EXPECTED_POD_FINDINGS: [&str; 11] = [
    "POD-001 Pod/evil-deployment",
    "POD-001 Pod/evil-replicaset",
    "POD-001 Pod/evil-self",
    "POD-001 ReplicaSet/loop-a",
    "POD-001 ReplicaSet/loop-b",
    "POD-003 Pod/evil-deployment",
    "POD-003 Pod/evil-replicaset",
    "POD-003 Pod/evil-self",
    "POD-005 Pod/evil-deployment",
    "POD-005 Pod/evil-replicaset",
    "POD-005 Pod/evil-self",
];

#[test]
fn a_fake_owner_reference_never_hides_a_pod_in_manifests() {
    let dir = scratch();
    let file = write(dir.path(), "pods.yaml", &ownership_manifests());
    let output = seaworthy(&["scan", "--manifests", file.to_str().expect("UTF-8"), "-o", "json"]);
    let report = json_of(&output);
    assert_eq!(pod_findings(&report), EXPECTED_POD_FINDINGS, "{}", stderr(&output));
    // The real pod is folded: the workloads are the Deployment, the hostile pods and the loop.
    assert_eq!(subjects_of(&report, "POD-003"), 6, "Deployment, three hostile pods, two looping ReplicaSets");
}

#[test]
fn a_fake_owner_reference_never_hides_a_pod_in_a_live_cluster() {
    let dir = scratch();
    copy_example("hardened", dir.path());
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\n";
    let text = format!(
        "{namespace}{}",
        ownership_manifests()
            .replace("metadata: {name: web, namespace: app}", "metadata: {name: web, namespace: app, uid: d-uid}")
    );
    write(dir.path(), "hostile.yaml", &text);
    let api = support::fake_api::FakeApi::start(
        "a_fake_owner_reference_never_hides_a_pod_in_a_live_cluster",
        support::fake_api::Settings::cluster(dir.path().to_str().expect("UTF-8")),
    );
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
    let output = seaworthy(&["scan", "--kubeconfig", kubeconfig, "--no-probes", "-o", "json", "--timeout", "60s"]);
    let report = json_of(&output);
    assert_eq!(pod_findings(&report), EXPECTED_POD_FINDINGS, "{}", stderr(&output));
}

/// A kube-apiserver pod with hardened-looking flags, in `namespace`.
fn lookalike_apiserver(name: &str, namespace: &str, node: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels: {{component: kube-apiserver, tier: control-plane}}\nspec:\n  nodeName: {node}\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.4\n    command: [kube-apiserver, --anonymous-auth=false, --authorization-mode=Node,RBAC, --etcd-servers=https://203.0.113.7:2379]\n"
    )
}

#[test]
fn look_alike_control_plane_pods_never_count() {
    let dir = scratch();
    copy_example("weak", dir.path());
    // Tenant pods: in another namespace, and in kube-system but on a worker node.
    let mut tenants = String::new();
    for index in 0..3 {
        let _ = write!(tenants, "---\n{}", lookalike_apiserver(&format!("kube-apiserver-t{index}"), "tenant", "cp1"));
        let _ = write!(
            tenants,
            "---\n{}",
            lookalike_apiserver(&format!("kube-apiserver-w{index}"), "kube-system", "worker1")
        );
    }
    write(dir.path(), "tenants.yaml", &tenants);
    let output = seaworthy(&["scan", "--manifests", dir.path().to_str().expect("UTF-8"), "-o", "json"]);
    let report = json_of(&output);
    let failing = support::failing_rules(&report);
    for rule in ["HA-002", "APISERVER-001", "APISERVER-003"] {
        assert!(failing.contains(&rule.to_owned()), "{rule} still fails: {failing:?}");
    }
    assert_eq!(subjects_of(&report, "APISERVER-001"), 1, "only the weak example's own API server is judged");
    let text = serde_json::to_string(&report).expect("JSON");
    assert!(!text.contains("203.0.113.7"), "a tenant's flags decide nothing");
    // Control: the same pod in kube-system on the control-plane node counts.
    write(dir.path(), "tenants.yaml", &lookalike_apiserver("kube-apiserver-cp1b", "kube-system", "cp1"));
    let report = json_of(&seaworthy(&["scan", "--manifests", dir.path().to_str().expect("UTF-8"), "-o", "json"]));
    assert_eq!(subjects_of(&report, "APISERVER-001"), 2);
}

#[test]
fn an_exception_on_the_only_failing_subject_never_passes_an_unjudged_rule() {
    let dir = scratch();
    let rules = dir.path().join("rules");
    write(
        &rules,
        "TEAM-001.yaml",
        &team_rule("TEAM-001", "each: workloads\nunknown: \"it.subject.name == 'api'\"\nrequire: \"false\""),
    );
    let manifests =
        write(dir.path(), "apps.yaml", &format!("{DEPLOYMENT}---\n{}", DEPLOYMENT.replace("name: web,", "name: api,")));
    let config = write(
        dir.path(),
        "seaworthy.yaml",
        "exceptions:\n- rule: TEAM-001\n  subject: {name: web}\n  reason: accepted for the test\n  owner: platform\n",
    );
    let args = |config: Option<&std::path::Path>| {
        let mut args = vec![
            "scan".to_owned(),
            "--manifests".into(),
            manifests.display().to_string(),
            "--rules".into(),
            rules.display().to_string(),
            "--select".into(),
            "TEAM-001".into(),
            "-o".into(),
            "json".into(),
        ];
        if let Some(config) = config {
            args.extend(["--config".into(), config.display().to_string()]);
        }
        args
    };
    let status = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let report = json_of(&seaworthy(&args));
        report["results"][0]["status"].as_str().expect("status").to_owned()
    };
    assert_eq!(status(args(Some(&config))), "not_evaluated", "the inconclusive subject is still unjudged");
    // Control: without the exception the failure stands.
    assert_eq!(status(args(None)), "fail");
}

#[test]
fn invalid_exceptions_are_refused_naming_the_entry() {
    let dir = scratch();
    for (body, expected) in [
        ("- rule: \"*\"\n  reason: \"\"\n  owner: \"\"\n", "exception 1 (rule `*`): `reason` must say something"),
        ("- rule: IMAGE-002\n  reason: vendor image\n  owner: \" \"\n", "`owner` must say something"),
        ("- rule: IMGAE-*\n  reason: vendor image\n  owner: platform\n", "exception 1: rule `IMGAE-*` matches no rule"),
        ("- rule: \"*\"\n  reason: all of it\n  owner: platform\n", "excepts everything"),
        (
            "- rule: IMAGE-002\n  reason: r\n  owner: o\n  expires: 2026-02-30\n",
            "seaworthy.yaml:5: parsed date is not valid",
        ),
    ] {
        let config = write(dir.path(), "seaworthy.yaml", &format!("exceptions:\n{body}"));
        let output = seaworthy(&[
            "scan",
            "--manifests",
            "testdata/clusters/hardened",
            "--config",
            config.to_str().expect("UTF-8"),
        ]);
        assert_eq!(code(&output), 2, "{body}: {}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{body}: {}", stderr(&output));
    }
    // Control: a complete exception is accepted.
    let config = write(
        dir.path(),
        "seaworthy.yaml",
        "exceptions:\n- rule: IMAGE-002\n  reason: vendor image\n  owner: platform\n  expires: 2026-12-31\n",
    );
    let output =
        seaworthy(&["scan", "--manifests", "testdata/clusters/hardened", "--config", config.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn escape_sequences_from_the_input_never_reach_the_terminal_raw() {
    let dir = scratch();
    // Clear screen in the name, a window title in the namespace, OSC 52 (clipboard) in the image.
    let pod = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web\\u001b[2J\", \"namespace\": \"app\\u001b]0;owned\\u0007\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"evil\\u001b]52;c;cHduZWQ=\\u0007:1\", \"securityContext\": {\"privileged\": true}}]}}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Widget\\u001b[31m\", \"metadata\": {\"name\": \"w\"}}\n";
    let file = write(dir.path(), "pod.yaml", pod);
    let output = seaworthy(&["scan", "--manifests", file.to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    for (stream, text) in [("stdout", stdout(&output)), ("stderr", stderr(&output))] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{stream} carries a raw control character: {text:?}"
        );
    }
    let table = stdout(&output);
    assert!(table.contains("web\\u{1b}[2J"), "the name is shown, escaped: {table}");
    assert!(stderr(&output).contains("Widget\\u{1b}[31m"), "{}", stderr(&output));
    // Control: JSON keeps the value exactly (JSON escapes it by itself).
    let report = json_of(&seaworthy(&["scan", "--manifests", file.to_str().expect("UTF-8"), "-o", "json"]));
    let names: Vec<String> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .flat_map(|result| result["findings"].as_array().cloned().unwrap_or_default())
        .map(|finding| finding["subject"]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(names.iter().any(|name| name == "web\u{1b}[2J"), "{names:?}");
}

#[test]
fn a_server_that_is_not_kubernetes_is_not_graded() {
    let version = serde_json::json!({"major": "1", "minor": "31", "gitVersion": "v1.31.1"});
    for (case, body, expected) in [
        ("empty-object", serde_json::json!({}), "/version has no Kubernetes gitVersion"),
        ("any-json", serde_json::json!({"status": "ok", "items": []}), "/version has no Kubernetes gitVersion"),
        ("version-only", version, "/api does not list the core v1 API"),
    ] {
        let mut settings = support::fake_api::Settings::cluster("hardened");
        settings.impostor = Some(body);
        let api = support::fake_api::FakeApi::start(&format!("a_server_that_is_not_kubernetes_{case}"), settings);
        let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
        let output = seaworthy(&["scan", "--kubeconfig", kubeconfig, "--no-probes", "-o", "json", "--timeout", "60s"]);
        assert_eq!(code(&output), 2, "{case}: {}", stderr(&output));
        let errors = stderr(&output);
        assert!(errors.contains("is not a Kubernetes API server") && errors.contains(expected), "{case}: {errors}");
        assert!(stdout(&output).is_empty(), "{case}: no report");
    }
    // Control: the same fake serving Kubernetes is graded.
    let api = support::fake_api::FakeApi::start(
        "a_server_that_is_not_kubernetes_control",
        support::fake_api::Settings::cluster("hardened"),
    );
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
    let output = seaworthy(&["scan", "--kubeconfig", kubeconfig, "--no-probes", "-o", "json", "--timeout", "60s"]);
    assert!(json_of(&output)["score"]["grade"].is_string(), "{}", stderr(&output));
}

#[test]
fn live_lists_stop_on_a_repeated_continue_token_or_past_the_cap() {
    let mut settings = support::fake_api::Settings::cluster("weak");
    settings.repeat_continue = true;
    let api = support::fake_api::FakeApi::start("live_lists_stop_on_a_repeated_continue_token", settings);
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
    let output = run_bounded(scan_command(&[
        "scan",
        "--kubeconfig",
        kubeconfig,
        "--no-probes",
        "--page-size",
        "1",
        "--timeout",
        "60s",
    ]));
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("the server repeated a continue token"), "{}", stderr(&output));

    let api =
        support::fake_api::FakeApi::start("live_lists_stop_past_the_cap", support::fake_api::Settings::cluster("weak"));
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
    let args = ["scan", "--kubeconfig", kubeconfig, "--no-probes", "--page-size", "1", "--timeout", "60s"];
    let output = seaworthy(&[&args[..], &["--max-list-objects", "2"]].concat());
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("more than 2 objects (--max-list-objects"), "{}", stderr(&output));
    // Control: the same paginated lists under the default cap are read whole.
    let output = seaworthy(&args);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
}

#[test]
fn rules_with_misspelt_values_functions_or_non_boolean_conditions_do_not_load() {
    for (body, expected) in [
        (
            "each: kubelets\nrequire: \"it.anonymous != 'alowed'\"",
            "TEAM-001.yaml:6: require: compares a closed-set field with 'alowed', which it never holds (allowed: 'allowed', 'closed', 'enabled', 'off', 'unknown')",
        ),
        (
            "each: containers\nrequire: \"!it.image.reference.endWith(':latest')\"",
            "TEAM-001.yaml:6: require: unknown function `endWith`",
        ),
        (
            "each: containers\nrequire: it.name",
            "TEAM-001.yaml:6: require: must be a boolean expression, this is a string",
        ),
        (
            "each: etcd\nunknown: \"it.clientCertAuth == 'maybe'\"\nrequire: \"true\"",
            "TEAM-001.yaml:6: unknown: compares a closed-set field with 'maybe'",
        ),
    ] {
        let dir = scratch();
        write(dir.path(), "TEAM-001.yaml", &team_rule("TEAM-001", body));
        let output = seaworthy(&["rules", "--rules", dir.path().to_str().expect("UTF-8")]);
        assert_eq!(code(&output), 2, "{body}: {}", stdout(&output));
        assert!(stderr(&output).contains(expected), "{body}: {}", stderr(&output));
    }
    // Control: the same rules, spelt right, load.
    let dir = scratch();
    write(
        dir.path(),
        "TEAM-001.yaml",
        &team_rule("TEAM-001", "each: kubelets\nrequire: \"it.anonymous != 'allowed'\""),
    );
    write(
        dir.path(),
        "TEAM-002.yaml",
        &team_rule("TEAM-002", "each: containers\nrequire: \"!it.image.reference.endsWith(':latest')\""),
    );
    let output = seaworthy(&["rules", "--rules", dir.path().to_str().expect("UTF-8")]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

fn team_rule(id: &str, body: &str) -> String {
    format!(
        "id: {id}\ntitle: t\nseverity: low\ncategory: operations\n{body}\nmessage: m\nrationale: r\nremediation: r\nreferences: [https://example.com]\n"
    )
}

#[test]
fn huge_or_deep_rule_expressions_are_load_errors_not_crashes() {
    for (body, expected) in [
        (format!("require: \"{} || true\"", vec!["false"; 10_000].join(" || ")), "at most 4096 are allowed"),
        (format!("require: \"{}true{}\"", "(".repeat(1_000), ")".repeat(1_000)), "brackets nested more than 12 deep"),
        (format!("require: \"{} > 0\"", vec!["1"; 300].join(" + ")), "expression nested more than 64 deep"),
    ] {
        let dir = scratch();
        write(dir.path(), "TEAM-001.yaml", &team_rule("TEAM-001", &body));
        let rules = dir.path().to_str().expect("UTF-8");
        for args in [
            vec!["rules", "--rules", rules],
            vec!["scan", "--manifests", "testdata/clusters/hardened", "--rules", rules],
        ] {
            let output = run_bounded(scan_command(&args));
            assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
            assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
        }
    }
}

#[test]
fn costly_rules_are_not_evaluated_and_the_scan_goes_on() {
    let dir = scratch();
    let rules = dir.path().join("rules");
    // Doubling a string forty times, and a map nested in a map over every workload.
    write(
        &rules,
        "TEAM-001.yaml",
        &team_rule("TEAM-001", &format!("require: \"'ab'{} != ''\"", ".replace('a', 'aa')".repeat(40))),
    );
    write(
        &rules,
        "TEAM-002.yaml",
        &team_rule(
            "TEAM-002",
            "require: \"size(workloads.map(a, workloads.map(b, workloads.map(c, a.replicas + b.replicas + c.replicas)))) > 0\"",
        ),
    );
    // Control: a cheap rule beside them is judged.
    write(&rules, "TEAM-003.yaml", &team_rule("TEAM-003", "each: workloads\nrequire: \"it.replicas >= 0\""));
    let mut manifests = String::new();
    for index in 0..300 {
        manifests.push_str(&DEPLOYMENT.replace("name: web,", &format!("name: web{index},")));
        manifests.push_str("---\n");
    }
    let file = write(dir.path(), "apps.yaml", &manifests);
    let output = run_bounded(scan_command(&[
        "scan",
        "--manifests",
        file.to_str().expect("UTF-8"),
        "--rules",
        rules.to_str().expect("UTF-8"),
        "--select",
        "TEAM-*",
        "-o",
        "json",
    ]));
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", stderr(&output));
    let report = json_of(&output);
    let result = |rule: &str| {
        report["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|result| result["ruleId"] == rule)
            .expect("ran")
            .clone()
    };
    for rule in ["TEAM-001", "TEAM-002"] {
        let result = result(rule);
        assert_eq!(result["status"], "not_evaluated", "{result}");
        assert!(
            result["reason"].as_str().is_some_and(|reason| reason.starts_with("rule exceeded its evaluation budget")),
            "{result}"
        );
    }
    assert_eq!(result("TEAM-003")["status"], "pass");
}
