//! Command-line interface (clap).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::engine::Severity;

/// Kubernetes production-readiness auditor: scored, evidence-backed findings.
#[derive(Debug, Parser)]
#[command(name = "seaworthy", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Hide the progress display.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log to stderr: -v for progress, -vv for every request.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // Parsed once per process; boxing would only add noise.
pub enum Command {
    /// Judge a live cluster (the default), manifests or a snapshot and print a scored report.
    Scan(ScanArgs),
    /// Write the facts document (inventory and evidence) to a file, to judge later.
    Snapshot(SnapshotArgs),
    /// List the rule catalog.
    Rules(RulesArgs),
    /// Show one rule in full.
    Explain(ExplainArgs),
    /// Compare two JSON reports of one cluster: new, resolved and still-failing findings
    /// and the score change; exit 1 on a regression.
    Diff(DiffArgs),
    /// Print the completion script of a shell, e.g. `seaworthy completions bash >
    /// /etc/bash_completion.d/seaworthy`.
    Completions(CompletionsArgs),
    /// Print a man page (roff): seaworthy(1), or a subcommand's, e.g. `seaworthy man scan >
    /// /usr/local/share/man/man1/seaworthy-scan.1`.
    Man(ManArgs),
}

/// `seaworthy man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`scan`, `snapshot`, …); none for seaworthy(1).
    pub command: Option<String>,
}

/// `seaworthy completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Where objects come from: a live cluster unless manifests or a snapshot are given.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Manifest file or directory (read recursively); `-` reads stdin. Repeatable.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["kubeconfig", "context"])]
    pub manifests: Vec<PathBuf>,
    /// Leave out manifest files whose path (as shown, or below the directory given)
    /// matches this glob, e.g. 'charts/**' or '**/*.tpl.yaml'. Repeatable.
    #[arg(long, value_name = "GLOB", requires = "manifests")]
    pub exclude: Vec<String>,
    /// Stop at the first manifest that does not parse. Without it, such a document is
    /// reported (file:line and why), left out, and the gate is at best incomplete.
    #[arg(long, requires = "manifests")]
    pub strict: bool,
    /// A snapshot written by `seaworthy snapshot`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["manifests", "kubeconfig", "context"])]
    pub snapshot: Option<PathBuf>,
    /// Largest input read: each manifest file, stdin, the snapshot (e.g. 512MiB, 2GiB).
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = byte_size)]
    pub max_input_size: u64,
    /// Live cluster connection and politeness.
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Reading a live cluster: connection and politeness.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config; in a pod with neither,
    /// the pod's service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Client-side rate limit: requests per second.
    #[arg(long, value_name = "N", default_value_t = 20.0, value_parser = positive)]
    pub qps: f64,
    /// Requests allowed at once before --qps applies.
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub burst: u32,
    /// Objects per list page.
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,
    /// Timeout of one request (e.g. 30s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub request_timeout: Duration,
    /// Timeout of the whole scan: collection, then probes with what is left.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub timeout: Duration,
    /// Stop with an error when one list returns more objects than this.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_list_objects: u64,
    /// Also read each kubelet's configuration (/configz) through the API server's node
    /// proxy. This needs `get nodes/proxy`, a permission that also lets its holder run
    /// commands in any pod of the node: grant it only to a dedicated identity for scans.
    #[arg(long)]
    pub read_kubelet_config: bool,
    /// Also list ConfigMaps and report entries that look like secrets (by name only,
    /// never the value). This needs `list configmaps`, which the shipped role does not
    /// grant: ConfigMaps can hold data a scanner has no business reading.
    #[arg(long)]
    pub read_config_maps: bool,
    /// Override provider detection.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(crate::facts::Provider::ALL.map(crate::facts::Provider::as_str)))]
    pub provider: Option<String>,
    /// Network probes of the cluster's own endpoints.
    #[command(flatten)]
    pub probes: ProbeArgs,
}

/// Network probes of a live cluster's endpoints (API servers, etcd, kubelets, add-ons).
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Do not probe any endpoint: judge only what the API shows.
    #[arg(long)]
    pub no_probes: bool,
    /// Probe this endpoint too; KIND is apiserver, etcd, kubelet, tiller or dashboard
    /// (e.g. 10.0.0.5:2379=etcd). Repeatable.
    #[arg(long, value_name = "HOST:PORT=KIND", conflicts_with = "no_probes")]
    pub probe_target: Vec<crate::probe::targets::ManualTarget>,
    /// Probe Service (ClusterIP) addresses from outside the cluster too. Off by default:
    /// from a laptop or CI runner those addresses route to whatever else holds them on
    /// that network, not to the cluster; in-cluster they are probed anyway.
    #[arg(long, conflicts_with = "no_probes")]
    pub probe_service_addresses: bool,
    /// Probe requests in flight at once [default: 256, or probes.concurrency in the config].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub probe_concurrency: Option<u16>,
    /// Request timeout of one probe (e.g. 5s) [default: 5s, or probes.timeout].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub probe_timeout: Option<Duration>,
    /// Connect timeout of one probe [default: 2s, or probes.connectTimeout].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub probe_connect_timeout: Option<Duration>,
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("`{text}` is not a positive number")),
    }
}

/// Parses a sink URL without ever quoting it back: clap's own errors repeat the value,
/// and a webhook or Pushgateway URL may carry a token in its path, userinfo or query.
#[derive(Clone)]
struct SinkUrl(fn(&str) -> Result<reqwest::Url, String>);

impl clap::builder::TypedValueParser for SinkUrl {
    type Value = reqwest::Url;

    fn parse_ref(
        &self,
        _command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<reqwest::Url, clap::Error> {
        let option = argument.and_then(clap::Arg::get_long).unwrap_or("the sink URL");
        let invalid = |reason: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for --{option}: {reason} (the value is not shown: it may hold credentials)\n"),
            )
        };
        let text = value.to_str().ok_or_else(|| invalid("not UTF-8"))?;
        (self.0)(text).map_err(|reason| invalid(&reason))
    }
}

/// The longest duration any option takes: timeouts beyond a day are typing mistakes,
/// and far larger ones overflow the clock arithmetic of the runtime.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

fn duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration =
        text.parse().map_err(|error| format!("`{text}` is not a duration like 30s or 2m: {error}"))?;
    Duration::try_from(parsed)
        .ok()
        .filter(|duration| !duration.is_zero() && *duration <= MAX_DURATION)
        .ok_or_else(|| format!("`{text}` must be a positive duration of at most 24h"))
}

/// A size in bytes, with an optional unit: `B`, `KiB`, `MiB`, `GiB` (or `KB`, `MB`, `GB`).
fn byte_size(text: &str) -> Result<u64, String> {
    let split = text.find(|character: char| !character.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(format!("`{text}`: the unit must be B, KiB, MiB or GiB (or KB, MB, GB)")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(multiplier))
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| format!("`{text}` is not a positive size like 512MiB"))
}

/// Report formats.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded_not_panics() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("24h"), Ok(MAX_DURATION));
        for text in ["0s", "25h", "9223372036854775807s", "-1s", "soon"] {
            assert!(duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(byte_size("512MiB"), Ok(512 << 20));
        assert_eq!(byte_size("1000"), Ok(1000));
        assert_eq!(byte_size("2GB"), Ok(2_000_000_000));
        for text in ["0", "12 parsecs", "99999999999999999999GiB", "MiB"] {
            assert!(byte_size(text).is_err(), "{text}");
        }
    }
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal: a summary, then one block per failing rule, most severe first.
    Table,
    /// The versioned JSON envelope (docs/report.schema.json).
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// JUnit XML, for CI test reports: a suite per category, a case per rule.
    Junit,
    /// One self-contained HTML page, to read in a browser, on a phone or on paper.
    Html,
}

/// What `--show` adds to the terminal report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shown {
    /// The rules that passed.
    Passed,
    /// The rules that did not apply, grouped by why.
    NotApplicable,
}

/// The frameworks of `--framework` (`frameworks/*.yaml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FrameworkName {
    /// CIS Kubernetes Benchmark.
    Cis,
    /// NSA/CISA Kubernetes Hardening Guidance.
    Nsa,
    /// Pod Security Standards, Baseline.
    PssBaseline,
    /// Pod Security Standards, Restricted (Baseline included).
    PssRestricted,
}

impl FrameworkName {
    /// The framework's id in `frameworks/*.yaml` and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cis => "cis",
            Self::Nsa => "nsa",
            Self::PssBaseline => "pss-baseline",
            Self::PssRestricted => "pss-restricted",
        }
    }
}

/// The severity threshold of the exit-code gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Critical findings only.
    Critical,
    /// High or critical.
    High,
    /// Medium and above.
    Medium,
    /// Low and above.
    Low,
    /// Never fail on findings.
    None,
}

impl FailOn {
    /// The least severe severity that fails the gate.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            Self::Critical => Some(Severity::Critical),
            Self::High => Some(Severity::High),
            Self::Medium => Some(Severity::Medium),
            Self::Low => Some(Severity::Low),
            Self::None => None,
        }
    }
}

/// Which rules run.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Directory of extra rule files (same format as the built-in ones). Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rule_dirs: Vec<PathBuf>,
}

/// `seaworthy scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Report format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Also list in the terminal report the rules that passed, or that did not apply
    /// (with why). Repeatable.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub show: Vec<Shown>,
    /// Show a framework's compliance view in the terminal report: each control's status
    /// and the rules behind it, with counts per section (the JSON report always carries
    /// every framework). Repeatable.
    #[arg(long, value_enum, value_name = "NAME")]
    pub framework: Vec<FrameworkName>,
    /// Exit 1 when a finding has this severity or a higher one.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Exit 1 when the overall score is below this (0–100).
    #[arg(long, value_name = "N")]
    pub min_score: Option<f64>,
    /// Exit 3 when coverage is below this percentage (0–100).
    #[arg(long, value_name = "N")]
    pub min_coverage: Option<f64>,
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Run only these rule ids or globs (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub select: Vec<String>,
    /// Skip these rule ids or globs (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub ignore: Vec<String>,
    /// Configuration file (exceptions, registry allow-list, rule selection, severity overrides).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// An earlier JSON report of this cluster: every finding is marked new or unchanged.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Let --fail-on count only findings that are new against --baseline.
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
    /// Push metrics (score, grade, coverage, findings by severity and category) to this
    /// Pushgateway: its base URL, or a group URL `…/metrics/job/<job>[/<label>/<value>…]`.
    #[arg(long, value_name = "URL", env = "SEAWORTHY_PUSH_METRICS", hide_env_values = true, value_parser = SinkUrl(crate::sink::push_url))]
    pub push_metrics: Option<reqwest::Url>,
    /// POST the JSON report to this URL (https certificates are verified).
    #[arg(long, value_name = "URL", env = "SEAWORTHY_WEBHOOK", hide_env_values = true, value_parser = SinkUrl(crate::sink::webhook_url))]
    pub webhook: Option<reqwest::Url>,
}

/// `seaworthy diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older report (`seaworthy scan -o json`).
    pub old: PathBuf,
    /// The newer report.
    pub new: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
}

/// `seaworthy diff` formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Tables for a terminal.
    Table,
    /// The drift as JSON.
    Json,
}

/// `seaworthy snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Manifest file or directory (read recursively); `-` reads stdin. Repeatable.
    /// Without it, the live cluster is read.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["kubeconfig", "context"])]
    pub manifests: Vec<PathBuf>,
    /// Leave out manifest files whose path matches this glob (as for `scan`). Repeatable.
    #[arg(long, value_name = "GLOB", requires = "manifests")]
    pub exclude: Vec<String>,
    /// Largest input read: each manifest file, or stdin (e.g. 512MiB, 2GiB).
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = byte_size)]
    pub max_input_size: u64,
    /// Live cluster connection and politeness.
    #[command(flatten)]
    pub live: LiveArgs,
    /// Snapshot format: the facts document as JSON.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "json", value_parser = snapshot_format)]
    pub format: SnapshotFormat,
    /// Write the snapshot to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Configuration file (probe ports and timeouts are read from it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Snapshot formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotFormat {
    /// The facts document as JSON.
    Json,
}

/// `-o` names the format, as for every command. Until issue 14 it named the file, so a
/// path is refused with the option that writes one.
fn snapshot_format(text: &str) -> Result<SnapshotFormat, String> {
    match text {
        "json" => Ok(SnapshotFormat::Json),
        _ if text.contains(['.', '/']) => Err(format!(
            "`{text}` is not a format (json): -o names the format; write the file with --output-file {text}"
        )),
        _ => Err(format!("`{text}` is not a snapshot format (json)")),
    }
}

/// Catalog listing formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    /// One line per rule.
    Table,
    /// Rule metadata as JSON.
    Json,
    /// The full catalog as Markdown (docs/rules.md).
    Markdown,
}

/// `seaworthy rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format (`--format` is the old spelling).
    #[arg(short = 'o', long = "output", alias = "format", value_enum, default_value_t = CatalogFormat::Table)]
    pub format: CatalogFormat,
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `seaworthy explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule id, e.g. `ETCD-002`.
    pub id: String,
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
}
