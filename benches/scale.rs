//! Scale benchmark: how wall time, CPU time and peak memory grow with the input
//! (`cargo bench --bench scale`, a release build; figures in docs/performance.md).
//!
//! Inputs are generated deterministically (a seeded generator, no randomness from the
//! machine): a 1,000-file mix of Deployments, StatefulSets, DaemonSets, Services, RBAC,
//! NetworkPolicies and PDBs, and single dumps of 10,000 and 100,000 such documents.
//! Each scan runs the release binary as a whole process; peak RSS (VmHWM) and CPU time
//! are sampled from /proc until it exits.
//!
//! `--case NAME` runs one case (`mix`, `10k`, `100k`). Live clusters and the Checkov
//! comparison are not part of it yet.

// A benchmark's whole job is to print its figures.
#![allow(clippy::print_stdout)]

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

/// One document of the realistic mix, the `index`-th of its namespace.
fn document(random: &mut Seeded, index: usize) -> String {
    let namespace = format!("team-{}", random.below(50));
    let name = format!("app-{index}");
    let image = format!("registry.example.com/{namespace}/{name}:1.{}.{}", random.below(20), random.below(10));
    let template = format!(
        "  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}, tier: web}}}}\n    spec:\n      serviceAccountName: {name}\n      containers:\n      - name: main\n        image: {image}\n        ports: [{{containerPort: 8080}}]\n        resources: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{memory: 256Mi}}}}\n        securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true}}\n        readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}\n"
    );
    match random.below(10) {
        0..=2 => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}}}}}\nspec:\n  replicas: {}\n{template}",
            1 + random.below(4)
        ),
        3 => format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  serviceName: {name}\n  replicas: 3\n{template}"
        ),
        4 => format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{template}"
        ),
        5 | 6 => format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n"
        ),
        7 => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {name}, namespace: {namespace}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\nsubjects: [{{kind: ServiceAccount, name: {name}, namespace: {namespace}}}]\n"
        ),
        8 => format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  podSelector: {{matchLabels: {{app: {name}}}}}\n  policyTypes: [Ingress]\n  ingress: [{{from: [{{podSelector: {{}}}}]}}]\n"
        ),
        _ => format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  maxUnavailable: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n"
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

/// What one whole-process run cost.
struct Measured {
    wall: Duration,
    cpu_seconds: f64,
    peak_kib: u64,
    code: i32,
}

/// Runs seaworthy and samples /proc until it exits.
fn measure(args: &[&str]) -> Measured {
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seaworthy"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("seaworthy runs");
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

fn main() {
    let only = std::env::args().skip_while(|argument| argument != "--case").nth(1);
    let wanted = |case: &str| only.as_deref().is_none_or(|only| only == case);
    let temporary = tempfile::tempdir().expect("a temporary directory");
    let dir = temporary.path().to_owned();
    // `--keep` leaves the generated inputs behind, to profile a case by hand.
    if std::env::args().any(|argument| argument == "--keep") {
        println!("inputs kept in {}", temporary.keep().display());
    }
    println!("manifest scans (release binary, -o json, whole process):");
    if wanted("mix") {
        let files = dir.join("mix");
        std::fs::create_dir_all(&files).expect("mkdir");
        let bytes = write_files(&files, 1_000);
        let measured = measure(&["scan", "--manifests", files.to_str().expect("UTF-8"), "-o", "json", "--quiet"]);
        report("mix", 1_000, bytes, &measured);
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
}
