//! Fitting client-supplied Arrow data to a table's schema (Arrow IPC ingest).
//!
//! Columns are matched by name; absent columns become NULL; each column is cast to the declared
//! type with strict casting, so a value that does not fit is an error, never a silent NULL. A
//! column that holds no NULLs gets its type's default (0, '', the epoch) where a row has none, as
//! ClickHouse stores an omitted or NULL value of a non-`Nullable` column.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, MapArray, RecordBatch, StructArray, new_empty_array, new_null_array,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::kernels::zip::zip;
use arrow::compute::{CastOptions, cast_with_options, is_null};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
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
            Ok(i)
                if collection(field.data_type()).is_some()
                    && collection(field.data_type()) != collection(source.field(i).data_type()) =>
            {
                let (kind, sent) = match collection(field.data_type()) {
                    Some(Collection::Map) => ("a map", "not a map"),
                    _ => ("an array", "not a list"),
                };
                Err(Error::InvalidData(format!(
                    "Column '{}' of table '{table}' is {kind}, and the data sent is {}, {sent}",
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
                        "Column '{}' of table '{table}' is {}, and a NULL was sent where it holds \
                         none (declare Array(Nullable(T)) for NULL items, Map(K, Nullable(V)) \
                         for NULL values)",
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

/// The schema rows sent for a table are decoded into before [`conform_batch`]: `schema` with
/// every column, list item and map value NULL-able. A row without a value then reaches
/// `conform_batch` as a NULL, which becomes the column's default where the column holds none,
/// and a NULL item the table has no room for is refused there naming the column and the type to
/// declare, rather than by a decoder in Arrow's terms.
pub fn intake_schema(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new_with_metadata(
        schema
            .fields()
            .iter()
            .map(|f| {
                f.as_ref()
                    .clone()
                    .with_data_type(nullable_items(f.data_type()))
                    .with_nullable(true)
            })
            .collect::<Vec<Field>>(),
        schema.metadata().clone(),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    List,
    Map,
}

/// Which collection values of `ty` are, if any.
fn collection(ty: &DataType) -> Option<Collection> {
    match ty {
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            Some(Collection::List)
        }
        DataType::Map(..) => Some(Collection::Map),
        _ => None,
    }
}

/// `ty` with the item field of every list and the value field of every map in it, at any
/// depth, NULL-able.
fn nullable_items(ty: &DataType) -> DataType {
    let relaxed = |f: &Field| f.clone().with_data_type(nullable_items(f.data_type()));
    match ty {
        DataType::List(item) => DataType::List(Arc::new(relaxed(item).with_nullable(true))),
        DataType::Map(entries, sorted) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                let fields = vec![relaxed(&fields[0]), relaxed(&fields[1]).with_nullable(true)];
                DataType::Map(
                    Arc::new(
                        entries
                            .as_ref()
                            .clone()
                            .with_data_type(DataType::Struct(fields.into())),
                    ),
                    *sorted,
                )
            }
            _ => ty.clone(),
        },
        other => other.clone(),
    }
}

/// Whether a list or map column (in `declared`'s shape, its items and values NULL-able) holds
/// a NULL where `declared`'s item or value field, at any depth, says it cannot.
fn has_null_items(column: &ArrayRef, declared: &DataType) -> bool {
    match declared {
        DataType::List(item) => column.as_list_opt::<i32>().is_some_and(|lists| {
            lists.iter().flatten().any(|items| {
                (!item.is_nullable() && items.null_count() > 0)
                    || has_null_items(&items, item.data_type())
            })
        }),
        DataType::Map(entries, _) => {
            let (DataType::Struct(fields), Some(maps)) = (entries.data_type(), column.as_map_opt())
            else {
                return false;
            };
            let value = &fields[1];
            maps.iter().flatten().any(|entries| {
                let values = entries.column(1);
                (!value.is_nullable() && values.null_count() > 0)
                    || has_null_items(values, value.data_type())
            })
        }
        _ => false,
    }
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
        _ => match field.data_type() {
            DataType::Map(entries, sorted) => empty_map(entries, *sorted),
            ty => ScalarValue::new_default(ty).ok(),
        },
    }
}

/// The empty map of a map type whose entries are `entries` (DataFusion's defaults stop at maps).
fn empty_map(entries: &FieldRef, sorted: bool) -> Option<ScalarValue> {
    let DataType::Struct(fields) = entries.data_type() else {
        return None;
    };
    let columns = fields
        .iter()
        .map(|f| new_empty_array(f.data_type()))
        .collect();
    let entries_array = StructArray::try_new(fields.clone(), columns, None).ok()?;
    let map = MapArray::try_new(
        Arc::clone(entries),
        OffsetBuffer::new_zeroed(1),
        entries_array,
        None,
        sorted,
    )
    .ok()?;
    Some(ScalarValue::Map(Arc::new(map)))
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
    fn maps_cast_by_value_refuse_null_values_and_default_to_empty() {
        use arrow::array::{Int32Builder, MapBuilder, MapFieldNames, StringBuilder};
        use arrow::datatypes::Int64Type;
        let declared = |values_nullable: bool| {
            let ty = ColumnType::map(ColumnType::String, ColumnType::Int64, values_nullable);
            Arc::new(Schema::new(vec![
                Field::new("m", ty.arrow_type(), false).with_metadata(
                    [(
                        strata_catalog::DECLARED_TYPE_METADATA_KEY.to_string(),
                        ty.name(),
                    )]
                    .into(),
                ),
                Field::new("x", DataType::Int64, true),
            ]))
        };
        // Sent with arrow's own field names and narrower values: cast by position.
        type Pairs<'a> = &'a [(&'a str, Option<i32>)];
        let sent = |rows: &[Option<Pairs<'_>>]| {
            let mut b = MapBuilder::new(
                Some(MapFieldNames {
                    entry: "entries".into(),
                    key: "keys".into(),
                    value: "values".into(),
                }),
                StringBuilder::new(),
                Int32Builder::new(),
            );
            for row in rows {
                match row {
                    Some(pairs) => {
                        for (k, v) in *pairs {
                            b.keys().append_value(k);
                            b.values().append_option(*v);
                        }
                        b.append(true).unwrap();
                    }
                    None => b.append(false).unwrap(),
                }
            }
            RecordBatch::try_from_iter(vec![("m", Arc::new(b.finish()) as ArrayRef)]).unwrap()
        };
        let out = conform_batch(
            "t",
            &declared(false),
            &sent(&[Some(&[("a", Some(1)), ("b", Some(2))]), None]),
        )
        .unwrap();
        let maps = out.column(0).as_map();
        assert_eq!(maps.null_count(), 0, "a missing map is the empty one");
        assert_eq!(maps.value(0).column(0).as_string::<i32>().value(1), "b");
        assert_eq!(
            maps.value(0).column(1).as_primitive::<Int64Type>().values(),
            &[1, 2]
        );
        assert_eq!(maps.value(1).len(), 0);
        let absent = RecordBatch::try_from_iter(vec![(
            "x",
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
        )])
        .unwrap();
        let out = conform_batch("t", &declared(false), &absent).unwrap();
        assert_eq!(out.column(0).as_map().value(1).len(), 0);

        let null_value = sent(&[Some(&[("a", None)])]);
        let err = conform_batch("t", &declared(false), &null_value).unwrap_err();
        assert!(err.to_string().contains("Map(K, Nullable(V))"), "{err}");
        let out = conform_batch("t", &declared(true), &null_value).unwrap();
        assert_eq!(out.column(0).as_map().value(0).column(1).null_count(), 1);

        let list = RecordBatch::try_from_iter(vec![(
            "m",
            Arc::new(arrow::array::ListArray::from_iter_primitive::<
                arrow::datatypes::Int32Type,
                _,
                _,
            >(vec![Some(vec![Some(1)])])) as ArrayRef,
        )])
        .unwrap();
        let err = conform_batch("t", &declared(false), &list).unwrap_err();
        assert!(err.to_string().contains("not a map"), "{err}");
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
