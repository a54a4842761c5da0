//! Tests of the binary COPY scanner and branch injector, with the stream cut
//! at every offset and at random points.

use super::*;
use proptest::prelude::*;

type Tuple = Vec<Option<Vec<u8>>>;

fn header(ext: &[u8]) -> Vec<u8> {
    let mut s = SIGNATURE.to_vec();
    s.extend_from_slice(&0u32.to_be_bytes());
    s.extend_from_slice(&(ext.len() as u32).to_be_bytes());
    s.extend_from_slice(ext);
    s
}

fn push_tuple(s: &mut Vec<u8>, t: &[Option<Vec<u8>>], branch: Option<&str>) {
    let extra = branch.is_some() as i16;
    s.extend_from_slice(&(t.len() as i16 + extra).to_be_bytes());
    if let Some(b) = branch {
        s.extend_from_slice(&(b.len() as i32).to_be_bytes());
        s.extend_from_slice(b.as_bytes());
    }
    for f in t {
        match f {
            None => s.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => {
                s.extend_from_slice(&(v.len() as i32).to_be_bytes());
                s.extend_from_slice(v);
            }
        }
    }
}

fn stream(ext: &[u8], tuples: &[Tuple], branch: Option<&str>) -> Vec<u8> {
    let mut s = header(ext);
    for t in tuples {
        push_tuple(&mut s, t, branch);
    }
    s.extend_from_slice(&(-1i16).to_be_bytes());
    s
}

/// Feeds `input` cut at `cuts` (sorted offsets) through an injector.
fn inject(input: &[u8], cuts: &[usize], branch: &str) -> io::Result<(Vec<u8>, u64)> {
    let mut w = BranchInjector::new(Vec::new(), branch);
    let mut at = 0;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        let c = c.clamp(at, input.len());
        w.write_all(&input[at..c])?;
        at = c;
    }
    w.finish()
}

fn sample() -> Vec<Tuple> {
    vec![
        vec![
            Some(b"1000001".to_vec()),
            None,
            Some(b"caf\xc3\xa9\t\n".to_vec()),
        ],
        vec![Some(vec![]), Some(vec![0xff; 300]), None],
        vec![],
        vec![None, None, None],
    ]
}

#[test]
fn injects_the_branch_at_every_split_offset() {
    for ext in [&b""[..], &b"xyz"[..]] {
        let input = stream(ext, &sample(), None);
        let expected = stream(ext, &sample(), Some("pgsql_lmp"));
        for cut in 0..=input.len() {
            let (out, n) = inject(&input, &[cut], "pgsql_lmp").unwrap();
            assert_eq!(out, expected, "cut at {cut}");
            assert_eq!(n, 4);
        }
        let every: Vec<usize> = (0..input.len()).collect();
        assert_eq!(inject(&input, &every, "pgsql_lmp").unwrap().0, expected);
    }
}

#[test]
fn counts_tuples_at_every_split_offset() {
    let input = stream(b"", &sample(), None);
    for cut in 0..=input.len() {
        let mut c = TupleCounter::new();
        c.scan(&input[..cut]).unwrap();
        c.scan(&input[cut..]).unwrap();
        assert_eq!(c.finish().unwrap(), 4);
    }
}

#[test]
fn empty_stream_passes_header_and_trailer() {
    let input = stream(b"", &[], None);
    let (out, n) = inject(&input, &[], "b").unwrap();
    assert_eq!(out, input);
    assert_eq!(n, 0);
}

#[test]
fn rejects_bad_streams() {
    let good = stream(b"", &sample(), None);
    let mut bad_sig = good.clone();
    bad_sig[0] = b'X';
    assert!(inject(&bad_sig, &[], "b").is_err());

    let truncated = &good[..good.len() - 5];
    let err = inject(truncated, &[], "b").unwrap_err();
    assert!(err.to_string().contains("without its trailer"), "{err}");

    let mut after = good.clone();
    after.push(0);
    assert!(inject(&after, &[], "b").is_err());

    let mut oids = good.clone();
    oids[12] = 1; // flag bit 16
    assert!(inject(&oids, &[], "b")
        .unwrap_err()
        .to_string()
        .contains("OIDs"));

    let mut neg = header(b"");
    neg.extend_from_slice(&1i16.to_be_bytes());
    neg.extend_from_slice(&(-7i32).to_be_bytes());
    assert!(inject(&neg, &[], "b").is_err());
}

#[test]
fn hands_on_large_streams_in_big_buffers() {
    struct Sizes(Vec<usize>);
    impl Write for Sizes {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.push(b.len());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let tuples: Vec<Tuple> = (0..40_000)
        .map(|i| {
            vec![
                Some(format!("{i:020}").into_bytes()),
                Some(vec![7; 40]),
                None,
            ]
        })
        .collect();
    let input = stream(b"", &tuples, None);
    let mut w = BranchInjector::new(Sizes(Vec::new()), "b");
    for chunk in input.chunks(100) {
        w.write_all(chunk).unwrap();
    }
    let (sizes, n) = w.finish().unwrap();
    assert_eq!(n, 40_000);
    assert!(sizes.0.len() <= 4, "{:?}", sizes.0);
    assert!(sizes.0[0] >= BUFFER);
}

fn tuple_strategy() -> impl Strategy<Value = Tuple> {
    prop::collection::vec(
        prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        0..6,
    )
}

proptest! {
    #[test]
    fn injection_is_independent_of_chunking(
        tuples in prop::collection::vec(tuple_strategy(), 0..30),
        ext in prop::collection::vec(any::<u8>(), 0..5),
        mut cuts in prop::collection::vec(0usize..2000, 0..12),
        branch in "[a-z0-9_]{0,12}",
    ) {
        let input = stream(&ext, &tuples, None);
        cuts.sort_unstable();
        let (out, n) = inject(&input, &cuts, &branch).unwrap();
        prop_assert_eq!(out, stream(&ext, &tuples, Some(&branch)));
        prop_assert_eq!(n, tuples.len() as u64);
    }
}
