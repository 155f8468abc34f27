//! `RowBinary` and `RowBinaryWithNamesAndTypes` (`clickhouse-http.md` §3.6): each row's values in
//! column order, little-endian, strings, arrays and maps length-prefixed by a LEB128 varuint
//! (a map's entries as key, value, key, value…), a `Nullable` value preceded by a flag byte
//! (1: NULL, nothing follows).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

pub(super) use super::types::is_nullable;
use super::{Header, Unprintable, binary_columns, type_names};

/// Appends `n` as ClickHouse's varuint (unsigned LEB128).
pub fn write_varuint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(super) fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    write_varuint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The whole body of `batches`, after the `header` lines (`RowBinaryWithNames`: a count and the
/// names; `…AndTypes`: then the types).
pub fn encode_row_binary(
    header: Header,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, Unprintable> {
    let mut out = Vec::new();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if header != Header::None {
        write_varuint(&mut out, schema.fields().len() as u64);
        for name in &names {
            write_string(&mut out, name.as_bytes());
        }
    }
    if header == Header::NamesAndTypes {
        for ty in type_names(schema)? {
            write_string(&mut out, ty.as_bytes());
        }
    }
    for batch in batches {
        let columns = binary_columns(schema, batch, &names)?;
        for row in 0..batch.num_rows() {
            for (i, column) in columns.iter().enumerate() {
                let nullable = is_nullable(&schema.fields()[i]);
                write_value(&mut out, column.as_ref(), row, nullable).map_err(|reason| {
                    Unprintable {
                        column: names[i].to_string(),
                        reason,
                    }
                })?;
            }
        }
    }
    Ok(out)
}

fn write_value(
    out: &mut Vec<u8>,
    array: &dyn Array,
    row: usize,
    nullable: bool,
) -> Result<(), String> {
    if nullable {
        if array.is_null(row) || array.data_type() == &DataType::Null {
            out.push(1);
            return Ok(());
        }
        out.push(0);
    } else if array.is_null(row) {
        return Err("a NULL in a column ClickHouse sees as not Nullable".into());
    }
    if let DataType::List(item) = array.data_type() {
        let values = array.as_list::<i32>().value(row);
        write_varuint(out, values.len() as u64);
        let nullable = item.is_nullable();
        for i in 0..values.len() {
            write_value(out, values.as_ref(), i, nullable)?;
        }
        return Ok(());
    }
    if let DataType::Map(entries, _) = array.data_type() {
        let nullable = match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => fields[1].is_nullable(),
            other => return Err(format!("a map whose entries are {other}")),
        };
        let pairs = array.as_map().value(row);
        write_varuint(out, pairs.len() as u64);
        for i in 0..pairs.len() {
            write_value(out, pairs.column(0).as_ref(), i, false)?;
            write_value(out, pairs.column(1).as_ref(), i, nullable)?;
        }
        return Ok(());
    }
    write_plain(out, array, row)
}

/// The bytes of a NULL slot's stand-in value (Native writes a value under every NULL).
pub(super) fn write_default(out: &mut Vec<u8>, data_type: &DataType) -> Result<(), String> {
    let width = match data_type {
        DataType::Int8 | DataType::UInt8 | DataType::Boolean | DataType::Null => 1,
        DataType::Int16 | DataType::UInt16 => 2,
        DataType::Int32 | DataType::UInt32 | DataType::Float32 | DataType::Date32 => 4,
        DataType::Timestamp(TimeUnit::Second, _) => 4,
        DataType::Int64 | DataType::UInt64 | DataType::Float64 | DataType::Timestamp(..) => 8,
        DataType::Decimal128(0..=9, _) => 4,
        DataType::Decimal128(10..=18, _) => 8,
        DataType::Decimal128(..) => 16,
        DataType::FixedSizeBinary(n) => usize::try_from(*n).unwrap_or(0),
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary => 1,
        other => return Err(format!("Arrow type {other}")),
    };
    out.extend(std::iter::repeat_n(0u8, width));
    Ok(())
}

/// A non-NULL scalar value, as RowBinary and Native's columns both store it.
pub(super) fn write_plain(out: &mut Vec<u8>, array: &dyn Array, row: usize) -> Result<(), String> {
    macro_rules! le {
        ($t:ty) => {
            out.extend_from_slice(&array.as_primitive::<$t>().value(row).to_le_bytes())
        };
    }
    match array.data_type() {
        DataType::Int8 => le!(Int8Type),
        DataType::Int16 => le!(Int16Type),
        DataType::Int32 => le!(Int32Type),
        DataType::Int64 => le!(Int64Type),
        DataType::UInt8 => le!(UInt8Type),
        DataType::UInt16 => le!(UInt16Type),
        DataType::UInt32 => le!(UInt32Type),
        DataType::UInt64 => le!(UInt64Type),
        DataType::Float32 => le!(Float32Type),
        DataType::Float64 => le!(Float64Type),
        DataType::Date32 => le!(Date32Type),
        DataType::Boolean => out.push(u8::from(array.as_boolean().value(row))),
        DataType::Utf8 => write_string(out, array.as_string::<i32>().value(row).as_bytes()),
        DataType::LargeUtf8 => write_string(out, array.as_string::<i64>().value(row).as_bytes()),
        DataType::Utf8View => write_string(out, array.as_string_view().value(row).as_bytes()),
        DataType::Binary => write_string(out, array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => write_string(out, array.as_binary::<i64>().value(row)),
        DataType::FixedSizeBinary(_) => {
            out.extend_from_slice(array.as_fixed_size_binary().value(row))
        }
        DataType::Timestamp(TimeUnit::Second, _) => {
            // DateTime is an unsigned 32-bit count of seconds.
            let secs = array.as_primitive::<TimestampSecondType>().value(row);
            let secs = u32::try_from(secs)
                .map_err(|_| format!("{secs} s is outside DateTime's range (1970 to 2106)"))?;
            out.extend_from_slice(&secs.to_le_bytes());
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => le!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => le!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => le!(TimestampNanosecondType),
        DataType::Decimal128(precision, _) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            // Decimal(P, S) is stored in the narrowest of Int32/64/128 that holds P digits.
            match precision {
                0..=9 => out.extend_from_slice(&(v as i32).to_le_bytes()),
                10..=18 => out.extend_from_slice(&(v as i64).to_le_bytes()),
                _ => out.extend_from_slice(&v.to_le_bytes()),
            }
        }
        other => return Err(format!("Arrow type {other}")),
    }
    Ok(())
}
