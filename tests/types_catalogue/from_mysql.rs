//! The MySQL catalogue (`my_families.rs`) as a branch: synced into a
//! PostgreSQL, a SQLite and a MySQL central in every mode, twice, and each
//! value compared in meaning with the original (`my_meaning.rs`). Values
//! with a documented rule are checked against that rule: zero dates and a
//! `TINYINT(1)` holding neither 0 nor 1 reject their row (the reject file
//! names the reason, the central lacks the row), NUL in text and `\u0000`
//! in JSON fail the table at a PostgreSQL central, naming the column.

use crate::catalogue::sync_twice;
use crate::my_families::{self, MY_FAMILIES, MY_REJECTS};
use crate::my_meaning::same_meaning;
use crate::world::{untagged, Db, Entry, World, MODES};
use std::collections::HashMap;

const BRANCH: &str = "my_cat";

/// The MySQL catalogue in a new database.
pub fn catalogue(name: &str) -> Db {
    let db = Db::mysql(name);
    db.exec(&my_families::sql());
    db
}

fn entries() -> Vec<Entry> {
    MY_FAMILIES
        .iter()
        .flat_map(|(t, _, _, _)| Entry::all_modes(t, t, "id"))
        .collect()
}

pub fn type_count(db: &Db) -> usize {
    MY_FAMILIES
        .iter()
        .map(|(t, _, _, _)| db.types(t).len() - 2)
        .sum()
}

/// Per mode: values in the catalogue, values that arrived equal in meaning,
/// and values whose documented rule was checked instead.
#[derive(Default)]
pub struct Tally {
    pub per_mode: Vec<(&'static str, usize, usize, usize)>,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn finish(self, pair: &str, types: usize) {
        for (mode, total, equal, ruled) in &self.per_mode {
            eprintln!(
                "catalogue {pair} {mode}: {types} types, {total} values, {} passed \
                 ({equal} arrived equal in meaning, {ruled} followed the documented rule)",
                equal + ruled
            );
        }
        assert!(
            self.failures.is_empty(),
            "[{pair}] {} failure(s):\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The rejected ids of `table` and what their reason says, if any.
fn rejected(table: &str) -> (&'static [i64], &'static str) {
    MY_REJECTS
        .iter()
        .find(|(t, _, _)| *t == table)
        .map_or((&[], ""), |(_, ids, says)| (*ids, *says))
}

/// The reject file of `<table>_<mode>` holds exactly `ids`, each with a
/// reason saying `says`.
fn check_rejects(w: &World, table: &str, mode: &str, ids: &[i64], says: &str) -> Vec<String> {
    let target = format!("{table}_{mode}");
    let mut found: Vec<i64> = Vec::new();
    let mut failures = Vec::new();
    let rejects = w.dir.path().join("storage/rejects");
    let batches = std::fs::read_dir(&rejects).into_iter().flatten();
    for batch in batches {
        let file = batch.unwrap().path().join(format!("{BRANCH}.{target}.csv"));
        let Ok(mut csv) = csv::Reader::from_path(&file) else {
            continue;
        };
        let header = csv.headers().unwrap().clone();
        let id_at = header.iter().position(|h| h == "id").unwrap();
        for record in csv.records() {
            let record = record.unwrap();
            if !record[0].contains(says) {
                failures.push(format!("{target}: reject reason {:?}", &record[0]));
            }
            found.push(record[id_at].parse().unwrap());
        }
    }
    found.sort_unstable();
    found.dedup();
    if found != ids {
        failures.push(format!("{target}: rejected ids {found:?}, want {ids:?}"));
    }
    failures
}

/// Compares every family of the central with the original. `refused`
/// names the families whose tables fail at this central (they must hold
/// no row); rejected rows must be absent and in the reject file.
pub fn compare(w: &World, refused: &[&str], tally: &mut Tally) {
    let orig = &w.branches[0].1;
    for mode in MODES {
        let (mut total, mut equal, mut ruled) = (0, 0, 0);
        for (table, _, _, _) in MY_FAMILIES {
            let (types, cols) = orig.value_columns(table);
            let target = format!("{table}_{mode}");
            let got: HashMap<String, Vec<Option<String>>> = w
                .central
                .rows(&target, "id", &cols)
                .into_iter()
                .map(|r| (untagged(r[0].as_deref().unwrap()).to_owned(), r))
                .collect();
            let (ids, says) = rejected(table);
            if refused.contains(table) {
                if !got.is_empty() {
                    tally.failures.push(format!("{target} holds rows"));
                }
            } else if !ids.is_empty() {
                tally
                    .failures
                    .extend(check_rejects(w, table, mode, ids, says));
            }
            for want in orig.rows(table, "id", &cols) {
                let id = want[0].clone().unwrap();
                let row = got.get(&id);
                let by_rule = refused.contains(table) || ids.contains(&id.parse().unwrap());
                for (i, (name, ty)) in types.iter().enumerate() {
                    let Some(w) = want[i + 1].as_deref() else {
                        continue;
                    };
                    total += 1;
                    if by_rule {
                        if row.is_some() {
                            tally.failures.push(format!("{target} id {id}: arrived"));
                        } else {
                            ruled += 1;
                        }
                        continue;
                    }
                    let g = row.and_then(|r| r[i + 1].as_deref()).map(untagged);
                    if same_meaning(ty, name, Some(w), g) {
                        equal += 1;
                    } else {
                        tally
                            .failures
                            .push(format!("{target}.{name} ({ty}) id {id}: {g:?} for {w:?}"));
                    }
                }
            }
        }
        tally.per_mode.push((mode, total, equal, ruled));
    }
}

/// The MySQL catalogue in branch database `name`, synced twice into
/// `central` and compared; `refused`: `(family, what its error says)`
/// for the tables that fail at this central.
fn from_mysql(name: &str, central: Db, refused: &[(&str, &str)]) -> (Tally, usize) {
    let orig = catalogue(name);
    let types = type_count(&orig);
    let dir = tempfile::tempdir().unwrap();
    let w = World::new(dir, vec![(BRANCH.into(), orig)], central, &entries());
    let mut tally = Tally::default();
    sync_twice(&w, &mut tally.failures);
    for (family, says) in refused {
        for mode in MODES {
            let failed = format!("round 1 {BRANCH}/{family}_{mode}: failed");
            match tally.failures.iter().find(|f| f.starts_with(&failed)) {
                Some(hit) if hit.contains(says) => {}
                hit => tally.failures.push(format!(
                    "{family}_{mode} did not fail saying {says:?}: {hit:?}"
                )),
            }
        }
        tally
            .failures
            .retain(|f| !f.contains(&format!("{BRANCH}/{family}_")));
    }
    let refused: Vec<&str> = refused.iter().map(|(f, _)| *f).collect();
    compare(&w, &refused, &mut tally);
    (tally, types)
}

#[test]
fn mysql_to_postgres() {
    let (tally, types) = from_mysql(
        "cat_mp_src",
        Db::pg("cat_mp_central"),
        &[("my_nul", "c_text")],
    );
    tally.finish("mysql→postgres", types);
}

#[test]
fn mysql_to_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let central = Db::sqlite(dir.path(), "cat_ms_central");
    let (tally, types) = from_mysql("cat_ms_src", central, &[]);
    tally.finish("mysql→sqlite", types);
    drop(dir);
}

#[test]
fn mysql_to_mysql() {
    let (tally, types) = from_mysql("cat_mm_src", Db::mysql("cat_mm_central"), &[]);
    tally.finish("mysql→mysql", types);
}
