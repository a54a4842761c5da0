//! Tests of the binary key order: numerics of every shape against their
//! decimal value, integers of each width, and key fields found in tuples.

use super::*;
use proptest::prelude::*;

fn num(text: &str) -> Vec<u8> {
    numeric_binary(text).unwrap_or_else(|| panic!("not a decimal: {text}"))
}

#[test]
fn numeric_binary_matches_postgresql() {
    // Bytes as `numeric_send` gives them (checked against the server in the
    // driver tests too).
    assert_eq!(num("0"), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(num("0.00"), [0, 0, 0, 0, 0, 0, 0, 2]);
    assert_eq!(num("1"), [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(num("-1.5"), [0, 2, 0, 0, 0x40, 0, 0, 1, 0, 1, 0x13, 0x88]);
    assert_eq!(num("10000"), [0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(num("0.0001"), [0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 1]);
    assert_eq!(num("NaN"), [0, 0, 0, 0, 0xc0, 0, 0, 0]);
    assert_eq!(numeric_binary("1e5"), None);
    assert_eq!(numeric_binary(".5"), None);
}

#[test]
fn numerics_sort_by_value() {
    let sorted = [
        "-Infinity",
        "-123456789012345678901234567890.5",
        "-10000.0001",
        "-10000",
        "-9999.9999",
        "-1.0001",
        "-1",
        "-0.5",
        "-0.00000001",
        "0",
        "0.00000001",
        "0.0001",
        "0.5",
        "1",
        "1.00000001",
        "9999",
        "9999.99999999",
        "10000",
        "10000.0001",
        "100000000",
        "123456789012345678901234567890.5",
        "Infinity",
        "NaN",
    ];
    for (i, a) in sorted.iter().enumerate() {
        for (j, b) in sorted.iter().enumerate() {
            assert_eq!(compare_numeric(&num(a), &num(b)), i.cmp(&j), "{a} vs {b}");
        }
    }
}

#[test]
fn equal_values_with_other_scales_are_equal() {
    for (a, b) in [
        ("1", "1.00"),
        ("0", "0.000"),
        ("-0", "0"),
        ("-2.50", "-2.5"),
        ("10000", "10000.0000"),
        ("NaN", "NaN"),
    ] {
        assert_eq!(
            compare_numeric(&num(a), &num(b)),
            Ordering::Equal,
            "{a} = {b}"
        );
    }
}

#[test]
fn unnormalized_digits_compare_by_value() {
    // 1 with a leading and a trailing zero digit: weight 1, digits 0, 1, 0.
    let padded = [0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
    assert_eq!(compare_numeric(&padded, &num("1")), Ordering::Equal);
    assert_eq!(compare_numeric(&padded, &num("2")), Ordering::Less);
    assert_eq!(compare_numeric(&num("0.5"), &padded), Ordering::Less);
}

#[test]
fn malformed_numerics_still_compare() {
    assert_eq!(compare_numeric(&[1, 2], &[1, 3]), Ordering::Less);
    assert_eq!(
        compare_numeric(&[0, 9, 0, 0, 0, 0, 0, 0], &num("1")),
        [0, 9].cmp(&[0, 1])
    );
}

#[test]
fn integers_of_each_width() {
    let k = KeyType::Int;
    assert_eq!(
        k.compare(&(-1i16).to_be_bytes(), &1i16.to_be_bytes()),
        Ordering::Less
    );
    assert_eq!(
        k.compare(&(-5i32).to_be_bytes(), &(-6i32).to_be_bytes()),
        Ordering::Greater
    );
    assert_eq!(
        k.compare(&i64::MIN.to_be_bytes(), &i64::MAX.to_be_bytes()),
        Ordering::Less
    );
    assert_eq!(
        k.compare(&7i64.to_be_bytes(), &7i64.to_be_bytes()),
        Ordering::Equal
    );
    let u = KeyType::Bytes;
    assert_eq!(u.compare(&[0x80; 16], &[0x7f; 16]), Ordering::Greater);
}

#[test]
fn key_types_by_name() {
    for (name, want) in [
        ("integer", Some(KeyType::Int)),
        ("bigint", Some(KeyType::Int)),
        ("smallint", Some(KeyType::Int)),
        ("numeric", Some(KeyType::Numeric)),
        ("numeric(10,0)", Some(KeyType::Numeric)),
        ("date", Some(KeyType::Int)),
        ("timestamp(3) without time zone", Some(KeyType::Int)),
        ("timestamp with time zone", Some(KeyType::Int)),
        ("uuid", Some(KeyType::Bytes)),
        ("text", None),
        ("character varying(20)", None),
        ("double precision", None),
        ("integer[]", None),
        ("my_domain", None),
    ] {
        assert_eq!(KeyType::of(name), want, "{name}");
    }
}

fn tuple(fields: &[Option<&[u8]>]) -> Vec<u8> {
    let mut t = (fields.len() as i16).to_be_bytes().to_vec();
    for f in fields {
        match f {
            None => t.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                t.extend_from_slice(&(v.len() as i32).to_be_bytes());
                t.extend_from_slice(v);
            }
        }
    }
    t
}

#[test]
fn layouts_find_and_order_multi_column_keys() {
    let cols = [
        ("name", "text"),
        ("org", "integer"),
        ("id", "numeric(10,0)"),
    ];
    let key = ["id".to_owned(), "org".to_owned()];
    let layout = KeyLayout::new(&cols, &key).unwrap();
    assert_eq!(layout.keys, vec![(2, KeyType::Numeric), (1, KeyType::Int)]);
    assert!(KeyLayout::new(&cols, &["name".to_owned()]).is_none());
    assert!(KeyLayout::new(&cols, &["gone".to_owned()]).is_none());
    assert!(KeyLayout::new(&cols, &[]).is_none());

    let (one, two, neg) = (num("1"), num("2"), (-3i32).to_be_bytes());
    let a = tuple(&[Some(b"zz"), Some(&neg), Some(&one)]);
    let b = tuple(&[None, Some(&5i32.to_be_bytes()), Some(&one)]);
    let c = tuple(&[Some(b""), Some(&neg), Some(&two)]);
    let (mut ka, mut kb, mut kc) = (Vec::new(), Vec::new(), Vec::new());
    key_fields(&layout, &a, &mut ka).unwrap();
    key_fields(&layout, &b, &mut kb).unwrap();
    key_fields(&layout, &c, &mut kc).unwrap();
    assert_eq!(layout.compare(&a, &ka, &b, &kb), Ordering::Less);
    assert_eq!(layout.compare(&b, &kb, &c, &kc), Ordering::Less);
    assert_eq!(layout.compare(&c, &kc, &a, &ka), Ordering::Greater);
    assert_eq!(layout.compare(&a, &ka, &a, &ka), Ordering::Equal);

    let null_org = tuple(&[None, None, Some(&one)]);
    let mut kn = Vec::new();
    key_fields(&layout, &null_org, &mut kn).unwrap();
    assert_eq!(kn[1], None);
    assert_eq!(layout.compare(&b, &kb, &null_org, &kn), Ordering::Less);

    let short = tuple(&[None, None]);
    assert!(key_fields(&layout, &short, &mut kn).is_err());
}

proptest! {
    #[test]
    fn numerics_order_like_their_values(a in any::<i64>(), sa in 0u32..12, b in any::<i64>(), sb in 0u32..12) {
        let text = |v: i64, s: u32| {
            let digits = format!("{:0>width$}", v.unsigned_abs(), width = s as usize + 1);
            let (int, frac) = digits.split_at(digits.len() - s as usize);
            let sign = if v < 0 { "-" } else { "" };
            if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
        };
        let want = (i128::from(a) * 10i128.pow(sb)).cmp(&(i128::from(b) * 10i128.pow(sa)));
        prop_assert_eq!(compare_numeric(&num(&text(a, sa)), &num(&text(b, sb))), want);
    }

    #[test]
    fn integers_order_like_their_values(a in any::<i64>(), b in any::<i64>()) {
        prop_assert_eq!(KeyType::Int.compare(&a.to_be_bytes(), &b.to_be_bytes()), a.cmp(&b));
        let (x, y) = (a as i32, b as i32);
        prop_assert_eq!(KeyType::Int.compare(&x.to_be_bytes(), &y.to_be_bytes()), x.cmp(&y));
    }
}
