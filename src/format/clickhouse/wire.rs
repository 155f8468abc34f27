//! The binary layouts (`RowBinary`, `Native`) of declared types Strata holds in another Arrow
//! type: a `Date` is held as `Date32` and sent as UInt16 days, a `UUID` is held as its text and
//! sent as two little-endian UInt64 halves (high first), a `FixedString(n)` is held as text and
//! sent as exactly `n` bytes, zero-padded; an array's items and a map's keys and values are sent
//! in their own layouts. Every other column is sent as it is held.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeBinaryArray, ListArray, MapArray, StructArray, UInt16Array,
};
use arrow::datatypes::{DataType, Date32Type, Field, Fields};
use strata_catalog::{
    ColumnType, DECLARED_TYPE_METADATA_KEY, LIST_ITEM, MAP_ENTRIES, MAP_KEY, MAP_VALUE,
};

use super::types::declared;

/// `column` (of `field`) in the Arrow type its ClickHouse binary layout is written from.
pub(super) fn binary_column(field: &Field, column: &ArrayRef) -> Result<ArrayRef, String> {
    match declared(field) {
        Some(ColumnType::Date) => {
            let days = column.as_primitive::<Date32Type>();
            let values = days
                .iter()
                .map(|d| {
                    d.map(|d| {
                        u16::try_from(d).map_err(|_| {
                            format!(
                                "day {d} since 1970 is outside ClickHouse's Date (1970-01-01 to \
                                 2149-06-06): declare the column Date32"
                            )
                        })
                    })
                    .transpose()
                })
                .collect::<Result<UInt16Array, String>>()?;
            Ok(Arc::new(values))
        }
        Some(ColumnType::Uuid) => {
            let text = column.as_string::<i32>();
            let values = text
                .iter()
                .map(|v| v.map(uuid_bytes).transpose())
                .collect::<Result<Vec<_>, String>>()?;
            fixed(values, 16)
        }
        Some(ColumnType::FixedString(n)) => {
            let n = usize::from(n);
            let text = column.as_string::<i32>();
            let values = text
                .iter()
                .map(|v| {
                    v.map(|v| {
                        let mut bytes = v.as_bytes().to_vec();
                        if bytes.len() > n {
                            return Err(format!("'{v}' is longer than FixedString({n})"));
                        }
                        bytes.resize(n, 0);
                        Ok(bytes)
                    })
                    .transpose()
                })
                .collect::<Result<Vec<_>, String>>()?;
            fixed(values, n)
        }
        Some(ColumnType::Array(item, items_nullable)) => array_items(column, &item, items_nullable),
        Some(ColumnType::Map(key, value, values_nullable)) => {
            map_entries(column, &key, &value, values_nullable)
        }
        _ => Ok(Arc::clone(column)),
    }
}

/// An `Array(item)` column with its items in their own binary layouts (`Array(Date)`'s items are
/// UInt16 days, and so on at any depth).
fn array_items(column: &ArrayRef, item: &ColumnType, nullable: bool) -> Result<ArrayRef, String> {
    let lists = column.as_list::<i32>();
    let values = binary_column(&nested_field(LIST_ITEM, item, nullable), lists.values())?;
    if values.data_type() == lists.values().data_type() {
        return Ok(Arc::clone(column));
    }
    let field = Arc::new(Field::new(LIST_ITEM, values.data_type().clone(), nullable));
    let lists = ListArray::try_new(
        field,
        lists.offsets().clone(),
        values,
        lists.nulls().cloned(),
    )
    .map_err(|e| e.to_string())?;
    Ok(Arc::new(lists))
}

/// A `Map(key, value)` column with its keys and values in their own binary layouts.
fn map_entries(
    column: &ArrayRef,
    key: &ColumnType,
    value: &ColumnType,
    nullable: bool,
) -> Result<ArrayRef, String> {
    let maps = column.as_map();
    let keys = binary_column(&nested_field(MAP_KEY, key, false), maps.keys())?;
    let values = binary_column(&nested_field(MAP_VALUE, value, nullable), maps.values())?;
    if keys.data_type() == maps.keys().data_type()
        && values.data_type() == maps.values().data_type()
    {
        return Ok(Arc::clone(column));
    }
    let fields = Fields::from(vec![
        Field::new(MAP_KEY, keys.data_type().clone(), false),
        Field::new(MAP_VALUE, values.data_type().clone(), nullable),
    ]);
    let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)
        .map_err(|e| e.to_string())?;
    let maps = MapArray::try_new(
        Arc::new(Field::new(MAP_ENTRIES, DataType::Struct(fields), false)),
        maps.offsets().clone(),
        entries,
        maps.nulls().cloned(),
        false,
    )
    .map_err(|e| e.to_string())?;
    Ok(Arc::new(maps))
}

/// The field of a nested column (an array's items, a map's keys or values) declared `ty`.
fn nested_field(name: &str, ty: &ColumnType, nullable: bool) -> Field {
    Field::new(name, ty.arrow_type(), nullable)
        .with_metadata([(DECLARED_TYPE_METADATA_KEY.to_string(), ty.name())].into())
}

fn fixed(values: Vec<Option<Vec<u8>>>, size: usize) -> Result<ArrayRef, String> {
    let size = i32::try_from(size).map_err(|e| e.to_string())?;
    let array = FixedSizeBinaryArray::try_from_sparse_iter_with_size(values.into_iter(), size)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(array))
}

/// A canonical UUID's 16 bytes as ClickHouse sends them.
fn uuid_bytes(text: &str) -> Result<Vec<u8>, String> {
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    let value = (hex.len() == 32)
        .then(|| u128::from_str_radix(&hex, 16).ok())
        .flatten()
        .ok_or_else(|| format!("'{text}' is not a UUID"))?;
    let (hi, lo) = ((value >> 64) as u64, value as u64);
    let mut bytes = hi.to_le_bytes().to_vec();
    bytes.extend_from_slice(&lo.to_le_bytes());
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Array, Date32Array, StringArray};
    use arrow::datatypes::DataType;

    use super::*;

    fn field(ty: ColumnType) -> Field {
        Field::new("c", ty.arrow_type(), true).with_metadata(HashMap::from([(
            strata_catalog::DECLARED_TYPE_METADATA_KEY.to_string(),
            ty.name(),
        )]))
    }

    #[test]
    fn declared_types_take_their_clickhouse_layout() {
        let uuid: ArrayRef = Arc::new(StringArray::from(vec![
            Some("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
            None,
        ]));
        let out = binary_column(&field(ColumnType::Uuid), &uuid).unwrap();
        let bytes = out.as_fixed_size_binary();
        assert_eq!(
            bytes.value(0),
            [
                0xe7, 0x11, 0xb3, 0x5c, 0x04, 0xc4, 0xf0, 0x61, 0xa0, 0xdb, 0xd3, 0x6a, 0x00, 0xa6,
                0x7b, 0x90
            ]
        );
        assert!(bytes.is_null(1));

        let code: ArrayRef = Arc::new(StringArray::from(vec!["ab"]));
        let out = binary_column(&field(ColumnType::FixedString(4)), &code).unwrap();
        assert_eq!(out.as_fixed_size_binary().value(0), b"ab\0\0");

        let days: ArrayRef = Arc::new(Date32Array::from(vec![19_723]));
        let out = binary_column(&field(ColumnType::Date), &days).unwrap();
        assert_eq!(out.data_type(), &DataType::UInt16);
        let before: ArrayRef = Arc::new(Date32Array::from(vec![-1]));
        assert!(binary_column(&field(ColumnType::Date), &before).is_err());
        let wide = binary_column(&field(ColumnType::Date32), &before).unwrap();
        assert_eq!(wide.data_type(), &DataType::Date32);
    }

    #[test]
    fn array_items_take_their_own_layout() {
        let ty = ColumnType::array(ColumnType::array(ColumnType::Date, true), false);
        let inner = ListArray::new(
            Arc::new(Field::new(LIST_ITEM, DataType::Date32, true)),
            arrow::buffer::OffsetBuffer::from_lengths([2, 0]),
            Arc::new(Date32Array::from(vec![Some(1), None])),
            None,
        );
        let outer: ArrayRef = Arc::new(ListArray::new(
            Arc::new(Field::new(LIST_ITEM, inner.data_type().clone(), false)),
            arrow::buffer::OffsetBuffer::from_lengths([2]),
            Arc::new(inner),
            None,
        ));
        let out = binary_column(&field(ty), &outer).unwrap();
        let days = out.as_list::<i32>().value(0);
        let days = days.as_list::<i32>().value(0);
        assert_eq!(days.data_type(), &DataType::UInt16);
        assert_eq!(days.null_count(), 1);
    }
}
