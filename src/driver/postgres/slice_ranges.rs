//! Later levels of a comparison read only the wanted buckets' rows: as key
//! ranges through an index on the key, instead of a scan of the slice.
//!
//! A range scan is only as good as the index behind it, so it is used only
//! when the table has a btree index whose columns, after the columns the
//! slice fixes by equality (the branch), start with the key columns, read as
//! they are stored (no cast), and order them as the buckets do: text parts
//! only under a `"C"` or `"POSIX"` collation in a UTF-8 database (byte
//! order), named or the database's default. Otherwise each range would be a scan of its own, and the whole
//! slice is scanned once instead.
//!
//! Integer keys travel as `int8` ranges, inclusive at both ends. Other keys
//! travel as text, one array per key column and end, `[lo, hi)` compared as
//! rows; the ranges open at the low or high end of the key space (the first
//! and last bucket) read `key < hi` and `key >= lo` on their own.

use super::ident::quote_ident;
use super::slice::Slice;
use crate::driver::checksum::{Buckets, KeyText};
use postgres::types::ToSql;

/// The wanted buckets of a level as key ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ranges {
    /// Integer keys: inclusive `int8` bounds.
    Int { lo: Vec<i64>, hi: Vec<i64> },
    /// Any other indexed key: `[lo, hi)` per range, plus the open ends.
    Keyed {
        lo: Vec<KeyText>,
        hi: Vec<KeyText>,
        /// `key < hi` when the first bucket is wanted.
        below: Option<KeyText>,
        /// `key >= lo` when the last bucket is wanted.
        above: Option<KeyText>,
    },
}

/// The indexes of a table, each as its column names and their collation
/// names, in index order (an expression column has an empty name; the
/// database's default collation is named by its `LC_COLLATE`, so a
/// database created with `"C"` orders its text keys in bytes).
pub(super) const INDEXES_SQL: &str = "SELECT \
     ARRAY(SELECT coalesce(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
           LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), \
     ARRAY(SELECT coalesce(CASE WHEN c.collname = 'default' THEN \
                  (SELECT d.datcollate::text FROM pg_database d WHERE d.datname = current_database()) \
                  ELSE c.collname::text END, '') \
           FROM unnest(i.indcollation::oid[]) WITH ORDINALITY AS k(n, o) \
           LEFT JOIN pg_collation c ON c.oid = k.n ORDER BY k.o), \
     current_setting('server_encoding') \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam \
     WHERE i.indrelid = to_regclass($1) AND am.amname = 'btree' AND i.indpred IS NULL";

impl Slice {
    /// Whether one of `indexes` (columns and collations, as
    /// [`INDEXES_SQL`] reads them) serves key ranges; `utf8` when the
    /// server's encoding is UTF-8.
    pub(super) fn index_serves_ranges(
        &self,
        indexes: &[(Vec<String>, Vec<String>)],
        utf8: bool,
    ) -> bool {
        let names = &self.key_names;
        let raw = self
            .key_at
            .iter()
            .zip(names)
            .all(|(&i, name)| self.columns[i] == format!("t.{}", quote_ident(name)));
        if !raw {
            return false;
        }
        indexes.iter().any(|(cols, colls)| {
            let skip = cols
                .iter()
                .take_while(|c| self.fixed.contains(c) && !names.contains(c))
                .count();
            cols.len() >= skip + names.len()
                && names.iter().enumerate().all(|(n, name)| {
                    let (ty, text) = &self.key_types[n];
                    cols[skip + n] == *name
                        && (!text
                            || utf8
                                && ty != "citext"
                                && matches!(
                                    colls.get(skip + n).map(String::as_str),
                                    Some("C" | "POSIX")
                                ))
                })
        })
    }

    /// The wanted buckets of `level` as key ranges (adjacent buckets
    /// merged), when the key is indexed and the level does not want every
    /// bucket (the levels after the first hold the differing buckets' parts
    /// and, between them, unwanted gaps as large as the rest of the slice).
    pub(super) fn ranges(&self, level: &Buckets) -> Option<Ranges> {
        if !self.indexed || level.bounds.is_empty() || level.wanted.len() > level.bounds.len() {
            return None;
        }
        if self.single_int() {
            return self.int_ranges(level);
        }
        // Runs of adjacent wanted buckets, as bucket numbers [from, to].
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &w in &level.wanted {
            let w = w as usize;
            match runs.last_mut() {
                Some(last) if last.1 + 1 == w => last.1 = w,
                _ => runs.push((w, w)),
            }
        }
        let last = level.bounds.len();
        let (mut lo, mut hi, mut below, mut above) = (Vec::new(), Vec::new(), None, None);
        for (from, to) in runs {
            match (from == 0, to == last) {
                (true, true) => return None,
                (true, false) => below = Some(level.bounds[to].clone()),
                (false, true) => above = Some(level.bounds[from - 1].clone()),
                (false, false) => {
                    lo.push(level.bounds[from - 1].clone());
                    hi.push(level.bounds[to].clone());
                }
            }
        }
        Some(Ranges::Keyed {
            lo,
            hi,
            below,
            above,
        })
    }

    fn int_ranges(&self, level: &Buckets) -> Option<Ranges> {
        let bound = |i: usize| -> Option<i64> { level.bounds[i][0].parse::<i64>().ok() };
        let (mut lo, mut hi): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
        for &w in &level.wanted {
            let w = w as usize;
            let from = if w == 0 { i64::MIN } else { bound(w - 1)? };
            let to = if w == level.bounds.len() {
                i64::MAX
            } else {
                bound(w)?.checked_sub(1)?
            };
            match hi.last_mut() {
                Some(last) if last.checked_add(1) == Some(from) => *last = to,
                _ => {
                    lo.push(from);
                    hi.push(to);
                }
            }
        }
        Some(Ranges::Int { lo, hi })
    }

    /// The parameters of [`Self::ranges`], in the order [`Self::range_scan`]
    /// numbers them.
    pub(super) fn range_params(ranges: &Ranges, out: &mut Vec<Box<dyn ToSql + Sync>>) {
        match ranges {
            Ranges::Int { lo, hi } => {
                out.push(Box::new(lo.clone()));
                out.push(Box::new(hi.clone()));
            }
            Ranges::Keyed {
                lo,
                hi,
                below,
                above,
            } => {
                let parts = lo
                    .first()
                    .or(hi.first())
                    .or(below.as_ref())
                    .or(above.as_ref())
                    .map_or(0, Vec::len);
                for list in [lo, hi] {
                    for n in 0..parts {
                        let col: Vec<String> = list.iter().map(|k| k[n].clone()).collect();
                        out.push(Box::new(col));
                    }
                }
                for end in [below, above] {
                    for n in 0..parts {
                        let v: Option<String> = end.as_ref().map(|k| k[n].clone());
                        out.push(Box::new(v));
                    }
                }
            }
        }
    }

    /// How many parameters [`Self::range_params`] adds.
    pub(super) fn range_param_count(&self, ranges: &Ranges) -> usize {
        match ranges {
            Ranges::Int { .. } => 2,
            Ranges::Keyed { .. } => 4 * self.key_at.len(),
        }
    }

    /// The slice's rows in `ranges` as a `FROM` item's body (`t.*`), the
    /// range parameters numbered from `$first`.
    pub(super) fn range_scan(&self, ranges: &Ranges, first: usize) -> String {
        if let Ranges::Int { .. } = ranges {
            let k = &self.columns[self.key_at[0]];
            return format!(
                "SELECT t.* FROM unnest(${}::int8[], ${}::int8[]) AS r(lo, hi) \
                 CROSS JOIN LATERAL (SELECT t.* FROM {} t{} OFFSET 0) t",
                first,
                first + 1,
                self.table,
                self.where_with(&[format!("{k} >= r.lo"), format!("{k} <= r.hi")]),
            );
        }
        let parts = self.key_at.len();
        let key = self.row_of(
            &self
                .key_at
                .iter()
                .map(|&i| self.columns[i].clone())
                .collect::<Vec<_>>(),
        );
        let typed = |v: &dyn Fn(usize) -> String| -> String {
            self.row_of(
                &(0..parts)
                    .map(|n| format!("{}::{}", v(n), self.key_types[n].0))
                    .collect::<Vec<_>>(),
            )
        };
        let unnest: Vec<String> = (0..2 * parts)
            .map(|n| format!("${}::text[]", first + n))
            .collect();
        let names: Vec<String> = (0..parts)
            .map(|n| format!("l{n}"))
            .chain((0..parts).map(|n| format!("h{n}")))
            .collect();
        let lo = typed(&|n| format!("r.l{n}"));
        let hi = typed(&|n| format!("r.h{n}"));
        let below = typed(&|n| format!("${}::text", first + 2 * parts + n));
        let above = typed(&|n| format!("${}::text", first + 3 * parts + n));
        format!(
            "SELECT t.* FROM unnest({}) AS r({}) CROSS JOIN LATERAL (SELECT t.* FROM {} t{} OFFSET 0) t \
             UNION ALL SELECT t.* FROM {} t{} UNION ALL SELECT t.* FROM {} t{}",
            unnest.join(", "),
            names.join(", "),
            self.table,
            self.where_with(&[format!("{key} >= {lo}"), format!("{key} < {hi}")]),
            self.table,
            self.where_with(&[format!("{key} < {below}")]),
            self.table,
            self.where_with(&[format!("{key} >= {above}")]),
        )
    }

    /// A row constructor of `parts`, or the part itself when there is one.
    fn row_of(&self, parts: &[String]) -> String {
        if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("ROW({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{Column, ColumnKind, NativeType};

    fn slice(cols: &[(&str, &str)], key: &[&str]) -> Slice {
        let columns: Vec<Column> = cols
            .iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                kind: ColumnKind::Text,
                native: NativeType::new(super::super::schema::DIALECT, *t),
                nullable: false,
            })
            .collect();
        let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
        let mut s = Slice::new("t".into(), Vec::new(), &columns, &key, None).unwrap();
        s.fixed = vec!["branch".into()];
        s
    }

    fn index(cols: &[&str], colls: &[&str]) -> (Vec<String>, Vec<String>) {
        (
            cols.iter().map(|c| c.to_string()).collect(),
            colls.iter().map(|c| c.to_string()).collect(),
        )
    }

    #[test]
    fn an_index_serves_ranges_when_it_leads_with_the_key_in_byte_order() {
        let s = slice(
            &[("grp", "integer"), ("code", "text"), ("v", "text")],
            &["grp", "code"],
        );
        let c = |coll: &str| index(&["branch", "grp", "code"], &["", "", coll]);
        assert!(s.index_serves_ranges(&[c("C")], true));
        assert!(s.index_serves_ranges(&[c("POSIX")], true));
        assert!(
            !s.index_serves_ranges(&[c("en-x-icu")], true),
            "not byte order"
        );
        assert!(
            !s.index_serves_ranges(&[c("default")], true),
            "the database's own"
        );
        assert!(
            !s.index_serves_ranges(&[c("C")], false),
            "LATIN1 bytes are not UTF-8's"
        );
        let other_order = index(&["code", "grp"], &["C", ""]);
        assert!(!s.index_serves_ranges(&[other_order], true));
        let longer = index(&["grp", "code", "v"], &["", "C", "C"]);
        assert!(s.index_serves_ranges(&[longer], true));
        assert!(!s.index_serves_ranges(&[], true), "no index");
        let ints = slice(&[("id", "numeric(10,0)")], &["id"]);
        assert!(ints.index_serves_ranges(&[index(&["id", "branch"], &["", ""])], true));
        assert!(
            !ints.index_serves_ranges(&[index(&["", "id"], &["", ""])], true),
            "an expression first"
        );
    }

    #[test]
    fn wanted_buckets_become_ranges_with_open_ends_apart() {
        let mut s = slice(&[("code", "text")], &["code"]);
        s.indexed = true;
        let b = |v: &str| vec![v.to_owned()];
        let level = Buckets {
            bounds: vec![b("b"), b("d"), b("f"), b("h")],
            wanted: vec![0, 2, 3, 4],
            origin: Vec::new(),
        };
        assert_eq!(
            s.ranges(&level),
            Some(Ranges::Keyed {
                lo: vec![],
                hi: vec![],
                below: Some(b("b")),
                above: Some(b("d")),
            })
        );
        let inner = Buckets {
            wanted: vec![1, 3],
            ..level.clone()
        };
        assert_eq!(
            s.ranges(&inner),
            Some(Ranges::Keyed {
                lo: vec![b("b"), b("f")],
                hi: vec![b("d"), b("h")],
                below: None,
                above: None,
            })
        );
        assert_eq!(
            s.ranges(&Buckets {
                wanted: vec![0, 1, 2, 3, 4],
                ..level.clone()
            }),
            None,
            "everything"
        );
        s.indexed = false;
        assert_eq!(s.ranges(&inner), None, "no index: one scan");
    }
}
