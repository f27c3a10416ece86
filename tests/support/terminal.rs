//! The terminal report as a terminal shows it: rendered with colour, and drawn as a
//! page of styled spans for the screenshot in `docs/`.

use std::fmt::Write as _;

use seaworthy::report::terminal;

/// The terminal report of `manifests` at `width` columns with colour on, with the
/// clock the binary's tests run with.
pub fn coloured_terminal_report(manifests: &str, width: usize) -> String {
    let (_, report) = super::judged(manifests);
    terminal::render(&report, terminal::Style { colour: true, width }, &terminal::Show::default())
}

/// The text without its ANSI styles (SGR sequences, all the report writes).
pub fn unstyled(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("\u{1b}[") {
        plain.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('m').expect("an SGR sequence ends with m");
        rest = &after[end + 1..];
    }
    plain.push_str(rest);
    plain
}

/// A page that shows `text` as a dark terminal does, its SGR styles (bold, dim, the
/// eight colours, reset) as spans.
pub fn ansi_page(text: &str) -> String {
    let palette = ["#2e3436", "#ef5350", "#8ae234", "#fce94f", "#729fcf", "#d58ee6", "#34e2e2", "#eeeeec"];
    let mut body = String::new();
    let (mut bold, mut dim, mut colour): (bool, bool, Option<usize>) = (false, false, None);
    let mut rest = text;
    loop {
        let (chunk, next) = match rest.find("\u{1b}[") {
            Some(start) => (&rest[..start], Some(start)),
            None => (rest, None),
        };
        let escaped = chunk.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut style = String::new();
        if bold {
            style.push_str("font-weight:bold;");
        }
        if dim {
            style.push_str("opacity:0.7;");
        }
        if let Some(colour) = colour {
            let _ = write!(style, "color:{};", palette[colour]);
        }
        let _ = write!(body, "<span style=\"{style}\">{escaped}</span>");
        let Some(start) = next else { break };
        let after = &rest[start + 2..];
        let end = after.find('m').expect("an SGR sequence ends with m");
        for code in after[..end].split(';') {
            match code.parse::<usize>().unwrap_or(0) {
                0 => (bold, dim, colour) = (false, false, None),
                1 => bold = true,
                2 => dim = true,
                code @ 30..=37 => colour = Some(code - 30),
                _ => {}
            }
        }
        rest = &after[end + 1..];
    }
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{{margin:0;background:#1e1e1e;color:#d0d0d0}}pre{{margin:0;padding:14px;font:13px/1.35 'DejaVu Sans Mono',monospace}}</style></head><body><pre>{body}</pre></body></html>"
    )
}
