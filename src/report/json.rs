//! The JSON report: the [`Report`] envelope, pretty-printed.

use super::Report;

/// Renders the report as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut text = Vec::new();
    write(report, &mut text).expect("the report serializes: plain data, string keys");
    String::from_utf8(text).expect("JSON is UTF-8")
}

/// Writes the report as [`render`] does, as it is serialized.
pub fn write(report: &Report, mut out: impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")
}
