//! Where each entry and key sits in the config text, so that a rule broken
//! between keys (checked after parsing) can still be reported as
//! `file:line:column` instead of only by entry.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

type Keys = BTreeMap<String, Spanned<toml::Value>>;

/// A section of the config: the place a rule is checked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Journal,
    Log,
    Engine,
    Target,
    /// `[[connection]]` by index.
    Connection(usize),
    /// `[[table]]` by index.
    Table(usize),
}

/// Byte spans of the sections and of their keys' values.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Spans {
    /// Each `[[table]]`'s `sources` entries (a key inside a key, which
    /// `Keys` keeps only as a whole).
    #[serde(skip)]
    sources: Vec<Keys>,
    #[serde(default)]
    journal: Option<Spanned<Keys>>,
    #[serde(default)]
    log: Option<Spanned<Keys>>,
    #[serde(default)]
    engine: Option<Spanned<Keys>>,
    #[serde(default)]
    target: Option<Spanned<Keys>>,
    #[serde(default)]
    connection: Vec<Spanned<Keys>>,
    #[serde(default)]
    table: Vec<Spanned<Keys>>,
}

impl Spans {
    /// The spans of `text`, which already parsed as a config; empty when the
    /// text cannot be read this way (positions are then left out).
    pub(super) fn read(text: &str) -> Spans {
        #[derive(Default, Deserialize)]
        struct Tables {
            #[serde(default)]
            table: Vec<TableSources>,
        }
        #[derive(Default, Deserialize)]
        struct TableSources {
            #[serde(default)]
            sources: Keys,
        }
        let mut spans: Spans = toml::from_str(text).unwrap_or_default();
        let tables: Tables = toml::from_str(text).unwrap_or_default();
        spans.sources = tables.table.into_iter().map(|t| t.sources).collect();
        spans
    }

    fn section(&self, section: Section) -> Option<&Spanned<Keys>> {
        match section {
            Section::Journal => self.journal.as_ref(),
            Section::Log => self.log.as_ref(),
            Section::Engine => self.engine.as_ref(),
            Section::Target => self.target.as_ref(),
            Section::Connection(i) => self.connection.get(i),
            Section::Table(i) => self.table.get(i),
        }
    }

    /// The byte offset of `key`'s value in `section`; of the section itself
    /// when the key is absent (or not given). `sources.<name>` is an entry
    /// of a `[[table]]`'s `sources`.
    pub(super) fn offset(&self, section: Section, key: Option<&str>) -> Option<usize> {
        let keys = self.section(section)?;
        if let (Section::Table(i), Some(conn)) =
            (section, key.and_then(|k| k.strip_prefix("sources.")))
        {
            let entry = self.sources.get(i).and_then(|s| s.get(conn));
            if let Some(v) = entry {
                return Some(v.span().start);
            }
        }
        let value = key.and_then(|k| keys.get_ref().get(k));
        Some(value.map_or(keys.span().start, |v| v.span().start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_sections() {
        let t = "[journal]\npath = \"j.db\"\n\n[[connection]]\nname = \"a\"\n\n[[connection]]\nname = \"b\"\ndriver = \"x\"\n";
        let s = Spans::read(t);
        let at = s.offset(Section::Connection(1), Some("driver")).unwrap();
        assert!(t[at..].starts_with("\"x\""));
        let at = s.offset(Section::Connection(1), Some("url")).unwrap();
        assert!(t[at..].starts_with("[[connection]]\nname = \"b\""));
        assert_eq!(s.offset(Section::Table(0), None), None);
        let at = s.offset(Section::Journal, Some("path")).unwrap();
        assert!(t[at..].starts_with("\"j.db\""));
    }

    #[test]
    fn finds_the_entries_of_sources_inline_or_as_a_table() {
        let t = "[[table]]\nmodel = \"A\"\nsources = { b = \"x.a\" }\n\n[[table]]\nmodel = \"C\"\n\n[table.sources]\nd = \"y.c\"\n";
        let s = Spans::read(t);
        let at = s.offset(Section::Table(0), Some("sources.b")).unwrap();
        assert!(t[at..].starts_with("\"x.a\""));
        let at = s.offset(Section::Table(1), Some("sources.d")).unwrap();
        assert!(t[at..].starts_with("\"y.c\""));
    }
}
