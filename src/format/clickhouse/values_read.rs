//! `Values` rows read back: `(1, 'a', NULL), (2, 'b\'c', [1,2])`, what `INSERT … VALUES` looks
//! like when a client sends it as `INSERT INTO t FORMAT Values` with the tuples in the body.
//! Each tuple holds literals (numbers, quoted strings with ClickHouse's backslash escapes or
//! doubled quotes, `NULL`, `true`/`false`, arrays and maps written as text); the fields are
//! matched to the insert's columns by position and cast by the insert like every text format's.

use arrow::array::{RecordBatch, StringBuilder};
use arrow::datatypes::SchemaRef;

use super::text_read::string_batch;

/// Every tuple of `data`, for `target`'s columns.
pub fn decode(data: &[u8], target: &SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "the rows are not UTF-8 text".to_string())?;
    let width = target.fields().len();
    let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
    let mut p = Cursor {
        text,
        at: 0,
        row: 0,
    };
    loop {
        p.skip_space();
        if p.at == text.len() {
            break;
        }
        // Commas between tuples are optional, as in ClickHouse.
        if p.row > 0 {
            if p.peek() == Some(b',') {
                p.at += 1;
                p.skip_space();
            }
            if p.at == text.len() {
                break;
            }
        }
        p.row += 1;
        p.expect(b'(')?;
        let mut fields = Vec::with_capacity(width);
        loop {
            p.skip_space();
            fields.push(p.value()?);
            p.skip_space();
            match p.peek() {
                Some(b',') => p.at += 1,
                Some(b')') => {
                    p.at += 1;
                    break;
                }
                _ => return Err(p.error("expected ',' or ')' after a value")),
            }
        }
        if fields.len() != width {
            return Err(format!(
                "row {} has {} values, the insert has {width} columns",
                p.row,
                fields.len()
            ));
        }
        for (builder, field) in builders.iter_mut().zip(fields) {
            builder.append_option(field);
        }
    }
    Ok(string_batch(target, builders, p.row)?.into_iter().collect())
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
    row: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn error(&self, what: &str) -> String {
        format!("row {}, byte {}: {what}", self.row.max(1), self.at)
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", char::from(byte))))
        }
    }

    /// One literal: `None` for NULL, otherwise its text (a string's unescaped contents).
    fn value(&mut self) -> Result<Option<String>, String> {
        match self.peek() {
            Some(b'\'') => self.quoted().map(Some),
            Some(b'[' | b'{') => self.bracketed().map(Some),
            Some(_) => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-._".contains(&b))
                {
                    self.at += 1;
                }
                let word = &self.text[start..self.at];
                if word.is_empty() {
                    return Err(self.error("expected a literal (Values rows hold literals only)"));
                }
                Ok((!word.eq_ignore_ascii_case("null")).then(|| word.to_string()))
            }
            None => Err(self.error("the rows end inside a tuple")),
        }
    }

    /// A single-quoted string: backslash escapes as in ClickHouse, `''` as one quote.
    fn quoted(&mut self) -> Result<String, String> {
        let (text, len) = super::text_read::quoted_literal(&self.text[self.at..])
            .ok_or_else(|| self.error("a quoted string does not end"))?;
        self.at += len;
        Ok(text)
    }

    /// An array or map literal kept as its text, brackets and braces balanced outside quoted
    /// strings.
    fn bracketed(&mut self) -> Result<String, String> {
        let start = self.at;
        let mut depth = 0usize;
        let mut quoted = false;
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.at) {
            self.at += 1;
            match (quoted, b) {
                (true, b'\\') => self.at += 1,
                (_, b'\'') => quoted = !quoted,
                (false, b'[' | b'{') => depth += 1,
                (false, b']' | b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.text[start..self.at].to_string());
                    }
                }
                _ => {}
            }
        }
        Err(self.error("an array or map does not end"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn target() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn tuples_become_text_columns() {
        let b = decode(b"(1, 'x\\'y'), (-2.5,NULL)\n,(3,'it''s')", &target()).unwrap();
        let a = b[0].column(0).as_string::<i32>();
        let s = b[0].column(1).as_string::<i32>();
        assert_eq!((a.value(0), a.value(1), a.value(2)), ("1", "-2.5", "3"));
        assert_eq!(
            (s.value(0), s.is_null(1), s.value(2)),
            ("x'y", true, "it's")
        );
        assert!(decode(b"", &target()).unwrap().is_empty());
    }

    #[test]
    fn malformed_tuples_say_where() {
        for bad in [&b"(1)"[..], b"(1, 'x", b"(1, now())", b"1, 'x'"] {
            assert!(decode(bad, &target()).is_err(), "{bad:?}");
        }
    }
}
