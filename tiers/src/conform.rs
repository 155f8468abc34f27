//! Fitting client-supplied Arrow data to a table's schema (Arrow IPC ingest).
//!
//! Columns are matched by name; absent columns become NULL; each column is cast to the declared
//! type with strict casting, so a value that does not fit is an error, never a silent NULL. A
//! column that holds no NULLs gets its type's default (0, '', the epoch) where a row has none, as
//! ClickHouse stores an omitted or NULL value of a non-`Nullable` column.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, new_null_array};
use arrow::compute::kernels::zip::zip;
use arrow::compute::{CastOptions, cast_with_options, is_null};
use arrow::datatypes::{DataType, Field, SchemaRef};
use datafusion::common::ScalarValue;
use strata_catalog::{ColumnType, declared_type};

use crate::error::{Error, Result};

/// `batch` reshaped to `schema` (the schema of table `table`).
pub fn conform_batch(table: &str, schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch> {
    let source = batch.schema();
    if let Some(extra) = source
        .fields()
        .iter()
        .find(|f| schema.field_with_name(f.name()).is_err())
    {
        return Err(Error::InvalidData(format!(
            "Unknown column '{}' in table '{table}' (columns: {})",
            extra.name(),
            schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let columns = schema
        .fields()
        .iter()
        .map(|field| match source.index_of(field.name()) {
            Ok(i) if is_list(field.data_type()) && !is_list(source.field(i).data_type()) => {
                Err(Error::InvalidData(format!(
                    "Column '{}' of table '{table}' is an array, and the data sent is {}, not a list",
                    field.name(),
                    source.field(i).data_type()
                )))
            }
            Ok(i) => {
                // Cast with every item NULL-able first, so a NULL item where the declared type
                // has none is refused in the column's terms rather than by the cast kernel.
                let relaxed = nullable_items(field.data_type());
                let cast = cast_with_options(batch.column(i), &relaxed, &strict).map_err(|e| {
                    Error::InvalidData(format!(
                        "Column '{}' of table '{table}' is {}, and the data sent ({}) does not \
                         convert: {e}",
                        field.name(),
                        field.data_type(),
                        source.field(i).data_type()
                    ))
                })?;
                if relaxed == *field.data_type() {
                    return Ok(cast);
                }
                if has_null_items(&cast, field.data_type()) {
                    return Err(Error::InvalidData(format!(
                        "Column '{}' of table '{table}' is {}, whose items cannot be NULL \
                         (declare Array(Nullable(T)) to hold NULL items)",
                        field.name(),
                        declared_type(field)
                            .map_or_else(|| field.data_type().to_string(), |t| t.name())
                    )));
                }
                Ok(arrow::compute::cast(&cast, field.data_type())?)
            }
            Err(_) => Ok(new_null_array(field.data_type(), batch.num_rows())),
        })
        .zip(schema.fields())
        .map(|(column, field)| {
            let column = column?;
            let column = match declared_type(field) {
                Some(ColumnType::Uuid) => canonical_uuids(table, field, &column)?,
                Some(ColumnType::FixedString(n)) => {
                    check_lengths(table, field, &column, n.into())?;
                    column
                }
                _ => column,
            };
            if !field.is_nullable() && column.null_count() > 0 {
                with_defaults(table, field, &column)
            } else {
                Ok(column)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

fn is_list(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
    )
}

/// `ty` with the item field of every list in it, at any depth, NULL-able.
fn nullable_items(ty: &DataType) -> DataType {
    match ty {
        DataType::List(item) => DataType::List(Arc::new(
            item.as_ref()
                .clone()
                .with_data_type(nullable_items(item.data_type()))
                .with_nullable(true),
        )),
        other => other.clone(),
    }
}

/// Whether a list column (in `declared`'s shape, its items NULL-able) holds a NULL where
/// `declared`'s item field, at any depth, says it cannot.
fn has_null_items(column: &ArrayRef, declared: &DataType) -> bool {
    let DataType::List(item) = declared else {
        return false;
    };
    let Some(lists) = column.as_list_opt::<i32>() else {
        return false;
    };
    lists.iter().flatten().any(|items| {
        (!item.is_nullable() && items.null_count() > 0) || has_null_items(&items, item.data_type())
    })
}

/// A `UUID` column's text in canonical form (lower case, hyphenated); anything that is not a
/// UUID is an error naming the value.
fn canonical_uuids(table: &str, field: &Field, column: &ArrayRef) -> Result<ArrayRef> {
    let text = column.as_string::<i32>();
    let values = text
        .iter()
        .map(|v| {
            v.map(|v| {
                canonical_uuid(v).ok_or_else(|| {
                    Error::InvalidData(format!(
                        "Column '{}' of table '{table}' is a UUID, and '{v}' is not one",
                        field.name()
                    ))
                })
            })
            .transpose()
        })
        .collect::<Result<arrow::array::StringArray>>()?;
    Ok(Arc::new(values))
}

/// `text` as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower case, if it is a UUID written
/// hyphenated or as 32 hex digits.
pub fn canonical_uuid(text: &str) -> Option<String> {
    let hex: String = match text.len() {
        36 => {
            let b = text.as_bytes();
            if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
                return None;
            }
            text.chars().filter(|&c| c != '-').collect()
        }
        32 => text.to_string(),
        _ => return None,
    };
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// Fails on a value of more than `max` bytes (a `FixedString(max)` column).
fn check_lengths(table: &str, field: &Field, column: &ArrayRef, max: usize) -> Result<()> {
    match column
        .as_string::<i32>()
        .iter()
        .flatten()
        .find(|v| v.len() > max)
    {
        Some(long) => Err(Error::InvalidData(format!(
            "Column '{}' of table '{table}' is FixedString({max}), and '{long}' is {} bytes",
            field.name(),
            long.len()
        ))),
        None => Ok(()),
    }
}

/// `column` with each NULL replaced by the default of `field`'s type.
pub(crate) fn with_defaults(table: &str, field: &Field, column: &ArrayRef) -> Result<ArrayRef> {
    let default = default_value(field)
        .and_then(|v| v.to_array().ok())
        .ok_or_else(|| {
            Error::InvalidData(format!(
                "Column '{}' of table '{table}' holds no NULLs, and its type has no default",
                field.name()
            ))
        })?;
    let mask = is_null(column.as_ref())?;
    Ok(zip(&mask, &arrow::array::Scalar::new(default), column)?)
}

/// What a row without a value stores in a column that holds no NULLs, as ClickHouse does: 0,
/// '', false, the epoch, the nil UUID.
pub fn default_value(field: &Field) -> Option<ScalarValue> {
    match declared_type(field) {
        Some(ColumnType::Uuid) => Some(ScalarValue::Utf8(Some(NIL_UUID.to_string()))),
        _ => ScalarValue::new_default(field.data_type()).ok(),
    }
}

/// The UUID of all zero bits, ClickHouse's default UUID.
const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit, TimestampNanosecondType};

    fn table_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("symbol", DataType::Utf8, true),
            Field::new("price", DataType::Float64, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                true,
            ),
        ]))
    }

    #[test]
    fn matches_by_name_casts_and_fills_nulls() {
        let src = RecordBatch::try_from_iter(vec![
            ("ts", Arc::new(Int64Array::from(vec![5, 6])) as _),
            ("price", Arc::new(Int64Array::from(vec![100, 101])) as _),
        ])
        .unwrap();
        let out = conform_batch("t", &table_schema(), &src).unwrap();
        assert_eq!(out.schema(), table_schema());
        assert_eq!(out.column(0).null_count(), 2);
        let p = out
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(p.values(), &[100.0, 101.0]);
        assert_eq!(
            out.column(2)
                .as_primitive::<TimestampNanosecondType>()
                .value(1),
            6
        );
    }

    #[test]
    fn uuids_are_canonical_and_fixed_strings_bounded() {
        assert_eq!(
            canonical_uuid("61F0C404-5CB3-11E7-907B-A6006AD3DBA0").as_deref(),
            Some("61f0c404-5cb3-11e7-907b-a6006ad3dba0")
        );
        assert_eq!(
            canonical_uuid("61f0c4045cb311e7907ba6006ad3dba0").as_deref(),
            Some("61f0c404-5cb3-11e7-907b-a6006ad3dba0")
        );
        for bad in [
            "",
            "61f0c404-5cb3-11e7-907b-a6006ad3dbaz",
            "61f0c404x5cb3-11e7-907b-a6006ad3dba0",
        ] {
            assert_eq!(canonical_uuid(bad), None, "{bad}");
        }
        let typed = |name: &str, ty: &str| {
            Field::new(name, DataType::Utf8, true).with_metadata(
                [(
                    strata_catalog::DECLARED_TYPE_METADATA_KEY.to_string(),
                    ty.to_string(),
                )]
                .into(),
            )
        };
        let schema = Arc::new(Schema::new(vec![
            typed("id", "UUID"),
            typed("code", "FIXEDSTRING(2)"),
        ]));
        let src = RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(StringArray::from(vec!["61F0C4045CB311E7907BA6006AD3DBA0"])) as _,
            ),
            ("code", Arc::new(StringArray::from(vec!["fr"])) as _),
        ])
        .unwrap();
        let out = conform_batch("t", &schema, &src).unwrap();
        assert_eq!(
            out.column(0).as_string::<i32>().value(0),
            "61f0c404-5cb3-11e7-907b-a6006ad3dba0"
        );
        let long = RecordBatch::try_from_iter(vec![(
            "code",
            Arc::new(StringArray::from(vec!["fra"])) as _,
        )])
        .unwrap();
        let err = conform_batch("t", &schema, &long).unwrap_err();
        assert!(err.to_string().contains("FixedString(2)"), "{err}");
        let bad = RecordBatch::try_from_iter(vec![(
            "id",
            Arc::new(StringArray::from(vec!["nope"])) as _,
        )])
        .unwrap();
        assert!(
            conform_batch("t", &schema, &bad)
                .unwrap_err()
                .to_string()
                .contains("'nope'")
        );
    }

    #[test]
    fn columns_without_nulls_take_their_default() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::UInt32, false),
            Field::new("s", DataType::Utf8, false),
            Field::new("x", DataType::Float64, true),
        ]));
        let src = RecordBatch::try_from_iter(vec![(
            "n",
            Arc::new(Int64Array::from(vec![Some(7), None])) as _,
        )])
        .unwrap();
        let out = conform_batch("t", &schema, &src).unwrap();
        let n = out.column(0).as_primitive::<arrow::datatypes::UInt32Type>();
        assert_eq!(n.iter().collect::<Vec<_>>(), vec![Some(7), Some(0)]);
        assert_eq!(out.column(1).as_string::<i32>().value(1), "");
        assert_eq!(out.column(1).null_count(), 0);
        assert_eq!(out.column(2).null_count(), 2, "nullable columns keep NULL");
    }

    #[test]
    fn arrays_cast_by_item_refuse_null_items_and_default_to_empty() {
        use arrow::array::ListArray;
        use arrow::datatypes::{Int32Type, Int64Type};
        let column = |ty: ColumnType| {
            let mut def = strata_catalog::ColumnDef::new("a", ty).unwrap();
            def.nullable = false;
            Field::new("a", def.ty.arrow_type(), false).with_metadata(
                [(
                    strata_catalog::DECLARED_TYPE_METADATA_KEY.to_string(),
                    def.ty.name(),
                )]
                .into(),
            )
        };
        let ints = Arc::new(Schema::new(vec![
            column(ColumnType::array(ColumnType::Int64, false)),
            Field::new("x", DataType::Int64, true),
        ]));
        let sent = |lists: Vec<Option<Vec<Option<i32>>>>| {
            let lists = ListArray::from_iter_primitive::<Int32Type, _, _>(lists);
            RecordBatch::try_from_iter(vec![("a", Arc::new(lists) as ArrayRef)]).unwrap()
        };
        let out =
            conform_batch("t", &ints, &sent(vec![Some(vec![Some(1), Some(2)]), None])).unwrap();
        let lists = out.column(0).as_list::<i32>();
        assert_eq!(lists.null_count(), 0, "a missing array is the empty one");
        assert_eq!(lists.value(0).as_primitive::<Int64Type>().values(), &[1, 2]);
        assert_eq!(lists.value(1).len(), 0);
        let absent = RecordBatch::try_from_iter(vec![(
            "x",
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        )])
        .unwrap();
        assert_eq!(
            conform_batch("t", &ints, &absent).unwrap().column(0).len(),
            1
        );

        let err = conform_batch("t", &ints, &sent(vec![Some(vec![Some(1), None])])).unwrap_err();
        assert!(err.to_string().contains("Array(Nullable(T))"), "{err}");
        let nullable = Arc::new(Schema::new(vec![column(ColumnType::array(
            ColumnType::Int64,
            true,
        ))]));
        let out = conform_batch("t", &nullable, &sent(vec![Some(vec![Some(1), None])])).unwrap();
        assert_eq!(out.column(0).as_list::<i32>().value(0).null_count(), 1);

        let text = RecordBatch::try_from_iter(vec![(
            "a",
            Arc::new(StringArray::from(vec!["[1]"])) as ArrayRef,
        )])
        .unwrap();
        let err = conform_batch("t", &ints, &text).unwrap_err();
        assert!(err.to_string().contains("not a list"), "{err}");
    }

    #[test]
    fn unknown_columns_and_bad_values_are_named() {
        let src =
            RecordBatch::try_from_iter(vec![("qty", Arc::new(Int64Array::from(vec![1])) as _)])
                .unwrap();
        let err = conform_batch("t", &table_schema(), &src).unwrap_err();
        assert!(err.to_string().contains("Unknown column 'qty'"), "{err}");

        let src = RecordBatch::try_from_iter(vec![(
            "price",
            Arc::new(StringArray::from(vec!["abc"])) as _,
        )])
        .unwrap();
        let err = conform_batch("t", &table_schema(), &src).unwrap_err();
        assert!(err.to_string().contains("'price'"), "{err}");
    }
}
