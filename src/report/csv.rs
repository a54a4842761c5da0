//! CSV export of a batch: a header row with the `sync_progress` column names,
//! then one row per progress row, values as stored (UTC timestamps, whole
//! error messages, empty fields for NULL).

use crate::journal::{ProgressRow, PROGRESS_COLUMNS};
use std::io::Write;

/// The fields of one progress row, in `PROGRESS_COLUMNS` order.
pub fn progress_record(row: &ProgressRow) -> [String; 17] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    [
        row.batch_id.clone(),
        row.connection_name.clone(),
        row.table_name.clone(),
        row.model_name.clone(),
        row.status.as_str().to_owned(),
        row.records_processed.to_string(),
        row.records_skipped.to_string(),
        opt(&row.error_message),
        opt(&row.started_at),
        opt(&row.completed_at),
        row.duration_seconds
            .map(|d| d.to_string())
            .unwrap_or_default(),
        row.retry_count.to_string(),
        row.step.to_string(),
        num(row.rows_written),
        num(row.rows_deleted),
        num(row.bytes_read),
        num(row.bytes_written),
    ]
}

/// Write the header and every row to `out`.
pub fn write_progress_csv<W: Write>(rows: &[ProgressRow], out: W) -> Result<(), ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(PROGRESS_COLUMNS)?;
    for row in rows {
        writer.write_record(progress_record(row))?;
    }
    writer.flush()?;
    Ok(())
}

/// The whole CSV as text.
pub fn progress_csv(rows: &[ProgressRow]) -> String {
    let mut buf = Vec::new();
    // Writing into memory only fails on a bug; keep what was written.
    let _ = write_progress_csv(rows, &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::ProgressStatus;
    use crate::report::test_rows::row;

    #[test]
    fn record_matches_the_header() {
        assert_eq!(
            progress_record(&row("a", "b", ProgressStatus::Pending)).len(),
            PROGRESS_COLUMNS.len()
        );
    }

    #[test]
    fn header_then_rows_with_quoting() {
        let mut r = row("pgsql_lmp", "m_product", ProgressStatus::Failed);
        r.error_message = Some("column \"name\", type text\nsecond line".into());
        r.duration_seconds = Some(1.5);
        r.retry_count = 3;
        let text = progress_csv(&[r]);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, PROGRESS_COLUMNS);
        let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(&records[0][1], "pgsql_lmp");
        assert_eq!(&records[0][4], "failed");
        assert_eq!(&records[0][7], "column \"name\", type text\nsecond line");
        assert_eq!(&records[0][9], "");
        assert_eq!(&records[0][10], "1.5");
        assert_eq!(&records[0][11], "3");
    }
}
