//! One value as ClickHouse's text formats print it, byte for byte (`clickhouse-http.md` §3.1,
//! §3.3–3.5 and the goldens captured from a real server):
//!
//! | | TabSeparated | CSV | JSON family |
//! |---|---|---|---|
//! | NULL | `\N` (`NULL` inside an array) | `\N` | `null` |
//! | 64-bit integers | bare | bare | quoted string |
//! | strings | `\\ \t \n \b \f \r \0 \'` escaped; single-quoted in arrays | double-quoted, `"` doubled | JSON string, `/` as `\/` |
//! | dates, times | bare | double-quoted | string |
//! | arrays | `[0,1]` | `"[0,1]"` | `[…]` |
//! | maps | `{'a':1}` | `"{'a':1}"` | `{"a":1}` (every key a string) |
//!
//! `Values` writes every value as TabSeparated does inside an array (`'a\'b'`, `NULL`); the JSON
//! strings formats and Pretty print a value's plain text (nothing escaped, NULL as `ᴺᵁᴸᴸ`).

use std::fmt::Write as _;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use super::types::fraction_digits;

/// How a NULL reads in plain text (Pretty, the `…Strings…` formats): ClickHouse's own mark,
/// which no real value is mistaken for.
pub(super) const PLAIN_NULL: &str = "ᴺᵁᴸᴸ";

/// Which family's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// TabSeparated and its variants.
    Tsv,
    /// TabSeparatedRaw: as TabSeparated, nothing escaped.
    TsvRaw,
    /// CSV and CSVWithNames.
    Csv,
    /// JSON, JSONCompact, JSONEachRow, JSONCompactEachRow.
    Json,
    /// A value's plain text, as the JSON strings formats quote it and Pretty shows it:
    /// nothing escaped, NULL as `ᴺᵁᴸᴸ`.
    Plain,
    /// `Values`: SQL literals (strings and dates single-quoted and escaped, NULL as `NULL`).
    Values,
}

/// Appends the value at `row` of `array`. `Err` names a type these formats cannot print.
pub fn write_value(
    out: &mut String,
    array: &dyn Array,
    row: usize,
    dialect: Dialect,
) -> Result<(), String> {
    match dialect {
        // Values writes every value as TabSeparated writes one inside an array.
        Dialect::Values => write(out, array, row, Dialect::Tsv, true),
        _ => write(out, array, row, dialect, false),
    }
}

fn write(
    out: &mut String,
    array: &dyn Array,
    row: usize,
    dialect: Dialect,
    nested: bool,
) -> Result<(), String> {
    // A `NullArray` has no validity buffer: its values are NULL all the same.
    if array.is_null(row) || array.data_type() == &DataType::Null {
        out.push_str(match (dialect, nested) {
            (Dialect::Json, _) => "null",
            (_, true) => "NULL",
            (Dialect::Plain, false) => PLAIN_NULL,
            _ => "\\N",
        });
        return Ok(());
    }
    // JSON quotes 64-bit integers (output_format_json_quote_64bit_integers=1, the default).
    let quote_64 = dialect == Dialect::Json;
    macro_rules! int {
        ($t:ty) => {{
            let _ = write!(out, "{}", array.as_primitive::<$t>().value(row));
        }};
    }
    macro_rules! wide {
        ($t:ty) => {{
            let v = array.as_primitive::<$t>().value(row);
            if quote_64 {
                let _ = write!(out, "\"{v}\"");
            } else {
                let _ = write!(out, "{v}");
            }
        }};
    }
    match array.data_type() {
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => wide!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => wide!(UInt64Type),
        DataType::Float32 => float(
            out,
            f64::from(array.as_primitive::<Float32Type>().value(row)),
            dialect,
        ),
        DataType::Float64 => float(out, array.as_primitive::<Float64Type>().value(row), dialect),
        DataType::Boolean => {
            out.push_str(if array.as_boolean().value(row) {
                "true"
            } else {
                "false"
            });
        }
        DataType::Utf8 => string(out, array.as_string::<i32>().value(row), dialect, nested),
        DataType::LargeUtf8 => string(out, array.as_string::<i64>().value(row), dialect, nested),
        DataType::Utf8View => string(out, array.as_string_view().value(row), dialect, nested),
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            let date = chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)
                .ok_or_else(|| format!("date {days} days from 1970 is out of range"))?;
            text_like(out, &date.format("%Y-%m-%d").to_string(), dialect, nested);
        }
        DataType::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            text_like(out, &timestamp(v, *unit, tz.as_deref())?, dialect, nested);
        }
        DataType::Decimal128(..) => {
            let text = array
                .as_primitive::<arrow::datatypes::Decimal128Type>()
                .value_as_string(row);
            out.push_str(&text);
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let values = list.value(row);
            let mut inner = String::from("[");
            for i in 0..values.len() {
                if i > 0 {
                    inner.push(',');
                }
                write(
                    &mut inner,
                    values.as_ref(),
                    i,
                    if dialect == Dialect::Json {
                        Dialect::Json
                    } else {
                        Dialect::Tsv
                    },
                    true,
                )?;
            }
            inner.push(']');
            if dialect == Dialect::Csv && !nested {
                csv_quoted(out, &inner);
            } else {
                out.push_str(&inner);
            }
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut inner = String::from("{");
            for i in 0..entries.len() {
                if i > 0 {
                    inner.push(',');
                }
                if dialect == Dialect::Json {
                    let mut key = String::new();
                    write(&mut key, keys.as_ref(), i, Dialect::Plain, false)?;
                    json_string(&mut inner, &key);
                    inner.push(':');
                    write(&mut inner, values.as_ref(), i, Dialect::Json, true)?;
                } else {
                    write(&mut inner, keys.as_ref(), i, Dialect::Tsv, true)?;
                    inner.push(':');
                    write(&mut inner, values.as_ref(), i, Dialect::Tsv, true)?;
                }
            }
            inner.push('}');
            if dialect == Dialect::Csv && !nested {
                csv_quoted(out, &inner);
            } else {
                out.push_str(&inner);
            }
        }
        other => return Err(format!("Arrow type {other}")),
    }
    Ok(())
}

/// `YYYY-MM-DD hh:mm:ss` in zone `tz` (none: UTC), with as many fraction digits as the unit
/// has, as ClickHouse prints a `DateTime`/`DateTime64` in its column's zone.
fn timestamp(v: i64, unit: TimeUnit, tz: Option<&str>) -> Result<String, String> {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let (secs, frac) = (v.div_euclid(per_second), v.rem_euclid(per_second));
    let nanos = u32::try_from(frac * (1_000_000_000 / per_second)).unwrap_or(0);
    let t = chrono::DateTime::from_timestamp(secs, nanos)
        .ok_or_else(|| format!("timestamp {v} is out of range"))?;
    let pattern = "%Y-%m-%d %H:%M:%S";
    let mut text = match tz {
        None | Some("UTC" | "+00:00" | "Z" | "Etc/UTC") => t.format(pattern).to_string(),
        Some(tz) => {
            let zone: arrow::array::timezone::Tz = tz
                .parse()
                .map_err(|_| format!("time zone '{tz}' is not one Strata knows"))?;
            t.with_timezone(&zone).format(pattern).to_string()
        }
    };
    let digits = fraction_digits(unit);
    if digits > 0 {
        let _ = write!(text, ".{frac:0digits$}");
    }
    Ok(text)
}

fn float(out: &mut String, v: f64, dialect: Dialect) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else if dialect == Dialect::Json {
        out.push_str("null");
    } else if v.is_nan() {
        out.push_str("nan");
    } else {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
    }
}

/// Dates and times: bare in TabSeparated, quoted in CSV, strings in JSON and inside arrays.
fn text_like(out: &mut String, text: &str, dialect: Dialect, nested: bool) {
    match dialect {
        Dialect::Json => json_string(out, text),
        Dialect::Csv if !nested => csv_quoted(out, text),
        _ if nested => {
            out.push('\'');
            out.push_str(text);
            out.push('\'');
        }
        _ => out.push_str(text),
    }
}

fn string(out: &mut String, s: &str, dialect: Dialect, nested: bool) {
    match dialect {
        Dialect::Json => json_string(out, s),
        Dialect::Csv if !nested => csv_quoted(out, s),
        Dialect::TsvRaw | Dialect::Plain if !nested => out.push_str(s),
        _ if nested => {
            out.push('\'');
            tsv_escaped(out, s);
            out.push('\'');
        }
        _ => tsv_escaped(out, s),
    }
}

/// `s` with TabSeparated's escapes.
pub(super) fn tsv_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0' => out.push_str("\\0"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
}

fn csv_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// A JSON string as ClickHouse writes it: `/` escaped too.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
