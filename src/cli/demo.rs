//! `demo`: the zero-setup showcase. Generates SQLite branch databases and a
//! config in a folder (see [`crate::demo`]), then runs `sync-all` and
//! `sync-status --latest` through the very code the CLI runs, so what the demo
//! shows is what a real run does. Its exit code is the sync's.

use super::Global;
use crate::demo::{self, Prepared};
use crate::exit::Outcome;
use crate::report::format::thousands;
use anyhow::Context;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the generated branches, config, journal and central file
    #[arg(long, default_value = "branchsync-demo")]
    pub dir: std::path::PathBuf,
    /// Number of branch databases
    #[arg(long, default_value_t = 17)]
    pub branches: usize,
    /// Rows of the largest table (c_invoiceline) per branch; the other tables
    /// get proportionally fewer
    #[arg(long, default_value_t = 2000)]
    pub rows: u64,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        if global.config.is_some() {
            eprintln!(
                "note: demo ignores --config; it writes and uses {}",
                demo::DemoLayout::new(&self.dir).config().display()
            );
        }
        let started = Instant::now();
        let prepared = demo::prepare(&self.dir, self.branches, self.rows)
            .context("cannot build the demo folder")?;
        if !global.quiet {
            crate::say!(
                "Generated {} branch databases ({} rows) in {} in {:.2}s",
                prepared.branches.len(),
                thousands(prepared.rows as i64),
                prepared.layout.branches_dir().display(),
                started.elapsed().as_secs_f64()
            );
            // The organizations exist in every branch but are a single-source
            // table: only the head office's are synced.
            let others = prepared.branches.len().saturating_sub(1) as u64;
            if others > 0 {
                let orgs = prepared.sizes.orgs;
                crate::say!(
                    "{} of them will be synced: ad_org ({orgs} rows in each branch) is taken from the head office {} only, not from the other {others}",
                    thousands((prepared.rows - orgs * others) as i64),
                    prepared.branches[0].name
                );
            }
            crate::say!("Wrote {}\n", prepared.layout.config().display());
        }
        let demo_global = Global {
            config: Some(prepared.layout.config()),
            verbose: global.verbose,
            quiet: global.quiet,
        };
        crate::hint::set_config(&prepared.layout.config());
        let outcome = super::sync_all::Args::default().run(&demo_global)?;
        crate::say!();
        let status = super::status::Args {
            batch_id: None,
            latest: true,
            all: false,
            failed: false,
            json: false,
            limit: 20,
            abandon: None,
            older_than: None,
            reason: None,
            fleet: false,
            stale: std::time::Duration::from_secs(26 * 3600),
        };
        if let Err(err) = status.run(&demo_global) {
            eprintln!("warning: cannot show the batch: {err:#}");
        }
        if !global.quiet {
            print!("{}", epilogue(&prepared));
        }
        Ok(outcome)
    }
}

/// The folder layout and what to try next.
fn epilogue(p: &Prepared) -> String {
    let layout = &p.layout;
    let dir = shell_quote(&layout.dir);
    let config = shell_quote(&layout.config());
    let central = shell_quote(&layout.central());
    let bs = format!("branchsync --config {config}");
    format!(
        "\nThe demo folder {dir}:\n\
         \x20 branchsync.toml          the config: {n} sqlite connections (the first, {hq}, is the head office) -> central.db\n\
         \x20 branches/*.db            the generated branch databases (rewritten by every demo run)\n\
         \x20 central.db               the consolidated tables; column \"branch\" names the source\n\
         \x20 storage/sync-journal.db  the journal: every batch and table copy\n\
         \x20 storage/logs/sync.log    the log\n\
         \n\
         Try next:\n\
         \x20 {bs} sync-status --all\n\
         \x20 {bs} export --latest --output report.csv\n\
         \x20 {bs} stats\n\
         \x20 {bs} check\n\
         \x20 {bs} sync-all            # a new batch: upsert skips unchanged rows\n\
         \x20 sqlite3 {central} \"SELECT branch, count(*) FROM c_invoiceline GROUP BY branch\"\n\
         \x20 branchsync demo --dir {dir}   # again: a new batch over the same folder\n",
        n = p.branches.len(),
        hq = p.branches[0].name,
    )
}

/// `path` as one shell word.
fn shell_quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-+:=@%,".contains(&b));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(
            shell_quote(Path::new("branchsync-demo/x.toml")),
            "branchsync-demo/x.toml"
        );
        assert_eq!(shell_quote(Path::new("my demo")), "'my demo'");
        assert_eq!(shell_quote(Path::new("it's")), r"'it'\''s'");
    }
}
