//! The pipeline: source → facts → rules → exceptions → score → report.
//!
//! This is the only module that knows the order of the stages; each stage stays a
//! plain function of its input. The clock is injected so that exception expiry and
//! timestamps never depend on the day a test runs.

use std::path::PathBuf;

use jiff::Timestamp;

use crate::config::{Config, ConfigError, RuleInputs};
use crate::engine::{self, Catalog, Drafts, RuleError};
use crate::exception::{self, ExceptionError};
use crate::facts::wire::Probing;
use crate::facts::{self, Facts, SourceKind};
use crate::probe::run::{self, ProbeSettings};
use crate::probe::targets::{self, ManualTarget, Ports, Position};
use crate::progress::Progress;
use crate::report::{InputKind, NotProbed, Report, ReportParts, RuleInfo, SourceInfo};
use crate::score::{self, Judged};
use crate::source::live::{self, LiveOptions};
use crate::source::{SourceError, manifests, snapshot};

/// Tells the time.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock stopped at one instant, for tests and reproducible runs.
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// What to read.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // One value per run: boxing would buy nothing.
pub enum Input {
    /// Manifest files, directories or `-`.
    Manifests {
        /// The paths as given.
        paths: Vec<PathBuf>,
        /// The size limit of each file and of stdin.
        max_bytes: u64,
        /// Show progress on stderr when reading takes long.
        progress: bool,
        /// `--exclude` globs.
        exclude: Vec<String>,
        /// Stop at the first document that does not parse (`--strict`).
        strict: bool,
    },
    /// A facts snapshot.
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// Its size limit.
        max_bytes: u64,
    },
    /// A live cluster, and how to probe its endpoints.
    Live(LiveOptions, ProbeOptions),
}

/// Network probing of a live cluster's endpoints.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// False with `--no-probes`.
    pub enabled: bool,
    /// Targets given by hand (`--probe-target`).
    pub manual: Vec<ManualTarget>,
    /// Where components listen.
    pub ports: Ports,
    /// Timeouts and concurrency.
    pub settings: ProbeSettings,
    /// `--probe-service-addresses`: probe Service (ClusterIP) addresses from outside
    /// the cluster too.
    pub service_addresses: bool,
}

/// A scan step failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading the input failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Loading or selecting rules failed.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An exception's pattern is invalid.
    #[error(transparent)]
    Exception(#[from] ExceptionError),
}

impl ScanError {
    /// The next step a user can take.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Source(source) => source.hint(),
            Self::Rule(_) => Some("see docs/writing-rules.md for the rule format"),
            Self::Config(_) | Self::Exception(_) => Some("see docs/configuration.md"),
        }
    }
}

/// Reads the input into facts; a live cluster's endpoints are probed too.
pub async fn read_facts(input: &Input, clock: &dyn Clock) -> Result<(Facts, SourceInfo), SourceError> {
    if !matches!(input, Input::Snapshot { .. }) {
        // Built on another core while the input is read, before facts need it.
        std::thread::spawn(crate::facts::image::warm_up);
    }
    match input {
        Input::Manifests { paths, max_bytes, progress, exclude, strict } => {
            let started = std::time::Instant::now();
            let options = manifests::ReadOptions {
                max_bytes: *max_bytes,
                exclude: manifests::Exclude::new(exclude)?,
                strict: *strict,
            };
            let mut inventory = manifests::read_showing(paths, &options, &Progress::on_stderr(*progress))?;
            tracing::info!(seconds = started.elapsed().as_secs_f64(), "manifests read");
            let source = SourceInfo {
                kind: InputKind::Manifests,
                paths: paths.iter().map(|path| path.display().to_string()).collect(),
                skipped: std::mem::take(&mut inventory.skipped),
                unparsed: std::mem::take(&mut inventory.unparsed),
                duplicates: std::mem::take(&mut inventory.duplicates),
                not_probed: Vec::new(),
            };
            let started = std::time::Instant::now();
            let facts = facts::build(inventory, SourceKind::Manifests);
            tracing::info!(seconds = started.elapsed().as_secs_f64(), "facts built");
            Ok((facts, source))
        }
        Input::Snapshot { path, max_bytes } => {
            let facts = snapshot::read(path, *max_bytes)?;
            Ok((facts, SourceInfo::new(InputKind::Snapshot, vec![path.display().to_string()])))
        }
        Input::Live(options, probes) => {
            let started = std::time::Instant::now();
            let inventory = live::collect(options).await?;
            let shown = inventory.cluster.server.clone().into_iter().collect();
            let position = Position {
                in_cluster: inventory.cluster.in_cluster,
                service_addresses_opted_in: probes.service_addresses,
            };
            // Planned from the inventory, probed, then the facts are built once.
            let probing = if probes.enabled {
                let plan = targets::plan(&inventory, probes.ports, &probes.manual, position);
                tracing::info!(
                    targets = plan.targets.len(),
                    left_out = plan.left_out.len(),
                    "probing the cluster's endpoints"
                );
                for left in &plan.left_out {
                    tracing::info!(host = %left.target.host, port = left.target.port, reason = %left.reason, "not probed");
                }
                // Probes get what the collection left of `--timeout`.
                let budget = probes.settings.budget.saturating_sub(started.elapsed());
                let outcomes = run::run(&plan.targets, ProbeSettings { budget, ..probes.settings }).await;
                Probing::Ran { probed: outcomes, left_out: plan.left_out }
            } else {
                Probing::Skipped("probes turned off (--no-probes)".into())
            };
            let facts = facts::build_probed(inventory, &probing, clock.now());
            let mut source = SourceInfo::new(InputKind::Live, shown);
            if let Probing::Ran { left_out, .. } = &probing {
                source.not_probed = left_out.iter().map(NotProbed::from).collect();
            }
            Ok((facts, source))
        }
    }
}

/// Loads the catalog with the configuration's and the command line's selection applied;
/// the configuration's exceptions are checked against the whole catalog first.
pub fn load_catalog(
    rule_dirs: &[PathBuf],
    config: &Config,
    select: &[String],
    ignore: &[String],
) -> Result<Catalog, ScanError> {
    let mut drafts = Drafts::read(true, rule_dirs)?;
    exception::validate(&config.exceptions, &drafts.ids())?;
    let select: Vec<String> = config.rules.select.iter().chain(select).cloned().collect();
    let ignore: Vec<String> = config.rules.ignore.iter().chain(ignore).cloned().collect();
    drafts.select(&select, &ignore)?;
    // Only the selected rules are compiled.
    let mut catalog = drafts.compile()?;
    catalog.override_severities(&config.severity)?;
    Ok(catalog)
}

/// One scan's identity and how it shows its progress.
pub struct Run {
    /// Unique run id ([`new_run_id`]).
    pub id: String,
    /// When the scan started.
    pub started_at: Timestamp,
    /// Show progress on stderr when judging takes long.
    pub progress: bool,
}

/// Judges facts and assembles the report.
pub fn judge(
    facts: &Facts,
    source: SourceInfo,
    catalog: &Catalog,
    config: &Config,
    clock: &dyn Clock,
    run: Run,
) -> Result<Report, ScanError> {
    let started = std::time::Instant::now();
    let progress = Progress::on_stderr(run.progress);
    let mut results =
        engine::evaluate_with(catalog, facts, &rule_inputs(config, clock), engine::Parallelism::available(), &progress);
    tracing::info!(seconds = started.elapsed().as_secs_f64(), rules = results.len(), "rules judged");
    let today = clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let excepted = exception::apply(&mut results, &config.exceptions, today)?;
    let judged: Vec<Judged> = results
        .iter()
        .zip(&catalog.rules)
        .map(|(result, rule)| Judged {
            severity: rule.severity,
            category: rule.category,
            status: result.status,
            failing: result.tally.failing,
            subjects: result.subjects,
        })
        .collect();
    let score = score::score(&judged, facts.object_count());
    let mut report = Report::new(ReportParts {
        run_id: run.id,
        started_at: rfc3339(run.started_at),
        finished_at: rfc3339(clock.now()),
        source,
        facts,
        rules: catalog.rules.iter().map(RuleInfo::from).collect(),
        results,
        excepted: excepted.per_result,
        exceptions: excepted.outcomes,
        score,
    });
    report.attack_paths = crate::paths::find(facts, &report.results);
    if let Some(reason) = crate::paths::grade_cap(&report.attack_paths) {
        report.score.cap(reason);
    }
    Ok(report)
}

/// What rules see of the configuration, with the scan's date from its clock.
pub fn rule_inputs(config: &Config, clock: &dyn Clock) -> RuleInputs {
    let today = clock.now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    RuleInputs { today, ..RuleInputs::from(config) }
}

/// RFC 3339 in UTC with second precision, e.g. `2026-11-22T10:15:00Z`.
pub fn rfc3339(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fresh run id.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
