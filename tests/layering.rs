//! The config is the ground floor: `src/config/` names no driver
//! and no database crate, so a driver's facts can only live in its module.

use std::path::{Path, PathBuf};

/// Paths into the driver layer or a database client crate, as code names
/// them (`postgres::`, not the `postgres://` of a URL in a string).
const FORBIDDEN: &[&str] = &[
    "crate::driver",
    "super::driver",
    "super::super::driver",
    "branchsync::driver",
    "postgres::",
    "tokio_postgres",
    "r2d2",
    "rusqlite",
    "mysql::",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The forbidden names `text` holds, with their lines.
fn offences(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for name in FORBIDDEN {
            let hit = line.match_indices(name).any(|(at, _)| {
                // `r2d2_postgres::`, `mysql::` as a path; not `my_mysql::`.
                line[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric() && c != '_')
            });
            if hit {
                found.push(format!("line {}: {}", i + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn config_imports_no_driver_and_no_database_crate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.len() >= 5, "src/config has only {files:?}");
    let mut bad = Vec::new();
    for file in &files {
        for o in offences(&std::fs::read_to_string(file).unwrap()) {
            bad.push(format!("{}: {o}", file.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "src/config reaches above itself:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_forbids() {
    for line in [
        "    let drivers = crate::driver::registry::driver_names();",
        "use postgres::config::Host;",
        "        if let Err(e) = postgres::Config::from_str(&s.url) {",
        "fn f(c: &rusqlite::Connection) {}",
        "let o = mysql::Opts::from_url(u);",
        "type P = r2d2::Pool<M>;",
    ] {
        assert_eq!(offences(line).len(), 1, "{line}");
    }
    for line in [
        "(\"postgres://u:s3cr3t@h/db\", \"postgres://u:***@h/db\"),",
        "/// `mysql://user@host` or a PostgreSQL URL",
        "let my_mysql = 1;",
    ] {
        assert!(offences(line).is_empty(), "{line}");
    }
}
