//! Values on their way into a central column of another family (the type
//! lattice, `lattice::conversion`): the few cases where the value's text
//! form is not the central type's. Every conversion is exact and
//! reversible; a value that is not what its column says goes on unchanged,
//! and the target refuses it, naming the column, rather than storing
//! something else.

use super::lattice::Conversion;
use super::{RawFormat, Result, RowSink, Value};

/// `a,b` as a PostgreSQL array literal `{"a","b"}`; the empty SET is `{}`.
pub fn set_to_array(set: &str) -> String {
    if set.is_empty() {
        return "{}".into();
    }
    let items: Vec<String> = set
        .split(',')
        .map(|l| format!("\"{}\"", l.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", items.join(","))
}

/// One value converted for its central column.
pub fn apply(conversion: Conversion, value: &Value) -> Option<Value> {
    Some(match (conversion, value) {
        (Conversion::FlagToNumber, Value::Bool(b)) => Value::Int(i64::from(*b)),
        (Conversion::FlagToText, Value::Bool(b)) => {
            Value::Text(if *b { "true" } else { "false" }.into())
        }
        (Conversion::SetToArray, Value::Text(s)) => Value::Text(set_to_array(s)),
        _ => return None,
    })
}

/// A sink that converts the values of some columns and passes rows on.
/// With a conversion to make it declines raw streams (their bytes are the
/// branch's types); without, it passes everything on untouched.
pub struct Converting<'s> {
    inner: &'s mut dyn RowSink,
    conversions: &'s [Conversion],
    idle: bool,
    row: Vec<Value>,
}

impl<'s> Converting<'s> {
    pub fn new(inner: &'s mut dyn RowSink, conversions: &'s [Conversion]) -> Converting<'s> {
        Converting {
            inner,
            conversions,
            idle: conversions.iter().all(|c| *c == Conversion::None),
            row: Vec::new(),
        }
    }
}

impl RowSink for Converting<'_> {
    fn row(&mut self, values: &[Value]) -> Result<()> {
        if self.idle {
            return self.inner.row(values);
        }
        self.row.clear();
        for (i, v) in values.iter().enumerate() {
            let c = self.conversions.get(i).copied().unwrap_or(Conversion::None);
            self.row.push(apply(c, v).unwrap_or_else(|| v.clone()));
        }
        self.inner.row(&self.row)
    }

    fn raw(&mut self, format: RawFormat) -> Option<&mut dyn std::io::Write> {
        if self.idle {
            self.inner.raw(format)
        } else {
            None
        }
    }

    fn raw_rows(&mut self, rows: u64) {
        self.inner.raw_rows(rows)
    }

    fn wants_key_order(&self) -> bool {
        self.inner.wants_key_order()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_become_arrays() {
        assert_eq!(set_to_array(""), "{}");
        assert_eq!(set_to_array("a"), "{\"a\"}");
        assert_eq!(
            set_to_array("Deleted Scenes,Behind the \"Scenes\""),
            "{\"Deleted Scenes\",\"Behind the \\\"Scenes\\\"\"}"
        );
    }

    #[test]
    fn flags() {
        assert_eq!(
            apply(Conversion::FlagToNumber, &Value::Bool(true)),
            Some(Value::Int(1))
        );
        assert_eq!(
            apply(Conversion::FlagToText, &Value::Bool(false)),
            Some(Value::Text("false".into()))
        );
        assert_eq!(apply(Conversion::FlagToNumber, &Value::Null), None);
    }
}
