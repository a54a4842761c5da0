//! The schema plan's side of a target (docs/TYPES.md, "One central type
//! for every branch"): what it stores for one branch's column, and
//! creating or widening a table once for the whole fleet.

use super::{lattice, Column, Result, WritePlan};

/// A target that plans each central table once for every branch of a
/// batch (docs/TYPES.md, "One central type for every branch"): the
/// engine describes the table at each branch, joins each column's
/// families (`lattice`), and has the table created or widened once,
/// before any copy.
pub trait Planner {
    /// The family this target stores for one branch's column on its own.
    fn family(&mut self, col: &Column) -> lattice::Family;
    /// The type a column of `family` is created as here.
    fn type_name(&self, family: &lattice::Family) -> String;
    /// The existing table's columns and their families (`None`: no table).
    fn existing(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<Option<Vec<(String, lattice::Family)>>>;
    /// Create the table, or add and widen its columns, so that it holds
    /// `columns` (which hold the existing ones), in one transaction under a
    /// lock with a short lock timeout; `dry_run` runs nothing. Returns the
    /// statements (run or to run).
    fn apply(
        &mut self,
        plan: &WritePlan,
        columns: &[(String, lattice::Family)],
        dry_run: bool,
    ) -> Result<Vec<String>>;
}

/// Does a target of `driver` plan ahead? Only PostgreSQL so far; a
/// SQLite or MySQL central prepares each table at each copy. Asked
/// before any session opens, so that nothing is created for a target
/// that plans nothing (a SQLite file).
pub fn plans_ahead(driver: &str) -> bool {
    driver == "postgres"
}
