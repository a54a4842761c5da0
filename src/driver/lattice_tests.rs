use super::*;
use Family::*;

fn samples() -> Vec<Family> {
    vec![
        Bool,
        Int { bytes: 2 },
        Int { bytes: 4 },
        Int { bytes: 8 },
        Numeric { bounds: None },
        Numeric {
            bounds: Some((3, 2)),
        },
        Numeric {
            bounds: Some((12, 0)),
        },
        Float { bytes: 4 },
        Float { bytes: 8 },
        Text { len: None },
        Text { len: Some(1) },
        Text { len: Some(40) },
        Bytes,
        Date,
        Timestamp {
            tz: false,
            precision: 6,
        },
        Timestamp {
            tz: false,
            precision: 0,
        },
        Timestamp {
            tz: true,
            precision: 6,
        },
        Json { binary: true },
        Json { binary: false },
        Set,
        Named {
            name: "uuid".into(),
            array: false,
        },
        Named {
            name: "mpaa_rating".into(),
            array: false,
        },
        Named {
            name: "text[]".into(),
            array: true,
        },
        Named {
            name: "integer[]".into(),
            array: true,
        },
    ]
}

#[test]
fn join_is_commutative_associative_and_idempotent() {
    let s = samples();
    for a in &s {
        assert_eq!(join(a, a), Ok(a.clone()), "{a} ⊔ {a}");
        for b in &s {
            let ab = join(a, b).ok();
            assert_eq!(ab, join(b, a).ok(), "{a} ⊔ {b}");
            for c in &s {
                let left = ab.as_ref().and_then(|ab| join(ab, c).ok());
                let right = join(b, c).ok().and_then(|bc| join(a, &bc).ok());
                assert_eq!(left, right, "({a} ⊔ {b}) ⊔ {c} vs {a} ⊔ ({b} ⊔ {c})");
            }
        }
    }
}

/// Heap's algorithm: every order of `items`.
fn permutations(items: &[Family]) -> Vec<Vec<Family>> {
    fn go(k: usize, v: &mut Vec<Family>, out: &mut Vec<Vec<Family>>) {
        if k <= 1 {
            out.push(v.clone());
            return;
        }
        go(k - 1, v, out);
        for i in 0..k - 1 {
            if k.is_multiple_of(2) {
                v.swap(i, k - 1);
            } else {
                v.swap(0, k - 1);
            }
            go(k - 1, v, out);
        }
    }
    let mut out = Vec::new();
    go(items.len(), &mut items.to_vec(), &mut out);
    out
}

#[test]
fn every_branch_order_folds_to_the_same_family() {
    let sets: Vec<Vec<Family>> = vec![
        // A flag: MySQL TINYINT(1), PostgreSQL smallint, boolean, a SQLite INTEGER.
        vec![Bool, Int { bytes: 2 }, Bool, Int { bytes: 8 }, Bool],
        // A last update: TIMESTAMP (MySQL, an instant), a SQLite DATETIME, a date.
        vec![
            Timestamp {
                tz: true,
                precision: 0,
            },
            Timestamp {
                tz: false,
                precision: 6,
            },
            Date,
            Date,
            Timestamp {
                tz: false,
                precision: 3,
            },
        ],
        // Money: decimals of two shapes, an integer and a float.
        vec![
            Numeric {
                bounds: Some((3, 2)),
            },
            Numeric {
                bounds: Some((10, 0)),
            },
            Int { bytes: 4 },
            Float { bytes: 8 },
            Bool,
            Int { bytes: 2 },
        ],
        // A year: YEAR (an integer), VARCHAR(4), integer.
        vec![
            Int { bytes: 8 },
            Text { len: Some(4) },
            Int { bytes: 4 },
            Text { len: Some(10) },
            Date,
        ],
        // Special features: a SET, a text array, a SET.
        vec![
            Set,
            Named {
                name: "text[]".into(),
                array: true,
            },
            Set,
        ],
        // A refusal is a refusal in every order.
        vec![Bytes, Text { len: None }, Int { bytes: 4 }, Bytes, Bool],
    ];
    for set in sets {
        let perms = permutations(&set);
        assert_eq!(perms.len(), (1..=set.len()).product::<usize>());
        let first = fold(&perms[0]).unwrap().ok();
        for p in &perms {
            assert_eq!(fold(p).unwrap().ok(), first, "{p:?}");
        }
    }
}

#[test]
fn the_documented_joins() {
    let j = |a: Family, b: Family| join(&a, &b);
    assert_eq!(j(Int { bytes: 2 }, Int { bytes: 8 }), Ok(Int { bytes: 8 }));
    assert_eq!(
        j(
            Int { bytes: 8 },
            Numeric {
                bounds: Some((3, 2))
            }
        ),
        Ok(Numeric {
            bounds: Some((19, 2))
        })
    );
    assert_eq!(
        j(Float { bytes: 8 }, Int { bytes: 4 }),
        Ok(Numeric { bounds: None })
    );
    assert_eq!(
        j(
            Date,
            Timestamp {
                tz: false,
                precision: 6
            }
        ),
        Ok(Timestamp {
            tz: false,
            precision: 6
        })
    );
    assert_eq!(
        j(
            Timestamp {
                tz: false,
                precision: 6
            },
            Timestamp {
                tz: true,
                precision: 0
            }
        ),
        Ok(Timestamp {
            tz: true,
            precision: 6
        })
    );
    assert_eq!(j(Bool, Int { bytes: 2 }), Ok(Int { bytes: 2 }));
    assert_eq!(j(Bool, Text { len: Some(1) }), Ok(Text { len: None }));
    assert_eq!(
        j(Text { len: Some(20) }, Text { len: Some(40) }),
        Ok(Text { len: Some(40) })
    );
    assert_eq!(
        j(Json { binary: true }, Json { binary: false }),
        Ok(Json { binary: false })
    );
    assert!(j(Bytes, Text { len: None }).is_err());
    assert!(j(
        Named {
            name: "text[]".into(),
            array: true
        },
        Text { len: None }
    )
    .is_err());
    assert_eq!(
        conversion(&Bool, &Int { bytes: 2 }),
        Conversion::FlagToNumber
    );
    assert_eq!(
        conversion(&Bool, &Text { len: None }),
        Conversion::FlagToText
    );
    assert_eq!(conversion(&Date, &TEXT), Conversion::None);
}

#[test]
fn an_existing_column_widens_in_place_only_within_its_type() {
    let ok = |a: Family, b: Family| widens_in_place(&a, &b);
    assert!(ok(Int { bytes: 4 }, Int { bytes: 8 }));
    assert!(ok(Int { bytes: 4 }, Numeric { bounds: None }));
    assert!(ok(
        Date,
        Timestamp {
            tz: false,
            precision: 6
        }
    ));
    assert!(ok(
        Timestamp {
            tz: false,
            precision: 6
        },
        Timestamp {
            tz: true,
            precision: 6
        }
    ));
    assert!(ok(Text { len: Some(20) }, TEXT));
    assert!(!ok(Numeric { bounds: None }, TEXT));
    assert!(!ok(Bool, Int { bytes: 2 }));
    assert!(!ok(Bool, TEXT));
}
