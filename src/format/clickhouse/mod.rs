//! ClickHouse's data formats, in and out, for the ClickHouse HTTP edge
//! (`crate::http::clickhouse`), which chooses them and maps their errors.
//!
//! - [`types`]: the ClickHouse type name of an Arrow column; [`type_name`]: such names read back.
//! - [`text`]: one value in the text formats' rules.
//! - [`TextFormat`] and [`encode_text`]: the row-oriented text formats (TabSeparated and CSV
//!   with their header variants, JSONEachRow, JSONStringsEachRow, `JSONCompact[Strings]EachRow`
//!   with theirs, Values), byte-exact with ClickHouse's own output.
//! - [`json`]: the `JSON`, `JSONCompact`, `JSONStrings` and `JSONCompactStrings` envelopes.
//! - [`pretty`]: `Pretty` and `PrettyCompact` tables.
//! - [`binary`]: `RowBinary` and `RowBinaryWithNamesAndTypes`.
//! - [`native`]: `Native` blocks, with BlockInfo and `has_custom` by protocol revision.
//! - `wire`: the binary layouts of `Date`, `UUID` and `FixedString` columns (array items and map
//!   keys and values too).
//! - [`input`]: the rows of `INSERT … FORMAT X` decoded ([`text_read`], [`values_read`],
//!   [`row_binary_read`], [`native_read`] for the formats that need their own reader;
//!   `collection_text` for arrays and maps written as text).

pub mod binary;
mod collection_text;
pub mod input;
pub mod json;
pub mod native;
pub mod native_read;
pub mod pretty;
pub mod row_binary_read;
pub mod text;
pub mod text_read;
pub mod type_name;
pub mod types;
pub mod values_read;
mod wire;

use arrow::array::RecordBatch;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};

use self::text::{Dialect, json_string, write_value};

/// Every format name Strata reads or writes, spelled as ClickHouse spells it.
const NAMES: &[&str] = &[
    "TabSeparated",
    "TabSeparatedWithNames",
    "TabSeparatedWithNamesAndTypes",
    "TSV",
    "TSVWithNames",
    "TSVWithNamesAndTypes",
    "TabSeparatedRaw",
    "TabSeparatedRawWithNames",
    "TabSeparatedRawWithNamesAndTypes",
    "TSVRaw",
    "TSVRawWithNames",
    "TSVRawWithNamesAndTypes",
    "Raw",
    "RawWithNames",
    "RawWithNamesAndTypes",
    "CSV",
    "CSVWithNames",
    "CSVWithNamesAndTypes",
    "JSON",
    "JSONCompact",
    "JSONStrings",
    "JSONCompactStrings",
    "JSONEachRow",
    "NDJSON",
    "JSONLines",
    "JSONStringsEachRow",
    "JSONCompactEachRow",
    "JSONCompactEachRowWithNames",
    "JSONCompactEachRowWithNamesAndTypes",
    "JSONCompactStringsEachRow",
    "JSONCompactStringsEachRowWithNames",
    "JSONCompactStringsEachRowWithNamesAndTypes",
    "Values",
    "RowBinary",
    "RowBinaryWithNames",
    "RowBinaryWithNamesAndTypes",
    "Native",
    "Arrow",
    "ArrowStream",
    "Parquet",
    "Pretty",
    "PrettyNoEscapes",
    "PrettyMonoBlock",
    "PrettyNoEscapesMonoBlock",
    "PrettyCompact",
    "PrettyCompactNoEscapes",
    "PrettyCompactMonoBlock",
    "PrettyCompactNoEscapesMonoBlock",
    "Null",
];

/// The format `name` names, spelled as ClickHouse spells it: format names are
/// case-insensitive (`FORMAT tsv`, `default_format=jsoneachrow`), as in ClickHouse.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(name))
}

/// A row-oriented text format: a family of row shapes and the header lines before the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextFormat {
    /// How each row is written.
    pub family: Family,
    /// What precedes the rows.
    pub header: Header,
}

/// How a text format writes a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Tab-separated, escaped (ClickHouse's default output format).
    TabSeparated,
    /// Tab-separated, nothing escaped.
    TabSeparatedRaw,
    /// Comma-separated, strings quoted.
    Csv,
    /// One JSON object per row (`strings`: every value as a JSON string).
    JsonEachRow {
        /// `JSONStringsEachRow`.
        strings: bool,
    },
    /// One JSON array per row (`strings`: every value as a JSON string).
    JsonCompactEachRow {
        /// `JSONCompactStringsEachRow`.
        strings: bool,
    },
    /// `Values`: SQL tuples, `(1,'a'),(2,'b')`.
    Values,
}

/// The lines before the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// None.
    None,
    /// Column names (`…WithNames`).
    Names,
    /// Names, then ClickHouse types (`…WithNamesAndTypes`).
    NamesAndTypes,
}

impl TextFormat {
    /// The format ClickHouse calls `name` (its aliases included), if it is one of these.
    pub fn parse(name: &str) -> Option<Self> {
        let (base, header) = if let Some(base) = name.strip_suffix("WithNamesAndTypes") {
            (base, Header::NamesAndTypes)
        } else if let Some(base) = name.strip_suffix("WithNames") {
            (base, Header::Names)
        } else {
            (name, Header::None)
        };
        let family = match base {
            "TabSeparated" | "TSV" => Family::TabSeparated,
            "TabSeparatedRaw" | "TSVRaw" | "Raw" => Family::TabSeparatedRaw,
            "CSV" => Family::Csv,
            "JSONCompactEachRow" => Family::JsonCompactEachRow { strings: false },
            "JSONCompactStringsEachRow" => Family::JsonCompactEachRow { strings: true },
            "JSONEachRow" | "NDJSON" | "JSONLines" if header == Header::None => {
                Family::JsonEachRow { strings: false }
            }
            "JSONStringsEachRow" if header == Header::None => Family::JsonEachRow { strings: true },
            "Values" if header == Header::None => Family::Values,
            _ => return None,
        };
        Some(TextFormat { family, header })
    }

    /// The `Content-Type` ClickHouse answers it with.
    pub fn content_type(self) -> &'static str {
        match (self.family, self.header) {
            (Family::TabSeparated | Family::TabSeparatedRaw, _) => {
                "text/tab-separated-values; charset=UTF-8"
            }
            (Family::Csv, Header::None) => "text/csv; charset=UTF-8; header=absent",
            (Family::Csv, _) => "text/csv; charset=UTF-8; header=present",
            (Family::JsonEachRow { .. } | Family::JsonCompactEachRow { .. }, _) => {
                "application/x-ndjson; charset=UTF-8"
            }
            (Family::Values, _) => "text/plain; charset=UTF-8",
        }
    }

    /// How each value is written; JSON strings formats print the text rules' value, then
    /// quote it.
    fn dialect(self) -> Dialect {
        match self.family {
            Family::TabSeparated => Dialect::Tsv,
            Family::TabSeparatedRaw => Dialect::TsvRaw,
            Family::Csv => Dialect::Csv,
            Family::JsonEachRow { strings } | Family::JsonCompactEachRow { strings } => {
                if strings {
                    Dialect::Plain
                } else {
                    Dialect::Json
                }
            }
            Family::Values => Dialect::Values,
        }
    }

    /// Whether each value is printed as a JSON string of its text.
    fn strings(self) -> bool {
        matches!(
            self.family,
            Family::JsonEachRow { strings: true } | Family::JsonCompactEachRow { strings: true }
        )
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
    let owned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    if format.header != Header::None {
        header_line(&mut out, format.family, &owned);
    }
    if format.header == Header::NamesAndTypes {
        header_line(&mut out, format.family, &type_names(schema)?);
    }
    let (open, separator, close) = match format.family {
        Family::JsonEachRow { .. } => ("{", ",", "}\n"),
        Family::JsonCompactEachRow { .. } => ("[", ",", "]\n"),
        Family::Csv => ("", ",", "\n"),
        Family::Values => ("(", ",", ")"),
        Family::TabSeparated | Family::TabSeparatedRaw => ("", "\t", "\n"),
    };
    let mut first_row = true;
    let mut cell = String::new();
    for batch in batches {
        let columns = printable_columns(batch, &names)?;
        for row in 0..batch.num_rows() {
            if format.family == Family::Values && !first_row {
                out.push(',');
            }
            first_row = false;
            out.push_str(open);
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                if let Family::JsonEachRow { .. } = format.family {
                    json_string(&mut out, names[i]);
                    out.push(':');
                }
                let unprintable = |reason| Unprintable {
                    column: names[i].to_string(),
                    reason,
                };
                if format.strings() {
                    cell.clear();
                    write_value(&mut cell, column.as_ref(), row, dialect).map_err(unprintable)?;
                    json_string(&mut out, &cell);
                } else {
                    write_value(&mut out, column.as_ref(), row, dialect).map_err(unprintable)?;
                }
            }
            out.push_str(close);
        }
    }
    Ok(out.into_bytes())
}

/// A header line (names or types) in the family's own quoting.
fn header_line(out: &mut String, family: Family, cells: &[String]) {
    let json = matches!(family, Family::JsonCompactEachRow { .. });
    if json {
        out.push('[');
    }
    for (i, cell) in cells.iter().enumerate() {
        match (i, family) {
            (0, _) => {}
            (_, Family::TabSeparated | Family::TabSeparatedRaw) => out.push('\t'),
            _ => out.push(','),
        }
        match family {
            Family::Csv => {
                out.push('"');
                out.push_str(&cell.replace('"', "\"\""));
                out.push('"');
            }
            Family::TabSeparatedRaw => out.push_str(cell),
            _ if json => json_string(out, cell),
            _ => text::tsv_escaped(out, cell),
        }
    }
    if json {
        out.push(']');
    }
    out.push('\n');
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

/// A batch's columns as the binary formats write them: [`printable_columns`], then each in its
/// declared type's ClickHouse layout (`wire`).
fn binary_columns(
    schema: &Schema,
    batch: &RecordBatch,
    names: &[&str],
) -> Result<Vec<arrow::array::ArrayRef>, Unprintable> {
    printable_columns(batch, names)?
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            wire::binary_column(field, column).map_err(|reason| Unprintable {
                column: field.name().clone(),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
