//! Rows in ClickHouse's input formats (the body of `INSERT … FORMAT X`), decoded into Arrow
//! batches of the table's columns: `JSONEachRow`, the `TabSeparated` family, `CSV` and
//! `CSVWithNames`, and `Native` ([`super::native_read`]). Text values arrive as strings and are
//! converted to the columns' types by the same strict casts every ingest uses, so a value that
//! does not fit fails the whole insert rather than becoming NULL.

use std::io::Cursor;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// Why rows could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The format is not one Strata reads.
    #[error(
        "Input format {0} is not supported (supported: JSONEachRow, TabSeparated, TabSeparatedWithNames, TabSeparatedWithNamesAndTypes, CSV, CSVWithNames, Native)"
    )]
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
/// statement named them).
pub fn decode(
    format: &str,
    data: &[u8],
    table: &SchemaRef,
    columns: Option<&[String]>,
) -> Result<Vec<RecordBatch>, InputError> {
    let malformed = |reason: String| InputError::Malformed {
        format: format.to_string(),
        reason,
    };
    let target: SchemaRef = match columns {
        None => Arc::clone(table),
        Some(names) => Arc::new(Schema::new(
            names
                .iter()
                .filter_map(|n| table.field_with_name(n).ok().cloned())
                .collect::<Vec<Field>>(),
        )),
    };
    match format {
        "JSONEachRow" | "NDJSON" | "JSONLines" => json_each_row(data, &target).map_err(malformed),
        "TabSeparated" | "TSV" => text(data, &target, Separator::Tab, 0).map_err(malformed),
        "TabSeparatedWithNames" | "TSVWithNames" => {
            text(data, &target, Separator::Tab, 1).map_err(malformed)
        }
        "TabSeparatedWithNamesAndTypes" | "TSVWithNamesAndTypes" => {
            text(data, &target, Separator::Tab, 2).map_err(malformed)
        }
        "CSV" => text(data, &target, Separator::Comma, 0).map_err(malformed),
        "CSVWithNames" => text(data, &target, Separator::Comma, 1).map_err(malformed),
        "Native" => super::native_read::decode(data).map_err(malformed),
        other => Err(InputError::UnknownFormat(other.to_string())),
    }
}

fn json_each_row(data: &[u8], target: &SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let reader = arrow::json::ReaderBuilder::new(Arc::clone(target))
        .with_batch_size(65_536)
        .build(Cursor::new(data))
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

#[derive(Clone, Copy, PartialEq)]
enum Separator {
    Tab,
    Comma,
}

/// Tab- or comma-separated rows, `skip` header lines first. Fields are matched to `target`'s
/// columns by position and held as text until the insert casts them.
fn text(
    data: &[u8],
    target: &SchemaRef,
    separator: Separator,
    skip: usize,
) -> Result<Vec<RecordBatch>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "the rows are not UTF-8 text".to_string())?;
    let width = target.fields().len();
    let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
    let mut line_no = 0;
    let mut rest = text;
    let mut rows = 0;
    while !rest.is_empty() {
        let (fields, next) = match separator {
            Separator::Tab => tsv_line(rest),
            Separator::Comma => csv_line(rest).map_err(|e| format!("line {}: {e}", line_no + 1))?,
        };
        rest = next;
        line_no += 1;
        if line_no <= skip
            || (fields.len() == 1 && fields[0].as_deref() == Some("") && rest.is_empty())
        {
            continue;
        }
        if fields.len() != width {
            return Err(format!(
                "line {line_no} has {} fields, the insert has {width} columns",
                fields.len()
            ));
        }
        for (builder, field) in builders.iter_mut().zip(fields) {
            builder.append_option(field);
        }
        rows += 1;
    }
    let schema = Arc::new(Schema::new(
        target
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    if rows == 0 {
        return Ok(Vec::new());
    }
    RecordBatch::try_new(schema, columns)
        .map(|b| vec![b])
        .map_err(|e| e.to_string())
}

/// One TabSeparated line: fields unescaped, `\N` as NULL.
fn tsv_line(text: &str) -> (Vec<Option<String>>, &str) {
    let (line, rest) = match text.find('\n') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let line = line.strip_suffix('\r').unwrap_or(line);
    let fields = line
        .split('\t')
        .map(|f| (f != "\\N").then(|| unescape_tsv(f)))
        .collect();
    (fields, rest)
}

fn unescape_tsv(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// One CSV line (a quoted field may span lines): `""` is a quote, an unquoted `\N` is NULL.
#[allow(clippy::type_complexity)]
fn csv_line(text: &str) -> Result<(Vec<Option<String>>, &str), String> {
    let bytes = text.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            let mut value = String::new();
            let mut j = i + 1;
            loop {
                match text[j..].find('"') {
                    None => return Err("a quoted field does not end".into()),
                    Some(k) => {
                        value.push_str(&text[j..j + k]);
                        j += k + 1;
                        if bytes.get(j) == Some(&b'"') {
                            value.push('"');
                            j += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            fields.push(Some(value));
            i = j;
        } else {
            let end = text[i..].find([',', '\n']).map_or(text.len(), |k| i + k);
            let raw = text[i..end].strip_suffix('\r').unwrap_or(&text[i..end]);
            fields.push((raw != "\\N").then(|| raw.to_string()));
            i = end;
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => return Ok((fields, &text[i + 2..])),
            Some(b'\n') => return Ok((fields, &text[i + 1..])),
            None => return Ok((fields, "")),
            Some(_) => return Err("a quoted field is followed by more text".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, Int64Array};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn text_rows_become_text_columns() {
        let b = decode("TabSeparated", b"1\tx\\ty\n2\t\\N\n", &schema(), None).unwrap();
        assert_eq!(b[0].num_rows(), 2);
        let s = b[0].column(1).as_string::<i32>();
        assert_eq!((s.value(0), s.is_null(1)), ("x\ty", true));
        let b = decode(
            "CSVWithNames",
            b"\"a\",\"s\"\n1,\"q\"\"\nr\"\n",
            &schema(),
            None,
        )
        .unwrap();
        assert_eq!(b[0].column(1).as_string::<i32>().value(0), "q\"\nr");
        assert!(decode("CSV", b"1,2,3\n", &schema(), None).is_err());
        assert!(matches!(
            decode("Parquet", b"", &schema(), None),
            Err(InputError::UnknownFormat(_))
        ));
    }

    #[test]
    fn json_rows_take_the_named_columns() {
        let cols = ["a".to_string()];
        let b = decode(
            "JSONEachRow",
            b"{\"a\":1}\n{\"a\":\"2\"}\n",
            &schema(),
            Some(&cols),
        )
        .unwrap();
        let a = b[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(a.values(), &[1, 2]);
    }
}
