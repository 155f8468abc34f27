//! `JSON`, `JSONCompact`, `JSONStrings` and `JSONCompactStrings`: the envelope ClickHouse prints (`meta` with each column's
//! ClickHouse type, `data`, `rows`, `rows_before_limit_at_least` when the query had a LIMIT,
//! `statistics`), tab-indented exactly as ClickHouse does. The Altinity Grafana plugin and
//! `@clickhouse/client` read it.

use std::fmt::Write as _;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;

use super::text::{Dialect, json_string, write_value};
use super::{Unprintable, printable_columns, type_names};

/// The figures of the `statistics` block.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Statistics {
    /// Seconds the statement took.
    pub elapsed_secs: f64,
    /// Rows the scans read.
    pub rows_read: u64,
    /// Bytes the scans read.
    pub bytes_read: u64,
}

/// Which of the envelope formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// Rows as arrays (`JSONCompact`, `JSONCompactStrings`) rather than objects.
    pub compact: bool,
    /// Every value as a JSON string of its plain text (`JSONStrings`, `JSONCompactStrings`).
    pub strings: bool,
}

/// The whole body of `batches` in the `envelope` format.
pub fn encode_json(
    envelope: Envelope,
    schema: &Schema,
    batches: &[RecordBatch],
    rows_before_limit: Option<u64>,
    statistics: Statistics,
) -> Result<Vec<u8>, Unprintable> {
    let mut out = String::from("{\n\t\"meta\":\n\t[\n");
    for (i, (field, ty)) in schema.fields().iter().zip(type_names(schema)?).enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str("\t\t{\n\t\t\t\"name\": ");
        json_string(&mut out, field.name());
        out.push_str(",\n\t\t\t\"type\": ");
        json_string(&mut out, &ty);
        out.push_str("\n\t\t}");
    }
    out.push_str("\n\t],\n\n\t\"data\":\n\t[\n");
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let Envelope { compact, strings } = envelope;
    let dialect = if strings {
        Dialect::Plain
    } else {
        Dialect::Json
    };
    let mut cell = String::new();
    let mut rows: u64 = 0;
    for batch in batches {
        let columns = printable_columns(batch, &names)?;
        for row in 0..batch.num_rows() {
            if rows > 0 {
                out.push_str(",\n");
            }
            rows += 1;
            out.push_str(if compact { "\t\t[" } else { "\t\t{\n" });
            for (i, column) in columns.iter().enumerate() {
                if compact {
                    if i > 0 {
                        out.push_str(", ");
                    }
                } else {
                    if i > 0 {
                        out.push_str(",\n");
                    }
                    out.push_str("\t\t\t");
                    json_string(&mut out, names[i]);
                    out.push_str(": ");
                }
                let unprintable = |reason| Unprintable {
                    column: names[i].to_string(),
                    reason,
                };
                if strings {
                    cell.clear();
                    write_value(&mut cell, column.as_ref(), row, dialect).map_err(unprintable)?;
                    json_string(&mut out, &cell);
                } else {
                    write_value(&mut out, column.as_ref(), row, dialect).map_err(unprintable)?;
                }
            }
            out.push_str(if compact { "]" } else { "\n\t\t}" });
        }
    }
    let _ = write!(out, "\n\t],\n\n\t\"rows\": {rows},\n\n");
    if let Some(n) = rows_before_limit {
        let _ = write!(out, "\t\"rows_before_limit_at_least\": {n},\n\n");
    }
    let _ = write!(
        out,
        "\t\"statistics\":\n\t{{\n\t\t\"elapsed\": {},\n\t\t\"rows_read\": {},\n\t\t\"bytes_read\": {}\n\t}}\n}}\n",
        statistics.elapsed_secs, statistics.rows_read, statistics.bytes_read
    );
    Ok(out.into_bytes())
}
