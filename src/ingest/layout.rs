//! The column types an Arrow IPC ingest accepts, read from the stream's schema message, and the
//! buffers each column occupies in a record batch.
//!
//! arrow-ipc 58 panics on schema messages it cannot convert (an integer 7 bits wide, a list
//! without a child, an unknown unit), so the schema is read here first. Only the types a Strata
//! column can be cast from are accepted: nested, union, decimal, interval and view types are
//! refused with a message saying what to send instead.

use std::collections::HashMap;

use arrow::error::ArrowError;
use arrow::ipc::{DateUnit, Endianness, Field, Precision, Schema, TimeUnit, Type};

/// How a column's values are laid out, which decides its buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// All nulls: no buffers at all.
    Null,
    /// Booleans: validity and a bitmap of values.
    Bits,
    /// Fixed-width values: validity and values.
    Fixed,
    /// Strings or binary: validity, offsets and data.
    Variable,
    /// Dictionary indices over string values: validity and indices.
    Dictionary,
}

impl Kind {
    /// How many buffers the column has in a record batch.
    pub(super) fn buffers(self) -> usize {
        match self {
            Kind::Null => 0,
            Kind::Bits | Kind::Fixed | Kind::Dictionary => 2,
            Kind::Variable => 3,
        }
    }
}

/// The accepted columns of a stream, in order, and the dictionaries they use.
#[derive(Debug, Clone, Default)]
pub(super) struct Layout {
    /// One per column of each record batch.
    pub(super) columns: Vec<Kind>,
    /// The value layout of each dictionary id the schema declares.
    pub(super) dictionaries: HashMap<i64, Kind>,
}

impl Layout {
    /// Reads a stream's schema (from a verified flatbuffer).
    pub(super) fn from_schema(schema: Schema<'_>) -> Result<Self, ArrowError> {
        if schema.endianness() == Endianness::Big {
            return Err(invalid("big-endian Arrow streams are not accepted".into()));
        }
        let fields = schema
            .fields()
            .ok_or_else(|| invalid("the schema message has no fields".into()))?;
        let mut layout = Layout::default();
        for field in fields {
            let name = field.name().unwrap_or_default();
            if field.children().is_some_and(|c| !c.is_empty()) {
                return Err(unsupported(name, "a nested type"));
            }
            let kind = match field.dictionary() {
                Some(dictionary) => {
                    let index = dictionary.indexType().ok_or_else(|| {
                        invalid(format!("column '{name}' has no dictionary index type"))
                    })?;
                    if !matches!(index.bitWidth(), 8 | 16 | 32 | 64) {
                        return Err(unsupported(name, "a dictionary index of odd width"));
                    }
                    if value_kind(&field, name)? != Kind::Variable {
                        return Err(unsupported(name, "a dictionary of non-string values"));
                    }
                    layout.dictionaries.insert(dictionary.id(), Kind::Variable);
                    Kind::Dictionary
                }
                None => value_kind(&field, name)?,
            };
            layout.columns.push(kind);
        }
        Ok(layout)
    }

    /// The layout of an encoded schema message.
    #[cfg(test)]
    pub(super) fn from_message(meta: &[u8]) -> Result<Self, ArrowError> {
        let message = arrow::ipc::root_as_message(meta).map_err(|e| invalid(e.to_string()))?;
        let schema = message
            .header_as_schema()
            .ok_or_else(|| invalid("not a schema message".into()))?;
        Self::from_schema(schema)
    }
}

/// The layout of a field's own values (its dictionary's values for a dictionary field).
fn value_kind(field: &Field<'_>, name: &str) -> Result<Kind, ArrowError> {
    let malformed = || invalid(format!("column '{name}' has a malformed type"));
    Ok(match field.type_type() {
        Type::Null => Kind::Null,
        Type::Bool => Kind::Bits,
        Type::Int => {
            let int = field.type_as_int().ok_or_else(malformed)?;
            if !matches!(int.bitWidth(), 8 | 16 | 32 | 64) {
                return Err(unsupported(name, "an integer of odd width"));
            }
            Kind::Fixed
        }
        Type::FloatingPoint => {
            let float = field.type_as_floating_point().ok_or_else(malformed)?;
            if !matches!(
                float.precision(),
                Precision::HALF | Precision::SINGLE | Precision::DOUBLE
            ) {
                return Err(unsupported(name, "a float of unknown precision"));
            }
            Kind::Fixed
        }
        Type::Timestamp => {
            let timestamp = field.type_as_timestamp().ok_or_else(malformed)?;
            if !matches!(
                timestamp.unit(),
                TimeUnit::SECOND
                    | TimeUnit::MILLISECOND
                    | TimeUnit::MICROSECOND
                    | TimeUnit::NANOSECOND
            ) {
                return Err(unsupported(name, "a timestamp of unknown unit"));
            }
            Kind::Fixed
        }
        Type::Date => {
            let date = field.type_as_date().ok_or_else(malformed)?;
            if !matches!(date.unit(), DateUnit::DAY | DateUnit::MILLISECOND) {
                return Err(unsupported(name, "a date of unknown unit"));
            }
            Kind::Fixed
        }
        Type::Utf8 | Type::LargeUtf8 | Type::Binary | Type::LargeBinary => Kind::Variable,
        other => {
            let what = other.variant_name().unwrap_or("an unknown type");
            return Err(unsupported(name, what));
        }
    })
}

fn unsupported(column: &str, what: &str) -> ArrowError {
    invalid(format!(
        "column '{column}' is {what}, which no Strata column is cast from; send integers, \
         floats, booleans, strings (plain or dictionary-encoded), dates or timestamps"
    ))
}

pub(super) fn invalid(message: String) -> ArrowError {
    ArrowError::IpcError(message)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field as ArrowField, Schema as ArrowSchema};
    use arrow::ipc::writer::{DictionaryTracker, IpcDataGenerator, IpcWriteOptions};

    use super::*;

    fn schema_message(fields: Vec<ArrowField>) -> Vec<u8> {
        let schema = ArrowSchema::new(fields);
        let encoded = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
            &schema,
            &mut DictionaryTracker::new(false),
            &IpcWriteOptions::default(),
        );
        encoded.ipc_message
    }

    #[test]
    fn the_columns_strata_casts_from_are_laid_out() {
        let meta = schema_message(vec![
            ArrowField::new("n", DataType::Int32, true),
            ArrowField::new("b", DataType::Boolean, true),
            ArrowField::new("s", DataType::LargeUtf8, true),
            ArrowField::new(
                "d",
                DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8)),
                true,
            ),
            ArrowField::new("z", DataType::Null, true),
        ]);
        let layout = Layout::from_message(&meta).unwrap();
        assert_eq!(
            layout.columns,
            [
                Kind::Fixed,
                Kind::Bits,
                Kind::Variable,
                Kind::Dictionary,
                Kind::Null
            ]
        );
        assert_eq!(layout.dictionaries.len(), 1);
    }

    #[test]
    fn nested_and_view_types_are_refused_by_name() {
        for (field, what) in [
            (
                ArrowField::new(
                    "l",
                    DataType::List(Arc::new(ArrowField::new("item", DataType::Int64, true))),
                    true,
                ),
                "nested",
            ),
            (ArrowField::new("v", DataType::Utf8View, true), "Utf8View"),
            (
                ArrowField::new("m", DataType::Decimal128(10, 2), true),
                "Decimal",
            ),
        ] {
            let err = Layout::from_message(&schema_message(vec![field])).unwrap_err();
            assert!(err.to_string().contains(what), "{err}");
        }
    }
}
