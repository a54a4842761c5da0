//! Which SQLite the journal runs on, and the oldest one we accept.
//!
//! SQLite is bundled (rusqlite's `bundled` feature), so the version is fixed at
//! build time and `branchsync --version` can name it. SQLite 3.7.0 through 3.51.2
//! have the WAL-reset bug: when two connections write or checkpoint the same WAL
//! file at once, a checkpoint can corrupt it. That is exactly how the journal is
//! used (a sync writes while `sync-status`, `serve` or a liveness check writes
//! from another process), so a build with an older SQLite fails its tests.

/// The oldest SQLite without the WAL-reset bug, as `sqlite3_libversion_number`
/// spells it (3.51.3).
pub const MIN_SQLITE_VERSION_NUMBER: i32 = 3_051_003;

/// The version of the SQLite linked into this binary, e.g. `3.51.3`.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

/// The same version as a number (`3051003` for 3.51.3).
pub fn sqlite_version_number() -> i32 {
    rusqlite::version_number()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sqlite_has_the_wal_reset_fix() {
        assert!(
            sqlite_version_number() >= MIN_SQLITE_VERSION_NUMBER,
            "the bundled SQLite {} has the WAL-reset bug (fixed in 3.51.3); upgrade rusqlite",
            sqlite_version()
        );
    }

    #[test]
    fn version_text_and_number_agree() {
        let n = sqlite_version_number();
        let text = format!("{}.{}.{}", n / 1_000_000, n / 1_000 % 1_000, n % 1_000);
        assert_eq!(sqlite_version(), text);
    }
}
