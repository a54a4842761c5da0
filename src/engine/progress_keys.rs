//! The figures of the progress bars, formatted to fit 80 columns: whole
//! rows per second, counts grouped below a million and short above
//! (`1.25M`), a total marked `~` because it is an estimate, and no % or
//! ETA while no total is known.

use indicatif::{ProgressState, ProgressStyle};
use std::fmt::Write;

/// `12,345` below a million, `1.25M` and `3.10bn` above.
pub fn short_count(n: u64) -> String {
    match n {
        0..=999_999 => crate::report::format::thousands(n as i64),
        1_000_000..=999_999_999 => format!("{:.2}M", n as f64 / 1e6),
        _ => format!("{:.2}bn", n as f64 / 1e9),
    }
}

/// `12,345 rows/s`: whole rows, grouped like every other count (indicatif's
/// `{per_sec}` prints `113,926.8255/s`, which also wraps at 80 columns).
fn rows_per_sec(state: &ProgressState, w: &mut dyn Write) {
    let rate = state.per_sec();
    let rate = if rate.is_finite() && rate > 0.0 {
        rate.round() as u64
    } else {
        0
    };
    let _ = write!(w, "{}/s", short_count(rate));
}

/// `1,234/~50,000 rows`, or `1,234 rows` while no total is known.
fn rows(state: &ProgressState, w: &mut dyn Write) {
    let _ = write!(w, "{}", short_count(state.pos()));
    if let Some(len) = state.len().filter(|l| *l > 0) {
        let _ = write!(w, "/~{}", short_count(len));
    }
    let _ = write!(w, " rows");
}

/// ` 42%`, empty while no total is known.
fn percent(state: &ProgressState, w: &mut dyn Write) {
    if let Some(len) = state.len().filter(|l| *l > 0) {
        let p = (state.pos() as f64 * 100.0 / len as f64).min(100.0);
        let _ = write!(w, "{:>3.0}%", p.floor());
    }
}

/// `ETA 1m 20s`, empty while no total or rate is known.
fn eta(state: &ProgressState, w: &mut dyn Write) {
    let known = state.len().is_some_and(|l| l > 0) && state.per_sec() > 0.0;
    if known {
        let secs = state.eta().as_secs();
        let text = match secs {
            0..=59 => format!("{secs}s"),
            60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
            _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
        };
        let _ = write!(w, "ETA {text}");
    }
}

/// A style from `template` with the keys above (`{rows}`, `{pct}`,
/// `{rate}`, `{eta_}`).
pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rows", rows)
        .with_key("pct", percent)
        .with_key("rate", rows_per_sec)
        .with_key("eta_", eta)
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stay_short() {
        assert_eq!(short_count(999_999), "999,999");
        assert_eq!(short_count(1_250_000), "1.25M");
        assert_eq!(short_count(3_100_000_000), "3.10bn");
    }
}
