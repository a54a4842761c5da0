//! Key fields of binary COPY tuples compared the way PostgreSQL's default
//! btree order compares them, without decoding anything else: this is what
//! lets the upsert merge walk a source and a target stream that the servers
//! sorted with `ORDER BY key…`. Only types whose binary form has a simple
//! total order are supported; other keys take the staging path.

use std::cmp::Ordering;
use std::ops::Range;

/// A key column type the merge can order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// int2, int4, int8, date, timestamp, timestamptz: big-endian two's
    /// complement (the infinities of dates and timestamps are the extremes).
    Int,
    /// numeric: ndigits, weight, sign, dscale, then base-10000 digits.
    Numeric,
    /// uuid: 16 bytes, ordered as unsigned bytes.
    Bytes,
}

impl KeyType {
    /// The key type of a column of PostgreSQL type `name` (as `format_type`
    /// prints it), or `None` when the merge cannot order it.
    pub fn of(name: &str) -> Option<KeyType> {
        let base = match name.find('(') {
            Some(open) => {
                let close = name[open..].find(')').map_or(name.len(), |c| open + c + 1);
                format!("{}{}", &name[..open], &name[close..])
            }
            None => name.to_owned(),
        };
        match base.trim() {
            "smallint"
            | "integer"
            | "bigint"
            | "date"
            | "timestamp without time zone"
            | "timestamp with time zone" => Some(KeyType::Int),
            "numeric" => Some(KeyType::Numeric),
            "uuid" => Some(KeyType::Bytes),
            _ => None,
        }
    }

    /// Orders two non-NULL values of this type.
    pub fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            KeyType::Int => compare_int(a, b),
            KeyType::Numeric => compare_numeric(a, b),
            KeyType::Bytes => a.cmp(b),
        }
    }
}

/// Big-endian signed integers of the same width; anything else bytewise.
fn compare_int(a: &[u8], b: &[u8]) -> Ordering {
    match (a.len(), b.len()) {
        (2, 2) => i16::from_be_bytes([a[0], a[1]]).cmp(&i16::from_be_bytes([b[0], b[1]])),
        (4, 4) => i32::from_be_bytes(a.try_into().unwrap_or_default())
            .cmp(&i32::from_be_bytes(b.try_into().unwrap_or_default())),
        (8, 8) => i64::from_be_bytes(a.try_into().unwrap_or_default())
            .cmp(&i64::from_be_bytes(b.try_into().unwrap_or_default())),
        _ => a.cmp(b),
    }
}

const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// A numeric's binary form, read in place.
struct Numeric<'a> {
    weight: i32,
    sign: u16,
    digits: &'a [u8],
}

impl<'a> Numeric<'a> {
    fn parse(b: &'a [u8]) -> Option<Numeric<'a>> {
        if b.len() < 8 {
            return None;
        }
        let ndigits = u16::from_be_bytes([b[0], b[1]]) as usize;
        let digits = b.get(8..8 + 2 * ndigits)?;
        Some(Numeric {
            weight: i16::from_be_bytes([b[2], b[3]]) as i32,
            sign: u16::from_be_bytes([b[4], b[5]]),
            digits,
        })
    }

    fn ndigits(&self) -> i32 {
        (self.digits.len() / 2) as i32
    }

    /// The base-10000 digit worth 10000^`power` (0 outside the stored ones).
    fn digit(&self, power: i32) -> u16 {
        let i = self.weight - power;
        if i < 0 || i >= self.ndigits() {
            return 0;
        }
        let i = i as usize * 2;
        u16::from_be_bytes([self.digits[i], self.digits[i + 1]])
    }

    fn is_zero(&self) -> bool {
        self.digits.iter().all(|&b| b == 0)
    }

    /// -inf < negative < zero < positive < +inf < NaN, as PostgreSQL sorts.
    fn rank(&self) -> u8 {
        match self.sign {
            NUMERIC_NINF => 0,
            NUMERIC_PINF => 4,
            NUMERIC_NAN => 5,
            _ if self.is_zero() => 2,
            NUMERIC_NEG => 1,
            _ => 3,
        }
    }

    /// Compares absolute values digit by digit from the highest power
    /// present in either; leading or trailing zero digits do not matter.
    fn cmp_abs(&self, other: &Numeric) -> Ordering {
        let high = self.weight.max(other.weight);
        let low = (self.weight - self.ndigits() + 1).min(other.weight - other.ndigits() + 1);
        let mut power = high;
        while power >= low {
            match self.digit(power).cmp(&other.digit(power)) {
                Ordering::Equal => power -= 1,
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }
}

/// Orders two numerics by value (`1.0` equals `1.00`); malformed input
/// falls back to bytewise order so that the comparison stays total.
pub fn compare_numeric(a: &[u8], b: &[u8]) -> Ordering {
    let (Some(x), Some(y)) = (Numeric::parse(a), Numeric::parse(b)) else {
        return a.cmp(b);
    };
    match x.rank().cmp(&y.rank()) {
        Ordering::Equal => match x.rank() {
            1 => y.cmp_abs(&x),
            3 => x.cmp_abs(&y),
            _ => Ordering::Equal,
        },
        unequal => unequal,
    }
}

/// The binary form PostgreSQL gives the decimal literal `text`
/// (`-12.50`, `NaN`, `Infinity`), for building streams in tests and
/// benchmarks; `None` when `text` is not a plain decimal.
pub fn numeric_binary(text: &str) -> Option<Vec<u8>> {
    let special = match text {
        "NaN" => Some(NUMERIC_NAN),
        "Infinity" => Some(NUMERIC_PINF),
        "-Infinity" => Some(NUMERIC_NINF),
        _ => None,
    };
    if let Some(sign) = special {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&sign.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        return Some(b);
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    // Align on the decimal point in groups of four decimal digits.
    let pad_left = (4 - int.len() % 4) % 4;
    let pad_right = (4 - frac.len() % 4) % 4;
    let decimal: Vec<u8> = std::iter::repeat_n(b'0', pad_left)
        .chain(int.bytes())
        .chain(frac.bytes())
        .chain(std::iter::repeat_n(b'0', pad_right))
        .collect();
    let mut groups: Vec<u16> = decimal
        .chunks(4)
        .map(|g| g.iter().fold(0u16, |n, c| n * 10 + u16::from(c - b'0')))
        .collect();
    let mut weight = ((pad_left + int.len()) / 4) as i32 - 1;
    let lead = groups.iter().take_while(|&&g| g == 0).count();
    groups.drain(..lead);
    weight -= lead as i32;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign = if negative && !groups.is_empty() {
        NUMERIC_NEG
    } else {
        0
    };
    let mut b = Vec::with_capacity(8 + 2 * groups.len());
    b.extend_from_slice(&(groups.len() as u16).to_be_bytes());
    b.extend_from_slice(&(weight as i16).to_be_bytes());
    b.extend_from_slice(&sign.to_be_bytes());
    b.extend_from_slice(&(frac.len() as u16).to_be_bytes());
    for g in groups {
        b.extend_from_slice(&g.to_be_bytes());
    }
    Some(b)
}

/// Where the key columns sit in a tuple and how to order them.
#[derive(Debug, Clone)]
pub struct KeyLayout {
    /// The tuple's field count.
    pub fields: usize,
    /// (field index, type) of each key column, in `ORDER BY` order.
    pub keys: Vec<(usize, KeyType)>,
    /// (name, PostgreSQL type) of each key column, in the same order: for
    /// naming a key value in errors.
    pub named: Vec<(String, String)>,
}

impl KeyLayout {
    /// The layout for `columns` (names and PostgreSQL types, in tuple order)
    /// keyed on `key`, or `None` when a key column is missing or of a type
    /// the merge cannot order.
    pub fn new(columns: &[(&str, &str)], key: &[String]) -> Option<KeyLayout> {
        if key.is_empty() {
            return None;
        }
        let keys = key
            .iter()
            .map(|k| {
                let i = columns.iter().position(|(name, _)| name == k)?;
                Some((i, KeyType::of(columns[i].1)?))
            })
            .collect::<Option<Vec<_>>>()?;
        let named = keys
            .iter()
            .map(|&(i, _)| (columns[i].0.to_owned(), columns[i].1.to_owned()))
            .collect();
        Some(KeyLayout {
            fields: columns.len(),
            keys,
            named,
        })
    }

    /// Orders two tuples by their key fields (ranges into each tuple, as
    /// [`key_fields`] finds them; `None` is NULL, sorted last).
    pub fn compare(
        &self,
        a: &[u8],
        a_keys: &[Option<Range<usize>>],
        b: &[u8],
        b_keys: &[Option<Range<usize>>],
    ) -> Ordering {
        for (((_, ty), x), y) in self.keys.iter().zip(a_keys).zip(b_keys) {
            let o = match (x, y) {
                (Some(x), Some(y)) => ty.compare(&a[x.clone()], &b[y.clone()]),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// Finds the key fields of a complete `tuple` (field count first) and puts
/// their byte ranges into `out`, one per key of `layout`. Errors when the
/// tuple does not have `layout.fields` fields.
pub fn key_fields(
    layout: &KeyLayout,
    tuple: &[u8],
    out: &mut Vec<Option<Range<usize>>>,
) -> Result<(), String> {
    let n = i16::from_be_bytes([tuple[0], tuple[1]]);
    if n as usize != layout.fields {
        return Err(format!(
            "a tuple of {n} fields where {} were expected",
            layout.fields
        ));
    }
    out.clear();
    out.resize(layout.keys.len(), None);
    let last = layout.keys.iter().map(|(i, _)| *i).max().unwrap_or(0);
    let mut at = 2;
    for field in 0..=last {
        let len = i32::from_be_bytes(tuple[at..at + 4].try_into().unwrap_or_default());
        at += 4;
        let data = (len >= 0).then(|| at..at + len as usize);
        at += len.max(0) as usize;
        for (slot, (i, _)) in out.iter_mut().zip(&layout.keys) {
            if *i == field {
                *slot = data.clone();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "binary_key_tests.rs"]
mod tests;
