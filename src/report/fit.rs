//! Box tables that fit the terminal. A table wider than the terminal wraps
//! every row and becomes unreadable, so a view states which of its columns
//! matter least: those are dropped first, one by one, until the table fits;
//! what is still too wide then wraps inside its cells. Output that is not a
//! terminal keeps every column (unless `COLUMNS` says a width): scripts read
//! `--json`, and a pipe into a file or a mail has no width to fit.

use super::colour::Paint;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

/// A table before it is laid out: its header, rows, which columns align
/// right, and which to drop first when space runs out.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// Column indexes aligned right (figures).
    pub right: Vec<usize>,
    /// Column indexes in the order they are dropped (least useful first).
    pub drop_order: Vec<usize>,
    /// Column indexes never wrapped: names a person copies (a batch id).
    pub whole: Vec<usize>,
}

impl Grid {
    pub fn new(header: Vec<&'static str>) -> Grid {
        Grid {
            header,
            ..Grid::default()
        }
    }

    /// The table laid out for `width` columns (`None`: no limit).
    pub fn render(&self, paint: Paint, width: Option<u16>) -> Table {
        let mut kept: Vec<usize> = (0..self.header.len()).collect();
        let mut drops = self.drop_order.iter();
        loop {
            let table = self.build(paint, &kept, None);
            let Some(width) = width else {
                return table;
            };
            if widest_line(&table) <= width as usize {
                return table;
            }
            match drops.next() {
                Some(col) => kept.retain(|c| c != col),
                None => return self.build(paint, &kept, Some(width)),
            }
        }
    }

    fn build(&self, paint: Paint, kept: &[usize], wrap_at: Option<u16>) -> Table {
        let mut table = paint.table();
        if let Some(w) = wrap_at {
            table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w);
        }
        table.set_header(kept.iter().map(|&c| self.header[c]).collect::<Vec<_>>());
        for row in &self.rows {
            table.add_row(
                kept.iter()
                    .map(|&c| row.get(c).cloned().unwrap_or_else(|| Cell::new("")))
                    .collect::<Vec<_>>(),
            );
        }
        for (i, c) in kept.iter().enumerate() {
            if self.whole.contains(c) {
                if let Some(col) = table.column_mut(i) {
                    col.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
                }
            }
            if self.right.contains(c) {
                if let Some(col) = table.column_mut(i) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
        }
        table
    }
}

/// The width tables must fit: the terminal's when stdout is one, else
/// `COLUMNS` when set, else none.
pub fn terminal_width() -> Option<u16> {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c >= 20)
    {
        return Some(cols);
    }
    let term = console::Term::stdout();
    if term.is_term() {
        return term.size_checked().map(|(_, cols)| cols);
    }
    None
}

fn widest_line(table: &Table) -> usize {
    table
        .to_string()
        .lines()
        .map(console::measure_text_width)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let mut g = Grid::new(vec!["Name", "Status", "Extra", "Error"]);
        g.drop_order = vec![2];
        g.right = vec![2];
        for i in 0..3 {
            g.rows.push(vec![
                Cell::new(format!("pgsql_branch_{i}")),
                Cell::new("failed"),
                Cell::new("12,345,678 bytes"),
                Cell::new("connection refused by the server at 10.1.0.5:5432 after 3 tries"),
            ]);
        }
        g
    }

    fn widest(t: &Table) -> usize {
        widest_line(t)
    }

    #[test]
    fn without_a_width_every_column_stays() {
        let t = grid().render(Paint::PLAIN, None);
        let text = t.to_string();
        assert!(text.contains("Extra") && text.contains("12,345,678 bytes"));
        assert!(widest(&t) > 80);
    }

    #[test]
    fn a_narrow_terminal_drops_the_stated_columns_first_then_wraps() {
        let t = grid().render(Paint::PLAIN, Some(80));
        let text = t.to_string();
        assert!(widest(&t) <= 80, "{text}");
        assert!(!text.contains("Extra"), "dropped first: {text}");
        assert!(text.contains("Name") && text.contains("Error"), "{text}");
        // the error wrapped instead of being lost
        assert!(text.contains("after 3") || text.contains("tries"), "{text}");
    }

    #[test]
    fn a_wide_terminal_keeps_everything() {
        let t = grid().render(Paint::PLAIN, Some(200));
        assert!(t.to_string().contains("Extra"));
    }
}
