//! Properties of config parsing: no input makes it panic, durations read
//! back exactly what was written, and every positioned error points inside
//! the text it came from.

use branchsync::config::{format_duration, parse_duration, Config, ConfigError};
use branchsync::driver::registry::Registry;
use proptest::prelude::*;
use std::path::Path;
use std::time::Duration;

const EXAMPLE: &str = include_str!("../config.example.toml");

/// Check that a positioned error points inside `text`.
fn position_in_bounds(text: &str, err: &ConfigError) -> Result<(), TestCaseError> {
    if let Some((line, column)) = err.position() {
        let lines: Vec<&str> = text.split('\n').collect();
        prop_assert!(
            line >= 1 && line <= lines.len(),
            "line {line} of {}: {err}",
            lines.len()
        );
        let width = lines[line - 1].chars().count();
        prop_assert!(
            column >= 1 && column <= width + 1,
            "column {column} of {width}: {err}"
        );
    }
    Ok(())
}

fn unit() -> impl Strategy<Value = (&'static str, u64)> {
    prop_oneof![
        Just(("ms", 1_000_000u64)),
        Just(("s", 1_000_000_000)),
        Just(("m", 60_000_000_000)),
        Just(("h", 3_600_000_000_000)),
        Just(("d", 86_400_000_000_000)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_duration_never_panics(s in "\\PC*") {
        let _ = parse_duration(&s);
    }

    #[test]
    fn parse_duration_never_panics_on_near_misses(s in "[0-9.]{0,30}[ ]?(ms|s|m|h|d|y|µs|)[0-9.]{0,3}") {
        let _ = parse_duration(&s);
    }

    #[test]
    fn whole_numbers_of_a_unit_read_back_exactly(n in 0u64..1_000_000, (u, nanos) in unit()) {
        let d = parse_duration(&format!("{n}{u}")).unwrap();
        prop_assert_eq!(d.as_nanos(), u128::from(n) * u128::from(nanos));
    }

    #[test]
    fn fractions_read_back_exactly(n in 0u64..100_000, frac in 0u32..1000, (u, nanos) in unit()) {
        let d = parse_duration(&format!("{n}.{frac:03}{u}")).unwrap();
        let want = u128::from(n) * u128::from(nanos) + u128::from(frac) * u128::from(nanos) / 1000;
        prop_assert_eq!(d.as_nanos(), want);
    }

    #[test]
    fn formatted_durations_round_trip(secs in 0u64..10_000_000_000, nanos in 0u32..1_000_000_000) {
        let d = Duration::new(secs, nanos);
        let s = format_duration(d);
        prop_assert_eq!(parse_duration(&s), Ok(d), "{}", s);
    }

    #[test]
    fn compounds_add_up(h in 0u64..1000, m in 0u64..60, s in 0u64..60) {
        let d = parse_duration(&format!("{h}h{m}m{s}s")).unwrap();
        prop_assert_eq!(d, Duration::from_secs(h * 3600 + m * 60 + s));
    }

    #[test]
    fn config_parse_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        if let Err(err) = Config::parse(&text, Path::new("/etc/branchsync.toml"), &Registry) {
            position_in_bounds(&text, &err)?;
        }
    }

    #[test]
    fn config_parse_never_panics_on_toml_like_text(
        text in "(\\[{1,2}(journal|engine|target|connection|table|log)\\]{0,2}\n|[a-z_]{1,14} = (\"[^\"\n]{0,20}\"|-?[0-9]{1,5}|true|\\[\"[a-z_]{0,8}\"\\])\n|#[^\n]{0,10}\n|\n){0,20}"
    ) {
        if let Err(err) = Config::parse(&text, Path::new("b.toml"), &Registry) {
            position_in_bounds(&text, &err)?;
        }
    }

    #[test]
    fn mutated_example_never_panics_and_points_inside(
        cut in 0usize..EXAMPLE.len(),
        len in 0usize..40,
        insert in "\\PC{0,8}",
    ) {
        let mut cut = cut;
        while !EXAMPLE.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut end = (cut + len).min(EXAMPLE.len());
        while !EXAMPLE.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}{}{}", &EXAMPLE[..cut], insert, &EXAMPLE[end..]);
        match Config::parse(&text, Path::new("/srv/branchsync.toml"), &Registry) {
            Ok(config) => prop_assert!(config.journal.path.is_absolute()),
            Err(err) => {
                position_in_bounds(&text, &err)?;
                if let ConfigError::Parse { message, .. } = &err {
                    prop_assert!(!message.is_empty());
                }
            }
        }
    }
}

#[test]
fn the_example_itself_parses() {
    Config::parse(EXAMPLE, Path::new("/srv/branchsync.toml"), &Registry).unwrap();
}
