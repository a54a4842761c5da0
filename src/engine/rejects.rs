//! Rows the target cannot take (a NULL in a key column) are kept, not lost:
//! written to `storage/rejects/<batch_id>/<connection>.<table>.csv` with the
//! reason, and counted in `records_skipped`.

use crate::driver::{Column, DriverError, RejectSink, Value};
use std::path::PathBuf;

pub struct RejectWriter {
    path: PathBuf,
    writer: Option<csv::Writer<std::fs::File>>,
    pub count: u64,
}

impl RejectWriter {
    pub fn new(storage: &std::path::Path, batch_id: &str, connection: &str, table: &str) -> Self {
        RejectWriter {
            path: storage.join("rejects").join(batch_id).join(format!(
                "{}.{}.csv",
                file_part(connection),
                file_part(table)
            )),
            writer: None,
            count: 0,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn finish(&mut self) -> Result<(), DriverError> {
        if let Some(w) = self.writer.as_mut() {
            w.flush()
                .map_err(|e| DriverError::other(format!("writing {}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}

impl RejectSink for RejectWriter {
    fn reject(
        &mut self,
        columns: &[Column],
        values: &[Value],
        reason: &str,
    ) -> Result<(), DriverError> {
        let io = |e: &dyn std::fmt::Display, p: &PathBuf| {
            DriverError::other(format!("writing reject file {}: {e}", p.display()))
        };
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io(&e, &self.path))?;
            }
            // Truncate: a retried attempt starts the file again.
            let file = std::fs::File::create(&self.path).map_err(|e| io(&e, &self.path))?;
            let mut w = csv::Writer::from_writer(file);
            let mut header = vec!["reject_reason".to_owned()];
            header.extend(columns.iter().map(|c| c.name.clone()));
            w.write_record(&header).map_err(|e| io(&e, &self.path))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("writer created above");
        let mut record = vec![reason.to_owned()];
        record.extend(values.iter().map(|v| v.to_text().unwrap_or_default()));
        w.write_record(&record).map_err(|e| io(&e, &self.path))?;
        self.count += 1;
        Ok(())
    }
}

/// A name as one safe file-name component: letters, digits, `_` and `-` stay,
/// every other byte becomes `%XX` (so `../x` or `a/b` never leave the folder
/// and distinct names stay distinct).
fn file_part(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::file_part;

    #[test]
    fn hostile_names_stay_one_component() {
        assert_eq!(file_part("c_order"), "c_order");
        assert_eq!(file_part("../etc/passwd"), "%2E%2E%2Fetc%2Fpasswd");
        assert_eq!(file_part("a\"; DROP"), "a%22%3B%20DROP");
        assert_eq!(file_part("Ünïcode"), "Ünïcode");
    }
}
