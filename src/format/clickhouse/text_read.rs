//! The text input formats' rows: the `TabSeparated` family and `CSV`, fields matched to the
//! insert's columns by position and held as text until the insert casts them (`\\N` is NULL).

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// Which text family.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Separator {
    /// TabSeparated: escaped fields.
    Tab,
    /// TabSeparatedRaw: fields as they are (no tab or newline inside one).
    RawTab,
    /// CSV: quoted fields.
    Comma,
}

/// Tab- or comma-separated rows, `skip` header lines first. Fields are matched to `target`'s
/// columns by position and held as text until the insert casts them.
pub(super) fn text(
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
    // An array's or map's field is its text form, whose strings carry their own escapes: it is read as
    // it is (`super::collection_text`), the other fields unescaped.
    let unescape: Vec<bool> = target
        .fields()
        .iter()
        .map(|f| {
            separator == Separator::Tab && !super::collection_text::is_collection(f.data_type())
        })
        .collect();
    while !rest.is_empty() {
        let (mut fields, next) = match separator {
            Separator::Tab | Separator::RawTab => tsv_line(rest),
            Separator::Comma => csv_line(rest).map_err(|e| format!("line {}: {e}", line_no + 1))?,
        };
        for (field, _) in fields.iter_mut().zip(&unescape).filter(|(_, u)| **u) {
            if let Some(text) = field {
                *text = unescape_tsv(text);
            }
        }
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
    Ok(string_batch(target, builders, rows)?.into_iter().collect())
}

/// The text columns of `rows` rows, named as `target`'s; `None` for no rows.
pub(super) fn string_batch(
    target: &SchemaRef,
    builders: Vec<StringBuilder>,
    rows: usize,
) -> Result<Option<RecordBatch>, String> {
    if rows == 0 {
        return Ok(None);
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
    RecordBatch::try_new(schema, columns)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// One TabSeparated line: its fields as they are, `\N` as NULL.
fn tsv_line(text: &str) -> (Vec<Option<String>>, &str) {
    let (line, rest) = match text.find('\n') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let line = line.strip_suffix('\r').unwrap_or(line);
    let fields = line
        .split('\t')
        .map(|f| (f != "\\N").then(|| f.to_string()))
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
        out.push(chars.next().map_or('\\', unescaped));
    }
    out
}

/// The character a backslash escape `\c` stands for in ClickHouse's text formats (`\t`, `\n`,
/// `\r`, `\0`, `\b`, `\f`; any other character stands for itself).
pub(super) fn unescaped(c: char) -> char {
    match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        '0' => '\0',
        'b' => '\u{8}',
        'f' => '\u{c}',
        other => other,
    }
}

/// The single-quoted string that opens `text` (at its quote): its contents, with ClickHouse's
/// backslash escapes and `''` as one quote, and the bytes it spans; `None` if it does not end.
pub(super) fn quoted_literal(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if text[i + 1..].starts_with('\'') => {
                out.push('\'');
                chars.next();
            }
            '\'' => return Some((out, i + 1)),
            '\\' => out.push(unescaped(chars.next()?.1)),
            c => out.push(c),
        }
    }
    None
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
