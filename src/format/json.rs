//! The ZeptoDB JSON result shape, written straight from Arrow columns.
//!
//! `{"columns":["a",..],"data":[[..],..],"rows":N,"rows_scanned":M,"execution_time_us":F}`
//! (`rows_scanned`: the rows the query's scans read, as the reference reports) with real JSON types
//! (DESIGN.md "API decisions"): integers as integers, doubles as doubles (NaN and ±∞, which JSON
//! cannot express, as `null`), strings as strings, NULL as `null`, timestamps as integer
//! nanoseconds since the epoch, arrays as JSON arrays of such values and maps as JSON objects.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::*;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::{Error, Result};
use crate::sql::QueryOutput;

/// Encodes `output`; `elapsed_us` becomes `execution_time_us`.
pub fn encode(output: &QueryOutput, elapsed_us: f64) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + output.rows() * 16 * output.schema.fields().len());
    out.extend_from_slice(b"{\"columns\":[");
    for (i, f) in output.schema.fields().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(&mut out, f.name());
    }
    out.extend_from_slice(b"],\"data\":[");
    let mut first_row = true;
    for batch in &output.batches {
        let columns = batch
            .columns()
            .iter()
            .map(Cells::new)
            .collect::<Result<Vec<_>>>()?;
        for row in 0..batch.num_rows() {
            if !first_row {
                out.push(b',');
            }
            first_row = false;
            out.push(b'[');
            for (i, col) in columns.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                col.write(&mut out, row)?;
            }
            out.push(b']');
        }
    }
    out.extend_from_slice(b"],\"rows\":");
    out.extend_from_slice(output.rows().to_string().as_bytes());
    out.extend_from_slice(b",\"rows_scanned\":");
    out.extend_from_slice(output.read.rows.to_string().as_bytes());
    out.extend_from_slice(b",\"execution_time_us\":");
    write_f64(&mut out, (elapsed_us * 100.0).round() / 100.0);
    out.push(b'}');
    Ok(out)
}

/// One column, ready to write cell by cell.
enum Cells {
    Int(ArrayRef),
    UInt(ArrayRef),
    Float(ArrayRef),
    Bool(ArrayRef),
    Str(ArrayRef),
    /// Integer values scaled to nanoseconds (timestamps, durations).
    Nanos(ArrayRef, i64),
    /// Numbers whose text form is exact (decimals): written unquoted.
    NumberText(ArrayRef),
    /// Anything else: Arrow's display text as a JSON string.
    Text(ArrayRef),
    /// Lists (array columns): a JSON array of the items, each written as its own type's cells.
    List(ArrayRef, Box<Cells>),
    /// Maps: a JSON object, each key as a string (a non-string key as its JSON text), each
    /// value as its own type's cells.
    Map(ArrayRef, Box<Cells>, Box<Cells>),
    Null,
}

impl Cells {
    fn new(array: &ArrayRef) -> Result<Self> {
        let array = match array.data_type() {
            DataType::Dictionary(_, value) => cast(array, value).map_err(internal)?,
            _ => Arc::clone(array),
        };
        let scale = |unit: &TimeUnit| match unit {
            TimeUnit::Second => 1_000_000_000,
            TimeUnit::Millisecond => 1_000_000,
            TimeUnit::Microsecond => 1_000,
            TimeUnit::Nanosecond => 1,
        };
        Ok(match array.data_type() {
            DataType::Null => Cells::Null,
            DataType::Boolean => Cells::Bool(array),
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                Cells::Int(cast(&array, &DataType::Int64).map_err(internal)?)
            }
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                Cells::UInt(cast(&array, &DataType::UInt64).map_err(internal)?)
            }
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                Cells::Float(cast(&array, &DataType::Float64).map_err(internal)?)
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Cells::Str(cast(&array, &DataType::Utf8).map_err(internal)?)
            }
            DataType::Timestamp(unit, _) | DataType::Duration(unit) => {
                let ints = cast(&array, &DataType::Int64).map_err(internal)?;
                Cells::Nanos(ints, scale(unit))
            }
            DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => Cells::NumberText(array),
            DataType::List(_) => {
                let items = Cells::new(array.as_list::<i32>().values())?;
                Cells::List(array, Box::new(items))
            }
            DataType::Map(..) => {
                let maps = array.as_map();
                let keys = Cells::new(maps.keys())?;
                let values = Cells::new(maps.values())?;
                Cells::Map(array, Box::new(keys), Box::new(values))
            }
            _ => Cells::Text(array),
        })
    }

    fn write(&self, out: &mut Vec<u8>, row: usize) -> Result<()> {
        let array = match self {
            Cells::Null => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            Cells::Int(a)
            | Cells::UInt(a)
            | Cells::Float(a)
            | Cells::Bool(a)
            | Cells::Str(a)
            | Cells::Nanos(a, _)
            | Cells::NumberText(a)
            | Cells::Text(a)
            | Cells::List(a, _)
            | Cells::Map(a, ..) => a,
        };
        if array.is_null(row) {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        match self {
            Cells::Int(a) => write_display(out, a.as_primitive::<Int64Type>().value(row)),
            Cells::UInt(a) => write_display(out, a.as_primitive::<UInt64Type>().value(row)),
            Cells::Float(a) => write_f64(out, a.as_primitive::<Float64Type>().value(row)),
            Cells::Bool(a) => out.extend_from_slice(if a.as_boolean().value(row) {
                b"true"
            } else {
                b"false"
            }),
            Cells::Str(a) => write_str(out, a.as_string::<i32>().value(row)),
            Cells::Nanos(a, scale) => {
                let v = a.as_primitive::<Int64Type>().value(row);
                match v.checked_mul(*scale) {
                    Some(ns) => write_display(out, ns),
                    None => write_display(out, i128::from(v) * i128::from(*scale)),
                }
            }
            Cells::NumberText(a) | Cells::Text(a) => {
                let formatter = ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default())
                    .map_err(internal)?;
                let text = formatter.value(row).to_string();
                if matches!(self, Cells::NumberText(_)) {
                    out.extend_from_slice(text.as_bytes());
                } else {
                    write_str(out, &text);
                }
            }
            Cells::List(a, items) => {
                let offsets = a.as_list::<i32>().value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                out.push(b'[');
                for item in start..end {
                    if item > start {
                        out.push(b',');
                    }
                    items.write(out, item)?;
                }
                out.push(b']');
            }
            Cells::Map(a, keys, values) => {
                let offsets = a.as_map().value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                out.push(b'{');
                for entry in start..end {
                    if entry > start {
                        out.push(b',');
                    }
                    let mut key = Vec::new();
                    keys.write(&mut key, entry)?;
                    if key.first() == Some(&b'"') {
                        out.extend_from_slice(&key);
                    } else {
                        write_str(out, &String::from_utf8_lossy(&key));
                    }
                    out.push(b':');
                    values.write(out, entry)?;
                }
                out.push(b'}');
            }
            Cells::Null => {}
        }
        Ok(())
    }
}

fn internal(e: arrow::error::ArrowError) -> Error {
    Error::Json(e)
}

fn write_display(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{v}");
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let _ = serde_json::to_writer(&mut *out, &v);
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    };
    use std::sync::Arc;

    fn encode_batch(batch: RecordBatch) -> serde_json::Value {
        let out = QueryOutput::new(batch.schema(), vec![batch]);
        serde_json::from_slice(&encode(&out, 12.345).unwrap()).unwrap()
    }

    #[test]
    fn real_json_types_and_nulls() {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "i",
                Arc::new(Int32Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                "f",
                Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN)])) as _,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("a\"b"), None])) as _,
            ),
            (
                "b",
                Arc::new(BooleanArray::from(vec![Some(true), Some(false)])) as _,
            ),
            (
                "t",
                Arc::new(TimestampMicrosecondArray::from(vec![Some(2), None]).with_timezone("UTC"))
                    as _,
            ),
        ])
        .unwrap();
        let v = encode_batch(batch);
        assert_eq!(v["columns"], serde_json::json!(["i", "f", "s", "b", "t"]));
        assert_eq!(
            v["data"],
            serde_json::json!([
                [1, 1.5, "a\"b", true, 2000],
                [null, null, null, false, null]
            ])
        );
        assert_eq!(v["rows"], 2);
        assert_eq!(v["rows_scanned"], 0);
        assert_eq!(v["execution_time_us"], 12.35);
    }

    #[test]
    fn arrays_are_json_arrays_of_their_items() {
        use arrow::array::ListArray;
        use arrow::datatypes::Int64Type;
        let lists = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None]),
            Some(vec![]),
            None,
        ]);
        let sliced = lists.slice(1, 2);
        let batch = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(lists) as ArrayRef),
            ("n", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef),
        ])
        .unwrap();
        let v = encode_batch(batch);
        assert_eq!(
            v["data"],
            serde_json::json!([[[1, null], 1], [[], 2], [null, 3]])
        );
        let batch = RecordBatch::try_from_iter(vec![("a", Arc::new(sliced) as ArrayRef)]).unwrap();
        assert_eq!(
            encode_batch(batch)["data"],
            serde_json::json!([[[]], [null]])
        );
    }

    #[test]
    fn doubles_stay_doubles() {
        let batch = RecordBatch::try_from_iter(vec![(
            "f",
            Arc::new(Float64Array::from(vec![100.0])) as ArrayRef,
        )])
        .unwrap();
        let out = QueryOutput::new(batch.schema(), vec![batch]);
        let text = String::from_utf8(encode(&out, 0.0).unwrap()).unwrap();
        assert!(text.contains("[[100.0]]"), "{text}");
    }
}
