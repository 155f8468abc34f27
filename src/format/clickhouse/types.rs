//! How an Arrow column looks to a ClickHouse client: the exact type name ClickHouse would print
//! (`meta[].type` in JSON, the second line of `TabSeparatedWithNamesAndTypes`, Native's column
//! headers). Strata's `TIMESTAMP_NS` is `DateTime64(9, 'UTC')`, so Grafana sees a time column;
//! strings are plain `String` (never `LowCardinality`, which clients would have to decode
//! specially: `clickhouse-http.md`, cross-cutting decision 4). A column read straight from a
//! table is named as it was declared (`Date`, `UUID`, `FixedString(3)`, `DateTime` without a
//! zone, `Array(Nullable(Date))`), from the declared type its field carries.

use arrow::datatypes::{DataType, Field, TimeUnit};
use strata_catalog::{ColumnType, declared_type};

/// The ClickHouse type of `field`, or `None` for an Arrow type ClickHouse has no name for.
/// A nullable field is `Nullable(T)`, except arrays and maps, which ClickHouse cannot wrap.
pub fn clickhouse_type(field: &Field) -> Option<String> {
    let inner = match declared(field) {
        Some(ty) => declared_name(&ty)?,
        None => base_type(field.data_type())?,
    };
    Some(if is_nullable(field) {
        format!("Nullable({inner})")
    } else {
        inner
    })
}

/// Whether ClickHouse sees `field` as `Nullable(T)`: a nullable field that is not an array or a
/// map (the binary formats then write a NULL flag before each value).
pub fn is_nullable(field: &Field) -> bool {
    field.is_nullable()
        && !matches!(
            field.data_type(),
            DataType::List(_) | DataType::LargeList(_) | DataType::Map(..)
        )
}

/// The declared type `field` carries, if its values are still held as that type holds them.
pub fn declared(field: &Field) -> Option<ColumnType> {
    declared_type(field).filter(|ty| ty.arrow_type() == *field.data_type())
}

/// ClickHouse's name for a declared type whose name the Arrow type does not tell.
fn declared_name(ty: &ColumnType) -> Option<String> {
    let zone = |tz: &strata_catalog::types::Zone| tz.map(|tz| format!("'{}'", tz.name()));
    Some(match ty {
        ColumnType::Date => "Date".into(),
        ColumnType::Uuid => "UUID".into(),
        ColumnType::FixedString(n) => format!("FixedString({n})"),
        ColumnType::DateTime(tz) => match zone(tz) {
            Some(tz) => format!("DateTime({tz})"),
            None => "DateTime".into(),
        },
        ColumnType::DateTime64(p, tz) => match zone(tz) {
            Some(tz) => format!("DateTime64({p}, {tz})"),
            None => format!("DateTime64({p})"),
        },
        ColumnType::Array(item, false) => format!("Array({})", declared_name(item)?),
        ColumnType::Array(item, true) => format!("Array(Nullable({}))", declared_name(item)?),
        ColumnType::Map(key, value, false) => {
            format!("Map({}, {})", declared_name(key)?, declared_name(value)?)
        }
        ColumnType::Map(key, value, true) => {
            format!(
                "Map({}, Nullable({}))",
                declared_name(key)?,
                declared_name(value)?
            )
        }
        other => base_type(&other.arrow_type())?,
    })
}

fn base_type(data_type: &DataType) -> Option<String> {
    Some(match data_type {
        DataType::Null => "Nothing".into(),
        DataType::Boolean => "Bool".into(),
        DataType::Int8 => "Int8".into(),
        DataType::Int16 => "Int16".into(),
        DataType::Int32 => "Int32".into(),
        DataType::Int64 => "Int64".into(),
        DataType::UInt8 => "UInt8".into(),
        DataType::UInt16 => "UInt16".into(),
        DataType::UInt32 => "UInt32".into(),
        DataType::UInt64 => "UInt64".into(),
        DataType::Float32 => "Float32".into(),
        DataType::Float64 => "Float64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "String".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "String".into(),
        DataType::FixedSizeBinary(n) => format!("FixedString({n})"),
        DataType::Dictionary(_, value) => return base_type(value),
        DataType::Date32 => "Date32".into(),
        // Without a zone the server's (UTC) applies, and ClickHouse prints no zone either.
        DataType::Timestamp(unit, tz) => match (unit, tz.as_deref()) {
            (TimeUnit::Second, Some(tz)) => format!("DateTime('{tz}')"),
            (TimeUnit::Second, None) => "DateTime".into(),
            (unit, Some(tz)) => format!("DateTime64({}, '{tz}')", fraction_digits(*unit)),
            (unit, None) => format!("DateTime64({})", fraction_digits(*unit)),
        },
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("Decimal({p}, {s})"),
        DataType::List(item) | DataType::LargeList(item) => {
            format!("Array({})", clickhouse_type(item)?)
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => format!(
                "Map({}, {})",
                base_type(fields[0].data_type())?,
                clickhouse_type(&fields[1])?
            ),
            _ => return None,
        },
        _ => return None,
    })
}

/// The precision of a `DateTime64`-like Arrow timestamp: digits after the second.
pub fn fraction_digits(unit: TimeUnit) -> usize {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn strata_types_have_their_natural_clickhouse_names() {
        let ts = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        assert_eq!(
            clickhouse_type(&Field::new("t", ts, false)).unwrap(),
            "DateTime64(9, 'UTC')"
        );
        assert_eq!(
            clickhouse_type(&Field::new("p", DataType::Float64, true)).unwrap(),
            "Nullable(Float64)"
        );
        let symbol = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(
            clickhouse_type(&Field::new("s", symbol, false)).unwrap(),
            "String"
        );
        let arr = DataType::List(Arc::new(Field::new("item", DataType::UInt64, false)));
        assert_eq!(
            clickhouse_type(&Field::new("a", arr, true)).unwrap(),
            "Array(UInt64)",
            "arrays are never Nullable"
        );
        let seconds = DataType::Timestamp(TimeUnit::Second, None);
        assert_eq!(
            clickhouse_type(&Field::new("d", seconds, false)).unwrap(),
            "DateTime"
        );
        let millis = DataType::Timestamp(TimeUnit::Millisecond, Some("Europe/Paris".into()));
        assert_eq!(
            clickhouse_type(&Field::new("d", millis, false)).unwrap(),
            "DateTime64(3, 'Europe/Paris')"
        );
        assert!(clickhouse_type(&Field::new("x", DataType::Float16, false)).is_none());
        let declared = ColumnType::map(ColumnType::Date, ColumnType::Uuid, true);
        let field = Field::new("m", declared.arrow_type(), true).with_metadata(
            [(
                strata_catalog::DECLARED_TYPE_METADATA_KEY.to_string(),
                declared.name(),
            )]
            .into(),
        );
        assert_eq!(
            clickhouse_type(&field).unwrap(),
            "Map(Date, Nullable(UUID))",
            "maps are never Nullable"
        );
        let computed = ColumnType::map(ColumnType::String, ColumnType::UInt64, false).arrow_type();
        assert_eq!(
            clickhouse_type(&Field::new("m", computed, false)).unwrap(),
            "Map(String, UInt64)"
        );
    }
}
