//! ClickHouse's result formats, for the ClickHouse HTTP edge (issue 11; the edge that chooses
//! them is being built, these encoders are its first part).
//!
//! - [`types`]: the ClickHouse type name of an Arrow column; [`type_name`]: such names read back.
//! - [`text`]: one value in the text formats' rules.
//! - [`TextFormat`] and [`encode_text`]: the row-oriented text formats (TabSeparated family,
//!   CSV, JSONEachRow, JSONCompactEachRow), byte-exact with ClickHouse's own output.
//! - [`json`]: the `JSON` and `JSONCompact` envelopes.
//! - [`binary`]: `RowBinary` and `RowBinaryWithNamesAndTypes`.
//! - [`native`]: `Native` blocks, with BlockInfo and `has_custom` by protocol revision.
//! - [`input`]: the rows of `INSERT … FORMAT X` decoded ([`native_read`] for `Native`).

pub mod binary;
pub mod input;
pub mod json;
pub mod native;
pub mod native_read;
pub mod text;
pub mod type_name;
pub mod types;

use arrow::array::RecordBatch;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};

use self::text::{Dialect, json_string, write_value};

/// A row-oriented text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// Tab-separated, escaped (ClickHouse's default output format).
    TabSeparated,
    /// Tab-separated, nothing escaped.
    TabSeparatedRaw,
    /// A first line of column names.
    TabSeparatedWithNames,
    /// Names, then ClickHouse types.
    TabSeparatedWithNamesAndTypes,
    /// Comma-separated, strings quoted.
    Csv,
    /// A first line of quoted column names.
    CsvWithNames,
    /// One JSON object per row.
    JsonEachRow,
    /// One JSON array per row.
    JsonCompactEachRow,
}

impl TextFormat {
    /// The format ClickHouse calls `name` (its aliases included), if it is one of these.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "TabSeparated" | "TSV" => TextFormat::TabSeparated,
            "TabSeparatedRaw" | "TSVRaw" | "Raw" => TextFormat::TabSeparatedRaw,
            "TabSeparatedWithNames" | "TSVWithNames" => TextFormat::TabSeparatedWithNames,
            "TabSeparatedWithNamesAndTypes" | "TSVWithNamesAndTypes" => {
                TextFormat::TabSeparatedWithNamesAndTypes
            }
            "CSV" => TextFormat::Csv,
            "CSVWithNames" => TextFormat::CsvWithNames,
            "JSONEachRow" | "NDJSON" | "JSONLines" => TextFormat::JsonEachRow,
            "JSONCompactEachRow" => TextFormat::JsonCompactEachRow,
            _ => return None,
        })
    }

    /// The `Content-Type` ClickHouse answers it with.
    pub fn content_type(self) -> &'static str {
        match self {
            TextFormat::TabSeparated
            | TextFormat::TabSeparatedRaw
            | TextFormat::TabSeparatedWithNames
            | TextFormat::TabSeparatedWithNamesAndTypes => {
                "text/tab-separated-values; charset=UTF-8"
            }
            TextFormat::Csv => "text/csv; charset=UTF-8; header=absent",
            TextFormat::CsvWithNames => "text/csv; charset=UTF-8; header=present",
            TextFormat::JsonEachRow | TextFormat::JsonCompactEachRow => {
                "application/x-ndjson; charset=UTF-8"
            }
        }
    }

    fn dialect(self) -> Dialect {
        match self {
            TextFormat::TabSeparatedRaw => Dialect::TsvRaw,
            TextFormat::Csv | TextFormat::CsvWithNames => Dialect::Csv,
            TextFormat::JsonEachRow | TextFormat::JsonCompactEachRow => Dialect::Json,
            _ => Dialect::Tsv,
        }
    }
}

/// A column these formats cannot print; the message names it and its type.
#[derive(Debug, thiserror::Error)]
#[error("column '{column}' cannot be printed in ClickHouse's formats: {reason}")]
pub struct Unprintable {
    /// The column.
    pub column: String,
    /// Why.
    pub reason: String,
}

/// The whole body of `batches` in `format`.
pub fn encode_text(
    format: TextFormat,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, Unprintable> {
    let dialect = format.dialect();
    let mut out = String::new();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let header = |out: &mut String, cells: &[String], quote: bool| {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(if quote { ',' } else { '\t' });
            }
            if quote {
                out.push('"');
                out.push_str(&cell.replace('"', "\"\""));
                out.push('"');
            } else {
                text::tsv_escaped(out, cell);
            }
        }
        out.push('\n');
    };
    let owned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    match format {
        TextFormat::TabSeparatedWithNames => header(&mut out, &owned, false),
        TextFormat::CsvWithNames => header(&mut out, &owned, true),
        TextFormat::TabSeparatedWithNamesAndTypes => {
            header(&mut out, &owned, false);
            header(&mut out, &type_names(schema)?, false);
        }
        _ => {}
    }
    for batch in batches {
        let columns = printable_columns(batch, &names)?;
        for row in 0..batch.num_rows() {
            match format {
                TextFormat::JsonEachRow => out.push('{'),
                TextFormat::JsonCompactEachRow => out.push('['),
                _ => {}
            }
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    out.push(match dialect {
                        Dialect::Csv | Dialect::Json => ',',
                        _ => '\t',
                    });
                }
                if format == TextFormat::JsonEachRow {
                    json_string(&mut out, names[i]);
                    out.push(':');
                }
                write_value(&mut out, column.as_ref(), row, dialect).map_err(|reason| {
                    Unprintable {
                        column: names[i].to_string(),
                        reason,
                    }
                })?;
            }
            match format {
                TextFormat::JsonEachRow => out.push('}'),
                TextFormat::JsonCompactEachRow => out.push(']'),
                _ => {}
            }
            out.push('\n');
        }
    }
    Ok(out.into_bytes())
}

/// Every column's ClickHouse type name, or the column that has none.
fn type_names(schema: &Schema) -> Result<Vec<String>, Unprintable> {
    schema
        .fields()
        .iter()
        .map(|f| {
            types::clickhouse_type(f).ok_or_else(|| Unprintable {
                column: f.name().clone(),
                reason: format!("Arrow type {} has no ClickHouse name", f.data_type()),
            })
        })
        .collect()
}

/// A batch's columns as the printers take them: dictionary-encoded ones (SYMBOL) decoded to
/// their values.
fn printable_columns(
    batch: &RecordBatch,
    names: &[&str],
) -> Result<Vec<arrow::array::ArrayRef>, Unprintable> {
    batch
        .columns()
        .iter()
        .zip(names.iter())
        .map(|(c, name)| match c.data_type() {
            DataType::Dictionary(_, value) => cast(c, value).map_err(|e| Unprintable {
                column: (*name).to_string(),
                reason: e.to_string(),
            }),
            _ => Ok(std::sync::Arc::clone(c)),
        })
        .collect()
}

#[cfg(test)]
mod tests;
