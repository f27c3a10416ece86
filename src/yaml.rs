//! YAML reading limits, and one-line descriptions of YAML errors for messages of the
//! form `file:line: reason`.

/// Where a YAML error is and what it says, without serde-saphyr's source snippet.
pub struct YamlProblem {
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
    /// The message on one line, without the location prefix.
    pub reason: String,
}

/// Describes a serde-saphyr error on one line.
pub fn describe(error: &serde_saphyr::Error) -> YamlProblem {
    let clamp = |number: u64| u32::try_from(number).unwrap_or(u32::MAX);
    let location = error.location();
    let text = error.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // The location is reported separately: drop the "line L column C: " prefix.
    let reason = match first.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest,
        _ => first,
    };
    // serde's own messages end with the location too.
    let reason = match reason.rfind(" at line ") {
        Some(index) if reason[index..].contains(", column ") => &reason[..index],
        _ => reason,
    };
    YamlProblem {
        line: location.map_or(0, |location| clamp(location.line())),
        column: location.map_or(0, |location| clamp(location.column())),
        reason: reason.to_owned(),
    }
}

/// Parser options for manifests. serde-saphyr's defaults (1,024 documents, 250,000 nodes,
/// 64 MiB of scalars) fit configuration files but not a `kubectl get -A -o yaml` dump of
/// a large cluster or a big `helm template`. The file is already in memory, so size
/// limits buy nothing here; the protections against amplification (aliases, anchors,
/// merge keys, nesting depth) keep their defaults.
pub fn manifest_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: usize::MAX,
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
        },
    }
}
