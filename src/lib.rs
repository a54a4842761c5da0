//! branchsync: consolidate many branch databases into one central database,
//! journaled in SQLite so that every run can be resumed where it stopped.

pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod driver;
pub mod engine;
pub mod exit;
pub mod hint;
pub mod journal;
pub mod logging;
pub mod metrics;
pub mod mirror;
pub mod notify;
pub mod out;
pub mod report;
pub mod serve;
