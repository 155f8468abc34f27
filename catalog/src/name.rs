//! Identifier rules for table and column names.
//!
//! Table names become directory names under the data root, so they must never contain a path
//! separator, `..`, or anything a filesystem or object store treats specially. The rule is the
//! SQL identifier rule: a letter or `_`, then letters, digits or `_`, at most 128 bytes.

use crate::error::{Error, Result};

/// Longest accepted identifier, in bytes.
pub const MAX_IDENTIFIER_LEN: usize = 128;

/// Checks that `name` is a valid table name.
pub fn validate_table_name(name: &str) -> Result<()> {
    validate("table", name)
}

/// Checks that `name` is a valid column name.
pub fn validate_column_name(name: &str) -> Result<()> {
    validate("column", name)
}

fn validate(kind: &'static str, name: &str) -> Result<()> {
    let invalid = |reason| Error::InvalidName {
        kind,
        name: name.to_string(),
        reason,
    };
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(invalid("it is empty"));
    };
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(invalid("it is longer than 128 bytes"));
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(invalid("it must start with a letter or '_'"));
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid("only letters, digits and '_' are allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers() {
        for ok in ["trades", "_t", "Quotes_2024", "a1"] {
            validate_table_name(ok).unwrap();
        }
    }

    #[test]
    fn refuses_anything_that_could_escape_a_directory() {
        for bad in ["", "../etc", "a/b", "a.b", "1abc", "a b", "tab\0le", "ü"] {
            assert!(validate_table_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_table_name(&"a".repeat(129)).is_err());
    }
}
