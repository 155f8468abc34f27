//! Rows in ClickHouse's input formats (the body of `INSERT … FORMAT X`), decoded into Arrow
//! batches for the insert to fit to the table: every format Strata writes that ClickHouse also
//! reads. The TabSeparated and CSV families ([`super::text_read`]) and `Values`
//! ([`super::values_read`]) arrive as text (arrays and maps in their text form, read by
//! `collection_text`); the JSON formats through arrow-json, the table's
//! types guiding it; `RowBinary` ([`super::row_binary_read`]) and `Native`
//! ([`super::native_read`]) in ClickHouse's own encodings; `Arrow`, `ArrowStream` and
//! `Parquet` through the same checked readers the Arrow ingest uses. Every value is converted to
//! its column's type by the strict casts every ingest shares, so a value that does not fit fails
//! the whole insert rather than becoming NULL.

use std::io::Cursor;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use bytes::Bytes;
use serde_json::Value;

use super::text_read::{Separator, text};
use super::{
    Family, Header, TextFormat, canonical_name, collection_text, row_binary_read, values_read,
};

/// What an unknown input format's error lists.
pub const SUPPORTED: &str = "TabSeparated, TabSeparatedRaw, CSV (each also WithNames and \
    WithNamesAndTypes), JSON, JSONCompact, JSONStrings, JSONCompactStrings, JSONEachRow, \
    JSONStringsEachRow, JSONCompactEachRow and JSONCompactStringsEachRow (these two also \
    WithNames and WithNamesAndTypes), Values, RowBinary, RowBinaryWithNames, \
    RowBinaryWithNamesAndTypes, Native, Arrow, ArrowStream, Parquet";

/// Why rows could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The format is not one Strata reads.
    #[error("Input format {0} is not supported (supported: {SUPPORTED})")]
    UnknownFormat(String),
    /// The rows do not parse; the message says where.
    #[error("Cannot parse the {format} rows: {reason}")]
    Malformed {
        /// The format.
        format: String,
        /// What was wrong, and where.
        reason: String,
    },
}

/// The rows of `data` in `format`, for `table` (its columns `columns`, in order, when the
/// statement named them); refused if they would decode to more than `max_decoded_bytes`.
pub fn decode(
    format: &str,
    data: &Bytes,
    table: &SchemaRef,
    columns: Option<&[String]>,
    max_decoded_bytes: u64,
) -> Result<Vec<RecordBatch>, InputError> {
    let malformed = |reason: String| InputError::Malformed {
        format: format.to_string(),
        reason,
    };
    let declared: SchemaRef = match columns {
        None => Arc::clone(table),
        Some(names) => Arc::new(Schema::new(
            names
                .iter()
                .filter_map(|n| table.field_with_name(n).ok().cloned())
                .collect::<Vec<Field>>(),
        )),
    };
    // arrow-json reads the JSON and text formats into the schema it is given, and would refuse
    // a NULL item or map value in its own terms: it is given every item and value NULL-able, and
    // the insert's conform refuses such a NULL naming the column. The binary formats keep the
    // declared types, which say how their values are laid out.
    let target = strata_tiers::conform::intake_schema(&declared);
    let lenient = &strata_tiers::conform::intake_schema(table);
    let name = canonical_name(format).ok_or_else(|| InputError::UnknownFormat(format.into()))?;
    if let Some(text_format) = TextFormat::parse(name) {
        let skip = match text_format.header {
            Header::None => 0,
            Header::Names => 1,
            Header::NamesAndTypes => 2,
        };
        let text_arrays = |batches: Result<Vec<RecordBatch>, String>| {
            batches?
                .into_iter()
                .map(|batch| collection_text::parse_columns(batch, &target))
                .collect()
        };
        return match text_format.family {
            Family::TabSeparated => text_arrays(text(data, &target, Separator::Tab, skip)),
            Family::TabSeparatedRaw => text_arrays(text(data, &target, Separator::RawTab, skip)),
            Family::Csv => text_arrays(text(data, &target, Separator::Comma, skip)),
            Family::JsonEachRow { strings: false } => json_rows(data, &target),
            Family::JsonEachRow { strings: true } => string_rows(data, lenient),
            Family::JsonCompactEachRow { strings } => {
                compact_rows(data, &target, text_format.header, lenient, strings)
            }
            Family::Values => text_arrays(values_read::decode(data, &target)),
        }
        .map_err(malformed);
    }
    let row_binary = |header| row_binary_read::decode(data, header, &declared, table);
    match name {
        "JSON" | "JSONCompact" => envelope(data, &target, lenient, false),
        "JSONStrings" | "JSONCompactStrings" => envelope(data, &target, lenient, true),
        "RowBinary" => row_binary(Header::None),
        "RowBinaryWithNames" => row_binary(Header::Names),
        "RowBinaryWithNamesAndTypes" => row_binary(Header::NamesAndTypes),
        "Native" => super::native_read::decode(data),
        "ArrowStream" => arrow_stream(data.clone(), max_decoded_bytes),
        "Arrow" => arrow_file(data, max_decoded_bytes),
        "Parquet" => parquet(data, max_decoded_bytes),
        other => return Err(InputError::UnknownFormat(other.to_string())),
    }
    .map_err(malformed)
}

/// Newline-delimited JSON objects, read by arrow-json into the table's types (numbers sent as
/// strings, as the `…Strings…` formats do, are parsed into numeric columns).
fn json_rows(data: &[u8], target: &SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let reader = arrow::json::ReaderBuilder::new(Arc::clone(target))
        .with_batch_size(65_536)
        .build(Cursor::new(data))
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// `JSONStringsEachRow`: one object per line, every value a string (or `null`).
fn string_rows(data: &[u8], table: &SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let mut names: Vec<String> = Vec::new();
    let rows = data
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .enumerate()
        .map(|(i, line)| {
            let row: serde_json::Map<String, Value> =
                serde_json::from_slice(line).map_err(|e| format!("row {}: {e}", i + 1))?;
            for key in row.keys() {
                if !names.contains(key) {
                    names.push(key.clone());
                }
            }
            Ok(row)
        })
        .collect::<Result<Vec<_>, String>>()?;
    objects(rows, &names, table, true)
}

/// One JSON array per line, `header` lines first (names pick the table's columns; types are
/// the table's own, so the types line is only skipped).
fn compact_rows(
    data: &[u8],
    target: &SchemaRef,
    header: Header,
    table: &SchemaRef,
    strings: bool,
) -> Result<Vec<RecordBatch>, String> {
    let mut lines = data
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace));
    let names: Vec<String> = if header == Header::None {
        target.fields().iter().map(|f| f.name().clone()).collect()
    } else {
        let line = lines.next().ok_or("the names line is missing")?;
        let names: Vec<String> =
            serde_json::from_slice(line).map_err(|e| format!("the names line: {e}"))?;
        if header == Header::NamesAndTypes {
            lines.next().ok_or("the types line is missing")?;
        }
        names
    };
    let rows = lines
        .enumerate()
        .map(|(i, line)| {
            let values: Vec<Value> =
                serde_json::from_slice(line).map_err(|e| format!("row {}: {e}", i + 1))?;
            if values.len() != names.len() {
                return Err(format!(
                    "row {} has {} values for {} columns",
                    i + 1,
                    values.len(),
                    names.len()
                ));
            }
            Ok(names.iter().cloned().zip(values).collect())
        })
        .collect::<Result<Vec<serde_json::Map<String, Value>>, String>>()?;
    objects(rows, &names, table, strings)
}

/// The `JSON` family's envelope: rows under `data`, as objects or (compact) as arrays in the
/// order of `meta`'s names.
fn envelope(
    data: &[u8],
    target: &SchemaRef,
    table: &SchemaRef,
    strings: bool,
) -> Result<Vec<RecordBatch>, String> {
    let doc: Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    let rows = doc
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the document has no \"data\" array")?;
    let names: Vec<String> = match doc.get("meta").and_then(Value::as_array) {
        Some(meta) => meta
            .iter()
            .map(|m| {
                m.get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| "a \"meta\" entry has no name".to_string())
            })
            .collect::<Result<_, _>>()?,
        None => target.fields().iter().map(|f| f.name().clone()).collect(),
    };
    let objects_in = rows
        .iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Object(map) => Ok(map.clone()),
            Value::Array(values) if values.len() == names.len() => {
                Ok(names.iter().cloned().zip(values.iter().cloned()).collect())
            }
            _ => Err(format!(
                "row {} is neither an object nor an array of {} values",
                i + 1,
                names.len()
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen: Vec<String> = names;
    for row in &objects_in {
        for key in row.keys() {
            if !seen.contains(key) {
                seen.push(key.clone());
            }
        }
    }
    objects(objects_in, &seen, table, strings)
}

/// JSON objects read into the table's types for the columns `names` picks. In the `strings`
/// formats every value is text, which arrow-json parses into the column's type, and a NULL is
/// written as its plain-text mark.
fn objects(
    mut rows: Vec<serde_json::Map<String, Value>>,
    names: &[String],
    table: &SchemaRef,
    strings: bool,
) -> Result<Vec<RecordBatch>, String> {
    if strings {
        for (name, value) in rows.iter_mut().flat_map(|row| row.iter_mut()) {
            if value.as_str() == Some(super::text::PLAIN_NULL) {
                *value = Value::Null;
            }
            let is_list = table
                .field_with_name(name)
                .is_ok_and(|f| collection_text::is_collection(f.data_type()));
            if let (true, Some(text)) = (is_list, value.as_str()) {
                *value =
                    collection_text::to_json(text).map_err(|e| format!("column '{name}': {e}"))?;
            }
        }
    }
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|name| {
                table
                    .field_with_name(name)
                    .cloned()
                    .map_err(|_| format!("the rows name column '{name}', which the table lacks"))
            })
            .collect::<Result<Vec<Field>, String>>()?,
    ));
    let mut decoder = arrow::json::ReaderBuilder::new(schema)
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| e.to_string())?;
    decoder.serialize(&rows).map_err(|e| e.to_string())?;
    Ok(decoder
        .flush()
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect())
}

/// An Arrow IPC stream, through the ingest's framing check.
fn arrow_stream(data: Bytes, max_decoded_bytes: u64) -> Result<Vec<RecordBatch>, String> {
    crate::ingest::ArrowStream::new(data, max_decoded_bytes)
        .and_then(crate::ingest::ArrowStream::into_batches)
        .map_err(|e| e.to_string())
}

/// An Arrow IPC file: its magic, zero padding to the writer's alignment (8 bytes in the
/// specification, 64 from arrow-rs), then the same messages a stream holds (read as one), then
/// a footer that indexes them.
fn arrow_file(data: &Bytes, max_decoded_bytes: u64) -> Result<Vec<RecordBatch>, String> {
    const MAGIC: &[u8] = b"ARROW1";
    if data.len() < 16 || !data.starts_with(MAGIC) || !data.ends_with(MAGIC) {
        return Err("the body is not an Arrow IPC file (it starts and ends with ARROW1)".into());
    }
    let start = MAGIC.len() + data[MAGIC.len()..].iter().take_while(|b| **b == 0).count();
    if !start.is_multiple_of(8) {
        return Err("the Arrow IPC file's first message is not aligned to 8 bytes".into());
    }
    arrow_stream(data.slice(start..), max_decoded_bytes)
}

/// A Parquet file. Its footer declares how many rows and bytes it decodes to; a file declaring
/// more than the limit is refused before any page is read, and a reader panic on a malformed
/// file is a refusal like any other.
fn parquet(data: &Bytes, max_decoded_bytes: u64) -> Result<Vec<RecordBatch>, String> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let data = data.clone();
    let file_len = data.len() as u64;
    let read = std::panic::catch_unwind(move || -> Result<Vec<RecordBatch>, String> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| e.to_string())?;
        let meta = builder.metadata();
        let declared: i64 = meta
            .row_groups()
            .iter()
            .map(|g| {
                g.total_byte_size()
                    .max(0)
                    .saturating_add(g.num_rows().max(0))
            })
            .fold(0i64, i64::saturating_add);
        if u64::try_from(declared).unwrap_or(u64::MAX) > max_decoded_bytes {
            return Err(format!(
                "the file decodes to more than {max_decoded_bytes} bytes; send it in smaller requests"
            ));
        }
        // Every column chunk must lie inside the file: the reader asserts (panics) on negative
        // offsets or sizes rather than refusing them.
        let inside = |c: &datafusion::parquet::file::metadata::ColumnChunkMetaData| {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let len = c.compressed_size();
            c.data_page_offset() >= 0
                && start >= 0
                && len >= 0
                && u64::try_from(start.saturating_add(len)).is_ok_and(|end| end <= file_len)
        };
        if !meta
            .row_groups()
            .iter()
            .flat_map(|g| g.columns())
            .all(inside)
        {
            return Err("a column chunk of the Parquet file lies outside the file".into());
        }
        builder
            .build()
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    });
    read.unwrap_or_else(|_| Err("the body is not a readable Parquet file".into()))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, Int64Array, StringArray};
    use arrow::datatypes::DataType;

    use super::*;

    const MAX: u64 = 1 << 20;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    fn read(format: &str, data: &[u8]) -> Result<Vec<RecordBatch>, InputError> {
        decode(format, &Bytes::copy_from_slice(data), &schema(), None, MAX)
    }

    fn ints(batch: &RecordBatch) -> Vec<i64> {
        let a = batch.column(0);
        match a.as_any().downcast_ref::<Int64Array>() {
            Some(a) => a.values().to_vec(),
            None => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().parse().unwrap())
                .collect(),
        }
    }

    #[test]
    fn text_rows_become_text_columns() {
        let b = read("TabSeparated", b"1\tx\\ty\n2\t\\N\n").unwrap();
        assert_eq!(b[0].num_rows(), 2);
        let s = b[0].column(1).as_string::<i32>();
        assert_eq!((s.value(0), s.is_null(1)), ("x\ty", true));
        let b = read("CSVWithNames", b"\"a\",\"s\"\n1,\"q\"\"\nr\"\n").unwrap();
        assert_eq!(b[0].column(1).as_string::<i32>().value(0), "q\"\nr");
        assert!(read("CSV", b"1,2,3\n").is_err());
        assert!(matches!(
            read("Pretty", b""),
            Err(InputError::UnknownFormat(_))
        ));
    }

    #[test]
    fn json_rows_take_the_named_columns() {
        let cols = ["a".to_string()];
        let b = decode(
            "JSONEachRow",
            &Bytes::from_static(b"{\"a\":1}\n{\"a\":\"2\"}\n"),
            &schema(),
            Some(&cols),
            MAX,
        )
        .unwrap();
        assert_eq!(ints(&b[0]), [1, 2]);
    }

    #[test]
    fn every_json_shape_reads() {
        let compact = read(
            "JSONCompactEachRowWithNamesAndTypes",
            b"[\"s\",\"a\"]\n[\"String\",\"Int64\"]\n[\"x\",\"7\"]\n[null,8]\n",
        )
        .unwrap();
        assert_eq!(compact[0].schema().field(0).name(), "s");
        let a = compact[0]
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(a.values(), &[7, 8]);
        assert_eq!(
            ints(&read("JSONCompactStringsEachRow", b"[\"3\",\"x\"]\n").unwrap()[0]),
            [3]
        );
        let doc = br#"{"meta":[{"name":"a","type":"Int64"},{"name":"s","type":"String"}],
            "data":[["1","p"],["2",null]],"rows":2}"#;
        assert_eq!(ints(&read("JSONCompact", doc).unwrap()[0]), [1, 2]);
        let doc = br#"{"meta":[],"data":[{"a":"5","s":"q"}],"rows":1}"#;
        assert_eq!(ints(&read("JSONStrings", doc).unwrap()[0]), [5]);
        assert!(read("JSON", b"{\"rows\":1}").is_err());
        assert!(read("JSONCompactEachRow", b"[1]\n").is_err());
        assert!(
            read("JSONEachRow", b"{\"zz\":1}\n").is_ok(),
            "unknown keys are skipped"
        );
    }

    #[test]
    fn arrow_and_parquet_files_read_through_checked_readers() {
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("x"), None])),
            ],
        )
        .unwrap();
        let mut file = arrow::ipc::writer::FileWriter::try_new(Vec::new(), &schema()).unwrap();
        file.write(&batch).unwrap();
        file.finish().unwrap();
        let file = file.into_inner().unwrap();
        assert_eq!(read("Arrow", &file).unwrap()[0], batch);
        let mut stream = arrow::ipc::writer::StreamWriter::try_new(Vec::new(), &schema()).unwrap();
        stream.write(&batch).unwrap();
        stream.finish().unwrap();
        assert_eq!(
            read("ArrowStream", &stream.into_inner().unwrap()).unwrap()[0],
            batch
        );
        let mut parquet = Vec::new();
        let mut writer =
            datafusion::parquet::arrow::ArrowWriter::try_new(&mut parquet, schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        assert_eq!(read("Parquet", &parquet).unwrap()[0], batch);
        assert!(read("Parquet", &parquet[..parquet.len() - 9]).is_err());
        assert!(read("Arrow", &file[..file.len() - 1]).is_err());
        let tight = decode("Parquet", &Bytes::from(parquet), &schema(), None, 8);
        assert!(tight.is_err(), "over the decoded-size limit");
    }
}
