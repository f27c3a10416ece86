//! Reads Kubernetes manifests (files, directories, stdin) into an [`Inventory`].
//!
//! Multi-document YAML and JSON (JSON is read as YAML, which it is a subset of), `List`
//! and every `*List` kind (nested too) are understood; every object remembers its file
//! and line and counts once. Documents that are not Kubernetes objects (no `apiVersion`
//! or `kind`, e.g. a Helm `values.yaml`) and kinds the facts do not use are skipped and
//! listed with their place. A document that does not parse (malformed YAML, an object
//! that does not match its kind's schema) is left out and reported as unparsed, never
//! skipped in silence; in strict mode it is an error. A document that does not parse and
//! holds `{{` is a template, skipped with how to render it.
//!
//! Texts are split at their document markers and the documents parsed on every core;
//! objects are added in input order, so results do not depend on the threads.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::iter::{IntoParallelRefIterator, ParallelIterator};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::SourceError;
use crate::inventory::{
    Availability, ClusterInfo, Duplicate, Inventory, Location, Projected, Skipped, Unparsed, project_object,
};
use crate::progress::Progress;

/// The name `-` stands for standard input.
pub const STDIN: &str = "-";
/// How stdin is named in locations and errors.
pub const STDIN_NAME: &str = "<stdin>";
/// The size limit of one input (a file, or stdin) unless `--max-input-size` says otherwise:
/// a dump of 100,000 objects is about 130 MB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

/// Reads every path (file, directory read recursively, or `-` for stdin). Only regular
/// files, directories and stdin are read: a device, FIFO or socket is refused at once,
/// also inside a directory, and no input may exceed `max_bytes`.
///
/// Strict: the first document that does not parse is an error.
pub fn read(paths: &[PathBuf], max_bytes: u64) -> Result<Inventory, SourceError> {
    let options = ReadOptions { max_bytes, exclude: Exclude::none(), strict: true };
    read_showing(paths, &options, &Progress::on_stderr(false))
}

/// How manifests are read.
#[derive(Debug)]
pub struct ReadOptions {
    /// The size limit of one input.
    pub max_bytes: u64,
    /// Paths left out.
    pub exclude: Exclude,
    /// Stop at the first document that does not parse, rather than report it and go on.
    pub strict: bool,
}

/// Paths left out of a manifest scan (`--exclude GLOB`): a file is left out when a glob
/// matches its path as shown or its path below the directory given.
#[derive(Debug)]
pub struct Exclude(globset::GlobSet);

impl Exclude {
    /// Leaves nothing out.
    pub fn none() -> Self {
        Self(globset::GlobSet::empty())
    }

    /// The globs; one that does not parse is an error.
    pub fn new(patterns: &[String]) -> Result<Self, SourceError> {
        let mut set = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let glob = globset::Glob::new(pattern)
                .map_err(|error| SourceError::Exclude { pattern: pattern.clone(), reason: error.kind().to_string() })?;
            set.add(glob);
        }
        let set = set
            .build()
            .map_err(|error| SourceError::Exclude { pattern: patterns.join(" "), reason: error.to_string() })?;
        Ok(Self(set))
    }

    fn leaves_out(&self, root: &Path, file: &Path) -> bool {
        self.0.is_match(file) || file.strip_prefix(root).is_ok_and(|below| self.0.is_match(below))
    }
}

/// Reads every path as [`read`] does, as `options` say, telling `progress` how many
/// documents were read.
pub fn read_showing(paths: &[PathBuf], options: &ReadOptions, progress: &Progress) -> Result<Inventory, SourceError> {
    let ReadOptions { max_bytes, ref exclude, strict } = *options;
    let mut reader = Reader { progress: Some(progress), strict, ..Reader::default() };
    reader.inventory.cluster = ClusterInfo { name: "manifests".into(), ..ClusterInfo::default() };
    // Texts are parsed a batch at a time, the documents of all its files on every core,
    // and added in the order they were read; a batch is freed before the next is read.
    // A large text is read a part at a time, so it is never held whole.
    let mut batch = Batch::default();
    for path in paths {
        if path.as_os_str() == STDIN {
            batch.stream(&mut reader, STDIN_NAME, std::io::stdin().lock(), max_bytes)?;
            continue;
        }
        let files = files_under(path).map(|files| {
            let (kept, left_out): (Vec<PathBuf>, Vec<PathBuf>) =
                files.into_iter().partition(|file| !exclude.leaves_out(path, file));
            if !left_out.is_empty() {
                tracing::info!(files = left_out.len(), under = %path.display(), "left out by --exclude");
            }
            let (kept, unrendered) = unrendered(kept);
            reader.inventory.skipped.extend(unrendered);
            kept
        });
        for file in batch.settle(&mut reader, files)? {
            let shown = file.display().to_string();
            let opened = crate::walk::open_file(&file, max_bytes).map_err(|unread| super::unread_error(&shown, unread));
            let opened = batch.settle(&mut reader, opened)?;
            batch.stream(&mut reader, &shown, std::io::BufReader::new(opened), max_bytes)?;
        }
    }
    batch.flush(&mut reader)?;
    Ok(reader.finish())
}

/// Texts read but not yet parsed.
#[derive(Default)]
struct Batch {
    texts: Vec<(Arc<str>, Part)>,
    bytes: usize,
}

impl Batch {
    /// Parse once this much text is waiting: enough documents to keep every core busy.
    const BYTES: usize = 8 << 20;

    /// Reads `input` (named `file`) a part at a time, each part waiting in the batch.
    fn stream(
        &mut self,
        reader: &mut Reader<'_>,
        file: &str,
        input: impl std::io::BufRead,
        max_bytes: u64,
    ) -> Result<(), SourceError> {
        let mut parts = Parts::new(input, max_bytes, Self::BYTES);
        // One name for every object of the file, shared by their locations.
        let shared: Arc<str> = Arc::from(file);
        loop {
            let part = parts.next_part().map_err(|unread| super::unread_error(file, unread));
            let Some(part) = self.settle(reader, part)? else { return Ok(()) };
            self.bytes += part.text.len();
            self.texts.push((Arc::clone(&shared), part));
            if self.bytes >= Self::BYTES {
                self.flush(reader)?;
            }
        }
    }

    /// `result`, after the waiting texts are parsed if it is an error, so that errors
    /// come in the order of the inputs.
    fn settle<T>(&mut self, reader: &mut Reader<'_>, result: Result<T, SourceError>) -> Result<T, SourceError> {
        if result.is_err() {
            self.flush(reader)?;
        }
        result
    }

    fn flush(&mut self, reader: &mut Reader<'_>) -> Result<(), SourceError> {
        let texts = std::mem::take(&mut self.texts);
        self.bytes = 0;
        reader.read_texts(&texts)
    }
}

/// A run of whole documents of a text, and the line of the text it starts on.
struct Part {
    first_line: u32,
    text: String,
}

/// Reads a text in parts of about `part_bytes`, each cut just before a line that starts
/// a document (`---`), so that a part parses on its own as it would in the whole text.
/// Once a line starts with a directive (`%`) or a document end (`...`), the rest of the
/// text is one part: a directive belongs to the document after it. A text never yields
/// fewer than one part (an empty file is one empty part).
struct Parts<R> {
    /// Bounded at one byte past the limit, which tells that the input is larger: without
    /// the bound, a line that never ends (`/dev/zero`) is read forever.
    input: std::io::Take<R>,
    max_bytes: u64,
    part_bytes: usize,
    read: u64,
    pending: Vec<u8>,
    pending_first_line: u32,
    pending_lines: u32,
    /// The rest of the text is one part.
    whole: bool,
    yielded: bool,
}

impl<R: std::io::BufRead> Parts<R> {
    fn new(input: R, max_bytes: u64, part_bytes: usize) -> Self {
        Self {
            input: input.take(max_bytes.saturating_add(1)),
            max_bytes,
            part_bytes,
            read: 0,
            pending: Vec::new(),
            pending_first_line: 1,
            pending_lines: 0,
            whole: false,
            yielded: false,
        }
    }

    fn next_part(&mut self) -> Result<Option<Part>, crate::walk::Unread> {
        use crate::walk::Unread;
        use std::io::BufRead as _;
        let mut line = Vec::new();
        loop {
            line.clear();
            let length = self.input.read_until(b'\n', &mut line).map_err(Unread::Io)?;
            self.read += length as u64;
            if self.read > self.max_bytes {
                return Err(Unread::TooLarge(self.max_bytes));
            }
            if length == 0 {
                if self.yielded && self.pending.is_empty() {
                    return Ok(None);
                }
                return self.take_pending(Vec::new()).map(Some);
            }
            self.whole = self.whole || keeps_text_whole(&line);
            let cut = !self.whole
                && self.pending.len() >= self.part_bytes
                && std::str::from_utf8(&line).is_ok_and(is_document_start);
            if cut {
                let next = std::mem::take(&mut line);
                return self.take_pending(next).map(Some);
            }
            self.pending.extend_from_slice(&line);
            self.pending_lines += u32::from(line.ends_with(b"\n"));
        }
    }

    /// The pending text as a part; `next` (a line, or nothing at the end) starts the next.
    fn take_pending(&mut self, next: Vec<u8>) -> Result<Part, crate::walk::Unread> {
        let first_line = self.pending_first_line;
        self.pending_first_line = first_line.saturating_add(self.pending_lines);
        self.pending_lines = u32::from(next.ends_with(b"\n"));
        let bytes = std::mem::replace(&mut self.pending, next);
        self.yielded = true;
        let text = String::from_utf8(bytes).map_err(|error| {
            crate::walk::Unread::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text (in the part from line {first_line}): {error}"),
            ))
        })?;
        Ok(Part { first_line, text })
    }
}

/// Reads one manifest text on its own, as a whole source (for tests and fixtures);
/// strict, as [`read`].
pub fn read_str(file: &str, text: &str) -> Result<Inventory, SourceError> {
    let mut reader = Reader { strict: true, ..Reader::default() };
    reader.read_texts(&[(Arc::from(file), Part { first_line: 1, text: text.to_owned() })])?;
    Ok(reader.finish())
}

/// The files a path stands for: itself, or the `.yaml`/`.yml`/`.json` files below a
/// directory. Anything that is neither a regular file nor a directory is refused.
fn files_under(path: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let read_error = |path: &Path, source| SourceError::Read { path: path.display().to_string(), source };
    let metadata = std::fs::metadata(path).map_err(|source| read_error(path, source))?;
    let files = if metadata.is_dir() {
        crate::walk::files_below(path, &["yaml", "yml", "json"]).map_err(|(path, source)| read_error(&path, source))?
    } else {
        vec![path.to_path_buf()]
    };
    // Every file is checked before any is read, so a FIFO deep in a directory is refused
    // at once rather than after minutes of reading.
    for file in &files {
        let metadata = std::fs::metadata(file).map_err(|source| read_error(file, source))?;
        super::refuse_special(file, &metadata)?;
    }
    Ok(files)
}

/// Takes out the files of Helm charts and kustomizations, which are templates and
/// patches rather than the objects they render to: one skip per directory (at its
/// `Chart.yaml` or `kustomization.yaml`), saying how to render it.
fn unrendered(files: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<Skipped>) {
    let marker = |file: &Path| match file.file_name().and_then(|name| name.to_str()) {
        Some("Chart.yaml" | "Chart.yml") => Some("helm template"),
        Some("kustomization.yaml" | "kustomization.yml" | "Kustomization") => Some("kubectl kustomize"),
        _ => None,
    };
    let roots: Vec<(PathBuf, PathBuf, &str)> =
        files.iter().filter_map(|file| Some((file.parent()?.to_path_buf(), file.clone(), marker(file)?))).collect();
    let skipped = roots
        .iter()
        .map(|(root, file, render)| {
            let shown = root.display();
            let what = if *render == "helm template" { "a Helm chart" } else { "a kustomization" };
            Skipped {
                location: Location { file: file.display().to_string().into(), line: 1 },
                reason: format!(
                    "{what}, not objects: render it first (`{render} {shown} | seaworthy scan --manifests -`)"
                ),
            }
        })
        .collect();
    let kept = files.into_iter().filter(|file| !roots.iter().any(|(root, ..)| file.starts_with(root))).collect();
    (kept, skipped)
}

/// Documents parsed in parallel before their objects are added.
const WINDOW: usize = 1024;

/// Gathers the objects of every document read, once each.
#[derive(Default)]
struct Reader<'p> {
    /// Told the number of documents read.
    progress: Option<&'p Progress>,
    /// A document that does not parse is an error rather than reported.
    strict: bool,
    documents_read: usize,
    inventory: Inventory,
    kinds_seen: KindsSeen,
    /// Where each object was first read, by a digest of its [`Meta::identity`]: the
    /// identities as text (100,000 of them, 14 MB) were held through the whole read.
    first_read: HashMap<IdentityDigest, Location>,
}

/// The first 128 bits of the SHA-256 of an identity: a collision, which would make one
/// object hide another, cannot be found on purpose.
type IdentityDigest = [u8; 16];

fn identity_digest(identity: &str) -> IdentityDigest {
    let digest = ring::digest::digest(&ring::digest::SHA256, identity.as_bytes());
    digest.as_ref()[..16].try_into().expect("SHA-256 has 32 bytes")
}

impl Reader<'_> {
    /// Parses the documents of `texts` (`(file, text)` pairs) on every core and adds
    /// their objects in input order; the first error in input order is returned.
    fn read_texts(&mut self, texts: &[(Arc<str>, Part)]) -> Result<(), SourceError> {
        let documents: Vec<(&Arc<str>, Document<'_>)> = texts
            .iter()
            .flat_map(|(file, part)| {
                documents(&part.text, part.first_line).into_iter().map(move |document| (file, document))
            })
            .collect();
        // A window at a time, so that only a window's projections wait to be added.
        for window in documents.chunks(WINDOW) {
            let strict = self.strict;
            let read: Vec<Result<Vec<Read>, SourceError>> =
                window.par_iter().map(|(file, document)| read_document(file, document, strict)).collect();
            for entries in read {
                for entry in entries? {
                    self.add(entry);
                }
            }
            self.documents_read += window.len();
            if let Some(progress) = self.progress {
                progress.say(format!("reading manifests: {} documents", self.documents_read));
            }
        }
        Ok(())
    }

    /// Adds one object, once, or one skipped document.
    fn add(&mut self, entry: Read) {
        let (projected, location) = match entry {
            Read::Skipped(skipped) => return self.inventory.skipped.push(skipped),
            Read::Removed(removed) => return self.inventory.removed_apis.items.push(*removed),
            Read::Unparsed(error) => return self.inventory.unparsed.push(unparsed(error)),
            Read::Object(projected, location) => (*projected, location),
        };
        let identity = projected.meta().identity();
        let digest = identity_digest(&identity);
        if let Some(first) = self.first_read.get(&digest) {
            self.inventory.duplicates.push(Duplicate { object: identity, first: first.clone(), again: location });
            return;
        }
        self.first_read.insert(digest, location);
        self.kinds_seen.note(&projected);
        self.inventory.add(projected);
    }

    fn finish(mut self) -> Inventory {
        self.kinds_seen.mark(&mut self.inventory);
        self.inventory.shrink_to_fit();
        self.inventory
    }
}

/// A reading error as the report lists it.
fn unparsed(error: SourceError) -> Unparsed {
    let at = |file: String, line| Location { file: file.into(), line };
    match error {
        SourceError::Malformed { file, line, column, reason } => {
            Unparsed { location: at(file, line), column, reason: format!("malformed YAML: {reason}") }
        }
        SourceError::InvalidObject { file, line, reason } => Unparsed { location: at(file, line), column: 0, reason },
        other => Unparsed { location: at(String::new(), 0), column: 0, reason: other.to_string() },
    }
}

/// What a document held: an object, or a place that was skipped.
enum Read {
    /// Boxed: a projection is ten times the size of a skip.
    Object(Box<Projected>, Location),
    Skipped(Skipped),
    /// A document written against a removed API version (besides its object or skip).
    Removed(Box<crate::inventory::RemovedApi>),
    /// A document, or an object of a list, that could not be read: a
    /// [`SourceError::Malformed`] or [`SourceError::InvalidObject`].
    Unparsed(SourceError),
}

/// A part of a text that the YAML parser can read on its own, and the line it starts on.
struct Document<'t> {
    first_line: u32,
    text: &'t str,
}

impl Document<'_> {
    /// A line of this part as a line of the whole text (0, "unknown", stays 0).
    fn line(&self, line: u32) -> u32 {
        if line == 0 { 0 } else { line.saturating_add(self.first_line - 1) }
    }
}

/// Splits a text where a document starts: a line that is `---`, alone or followed by a
/// blank. YAML forbids such a line inside any scalar or collection, so each part parses
/// on its own as it would in the whole text (anchors do not cross documents). A text
/// with directives (`%YAML`) or document-end markers (`...`) stays whole.
fn documents(text: &str, first_line: u32) -> Vec<Document<'_>> {
    let mut starts = vec![0];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if keeps_text_whole(line.as_bytes()) {
            starts.truncate(1);
            break;
        }
        if offset > 0 && is_document_start(line) {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut first_line = first_line;
    let mut parts = Vec::with_capacity(starts.len());
    for (index, start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        let part = &text[*start..end];
        parts.push(Document { first_line, text: part });
        first_line = first_line.saturating_add(saturate(part.matches('\n').count() as u64));
    }
    parts
}

/// A directive (`%YAML`) or a document end (`...`): from such a line on, a text is not
/// split, since a directive belongs to the document after it.
fn keeps_text_whole(line: &[u8]) -> bool {
    line.starts_with(b"%") || line.starts_with(b"...")
}

fn is_document_start(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Parses one part of a file into what it holds, in order: objects with their places,
/// skipped documents, and what could not be read. A YAML error ends the part (the parser
/// cannot go on past it) but keeps what was read before it; strict, it is the result.
/// A part that holds `{{` and does not read is a template, skipped whole. Pure, so that
/// parts are read on any thread.
fn read_document(file: &Arc<str>, document: &Document<'_>, strict: bool) -> Result<Vec<Read>, SourceError> {
    let mut read = Vec::new();
    if let Err(error) = read_objects(file, document, &mut read) {
        read.push(Read::Unparsed(error));
    }
    let Some(first) = read.iter().position(|entry| matches!(entry, Read::Unparsed(_))) else { return Ok(read) };
    if document.text.contains("{{") {
        let reason = "a Helm template, not objects: render its chart first (`helm template CHART | seaworthy scan --manifests -`)";
        let location = Location { file: Arc::clone(file), line: document.first_line };
        return Ok(vec![Read::Skipped(Skipped { location, reason: reason.into() })]);
    }
    match read.swap_remove(first) {
        Read::Unparsed(error) if strict => Err(error),
        entry => {
            read.insert(first, entry);
            Ok(read)
        }
    }
}

/// Reads the objects of one part of a file into `read`, stopping at the first problem.
fn read_objects(file: &Arc<str>, document: &Document<'_>, read: &mut Vec<Read>) -> Result<(), SourceError> {
    let malformed = |error: &serde_saphyr::Error| {
        let problem = crate::yaml::describe(error);
        SourceError::Malformed {
            file: file.to_string(),
            line: document.line(problem.line),
            column: problem.column,
            reason: problem.reason,
        }
    };
    // Where each `items[]` entry of a list starts takes a pass of its own, which keeps
    // only line numbers; a text without the word `List` can hold no list.
    let item_lines: Vec<ItemLines> = if document.text.contains("List") {
        serde_saphyr::from_multiple_with_options(document.text, crate::yaml::manifest_options())
            .map_err(|error| malformed(&error))?
    } else {
        Vec::new()
    };
    // Documents are parsed, projected and dropped one at a time: memory holds one
    // document and the compact projections, never the text's documents.
    let mut input = document.text.as_bytes();
    let parsed =
        serde_saphyr::read_with_options::<_, Spanned<serde_json::Value>>(&mut input, crate::yaml::manifest_options());
    for (index, value) in parsed.enumerate() {
        let value = value.map_err(|error| malformed(&error))?;
        let line = document.line(saturate(value.referenced.line()));
        let lines = item_lines.get(index).map_or(&[][..], |lines| lines.0.as_slice());
        expand(file, line, value.value, lines, document, read);
    }
    Ok(())
}

/// One parsed document: an object, or every item of a list (lists nest).
fn expand(
    file: &Arc<str>,
    line: u32,
    mut value: serde_json::Value,
    item_lines: &[ItemLine],
    document: &Document<'_>,
    read: &mut Vec<Read>,
) {
    let location = Location { file: Arc::clone(file), line };
    if is_list(&value) {
        // Items are moved out one by one and projected: each is freed once read.
        let items = match value.get_mut("items").map(serde_json::Value::take) {
            Some(serde_json::Value::Array(items)) => items,
            _ => Vec::new(),
        };
        for (position, item) in items.into_iter().enumerate() {
            let (item_line, nested) = item_lines
                .get(position)
                .map_or((line, &[][..]), |entry| (document.line(entry.line), entry.items.as_slice()));
            expand(file, item_line, item, nested, document, read);
        }
        return;
    }
    let text = |key: &str| value.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let skip = |reason: String| Read::Skipped(Skipped { location: location.clone(), reason });
    if api_version.is_empty() || kind.is_empty() {
        read.push(skip("not a Kubernetes object (no apiVersion or kind)".into()));
        return;
    }
    if let Some((removed_in, replacement)) = crate::inventory::removed::removed_in(&api_version, &kind) {
        let text_at = |pointer: &str| value.pointer(pointer).and_then(serde_json::Value::as_str).map(str::to_owned);
        let meta = crate::inventory::Meta {
            api_version: api_version.clone().into(),
            kind: kind.clone().into(),
            namespace: text_at("/metadata/namespace"),
            name: text_at("/metadata/name").unwrap_or_default(),
            location: Some(location.clone()),
            ..crate::inventory::Meta::default()
        };
        read.push(Read::Removed(Box::new(crate::inventory::RemovedApi {
            meta,
            removed_in,
            replacement,
            last_applied: false,
        })));
    }
    read.push(match project_object(value, Some(&location)) {
        Ok(Some(projected)) => Read::Object(Box::new(projected), location),
        Ok(None) => skip(format!("{api_version} {kind} is not a kind seaworthy reads")),
        // One object that does not match its schema; the items of a list beside it are read.
        Err(error) => {
            Read::Unparsed(SourceError::InvalidObject { file: file.to_string(), line, reason: error.to_string() })
        }
    });
}

/// `List` (what `kubectl get -o json` writes) and every typed `*List` kind.
fn is_list(document: &serde_json::Value) -> bool {
    kind_of(document).is_some_and(|kind| kind.ends_with("List"))
        && document.get("items").is_none_or(serde_json::Value::is_array)
}

/// Line numbers beyond `u32` do not occur in files anyone reads; clamp rather than panic.
fn saturate(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

fn kind_of(value: &serde_json::Value) -> Option<&str> {
    value.get("kind").and_then(serde_json::Value::as_str)
}

/// Which kinds of objects appeared, to tell "there are none" from "this source cannot
/// show them" (a Helm chart has no Nodes, which says nothing about the cluster's nodes).
#[derive(Debug, Default)]
struct KindsSeen {
    nodes: bool,
    namespaces: bool,
    rbac_bindings: bool,
    apiserver_endpoints: bool,
    kubelet_configs: bool,
}

impl KindsSeen {
    fn note(&mut self, object: &Projected) {
        match object {
            Projected::Node(_) => self.nodes = true,
            Projected::Namespace(_) => self.namespaces = true,
            Projected::Binding(_) => self.rbac_bindings = true,
            Projected::EndpointSlice(slice) if slice.is_apiserver() => self.apiserver_endpoints = true,
            Projected::KubeletConfig(_) => self.kubelet_configs = true,
            // A kubelet run in a pod: its flags are a kubelet configuration.
            Projected::Workload(workload)
                if workload.pod.containers.iter().any(|container| {
                    crate::inventory::kubelet::kubelet_arguments(&container.command, &container.args).is_some()
                }) =>
            {
                self.kubelet_configs = true;
            }
            _ => {}
        }
    }

    /// Marks what manifests cannot show. Workloads, Services and PDBs are always
    /// collected: the manifests are the whole set of them under review.
    fn mark(&self, inventory: &mut Inventory) {
        if !self.nodes {
            inventory.nodes.availability =
                Availability::not_collected("not part of this source: no Node objects in the manifests");
        }
        if !self.namespaces {
            let reason = "not part of this source: no Namespace objects in the manifests";
            inventory.namespaces.availability = Availability::not_collected(reason);
            inventory.network_policies.availability = Availability::not_collected(reason);
            inventory.namespace_limits.availability = Availability::not_collected(reason);
        }
        if !self.kubelet_configs {
            inventory.kubelet_configs.availability =
                Availability::not_collected("not part of this source: no KubeletConfiguration in the manifests");
        }
        if !self.apiserver_endpoints {
            inventory.apiserver_endpoints.availability = Availability::not_collected(
                "not part of this source: no EndpointSlice of the default/kubernetes Service in the manifests",
            );
        }
        if !self.rbac_bindings {
            let reason = "not part of this source: no RoleBinding or ClusterRoleBinding objects in the manifests";
            inventory.roles.availability = Availability::not_collected(reason);
            inventory.bindings.availability = Availability::not_collected(reason);
        }
    }
}

/// Where each `items[]` entry of a list document starts, with the entries of lists
/// nested in it; empty for any other document.
#[derive(Default)]
struct ItemLines(Vec<ItemLine>);

/// One list entry: its start line and, when it is a list itself, its own entries.
struct ItemLine {
    line: u32,
    items: Vec<ItemLine>,
}

impl<'de> Deserialize<'de> for ItemLines {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemLinesVisitor)
    }
}

struct ItemLinesVisitor;

impl<'de> Visitor<'de> for ItemLinesVisitor {
    type Value = ItemLines;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemLines, A::Error> {
        let mut lines = Vec::new();
        while let Some(key) = map.next_key::<serde_json::Value>()? {
            if key.as_str() == Some("items") {
                let items: Option<Vec<Spanned<ItemLines>>> = map.next_value()?;
                lines = items
                    .into_iter()
                    .flatten()
                    .map(|item| ItemLine { line: saturate(item.referenced.line()), items: item.value.0 })
                    .collect();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(ItemLines(lines))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemLines, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ItemLines::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn inventory_of(text: &str) -> Result<Inventory, SourceError> {
        read_str("test.yaml", text)
    }

    #[test]
    fn a_mirror_pod_is_known_by_its_annotation_alone() {
        let pod = |annotations: &str| {
            let text = format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: kube-system, annotations: {annotations}}}\n"
            );
            inventory_of(&text).expect("a valid pod").workloads.items[0].meta.mirror
        };
        assert!(pod("{kubernetes.io/config.mirror: abc123, kubernetes.io/config.source: file}"));
        assert!(!pod("{kubernetes.io/config.source: file}"), "another annotation");
        assert!(!pod("{}"));
    }

    #[test]
    fn only_kube_system_keeps_arguments() {
        let container = "containers: [{name: c, image: 'registry.k8s.io/kube-apiserver:v1.31.1', command: [kube-apiserver, --anonymous-auth=true], args: [--v=2]}]";
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: kube-apiserver-a, namespace: kube-system}}\nspec: {{{container}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: tenant, namespace: shop}}\nspec: {{{container}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n    metadata: {{labels: {{app: a}}}}\n    spec: {{{container}}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: kube-system}}\nspec:\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n    metadata: {{labels: {{app: a}}}}\n    spec: {{{container}}}\n"
        );
        let inventory = inventory_of(&text).expect("valid manifests");
        let arguments = |name: &str| {
            let workload = inventory.workloads.items.iter().find(|workload| workload.meta.name == name).expect(name);
            let container = &workload.pod.containers[0];
            (container.command.len(), container.args.len())
        };
        // Control-plane components are pods in kube-system: theirs are read as flags,
        // and kube-system's controllers keep theirs to be compared with their pods'.
        assert_eq!(arguments("kube-apiserver-a"), (2, 1));
        assert_eq!(arguments("agent"), (2, 1));
        // No other workload's arguments are read by any fact: none are kept.
        assert_eq!(arguments("tenant"), (0, 0));
        assert_eq!(arguments("app"), (0, 0));
    }

    #[test]
    fn documents_remember_their_lines() {
        let text = "# header\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}\n---\n\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b, namespace: x}\n";
        let inventory = inventory_of(text).expect("valid manifests");
        let lines: Vec<u32> = inventory
            .service_accounts
            .items
            .iter()
            .map(|account| account.meta.location.as_ref().expect("manifests have locations").line)
            .collect();
        assert_eq!(lines, vec![3, 8]);
    }

    #[test]
    fn list_items_remember_their_own_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: x}\n";
        let inventory = inventory_of(text).expect("valid list");
        assert_eq!(inventory.service_accounts.items[0].meta.location.as_ref().map(|l| l.line), Some(4));
        assert_eq!(inventory.namespaces.items[0].meta.location.as_ref().map(|l| l.line), Some(7));
    }

    #[test]
    fn json_is_read_like_yaml() {
        let text = "{\"apiVersion\": \"v1\",\n \"kind\": \"Namespace\",\n \"metadata\": {\"name\": \"x\"}}";
        let inventory = inventory_of(text).expect("valid json");
        assert_eq!(inventory.namespaces.items[0].meta.name, "x");
    }

    #[test]
    fn malformed_yaml_names_file_line_and_column() {
        let error =
            inventory_of("apiVersion: v1\nkind: Pod\n---\nmetadata: [a,\n  b: c\n").expect_err("unclosed bracket");
        let message = error.to_string();
        assert!(message.starts_with("test.yaml:4:"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }

    #[test]
    fn wrongly_typed_fields_are_errors_not_skips() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: many\n";
        let message = inventory_of(text).expect_err("replicas must be a number").to_string();
        assert!(message.starts_with("test.yaml:1: invalid Deployment:"), "{message}");
        // What no fact reads is skipped unread, whatever its type.
        let unread = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  creationTimestamp: 42\n  annotations: {checksum: 7}\n  managedFields: none\nspec:\n  replicas: 2\nstatus: broken\n";
        let inventory = inventory_of(unread).expect("unread fields are not decoded");
        assert_eq!(inventory.workloads.items[0].replicas, Some(2));
    }

    #[test]
    fn large_dumps_are_read_whole() {
        // More documents than serde-saphyr's default budget of 1,024 allows.
        let text = (0..2_000).fold(String::new(), |mut text, index| {
            let _ = write!(
                text,
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{index}, namespace: x}}\n"
            );
            text
        });
        let inventory = inventory_of(&text).expect("a large dump reads");
        assert_eq!(inventory.service_accounts.items.len(), 2_000);
    }

    #[test]
    fn alias_bombs_are_still_refused() {
        // 150 aliases of one anchor: far beyond the alias-to-anchor ratio serde-saphyr allows.
        let aliases = vec!["*a"; 150].join(", ");
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: [{aliases}]\n"
        );
        let error = inventory_of(&text).expect_err("amplification is refused");
        assert!(error.to_string().contains("budget breached"), "{error}");
    }

    #[test]
    fn documents_without_kind_and_unknown_kinds_are_skipped_with_their_lines() {
        let text =
            "replicaCount: 3\n---\n- a\n- b\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
        let inventory = inventory_of(text).expect("skippable documents");
        assert!(inventory.workloads.items.is_empty());
        let skipped: Vec<(u32, &str)> =
            inventory.skipped.iter().map(|entry| (entry.location.line, entry.reason.as_str())).collect();
        assert_eq!(
            skipped,
            vec![
                (1, "not a Kubernetes object (no apiVersion or kind)"),
                (3, "not a Kubernetes object (no apiVersion or kind)"),
                (6, "example.com/v1 Widget is not a kind seaworthy reads"),
            ]
        );
    }

    #[test]
    fn nested_and_typed_lists_keep_their_item_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccountList\n  items:\n  - apiVersion: v1\n    kind: ServiceAccount\n    metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: b, namespace: x}\n";
        let inventory = inventory_of(text).expect("nested list");
        let lines: Vec<(String, u32)> = inventory
            .service_accounts
            .items
            .iter()
            .map(|account| (account.meta.name.clone(), account.meta.location.as_ref().map_or(0, |l| l.line)))
            .collect();
        assert_eq!(lines, vec![("a".to_owned(), 7), ("b".to_owned(), 10)]);
    }

    #[test]
    fn an_object_read_twice_is_kept_once_and_reported() {
        let document = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}\n";
        let inventory = inventory_of(&format!("{document}---\n{document}")).expect("valid");
        assert_eq!(inventory.service_accounts.items.len(), 1);
        assert_eq!(inventory.duplicates.len(), 1);
        assert_eq!((inventory.duplicates[0].first.line, inventory.duplicates[0].again.line), (1, 5));
        // Same name in another namespace: two objects.
        let other = document.replace("namespace: x", "namespace: other");
        assert_eq!(inventory_of(&format!("{document}---\n{other}")).expect("valid").service_accounts.items.len(), 2);
    }

    /// Reads a text as one part, the way it was read before texts were split.
    fn read_whole(text: &str) -> Result<Inventory, SourceError> {
        let mut reader = Reader { strict: true, ..Reader::default() };
        for entry in read_document(&Arc::from("test.yaml"), &Document { first_line: 1, text }, true)? {
            reader.add(entry);
        }
        Ok(reader.finish())
    }

    /// Reads a text through [`Parts`] of `part_bytes`, as a large file is read.
    fn read_in_parts(text: &str, part_bytes: usize) -> Result<Inventory, SourceError> {
        let mut reader = Reader { strict: true, ..Reader::default() };
        let mut parts = Parts::new(text.as_bytes(), u64::MAX, part_bytes);
        while let Some(part) = parts.next_part().map_err(|unread| super::super::unread_error("test.yaml", unread))? {
            reader.read_texts(&[(Arc::from("test.yaml"), part)])?;
        }
        Ok(reader.finish())
    }

    #[test]
    fn a_large_text_is_read_in_parts_of_whole_documents() {
        let account =
            |name: usize| format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: a{name}, namespace: x}}\n");
        let text = (0..100).map(|index| format!("---\n{}", account(index))).collect::<Vec<_>>().concat();
        let mut parts = Parts::new(text.as_bytes(), u64::MAX, 200);
        let mut lines = Vec::new();
        while let Some(part) = parts.next_part().expect("readable") {
            // Each part is whole documents, at most the part size and one document more.
            assert!(part.text.starts_with("---\n") && part.text.len() < 200 + 80, "{}", part.text);
            lines.push(part.first_line);
        }
        assert_eq!(lines.len(), 34, "{lines:?}");
        assert_eq!(&lines[..3], &[1, 13, 25], "parts count lines from the top of the text");
        // Errors in a later part name the line of the whole text; control: whole.
        let broken = format!("{text}---\nmetadata: [a,\n  b: c\n");
        let error = read_in_parts(&broken, 200).expect_err("malformed").to_string();
        assert!(error.starts_with("test.yaml:402:11:"), "{error}");
        assert_eq!(read_str("test.yaml", &broken).expect_err("malformed").to_string(), error);
        // An empty text is one empty part, as an empty file always was.
        let mut parts = Parts::new(&b""[..], u64::MAX, 200);
        assert!(parts.next_part().expect("readable").is_some_and(|part| part.text.is_empty()));
        assert!(parts.next_part().expect("readable").is_none());
        // The limit holds for a line that never ends.
        let mut parts = Parts::new(std::io::BufReader::new(std::io::repeat(b'a')), 100, 200);
        assert!(matches!(parts.next_part(), Err(crate::walk::Unread::TooLarge(100))));
    }

    #[test]
    fn a_text_split_at_its_documents_reads_as_it_does_whole() {
        let account =
            |name: &str| format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: x}}\n");
        let texts = [
            format!("# header\n\n---\n{}---\n\n{}", account("a"), account("b")),
            format!("{}---\n---\n--- \n{}", account("a"), account("b")),
            format!("---\r\n{}", account("a").replace('\n', "\r\n")),
            format!("{}--- {{apiVersion: v1, kind: Namespace, metadata: {{name: x}}}}\n", account("a")),
            // `---` indented, inside a block scalar: not a document start.
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  x: |\n    a\n    ---\n    b\n---\n{}",
                account("a")
            ),
            // Directives and `...` keep the text whole.
            format!("%YAML 1.2\n---\n{}...\n---\n{}", account("a"), account("b")),
            format!(
                "---\n{}---\napiVersion: v1\nkind: List\nitems:\n- {}",
                account("a"),
                account("b").replace('\n', "\n  ").trim_end()
            ),
            // A duplicate across parts, and a malformed part after a good one.
            format!("{}---\n{}", account("a"), account("a")),
            format!("{}---\n{}---\nmetadata: [a,\n  b: c\n", account("a"), account("b")),
            format!(
                "{}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec: {{replicas: many}}\n",
                account("a")
            ),
        ];
        for text in &texts {
            let whole = format!("{:?}", read_whole(text));
            assert_eq!(format!("{:?}", read_str("test.yaml", text)), whole, "{text}");
            // Read a part at a time, cut at every document the rules allow.
            assert_eq!(format!("{:?}", read_in_parts(text, 1)), whole, "{text}");
        }
        // The split is real: three parts, and lines count from the top of the text.
        let parts = documents(&texts[0], 1);
        assert_eq!(parts.iter().map(|part| part.first_line).collect::<Vec<_>>(), vec![1, 3, 7]);
        let error = read_str("test.yaml", &texts[8]).expect_err("malformed").to_string();
        assert!(error.starts_with("test.yaml:9:11:"), "{error}");
    }
}
