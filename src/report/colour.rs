//! Status colours, decided once per command: completed green, running and
//! in_progress yellow, failed red, interrupted magenta, pending gray, skipped
//! cyan — and none at all when stdout is not a terminal or `NO_COLOR` is set,
//! so that cron mail, pipes and files get plain text.

use crate::journal::{BatchStatus, ProgressStatus};
use comfy_table::{Cell, Color as CellColour};
use console::Style;

/// The colour a status is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tint {
    Green,
    Yellow,
    Red,
    Magenta,
    Gray,
    Cyan,
}

impl Tint {
    pub fn of_batch(status: BatchStatus) -> Tint {
        match status {
            BatchStatus::Completed => Tint::Green,
            BatchStatus::Running => Tint::Yellow,
            BatchStatus::Failed => Tint::Red,
            BatchStatus::Interrupted => Tint::Magenta,
        }
    }

    pub fn of_progress(status: ProgressStatus) -> Tint {
        match status {
            ProgressStatus::Completed => Tint::Green,
            ProgressStatus::InProgress => Tint::Yellow,
            ProgressStatus::Failed => Tint::Red,
            ProgressStatus::Pending => Tint::Gray,
            ProgressStatus::Skipped => Tint::Cyan,
        }
    }

    fn style(self) -> Style {
        let s = Style::new().force_styling(true);
        match self {
            Tint::Green => s.green(),
            Tint::Yellow => s.yellow(),
            Tint::Red => s.red(),
            Tint::Magenta => s.magenta(),
            Tint::Gray => s.color256(8),
            Tint::Cyan => s.cyan(),
        }
    }

    fn cell_colour(self) -> CellColour {
        match self {
            // The terminal's standard colours, as `console` uses them.
            Tint::Green => CellColour::DarkGreen,
            Tint::Yellow => CellColour::DarkYellow,
            Tint::Red => CellColour::DarkRed,
            Tint::Magenta => CellColour::DarkMagenta,
            Tint::Gray => CellColour::DarkGrey,
            Tint::Cyan => CellColour::DarkCyan,
        }
    }
}

/// Whether output gets colours, and the width its tables must fit (see
/// `fit.rs`). Rendering functions take one, so that they stay pure: the
/// decision is made once, at the command's edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    enabled: bool,
    width: Option<u16>,
}

impl Paint {
    /// Colours on.
    pub const COLOUR: Paint = Paint {
        enabled: true,
        width: None,
    };
    /// Plain text.
    pub const PLAIN: Paint = Paint {
        enabled: false,
        width: None,
    };

    /// Colours when stdout is a colour terminal and `NO_COLOR` is not set
    /// (`CLICOLOR=0` turns them off, `CLICOLOR_FORCE=1` on for a pipe).
    pub fn for_stdout() -> Paint {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            enabled: !no_color && console::colors_enabled(),
            width: super::fit::terminal_width(),
        }
    }

    pub fn enabled(self) -> bool {
        self.enabled
    }

    /// The same, with tables fitted to `width` columns.
    #[must_use]
    pub fn with_width(self, width: Option<u16>) -> Paint {
        Paint { width, ..self }
    }

    /// The width tables must fit, if any.
    pub fn width(self) -> Option<u16> {
        self.width
    }

    /// `text` in `tint` (or as it is).
    pub fn text(self, text: &str, tint: Tint) -> String {
        if self.enabled {
            tint.style().apply_to(text).to_string()
        } else {
            text.to_owned()
        }
    }

    /// A table cell holding `text` in `tint` (or plain).
    pub fn cell(self, text: &str, tint: Tint) -> Cell {
        let cell = Cell::new(text);
        if self.enabled {
            cell.fg(tint.cell_colour())
        } else {
            cell
        }
    }

    /// A box-drawn table that styles its cells only when colours are on.
    pub fn table(self) -> comfy_table::Table {
        let mut table = comfy_table::Table::new();
        table
            .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        if self.enabled {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paint_adds_no_escapes() {
        assert_eq!(Paint::PLAIN.text("failed", Tint::Red), "failed");
        let mut t = Paint::PLAIN.table();
        t.add_row(vec![Paint::PLAIN.cell("failed", Tint::Red)]);
        assert!(!t.to_string().contains('\x1b'));
    }

    #[test]
    fn colour_paint_wraps_in_escapes() {
        let red = Paint::COLOUR.text("failed", Tint::Red);
        assert!(red.starts_with("\x1b[31m"), "{red:?}");
        assert!(red.contains("failed"));
        let mut t = Paint::COLOUR.table();
        t.add_row(vec![Paint::COLOUR.cell("completed", Tint::Green)]);
        assert!(t.to_string().contains('\x1b'));
    }

    #[test]
    fn every_status_has_its_colour() {
        assert_eq!(Tint::of_batch(BatchStatus::Interrupted), Tint::Magenta);
        assert_eq!(Tint::of_batch(BatchStatus::Running), Tint::Yellow);
        assert_eq!(Tint::of_progress(ProgressStatus::InProgress), Tint::Yellow);
        assert_eq!(Tint::of_progress(ProgressStatus::Pending), Tint::Gray);
        assert_eq!(Tint::of_progress(ProgressStatus::Skipped), Tint::Cyan);
        assert_eq!(Tint::of_progress(ProgressStatus::Completed), Tint::Green);
        assert_eq!(Tint::of_progress(ProgressStatus::Failed), Tint::Red);
    }
}
