//! The story's tables and rows, written once and created natively in either
//! dialect: the same logical columns (integer key, awkward text, a 2-decimal
//! amount, a timestamp cursor, a nullable text, a boolean flag, bytes) with
//! ids that collide across branches and content that differs per branch.

use chrono::{NaiveDate, NaiveDateTime};

/// The tables of the story, each with its own purpose.
pub const ITEM: &str = "m_item"; // full
pub const DEAL: &str = "c_deal"; // upsert
pub const EVENT: &str = "c_event"; // incremental on `updated`
pub const LOOSE: &str = "c_loose"; // no primary key constraint, NULL keys
pub const EMPTY: &str = "c_empty"; // zero rows
pub const MIRROR: &str = "c_mirror"; // mirror

/// Rows per branch in each seeded table.
pub const ROWS: i64 = 24;

/// The `[[table]]` entries of the story's config.
pub const TABLES: &str = r#"
[[table]]
model = "MItem"
source = "m_item"
key = ["m_item_id"]
mode = "full"

[[table]]
model = "CDeal"
source = "c_deal"
key = ["c_deal_id"]
mode = "upsert"

[[table]]
model = "CEvent"
source = "c_event"
key = ["c_event_id"]
mode = "incremental"
cursor = "updated"

[[table]]
model = "CLoose"
source = "c_loose"
key = ["c_loose_id"]
mode = "upsert"

[[table]]
model = "CEmpty"
source = "c_empty"
key = ["c_empty_id"]
mode = "full"

[[table]]
model = "CMirror"
source = "c_mirror"
key = ["c_mirror_id"]
mode = "mirror"
"#;

/// The table's DDL in `driver`'s dialect; `primary_key = false` leaves the
/// key column unconstrained (NULLs allowed).
pub fn ddl(driver: &str, table: &str, primary_key: bool) -> String {
    let pk = if primary_key { " PRIMARY KEY" } else { "" };
    match driver {
        "postgres" => format!(
            "CREATE TABLE {table} ({table}_id integer{pk}, name varchar(200) NOT NULL, \
             amount numeric(12,2), updated timestamp NOT NULL, note text, \
             flag boolean NOT NULL, payload bytea)"
        ),
        "sqlite" => format!(
            "CREATE TABLE {table} ({table}_id INTEGER{pk}, name VARCHAR(200) NOT NULL, \
             amount NUMERIC(12,2), updated TIMESTAMP NOT NULL, note TEXT, \
             flag BOOLEAN NOT NULL, payload BLOB)"
        ),
        "mysql" => format!(
            "CREATE TABLE {table} ({table}_id INT{pk}, name VARCHAR(200) NOT NULL, \
             amount DECIMAL(12,2), updated DATETIME(6) NOT NULL, note TEXT, \
             flag BOOLEAN NOT NULL, payload BLOB) CHARACTER SET utf8mb4"
        ),
        other => panic!("no story DDL for driver {other}"),
    }
}

/// One logical row of a story table.
#[derive(Debug, Clone)]
pub struct StoryRow {
    pub id: Option<i64>,
    pub name: String,
    /// Exact decimal text with two decimals.
    pub amount: Option<String>,
    pub updated: NaiveDateTime,
    pub note: Option<String>,
    pub flag: bool,
    pub payload: Option<Vec<u8>>,
}

/// Text that breaks naive quoting, COPY escaping or CSV: unicode (4-byte
/// too), quotes, tab, newlines, CR, backslashes, COPY's NULL marker `\N`
/// and end marker `\.`, SQL injection, blanks.
pub const AWKWARD: &[&str] = &[
    "café ünïcödé 日本語 🚀",
    "it's \"quoted\"",
    "tab\there",
    "new\nline and\r\nCRLF",
    "back\\slash \\\\ double",
    "\\N",
    "\\.",
    "a\"; DROP TABLE x;--",
    "  padded  ",
    "comma, semi; pipe| <b>&amp;",
];

const AMOUNTS: &[&str] = &[
    "12.50",
    "0.00",
    "-3.10",
    "9999999999.99",
    "0.01",
    "1234567.89",
    "100.00",
    "-0.05",
    "42.42",
];

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_micro_opt(h, mi, s, micro)
        .unwrap()
}

/// A timestamp in the story's range: whole seconds, milliseconds or
/// microseconds; `updated` grows with the id, so the newest row is unique.
pub fn stamp(id: i64, seed: i64) -> NaiveDateTime {
    let micro = match id % 3 {
        0 => 0,
        1 => 125_000,
        _ => 123_456,
    };
    let base = at(2024, 1, 1, 0, 0, 0, micro);
    base + chrono::Duration::hours(id) + chrono::Duration::minutes(seed)
}

/// The row `id` of a branch seeded with `seed`.
pub fn row(id: i64, seed: i64) -> StoryRow {
    let k = (id + seed) as usize;
    let note = match id % 6 {
        0 => None,
        1 => Some(String::new()),
        _ => Some(AWKWARD[k % AWKWARD.len()].to_owned()),
    };
    let payload = match id % 4 {
        0 => None,
        1 => Some(Vec::new()),
        2 => Some(vec![0x00, 0xff, 0x01, b'\\', b'\n', 0x00]),
        _ => Some(format!("row {id} of {seed}").into_bytes()),
    };
    StoryRow {
        id: Some(id),
        name: format!("{} #{id}/{seed}", AWKWARD[(k + 3) % AWKWARD.len()]),
        amount: (id % 11 != 5).then(|| AMOUNTS[k % AMOUNTS.len()].to_owned()),
        // One row before 1970, to catch epoch arithmetic.
        updated: if id == 7 {
            at(1969, 7, 20, 20, 17, 40, 0)
        } else {
            stamp(id, seed)
        },
        note,
        flag: k.is_multiple_of(2),
        payload,
    }
}

/// Rows `ids` of a branch seeded with `seed`.
pub fn rows(ids: std::ops::RangeInclusive<i64>, seed: i64) -> Vec<StoryRow> {
    ids.map(|id| row(id, seed)).collect()
}

/// A row with a NULL key (for the reject path).
pub fn keyless(n: i64, seed: i64) -> StoryRow {
    StoryRow {
        id: None,
        name: format!("orphan {n} of {seed}, \"no key\""),
        ..row(n, seed)
    }
}
