//! `RowBinary`, `RowBinaryWithNames` and `RowBinaryWithNamesAndTypes` rows read back. Rows
//! arrive value after value; each value is moved into its column's bytes in `Native`'s columnar
//! layout (a Nullable's flag byte to the null map and a zero value under a NULL, an array's
//! or map's length to cumulative offsets, a map's keys and values each to their own column), so
//! that [`super::native_read`] builds the Arrow arrays: one
//! decoder of ClickHouse's value encodings, two row layouts.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};

use super::Header;
use super::binary::write_varuint;
use super::native_read::{self, Reader};
use super::type_name::ChType;
use super::types::clickhouse_type;

/// Every row of `data`. Without names the rows hold `target`'s columns in order; names pick
/// columns of `table`, whose declared types apply unless the header gives its own.
pub fn decode(
    data: &[u8],
    header: Header,
    target: &SchemaRef,
    table: &SchemaRef,
) -> Result<Vec<RecordBatch>, String> {
    let mut r = Reader::new(data);
    let columns: Vec<(String, ChType)> = match header {
        Header::None => target
            .fields()
            .iter()
            .map(|f| Ok((f.name().clone(), declared(f)?)))
            .collect::<Result<_, String>>()?,
        Header::Names | Header::NamesAndTypes => {
            let n = r.length()?;
            let names = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
            let types: Vec<ChType> = if header == Header::NamesAndTypes {
                (0..n)
                    .map(|_| {
                        let text = r.string()?;
                        ChType::parse(&text)
                            .ok_or_else(|| format!("type {text} is not one Strata reads"))
                    })
                    .collect::<Result<_, _>>()?
            } else {
                names
                    .iter()
                    .map(|name| {
                        let field = table.field_with_name(name).map_err(|_| {
                            format!("the header names column '{name}', which the table lacks")
                        })?;
                        declared(field)
                    })
                    .collect::<Result<_, _>>()?
            };
            names.into_iter().zip(types).collect()
        }
    };
    if columns.is_empty() {
        return Err("the rows have no columns".into());
    }
    let mut accumulators: Vec<Column> = columns.iter().map(|(_, ty)| Column::new(ty)).collect();
    let mut rows = 0usize;
    while !r.at_end() {
        let before = r.position();
        for (column, (name, _)) in accumulators.iter_mut().zip(&columns) {
            column
                .read(&mut r)
                .map_err(|e| format!("row {}, column '{name}': {e}", rows + 1))?;
        }
        if r.position() == before {
            return Err("the rows take no bytes".into());
        }
        rows += 1;
    }
    if rows == 0 {
        return Ok(Vec::new());
    }
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (column, (name, ty)) in accumulators.into_iter().zip(&columns) {
        let mut bytes = Vec::new();
        column.into_native(&mut bytes);
        let array =
            native_read::column(&bytes, ty, rows).map_err(|e| format!("column '{name}': {e}"))?;
        fields.push(Field::new(
            name,
            array.data_type().clone(),
            ty.is_nullable(),
        ));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map(|b| vec![b])
        .map_err(|e| e.to_string())
}

/// The ClickHouse type a client encodes `field` in: the one `DESCRIBE` shows it.
fn declared(field: &Field) -> Result<ChType, String> {
    clickhouse_type(field)
        .and_then(|name| ChType::parse(&name))
        .ok_or_else(|| {
            format!(
                "column '{}' of type {} has no RowBinary encoding",
                field.name(),
                field.data_type()
            )
        })
}

/// One column's values so far, in `Native`'s layout.
enum Column {
    /// Fixed-width values, `width` bytes each.
    Fixed { width: usize, bytes: Vec<u8> },
    /// Length-prefixed strings (the same in both layouts).
    Strings { bytes: Vec<u8> },
    /// The null map, then the values (a zero one under each NULL).
    Nullable { map: Vec<u8>, inner: Box<Column> },
    /// Cumulative end offsets, then every element.
    Array { ends: Vec<u64>, inner: Box<Column> },
    /// Cumulative end offsets, then every key, then every value.
    Map {
        ends: Vec<u64>,
        keys: Box<Column>,
        values: Box<Column>,
    },
    /// A type RowBinary input does not carry.
    Unsupported(String),
}

impl Column {
    fn new(ty: &ChType) -> Column {
        let fixed = |width| Column::Fixed {
            width,
            bytes: Vec::new(),
        };
        match ty {
            ChType::Nothing | ChType::Bool => fixed(1),
            ChType::Int { bits, .. } => fixed(usize::from(*bits / 8)),
            ChType::Float32 | ChType::Date32 | ChType::DateTime(_) => fixed(4),
            ChType::Float64 | ChType::DateTime64(..) => fixed(8),
            ChType::Date => fixed(2),
            ChType::FixedString(n) => fixed(*n),
            ChType::Uuid => fixed(16),
            ChType::Decimal(p, _) => fixed(match p {
                0..=9 => 4,
                10..=18 => 8,
                _ => 16,
            }),
            ChType::String => Column::Strings { bytes: Vec::new() },
            ChType::Nullable(inner) => Column::Nullable {
                map: Vec::new(),
                inner: Box::new(Column::new(inner)),
            },
            ChType::Array(item) => Column::Array {
                ends: Vec::new(),
                inner: Box::new(Column::new(item)),
            },
            ChType::Map(key, value) => Column::Map {
                ends: Vec::new(),
                keys: Box::new(Column::new(key)),
                values: Box::new(Column::new(value)),
            },
            ChType::LowCardinality(_) => {
                Column::Unsupported("LowCardinality values; send the plain type".into())
            }
        }
    }

    /// Moves one value from `r`.
    fn read(&mut self, r: &mut Reader<'_>) -> Result<(), String> {
        match self {
            Column::Fixed { width, bytes } => bytes.extend_from_slice(r.take(*width)?),
            Column::Strings { bytes } => {
                let n = r.length()?;
                write_varuint(bytes, n as u64);
                bytes.extend_from_slice(r.take(n)?);
            }
            Column::Nullable { map, inner } => {
                let flag = r.take(1)?[0];
                map.push(u8::from(flag != 0));
                if flag != 0 {
                    inner.push_default();
                } else {
                    inner.read(r)?;
                }
            }
            Column::Array { ends, inner } => {
                // At most one value per byte left: a length cannot make the loop outrun the body.
                let n = r.length()? as u64;
                for _ in 0..n {
                    inner.read(r)?;
                }
                let end = ends.last().copied().unwrap_or(0) + n;
                ends.push(end);
            }
            Column::Map { ends, keys, values } => {
                let n = r.length()? as u64;
                for _ in 0..n {
                    keys.read(r)?;
                    values.read(r)?;
                }
                let end = ends.last().copied().unwrap_or(0) + n;
                ends.push(end);
            }
            Column::Unsupported(what) => {
                return Err(format!("RowBinary input cannot carry {what}"));
            }
        }
        Ok(())
    }

    /// The stand-in under a NULL.
    fn push_default(&mut self) {
        match self {
            Column::Fixed { width, bytes } => bytes.extend(std::iter::repeat_n(0, *width)),
            Column::Strings { bytes } => bytes.push(0),
            Column::Nullable { map, inner } => {
                map.push(1);
                inner.push_default();
            }
            Column::Array { ends, .. } | Column::Map { ends, .. } => {
                ends.push(ends.last().copied().unwrap_or(0))
            }
            Column::Unsupported(_) => {}
        }
    }

    fn into_native(self, out: &mut Vec<u8>) {
        match self {
            Column::Fixed { bytes, .. } | Column::Strings { bytes } => out.extend(bytes),
            Column::Nullable { map, inner } => {
                out.extend(map);
                inner.into_native(out);
            }
            Column::Array { ends, inner } => {
                for end in ends {
                    out.extend_from_slice(&end.to_le_bytes());
                }
                inner.into_native(out);
            }
            Column::Map { ends, keys, values } => {
                for end in ends {
                    out.extend_from_slice(&end.to_le_bytes());
                }
                keys.into_native(out);
                values.into_native(out);
            }
            Column::Unsupported(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, UInt8Array};
    use arrow::datatypes::DataType;

    use super::*;
    use crate::format::clickhouse::binary::encode_row_binary;

    fn table() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::UInt8, false),
            Field::new("b", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn what_row_binary_writes_reads_back() {
        let batch = RecordBatch::try_new(
            table(),
            vec![
                Arc::new(UInt8Array::from(vec![5, 6])),
                Arc::new(arrow::array::StringArray::from(vec![Some("z"), None])),
            ],
        )
        .unwrap();
        for header in [Header::None, Header::Names, Header::NamesAndTypes] {
            let bytes =
                encode_row_binary(header, &batch.schema(), std::slice::from_ref(&batch)).unwrap();
            let back = decode(&bytes, header, &table(), &table()).unwrap();
            assert_eq!(back[0].column(0).as_ref(), batch.column(0).as_ref());
            let b = back[0].column(1).as_string::<i32>();
            assert_eq!((b.value(0), b.is_null(1)), ("z", true));
        }
    }

    #[test]
    fn short_or_foreign_rows_are_refused() {
        assert!(decode(b"\x05\x00", Header::None, &table(), &table()).is_err());
        assert!(decode(b"\x05\x00\x05", Header::None, &table(), &table()).is_err());
        assert!(decode(b"\x01\x01c", Header::Names, &table(), &table()).is_err());
        assert!(
            decode(
                b"\x01\x01a\x04Map1",
                Header::NamesAndTypes,
                &table(),
                &table()
            )
            .is_err()
        );
        assert!(
            decode(
                b"\x01\x01a\x0dArray(UInt8)\xff\xff\xff\xff\x0f",
                Header::NamesAndTypes,
                &table(),
                &table()
            )
            .is_err()
        );
    }
}
