//! How numbers, durations and times look everywhere a person reads them:
//! `15,234` records, `01:02:05` durations, local `2026-11-26 15:45:22` times;
//! and text made safe inside an HTML page.
//! The journal stores UTC ISO-8601; only this module turns it into local time.

use crate::journal::parse_ts;

/// Placeholder for a figure that does not exist (yet).
pub const NOT_AVAILABLE: &str = "N/A";
/// Shown instead of a duration while the thing is still running.
pub const RUNNING: &str = "Running..";

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `15234` → `15,234`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    let lead = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    out.push_str(&digits[..lead]);
    for group in digits.as_bytes()[lead..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|&b| char::from(b)));
    }
    out
}

/// A count that may be unknown: `15,234`, or `N/A` for NULL.
pub fn maybe_thousands(n: Option<i64>) -> String {
    n.map_or_else(|| NOT_AVAILABLE.to_owned(), thousands)
}

/// Bytes in decimal units: `812 B`, `3.4 kB`, `364.0 MB`; `N/A` for NULL
/// (a path where branchsync does not see the bytes).
pub fn bytes(n: Option<i64>) -> String {
    let Some(n) = n else {
        return NOT_AVAILABLE.to_owned();
    };
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n.abs() < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v.abs() >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Seconds as `HH:MM:SS` (rounded to the second; hours grow past 99).
pub fn hms(seconds: f64) -> String {
    let total = if seconds.is_finite() && seconds > 0.0 {
        seconds.round() as u64
    } else {
        0
    };
    format!(
        "{:02}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// A journal timestamp (UTC) as local `YYYY-MM-DD HH:MM:SS`; text that does
/// not parse is shown as it is rather than hidden.
pub fn local_time(ts: &str) -> String {
    match parse_ts(ts) {
        Some(t) => t
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => ts.to_owned(),
    }
}

/// `part` of `total` in percent with one decimal: `37.5%` (`0.0%` of nothing).
pub fn percent(part: i64, total: i64) -> String {
    if total <= 0 {
        return "0.0%".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / total as f64)
}

/// `1 table`, `2 tables`.
pub fn count_of(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `n noun(s)` with thousand separators, as every table shows numbers:
/// `40,838 records`, `1 record`.
pub fn count_of_thousands(n: i64, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", thousands(n))
}

/// How a table is named to a person: the table, with its model in
/// parentheses where the config names it otherwise (`m_product (MProduct)`),
/// so that every line of a run names it the same way.
pub fn table_label(table: &str, model: &str) -> String {
    if model.is_empty() || model.eq_ignore_ascii_case(table) {
        table.to_owned()
    } else {
        format!("{table} ({model})")
    }
}

/// An error message as shown next to its connection's name: without the
/// leading `connection: ` the driver put there for the log, so the cause is
/// what the reader sees first.
pub fn error_for<'a>(message: &'a str, connection: &str) -> &'a str {
    message
        .strip_prefix(connection)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message)
}

/// What a table shows of an error message: the cause, as the driver that
/// wrote the message finds it (`database "x" does not exist`, not
/// `connecting to root@…: FATAL 3D000: …`), else the message without its
/// connection's name and without the advice after `; `. Screens that show
/// it print the whole message too (see [`error_shortened`]).
pub fn cause_for<'a>(message: &'a str, connection: &str) -> &'a str {
    let message = error_for(message, connection);
    if let Some(cause) = crate::driver::registry::cause_of(message) {
        return cause;
    }
    let end = message.find("; ").unwrap_or(message.len());
    message[..end].trim()
}

/// Is the cell of `message` (its cause, cut to `width`) less than the
/// whole message? Then the whole is printed under the table.
pub fn error_shortened(message: &str, connection: &str, width: usize) -> bool {
    cut(cause_for(message, connection), width) != error_for(message, connection)
}

/// One line of at most `max` characters: line breaks become spaces, and a
/// longer text is cut and ends with `…`.
pub fn cut(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(15234), "15,234");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn hms_rounds_and_pads() {
        assert_eq!(hms(0.0), "00:00:00");
        assert_eq!(hms(0.4), "00:00:00");
        assert_eq!(hms(59.6), "00:01:00");
        assert_eq!(hms(3725.0), "01:02:05");
        assert_eq!(hms(360000.0), "100:00:00");
        assert_eq!(hms(-3.0), "00:00:00");
        assert_eq!(hms(f64::NAN), "00:00:00");
    }

    #[test]
    fn percent_has_one_decimal() {
        assert_eq!(percent(45, 120), "37.5%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(120, 120), "100.0%");
        assert_eq!(percent(0, 0), "0.0%");
    }

    #[test]
    fn count_of_uses_the_plural_from_two() {
        assert_eq!(count_of(0, "table"), "0 tables");
        assert_eq!(count_of(1, "table"), "1 table");
        assert_eq!(count_of(2, "table"), "2 tables");
    }

    #[test]
    fn a_table_shows_the_cause_of_each_drivers_errors() {
        let pg = "pgsql_lmp: connecting to root@10.0.0.5:5432/ux_lmpx: FATAL 3D000: database \"ux_lmpx\" does not exist; this database does not exist on that server: fix the database name";
        assert_eq!(
            cause_for(pg, "pgsql_lmp"),
            "database \"ux_lmpx\" does not exist"
        );
        let pg =
            "b1: reading t: ERROR 22P02: invalid input syntax for type integer: \"x\" (detail: d)";
        assert_eq!(
            cause_for(pg, "b1"),
            "invalid input syntax for type integer: \"x\""
        );
        let refused = "b1: connecting to root@10.0.0.5:5432/erp: error connecting to server: Connection refused (os error 111); the server is unreachable";
        assert_eq!(
            cause_for(refused, "b1"),
            "Connection refused (os error 111)"
        );
        let my = "my_shop: connecting: MySqlError { ERROR 1049 (42000): Unknown database 'shop' }; check the database in the url";
        assert_eq!(cause_for(my, "my_shop"), "Unknown database 'shop'");
        let lite = "sq (SQLite file branches/x.db): the file does not exist. Check the url of [[connection]] sq in the config";
        assert_eq!(cause_for(lite, "sq"), "the file does not exist");
        // Not a driver's: the message without the name and the advice.
        assert_eq!(
            cause_for("b1: no answer for 30s; check the network", "b1"),
            "no answer for 30s"
        );
        assert!(error_shortened(pg, "b1", 50));
        assert!(!error_shortened("b1: timeout", "b1", 50));
    }

    #[test]
    fn error_for_drops_the_repeated_connection_name_only() {
        assert_eq!(
            error_for("pgsql_sby: connecting: refused", "pgsql_sby"),
            "connecting: refused"
        );
        assert_eq!(
            error_for("pgsql_sbyx: refused", "pgsql_sby"),
            "pgsql_sbyx: refused"
        );
        assert_eq!(error_for("timeout", "pgsql_sby"), "timeout");
    }

    #[test]
    fn cut_keeps_short_text_and_marks_long_text() {
        assert_eq!(cut("timeout", 60), "timeout");
        assert_eq!(cut("line one\nline  two", 60), "line one line two");
        let long = "x".repeat(100);
        let short = cut(&long, 60);
        assert_eq!(short.chars().count(), 61);
        assert!(short.ends_with('…'));
        // multi-byte characters are counted as characters, not bytes
        assert_eq!(cut("ééééé", 3), "ééé…");
    }

    #[test]
    fn local_time_shows_unparsable_text_as_is() {
        assert_eq!(local_time("yesterday"), "yesterday");
        let shown = local_time("2026-11-26T08:45:22.123Z");
        assert_eq!(shown.len(), 19, "{shown}");
        assert!(shown.ends_with(":22"), "{shown}");
    }
}
