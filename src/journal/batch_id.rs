//! Batch ids: `sync_YmdHis_` in local time plus 8 random `[A-Za-z0-9]`, so they
//! sort by start time and never collide between two runs of the same second.

use rand::distr::Alphanumeric;
use rand::RngExt;

pub fn new_batch_id() -> String {
    let stamp = chrono::Local::now().format("%Y%m%d%H%M%S");
    let suffix: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    format!("sync_{stamp}_{suffix}")
}

/// Whether `s` has the shape of a batch id (used to give a clear error early).
pub fn is_batch_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("sync_") else {
        return false;
    };
    let (stamp, suffix) = match rest.split_once('_') {
        Some(p) => p,
        None => return false,
    };
    stamp.len() == 14
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && suffix.len() == 8
        && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape() {
        let id = new_batch_id();
        assert!(is_batch_id(&id), "{id}");
        assert_ne!(new_batch_id(), new_batch_id());
        assert!(!is_batch_id("sync_2024_abc"));
        assert!(!is_batch_id("sync_20240101120000_abc!defg"));
    }
}
