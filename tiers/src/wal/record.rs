//! One WAL record: what a write changed, encoded so replay can apply it again.
//!
//! Payload layout (little-endian):
//!
//! ```text
//! u64 seq | u8 kind | u16 len, target | u16 len, tag | Arrow IPC stream (the rows)
//! ```
//!
//! The log serves two subsystems, so the two strings are named for no one of them: the tiers
//! write a table's name as the target and its identity (the Delta table's metadata id) as the
//! tag, which keeps records of a dropped table from being replayed into a new table that took
//! its name; Agent Memory writes a dataset as the target and the kind of change as the tag.

use std::io::Cursor;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use super::error::{WalError, WalResult};

/// Rows appended to a table.
const KIND_APPEND: u8 = 1;

/// A decoded record.
#[derive(Debug, Clone)]
pub struct WalRecord {
    /// Position in the log; every record has a larger one than all before it.
    pub seq: u64,
    /// What the rows belong to: a table's name at the time of the write, or a dataset.
    pub target: String,
    /// What the writer says of the target: a table's identity, or the kind of change.
    pub tag: String,
    /// The rows, in the table's schema at the time of the write.
    pub batches: Vec<RecordBatch>,
}

/// Encodes an append of `batches` (all of `schema`) as a record payload, after `reserve` zero
/// bytes (room for the segment's frame header, so framing needs no second copy).
pub(crate) fn encode_append(
    reserve: usize,
    seq: u64,
    target: &str,
    tag: &str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> WalResult<Vec<u8>> {
    let rows: usize = batches
        .iter()
        .map(crate::hot::footprint::retained_bytes)
        .sum();
    let mut out = Vec::with_capacity(reserve + 64 + rows);
    out.resize(reserve, 0);
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(KIND_APPEND);
    put_str(&mut out, target)?;
    put_str(&mut out, tag)?;
    let mut writer = StreamWriter::try_new(&mut out, schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    Ok(out)
}

/// Decodes a payload written by [`encode_append`].
pub(crate) fn decode(payload: &[u8]) -> WalResult<WalRecord> {
    let mut cursor = payload;
    let seq = u64::from_le_bytes(take::<8>(&mut cursor)?);
    let [kind] = take::<1>(&mut cursor)?;
    if kind != KIND_APPEND {
        return Err(WalError::Format(format!("unknown record kind {kind}")));
    }
    let target = take_str(&mut cursor)?;
    let tag = take_str(&mut cursor)?;
    let reader = StreamReader::try_new(Cursor::new(cursor), None)?;
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok(WalRecord {
        seq,
        target,
        tag,
        batches,
    })
}

fn put_str(out: &mut Vec<u8>, s: &str) -> WalResult<()> {
    let len = u16::try_from(s.len())
        .map_err(|_| WalError::Format(format!("name too long for the WAL: {s}")))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn take<const N: usize>(cursor: &mut &[u8]) -> WalResult<[u8; N]> {
    let (head, rest) = cursor
        .split_first_chunk::<N>()
        .ok_or_else(|| WalError::Format("record ends early".into()))?;
    *cursor = rest;
    Ok(*head)
}

fn take_str(cursor: &mut &[u8]) -> WalResult<String> {
    let len = u16::from_le_bytes(take::<2>(cursor)?) as usize;
    if cursor.len() < len {
        return Err(WalError::Format("record ends early".into()));
    }
    let (s, rest) = cursor.split_at(len);
    *cursor = rest;
    String::from_utf8(s.to_vec()).map_err(|_| WalError::Format("name is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn append_round_trips() {
        let batch = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(Int64Array::from(vec![1, 2])) as _),
            ("s", Arc::new(StringArray::from(vec![Some("x"), None])) as _),
        ])
        .unwrap();
        let payload = encode_append(
            0,
            7,
            "t",
            "id-1",
            &batch.schema(),
            std::slice::from_ref(&batch),
        )
        .unwrap();
        let record = decode(&payload).unwrap();
        assert_eq!(record.seq, 7);
        assert_eq!(record.target, "t");
        assert_eq!(record.tag, "id-1");
        assert_eq!(record.batches, [batch]);
        assert!(decode(&payload[..payload.len() / 2]).is_err());
    }
}
