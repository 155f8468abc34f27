//! The result formats this edge answers in, by the name a `FORMAT` clause or `default_format`
//! gives, each with the `Content-Type` ClickHouse sends.

use std::sync::Arc;

use arrow::datatypes::Schema;

use super::exception::Exception;
use crate::format::clickhouse::json::{Envelope, Statistics};
use crate::format::clickhouse::native::encode_native;
use crate::format::clickhouse::pretty::{self, Style};
use crate::format::clickhouse::{
    Header, TextFormat, Unprintable, binary, canonical_name, encode_text, json,
};
use crate::sql::QueryOutput;

/// A result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// The row-oriented text formats: TabSeparated and CSV families, the JSON-per-row ones,
    /// Values.
    Text(TextFormat),
    /// `JSON`, `JSONCompact`, `JSONStrings`, `JSONCompactStrings`.
    Json(Envelope),
    /// `Pretty`, `PrettyCompact`.
    Pretty(Style),
    /// `RowBinary`, `RowBinaryWithNames`, `RowBinaryWithNamesAndTypes`.
    RowBinary {
        /// What precedes the rows.
        header: Header,
    },
    /// `Native`.
    Native,
    /// `Arrow`: an Arrow IPC file.
    Arrow,
    /// `ArrowStream`: an Arrow IPC stream.
    ArrowStream,
    /// `Parquet`.
    Parquet,
    /// `Null`: nothing.
    Null,
}

/// What an unknown format's error lists.
pub const SUPPORTED: &str = "TabSeparated, TabSeparatedRaw, CSV (each also WithNames and \
    WithNamesAndTypes), JSON, JSONCompact, JSONStrings, JSONCompactStrings, JSONEachRow, \
    JSONStringsEachRow, JSONCompactEachRow and JSONCompactStringsEachRow (these two also WithNames \
    and WithNamesAndTypes), Values, Pretty, PrettyCompact, RowBinary, RowBinaryWithNames, \
    RowBinaryWithNamesAndTypes, Native, Arrow, ArrowStream, Parquet, Null";

impl OutputFormat {
    /// The format named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        let name = canonical_name(name)?;
        if let Some(text) = TextFormat::parse(name) {
            return Some(OutputFormat::Text(text));
        }
        Some(match name {
            "JSON" => OutputFormat::Json(Envelope {
                compact: false,
                strings: false,
            }),
            "JSONCompact" => OutputFormat::Json(Envelope {
                compact: true,
                strings: false,
            }),
            "JSONStrings" => OutputFormat::Json(Envelope {
                compact: false,
                strings: true,
            }),
            "JSONCompactStrings" => OutputFormat::Json(Envelope {
                compact: true,
                strings: true,
            }),
            "RowBinary" => OutputFormat::RowBinary {
                header: Header::None,
            },
            "RowBinaryWithNames" => OutputFormat::RowBinary {
                header: Header::Names,
            },
            "RowBinaryWithNamesAndTypes" => OutputFormat::RowBinary {
                header: Header::NamesAndTypes,
            },
            "Native" => OutputFormat::Native,
            "Arrow" => OutputFormat::Arrow,
            "ArrowStream" => OutputFormat::ArrowStream,
            "Parquet" => OutputFormat::Parquet,
            "Null" => OutputFormat::Null,
            other => OutputFormat::Pretty(Style::parse(other)?),
        })
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Text(text) => text.content_type(),
            OutputFormat::Json(_) => "application/json; charset=UTF-8",
            OutputFormat::Null | OutputFormat::Pretty(_) => "text/plain; charset=UTF-8",
            _ => "application/octet-stream",
        }
    }
}

/// The body of `output` in `format`; `revision` is the client's Native protocol revision.
pub fn encode(
    format: OutputFormat,
    revision: u64,
    output: &QueryOutput,
    statistics: Statistics,
) -> Result<Vec<u8>, Exception> {
    let schema: &Schema = output.schema.as_ref();
    let batches = &output.batches;
    let unprintable = |e: Unprintable| Exception::new(48, "NOT_IMPLEMENTED", e.to_string());
    let arrow = |e: arrow::error::ArrowError| Exception::internal(&e);
    match format {
        OutputFormat::Text(text) => encode_text(text, schema, batches).map_err(unprintable),
        OutputFormat::Json(envelope) => {
            json::encode_json(envelope, schema, batches, None, statistics).map_err(unprintable)
        }
        OutputFormat::Pretty(style) => {
            pretty::encode_pretty(style, schema, batches).map_err(unprintable)
        }
        OutputFormat::RowBinary { header } => {
            binary::encode_row_binary(header, schema, batches).map_err(unprintable)
        }
        OutputFormat::Native => encode_native(revision, schema, batches).map_err(unprintable),
        OutputFormat::Arrow => {
            let mut writer =
                arrow::ipc::writer::FileWriter::try_new(Vec::new(), schema).map_err(arrow)?;
            for batch in batches {
                writer.write(batch).map_err(arrow)?;
            }
            writer.finish().map_err(arrow)?;
            writer.into_inner().map_err(arrow)
        }
        OutputFormat::ArrowStream => {
            let mut writer =
                arrow::ipc::writer::StreamWriter::try_new(Vec::new(), schema).map_err(arrow)?;
            for batch in batches {
                writer.write(batch).map_err(arrow)?;
            }
            writer.finish().map_err(arrow)?;
            writer.into_inner().map_err(arrow)
        }
        OutputFormat::Parquet => {
            let mut out = Vec::new();
            let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(
                &mut out,
                Arc::clone(&output.schema),
                None,
            )
            .map_err(|e| Exception::internal(&e))?;
            for batch in batches {
                writer.write(batch).map_err(|e| Exception::internal(&e))?;
            }
            writer.close().map_err(|e| Exception::internal(&e))?;
            Ok(out)
        }
        OutputFormat::Null => Ok(Vec::new()),
    }
}
