//! What can be wrong with a config file, said so that the operator can fix it
//! without reading the source: every error names the file and either the
//! line:column or the `[[table]]`/`[[connection]]` entry and key, what was
//! expected, and the fix. No error ever carries a secret.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read (the I/O error is the source).
    #[error("cannot read the config file {path} (pass --config PATH, set BRANCHSYNC_CONFIG, or create ./branchsync.toml from config.example.toml)")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, or TOML that does not fit the config's shape (unknown key,
    /// wrong type, missing key, bad duration …).
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A rule between keys or entries is broken and no position is known.
    #[error("{path}: {entry}: {message}")]
    Invalid {
        path: PathBuf,
        /// e.g. `[[connection]] "pgsql_lmp" key url`
        entry: String,
        message: String,
    },
    /// A rule between keys or entries is broken at this position.
    #[error("{path}:{line}:{column}: {entry}: {message}")]
    InvalidAt {
        path: PathBuf,
        line: usize,
        column: usize,
        /// e.g. `[[connection]] #3 "pgsql_lmp" key driver`
        entry: String,
        message: String,
    },
    /// The password of a server cannot be found (or `.pgpass` is unsafe).
    #[error("{entry}: {message}")]
    Secret {
        /// e.g. `[[connection]] "pgsql_lmp" key password_env`
        entry: String,
        message: String,
    },
}

impl ConfigError {
    /// The 1-based (line, column) this error points at, when it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ConfigError::Parse { line, column, .. }
            | ConfigError::InvalidAt { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// A `toml` error turned into `path:line:column: <what is wrong; the fix>`.
pub(super) fn parse_error(text: &str, path: &Path, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map(|s| s.start).unwrap_or(0);
    let (line, column) = line_col(text, at);
    let section = section_at(text, at);
    let raw = e.message().trim().replace('\n', "; ");
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message: explain(&raw, section.as_deref(), key_at(text, at).as_deref()),
    }
}

/// Reword serde/toml messages into what to write instead.
fn explain(raw: &str, section: Option<&str>, key: Option<&str>) -> String {
    let place = section.map(|s| format!("in {s}: ")).unwrap_or_default();
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let valid: Vec<&str> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| !s.is_empty())
            .collect();
        let hint = closest(name, &valid)
            .map(|s| format!(" Did you mean `{s}`?"))
            .unwrap_or_default();
        let list = if valid.is_empty() {
            String::new()
        } else {
            format!(
                " Valid keys here: {} (see config.example.toml).",
                valid.join(", ")
            )
        };
        return format!("{place}unknown key `{name}`.{hint}{list}");
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        // `journal` is the only required top-level key: its absence is
        // reported at offset 0, whatever section happens to start there.
        if section.is_none() || name == "journal" {
            return format!(
                "missing section [{name}]; add it (for [journal]: path = \"storage/sync-journal.db\"; see config.example.toml)"
            );
        }
        return format!(
            "{place}missing key `{name}`; add `{name} = …` to this section (see config.example.toml)"
        );
    }
    if let Some(rest) = raw.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let key = key.map(|k| format!("key `{k}`: ")).unwrap_or_default();
        return format!(
            "{place}{key}expected {}, found {found}",
            describe_expected(expected)
        );
    }
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let key = key.map(|k| format!("key `{k}`: ")).unwrap_or_default();
        let expected = expected.trim_start_matches(", expected ").trim();
        return format!("{place}{key}{value:?} is not allowed; expected {expected}");
    }
    if raw.starts_with("invalid value: integer `-") {
        let key = key.map(|k| format!("key `{k}`: ")).unwrap_or_default();
        return format!("{place}{key}expected a number >= 0, found a negative number");
    }
    let key = key
        .filter(|_| section.is_some())
        .map(|k| format!("key `{k}`: "))
        .unwrap_or_default();
    format!("{place}{key}{raw}")
}

fn describe_expected(expected: &str) -> String {
    match expected.trim() {
        "usize" | "u32" | "u64" | "u16" => "a whole number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a string" | "string" => "a quoted string".into(),
        "a sequence" => "an array like [\"a\", \"b\"]".into(),
        s if s.starts_with("struct ") => "a table ([section] or { … })".into(),
        s if s.starts_with("enum ") => "one of the documented words".into(),
        s => s.to_owned(),
    }
}

/// The candidate nearest to `name` by edit distance, when it is close.
pub(super) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub(crate) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// The `[section]` or `[[array]] #n` header that governs byte offset `at`,
/// found by scanning the text (the parse failed, so there is no tree).
fn section_at(text: &str, at: usize) -> Option<String> {
    let mut current: Option<String> = None;
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > at {
            break;
        }
        offset += line.len();
        let t = line.trim();
        if let Some(inner) = t.strip_prefix("[[") {
            let Some(name) = inner.split("]]").next().map(str::trim) else {
                continue;
            };
            let n = match counts.iter_mut().find(|(k, _)| k == name) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counts.push((name.to_owned(), 1));
                    1
                }
            };
            current = Some(format!("[[{name}]] #{n}"));
        } else if let Some(inner) = t.strip_prefix('[') {
            if let Some(name) = inner.split(']').next() {
                current = Some(format!("[{}]", name.trim()));
            }
        }
    }
    current
}

/// The bare key written on the line of byte offset `at` (`threads` in
/// `threads = "4"`), when there is one.
fn key_at(text: &str, at: usize) -> Option<String> {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[start..].split('\n').next().unwrap_or("");
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    ok.then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_clamps() {
        let t = "ab\ncé\nx";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 5), (2, 2)); // inside 'é' → its start
        assert_eq!(line_col(t, 999), (3, 2));
    }

    #[test]
    fn suggests_the_nearest_key() {
        assert_eq!(closest("treads", &["threads", "retries"]), Some("threads"));
        assert_eq!(closest("zzzzzz", &["threads", "retries"]), None);
    }

    #[test]
    fn finds_the_section_of_an_offset() {
        let t = "[journal]\npath = \"x\"\n[[connection]]\nname = \"a\"\n[[connection]]\nname = 1\n";
        assert_eq!(section_at(t, 5).as_deref(), Some("[journal]"));
        let at = t.rfind("name").unwrap();
        assert_eq!(section_at(t, at).as_deref(), Some("[[connection]] #2"));
        assert_eq!(key_at(t, at + 7).as_deref(), Some("name"));
    }
}
