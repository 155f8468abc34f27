//! The Delta Lake form of a table definition: its schema in the transaction log, and back.
//!
//! Every column carries its declared Strata type in the field metadata (`strata.type`), and the
//! table's time column is named in the table configuration (`strata.time_column`), so a table
//! reloads exactly as it was declared (`SYMBOL` and `STRING` are both Delta `string`).
//!
//! Unsigned integers are stored in the next wider signed type (`UINT64` as `decimal(20, 0)`),
//! `DATE`/`DATE32` as `date`, `DATETIME` (seconds) and `DATETIME64(3|6)` as `timestamp` (exact in
//! its microseconds), `DECIMAL(p, s)` as `decimal(p, s)`, `UUID` and `FIXEDSTRING(n)` as `string`.
//! A column that holds no NULLs is a non-nullable Delta field. The table's sort key (ClickHouse's
//! `ORDER BY`) is kept in the configuration (`strata.sort_key`).
//!
//! `TIMESTAMP_NS` and `DATETIME64(9)` columns are stored as Delta `long` (nanoseconds since the Unix epoch, UTC).
//! Measured with the readers our users point at the HDB: Delta's `timestamp` type is
//! microseconds, so DuckDB truncates nanoseconds and the `deltalake` Python package refuses to
//! read values with sub-microsecond digits; the non-standard `timestamp_nanos` type is rejected
//! by DuckDB's and the Python package's Delta readers alike. An integer is read exactly by every
//! reader; Strata reads it back as `TIMESTAMP_NS`.

use std::collections::HashMap;

use deltalake::kernel::{
    ArrayType, DataType, MapType, MetadataValue, PrimitiveType, StructField, StructType,
};

use crate::error::{Error, Result};
use crate::table::{ColumnDef, TableDefinition};
use crate::types::ColumnType;

/// Field metadata key holding a column's declared type.
pub const TYPE_KEY: &str = "strata.type";
/// Table configuration key naming the time column.
pub const TIME_COLUMN_KEY: &str = "strata.time_column";
/// Table configuration key holding the TTL in nanoseconds.
pub const TTL_KEY: &str = "strata.ttl_ns";
/// Table configuration key holding the sort key: column names, comma-separated.
pub const SORT_KEY: &str = "strata.sort_key";

/// The Delta type a column is stored as. An array is a Delta `array` of its items' own Delta type.
pub fn delta_type(ty: &ColumnType) -> DataType {
    DataType::Primitive(match *ty {
        ColumnType::Int64 | ColumnType::TimestampNs | ColumnType::DateTime64(9, _) => {
            PrimitiveType::Long
        }
        ColumnType::Int32 => PrimitiveType::Integer,
        ColumnType::Float64 => PrimitiveType::Double,
        ColumnType::Float32 => PrimitiveType::Float,
        ColumnType::Symbol | ColumnType::String | ColumnType::Uuid | ColumnType::FixedString(_) => {
            PrimitiveType::String
        }
        ColumnType::Bool => PrimitiveType::Boolean,
        ColumnType::Int8 => PrimitiveType::Byte,
        ColumnType::Int16 | ColumnType::UInt8 => PrimitiveType::Short,
        ColumnType::UInt16 => PrimitiveType::Integer,
        ColumnType::UInt32 => PrimitiveType::Long,
        // Every UInt64 fits 20 digits; Delta has no unsigned types. (20, 0) is a valid decimal.
        ColumnType::UInt64 => PrimitiveType::decimal(20, 0).unwrap_or(PrimitiveType::Long),
        ColumnType::Date | ColumnType::Date32 => PrimitiveType::Date,
        // Whole seconds to microseconds are exact in Delta's timestamp, which every reader knows.
        ColumnType::DateTime(_) | ColumnType::DateTime64(..) => PrimitiveType::Timestamp,
        // Precision ≤ 38 and scale ≤ precision are checked when the type is parsed.
        ColumnType::Decimal(p, s) => {
            PrimitiveType::decimal(p, s.unsigned_abs()).unwrap_or(PrimitiveType::Double)
        }
        ColumnType::Array(ref item, items_nullable) => {
            return DataType::Array(Box::new(ArrayType::new(delta_type(item), items_nullable)));
        }
        ColumnType::Map(ref key, ref value, values_nullable) => {
            return DataType::Map(Box::new(MapType::new(
                delta_type(key),
                delta_type(value),
                values_nullable,
            )));
        }
    })
}

/// The Delta field of a column: its declared type in the metadata. An array or map column's
/// field is nullable although the column holds no NULLs: files written before the column was
/// added (`ALTER TABLE … ADD COLUMN`) lack it, and the scan reads the empty one there.
pub fn delta_field(column: &ColumnDef) -> StructField {
    let nullable = column.nullable || column.ty.is_collection();
    StructField::new(column.name.clone(), delta_type(&column.ty), nullable).with_metadata([(
        TYPE_KEY.to_string(),
        MetadataValue::String(column.ty.name()),
    )])
}

/// The Delta schema of `def`.
pub fn delta_schema(def: &TableDefinition) -> Result<StructType> {
    StructType::try_new(def.columns().iter().map(delta_field)).map_err(|e| Error::Delta(e.into()))
}

/// The table configuration Strata keeps in the Delta metadata.
pub fn delta_configuration(def: &TableDefinition) -> HashMap<String, Option<String>> {
    let mut config = HashMap::new();
    if let Some(i) = def.time_column() {
        config.insert(
            TIME_COLUMN_KEY.to_string(),
            Some(def.columns()[i].name.clone()),
        );
    }
    if let Some(ttl) = def.ttl_nanos() {
        config.insert(TTL_KEY.to_string(), Some(ttl.to_string()));
    }
    if !def.sort_key().is_empty() {
        config.insert(SORT_KEY.to_string(), Some(def.sort_key().join(",")));
    }
    config
}

/// Rebuilds a definition from a Delta schema and configuration. Columns without Strata metadata
/// (a table written by another tool) get the nearest Strata type.
pub fn definition_from_delta(
    name: &str,
    schema: &StructType,
    configuration: &HashMap<String, String>,
) -> Result<TableDefinition> {
    let columns = schema
        .fields()
        .map(|field| {
            let declared = match field.metadata().get(TYPE_KEY) {
                Some(MetadataValue::String(s)) => Some(s.parse::<ColumnType>()?),
                _ => None,
            };
            let ty = match declared {
                Some(ty) => ty,
                None => nearest_type(field.data_type()).ok_or_else(|| Error::Unreadable {
                    table: name.to_string(),
                    reason: format!(
                        "column '{}' has Delta type {}, which Strata cannot hold",
                        field.name(),
                        field.data_type()
                    ),
                })?,
            };
            Ok(ColumnDef::new(field.name().clone(), ty)?.with_nullable(field.is_nullable()))
        })
        .collect::<Result<Vec<_>>>()?;
    let time = configuration.get(TIME_COLUMN_KEY).map(String::as_str);
    let ttl = configuration
        .get(TTL_KEY)
        .and_then(|t| t.parse::<i64>().ok());
    let sort_key = configuration
        .get(SORT_KEY)
        .map(|k| k.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    TableDefinition::restore(name, columns, time)?
        .with_ttl(ttl)?
        .with_sort_key(sort_key)
}

fn nearest_type(ty: &DataType) -> Option<ColumnType> {
    let p = match ty {
        DataType::Primitive(p) => p,
        DataType::Array(a) => {
            return Some(ColumnType::array(
                nearest_type(a.element_type())?,
                a.contains_null(),
            ));
        }
        DataType::Map(m) => {
            let key = nearest_type(m.key_type())?;
            if key.is_collection() || matches!(key, ColumnType::Float32 | ColumnType::Float64) {
                return None;
            }
            return Some(ColumnType::map(
                key,
                nearest_type(m.value_type())?,
                m.value_contains_null(),
            ));
        }
        _ => return None,
    };
    Some(match p {
        PrimitiveType::Long => ColumnType::Int64,
        PrimitiveType::Integer | PrimitiveType::Short | PrimitiveType::Byte => ColumnType::Int32,
        PrimitiveType::Double => ColumnType::Float64,
        PrimitiveType::Float => ColumnType::Float32,
        PrimitiveType::String => ColumnType::String,
        PrimitiveType::Boolean => ColumnType::Bool,
        PrimitiveType::Date => ColumnType::Date,
        PrimitiveType::Timestamp | PrimitiveType::TimestampNtz => ColumnType::DateTime64(6, None),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> TableDefinition {
        let arrays = [
            ColumnType::array(ColumnType::UInt16, false),
            ColumnType::array(ColumnType::array(ColumnType::TimestampNs, true), false),
        ];
        let cols = ColumnType::ALL
            .into_iter()
            .chain(arrays)
            .enumerate()
            .map(|(i, t)| {
                ColumnDef::new(format!("c{i}"), t)
                    .unwrap()
                    .with_nullable(i % 2 == 0)
            })
            .collect();
        TableDefinition::new("t", cols)
            .unwrap()
            .with_sort_key(vec!["c1".into(), "c4".into()])
            .unwrap()
    }

    #[test]
    fn nanosecond_time_is_a_delta_long() {
        let delta = delta_schema(&every_type()).unwrap();
        assert_eq!(delta.fields().count(), ColumnType::ALL.len() + 2);
        let ts = delta.field("c4").unwrap();
        assert_eq!(ts.data_type(), &DataType::LONG);
        let nested = delta.field("c22").unwrap().data_type();
        let long_items = DataType::Array(Box::new(ArrayType::new(DataType::LONG, true)));
        assert_eq!(
            nested,
            &DataType::Array(Box::new(ArrayType::new(long_items, false)))
        );
    }

    #[test]
    fn definitions_round_trip_through_delta() {
        let def = every_type();
        let schema = delta_schema(&def).unwrap();
        let config = delta_configuration(&def)
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        assert_eq!(definition_from_delta("t", &schema, &config).unwrap(), def);
    }

    #[test]
    fn foreign_tables_get_the_nearest_types() {
        let schema = StructType::try_new([
            StructField::new("n", DataType::INTEGER, true),
            StructField::new("s", DataType::STRING, true),
            StructField::new(
                "a",
                DataType::Array(Box::new(ArrayType::new(DataType::DOUBLE, true))),
                true,
            ),
        ])
        .unwrap();
        let def = definition_from_delta("ext", &schema, &HashMap::new()).unwrap();
        assert_eq!(def.columns()[0].ty, ColumnType::Int32);
        assert_eq!(def.columns()[1].ty, ColumnType::String);
        assert_eq!(
            def.columns()[2].ty,
            ColumnType::array(ColumnType::Float64, true)
        );
        assert_eq!(def.time_column(), None);
    }
}
