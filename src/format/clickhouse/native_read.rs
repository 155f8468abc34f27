//! `Native` blocks read back: what clickhouse-connect's `insert` sends (revision 0: no
//! BlockInfo, no `has_custom` byte). Each block names its columns and their ClickHouse types;
//! the values become Arrow arrays of the types [`ChType::arrow_type`] names, which the insert
//! then casts to the table's columns. Every length is checked against the bytes received
//! before anything is allocated for it.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, ListArray, MapArray, NullArray, RecordBatch,
    StringArray, StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array,
    UInt64Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};

use super::type_name::{ChType, unit_of};

/// Every block of `data`.
pub fn decode(data: &[u8]) -> Result<Vec<RecordBatch>, String> {
    let mut r = Reader::new(data);
    let mut batches = Vec::new();
    while r.at < data.len() {
        let columns = r.varuint()? as usize;
        let rows = r.varuint()? as usize;
        let mut fields = Vec::with_capacity(columns.min(4096));
        let mut arrays = Vec::with_capacity(columns.min(4096));
        for _ in 0..columns {
            let name = r.string()?;
            let type_text = r.string()?;
            let ty = ChType::parse(&type_text).ok_or_else(|| {
                format!("column '{name}' has type {type_text}, which Strata does not read")
            })?;
            let array = r
                .column(&ty, rows)
                .map_err(|e| format!("column '{name}': {e}"))?;
            fields.push(Field::new(
                name,
                array.data_type().clone(),
                ty.is_nullable(),
            ));
            arrays.push(array);
        }
        if rows > 0 {
            let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
                .map_err(|e| e.to_string())?;
            batches.push(batch);
        }
    }
    Ok(batches)
}

/// The `rows` values of one column of type `ty` in Native's layout, exactly filling `bytes`.
pub(super) fn column(bytes: &[u8], ty: &ChType, rows: usize) -> Result<ArrayRef, String> {
    let mut r = Reader::new(bytes);
    let array = r.column(ty, rows)?;
    if !r.at_end() {
        return Err("the column holds more bytes than its values".into());
    }
    Ok(array)
}

/// A cursor over received bytes; every read is checked against what is left.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, at: 0 }
    }

    pub(super) fn at_end(&self) -> bool {
        self.at >= self.data.len()
    }

    pub(super) fn position(&self) -> usize {
        self.at
    }

    pub(super) fn remaining(&self) -> usize {
        self.data.len() - self.at
    }

    /// A varuint length, no more than the bytes left could hold.
    pub(super) fn length(&mut self) -> Result<usize, String> {
        let n = self.varuint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.remaining())
            .ok_or_else(|| format!("a length of {n} where {} bytes are left", self.remaining()))
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| format!("the block ends early (byte {})", self.at))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn varuint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err("a length does not end".into())
    }

    pub(super) fn string(&mut self) -> Result<String, String> {
        let n = self.varuint()? as usize;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    /// `rows` fixed-width values of `width` bytes each.
    fn fixed(&mut self, rows: usize, width: usize) -> Result<&'a [u8], String> {
        let n = rows
            .checked_mul(width)
            .ok_or_else(|| "the block is too large".to_string())?;
        self.take(n)
    }

    /// An array's or map's `rows` cumulative UInt64 end offsets, as Arrow's offsets from 0.
    fn offsets(&mut self, rows: usize) -> Result<Vec<i32>, String> {
        let ends = self.fixed(rows, 8)?;
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0i32);
        for c in ends.chunks_exact(8) {
            let end = u64::from_le_bytes(c.try_into().unwrap_or_default());
            let end = i32::try_from(end).map_err(|_| "an array or map is too long".to_string())?;
            if end < *offsets.last().unwrap_or(&0) {
                return Err("array or map offsets go backwards".into());
            }
            offsets.push(end);
        }
        Ok(offsets)
    }

    fn column(&mut self, ty: &ChType, rows: usize) -> Result<ArrayRef, String> {
        macro_rules! prim {
            ($array:ty, $t:ty) => {{
                let bytes = self.fixed(rows, std::mem::size_of::<$t>())?;
                let values = bytes
                    .chunks_exact(std::mem::size_of::<$t>())
                    .map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or_default()));
                Arc::new(<$array>::from_iter_values(values)) as ArrayRef
            }};
        }
        Ok(match ty {
            ChType::Nullable(inner) => {
                let map = self.fixed(rows, 1)?;
                let valid = NullBuffer::from(map.iter().map(|&b| b == 0).collect::<Vec<_>>());
                let values = self.column(inner, rows)?;
                let data = values
                    .to_data()
                    .into_builder()
                    .nulls(Some(valid))
                    .build()
                    .map_err(|e| e.to_string())?;
                arrow::array::make_array(data)
            }
            ChType::LowCardinality(_) => {
                return Err(
                    "LowCardinality columns cannot be inserted; send the plain type".into(),
                );
            }
            ChType::Nothing => {
                self.fixed(rows, 1)?;
                Arc::new(NullArray::new(rows))
            }
            ChType::Bool => {
                let bytes = self.fixed(rows, 1)?;
                Arc::new(BooleanArray::from(
                    bytes.iter().map(|&b| b != 0).collect::<Vec<_>>(),
                ))
            }
            ChType::Int { bits, signed } => match (bits, signed) {
                (8, true) => prim!(Int8Array, i8),
                (16, true) => prim!(Int16Array, i16),
                (32, true) => prim!(Int32Array, i32),
                (8, false) => prim!(UInt8Array, u8),
                (16, false) => prim!(UInt16Array, u16),
                (32, false) => prim!(UInt32Array, u32),
                (_, true) => prim!(Int64Array, i64),
                (_, false) => prim!(UInt64Array, u64),
            },
            ChType::Float32 => prim!(Float32Array, f32),
            ChType::Float64 => prim!(Float64Array, f64),
            ChType::String => {
                let mut values = Vec::with_capacity(rows.min(1 << 20));
                for _ in 0..rows {
                    values.push(self.string()?);
                }
                Arc::new(StringArray::from(values))
            }
            ChType::FixedString(n) => {
                let bytes = self.fixed(rows, *n)?;
                let values = bytes.chunks_exact((*n).max(1)).map(|c| {
                    String::from_utf8_lossy(c)
                        .trim_end_matches('\0')
                        .to_string()
                });
                Arc::new(StringArray::from_iter_values(values))
            }
            ChType::Date => {
                let bytes = self.fixed(rows, 2)?;
                Arc::new(Date32Array::from_iter_values(
                    bytes
                        .chunks_exact(2)
                        .map(|c| i32::from(u16::from_le_bytes([c[0], c[1]]))),
                ))
            }
            ChType::Date32 => prim!(Date32Array, i32),
            ChType::DateTime(tz) => {
                let bytes = self.fixed(rows, 4)?;
                let array = TimestampSecondArray::from_iter_values(
                    bytes
                        .chunks_exact(4)
                        .map(|c| i64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
                );
                Arc::new(array.with_timezone_opt(tz.clone()))
            }
            ChType::DateTime64(p, tz) => {
                let bytes = self.fixed(rows, 8)?;
                // Ticks of 10^-p s, scaled to the Arrow unit at or above p.
                let unit = unit_of(*p);
                let digits = match unit {
                    TimeUnit::Second => 0,
                    TimeUnit::Millisecond => 3,
                    TimeUnit::Microsecond => 6,
                    TimeUnit::Nanosecond => 9,
                };
                let scale = 10i64.pow(u32::from(digits - (*p).min(digits)));
                let values = bytes
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()) * scale);
                let tz = tz.clone();
                match unit {
                    TimeUnit::Second => Arc::new(
                        TimestampSecondArray::from_iter_values(values).with_timezone_opt(tz),
                    ),
                    TimeUnit::Millisecond => Arc::new(
                        TimestampMillisecondArray::from_iter_values(values).with_timezone_opt(tz),
                    ),
                    TimeUnit::Microsecond => Arc::new(
                        TimestampMicrosecondArray::from_iter_values(values).with_timezone_opt(tz),
                    ),
                    TimeUnit::Nanosecond => Arc::new(
                        TimestampNanosecondArray::from_iter_values(values).with_timezone_opt(tz),
                    ),
                }
            }
            ChType::Decimal(p, s) => {
                let width = match p {
                    0..=9 => 4,
                    10..=18 => 8,
                    _ => 16,
                };
                let bytes = self.fixed(rows, width)?;
                let values = bytes.chunks_exact(width).map(|c| match width {
                    4 => i128::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                    8 => i128::from(i64::from_le_bytes(c.try_into().unwrap_or_default())),
                    _ => i128::from_le_bytes(c.try_into().unwrap_or_default()),
                });
                Arc::new(
                    Decimal128Array::from_iter_values(values)
                        .with_precision_and_scale(*p, *s)
                        .map_err(|e| e.to_string())?,
                )
            }
            ChType::Uuid => {
                let bytes = self.fixed(rows, 16)?;
                // Two little-endian halves, high half first.
                let values = bytes.chunks_exact(16).map(|c| {
                    let hi = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
                    let lo = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
                    strata_tiers::conform::canonical_uuid(&format!("{hi:016x}{lo:016x}"))
                        .unwrap_or_default()
                });
                Arc::new(StringArray::from_iter_values(values))
            }
            ChType::Array(item) => {
                let offsets = self.offsets(rows)?;
                let total = *offsets.last().unwrap_or(&0) as usize;
                let values = self.column(item, total)?;
                let field = Arc::new(Field::new(
                    "item",
                    values.data_type().clone(),
                    item.is_nullable(),
                ));
                Arc::new(
                    ListArray::try_new(field, OffsetBuffer::new(offsets.into()), values, None)
                        .map_err(|e| e.to_string())?,
                )
            }
            ChType::Map(key, value) => {
                let offsets = self.offsets(rows)?;
                let total = *offsets.last().unwrap_or(&0) as usize;
                let keys = self.column(key, total)?;
                if keys.null_count() > 0 {
                    return Err("a map's key is NULL".into());
                }
                let values = self.column(value, total)?;
                let fields = Fields::from(vec![
                    Field::new(strata_catalog::MAP_KEY, keys.data_type().clone(), false),
                    Field::new(
                        strata_catalog::MAP_VALUE,
                        values.data_type().clone(),
                        value.is_nullable(),
                    ),
                ]);
                let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)
                    .map_err(|e| e.to_string())?;
                let entries_field = Arc::new(Field::new(
                    strata_catalog::MAP_ENTRIES,
                    DataType::Struct(fields),
                    false,
                ));
                Arc::new(
                    MapArray::try_new(
                        entries_field,
                        OffsetBuffer::new(offsets.into()),
                        entries,
                        None,
                        false,
                    )
                    .map_err(|e| e.to_string())?,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType;

    use super::*;

    #[test]
    fn what_native_writes_reads_back() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::UInt32, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Second, None), false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(UInt32Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(TimestampSecondArray::from(vec![
                    1_704_067_200,
                    1_704_153_600,
                ])),
            ],
        )
        .unwrap();
        let bytes =
            super::super::native::encode_native(0, &schema, std::slice::from_ref(&batch)).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].column(0).as_ref(), batch.column(0).as_ref());
        assert_eq!(back[0].column(1).as_string::<i32>().value(0), "a");
        assert!(back[0].column(1).is_null(1));
        assert_eq!(back[0].column(2).as_ref(), batch.column(2).as_ref());
    }

    #[test]
    fn truncated_blocks_are_refused() {
        assert!(decode(b"\x01\x05\x01a\x06UInt64\x00").is_err());
        assert!(decode(b"\x01\xff\xff\xff\xff\x0f\x01a\x06String").is_err());
        assert!(decode(b"\x01\x01\x01a\x04Map1\x00").is_err());
    }
}
