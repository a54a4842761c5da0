//! The bulk path of `full`: rows go to the server through `LOAD DATA LOCAL
//! INFILE`, streamed from memory in chunks of [`CHUNK_BYTES`] (one statement
//! each, all in the write's transaction), in the server's tab-separated
//! format: `\N` for NULL, backslash escapes, bytes as hex (`UNHEX` at the
//! server), the branch column set once by the statement. A second thread
//! sends the chunks, so the source is read while the server loads.
//!
//! `LOCAL` turns the server's data errors into warnings and skips duplicate
//! keys, so a chunk that leaves a warning or skips a row fails the write
//! with the server's own words: nothing is changed silently, as with the
//! `INSERT` path. A server that refuses local files (`local_infile = 0`,
//! MySQL 8's default) is found by an empty load once per server; the target
//! then writes with `INSERT`s and says so once in the log.

use super::session::Session;
use super::values::{check_width, ident, plain_decimal, quoted, unquoted};
use crate::driver::render::{iso_date, iso_micros, push_escaped, push_int};
use crate::driver::{
    ColumnKind, DriverError, Feed, Result, RowSink, Value, WriteOutcome, WritePlan,
};
use mysql::prelude::Queryable;
use mysql::LocalInfileHandler;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

/// Bytes of row text sent per `LOAD DATA` statement.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Error codes of a server that does not take `LOAD DATA LOCAL`: 1148 (the
/// command is not allowed), 3948 (MySQL 8: local data is disabled), 4166
/// (MariaDB 10.6+: the local infile capability is disabled).
const REFUSED: &[u16] = &[1148, 3948, 4166];

/// Does the server take `LOAD DATA LOCAL` into `target`? Asked once per
/// server with an empty load (which writes nothing); the answer is kept.
pub fn available(s: &mut Session, statement: &str, doing: &str) -> Result<bool> {
    if let Some(known) = s.local_infile.get() {
        return Ok(*known);
    }
    let answer = match send(s, statement, Vec::new()) {
        Ok(_) => true,
        Err(mysql::Error::MySqlError(e)) if REFUSED.contains(&e.code) => {
            if s.local_infile.set(false).is_ok() {
                log::warn!(
                    "{}: the server refuses LOAD DATA LOCAL INFILE ({}); full copies into it are written with multi-row INSERTs, which is slower. Set local_infile = 1 at the server to use the bulk path",
                    s.name,
                    e.message
                );
            }
            false
        }
        Err(e) => return Err(s.err(&e, doing)),
    };
    let _ = s.local_infile.set(answer);
    Ok(answer)
}

/// Runs `statement`, its local file being `data`: (affected rows, info).
fn send(s: &mut Session, statement: &str, data: Vec<u8>) -> mysql::Result<(u64, String)> {
    let data = Arc::new(Mutex::new(Some(data)));
    let conn = s.conn();
    conn.set_local_infile_handler(Some(LocalInfileHandler::new(move |_, out| {
        let chunk = data.lock().map(|mut d| d.take()).unwrap_or_default();
        out.write_all(&chunk.unwrap_or_default())
    })));
    let result = conn.query_iter(statement).map(|r| {
        let info = r.info_str().into_owned();
        (r.affected_rows(), info)
    });
    conn.set_local_infile_handler(None);
    result
}

/// `LOAD DATA LOCAL INFILE … INTO TABLE target (columns) SET …` for `plan`.
pub fn statement(plan: &WritePlan, target: &str) -> String {
    let mut cols = Vec::new();
    let mut set = Vec::new();
    for (i, c) in plan.columns.iter().enumerate() {
        if c.kind == ColumnKind::Bytes {
            cols.push(format!("@b{i}"));
            set.push(format!("{} = UNHEX(@b{i})", ident(&c.name)));
        } else {
            cols.push(ident(&c.name));
        }
    }
    if let Some((branch, name)) = plan.branch {
        let mut value = String::new();
        quoted(&mut value, name);
        set.push(format!("{} = {value}", ident(branch)));
    }
    let mut sql = format!(
        "LOAD DATA LOCAL INFILE 'branchsync-rows' INTO TABLE {target} CHARACTER SET utf8mb4 \
         FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
        cols.join(", ")
    );
    if !set.is_empty() {
        let _ = write!(sql, " SET {}", set.join(", "));
    }
    sql
}

/// Is `c` a MySQL `YEAR` column (whose target column is a `YEAR` too)?
fn is_year(c: &crate::driver::Column) -> bool {
    c.native.dialect == "mysql" && c.native.name.to_ascii_lowercase().starts_with("year")
}

/// A chunk of rows in the load format, on its way to the loading thread.
struct Chunk {
    data: Vec<u8>,
    rows: u64,
}

/// Runs `feed` into `LOAD DATA` chunks. A second thread owns the session
/// and sends each chunk while the feed fills the next one, so reading the
/// source and loading the target overlap (one chunk is filled while one is
/// loaded; the hand-over waits for the loader, which bounds the memory).
/// A chunk the server did not take whole fails the write (see
/// [`LoadSink`]).
pub fn load(
    s: &mut Session,
    plan: &WritePlan,
    statement: &str,
    doing: &str,
    feed: &mut Feed,
) -> Result<WriteOutcome> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(0);
    let server = s.name.clone();
    std::thread::scope(|scope| {
        let loader = std::thread::Builder::new()
            .name("branchsync-load".into())
            .spawn_scoped(scope, || -> Result<u64> {
                let mut stored = 0;
                for chunk in rx {
                    stored += store(s, statement, chunk, doing)?;
                }
                Ok(stored)
            })
            .map_err(|e| {
                DriverError::other(format!("{server}: {doing}: cannot start the loader: {e}"))
            })?;
        let mut sink = LoadSink {
            plan,
            loader: tx,
            buf: Vec::with_capacity(CHUNK_BYTES + (64 << 10)),
            text: String::new(),
            rows: 0,
            server: server.clone(),
            doing,
        };
        let fed = feed(&mut sink).and_then(|_| sink.flush());
        // Closing the channel ends the loader's loop.
        drop(sink);
        let stored = match loader.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // The loader's error first: a feed that stopped because the loader
        // did only knows that the loader is gone.
        let processed = stored?;
        fed?;
        Ok(WriteOutcome {
            processed,
            ..WriteOutcome::default()
        })
    })
}

/// Sends one chunk; a skipped row or a warning fails the write.
fn store(s: &mut Session, statement: &str, chunk: Chunk, doing: &str) -> Result<u64> {
    s.check_cancelled(doing)?;
    let rows = chunk.rows;
    let (affected, info) = send(s, statement, chunk.data).map_err(|e| s.err(&e, doing))?;
    let count = |what: &str| {
        info.split(what)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    if affected != rows || count("Skipped:") > 0 || count("Warnings:") > 0 {
        return Err(refusal(s, doing, rows, affected, &info));
    }
    Ok(rows)
}

/// The error for a chunk the server did not take whole, in its words.
fn refusal(s: &mut Session, doing: &str, rows: u64, affected: u64, info: &str) -> DriverError {
    let warnings: Vec<(String, u32, String)> =
        s.conn().query("SHOW WARNINGS LIMIT 3").unwrap_or_default();
    let said: Vec<String> = warnings
        .into_iter()
        .map(|(level, code, message)| format!("{level} {code}: {message}"))
        .collect();
    DriverError::other(format!(
        "{}: {doing}: the server did not store the {rows} rows as sent ({affected} stored; {info}): {}{}",
        s.name,
        if said.is_empty() { "no warning was kept".to_owned() } else { said.join("; ") },
        super::session::DATA_FIX
    ))
}

/// Collects rows as `LOAD DATA` text and hands a chunk to the loader when
/// it is big enough.
struct LoadSink<'p> {
    plan: &'p WritePlan<'p>,
    loader: SyncSender<Chunk>,
    buf: Vec<u8>,
    /// Scratch for one value's text.
    text: String,
    rows: u64,
    server: Arc<str>,
    doing: &'p str,
}

impl LoadSink<'_> {
    /// Hands the pending rows to the loader (waiting while it loads the
    /// previous chunk).
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES + (64 << 10)));
        let chunk = Chunk {
            data,
            rows: self.rows,
        };
        self.rows = 0;
        self.loader.send(chunk).map_err(|_| {
            DriverError::other(format!(
                "{}: {}: the loader stopped",
                self.server, self.doing
            ))
        })
    }

    /// One value, written as the load format wants it: numbers, dates and
    /// times straight into the buffer (they need no escapes), text escaped
    /// on the way in.
    fn value(&mut self, i: usize, v: &Value) -> std::result::Result<(), String> {
        let buf = &mut self.buf;
        if self.plan.columns[i].kind == ColumnKind::Bytes {
            // Hex digits need no escapes.
            match v {
                Value::Null => buf.extend_from_slice(b"\\N"),
                Value::Bytes(b) => hex_bytes(buf, b),
                Value::Text(s) | Value::Json(s) | Value::Numeric(s) => hex_bytes(buf, s.as_bytes()),
                _ => return Err(format!("{v:?} cannot be stored in a bytes column")),
            }
            return Ok(());
        }
        match v {
            Value::Null => buf.extend_from_slice(b"\\N"),
            Value::Bool(b) => buf.push(if *b { b'1' } else { b'0' }),
            // A YEAR column reads the text `0` as 2000; `0000` is YEAR 0.
            Value::Int(0) if is_year(&self.plan.columns[i]) => buf.extend_from_slice(b"0000"),
            Value::Int(n) => push_int(buf, *n),
            Value::Numeric(n) => buf.extend_from_slice(plain_decimal(n)?.as_bytes()),
            Value::Text(s) | Value::Json(s) => escape_into(buf, s),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => escape_into(buf, s),
                Err(_) => {
                    return Err("bytes that are not UTF-8 cannot be stored in a text column".into())
                }
            },
            Value::Date(d) => match iso_date(*d) {
                Some(text) => buf.extend_from_slice(&text),
                None => self.via_text(v)?,
            },
            Value::Timestamp(t) => match iso_micros(*t) {
                Some(text) => buf.extend_from_slice(&text),
                None => self.via_text(v)?,
            },
            Value::TimestampTz(t) => match iso_micros(t.naive_utc()) {
                Some(text) => buf.extend_from_slice(&text),
                None => self.via_text(v)?,
            },
            Value::Float(_) => self.via_text(v)?,
        }
        Ok(())
    }

    /// A value through its [`unquoted`] text (floats, dates out of range).
    fn via_text(&mut self, v: &Value) -> std::result::Result<(), String> {
        self.text.clear();
        unquoted(&mut self.text, v)?;
        escape_into(&mut self.buf, &self.text);
        Ok(())
    }
}

/// Appends `bytes` as hexadecimal digits.
fn hex_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// `s` with the load format's escapes: backslash, tab, newline, carriage
/// return and NUL.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    push_escaped(out, s.as_bytes(), true);
}

impl RowSink for LoadSink<'_> {
    fn row(&mut self, values: &[Value]) -> Result<()> {
        check_width(&self.server, self.plan, values)?;
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.buf.push(b'\t');
            }
            self.value(i, v).map_err(|m| {
                DriverError::other(format!(
                    "{}: {}: column {}: {m}",
                    self.server, self.doing, self.plan.columns[i].name
                ))
            })?;
        }
        self.buf.push(b'\n');
        self.rows += 1;
        if self.buf.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn separators_and_escapes_are_escaped() {
        let mut out = Vec::new();
        escape_into(&mut out, "a\tb\nc\\N\r\0d");
        assert_eq!(out, b"a\\tb\\nc\\\\N\\r\\0d");
    }
}
