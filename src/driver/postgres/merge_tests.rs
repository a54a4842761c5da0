//! Tests of the key-ordered merge: what is skipped and what is passed on,
//! with both streams cut byte by byte and at random points, against a
//! model of the merge.

use super::*;
use crate::driver::postgres::binary_key::{numeric_binary, KeyType};
use crate::driver::postgres::tuple_frame::plain_header;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A row: (id, org) key, a nullable text and a nullable int.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    org: i32,
    name: Option<String>,
    qty: Option<i32>,
}

fn row(id: i64, name: Option<&str>, qty: Option<i32>) -> Row {
    Row {
        id,
        org: 0,
        name: name.map(str::to_owned),
        qty,
    }
}

/// Fields: name text, id numeric, qty int4, org int4; key (id, org).
fn layout() -> KeyLayout {
    KeyLayout::new(
        &[
            ("name", "text"),
            ("id", "numeric(10,0)"),
            ("qty", "integer"),
            ("org", "integer"),
        ],
        &["id".to_owned(), "org".to_owned()],
    )
    .unwrap()
}

fn tuple(r: &Row) -> Vec<u8> {
    let id = numeric_binary(&r.id.to_string()).unwrap();
    let fields: [Option<Vec<u8>>; 4] = [
        r.name.as_ref().map(|n| n.as_bytes().to_vec()),
        Some(id),
        r.qty.map(|q| q.to_be_bytes().to_vec()),
        Some(r.org.to_be_bytes().to_vec()),
    ];
    let mut t = 4i16.to_be_bytes().to_vec();
    for f in fields {
        match f {
            None => t.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                t.extend_from_slice(&(v.len() as i32).to_be_bytes());
                t.extend_from_slice(&v);
            }
        }
    }
    t
}

fn stream(rows: &[Row]) -> Vec<u8> {
    let mut s = plain_header().to_vec();
    for r in rows {
        s.extend_from_slice(&tuple(r));
    }
    s.extend_from_slice(&(-1i16).to_be_bytes());
    s
}

/// A reader that hands out at most `chunk` bytes per `fill_buf`.
struct Chunked {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl std::io::Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Chunked {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let end = (self.at + self.chunk).min(self.data.len());
        Ok(&self.data[self.at..end])
    }
    fn consume(&mut self, n: usize) {
        self.at += n;
    }
}

/// Merges `source` into `target`, the source written in pieces of
/// `src_chunk` bytes and the target read `tgt_chunk` bytes at a time with a
/// reader buffer of `capacity`. Returns the counts and the differing tuples.
fn run(
    source: &[u8],
    target: &[u8],
    src_chunk: usize,
    tgt_chunk: usize,
    capacity: usize,
) -> io::Result<(MergeCounts, Vec<u8>)> {
    let reader = Chunked {
        data: target.to_vec(),
        at: 0,
        chunk: tgt_chunk,
    };
    let mut m = KeyMerge::new(layout(), reader, capacity, Vec::new());
    for piece in source.chunks(src_chunk.max(1)) {
        m.write_all(piece)?;
    }
    m.finish()
}

fn concat(rows: &[&Row]) -> Vec<u8> {
    rows.iter().flat_map(|r| tuple(r)).collect()
}

/// The fixture: every case the merge must tell apart.
fn fixture() -> (Vec<Row>, Vec<Row>, Vec<u8>) {
    let same = row(1, Some("same"), Some(1));
    let target_only = row(2, Some("only in the target"), None);
    let changed_old = row(3, Some("text one"), Some(3));
    let changed_new = row(3, Some("text onf"), Some(3));
    let null_to_value_old = row(4, None, None);
    let null_to_value_new = row(4, None, Some(0));
    let longer_old = row(5, Some("abc"), Some(5));
    let longer_new = row(5, Some("abcd"), Some(5));
    let new_row = row(6, None, None);
    let same_nulls = row(7, None, None);
    let mut other_org = row(7, Some("org 1"), None);
    other_org.org = 1;
    let big_same = row(123_456_789_012, Some("big"), Some(-1));
    let big_new = row(123_456_789_013, Some("big, new"), None);
    let neg_same = row(-20_000, Some("negative"), Some(-20));
    let neg_new = row(-5, Some("negative, new"), None);
    let target = vec![
        neg_same.clone(),
        same.clone(),
        target_only,
        changed_old,
        null_to_value_old,
        longer_old,
        same_nulls.clone(),
        big_same.clone(),
    ];
    let source = vec![
        neg_same,
        neg_new.clone(),
        same,
        changed_new.clone(),
        null_to_value_new.clone(),
        longer_new.clone(),
        new_row.clone(),
        same_nulls,
        other_org.clone(),
        big_same,
        big_new.clone(),
    ];
    let diff = concat(&[
        &neg_new,
        &changed_new,
        &null_to_value_new,
        &longer_new,
        &new_row,
        &other_org,
        &big_new,
    ]);
    (source, target, diff)
}

#[test]
fn identical_rows_are_skipped_and_the_rest_passed_on() {
    let (source, target, want) = fixture();
    let (counts, diff) = run(
        &stream(&source),
        &stream(&target),
        1 << 20,
        1 << 20,
        1 << 20,
    )
    .unwrap();
    assert_eq!(
        counts,
        MergeCounts {
            source: 11,
            identical: 4,
            differing: 7,
            target: 8
        }
    );
    assert_eq!(diff, want);
}

#[test]
fn byte_by_byte_chunks_give_the_same_result() {
    let (source, target, want) = fixture();
    let (s, t) = (stream(&source), stream(&target));
    for (sc, tc, cap) in [
        (1, 1, 64),
        (1, 1 << 20, 64),
        (1 << 20, 1, 64),
        (3, 7, 100),
        (17, 5, 1 << 16),
    ] {
        let (counts, diff) = run(&s, &t, sc, tc, cap).unwrap();
        assert_eq!(
            (counts.identical, counts.differing),
            (4, 7),
            "chunks {sc}/{tc}"
        );
        assert_eq!(diff, want, "chunks {sc}/{tc}");
    }
}

#[test]
fn tuples_larger_than_the_buffer_are_read_whole() {
    let big = "x".repeat(10_000);
    let target = vec![row(1, Some(&big), None), row(2, Some(&big), Some(2))];
    let mut source = target.clone();
    source[1].qty = Some(3);
    let (counts, diff) = run(&stream(&source), &stream(&target), 333, 1000, 64).unwrap();
    assert_eq!((counts.identical, counts.differing), (1, 1));
    assert_eq!(diff, tuple(&source[1]));
}

#[test]
fn empty_streams() {
    let rows = vec![row(1, None, None), row(2, None, None)];
    let (counts, diff) = run(&stream(&[]), &stream(&rows), 5, 5, 64).unwrap();
    assert_eq!((counts.source, counts.target, diff.len()), (0, 2, 0));
    let (counts, diff) = run(&stream(&rows), &stream(&[]), 5, 5, 64).unwrap();
    assert_eq!((counts.source, counts.differing), (2, 2));
    assert_eq!(diff, concat(&[&rows[0], &rows[1]]));
}

#[test]
fn a_source_out_of_order_loses_speed_not_rows() {
    let target: Vec<Row> = (1..=20)
        .map(|i| row(i, Some("t"), Some(i as i32)))
        .collect();
    let mut source = target.clone();
    source.reverse();
    source[3].name = Some("changed".into());
    let (counts, diff) = run(&stream(&source), &stream(&target), 64, 64, 64).unwrap();
    assert_eq!(counts.source, 20);
    // Whatever was skipped is identical to the target; the change is passed on.
    assert!(diff.windows(7).any(|w| w == b"changed"));
    assert_eq!(counts.identical + counts.differing, 20);
}

#[test]
fn broken_input_is_an_error() {
    let rows = vec![row(1, None, None), row(1, Some("again"), None)];
    let e = run(&stream(&rows), &stream(&[]), 1 << 10, 1 << 10, 64).unwrap_err();
    assert!(
        e.to_string()
            .contains("sent more than one row with key (id, org) = ('1', "),
        "{e}"
    );

    let mut cut = stream(&[row(1, None, None)]);
    cut.truncate(cut.len() - 2);
    let e = run(&cut, &stream(&[]), 7, 7, 64).unwrap_err();
    assert!(e.to_string().contains("without its trailer"), "{e}");
    let e = run(&stream(&[]), &cut, 7, 7, 64).unwrap_err();
    assert!(e.to_string().contains("without its trailer"), "{e}");

    let mut three = plain_header().to_vec();
    three.extend_from_slice(&[
        0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    three.extend_from_slice(&[0xff, 0xff]);
    let e = run(&three, &stream(&[]), 100, 100, 64).unwrap_err();
    assert!(e.to_string().contains("3 fields where 4"), "{e}");

    let e = run(b"PGCOPY\n\xff\r\n\x01", &stream(&[]), 100, 100, 64).unwrap_err();
    assert!(e.to_string().contains("bad signature"), "{e}");

    let mut more = stream(&[]);
    more.extend_from_slice(&[0, 0]);
    let e = run(&more, &stream(&[]), 100, 100, 64).unwrap_err();
    assert!(e.to_string().contains("after its trailer"), "{e}");
}

#[test]
fn the_layout_orders_numeric_then_integer() {
    assert_eq!(
        layout().keys,
        vec![(1, KeyType::Numeric), (3, KeyType::Int)]
    );
}

/// Rows by (id, org): (name, qty).
type Rows = BTreeMap<(i64, i32), (Option<String>, Option<i32>)>;

fn arb_rows() -> impl Strategy<Value = Rows> {
    prop::collection::btree_map(
        (-1_000_000i64..1_000_000, 0i32..3),
        (prop::option::of("[a-c]{0,3}"), prop::option::of(0i32..3)),
        0..60,
    )
}

proptest! {
    /// Against a model: the source rows not identical to the target's row
    /// of the same key, in source order.
    #[test]
    fn matches_the_model(
        src in arb_rows(),
        tgt in arb_rows(),
        shared in prop::collection::vec(any::<bool>(), 60),
        src_chunk in 1usize..200,
        tgt_chunk in 1usize..200,
        cap in 64usize..512,
    ) {
        // Make some target rows identical to source rows.
        let mut tgt = tgt;
        for ((k, v), copy) in src.iter().zip(&shared) {
            if *copy {
                tgt.insert(*k, v.clone());
            }
        }
        let to_rows = |m: &Rows| -> Vec<Row> {
            m.iter()
                .map(|((id, org), (name, qty))| Row { id: *id, org: *org, name: name.clone(), qty: *qty })
                .collect()
        };
        let (s_rows, t_rows) = (to_rows(&src), to_rows(&tgt));
        let want: Vec<&Row> = s_rows
            .iter()
            .filter(|r| tgt.get(&(r.id, r.org)) != Some(&(r.name.clone(), r.qty)))
            .collect();
        let (counts, diff) = run(&stream(&s_rows), &stream(&t_rows), src_chunk, tgt_chunk, cap).unwrap();
        prop_assert_eq!(counts.source, s_rows.len() as u64);
        prop_assert_eq!(counts.target, t_rows.len() as u64);
        prop_assert_eq!(counts.differing, want.len() as u64);
        prop_assert_eq!(counts.identical, (s_rows.len() - want.len()) as u64);
        prop_assert_eq!(diff, concat(&want));
    }
}
