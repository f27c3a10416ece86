//! Command-line interface (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::Severity;

/// Kubernetes production-readiness auditor: scored, evidence-backed findings.
#[derive(Debug, Parser)]
#[command(name = "seaworthy", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge manifests or a snapshot and print a scored report.
    Scan(ScanArgs),
    /// Write the facts document (inventory and evidence) to a file, to judge later.
    Snapshot(SnapshotArgs),
    /// List the rule catalog.
    Rules(RulesArgs),
    /// Show one rule in full.
    Explain(ExplainArgs),
}

/// Where objects come from.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Manifest file or directory (read recursively); `-` reads stdin. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub manifests: Vec<PathBuf>,
    /// A snapshot written by `seaworthy snapshot`.
    #[arg(long, value_name = "FILE", conflicts_with = "manifests")]
    pub snapshot: Option<PathBuf>,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for a terminal.
    Table,
    /// The versioned JSON envelope (docs/report.schema.json).
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
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
}

/// `seaworthy snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Manifest file or directory (read recursively); `-` reads stdin. Repeatable.
    #[arg(long, value_name = "PATH", required = true)]
    pub manifests: Vec<PathBuf>,
    /// Where to write the snapshot.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatalogFormat::Table)]
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
