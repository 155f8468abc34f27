//! Server-side query parameters: `{name:Type}` in the SQL, its value in the URL's
//! `param_name=`. Each becomes a typed literal (`arrow_cast('41', 'UInt32')`), built here from
//! the value as data, never spliced in as SQL; `{name:Identifier}` becomes a quoted identifier.

use super::lexer::{self, Kind};
use crate::format::clickhouse::type_name::ChType;
use crate::sql::error::{Error, Result};

/// `sql` with every `{name:Type}` replaced by its value from `params`.
pub(super) fn bind(sql: &str, params: &[(String, String)]) -> Result<String> {
    let pieces = lexer::pieces(sql.as_bytes()).map_err(super::unterminated)?;
    if !pieces.iter().any(|p| p.kind == Kind::Braces) {
        return Ok(sql.to_string());
    }
    let mut out = String::with_capacity(sql.len());
    for piece in pieces {
        let text = &sql[piece.start..piece.end];
        match placeholder(text) {
            Some((name, ty)) if piece.kind == Kind::Braces => {
                let value = params
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "Query parameter '{name}' is not set: send it as the URL parameter param_{name}"
                        ))
                    })?;
                out.push_str(&literal(name, ty, value)?);
            }
            _ => out.push_str(text),
        }
    }
    Ok(out)
}

/// `{name:Type}` → (`name`, `Type`).
fn placeholder(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let (name, ty) = inner.split_once(':')?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then_some((name, ty.trim()))
}

/// The SQL for `value` as a `ty`.
fn literal(name: &str, ty: &str, value: &str) -> Result<String> {
    if ty == "Identifier" {
        return Ok(format!("\"{}\"", value.replace('"', "\"\"")));
    }
    let parsed = ChType::parse(ty).ok_or_else(|| {
        Error::Invalid(format!(
            "Query parameter '{name}' has an unknown type: {ty}"
        ))
    })?;
    let arrow = parsed.arrow_type().to_string().replace('\'', "''");
    if value == "\\N" && parsed.is_nullable() {
        return Ok(format!("arrow_cast(NULL, '{arrow}')"));
    }
    if matches!(parsed.base(), ChType::Map(..)) {
        return Err(Error::Invalid(format!(
            "Query parameter '{name}' is a Map, which parameters cannot carry yet: write the \
             map in the statement, as map('key', value, …)"
        )));
    }
    if matches!(parsed.base(), ChType::Array(_)) {
        // An array value is ClickHouse literal syntax: only literals, commas and brackets.
        let pieces = lexer::pieces(value.as_bytes()).map_err(super::unterminated)?;
        let safe = pieces.iter().all(|p| match p.kind {
            Kind::Word => value[p.start..p.end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.'),
            Kind::String | Kind::Blank => true,
            Kind::Punct => matches!(&value[p.start..p.end], "[" | "]" | "," | "-"),
            _ => false,
        });
        if !safe || !value.trim_start().starts_with('[') {
            return Err(Error::Invalid(format!(
                "Query parameter '{name}' is not an array literal of type {ty}"
            )));
        }
        let array: String = pieces
            .iter()
            .map(|p| {
                let text = &value[p.start..p.end];
                if p.kind == Kind::String {
                    quote(&lexer::unquote(text.as_bytes()))
                } else {
                    text.to_string()
                }
            })
            .collect();
        return Ok(format!(
            "arrow_cast(make_array({}), '{arrow}')",
            array.trim().trim_start_matches('[').trim_end_matches(']')
        ));
    }
    Ok(format!(
        "arrow_cast({}, '{arrow}')",
        quote(&unescape(value))
    ))
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A parameter value is in ClickHouse's escaped text form (`\t`, `\n`, `\\`).
fn unescape(value: &str) -> String {
    if !value.contains('\\') {
        return value.to_string();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    quoted.push_str(&value.replace('\'', "\\'"));
    quoted.push('\'');
    lexer::unquote(quoted.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_become_typed_literals() {
        let p = params(&[("x", "41"), ("s", "it's"), ("t", "my\"table"), ("n", "\\N")]);
        assert_eq!(
            bind("SELECT {x:UInt32} + 1", &p).unwrap(),
            "SELECT arrow_cast('41', 'UInt32') + 1"
        );
        assert_eq!(
            bind("SELECT {s: String}, '{x:UInt8}'", &p).unwrap(),
            "SELECT arrow_cast('it''s', 'Utf8'), '{x:UInt8}'"
        );
        assert_eq!(
            bind("SELECT * FROM {t:Identifier}", &p).unwrap(),
            "SELECT * FROM \"my\"\"table\""
        );
        assert_eq!(
            bind("SELECT {n:Nullable(Int64)}", &p).unwrap(),
            "SELECT arrow_cast(NULL, 'Int64')"
        );
        let a = params(&[("a", "[1, 2]")]);
        assert_eq!(
            bind("SELECT {a:Array(UInt8)}", &a).unwrap(),
            "SELECT arrow_cast(make_array(1, 2), 'List(non-null UInt8)')"
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        let p = params(&[("a", "[1]); DROP TABLE t; --")]);
        assert!(bind("SELECT {a:Array(UInt8)}", &p).is_err());
        assert!(bind("SELECT {missing:UInt8}", &p).is_err());
        assert!(bind("SELECT {a:NoSuchType}", &p).is_err());
    }
}
