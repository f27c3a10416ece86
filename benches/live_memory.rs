//! Peak memory of a live scan as objects grow: a `--release` benchmark that prints its
//! figures (`cargo bench --bench live_memory`).
//!
//! The fake API server serves the same 2,000 pods twice, once with a 1 KB annotation on
//! each and once with 100 KB. Because seaworthy projects each list page to compact facts
//! before reading the next, the larger objects should cost about one page more, not
//! the whole cluster more (2,000 × 99 KB ≈ 200 MB). It prints peak RSS (VmHWM, sampled
//! from /proc) and wall time for each run.

// A benchmark's whole job is to print its figures.
#![allow(clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::fake_api::{FakeApi, Settings};

const PODS: usize = 2_000;
const PAGE_SIZE: &str = "100";

fn write_cluster(dir: &std::path::Path, annotation_bytes: usize) {
    let filler = "x".repeat(annotation_bytes);
    let mut text = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system, uid: bench}\n");
    for index in 0..PODS {
        let _ = write!(
            text,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{index}\n  namespace: bench\n  annotations: {{filler: {filler}}}\nspec:\n  containers: [{{name: main, image: 'registry.example.com/app:1.0'}}]\n"
        );
    }
    std::fs::write(dir.join("cluster.yaml"), text).expect("write the generated cluster");
}

/// Peak resident memory in KiB from /proc, polled until the process exits.
fn run_and_measure(kubeconfig: &std::path::Path, report: &std::path::Path) -> (u64, Duration, i32) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seaworthy"))
        .args(["scan", "--kubeconfig", kubeconfig.to_str().expect("UTF-8"), "-o", "json", "--quiet"])
        .args(["--output-file", report.to_str().expect("UTF-8")])
        .args(["--page-size", PAGE_SIZE, "--qps", "1000", "--burst", "1000", "--timeout", "10m"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("seaworthy runs");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(line) = text.lines().find(|line| line.starts_with("VmHWM:"))
        {
            peak = peak.max(line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0));
        }
        if let Some(exit) = child.try_wait().expect("wait") {
            return (peak, started.elapsed(), exit.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn main() {
    println!("live scan of {PODS} pods, page size {PAGE_SIZE}:");
    let mut peaks = Vec::new();
    for annotation in [1_024, 100 * 1_024] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        write_cluster(dir.path(), annotation);
        let api = FakeApi::start(
            &format!("bench_live_memory_{annotation}"),
            Settings::cluster(dir.path().to_str().expect("UTF-8")),
        );
        let report_path = dir.path().join("report.json");
        let (peak, elapsed, code) = run_and_measure(&api.kubeconfig, &report_path);
        // Proof the scan saw every pod: IMAGE-002 judges each container once.
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report written")).expect("JSON");
        let judged = report["results"]
            .as_array()
            .and_then(|results| results.iter().find(|result| result["ruleId"] == "IMAGE-002"))
            .and_then(|result| result["subjects"].as_u64())
            .unwrap_or(0);
        let served_mib = (PODS * annotation) as f64 / (1024.0 * 1024.0);
        println!(
            "  {:>6} B per pod ({served_mib:>6.1} MiB of annotations served): peak RSS {:>7.1} MiB, {:>6.2} s, {judged} containers judged, exit {code}",
            annotation,
            peak as f64 / 1024.0,
            elapsed.as_secs_f64()
        );
        peaks.push(peak);
    }
    let growth = (peaks[1] as f64 - peaks[0] as f64) / 1024.0;
    let one_page = f64::from(100 * 100 * 1024) / (1024.0 * 1024.0);
    println!(
        "  peak grew by {growth:.1} MiB for 100x larger objects; one page of the larger objects is {one_page:.1} MiB"
    );
}
