//! ClickHouse type names read back: what a client declares (`CREATE TABLE`, `{x:UInt32}`
//! parameters, the column headers of `Native` and `RowBinaryWithNamesAndTypes` bodies), as a
//! [`ChType`] that knows both its wire layout and the Arrow type its values are held in.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, TimeUnit};

/// A ClickHouse data type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChType {
    /// `Nothing` (the type of a bare `NULL`).
    Nothing,
    /// `Bool`.
    Bool,
    /// `Int8` … `Int64` (`bits`), `UInt8` … `UInt64`.
    Int {
        /// Width in bits.
        bits: u8,
        /// Whether negative values exist.
        signed: bool,
    },
    /// `Float32`.
    Float32,
    /// `Float64`.
    Float64,
    /// `String`.
    String,
    /// `FixedString(n)`.
    FixedString(usize),
    /// `Date`: days since 1970 as UInt16.
    Date,
    /// `Date32`: days since 1970 as Int32.
    Date32,
    /// `DateTime[('tz')]`: seconds as UInt32.
    DateTime(Option<String>),
    /// `DateTime64(p[, 'tz'])`: ticks of 10^-p s as Int64.
    DateTime64(u8, Option<String>),
    /// `Decimal(p, s)` and `Decimal32/64/128(s)`.
    Decimal(u8, i8),
    /// `UUID`.
    Uuid,
    /// `Nullable(T)`.
    Nullable(Box<ChType>),
    /// `Array(T)`.
    Array(Box<ChType>),
    /// `Map(K, V)`.
    Map(Box<ChType>, Box<ChType>),
    /// `LowCardinality(T)`: a dictionary-encoded `T`.
    LowCardinality(Box<ChType>),
}

impl ChType {
    /// The type `text` names, or `None` if it is not one Strata reads.
    pub fn parse(text: &str) -> Option<ChType> {
        let text = text.trim();
        let (name, args) = match text.find('(') {
            Some(open) if text.ends_with(')') => (
                text[..open].trim(),
                split_args(&text[open + 1..text.len() - 1]),
            ),
            Some(_) => return None,
            None => (text, Vec::new()),
        };
        let int = |bits, signed| ChType::Int { bits, signed };
        let one = |args: &[&str]| match args {
            [inner] => ChType::parse(inner).map(Box::new),
            _ => None,
        };
        Some(match (name, args.as_slice()) {
            ("Nothing", []) => ChType::Nothing,
            ("Bool" | "Boolean", []) => ChType::Bool,
            ("Int8", []) => int(8, true),
            ("Int16", []) => int(16, true),
            ("Int32", []) => int(32, true),
            ("Int64", []) => int(64, true),
            ("UInt8", []) => int(8, false),
            ("UInt16", []) => int(16, false),
            ("UInt32", []) => int(32, false),
            ("UInt64", []) => int(64, false),
            ("Float32", []) => ChType::Float32,
            ("Float64", []) => ChType::Float64,
            ("String", []) => ChType::String,
            ("FixedString", [n]) => ChType::FixedString(n.parse().ok()?),
            ("Date", []) => ChType::Date,
            ("Date32", []) => ChType::Date32,
            ("DateTime", []) => ChType::DateTime(None),
            ("DateTime", [tz]) => ChType::DateTime(Some(unquote(tz)?)),
            ("DateTime64", [p]) => ChType::DateTime64(precision(p)?, None),
            ("DateTime64", [p, tz]) => ChType::DateTime64(precision(p)?, Some(unquote(tz)?)),
            ("Decimal", [p, s]) => ChType::Decimal(p.parse().ok()?, s.parse().ok()?),
            ("Decimal32", [s]) => ChType::Decimal(9, s.parse().ok()?),
            ("Decimal64", [s]) => ChType::Decimal(18, s.parse().ok()?),
            ("Decimal128", [s]) => ChType::Decimal(38, s.parse().ok()?),
            ("UUID", []) => ChType::Uuid,
            ("Nullable", args) => ChType::Nullable(one(args)?),
            ("Array", args) => ChType::Array(one(args)?),
            ("Map", [key, value]) => ChType::Map(
                Box::new(ChType::parse(key)?),
                Box::new(ChType::parse(value)?),
            ),
            ("LowCardinality", args) => ChType::LowCardinality(one(args)?),
            _ => return None,
        })
    }

    /// Whether a value may be NULL.
    pub fn is_nullable(&self) -> bool {
        match self {
            ChType::Nullable(_) | ChType::Nothing => true,
            ChType::LowCardinality(inner) => inner.is_nullable(),
            _ => false,
        }
    }

    /// The type without `Nullable` and `LowCardinality` around it.
    pub fn base(&self) -> &ChType {
        match self {
            ChType::Nullable(inner) | ChType::LowCardinality(inner) => inner.base(),
            other => other,
        }
    }

    /// The Arrow type its values are held in. Dates are `Date32`, UUIDs and fixed strings
    /// text, `DateTime64` the nearest Arrow unit at or above its precision.
    pub fn arrow_type(&self) -> DataType {
        match self {
            ChType::Nothing => DataType::Null,
            ChType::Bool => DataType::Boolean,
            ChType::Int { bits, signed } => match (bits, signed) {
                (8, true) => DataType::Int8,
                (16, true) => DataType::Int16,
                (32, true) => DataType::Int32,
                (8, false) => DataType::UInt8,
                (16, false) => DataType::UInt16,
                (32, false) => DataType::UInt32,
                (_, true) => DataType::Int64,
                (_, false) => DataType::UInt64,
            },
            ChType::Float32 => DataType::Float32,
            ChType::Float64 => DataType::Float64,
            ChType::String | ChType::FixedString(_) | ChType::Uuid => DataType::Utf8,
            ChType::Date | ChType::Date32 => DataType::Date32,
            ChType::DateTime(tz) => {
                DataType::Timestamp(TimeUnit::Second, tz.as_deref().map(Arc::from))
            }
            ChType::DateTime64(p, tz) => {
                DataType::Timestamp(unit_of(*p), tz.as_deref().map(Arc::from))
            }
            ChType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            ChType::Nullable(inner) | ChType::LowCardinality(inner) => inner.arrow_type(),
            ChType::Array(item) => DataType::List(Arc::new(Field::new(
                "item",
                item.arrow_type(),
                item.is_nullable(),
            ))),
            ChType::Map(key, value) => DataType::Map(
                Arc::new(Field::new(
                    strata_catalog::MAP_ENTRIES,
                    DataType::Struct(
                        vec![
                            Field::new(strata_catalog::MAP_KEY, key.arrow_type(), false),
                            Field::new(
                                strata_catalog::MAP_VALUE,
                                value.arrow_type(),
                                value.is_nullable(),
                            ),
                        ]
                        .into(),
                    ),
                    false,
                )),
                false,
            ),
        }
    }

    /// The Arrow field of a column `name` of this type.
    pub fn field(&self, name: &str) -> Field {
        Field::new(name, self.arrow_type(), self.is_nullable())
    }
}

/// The Arrow unit that holds ticks of 10^-`precision` seconds.
pub fn unit_of(precision: u8) -> TimeUnit {
    match precision {
        0 => TimeUnit::Second,
        1..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

fn precision(text: &str) -> Option<u8> {
    text.parse().ok().filter(|p| *p <= 9)
}

fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("\\'", "'"))
}

/// `a, B(c, d), 'e, f'` → `a`, `B(c, d)`, `'e, f'`.
fn split_args(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_parse() {
        assert_eq!(
            ChType::parse("Nullable(DateTime64(3, 'Europe/Paris'))"),
            Some(ChType::Nullable(Box::new(ChType::DateTime64(
                3,
                Some("Europe/Paris".into())
            ))))
        );
        assert_eq!(
            ChType::parse("Array(Nullable(UInt8))")
                .unwrap()
                .arrow_type(),
            DataType::List(Arc::new(Field::new("item", DataType::UInt8, true)))
        );
        assert_eq!(
            ChType::parse("LowCardinality(String)")
                .unwrap()
                .arrow_type(),
            DataType::Utf8
        );
        assert_eq!(
            ChType::parse("Decimal(10, 2)").unwrap().arrow_type(),
            DataType::Decimal128(10, 2)
        );
        assert_eq!(
            ChType::parse("DateTime").unwrap().arrow_type(),
            DataType::Timestamp(TimeUnit::Second, None)
        );
        for bad in [
            "Int",
            "Nullable(",
            "DateTime64(12)",
            "Array(A, B)",
            "Map(String)",
        ] {
            assert_eq!(ChType::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn what_strata_prints_reads_back() {
        for text in [
            "UInt32",
            "Nullable(Float64)",
            "DateTime64(9, 'UTC')",
            "Array(Int64)",
            "Date32",
        ] {
            let ty = ChType::parse(text).unwrap();
            let printed = super::super::types::clickhouse_type(&ty.field("c")).unwrap();
            assert_eq!(printed, text);
        }
    }
}
