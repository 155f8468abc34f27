//! Column types as users declare them in `CREATE TABLE`, and how each is stored in Arrow.
//!
//! The names follow the ZeptoDB reference (kdb+ heritage): `SYMBOL` is an interned string used for
//! instrument identifiers, `TIMESTAMP_NS` is nanoseconds since the Unix epoch in UTC. Every type
//! has one canonical name, which `DESCRIBE` prints.

use arrow_schema::{DataType, TimeUnit};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Time zone stored on every timestamp column: all Strata timestamps are UTC instants. It is also
/// what Delta's `timestamp`/`timestamp_nanos` types map to, so the hot tier and the HDB agree.
pub const UTC: &str = "UTC";

/// A declared column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// 64-bit signed integer (`INT64`, `BIGINT`, `LONG`).
    Int64,
    /// 32-bit signed integer (`INT32`, `INT`, `INTEGER`).
    Int32,
    /// 64-bit float (`FLOAT64`, `DOUBLE`).
    Float64,
    /// 32-bit float (`FLOAT32`, `FLOAT`, `REAL`).
    Float32,
    /// Nanosecond UTC timestamp (`TIMESTAMP_NS`, `TIMESTAMP`).
    TimestampNs,
    /// Low-cardinality identifier such as a ticker (`SYMBOL`).
    Symbol,
    /// Free text (`STRING`, `VARCHAR`, `TEXT`).
    String,
    /// Boolean (`BOOL`, `BOOLEAN`).
    Bool,
    /// 8-bit signed integer (`INT8`, ClickHouse's `Int8`).
    Int8,
    /// 16-bit signed integer (`INT16`, `SMALLINT`).
    Int16,
    /// 8-bit unsigned integer (`UINT8`).
    UInt8,
    /// 16-bit unsigned integer (`UINT16`).
    UInt16,
    /// 32-bit unsigned integer (`UINT32`).
    UInt32,
    /// 64-bit unsigned integer (`UINT64`).
    UInt64,
    /// A calendar day (`DATE`, ClickHouse's `Date` and `Date32`).
    Date,
    /// A UTC instant in whole seconds (`DATETIME`, ClickHouse's `DateTime`).
    DateTime,
}

impl ColumnType {
    /// Every type, in the order the docs list them.
    pub const ALL: [ColumnType; 16] = [
        ColumnType::Int64,
        ColumnType::Int32,
        ColumnType::Float64,
        ColumnType::Float32,
        ColumnType::TimestampNs,
        ColumnType::Symbol,
        ColumnType::String,
        ColumnType::Bool,
        ColumnType::Int8,
        ColumnType::Int16,
        ColumnType::UInt8,
        ColumnType::UInt16,
        ColumnType::UInt32,
        ColumnType::UInt64,
        ColumnType::Date,
        ColumnType::DateTime,
    ];

    /// The canonical name `DESCRIBE` prints.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Int64 => "INT64",
            ColumnType::Int32 => "INT32",
            ColumnType::Float64 => "FLOAT64",
            ColumnType::Float32 => "FLOAT32",
            ColumnType::TimestampNs => "TIMESTAMP_NS",
            ColumnType::Symbol => "SYMBOL",
            ColumnType::String => "STRING",
            ColumnType::Bool => "BOOL",
            ColumnType::Int8 => "INT8",
            ColumnType::Int16 => "INT16",
            ColumnType::UInt8 => "UINT8",
            ColumnType::UInt16 => "UINT16",
            ColumnType::UInt32 => "UINT32",
            ColumnType::UInt64 => "UINT64",
            ColumnType::Date => "DATE",
            ColumnType::DateTime => "DATETIME",
        }
    }

    /// The Arrow type values of this column are held in.
    ///
    /// `SYMBOL` is a plain UTF-8 column: Delta and Parquet readers see an ordinary string and
    /// DataFusion's string kernels and group-by paths apply directly.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Float32 => DataType::Float32,
            ColumnType::TimestampNs => DataType::Timestamp(TimeUnit::Nanosecond, Some(UTC.into())),
            ColumnType::Symbol | ColumnType::String => DataType::Utf8,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int8 => DataType::Int8,
            ColumnType::Int16 => DataType::Int16,
            ColumnType::UInt8 => DataType::UInt8,
            ColumnType::UInt16 => DataType::UInt16,
            ColumnType::UInt32 => DataType::UInt32,
            ColumnType::UInt64 => DataType::UInt64,
            ColumnType::Date => DataType::Date32,
            ColumnType::DateTime => DataType::Timestamp(TimeUnit::Second, Some(UTC.into())),
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ColumnType {
    type Err = Error;

    /// Parses a declared type name, case-insensitively. A length or precision suffix such as
    /// `VARCHAR(32)` is accepted and ignored: strings are variable length.
    fn from_str(s: &str) -> Result<Self> {
        let base = clickhouse_base(s).to_ascii_uppercase();
        let ty = match base.as_str() {
            "INT64" | "BIGINT" | "LONG" => ColumnType::Int64,
            "INT32" | "INT" | "INTEGER" => ColumnType::Int32,
            "FLOAT64" | "DOUBLE" | "DOUBLE PRECISION" => ColumnType::Float64,
            "FLOAT32" | "FLOAT" | "REAL" => ColumnType::Float32,
            "TIMESTAMP_NS" | "TIMESTAMP" => ColumnType::TimestampNs,
            "SYMBOL" => ColumnType::Symbol,
            "STRING" | "VARCHAR" | "TEXT" | "CHARACTER VARYING" => ColumnType::String,
            "BOOL" | "BOOLEAN" => ColumnType::Bool,
            "INT8" | "TINYINT" => ColumnType::Int8,
            "INT16" | "SMALLINT" => ColumnType::Int16,
            "UINT8" => ColumnType::UInt8,
            "UINT16" => ColumnType::UInt16,
            "UINT32" => ColumnType::UInt32,
            "UINT64" => ColumnType::UInt64,
            "DATE" | "DATE32" => ColumnType::Date,
            "DATETIME" => ColumnType::DateTime,
            // ClickHouse's names Strata holds in the nearest type: DateTime64 of any precision
            // in nanoseconds, fixed strings and UUIDs as text.
            "DATETIME64" => ColumnType::TimestampNs,
            "FIXEDSTRING" | "UUID" => ColumnType::String,
            _ => return Err(Error::UnsupportedType(s.trim().to_string())),
        };
        Ok(ty)
    }
}

/// The type name inside ClickHouse's `Nullable(…)` and `LowCardinality(…)`, without its
/// arguments: `Nullable(DateTime64(3))` → `DateTime64`.
fn clickhouse_base(s: &str) -> &str {
    let mut t = s.trim();
    loop {
        let lower = t.to_ascii_lowercase();
        let inner = ["nullable(", "lowcardinality("]
            .iter()
            .find(|p| lower.starts_with(**p))
            .and_then(|p| t.get(p.len()..t.len().saturating_sub(1)))
            .filter(|_| t.ends_with(')'));
        match inner {
            Some(inner) => t = inner.trim(),
            None => return t.split('(').next().unwrap_or(t).trim(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_names_take_the_nearest_type() {
        for (text, want) in [
            ("UInt32", ColumnType::UInt32),
            ("Nullable(UInt8)", ColumnType::UInt8),
            ("LowCardinality(String)", ColumnType::String),
            ("DateTime('UTC')", ColumnType::DateTime),
            ("Date32", ColumnType::Date),
            ("Nullable(DateTime64(3, 'UTC'))", ColumnType::TimestampNs),
            ("Float64", ColumnType::Float64),
        ] {
            assert_eq!(text.parse::<ColumnType>().unwrap(), want, "{text}");
        }
    }

    #[test]
    fn aliases_parse_to_canonical_types() {
        let cases = [
            ("int64", ColumnType::Int64),
            ("BIGINT", ColumnType::Int64),
            ("INT", ColumnType::Int32),
            ("Double", ColumnType::Float64),
            ("REAL", ColumnType::Float32),
            ("TIMESTAMP", ColumnType::TimestampNs),
            ("TIMESTAMP_NS", ColumnType::TimestampNs),
            ("symbol", ColumnType::Symbol),
            ("VARCHAR(20)", ColumnType::String),
            ("text", ColumnType::String),
            ("BOOLEAN", ColumnType::Bool),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ColumnType>().unwrap(), want, "{text}");
        }
    }

    #[test]
    fn canonical_names_round_trip() {
        for ty in ColumnType::ALL {
            assert_eq!(ty.name().parse::<ColumnType>().unwrap(), ty);
        }
    }

    #[test]
    fn unknown_type_names_the_culprit() {
        let err = "DECIMAL(10,2)".parse::<ColumnType>().unwrap_err();
        assert!(err.to_string().contains("DECIMAL(10,2)"), "{err}");
    }
}
