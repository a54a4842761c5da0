//! The copy engine: plans a batch, runs it on a rayon pool, retries, cancels.
