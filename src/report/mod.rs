//! What the user sees: status tables, JSON, CSV, number and duration formats.
