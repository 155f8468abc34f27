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
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::ipc::MetadataVersion;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{
    CompressionContext, DictionaryTracker, IpcDataGenerator, IpcWriteOptions, StreamWriter,
    write_message,
};

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

/// The end-of-stream marker of the IPC stream format: a continuation and a zero length.
const END_OF_STREAM: [u8; 8] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];

/// How records encode their rows. Buffers are aligned to 8 bytes, which every reader accepts:
/// the default 64 pads each buffer of a one-row batch (the common record) to 64 bytes.
fn ipc_options() -> WalResult<IpcWriteOptions> {
    Ok(IpcWriteOptions::try_new(8, false, MetadataVersion::V5)?)
}

/// The schema message an IPC stream of `schema` starts with, for reuse by every record of that
/// schema ([`encode_append`]); `None` for a schema with dictionaries, whose ids each stream
/// assigns as it goes.
pub(crate) fn schema_message(schema: &Schema) -> WalResult<Option<Vec<u8>>> {
    let dictionaries = schema
        .flattened_fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Dictionary(..)));
    if dictionaries {
        return Ok(None);
    }
    let mut out = Vec::new();
    StreamWriter::try_new_with_options(&mut out, schema, ipc_options()?)?;
    Ok(Some(out))
}

/// Encodes an append of `batches` (all of `schema`) as a record payload, after `reserve` zero
/// bytes (room for the segment's frame header, so framing needs no second copy).
/// `schema_message` is [`schema_message`] of `schema` when the caller keeps it: the stream is
/// the same, without encoding the schema again.
pub(crate) fn encode_append(
    reserve: usize,
    seq: u64,
    target: &str,
    tag: &str,
    schema: &SchemaRef,
    schema_message: Option<&[u8]>,
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
    let options = ipc_options()?;
    let Some(schema_message) = schema_message else {
        let mut writer = StreamWriter::try_new_with_options(&mut out, schema, options)?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
        return Ok(out);
    };
    out.extend_from_slice(schema_message);
    let encoder = IpcDataGenerator::default();
    let mut dictionaries = DictionaryTracker::new(false);
    let mut compression = CompressionContext::default();
    for batch in batches {
        let (_, message) = encoder.encode(batch, &mut dictionaries, &options, &mut compression)?;
        write_message(&mut out, message, &options)?;
    }
    out.extend_from_slice(&END_OF_STREAM);
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
            None,
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

    #[test]
    fn a_kept_schema_message_gives_the_same_stream() {
        let batch = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(Int64Array::from(vec![1])) as _),
            ("s", Arc::new(StringArray::from(vec![Some("x")])) as _),
        ])
        .unwrap();
        let schema = batch.schema();
        let kept = schema_message(&schema).unwrap().unwrap();
        let batches = [batch.clone(), batch];
        let fresh = encode_append(8, 3, "t", "id", &schema, None, &batches).unwrap();
        let reused = encode_append(8, 3, "t", "id", &schema, Some(&kept), &batches).unwrap();
        assert_eq!(fresh, reused);
        assert_eq!(decode(&reused[8..]).unwrap().batches, batches);
        // Smaller than the stream at the default 64-byte alignment.
        let mut aligned = Vec::new();
        let mut writer = StreamWriter::try_new(&mut aligned, &schema).unwrap();
        batches.iter().for_each(|b| writer.write(b).unwrap());
        writer.finish().unwrap();
        assert!(
            reused.len() < aligned.len(),
            "{} vs {}",
            reused.len(),
            aligned.len()
        );
    }

    #[test]
    fn schemas_with_dictionaries_are_encoded_whole_each_time() {
        use arrow::array::DictionaryArray;
        use arrow::datatypes::Int32Type;
        let dict: DictionaryArray<Int32Type> = vec!["a", "b", "a"].into_iter().collect();
        let batch = RecordBatch::try_from_iter(vec![("d", Arc::new(dict) as _)]).unwrap();
        assert!(schema_message(&batch.schema()).unwrap().is_none());
        let payload = encode_append(
            0,
            1,
            "t",
            "id",
            &batch.schema(),
            None,
            std::slice::from_ref(&batch),
        )
        .unwrap();
        assert_eq!(decode(&payload).unwrap().batches, [batch]);
    }
}
