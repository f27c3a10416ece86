//! The JSON report: the [`Report`] envelope, pretty-printed.

use super::Report;

/// Renders the report as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("the report serializes: plain data, string keys");
    text.push('\n');
    text
}
