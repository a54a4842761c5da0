//! The `postgres` driver as source and target against the real local
//! server: every mode on the binary and the text path, schema handling,
//! NULL keys, rollback on failure, cancellation, timeouts, hostile names.
//! Content is compared per branch with an order-independent hash in SQL.

mod common;

#[path = "driver_postgres/failures.rs"]
mod failures;
#[path = "driver_postgres/harness.rs"]
mod harness;
#[path = "driver_postgres/merge.rs"]
mod merge;
#[path = "driver_postgres/modes.rs"]
mod modes;
#[path = "driver_postgres/schema.rs"]
mod schema;
