//! The `seaworthy` binary: parse the command line, run, map the outcome to an exit code.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{CommandFactory as _, Parser as _};
use seaworthy::cli::{
    CatalogFormat, Cli, Command, DiffArgs, DiffFormat, Format, LiveArgs, ProbeArgs, ScanArgs, Shown, SnapshotArgs,
    SnapshotFormat,
};
use seaworthy::engine::Catalog;
use seaworthy::probe::Timeouts;
use seaworthy::probe::run::ProbeSettings;
use seaworthy::report::{self, table, terminal};
use seaworthy::scan::{self, Clock, FixedClock, Input, ProbeOptions, SystemClock};
use seaworthy::sink::{self, Delivery, Sinks};
use seaworthy::source::live::LiveOptions;
use seaworthy::{config, drift, source};

// A scan's gate gives 0, 1 or 3 (`report::gate::Verdict::exit_code`).
/// `seaworthy diff`: something got worse.
const EXIT_GATE: u8 = 1;
/// Usage, input or connection error.
const EXIT_ERROR: u8 = 2;
/// The report was written, but a sink (`--push-metrics`, `--webhook`) did not take it.
const EXIT_SINK: u8 = 4;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(clippy::print_stderr)] // The one place errors reach the user.
fn main() -> ExitCode {
    // The one async runtime: the live source, the probes and the sinks run on it. One
    // thread is enough for I/O; judging uses every core through rayon.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout as clap writes them.
        Err(usage) if !usage.use_stderr() => {
            let _ = usage.print();
            return ExitCode::SUCCESS;
        }
        // `seaworthy` alone: the help, on stderr, as a usage error.
        Err(usage) if usage.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = usage.print();
            return ExitCode::from(EXIT_ERROR);
        }
        Err(usage) => {
            eprintln!("seaworthy: error: {}", report::inert(&usage_line(&usage)));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let outcome = runtime.context("cannot start the async runtime").and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // Paths and parser messages quote the input: nothing in it reaches the terminal raw.
            let line = seaworthy::redact::text(&format!("{error:#}"));
            eprintln!("seaworthy: error: {}{}", report::inert(&line), hint(&error));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A short next step for the errors users can fix themselves; each layer's error type
/// knows its own.
/// seaworthy(1), or the page of one subcommand (seaworthy-scan(1)), as roff.
fn man_page(subcommand: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let command = Cli::command();
    let man = match subcommand {
        None => clap_mangen::Man::new(command),
        Some(name) => {
            let Some(found) = command.find_subcommand(name) else {
                let known: Vec<&str> = command.get_subcommands().map(clap::Command::get_name).collect();
                bail!("no subcommand `{name}` (one of: {})", known.join(", "));
            };
            let page = found.clone().name(format!("seaworthy-{name}")).bin_name(format!("seaworthy {name}"));
            clap_mangen::Man::new(page.version(env!("CARGO_PKG_VERSION")))
        }
    };
    let mut page = Vec::new();
    man.render(&mut page)?;
    Ok(page)
}

/// A usage error as one line with a hint, as every other error is: clap's message,
/// then its tip and possible values, else where the help is.
fn usage_line(usage: &clap::Error) -> String {
    let text = usage.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let message = lines.next().unwrap_or_default().trim_start_matches("error: ").to_owned();
    let mut hints = Vec::new();
    let mut command = "seaworthy".to_owned();
    for line in lines {
        if let Some(tip) = line.strip_prefix("tip: ") {
            hints.push(tip.to_owned());
        } else if let Some(values) = line.strip_prefix('[').and_then(|line| line.strip_suffix(']')) {
            hints.push(values.to_owned());
        } else if let Some(usage) = line.strip_prefix("Usage: ") {
            let words: Vec<&str> =
                usage.split_whitespace().take_while(|word| !word.starts_with(['[', '<', '-'])).collect();
            command = words.join(" ");
        }
    }
    if hints.is_empty() {
        hints.push(format!("see `{command} --help`"));
    }
    format!("{message} (hint: {})", hints.join("; "))
}

fn hint(error: &anyhow::Error) -> String {
    error
        .chain()
        .find_map(|cause| {
            cause
                .downcast_ref::<scan::ScanError>()
                .and_then(scan::ScanError::hint)
                .or_else(|| cause.downcast_ref::<drift::DriftError>().and_then(drift::DriftError::hint))
        })
        .map(|hint| format!(" (hint: {hint})"))
        .unwrap_or_default()
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    init_logging(cli.verbose);
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    match cli.command {
        Command::Scan(args) => run_scan(&args, progress).await,
        Command::Snapshot(args) => run_snapshot(&args, progress).await,
        Command::Rules(args) => {
            let catalog = Catalog::load(true, &args.rules.rule_dirs).map_err(scan::ScanError::from)?;
            let text = match args.format {
                CatalogFormat::Table => {
                    let width = terminal_style(std::io::stdout().is_terminal()).width;
                    report::catalog::table(&catalog, u16::try_from(width).unwrap_or(u16::MAX))
                }
                CatalogFormat::Json => report::catalog::json(&catalog),
                CatalogFormat::Markdown => report::catalog::markdown(&catalog),
            };
            write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(args) => run_diff(&args),
        Command::Completions(args) => {
            let mut text = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "seaworthy", &mut text);
            emit_stdout(|out| out.write_all(&text))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(args) => {
            let page = man_page(args.command.as_deref())?;
            emit_stdout(|out| out.write_all(&page))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            let catalog = Catalog::load(true, &args.rules.rule_dirs).map_err(scan::ScanError::from)?;
            let id = args.id.to_uppercase();
            let Some(rule) = catalog.get(&id) else {
                bail!("no rule `{}` (see `seaworthy rules`)", args.id);
            };
            write_stdout(&report::catalog::explain(rule))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The clock: `SEAWORTHY_NOW` (RFC 3339) stops it, for reproducible runs.
fn clock() -> anyhow::Result<Box<dyn Clock>> {
    match std::env::var("SEAWORTHY_NOW") {
        Ok(now) => {
            let instant = now.parse().with_context(|| format!("SEAWORTHY_NOW `{now}` is not an RFC 3339 timestamp"))?;
            Ok(Box::new(FixedClock(instant)))
        }
        Err(_) => Ok(Box::new(SystemClock)),
    }
}

/// Logs go to stderr, so stdout carries only the report. Only seaworthy's own events
/// are shown (errors reach the user once, as the final one-line message); `-vv` adds
/// the libraries' debug output.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let (own, libraries) = match verbose {
        0 => (LevelFilter::WARN, LevelFilter::OFF),
        1 => (LevelFilter::INFO, LevelFilter::OFF),
        _ => (LevelFilter::DEBUG, LevelFilter::DEBUG),
    };
    let filter = Targets::new().with_target("seaworthy", own).with_default(libraries);
    // Colour only for a person at a terminal: a CI log or a file gets plain text.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| RedactedStderr)
        .with_target(verbose > 1)
        .with_ansi(colour(std::io::stderr().is_terminal()));
    tracing_subscriber::registry().with(layer).with(filter).init();
}

/// Stderr for logs, with credentials redacted: at `-vv` the libraries log requests and
/// configuration, and nothing they print may carry a token. Each event arrives whole.
struct RedactedStderr;

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let shown = seaworthy::redact::text(&String::from_utf8_lossy(buffer));
        std::io::stderr().write_all(shown.as_bytes())?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn live_options(args: &LiveArgs, progress: bool) -> LiveOptions {
    LiveOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        qps: args.qps,
        burst: args.burst,
        page_size: args.page_size,
        request_timeout: args.request_timeout,
        timeout: args.timeout,
        provider: args.provider.clone(),
        read_kubelet_config: args.read_kubelet_config,
        read_config_maps: args.read_config_maps,
        progress,
        max_list_objects: usize::try_from(args.max_list_objects).unwrap_or(usize::MAX),
    }
}

/// Probe settings: the command line over the config file over the defaults.
/// Probe settings; all probes share the scan's `--timeout` with the collection.
fn probe_options(args: &ProbeArgs, config: &config::ProbeConfig, budget: Duration) -> anyhow::Result<ProbeOptions> {
    let from_config = |value: Option<jiff::SignedDuration>, key: &str| -> anyhow::Result<Option<Duration>> {
        value
            .map(|value| {
                Duration::try_from(value)
                    .ok()
                    .filter(|duration| !duration.is_zero())
                    .with_context(|| format!("probes.{key} must be a positive duration"))
            })
            .transpose()
    };
    let request = match args.probe_timeout {
        Some(timeout) => timeout,
        None => from_config(config.timeout, "timeout")?.unwrap_or(Duration::from_secs(5)),
    };
    let connect = match args.probe_connect_timeout {
        Some(timeout) => timeout,
        None => from_config(config.connect_timeout, "connectTimeout")?.unwrap_or(Duration::from_secs(2)),
    };
    let concurrency = args
        .probe_concurrency
        .map(usize::from)
        .or(config.concurrency.map(usize::from))
        .unwrap_or(ProbeSettings::DEFAULT_CONCURRENCY);
    if concurrency == 0 {
        bail!("probes.concurrency must be at least 1");
    }
    Ok(ProbeOptions {
        enabled: !args.no_probes,
        manual: args.probe_target.clone(),
        ports: config.ports.resolve(),
        settings: ProbeSettings { timeouts: Timeouts { connect, request }, concurrency, budget },
        service_addresses: args.probe_service_addresses,
    })
}

/// What the command line asks to read: manifests, a snapshot, or (neither) a live cluster.
struct Wanted<'a> {
    manifests: &'a [std::path::PathBuf],
    exclude: &'a [String],
    strict: bool,
    snapshot: Option<&'a Path>,
    max_bytes: u64,
}

fn input(wanted: &Wanted<'_>, live: &LiveArgs, config: &config::Config, progress: bool) -> anyhow::Result<Input> {
    let Wanted { manifests, exclude, strict, snapshot, max_bytes } = *wanted;
    if !live.probes.probe_target.is_empty() && (snapshot.is_some() || !manifests.is_empty()) {
        bail!("--probe-target needs a live cluster: manifests and snapshots are not probed");
    }
    Ok(match (manifests.is_empty(), snapshot) {
        (_, Some(path)) => Input::Snapshot { path: path.to_path_buf(), max_bytes },
        (false, None) => {
            Input::Manifests { paths: manifests.to_vec(), max_bytes, progress, exclude: exclude.to_vec(), strict }
        }
        (true, None) => {
            Input::Live(live_options(live, progress), probe_options(&live.probes, &config.probes, live.timeout)?)
        }
    })
}

#[allow(clippy::print_stderr)] // Sink failures are told after the report is out.
async fn run_scan(args: &ScanArgs, progress: bool) -> anyhow::Result<ExitCode> {
    for (option, value) in [("--min-score", args.min_score), ("--min-coverage", args.min_coverage)] {
        if value.is_some_and(|value| !(0.0..=100.0).contains(&value)) {
            bail!("{option} must be between 0 and 100");
        }
    }
    let clock = clock()?;
    let started_at = clock.now();
    let config = read_config(args.config.as_deref())?;
    let loading = std::time::Instant::now();
    let catalog = scan::load_catalog(&args.rules.rule_dirs, &config, &args.select, &args.ignore)?;
    tracing::info!(seconds = loading.elapsed().as_secs_f64(), rules = catalog.rules.len(), "catalog loaded");
    // Read before scanning, so that a wrong path does not cost a whole scan.
    let baseline = args.baseline.as_deref().map(drift::read).transpose()?;
    let wanted = Wanted {
        manifests: &args.source.manifests,
        exclude: &args.source.exclude,
        strict: args.source.strict,
        snapshot: args.source.snapshot.as_deref(),
        max_bytes: args.source.max_input_size,
    };
    let input = input(&wanted, &args.source.live, &config, progress)?;
    let (facts, source_info) = scan::read_facts(&input, clock.as_ref()).await.map_err(scan::ScanError::from)?;
    warn_about_input(&source_info);
    let mut report = scan::judge(
        &facts,
        source_info,
        &catalog,
        &config,
        clock.as_ref(),
        scan::Run { id: scan::new_run_id(), started_at, progress },
    )?;
    // Judged: the facts are not read again, and would double the memory of rendering.
    drop(facts);
    if let Some(baseline) = &baseline {
        drift::mark(&mut report, baseline)?;
    }
    let gate = report::gate::decide(&report, thresholds(args));
    report.gate = Some(gate.clone());

    let rendering = std::time::Instant::now();
    let to_terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    // The JSON report is written as it is serialized: at 100,000 objects it is tens of
    // megabytes, and a copy in memory would be the largest allocation of the scan.
    let text = match args.format {
        Format::Table => {
            let show = terminal::Show {
                passed: args.show.contains(&Shown::Passed),
                not_applicable: args.show.contains(&Shown::NotApplicable),
                frameworks: args.framework.iter().map(|name| name.as_str()).collect(),
            };
            Some(terminal::render(&report, terminal_style(to_terminal), &show))
        }
        Format::Json => None,
        Format::Junit => Some(report::junit::render(&report)),
        Format::Html => Some(report::html::render(&report)),
        Format::Sarif => {
            Some(report::sarif::render(&report, &std::env::current_dir().context("cannot read the working directory")?))
        }
    };
    let emit = |out: &mut dyn std::io::Write| match &text {
        Some(text) => out.write_all(text.as_bytes()),
        None => report::json::write(&report, out),
    };
    let written = match &args.output_file {
        Some(path) => write_atomically(path, emit)?,
        // A reader that stops early (`| head`) still gets the gate's exit code.
        None => match emit_stdout(emit) {
            Err(error) if is_broken_pipe(&error) => 0,
            written => written?,
        },
    };
    tracing::info!(seconds = rendering.elapsed().as_secs_f64(), bytes = written, "report rendered");
    // The report is out; a sink that fails is told on stderr and in the exit code.
    let sinks = Sinks { push_metrics: args.push_metrics.clone(), webhook: args.webhook.clone() };
    let failures = sink::deliver(&report, &sinks, &Delivery::default()).await;
    for failure in &failures {
        eprintln!("seaworthy: error: {failure}");
    }
    // The last line says what decided the exit code.
    if !failures.is_empty() {
        eprintln!("seaworthy: {} sink(s) failed (exit {EXIT_SINK}); {}", failures.len(), gate.summary());
        return Ok(ExitCode::from(EXIT_SINK));
    }
    eprintln!("seaworthy: {}", gate.summary());
    Ok(ExitCode::from(gate.verdict.exit_code()))
}

/// The gate's thresholds, from the command line.
fn thresholds(args: &ScanArgs) -> report::gate::Thresholds {
    report::gate::Thresholds {
        fail_on: args.fail_on.threshold(),
        min_score: args.min_score,
        min_coverage: args.min_coverage,
        fail_on_new: args.fail_on_new,
    }
}

/// Writes what `emit` writes to a temporary file beside `path`, then renames it over
/// `path`: a reader (or the next run's `--baseline`) never sees half a report. Returns
/// the bytes written.
fn write_atomically(
    path: &Path,
    emit: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<u64> {
    let name = path.file_name().with_context(|| format!("{} is not a file path", path.display()))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    let written = std::fs::File::create(&temporary).and_then(|file| {
        let mut out = Counted::new(std::io::BufWriter::new(file));
        emit(&mut out)?;
        out.flush()?;
        std::fs::rename(&temporary, path)?;
        Ok(out.bytes)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}

fn run_diff(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let old = drift::read(&args.old)?;
    let new = drift::read(&args.new)?;
    let drift = drift::compare(&old, &new)?;
    let text = match args.format {
        DiffFormat::Table => report::drift::render(&drift, table_style(std::io::stdout().is_terminal())),
        DiffFormat::Json => report::drift::json(&drift),
    };
    write_stdout(&text)?;
    Ok(if drift.regressed() { ExitCode::from(EXIT_GATE) } else { ExitCode::SUCCESS })
}

/// How many skipped (or unread) documents stderr names before it only counts the rest
/// (the JSON report lists them all).
const SKIPPED_SHOWN: usize = 20;

/// Tells on stderr what was read but not judged: skipped documents and duplicates.
#[allow(clippy::print_stderr)] // Warnings about the input, before the report.
fn warn_about_input(source: &report::SourceInfo) {
    let unparsed = source.unparsed.iter().map(|unparsed| {
        let location = &unparsed.location;
        let column = if unparsed.column > 0 { format!("{}:", unparsed.column) } else { String::new() };
        format!("{}:{}:{column} not read: {}", location.file, location.line, unparsed.reason)
    });
    warn_listed(unparsed, "documents not read");
    let skipped = source.skipped.iter().map(|skipped| {
        let location = &skipped.location;
        format!("{}:{}: skipped: {}", location.file, location.line, skipped.reason)
    });
    warn_listed(skipped, "documents skipped");
    for duplicate in &source.duplicates {
        let line = format!(
            "{}:{}: duplicate of {} read at {}:{}; judged once",
            duplicate.again.file, duplicate.again.line, duplicate.object, duplicate.first.file, duplicate.first.line
        );
        eprintln!("seaworthy: warning: {}", report::inert(&line));
    }
}

/// One warning per line, the first [`SKIPPED_SHOWN`], then how many more.
#[allow(clippy::print_stderr)] // Warnings about the input, before the report.
fn warn_listed(lines: impl ExactSizeIterator<Item = String>, what: &str) {
    let total = lines.len();
    for line in lines.take(SKIPPED_SHOWN) {
        eprintln!("seaworthy: warning: {}", report::inert(&line));
    }
    if total > SKIPPED_SHOWN {
        eprintln!("seaworthy: warning: {} more {what} (the JSON report lists them all)", total - SKIPPED_SHOWN);
    }
}

/// The `--config` file, or the defaults without one.
fn read_config(path: Option<&Path>) -> anyhow::Result<config::Config> {
    Ok(match path {
        Some(path) => config::read(path).map_err(scan::ScanError::from)?,
        None => config::Config::default(),
    })
}

async fn run_snapshot(args: &SnapshotArgs, progress: bool) -> anyhow::Result<ExitCode> {
    let config = read_config(args.config.as_deref())?;
    // A snapshot keeps facts, not the report's list of what did not parse: every
    // manifest must parse.
    let wanted = Wanted {
        manifests: &args.manifests,
        exclude: &args.exclude,
        strict: true,
        snapshot: None,
        max_bytes: args.max_input_size,
    };
    let input = input(&wanted, &args.live, &config, progress)?;
    let clock = clock()?;
    let (facts, _) = scan::read_facts(&input, clock.as_ref()).await.map_err(scan::ScanError::from)?;
    let SnapshotFormat::Json = args.format;
    let text = source::snapshot::to_text(&facts);
    match &args.output_file {
        Some(path) => write_atomically(path, |out| out.write_all(text.as_bytes())).map(drop)?,
        None => write_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Tables fit the terminal and use colour there, unless `NO_COLOR` is set.
fn table_style(to_terminal: bool) -> table::Style {
    table::Style { colour: colour(to_terminal), terminal_width: to_terminal }
}

/// Colour on a terminal unless `NO_COLOR` is set (to anything but empty).
fn colour(to_terminal: bool) -> bool {
    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// The terminal report's look: `COLUMNS` when set, else the terminal's width, else
/// [`terminal::DEFAULT_WIDTH`].
fn terminal_style(to_terminal: bool) -> terminal::Style {
    let columns = std::env::var("COLUMNS").ok().and_then(|columns| columns.trim().parse::<usize>().ok());
    let measured =
        || to_terminal.then(|| crossterm::terminal::size().ok()).flatten().map(|(columns, _)| columns.into());
    let width = columns.filter(|columns| *columns > 0).or_else(measured).unwrap_or(terminal::DEFAULT_WIDTH);
    terminal::Style { colour: colour(to_terminal), width }
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    emit_stdout(|out| out.write_all(text.as_bytes())).map(drop)
}

/// Writes what `emit` writes to stdout; returns the bytes written.
fn emit_stdout(emit: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> anyhow::Result<u64> {
    let mut out = Counted::new(std::io::BufWriter::new(std::io::stdout().lock()));
    emit(&mut out)?;
    out.flush()?;
    Ok(out.bytes)
}

/// A writer that counts the bytes it passes on.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W> Counted<W> {
    fn new(inner: W) -> Self {
        Self { inner, bytes: 0 }
    }
}

impl<W: std::io::Write> std::io::Write for Counted<W> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
