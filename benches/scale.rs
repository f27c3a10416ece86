//! Scale benchmark: how wall time, CPU time and peak memory grow with the input
//! (`cargo bench --bench scale`, a release build; figures in docs/performance.md).
//!
//! Inputs are generated deterministically (a seeded generator, no randomness from the
//! machine): a 1,000-file mix of Deployments, StatefulSets, DaemonSets, Services, RBAC,
//! NetworkPolicies and PDBs, and single dumps of 10,000 and 100,000 such documents.
//! Each scan runs the release binary as a whole process; peak RSS (VmHWM) and CPU time
//! are sampled from /proc until it exits.
//!
//! Live clusters (`live5k`, `live50k`) are served by the tests' fake API server, shaped
//! as a real API server returns them: Deployments, ReplicaSets owning their pods by uid,
//! pods with managedFields and full status, one node per 30 pods, in JSON pages of 500.
//! Beside each live scan the benchmark times a plain keep-alive fetch of the same lists
//! (kube's client, bodies read and dropped): the floor a scan cannot beat.
//!
//! `size` varies object size at a fixed count instead (2,000 pods of 1 KB and 100 KB).
//!
//! `empty` times start-up: scans of an empty directory, which load and compile every rule.
//!
//! `--case NAME` runs one case (`empty`, `mix`, `10k`, `100k`, `live5k`, `live50k`, `size`, or
//! `live100k`, which only runs when named: the CronJob's memory limit must hold it); `--keep`
//! leaves the generated inputs behind; `--vs-checkov` also runs Checkov on the mix when
//! it is installed (`pip install checkov`) and prints the ratios.

// A benchmark's whole job is to print its figures.
#![allow(clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (SplitMix64), so that inputs are the same everywhere.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut value = self.0;
        value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        value ^ (value >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// Labels as Helm charts render them (`app.kubernetes.io/*`), indented by `pad`.
fn labels(name: &str, namespace: &str, pad: &str) -> String {
    format!(
        "{pad}app.kubernetes.io/name: {name}\n{pad}app.kubernetes.io/instance: {name}\n{pad}app.kubernetes.io/part-of: {namespace}\n{pad}app.kubernetes.io/managed-by: Helm\n{pad}helm.sh/chart: {name}-1.4.2\n"
    )
}

/// One document of the realistic mix, the `index`-th of its namespace, in block style
/// as `helm template` and `kubectl get -o yaml` write it (about 1.3 KB, as issue 11's
/// inputs: 127 MB for 100,000 documents).
fn document(random: &mut Seeded, index: usize) -> String {
    let namespace = format!("team-{}", random.below(50));
    let name = format!("app-{index}");
    let image = format!("registry.example.com/{namespace}/{name}:1.{}.{}", random.below(20), random.below(10));
    let metadata = format!(
        "metadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n{}  annotations:\n    meta.helm.sh/release-name: {name}\n    meta.helm.sh/release-namespace: {namespace}\n",
        labels(&name, &namespace, "    ")
    );
    let selector = format!(
        "  selector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n      app.kubernetes.io/instance: {name}\n"
    );
    let template = format!(
        "{selector}  template:\n    metadata:\n      labels:\n{}        tier: web\n    spec:\n      serviceAccountName: {name}\n      containers:\n      - name: main\n        image: {image}\n        imagePullPolicy: IfNotPresent\n        ports:\n        - name: http\n          containerPort: 8080\n          protocol: TCP\n        env:\n        - name: LOG_LEVEL\n          value: info\n        - name: POD_NAMESPACE\n          valueFrom:\n            fieldRef:\n              fieldPath: metadata.namespace\n        resources:\n          requests:\n            cpu: 100m\n            memory: 128Mi\n          limits:\n            memory: 256Mi\n        securityContext:\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n          runAsNonRoot: true\n          capabilities:\n            drop:\n            - ALL\n        readinessProbe:\n          httpGet:\n            path: /ready\n            port: http\n          periodSeconds: 10\n        livenessProbe:\n          httpGet:\n            path: /healthz\n            port: http\n          initialDelaySeconds: 10\n",
        labels(&name, &namespace, "        ")
    );
    match random.below(10) {
        0..=2 => format!(
            "apiVersion: apps/v1\nkind: Deployment\n{metadata}spec:\n  replicas: {}\n  revisionHistoryLimit: 5\n{template}",
            1 + random.below(4)
        ),
        3 => format!(
            "apiVersion: apps/v1\nkind: StatefulSet\n{metadata}spec:\n  serviceName: {name}\n  replicas: 3\n{template}"
        ),
        4 => format!("apiVersion: apps/v1\nkind: DaemonSet\n{metadata}spec:\n{template}"),
        5 | 6 => format!(
            "apiVersion: v1\nkind: Service\n{metadata}spec:\n  type: ClusterIP\n{}  ports:\n  - name: http\n    port: 80\n    targetPort: http\n    protocol: TCP\n",
            selector.replace("    matchLabels:\n", "").replace("      ", "    ")
        ),
        7 => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n{metadata}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n- kind: ServiceAccount\n  name: {name}\n  namespace: {namespace}\n"
        ),
        8 => format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n{metadata}spec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n  policyTypes:\n  - Ingress\n  ingress:\n  - from:\n    - podSelector: {{}}\n    ports:\n    - port: 8080\n      protocol: TCP\n"
        ),
        _ => format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\n{metadata}spec:\n  maxUnavailable: 1\n{selector}"
        ),
    }
}

/// `count` documents, one per file under `dir`.
fn write_files(dir: &Path, count: usize) -> u64 {
    let mut random = Seeded(1);
    let mut bytes = 0;
    for index in 0..count {
        let text = document(&mut random, index);
        bytes += text.len() as u64;
        std::fs::write(dir.join(format!("doc-{index:06}.yaml")), text).expect("write a generated document");
    }
    bytes
}

/// `count` documents in one multi-document file.
fn write_dump(file: &Path, count: usize) -> u64 {
    let mut random = Seeded(2);
    let mut text = String::new();
    for index in 0..count {
        let _ = write!(text, "---\n{}", document(&mut random, index));
    }
    std::fs::write(file, &text).expect("write the generated dump");
    text.len() as u64
}

/// Start-up: the median wall time of 21 scans of an empty directory (every rule loaded
/// and compiled, nothing to judge). Timed around the child's whole life, without the
/// /proc sampling, whose 2 ms period would be a fifth of the figure.
fn startup_case(dir: &Path) {
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let args = ["scan", "--manifests", empty.to_str().expect("UTF-8"), "-o", "json", "--quiet"];
    let mut walls: Vec<Duration> = (0..21)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_seaworthy"))
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("the program runs");
            assert!(status.code().is_some(), "the scan of an empty directory ends with an exit code");
            started.elapsed()
        })
        .collect();
    walls.sort_unstable();
    println!(
        "  empty   start-up, an empty directory: wall {:.1} ms (median of 21; fastest {:.1}, slowest {:.1})",
        walls[10].as_secs_f64() * 1e3,
        walls[0].as_secs_f64() * 1e3,
        walls[20].as_secs_f64() * 1e3
    );
}

/// What one whole-process run cost.
struct Measured {
    wall: Duration,
    cpu_seconds: f64,
    peak_kib: u64,
    code: i32,
}

/// Runs seaworthy and samples /proc until it exits.
fn measure(args: &[&str]) -> Measured {
    measure_program(env!("CARGO_BIN_EXE_seaworthy"), args, Stdio::null())
}

/// Runs `program` (seaworthy, or Checkov to compare) and samples /proc until it exits.
fn measure_program(program: &str, args: &[&str], stdout: Stdio) -> Measured {
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let started = Instant::now();
    let mut child =
        Command::new(program).args(args).stdout(stdout).stderr(Stdio::null()).spawn().expect("the program runs");
    let (status_path, stat_path) = (format!("/proc/{}/status", child.id()), format!("/proc/{}/stat", child.id()));
    let (mut peak_kib, mut ticks) = (0_u64, 0_u64);
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(line) = text.lines().find(|line| line.starts_with("VmHWM:"))
        {
            peak_kib = peak_kib.max(line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0));
        }
        if let Ok(text) = std::fs::read_to_string(&stat_path) {
            // Fields 14 and 15 (utime, stime) follow the parenthesised command name.
            let fields: Vec<&str> = text.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
            let used: u64 =
                fields.get(11..13).into_iter().flatten().filter_map(|field| field.parse::<u64>().ok()).sum();
            ticks = ticks.max(used);
        }
        if let Some(exit) = child.try_wait().expect("wait") {
            return Measured {
                wall: started.elapsed(),
                cpu_seconds: ticks as f64 / ticks_per_second,
                peak_kib,
                code: exit.code().unwrap_or(-1),
            };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn report(case: &str, documents: usize, input_bytes: u64, measured: &Measured) {
    println!(
        "  {case:<5} {documents:>7} documents, {:>7.1} MB in: wall {:>7.3} s, CPU {:>6.2} s, peak RSS {:>7.1} MiB ({:>5.1} KiB per document), exit {}",
        input_bytes as f64 / 1e6,
        measured.wall.as_secs_f64(),
        measured.cpu_seconds,
        measured.peak_kib as f64 / 1024.0,
        measured.peak_kib as f64 / documents as f64,
        measured.code
    );
}

/// A live scan of the fake API server behind `kubeconfig`, without probes and with
/// rate limits out of the way, plus `extra` flags.
fn live_scan(kubeconfig: &str, extra: &[&str]) -> Measured {
    let mut args = vec!["scan", "--kubeconfig", kubeconfig, "--no-probes", "-o", "json", "--quiet"];
    args.extend(["--qps", "1000", "--burst", "1000", "--timeout", "10m"]);
    args.extend(extra);
    measure(&args)
}

/// A `managedFields` entry as server-side apply records it: large, and read by nothing
/// seaworthy judges.
fn managed_fields(manager: &str) -> serde_json::Value {
    use serde_json::json;
    json!({
        "manager": manager, "operation": "Update", "apiVersion": "v1", "time": "2026-11-30T10:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}, "f:ownerReferences": {".": {}}},
            "f:spec": {
                "f:containers": {"k:{\"name\":\"main\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                    "f:ports": {}, "f:resources": {"f:limits": {}, "f:requests": {}}, "f:securityContext": {},
                    "f:terminationMessagePath": {}}},
                "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {},
                "f:serviceAccount": {}, "f:terminationGracePeriodSeconds": {},
            },
            "f:status": {"f:conditions": {}, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {},
                         "f:startTime": {}},
        },
    })
}

/// A cluster of `pods` pods as a real API server holds it, written as one JSON object
/// per document (YAML the fake API server reads).
fn write_live_cluster(dir: &Path, pods: usize) -> u64 {
    use serde_json::json;
    let mut random = Seeded(3);
    let mut documents = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": "ns-kube-system"}}),
    ];
    for node in 0..pods.div_ceil(30) {
        let address = format!("10.{}.{}.{}", node / 65536 % 256, node / 256 % 256, node % 256);
        documents.push(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("node-{node}"), "uid": format!("node-uid-{node}"),
                         "labels": {"topology.kubernetes.io/zone": format!("zone-{}", node % 3)}},
            "status": {"addresses": [{"type": "InternalIP", "address": address}], "nodeInfo": {"kubeletVersion": "v1.30.4"}},
        }));
    }
    let replicas = 10;
    for deployment in 0..pods.div_ceil(replicas) {
        let namespace = format!("team-{}", random.below(50));
        let name = format!("app-{deployment}");
        let image = format!("registry.example.com/{namespace}/{name}:1.{}", random.below(20));
        let pod_spec = json!({
            "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            }],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": name, "serviceAccount": name, "securityContext": {}, "schedulerName": "default-scheduler",
        });
        let labels = json!({"app": name, "pod-template-hash": format!("h{deployment}")});
        let replica_set = format!("{name}-h{deployment}");
        documents.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "uid": format!("d-{deployment}"),
                         "managedFields": [managed_fields("kubectl")]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}},
            "status": {"replicas": replicas, "readyReplicas": replicas},
        }));
        documents.push(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": replica_set, "namespace": namespace, "uid": format!("rs-{deployment}"), "labels": labels,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                              "uid": format!("d-{deployment}"), "controller": true, "blockOwnerDeletion": true}],
                         "managedFields": [managed_fields("kube-controller-manager")]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
            "status": {"replicas": replicas},
        }));
        for replica in 0..replicas.min(pods - deployment * replicas) {
            let pod = deployment * replicas + replica;
            let mut spec = pod_spec.clone();
            spec["nodeName"] = json!(format!("node-{}", pod / 30));
            let ip = format!("10.244.{}.{}", pod / 250 % 256, pod % 250);
            let condition = |kind: &str, at: &str| json!({"type": kind, "status": "True", "lastTransitionTime": at});
            documents.push(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "name": format!("{replica_set}-{replica}"), "namespace": namespace, "uid": format!("pod-{pod}"),
                    "resourceVersion": pod.to_string(), "creationTimestamp": "2026-11-30T10:00:00Z", "labels": labels,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                                         "uid": format!("rs-{deployment}"), "controller": true, "blockOwnerDeletion": true}],
                    "managedFields": [managed_fields("kube-controller-manager"), managed_fields("kubelet")],
                },
                "spec": spec,
                "status": {
                    "phase": "Running",
                    "conditions": [condition("Initialized", "2026-11-30T10:00:00Z"), condition("Ready", "2026-11-30T10:00:05Z"),
                                   condition("ContainersReady", "2026-11-30T10:00:05Z"),
                                   condition("PodScheduled", "2026-11-30T10:00:00Z")],
                    "hostIP": format!("10.0.0.{}", pod % 250), "podIP": ip, "podIPs": [{"ip": ip}],
                    "startTime": "2026-11-30T10:00:00Z",
                    "containerStatuses": [{
                        "name": "main", "state": {"running": {"startedAt": "2026-11-30T10:00:03Z"}}, "lastState": {},
                        "ready": true, "restartCount": 0, "image": image,
                        "imageID": format!("{image}@sha256:{deployment:064x}"),
                        "containerID": format!("containerd://{pod:064x}"), "started": true,
                    }],
                    "qosClass": "Burstable",
                },
            }));
        }
    }
    let text = documents.iter().fold(String::new(), |mut text, document| {
        let _ = writeln!(text, "---\n{document}");
        text
    });
    std::fs::write(dir.join("cluster.yaml"), &text).expect("write the generated cluster");
    text.len() as u64
}

/// The floor: the same lists fetched over one keep-alive client, bodies dropped.
fn plain_fetch(kubeconfig: &Path) -> (Duration, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let kubeconfig = kube::config::Kubeconfig::read_from(kubeconfig).expect("the kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
            .await
            .expect("a client configuration");
        let client = kube::Client::try_from(config).expect("a client");
        let started = Instant::now();
        let mut bytes = 0;
        for path in [
            "/api/v1/nodes",
            "/api/v1/namespaces",
            "/api/v1/pods",
            "/apis/apps/v1/replicasets",
            "/apis/apps/v1/deployments",
        ] {
            let mut token: Option<String> = None;
            loop {
                let uri = match &token {
                    Some(token) => format!("{path}?limit=500&continue={token}"),
                    None => format!("{path}?limit=500"),
                };
                let request = http::Request::get(uri).body(Vec::new()).expect("a request");
                let text = client.request_text(request).await.expect("a page");
                bytes += text.len() as u64;
                let page: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                token = page["metadata"]["continue"].as_str().filter(|token| !token.is_empty()).map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
        (started.elapsed(), bytes)
    })
}

fn live_case(case: &str, pods: usize, dir: &Path) {
    let cluster = dir.join(case);
    std::fs::create_dir_all(&cluster).expect("mkdir");
    write_live_cluster(&cluster, pods);
    let api = support::fake_api::FakeApi::start(
        &format!("bench_scale_{case}"),
        support::fake_api::Settings::cluster(cluster.to_str().expect("UTF-8")),
    );
    let kubeconfig = api.kubeconfig.to_str().expect("UTF-8");
    let (floor, served) = plain_fetch(&api.kubeconfig);
    let report_path = cluster.join("report.json");
    let report = report_path.to_str().expect("UTF-8");
    let measured = live_scan(kubeconfig, &["--output-file", report]);
    // Proof the scan saw the cluster: workloads (pods folded into their Deployments) and
    // containers judged.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report written")).expect("JSON");
    let subjects = |rule: &str| {
        report["results"]
            .as_array()
            .and_then(|results| results.iter().find(|result| result["ruleId"] == rule))
            .and_then(|result| result["subjects"].as_u64())
            .unwrap_or(0)
    };
    println!(
        "  {case:<7} {pods:>6} pods, {:>6.1} MB of lists: wall {:>7.3} s (plain fetch {:>6.3} s, {:.2}x), CPU {:>6.2} s, peak RSS {:>7.1} MiB, exit {}",
        served as f64 / 1e6,
        measured.wall.as_secs_f64(),
        floor.as_secs_f64(),
        measured.wall.as_secs_f64() / floor.as_secs_f64(),
        measured.cpu_seconds,
        measured.peak_kib as f64 / 1024.0,
        measured.code
    );
    println!(
        "          judged {} workloads (POD-001) and {} containers (IMAGE-002)",
        subjects("POD-001"),
        subjects("IMAGE-002")
    );
}

/// Object size at a fixed count (what `benches/live_memory` measured): 2,000 pods with a
/// 1 KB and with a 100 KB annotation. Pages are projected as they arrive, so the larger
/// objects should cost a few pages more (the one decoded, the next one arriving), not
/// the cluster more.
fn live_size_case(dir: &Path) {
    let mut peaks = Vec::new();
    for annotation in [1_024, 100 * 1_024] {
        let cluster = dir.join(format!("size-{annotation}"));
        std::fs::create_dir_all(&cluster).expect("mkdir");
        let filler = "x".repeat(annotation);
        let mut text = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system, uid: bench}\n");
        for index in 0..2_000 {
            let _ = write!(
                text,
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{index}\n  namespace: bench\n  annotations: {{filler: {filler}}}\nspec:\n  containers: [{{name: main, image: 'registry.example.com/app:1.0'}}]\n"
            );
        }
        std::fs::write(cluster.join("cluster.yaml"), text).expect("write the generated cluster");
        let api = support::fake_api::FakeApi::start(
            &format!("bench_scale_size_{annotation}"),
            support::fake_api::Settings::cluster(cluster.to_str().expect("UTF-8")),
        );
        let measured = live_scan(api.kubeconfig.to_str().expect("UTF-8"), &["--page-size", "100"]);
        println!(
            "  size    2000 pods of {annotation:>6} B: wall {:>7.3} s, peak RSS {:>7.1} MiB, exit {}",
            measured.wall.as_secs_f64(),
            measured.peak_kib as f64 / 1024.0,
            measured.code
        );
        peaks.push(measured.peak_kib);
    }
    let one_page = f64::from(100 * 100 * 1024) / (1024.0 * 1024.0);
    println!(
        "          peak grew by {:.1} MiB for 100x larger objects; one page of the larger objects is {one_page:.1} MiB",
        (peaks[1] as f64 - peaks[0] as f64) / 1024.0
    );
}

/// Checkov on the same files (`--vs-checkov`; `pip install checkov` first).
fn compare_with_checkov(files: &Path, ours: &Measured) {
    let installed = Command::new("checkov").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !installed.is_ok_and(|status| status.success()) {
        println!("  checkov is not installed (pip install checkov): no comparison");
        return;
    }
    let output = files.with_extension("checkov.json");
    let written = std::fs::File::create(&output).expect("a file for Checkov's report");
    let files = files.to_str().expect("UTF-8");
    let checkov = measure_program(
        "checkov",
        &["-d", files, "--framework", "kubernetes", "-o", "json", "--skip-download"],
        written.into(),
    );
    // A comparison only counts if Checkov judged the files too.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap_or_default()).unwrap_or_default();
    let resources = report["summary"]["resource_count"].as_u64().unwrap_or(0);
    assert!(resources > 0, "Checkov judged no resource: {report}");
    println!(
        "  checkov {:>7} files ({resources} resources): wall {:>7.3} s, peak RSS {:>7.1} MiB: seaworthy is {:.0}x faster in {:.1}% of the memory",
        1_000,
        checkov.wall.as_secs_f64(),
        checkov.peak_kib as f64 / 1024.0,
        checkov.wall.as_secs_f64() / ours.wall.as_secs_f64(),
        100.0 * ours.peak_kib as f64 / checkov.peak_kib as f64
    );
}

fn main() {
    let only = std::env::args().skip_while(|argument| argument != "--case").nth(1);
    let wanted = |case: &str| only.as_deref().is_none_or(|only| only == case);
    // Not a hidden name (`.tmpXXXX`): Checkov skips hidden directories.
    let temporary = tempfile::Builder::new().prefix("seaworthy-scale-").tempdir().expect("a temporary directory");
    let dir = temporary.path().to_owned();
    // `--keep` leaves the generated inputs behind, to profile a case by hand.
    if std::env::args().any(|argument| argument == "--keep") {
        println!("inputs kept in {}", temporary.keep().display());
    }
    println!("manifest scans (release binary, -o json, whole process):");
    if wanted("empty") {
        startup_case(&dir);
    }
    if wanted("mix") {
        let files = dir.join("mix");
        std::fs::create_dir_all(&files).expect("mkdir");
        let bytes = write_files(&files, 1_000);
        let measured = measure(&["scan", "--manifests", files.to_str().expect("UTF-8"), "-o", "json", "--quiet"]);
        report("mix", 1_000, bytes, &measured);
        if std::env::args().any(|argument| argument == "--vs-checkov") {
            compare_with_checkov(&files, &measured);
        }
    }
    let mut walls = Vec::new();
    for (case, count) in [("10k", 10_000), ("100k", 100_000)] {
        if !wanted(case) {
            continue;
        }
        let file = dir.join(format!("{case}.yaml"));
        let bytes = write_dump(&file, count);
        let measured = measure(&["scan", "--manifests", file.to_str().expect("UTF-8"), "-o", "json", "--quiet"]);
        report(case, count, bytes, &measured);
        walls.push(measured.wall.as_secs_f64());
    }
    if let [ten, hundred] = walls.as_slice() {
        println!("  time from 10k to 100k documents grows {:.1}x", hundred / ten);
    }
    println!("live scans (fake API server, --no-probes, pages of 500):");
    for (case, pods) in [("live5k", 5_000), ("live50k", 50_000)] {
        if wanted(case) {
            live_case(case, pods, &dir);
        }
    }
    // Only when asked for: what the shipped CronJob's 512 Mi limit must hold.
    if only.as_deref() == Some("live100k") {
        live_case("live100k", 100_000, &dir);
    }
    if wanted("size") {
        live_size_case(&dir);
    }
}
