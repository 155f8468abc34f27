//! Fitting client-supplied Arrow data to a table's schema (Arrow IPC ingest).
//!
//! Columns are matched by name; absent columns become NULL; each column is cast to the declared
//! type with strict casting, so a value that does not fit is an error, never a silent NULL.

use std::sync::Arc;

use arrow::array::{RecordBatch, new_null_array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::SchemaRef;

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
            Ok(i) => cast_with_options(batch.column(i), field.data_type(), &strict).map_err(|e| {
                Error::InvalidData(format!(
                    "Column '{}' of table '{table}' is {}, and the data sent ({}) does not convert: {e}",
                    field.name(),
                    field.data_type(),
                    source.field(i).data_type()
                ))
            }),
            Err(_) => Ok(new_null_array(field.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

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
