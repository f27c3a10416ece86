//! Tables for a terminal, as `seaworthy diff` draws them (the scan report is
//! [`super::terminal`]).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

/// Width used when the output is not a terminal, so that files and tests are stable.
const FIXED_WIDTH: u16 = 120;

/// How to draw the table.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Use colour and bold text.
    pub colour: bool,
    /// Fit the terminal's width instead of [`FIXED_WIDTH`].
    pub terminal_width: bool,
}

/// An empty table in the report's look.
pub(super) fn table(style: Style) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if style.colour {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if !style.terminal_width {
        table.set_width(FIXED_WIDTH);
    }
    table
}
