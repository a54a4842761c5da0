//! The one conformance story every (source driver, target driver) pair must
//! pass: the real binary syncs two branch databases into a central one
//! through create, full, upsert, incremental, schema drift, NULL keys, an
//! empty table and mirror, and after each step every branch's source table must equal
//! its slice of the central table in the canonical form of
//! `conformance/content.rs` (the type mapping contract between drivers).
//!
//! The story is written once; each test runs it for one pair. A step that
//! fails is reported and the story goes on with the next one, so one run
//! shows every step a pair breaks.

mod common;

#[path = "conformance/content.rs"]
mod content;
#[path = "conformance/data.rs"]
mod data;
#[path = "conformance/edges.rs"]
mod edges;
#[path = "conformance/mirror.rs"]
mod mirror;
#[path = "conformance/mixed_fleet.rs"]
mod mixed_fleet;
#[path = "conformance/modes.rs"]
mod modes;
#[path = "conformance/sakila.rs"]
mod sakila;
#[path = "conformance/world.rs"]
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use world::World;

type Step = fn(&World, &str);

/// The story, in order; later steps build on the state earlier ones left.
const STEPS: &[(&str, Step)] = &[
    ("1 create", modes::create),
    ("2 full", modes::full),
    ("3 upsert", modes::upsert),
    ("4 incremental", modes::incremental),
    ("5 schema drift", edges::drift),
    ("6 NULL keys", edges::null_keys),
    ("7 zero rows", edges::empty),
    ("8 mirror", mirror::mirror),
];

/// Runs the whole story from `source` branches into a `target` central
/// database, and fails naming every step that failed.
fn story(source: &str, target: &str) {
    let pair = format!("{source}→{target}");
    let w = World::new(source, target);
    let mut failed = Vec::new();
    for (name, step) in STEPS {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| step(&w, &pair))) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failed.push(format!("step {name}: {why}"));
        }
    }
    assert!(
        failed.is_empty(),
        "[{pair}] {} step(s) failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

/// One test per (source, target) pair of [`world::DRIVERS`], named
/// `<source>::<target>` (`cargo test --test conformance mysql::` runs
/// every pair reading from MySQL). The list below must match `DRIVERS`,
/// which `every_pair_has_a_test` checks.
macro_rules! pairs {
    ($($driver:ident),*) => {
        const PAIRED: &[&str] = &[$(stringify!($driver)),*];
        pairs!(@sources [$($driver),*] [$($driver),*]);
    };
    (@sources [$($source:ident),*] $targets:tt) => {
        $( pairs!(@targets $source $targets); )*
    };
    (@targets $source:ident [$($target:ident),*]) => {
        mod $source {
            $(
                #[test]
                fn $target() {
                    super::story(stringify!($source), stringify!($target));
                }
            )*
        }
    };
}

pairs!(postgres, sqlite, mysql);

#[test]
fn every_pair_has_a_test() {
    assert_eq!(PAIRED, world::DRIVERS);
}
