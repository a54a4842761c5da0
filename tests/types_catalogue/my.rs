//! The catalogue's readers for a MySQL central: column names and types as
//! `information_schema` gives them, and rows rendered as text (bytes and bits as
//! `b:<length>:<digest>`, like the other readers).

use crate::common::mysql::MyDb;
use crate::world::bytes_text;
use mysql::prelude::Queryable;

fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// (name, `COLUMN_TYPE`) of `table`, in order.
pub fn types(db: &MyDb, table: &str) -> Vec<(String, String)> {
    db.conn()
        .exec(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (table,),
        )
        .unwrap()
}

/// The rows of `table` ordered by `key`, every column as text.
pub fn rows(db: &MyDb, table: &str, key: &str, columns: &[String]) -> Vec<Vec<Option<String>>> {
    let types = types(db, table);
    let blob: Vec<bool> = columns
        .iter()
        .map(|c| {
            let t = &types.iter().find(|(n, _)| n == c).unwrap().1;
            t.contains("blob") || t.contains("binary") || t.starts_with("bit(")
        })
        .collect();
    // FLOAT as the DOUBLE holding its exact value (the text protocol
    // prints six significant digits).
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let t = &types.iter().find(|(n, _)| n == c).unwrap().1;
            if t.starts_with("float") {
                format!("CAST({} AS DOUBLE)", ident(c))
            } else {
                ident(c)
            }
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        list.join(", "),
        ident(table),
        ident(key)
    );
    let rows: Vec<mysql::Row> = db
        .conn()
        .query(&sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|r| {
            (0..columns.len())
                .map(|i| match r.as_ref(i) {
                    Some(mysql::Value::NULL) | None => None,
                    Some(mysql::Value::Bytes(b)) if blob[i] => Some(bytes_text(b)),
                    Some(mysql::Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                    Some(v) => Some(v.as_sql(true)),
                })
                .collect()
        })
        .collect()
}
