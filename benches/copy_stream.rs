//! The CPU cost of the copy path without the network: the binary
//! COPY branch injector and tuple counter on a c_invoiceline-shaped stream
//! cut into the ~row-sized chunks a server sends, the upsert merge of a
//! source and a target stream keyed on a numeric id, and COPY text encoding
//! of decoded rows. These must stay far above the servers' own throughput.

use branchsync::driver::postgres::binary_copy::{BranchInjector, TupleCounter, SIGNATURE};
use branchsync::driver::postgres::binary_key::{numeric_binary, KeyLayout};
use branchsync::driver::postgres::merge::KeyMerge;
use branchsync::driver::postgres::text_copy::{branch_prefix, push_row};
use branchsync::driver::Value;
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::io::{self, Write};

const TUPLES: usize = 100_000;

/// A binary COPY stream of c_invoiceline-like tuples (10 fields, some NULL),
/// and the tuples' byte lengths (a server sends about one tuple per message).
fn stream() -> (Vec<u8>, Vec<usize>) {
    let mut s = SIGNATURE.to_vec();
    s.extend_from_slice(&0u32.to_be_bytes());
    s.extend_from_slice(&0u32.to_be_bytes());
    let mut sizes = vec![s.len()];
    for i in 0..TUPLES {
        let start = s.len();
        s.extend_from_slice(&10i16.to_be_bytes());
        let text = format!("line {i} — ✓");
        let fields: [Option<&[u8]>; 10] = [
            Some(&[0, 2, 0, 1, 0, 0, 0, 100, 39, 16][..]),
            Some(&[0, 2, 0, 1, 0, 0, 0, 100, 7, 208][..]),
            if i % 11 == 0 {
                None
            } else {
                Some(&[0, 2, 0, 1, 0, 0, 0, 100, 0, 7][..])
            },
            Some(&[0, 1, 0, 0, 0, 0, 0, 2, 0, 5][..]),
            Some(&[0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 19, 136][..]),
            Some(&[0, 2, 0, 0, 0, 0, 0, 2, 0, 60, 19, 136][..]),
            if i % 4 == 0 {
                None
            } else {
                Some(text.as_bytes())
            },
            Some(b"Y"),
            Some(&[0, 2, 180, 7, 55, 144, 24, 0][..]),
            Some(&[0, 2, 180, 7, 55, 144, 24, 0][..]),
        ];
        for f in fields {
            match f {
                None => s.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    s.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    s.extend_from_slice(v);
                }
            }
        }
        sizes.push(s.len() - start);
    }
    s.extend_from_slice(&(-1i16).to_be_bytes());
    sizes.push(2);
    (s, sizes)
}

fn binary(c: &mut Criterion) {
    let (data, sizes) = stream();
    let mut g = c.benchmark_group("binary_copy");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("inject_branch_row_chunks", |b| {
        b.iter(|| {
            let mut w = BranchInjector::new(io::sink(), "pgsql_lmp");
            let mut at = 0;
            for &n in &sizes {
                w.write_all(&data[at..at + n]).unwrap();
                at += n;
            }
            black_box(w.finish().unwrap().1)
        })
    });
    g.bench_function("inject_branch_1mib_chunks", |b| {
        b.iter(|| {
            let mut w = BranchInjector::new(io::sink(), "pgsql_lmp");
            for chunk in data.chunks(1 << 20) {
                w.write_all(chunk).unwrap();
            }
            black_box(w.finish().unwrap().1)
        })
    });
    g.bench_function("count_tuples_1mib_chunks", |b| {
        b.iter(|| {
            let mut counter = TupleCounter::new();
            for chunk in data.chunks(1 << 20) {
                counter.scan(chunk).unwrap();
            }
            black_box(counter.finish().unwrap())
        })
    });
    g.finish();
}

/// A key-ordered c_invoiceline-like stream: numeric id, numeric amounts,
/// text, timestamps; every `change_every`-th row with another amount.
fn keyed_stream(change_every: Option<u64>) -> Vec<u8> {
    let mut s = SIGNATURE.to_vec();
    s.extend_from_slice(&[0; 8]);
    for i in 0..TUPLES as u64 {
        let changed = change_every.is_some_and(|n| i % n == 0);
        let id = numeric_binary(&(1_000_000 + i).to_string()).unwrap();
        let amount = numeric_binary(if changed { "13.50" } else { "12.50" }).unwrap();
        let text = format!("Invoice line {i}");
        let fields: [Option<&[u8]>; 8] = [
            Some(&id),
            Some(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 11][..]),
            Some(b"Y"),
            Some(&[0, 2, 180, 7, 55, 144, 24, 0][..]),
            if i % 4 == 0 {
                None
            } else {
                Some(text.as_bytes())
            },
            Some(&amount),
            Some(&[0, 2, 0, 0, 0, 0, 0, 2, 0, 60, 19, 136][..]),
            Some(&[0, 2, 180, 7, 55, 144, 24, 0][..]),
        ];
        s.extend_from_slice(&(fields.len() as i16).to_be_bytes());
        for f in fields {
            match f {
                None => s.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    s.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    s.extend_from_slice(v);
                }
            }
        }
    }
    s.extend_from_slice(&(-1i16).to_be_bytes());
    s
}

fn merge(c: &mut Criterion) {
    let target = keyed_stream(None);
    let types = [
        "numeric(10,0)",
        "numeric(10,0)",
        "character(1)",
        "timestamp without time zone",
        "character varying(255)",
        "numeric",
        "numeric",
        "timestamp without time zone",
    ];
    let names = [
        "id", "client", "active", "created", "text", "amount", "net", "updated",
    ];
    let columns: Vec<(&str, &str)> = names.into_iter().zip(types).collect();
    let layout = KeyLayout::new(&columns, &["id".to_owned()]).unwrap();
    let mut g = c.benchmark_group("upsert_merge");
    g.throughput(Throughput::Bytes(target.len() as u64));
    for (name, source) in [
        ("unchanged_1mib_chunks", target.clone()),
        ("5pct_changed_1mib_chunks", keyed_stream(Some(20))),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut m = KeyMerge::new(layout.clone(), &target[..], 1 << 20, Vec::new());
                for chunk in source.chunks(1 << 20) {
                    m.write_all(chunk).unwrap();
                }
                black_box(m.finish().unwrap().0)
            })
        });
    }
    g.finish();
}

fn text(c: &mut Criterion) {
    let date = NaiveDate::from_ymd_opt(2024, 4, 1)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let rows: Vec<Vec<Value>> = (0..10_000)
        .map(|i| {
            vec![
                Value::Numeric(format!("{}", 1_000_000 + i)),
                Value::Numeric(format!("{}", 1_000_000 + i / 5)),
                if i % 11 == 0 {
                    Value::Null
                } else {
                    Value::Numeric("1000007".into())
                },
                Value::Numeric("5".into()),
                Value::Numeric("12.50".into()),
                Value::Numeric("62.50".into()),
                Value::Text(format!("line {i}\twith tab — ✓")),
                Value::Text("Y".into()),
                Value::Timestamp(date),
                Value::Timestamp(date),
            ]
        })
        .collect();
    let prefix = branch_prefix("pgsql_lmp");
    let mut buf = Vec::with_capacity(4 << 20);
    push_rows(&mut buf, &prefix, &rows);
    let mut g = c.benchmark_group("text_copy");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("encode_rows", |b| {
        b.iter(|| {
            buf.clear();
            push_rows(&mut buf, &prefix, &rows);
            black_box(buf.len())
        })
    });
    g.finish();
}

fn push_rows(buf: &mut Vec<u8>, prefix: &[u8], rows: &[Vec<Value>]) {
    for r in rows {
        push_row(buf, prefix, r);
    }
}

criterion_group!(benches, binary, merge, text);
criterion_main!(benches);
