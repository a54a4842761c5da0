//! A rental-shop schema shaped like the public Sakila sample, written the
//! way its published ports write it in each engine's own idiom: MariaDB
//! `TIMESTAMP`, `TINYINT(1)`, `YEAR`, `ENUM`, `SET`; SQLite `CHAR(1)` flags,
//! text dates and `VARCHAR(4)` years; PostgreSQL `boolean`, `timestamptz`,
//! `date`, `text[]`, and an enum of its own schema. Each column says what
//! the central column becomes and, per engine, the text of each value once
//! there (the documented conversions applied).

/// How one column is written at each engine and what the central holds.
#[derive(Clone, Copy)]
pub enum Col {
    Id,
    Small,
    Name,
    /// Last update: an instant (MariaDB TIMESTAMP, PostgreSQL timestamptz)
    /// and a naive SQLite TIMESTAMP (read as UTC).
    Updated,
    /// A flag: TINYINT(1), CHAR(1) 'Y'/'N', boolean → text.
    FlagText,
    /// A flag: TINYINT(1), BOOLEAN, smallint → smallint 0/1.
    FlagNum,
    /// A year: YEAR, VARCHAR(4), integer → text.
    Year,
    /// Money: DECIMAL(5,2), NUMERIC, numeric(5,2) → numeric.
    Money,
    /// A rating: ENUM, TEXT, an enum → text.
    Rating,
    /// Features: SET and text[] (the SQLite port has no such column).
    Features,
    /// A date at one port, a timestamp at another → timestamp.
    Returned,
    Doc,
    Picture,
    Ratio,
    /// A count: INT, INTEGER, numeric(10,0) → numeric(19,0).
    Count,
}

impl Col {
    pub fn ddl(self, engine: &str) -> Option<&'static str> {
        let [m, s, p] = match self {
            Col::Id => ["INT", "INTEGER", "integer"],
            Col::Small => ["SMALLINT UNSIGNED", "INTEGER", "smallint"],
            Col::Name => ["VARCHAR(45)", "VARCHAR(45)", "character varying(45)"],
            Col::Updated => ["TIMESTAMP NULL", "TIMESTAMP", "timestamptz"],
            Col::FlagText => ["TINYINT(1)", "CHAR(1)", "boolean"],
            Col::FlagNum => ["TINYINT(1)", "BOOLEAN", "smallint"],
            Col::Year => ["YEAR", "VARCHAR(4)", "integer"],
            Col::Money => ["DECIMAL(5,2)", "NUMERIC", "numeric(5,2)"],
            Col::Rating => [
                "ENUM('G','PG','PG-13','R','NC-17')",
                "TEXT",
                "shop.mpaa_rating",
            ],
            Col::Features => [
                "SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes')",
                "",
                "text[]",
            ],
            Col::Returned => ["DATETIME", "DATE", "date"],
            Col::Doc => ["JSON", "JSON", "jsonb"],
            Col::Picture => ["BLOB", "BLOB", "bytea"],
            Col::Ratio => ["DOUBLE", "REAL", "real"],
            Col::Count => ["INT", "INTEGER", "numeric(10,0)"],
        };
        let t = match engine {
            "mysql" => m,
            "sqlite" => s,
            _ => p,
        };
        (!t.is_empty()).then_some(t)
    }

    /// The central column's type.
    pub fn central(self) -> &'static str {
        match self {
            Col::Id | Col::Small => "bigint",
            Col::Name | Col::FlagText | Col::Year | Col::Rating => "text",
            Col::Updated => "timestamp with time zone",
            Col::FlagNum => "smallint",
            Col::Money => "numeric",
            Col::Features => "text[]",
            Col::Returned => "timestamp without time zone",
            Col::Doc => "jsonb",
            Col::Picture => "bytea",
            Col::Ratio => "double precision",
            Col::Count => "numeric(19,0)",
        }
    }

    /// The value of row `i` as an SQL literal of `engine`.
    pub fn literal(self, engine: &str, i: u32) -> String {
        let flag = i % 2 == 1;
        match self {
            Col::Id | Col::Small => i.to_string(),
            Col::Name => format!("'name {i}'"),
            Col::Updated => format!("'2006-02-15 04:34:{:02}'", 30 + i),
            Col::FlagText => match engine {
                "mysql" => u8::from(flag).to_string(),
                "sqlite" => if flag { "'Y'" } else { "'N'" }.into(),
                _ => flag.to_string(),
            },
            Col::FlagNum => u8::from(flag).to_string(),
            Col::Year => match engine {
                "sqlite" => format!("'{}'", 2000 + i),
                _ => (2000 + i).to_string(),
            },
            Col::Money => format!("{i}.99"),
            Col::Rating => format!("'{}'", ["G", "PG", "PG-13", "R", "NC-17"][i as usize % 5]),
            Col::Features => match engine {
                "mysql" => "'Trailers,Deleted Scenes'".into(),
                _ => "ARRAY['Trailers','Deleted Scenes']".into(),
            },
            Col::Returned => match engine {
                "mysql" => format!("'2005-05-{:02} 22:04:30'", 10 + i),
                _ => format!("'2005-05-{:02}'", 10 + i),
            },
            Col::Doc => format!("'{{\"a\": {i}}}'"),
            Col::Picture => match engine {
                "postgres" => format!("'\\x01{i:02x}'::bytea"),
                _ => format!("X'01{i:02x}'"),
            },
            Col::Ratio => format!("{}.5", i),
            Col::Count => (i * 7).to_string(),
        }
    }

    /// The central's text (`::text`) of row `i` from `engine`.
    pub fn expected(self, engine: &str, i: u32) -> Option<String> {
        let flag = i % 2 == 1;
        Some(match self {
            Col::Id | Col::Small => i.to_string(),
            Col::Name => format!("name {i}"),
            Col::Updated => format!("2006-02-15 04:34:{:02}+00", 30 + i),
            Col::FlagText => match engine {
                "sqlite" => if flag { "Y" } else { "N" }.into(),
                _ => flag.to_string(),
            },
            Col::FlagNum => u8::from(flag).to_string(),
            Col::Year => (2000 + i).to_string(),
            Col::Money => format!("{i}.99"),
            Col::Rating => ["G", "PG", "PG-13", "R", "NC-17"][i as usize % 5].into(),
            Col::Features => match engine {
                "sqlite" => return None,
                _ => "{Trailers,\"Deleted Scenes\"}".into(),
            },
            Col::Returned => match engine {
                "mysql" => format!("2005-05-{:02} 22:04:30", 10 + i),
                _ => format!("2005-05-{:02} 00:00:00", 10 + i),
            },
            Col::Doc => format!("{{\"a\": {i}}}"),
            Col::Picture => format!("\\x01{i:02x}"),
            Col::Ratio => format!("{}.5", i),
            Col::Count => (i * 7).to_string(),
        })
    }
}

/// The tables: name, then (column, shape); the first column is the key.
pub fn tables() -> Vec<(&'static str, Vec<(&'static str, Col)>)> {
    use Col::*;
    vec![
        (
            "actor",
            vec![
                ("actor_id", Small),
                ("first_name", Name),
                ("last_name", Name),
                ("last_update", Updated),
            ],
        ),
        (
            "category",
            vec![
                ("category_id", Small),
                ("name", Name),
                ("last_update", Updated),
            ],
        ),
        (
            "language",
            vec![
                ("language_id", Small),
                ("name", Name),
                ("last_update", Updated),
            ],
        ),
        (
            "country",
            vec![
                ("country_id", Small),
                ("country", Name),
                ("last_update", Updated),
            ],
        ),
        (
            "city",
            vec![
                ("city_id", Small),
                ("city", Name),
                ("country_id", Small),
                ("last_update", Updated),
            ],
        ),
        (
            "address",
            vec![
                ("address_id", Small),
                ("address", Name),
                ("phone", Name),
                ("city_id", Small),
                ("last_update", Updated),
            ],
        ),
        (
            "film",
            vec![
                ("film_id", Id),
                ("title", Name),
                ("release_year", Year),
                ("rental_rate", Money),
                ("rating", Rating),
                ("special_features", Features),
                ("length_ratio", Ratio),
                ("last_update", Updated),
            ],
        ),
        (
            "film_actor",
            vec![
                ("film_actor_id", Id),
                ("actor_id", Small),
                ("film_id", Id),
                ("last_update", Updated),
            ],
        ),
        (
            "film_category",
            vec![
                ("film_category_id", Id),
                ("category_id", Small),
                ("film_id", Id),
                ("last_update", Updated),
            ],
        ),
        (
            "customer",
            vec![
                ("customer_id", Id),
                ("first_name", Name),
                ("active", FlagText),
                ("email_ok", FlagNum),
                ("preferences", Doc),
                ("last_update", Updated),
            ],
        ),
        (
            "staff",
            vec![
                ("staff_id", Small),
                ("username", Name),
                ("active", FlagText),
                ("picture", Picture),
                ("last_update", Updated),
            ],
        ),
        (
            "inventory",
            vec![
                ("inventory_id", Id),
                ("film_id", Id),
                ("on_hand", Count),
                ("last_update", Updated),
            ],
        ),
        (
            "rental",
            vec![
                ("rental_id", Id),
                ("return_date", Returned),
                ("inventory_id", Id),
                ("last_update", Updated),
            ],
        ),
        (
            "payment",
            vec![
                ("payment_id", Id),
                ("amount", Money),
                ("payment_date", Returned),
                ("last_update", Updated),
            ],
        ),
    ]
}

/// Rows per table per branch.
pub const ROWS: u32 = 3;

/// The DDL and rows of the whole schema at `engine`.
pub fn script(engine: &str) -> String {
    let mut s = String::new();
    if engine == "postgres" {
        s += "CREATE SCHEMA shop; CREATE TYPE shop.mpaa_rating AS ENUM ('G','PG','PG-13','R','NC-17');\n";
    }
    for (table, cols) in tables() {
        let present: Vec<(&str, Col, &str)> = cols
            .iter()
            .filter_map(|(n, c)| c.ddl(engine).map(|t| (*n, *c, t)))
            .collect();
        let defs: Vec<String> = present.iter().map(|(n, _, t)| format!("{n} {t}")).collect();
        s += &format!(
            "CREATE TABLE {table} ({}, PRIMARY KEY ({}));\n",
            defs.join(", "),
            present[0].0
        );
        for i in 1..=ROWS {
            let vals: Vec<String> = present
                .iter()
                .map(|(_, c, _)| c.literal(engine, i))
                .collect();
            let names: Vec<&str> = present.iter().map(|(n, _, _)| *n).collect();
            s += &format!(
                "INSERT INTO {table} ({}) VALUES ({});\n",
                names.join(", "),
                vals.join(", ")
            );
        }
    }
    s
}

/// The `[[table]]` entries, every table in `mode`.
pub fn table_entries(mode: &str) -> String {
    tables()
        .iter()
        .map(|(t, cols)| {
            format!(
                "[[table]]\nmodel = \"{t}\"\nsource = \"{t}\"\nkey = [\"{}\"]\nmode = \"{mode}\"\n\n",
                cols[0].0
            )
        })
        .collect()
}
