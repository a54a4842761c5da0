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

/// Whether `s` has the shape of a batch id, ours or the seed's (used to give a
/// clear error early).
pub fn is_batch_id(s: &str) -> bool {
    canonical_batch_id(s).is_some()
}

/// `s` in our form. The seed wrote `sync_20251108_143052_aB3dEf9h` (an
/// underscore between date and time); operators paste those, so every place
/// that reads an id accepts both, and we keep writing ours.
pub fn canonical_batch_id(s: &str) -> Option<String> {
    let rest = s.strip_prefix("sync_")?;
    let (stamp, suffix) = rest.rsplit_once('_')?;
    let stamp = match stamp.split_once('_') {
        Some((date, time)) if date.len() == 8 && time.len() == 6 => format!("{date}{time}"),
        Some(_) => return None,
        None => stamp.to_owned(),
    };
    let ok = stamp.len() == 14
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && suffix.len() == 8
        && suffix.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| format!("sync_{stamp}_{suffix}"))
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

    #[test]
    fn the_seeds_form_is_read_as_ours() {
        for (given, ours) in [
            (
                "sync_20251108_143052_aB3dEf9h",
                Some("sync_20251108143052_aB3dEf9h"),
            ),
            (
                "sync_20251108143052_aB3dEf9h",
                Some("sync_20251108143052_aB3dEf9h"),
            ),
            ("sync_2025110_8143052_aB3dEf9h", None),
            ("sync_20251108_143052_aB3dEf9", None),
            ("sync_20251108_1430x2_aB3dEf9h", None),
        ] {
            assert_eq!(canonical_batch_id(given).as_deref(), ours, "{given}");
        }
    }
}
