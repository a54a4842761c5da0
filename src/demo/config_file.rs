//! The demo's `branchsync.toml`: every branch file as a `sqlite` connection,
//! `central.db` as the target, and one `[[table]]` per mode, so the demo
//! shows full, upsert, incremental and single-source copies side by side.
//! Paths are relative: the config resolves them against its own folder, so
//! the demo folder can be moved or run from anywhere.

use super::generate::Branch;
use std::fmt::Write as _;

/// Where the demo puts things, relative to its folder.
pub const CONFIG_FILE: &str = "branchsync.toml";
pub const BRANCHES_DIR: &str = "branches";
pub const CENTRAL_FILE: &str = "central.db";
pub const JOURNAL_FILE: &str = "storage/sync-journal.db";
pub const LOG_FILE: &str = "storage/logs/sync.log";

/// Parallel table copies in the demo.
pub const THREADS: usize = 4;

/// One `[[table]]` of the demo.
struct DemoTable {
    model: &'static str,
    table: &'static str,
    mode: &'static str,
    cursor: Option<&'static str>,
    /// Single-source: synced from the head office only.
    head_office_only: bool,
}

const DEMO_TABLES: &[DemoTable] = &[
    DemoTable {
        model: "MOrg",
        table: "ad_org",
        mode: "full",
        cursor: None,
        head_office_only: true,
    },
    DemoTable {
        model: "MProduct",
        table: "m_product",
        mode: "upsert",
        cursor: None,
        head_office_only: false,
    },
    DemoTable {
        model: "MBPartner",
        table: "c_bpartner",
        mode: "upsert",
        cursor: None,
        head_office_only: false,
    },
    DemoTable {
        model: "MOrder",
        table: "c_order",
        mode: "incremental",
        cursor: Some("updated"),
        head_office_only: false,
    },
    DemoTable {
        model: "MInvoice",
        table: "c_invoice",
        mode: "incremental",
        cursor: Some("updated"),
        head_office_only: false,
    },
    DemoTable {
        model: "MInvoiceLine",
        table: "c_invoiceline",
        mode: "full",
        cursor: None,
        head_office_only: false,
    },
];

/// The config text for `branches`; the first branch is the head office.
pub fn render(branches: &[Branch]) -> String {
    let mut out = String::new();
    let head_office = branches.first().map(|b| b.name.as_str()).unwrap_or("");
    out.push_str(
        "# Written by `branchsync demo`; rewritten by every `demo` run in this folder.\n\
         # Relative paths resolve against this file's folder.\n\n",
    );
    let _ = writeln!(out, "[journal]\npath = {}\n", quote(JOURNAL_FILE));
    let _ = writeln!(out, "[log]\nfile = {}\n", quote(LOG_FILE));
    let _ = writeln!(
        out,
        "[engine]\nthreads = {THREADS}\nretries = 1\nretry_backoff = \"500ms\"\nconnect_timeout = \"5s\"\n"
    );
    let _ = writeln!(
        out,
        "[target]\ndriver = \"sqlite\"\nurl = {}\nbranch_column = \"branch\"\n",
        quote(CENTRAL_FILE)
    );
    for b in branches {
        let _ = writeln!(
            out,
            "[[connection]]\nname = {}\ndriver = \"sqlite\"\nurl = {}\n",
            quote(&b.name),
            quote(&format!("{BRANCHES_DIR}/{}.db", b.name))
        );
    }
    for t in DEMO_TABLES {
        if t.head_office_only {
            out.push_str("# Single-source: the organizations of the head office only (step 1).\n");
        }
        let _ = writeln!(
            out,
            "[[table]]\nmodel = {}\nsource = {}\nkey = [{}]\nmode = {}",
            quote(t.model),
            quote(t.table),
            quote(&format!("{}_id", t.table)),
            quote(t.mode)
        );
        if let Some(cursor) = t.cursor {
            let _ = writeln!(out, "cursor = {}", quote(cursor));
        }
        if t.head_office_only {
            let _ = writeln!(out, "from = {}", quote(head_office));
        }
        out.push('\n');
    }
    out
}

/// A TOML basic string, escaped.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
