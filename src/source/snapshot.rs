//! Facts snapshots: the facts document saved as JSON by `seaworthy snapshot` and judged
//! later by `seaworthy scan --snapshot`.

use std::path::Path;

use super::SourceError;
use crate::facts::{FACTS_SCHEMA_VERSION, Facts};

/// Reads a snapshot written by `seaworthy snapshot`.
pub fn read(path: &Path, max_bytes: u64) -> Result<Facts, SourceError> {
    let shown = path.display().to_string();
    let text = super::read_regular_file(path, max_bytes)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|error| SourceError::Snapshot {
        path: shown.clone(),
        reason: format!("line {}: {error}", error.line()),
    })?;
    let version = value.get("schemaVersion").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(FACTS_SCHEMA_VERSION)) {
        let found = version.map_or_else(|| "none".to_owned(), |version| version.to_string());
        return Err(SourceError::Snapshot {
            path: shown,
            reason: format!("facts schemaVersion {found}, this seaworthy reads {FACTS_SCHEMA_VERSION}"),
        });
    }
    serde_json::from_value(value).map_err(|error| SourceError::Snapshot { path: shown, reason: error.to_string() })
}

/// The snapshot text for `facts`: pretty JSON with a trailing newline.
pub fn to_text(facts: &Facts) -> String {
    let mut text = serde_json::to_string_pretty(facts).expect("facts serialize: plain data, string keys");
    text.push('\n');
    text
}
