//! A byte-level scanner for the parts of a ClickHouse request that come before SQL parsing:
//! where an `INSERT … FORMAT X` statement ends and its rows begin (the rows may be binary, so
//! they are never tokenized), `{name:Type}` parameters, and the trailing `SETTINGS` and `FORMAT`
//! clauses. It knows only what separates SQL pieces (quotes, comments, brackets, words); the
//! statement itself is still parsed by sqlparser.

/// One piece of the text, by byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    /// What it is.
    pub(super) kind: Kind,
    /// First byte.
    pub(super) start: usize,
    /// One past the last byte.
    pub(super) end: usize,
}

/// The kinds of piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A bare word: a keyword, name or number (`[A-Za-z0-9_.]`).
    Word,
    /// A `'…'` string literal.
    String,
    /// A `"…"` or `` `…` `` identifier.
    Quoted,
    /// `{…}` up to the matching `}` (a parameter, or a map literal in a setting).
    Braces,
    /// Spaces, tabs, newlines, comments.
    Blank,
    /// Any other single character.
    Punct,
}

/// A quoted piece that does not end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unterminated {
    /// Where it starts.
    pub(super) at: usize,
}

/// Scans pieces from `text[from..]` one at a time.
pub(super) struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        Self { text, at: 0 }
    }

    /// The next piece, `None` at the end.
    pub(super) fn next_piece(&mut self) -> Result<Option<Piece>, Unterminated> {
        let text = self.text;
        let start = self.at;
        let Some(&c) = text.get(start) else {
            return Ok(None);
        };
        let end = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                let mut i = start;
                while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                    i += 1;
                }
                return Ok(Some(self.take(Kind::Blank, i)));
            }
            b'-' if text.get(start + 1) == Some(&b'-') => line_end(text, start),
            b'#' if text.get(start + 1) == Some(&b'!') || text.get(start + 1) == Some(&b' ') => {
                line_end(text, start)
            }
            b'/' if text.get(start + 1) == Some(&b'*') => {
                let close = find(text, start + 2, b"*/").ok_or(Unterminated { at: start })?;
                close + 2
            }
            _ => 0,
        };
        if end > 0 {
            return Ok(Some(self.take(Kind::Blank, end)));
        }
        let (kind, end) = match c {
            b'\'' => (Kind::String, quoted_end(text, start, b'\'')?),
            b'"' | b'`' => (Kind::Quoted, quoted_end(text, start, c)?),
            b'{' => {
                let close = text[start..]
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or(Unterminated { at: start })?;
                (Kind::Braces, start + close + 1)
            }
            c if is_word_byte(c) => {
                let mut i = start;
                while i < text.len() && is_word_byte(text[i]) {
                    i += 1;
                }
                (Kind::Word, i)
            }
            // One character, UTF-8 sequences kept whole.
            _ => {
                let mut i = start + 1;
                while i < text.len() && (text[i] & 0xC0) == 0x80 {
                    i += 1;
                }
                (Kind::Punct, i)
            }
        };
        Ok(Some(self.take(kind, end)))
    }

    fn take(&mut self, kind: Kind, end: usize) -> Piece {
        let piece = Piece {
            kind,
            start: self.at,
            end,
        };
        self.at = end;
        piece
    }
}

/// Every piece of `text`.
pub(super) fn pieces(text: &[u8]) -> Result<Vec<Piece>, Unterminated> {
    let mut scanner = Scanner::new(text);
    let mut out = Vec::new();
    while let Some(piece) = scanner.next_piece()? {
        out.push(piece);
    }
    Ok(out)
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c >= 0x80
}

fn line_end(text: &[u8], from: usize) -> usize {
    text[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| from + i + 1)
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    text.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i)
}

/// The end of a quoted piece opened at `start`: a backslash escapes the next byte and a
/// doubled quote is one quote, as ClickHouse reads them.
fn quoted_end(text: &[u8], start: usize, quote: u8) -> Result<usize, Unterminated> {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            c if c == quote => {
                if text.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Ok(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    Err(Unterminated { at: start })
}

/// The value of a `'…'` literal as ClickHouse reads it: backslash escapes (`\n`, `\t`, `\\`,
/// `\'`, `\0`, `\xHH`, …) and doubled quotes.
pub(super) fn unquote(literal: &[u8]) -> String {
    let inner = &literal[1..literal.len().saturating_sub(1).max(1)];
    let quote = literal[0];
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c == b'\\' && i + 1 < inner.len() {
            let e = inner[i + 1];
            i += 2;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'a' => out.push(7),
                b'v' => out.push(11),
                b'e' => out.push(27),
                b'x' if i + 1 < inner.len() => {
                    match std::str::from_utf8(&inner[i..i + 2])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'x'),
                    }
                }
                other => out.push(other),
            }
        } else if c == quote && inner.get(i + 1) == Some(&quote) {
            out.push(quote);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        pieces(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|p| (p.kind, &text[p.start..p.end]))
            .collect()
    }

    #[test]
    fn pieces_keep_quotes_comments_and_braces_whole() {
        assert_eq!(
            kinds("SELECT 'a''b\\'c' /* x */ `t`.\"c\" {x:UInt8}-- e\n;"),
            vec![
                (Kind::Word, "SELECT"),
                (Kind::Blank, " "),
                (Kind::String, "'a''b\\'c'"),
                (Kind::Blank, " "),
                (Kind::Blank, "/* x */"),
                (Kind::Blank, " "),
                (Kind::Quoted, "`t`"),
                (Kind::Word, "."),
                (Kind::Quoted, "\"c\""),
                (Kind::Blank, " "),
                (Kind::Braces, "{x:UInt8}"),
                (Kind::Blank, "-- e\n"),
                (Kind::Punct, ";"),
            ]
        );
        assert!(pieces(b"SELECT 'open").is_err());
        assert!(pieces(b"SELECT /* open").is_err());
    }

    #[test]
    fn literals_unescape_as_clickhouse_reads_them() {
        assert_eq!(unquote(b"'a''b'"), "a'b");
        assert_eq!(unquote(b"'q\\\"t\\\\b\\tx'"), "q\"t\\b\tx");
        assert_eq!(unquote(b"'\\x41\\n'"), "A\n");
    }
}
