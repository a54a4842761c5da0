//! Unit tests of the bisection's bookkeeping (no database).

use super::*;

fn k(s: &str) -> KeyText {
    vec![s.to_owned()]
}

fn leaf(rows: u64) -> Tuning {
    Tuning {
        leaf_rows: rows,
        ..Tuning::default()
    }
}

#[test]
fn a_bucket_near_leaf_size_is_cut_into_leaves_at_once() {
    let t = leaf(4);
    assert_eq!(parts_of(9, &t), 16, "never fewer parts than the factor");
    assert_eq!(parts_of(100, &t), 25, "25 parts of 4 rows");
    assert_eq!(parts_of(1_000_000, &t), 16, "far from leaves: the factor");
}

fn sum(bucket: u32, rows: u64, d: u8) -> BucketSum {
    BucketSum {
        bucket,
        rows,
        digest: [d; 16],
    }
}

#[test]
fn classify_sorts_each_bucket_by_what_differs() {
    let src = [sum(0, 5, 1), sum(1, 9, 1), sum(2, 3, 1), sum(4, 100, 1)];
    let tgt = [
        sum(0, 5, 1),
        sum(1, 9, 2),
        sum(2, 3, 2),
        sum(3, 7, 1),
        sum(4, 100, 2),
    ];
    let plan = classify(&[0, 1, 2, 3, 4, 5], &src, &tgt, &leaf(4));
    assert_eq!(plan.delete, vec![3]);
    assert_eq!(plan.copy, Vec::<(u32, u64)>::new());
    assert_eq!(plan.compare, vec![(2, 6)]);
    assert_eq!(
        plan.split,
        vec![
            Parent {
                bucket: 1,
                rows: 9,
                parts: 16
            },
            Parent {
                bucket: 4,
                rows: 100,
                parts: 25
            }
        ]
    );
}

#[test]
fn a_single_source_row_is_compared_whatever_the_target_holds() {
    let plan = classify(&[0], &[sum(0, 1, 1)], &[sum(0, 50, 2)], &leaf(4));
    assert_eq!(plan.compare, vec![(0, 51)]);
}

#[test]
fn next_level_keeps_gaps_unwanted_and_shares_bounds() {
    // Buckets: 0 (<b), 1 [b,d), 2 [d,f), 3 [f,…).
    let level = Buckets {
        bounds: vec![k("b"), k("d"), k("f")],
        wanted: vec![0, 1, 2, 3],
        origin: Vec::new(),
    };
    let parents = [
        Parent {
            bucket: 0,
            rows: 9,
            parts: 3,
        },
        Parent {
            bucket: 1,
            rows: 9,
            parts: 3,
        },
        Parent {
            bucket: 3,
            rows: 9,
            parts: 3,
        },
    ];
    let (next, families) = next_level(
        &level,
        &parents,
        vec![vec![k("a")], vec![k("c")], vec![k("g")]],
    )
    .unwrap();
    assert_eq!(families, vec![0..2, 2..4, 4..6]);
    assert_eq!(
        next.bounds,
        vec![k("a"), k("b"), k("c"), k("d"), k("f"), k("g")]
    );
    // 0 (<a), 1 [a,b), 2 [b,c), 3 [c,d); 4 [d,f) is a gap; 5 [f,g), 6 [g,…).
    assert_eq!(next.wanted, vec![0, 1, 2, 3, 5, 6]);
    // Each child lies in its parent's first-level bucket, the gap in none;
    // and a level after that still finds the first level's bucket.
    let none = crate::driver::checksum::NO_ORIGIN;
    assert_eq!(next.origin, vec![0, 0, 1, 1, none, 3, 3]);
    let parent = Parent {
        bucket: 5,
        rows: 9,
        parts: 2,
    };
    let (third, _) = next_level(&next, &[parent], vec![vec![k("fa")]]).unwrap();
    assert_eq!(third.bounds, vec![k("f"), k("fa"), k("g")]);
    assert_eq!(third.origin, vec![none, 3, 3, none]);
    assert_eq!(third.first_level_of(2), Some(3));
    assert_eq!(third.first_level_of(3), None);
}

#[test]
fn children_that_all_match_a_differing_parent_are_compared_by_rows() {
    // Parent split into buckets 0..=2 (family 0..3); every child's
    // checksum matches: a collision.
    let src = [sum(0, 2, 1), sum(1, 2, 1), sum(2, 2, 1)];
    let mut plan = classify(&[0, 1, 2], &src, &src, &leaf(4));
    assert_eq!(plan, LevelPlan::default());
    let family: Vec<std::ops::Range<usize>> = std::iter::once(0..3).collect();
    settle_collisions(&mut plan, &[0, 1, 2], &family, &src, &src);
    assert_eq!(plan.compare, vec![(0, 4), (1, 4), (2, 4)]);
}

#[test]
fn groups_bound_the_rows_read_at_once() {
    let g = groups(&[(0, 5), (1, 5), (2, 5), (3, 20)], 10);
    assert_eq!(g, vec![vec![0, 1], vec![2], vec![3]]);
}

#[test]
fn few_rows_to_cut_are_compared_at_once_where_levels_scan() {
    let parent = |bucket, rows| Parent {
        bucket,
        rows,
        parts: 16,
    };
    // 248 rows to read against 1% of 100,000: compared now.
    let mut plan = LevelPlan {
        split: vec![parent(3, 64), parent(9, 60)],
        ..LevelPlan::default()
    };
    compare_when_few(&mut plan, 100_000);
    assert!(plan.split.is_empty());
    assert_eq!(plan.compare, vec![(3, 128), (9, 120)]);
    // Against 1% of 10,000 rows: cut as before.
    let mut plan = LevelPlan {
        split: vec![parent(3, 64), parent(9, 60)],
        ..LevelPlan::default()
    };
    compare_when_few(&mut plan, 10_000);
    assert_eq!(plan.split.len(), 2);
    assert!(plan.compare.is_empty());
}

#[test]
fn a_compact_level_keeps_the_wanted_buckets_boundaries_only() {
    // Buckets: 0 (<b), 1 [b,d), 2 [d,f), 3 [f,h), 4 [h,…).
    let level = Buckets {
        bounds: vec![k("b"), k("d"), k("f"), k("h")],
        wanted: vec![0, 1, 2, 3, 4],
        origin: Vec::new(),
    };
    let c = level.compact(&[0, 2, 3]);
    // 0 (<b), 1 [b,d) a gap, 2 [d,f), 3 [f,h); nothing above h.
    assert_eq!(c.bounds, vec![k("b"), k("d"), k("f"), k("h")]);
    assert_eq!(c.wanted, vec![0, 2, 3]);
    let c = level.compact(&[2, 4]);
    // 0 (<d) a gap, 1 [d,f), 2 [f,h) a gap, 3 [h,…).
    assert_eq!(c.bounds, vec![k("d"), k("f"), k("h")]);
    assert_eq!(c.wanted, vec![1, 3]);
    let none = crate::driver::checksum::NO_ORIGIN;
    assert_eq!(c.origin, vec![none, 2, none, 4]);
    // A later level's origins carry over.
    let (next, _) = next_level(
        &level,
        &[Parent {
            bucket: 2,
            rows: 9,
            parts: 2,
        }],
        vec![vec![k("e")]],
    )
    .unwrap();
    let c = next.compact(&[next.wanted[1]]);
    assert_eq!(c.bounds, vec![k("e"), k("f")]);
    assert_eq!(
        (c.wanted.clone(), c.first_level_of(c.wanted[0])),
        (vec![1], Some(2))
    );
}
