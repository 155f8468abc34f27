//! `Pretty` and `PrettyCompact`: the box-drawn tables ClickHouse prints for people at a
//! terminal (`curl 'http://host:8123/?query=SELECT…+FORMAT+PrettyCompact'`). Values are their
//! plain text (NULL as `ᴺᵁᴸᴸ`); numbers are right-aligned under right-aligned names, everything
//! else left-aligned. Strata prints the whole result as one table (ClickHouse's `MonoBlock`
//! variants) without colour (ClickHouse's choice for a client that is not a terminal), and at most
//! [`MAX_ROWS`] rows, saying so when it stops.

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;

use super::text::{Dialect, write_value};
use super::{Unprintable, printable_columns};

/// Rows shown before the table stops (ClickHouse's `output_format_pretty_max_rows`).
pub const MAX_ROWS: usize = 10_000;

/// Which table style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `Pretty`: a heavy header and a rule between rows.
    Full,
    /// `PrettyCompact`: names in the top border, rows one under the other.
    Compact,
}

impl Style {
    /// The style ClickHouse calls `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "Pretty" | "PrettyNoEscapes" | "PrettyMonoBlock" | "PrettyNoEscapesMonoBlock" => {
                Style::Full
            }
            "PrettyCompact"
            | "PrettyCompactNoEscapes"
            | "PrettyCompactMonoBlock"
            | "PrettyCompactNoEscapesMonoBlock" => Style::Compact,
            _ => return None,
        })
    }
}

/// The whole table of `batches`; nothing at all when there are no rows, as ClickHouse does.
pub fn encode_pretty(
    style: Style,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, Unprintable> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let right: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(total.min(MAX_ROWS));
    'rows: for batch in batches {
        let columns = printable_columns(batch, &names)?;
        for row in 0..batch.num_rows() {
            if cells.len() == MAX_ROWS {
                break 'rows;
            }
            let mut line = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                let mut cell = String::new();
                write_value(&mut cell, column.as_ref(), row, Dialect::Plain).map_err(|reason| {
                    Unprintable {
                        column: names[i].to_string(),
                        reason,
                    }
                })?;
                line.push(cell);
            }
            cells.push(line);
        }
    }
    if cells.is_empty() {
        return Ok(Vec::new());
    }
    let widths: Vec<usize> = (0..names.len())
        .map(|i| {
            cells
                .iter()
                .map(|line| width(&line[i]))
                .chain(std::iter::once(width(names[i])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let rule = |out: &mut String, left: &str, fill: &str, join: &str, end: &str| {
        out.push_str(left);
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                out.push_str(join);
            }
            out.push_str(&fill.repeat(w + 2));
        }
        out.push_str(end);
        out.push('\n');
    };
    let row_line = |out: &mut String, line: &[&str], bar: &str| {
        for (i, cell) in line.iter().enumerate() {
            out.push_str(bar);
            out.push(' ');
            padded(out, cell, widths[i], right[i], " ");
            out.push(' ');
        }
        out.push_str(bar);
        out.push('\n');
    };
    match style {
        Style::Full => {
            rule(&mut out, "┏", "━", "┳", "┓");
            row_line(&mut out, &names, "┃");
            rule(&mut out, "┡", "━", "╇", "┩");
        }
        Style::Compact => {
            out.push('┌');
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push('┬');
                }
                out.push('─');
                padded(&mut out, name, widths[i], right[i], "─");
                out.push('─');
            }
            out.push_str("┐\n");
        }
    }
    for (n, line) in cells.iter().enumerate() {
        if n > 0 && style == Style::Full {
            rule(&mut out, "├", "─", "┼", "┤");
        }
        let line: Vec<&str> = line.iter().map(String::as_str).collect();
        row_line(&mut out, &line, "│");
    }
    rule(&mut out, "└", "─", "┴", "┘");
    if total > cells.len() {
        out.push_str(&format!("  Showed first {}.\n", cells.len()));
    }
    Ok(out.into_bytes())
}

/// Display width: one per character (ClickHouse counts code points, too, for the common case).
fn width(text: &str) -> usize {
    text.chars().count()
}

fn padded(out: &mut String, text: &str, width_to: usize, right: bool, fill: &str) {
    let pad = fill.repeat(width_to.saturating_sub(width(text)));
    if right {
        out.push_str(&pad);
        out.push_str(text);
    } else {
        out.push_str(text);
        out.push_str(&pad);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Field};

    use super::*;

    fn batch() -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("x", DataType::UInt64, false),
                Field::new("name", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(UInt64Array::from(vec![1_000_000, 2])),
                Arc::new(StringArray::from(vec![Some("abc"), None])),
            ],
        )
        .unwrap()
    }

    fn table(style: Style) -> String {
        let b = batch();
        String::from_utf8(encode_pretty(style, &b.schema(), &[b]).unwrap()).unwrap()
    }

    #[test]
    fn compact_tables_put_names_in_the_border() {
        assert_eq!(
            table(Style::Compact),
            "┌───────x─┬─name─┐\n\
             │ 1000000 │ abc  │\n\
             │       2 │ ᴺᵁᴸᴸ │\n\
             └─────────┴──────┘\n"
        );
    }

    #[test]
    fn full_tables_rule_between_rows() {
        assert_eq!(
            table(Style::Full),
            "┏━━━━━━━━━┳━━━━━━┓\n\
             ┃       x ┃ name ┃\n\
             ┡━━━━━━━━━╇━━━━━━┩\n\
             │ 1000000 │ abc  │\n\
             ├─────────┼──────┤\n\
             │       2 │ ᴺᵁᴸᴸ │\n\
             └─────────┴──────┘\n"
        );
        let empty = RecordBatch::new_empty(batch().schema());
        assert!(
            encode_pretty(Style::Full, &empty.schema(), &[empty])
                .unwrap()
                .is_empty()
        );
    }
}
