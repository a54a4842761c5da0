//! A migration's SQL as single statements, so that each step can be made
//! tolerant of work already done (see `migrate.rs`): SQLite has no
//! `ADD COLUMN IF NOT EXISTS`, and a batch of statements cannot skip one.
//!
//! A `;` ends a statement except inside quotes, comments, and the
//! `BEGIN … END` body of a trigger (where `CASE … END` nests). Comments are
//! dropped.

/// The statements of `sql`, trimmed, without comments; empty ones skipped.
pub(super) fn statements(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut trigger = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            cur.push(' ');
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            cur.push(' ');
        } else if matches!(c, b'\'' | b'"' | b'`' | b'[') {
            let close = if c == b'[' { b']' } else { c };
            let start = i;
            i += 1;
            while i < b.len() {
                if b[i] == close {
                    // A doubled quote is one quote character.
                    if close != b']' && b.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            cur.push_str(&sql[start..i]);
        } else if c == b';' && depth == 0 {
            push(&mut out, &mut cur);
            trigger = false;
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &sql[start..i];
            if word.eq_ignore_ascii_case("TRIGGER") && depth == 0 {
                trigger = true;
            } else if (trigger && word.eq_ignore_ascii_case("BEGIN"))
                || word.eq_ignore_ascii_case("CASE")
            {
                depth += 1;
            } else if word.eq_ignore_ascii_case("END") && depth > 0 {
                depth -= 1;
            }
            cur.push_str(word);
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            cur.push(ch);
            i += ch.len_utf8();
        }
    }
    push(&mut out, &mut cur);
    out
}

fn push(out: &mut Vec<String>, cur: &mut String) {
    let s = cur.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    cur.clear();
}

/// `(table, column)` when `stmt` is `ALTER TABLE t ADD [COLUMN] c …`.
pub(super) fn added_column(stmt: &str) -> Option<(String, String)> {
    let mut words = stmt.split_whitespace();
    let mut next_is = |w: &str| words.next().is_some_and(|x| x.eq_ignore_ascii_case(w));
    if !next_is("ALTER") || !next_is("TABLE") {
        return None;
    }
    let table = unquote(words.next()?);
    if !words.next()?.eq_ignore_ascii_case("ADD") {
        return None;
    }
    let mut column = words.next()?;
    if column.eq_ignore_ascii_case("COLUMN") {
        column = words.next()?;
    }
    Some((table, unquote(column)))
}

/// An identifier without its quotes.
fn unquote(word: &str) -> String {
    let b = word.as_bytes();
    match (b.first(), b.last()) {
        (Some(b'"'), Some(b'"')) | (Some(b'`'), Some(b'`')) | (Some(b'['), Some(b']'))
            if b.len() >= 2 =>
        {
            word[1..word.len() - 1].to_owned()
        }
        _ => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_quotes_comments_and_trigger_bodies() {
        let sql = "-- a comment; with a semicolon\n\
                   CREATE TABLE t (a TEXT DEFAULT ';');\n\
                   /* block; */ CREATE TRIGGER x AFTER INSERT ON t\n\
                   BEGIN\n  INSERT INTO u VALUES (CASE WHEN NEW.a = 'x' THEN 1 ELSE 2 END);\n  DELETE FROM v;\nEND;\n\
                   ALTER TABLE t ADD COLUMN b INTEGER;  ";
        let got = statements(sql);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(got[0], "CREATE TABLE t (a TEXT DEFAULT ';')");
        assert!(got[1].starts_with("CREATE TRIGGER x") && got[1].ends_with("END"));
        assert_eq!(got[2], "ALTER TABLE t ADD COLUMN b INTEGER");
    }

    #[test]
    fn finds_the_column_an_alter_adds() {
        assert_eq!(
            added_column("ALTER TABLE sync_progress ADD COLUMN rows_written INTEGER"),
            Some(("sync_progress".into(), "rows_written".into()))
        );
        assert_eq!(
            added_column("alter table \"t\" add [c] TEXT"),
            Some(("t".into(), "c".into()))
        );
        assert_eq!(added_column("ALTER TABLE t RENAME TO u"), None);
        assert_eq!(added_column("CREATE TABLE t (a)"), None);
    }
}
