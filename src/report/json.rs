//! JSON views (`sync-status --json`, `export --format json`, `stats --json`):
//! the journal's rows under their column names, whole (errors are not cut),
//! timestamps as stored (UTC ISO-8601), so that scripts read the journal as it is.

use crate::journal::{BatchRow, ProgressRow};
use serde::Serialize;

/// One batch with its progress rows: `{"batch": {…}, "tables": [{…}, …]}`.
#[derive(Debug, Serialize)]
pub struct BatchReport<'a> {
    pub batch: &'a BatchRow,
    pub tables: &'a [ProgressRow],
}

/// Pretty JSON of anything this crate serializes (journal rows and figures,
/// whose keys are always strings, so this cannot fail).
pub fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    text.push('\n');
    text
}

/// `{"batch": …, "tables": […]}` for one batch.
pub fn batch_json(batch: &BatchRow, tables: &[ProgressRow]) -> String {
    pretty(&BatchReport { batch, tables })
}

/// An array of batches (`[]` for none).
pub fn batch_list_json(batches: &[BatchRow]) -> String {
    pretty(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{BatchStatus, ProgressStatus};
    use crate::report::test_rows::{batch, row};

    #[test]
    fn batch_report_has_batch_and_tables_with_column_names() {
        let b = batch("sync_20261126084522_AbCd1234", BatchStatus::Failed);
        let mut r = row("pgsql_lmp", "m_product", ProgressStatus::Failed);
        let long = format!("timeout {}", "y".repeat(200));
        r.error_message = Some(long.clone());
        let v: serde_json::Value = serde_json::from_str(&batch_json(&b, &[r])).unwrap();
        assert_eq!(v["batch"]["batch_id"], "sync_20261126084522_AbCd1234");
        assert_eq!(v["batch"]["status"], "failed");
        assert_eq!(v["tables"][0]["connection_name"], "pgsql_lmp");
        assert_eq!(v["tables"][0]["status"], "failed");
        assert_eq!(v["tables"][0]["error_message"], long.as_str());
        let keys: Vec<&str> = v["tables"][0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for col in crate::journal::PROGRESS_COLUMNS {
            assert!(keys.contains(col), "{col} missing: {keys:?}");
        }
    }

    #[test]
    fn empty_list_is_an_empty_array() {
        assert_eq!(batch_list_json(&[]).trim(), "[]");
    }
}
