//! Checks the framing of an Arrow IPC stream before arrow-ipc decodes it.
//!
//! arrow-ipc 58 trusts the lengths a stream declares: a message that claims a larger body than
//! was sent, a buffer that points past its body, or a compressed buffer that claims to expand to
//! 50 GB makes it allocate that much (and abort the process) or panic. Every length here is
//! checked against the bytes actually received, so a corrupted or hostile body is refused with an
//! error instead, and the caller learns how much memory decoding will take before it starts.
//! The columns' types are read first ([`super::layout`]), so that each batch's buffers can be
//! checked against what its columns need.

use arrow::error::ArrowError;
use arrow::ipc::{MessageHeader, RecordBatch as BatchHeader, root_as_message};

use super::layout::{Kind, Layout, invalid};

/// The marker that precedes each message's length in the current stream format.
const CONTINUATION: [u8; 4] = [0xff; 4];

/// A compressed buffer whose first eight bytes say this stores its values uncompressed.
const NOT_COMPRESSED: i64 = -1;

/// What a stream that passed the checks will cost to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    /// Bytes of Arrow data once decoded: bodies, with compressed buffers at their declared
    /// uncompressed size.
    pub decoded_bytes: u64,
}

/// Walks every message of `stream` and checks its lengths against the bytes received and its
/// columns against the types ingest accepts; refuses a stream that would decode to more than
/// `max_decoded_bytes`, or declares more values (rows times columns) than that, since a column
/// without buffers (all nulls) still costs memory once cast to the table.
pub(super) fn check(stream: &[u8], max_decoded_bytes: u64) -> Result<Shape, ArrowError> {
    let mut rest = stream;
    let mut layout: Option<Layout> = None;
    let mut decoded_bytes = 0u64;
    let mut values = 0u64;
    while let Some((meta, after)) = next_metadata(rest)? {
        let message = root_as_message(meta)
            .map_err(|e| invalid(format!("a message header is not a valid flatbuffer: {e}")))?;
        let body_len = usize::try_from(message.bodyLength())
            .ok()
            .filter(|len| *len <= after.len())
            .ok_or_else(|| {
                invalid(format!(
                    "a message declares a body of {} bytes but only {} follow",
                    message.bodyLength(),
                    after.len()
                ))
            })?;
        let (body, next) = after.split_at(body_len);
        let batch = match message.header_type() {
            MessageHeader::Schema => {
                let schema = message
                    .header_as_schema()
                    .ok_or_else(|| invalid("a schema message has no schema".into()))?;
                if layout.is_none() {
                    layout = Some(Layout::from_schema(schema)?);
                }
                None
            }
            MessageHeader::RecordBatch => {
                let columns = &layout.as_ref().ok_or_else(no_schema)?.columns;
                let batch = message
                    .header_as_record_batch()
                    .ok_or_else(|| invalid("a record batch message has no batch".into()))?;
                Some((batch, columns.clone()))
            }
            MessageHeader::DictionaryBatch => {
                let dictionaries = &layout.as_ref().ok_or_else(no_schema)?.dictionaries;
                let dictionary = message
                    .header_as_dictionary_batch()
                    .ok_or_else(|| invalid("a dictionary message has no dictionary".into()))?;
                let kind = dictionaries.get(&dictionary.id()).ok_or_else(|| {
                    invalid(format!(
                        "dictionary {} is not declared by the schema",
                        dictionary.id()
                    ))
                })?;
                let batch = dictionary
                    .data()
                    .ok_or_else(|| invalid("a dictionary message has no values".into()))?;
                Some((batch, vec![*kind]))
            }
            other => {
                return Err(invalid(format!(
                    "a {} message has no place in a stream",
                    other.variant_name().unwrap_or("unknown")
                )));
            }
        };
        match batch {
            Some((batch, columns)) => {
                decoded_bytes = decoded_bytes.saturating_add(check_batch(&batch, &columns, body)?);
                let rows = u64::try_from(batch.length())
                    .map_err(|_| invalid(format!("a batch declares {} rows", batch.length())))?;
                values = values.saturating_add(rows.saturating_mul(columns.len().max(1) as u64));
            }
            None => decoded_bytes = decoded_bytes.saturating_add(body_len as u64),
        }
        if decoded_bytes > max_decoded_bytes || values > max_decoded_bytes {
            return Err(invalid(format!(
                "the stream decodes to more than {max_decoded_bytes} bytes of Arrow data; \
                 send it in smaller requests"
            )));
        }
        rest = next;
    }
    if layout.is_none() {
        return Err(invalid(
            "the body holds no schema message; a stream starts with one".into(),
        ));
    }
    Ok(Shape { decoded_bytes })
}

fn no_schema() -> ArrowError {
    invalid("a batch comes before the stream's schema".into())
}

/// A message's metadata and the bytes after it.
type Split<'a> = (&'a [u8], &'a [u8]);

/// The next message's metadata and the bytes after it, or `None` at the end of the stream
/// (no bytes left, or the zero-length end marker).
fn next_metadata(rest: &[u8]) -> Result<Option<Split<'_>>, ArrowError> {
    let rest = rest.strip_prefix(&CONTINUATION).unwrap_or(rest);
    if rest.is_empty() {
        return Ok(None);
    }
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| invalid("the stream ends inside a message length".into()))?;
    let len = u32::from_le_bytes(*len) as usize;
    if len == 0 {
        return Ok(None);
    }
    if len > rest.len() {
        return Err(invalid(format!(
            "a message header declares {len} bytes but only {} follow",
            rest.len()
        )));
    }
    Ok(Some(rest.split_at(len)))
}

/// Checks a batch against the columns it must hold: one node per column, the buffers each
/// column's layout needs, each inside the body, and validity bitmaps and boolean values long
/// enough for the rows they declare. Returns the bytes the batch decodes to.
fn check_batch(batch: &BatchHeader<'_>, columns: &[Kind], body: &[u8]) -> Result<u64, ArrowError> {
    if batch.variadicBufferCounts().is_some_and(|c| !c.is_empty()) {
        return Err(invalid(
            "a batch declares view buffers its schema has no place for".into(),
        ));
    }
    let compressed = batch.compression().is_some();
    let nodes: Vec<_> = batch.nodes().iter().flatten().collect();
    let buffers = batch
        .buffers()
        .iter()
        .flatten()
        .map(|buffer| {
            let stored = buffer_bytes(buffer.offset(), buffer.length(), body)?;
            if compressed {
                uncompressed_len(stored)
            } else {
                Ok(stored.len() as u64)
            }
        })
        .collect::<Result<Vec<u64>, ArrowError>>()?;
    let wanted: usize = columns.iter().map(|kind| kind.buffers()).sum();
    if nodes.len() != columns.len() || buffers.len() != wanted {
        return Err(invalid(format!(
            "a batch has {} columns and {} buffers where the schema needs {} and {wanted}",
            nodes.len(),
            buffers.len(),
            columns.len()
        )));
    }
    let mut next = buffers.iter().copied();
    for (node, kind) in nodes.iter().zip(columns) {
        let (rows, nulls) = (node.length(), node.null_count());
        if rows < 0 || nulls < 0 || nulls > rows {
            return Err(invalid(format!(
                "a column declares {rows} values of which {nulls} are null"
            )));
        }
        let bitmap = (rows as u64).div_ceil(8);
        let mine: Vec<u64> = next.by_ref().take(kind.buffers()).collect();
        let short = match kind {
            Kind::Null => false,
            _ if nulls > 0 && mine[0] < bitmap => true,
            Kind::Bits => mine[1] < bitmap,
            _ => false,
        };
        if short {
            return Err(invalid(format!(
                "a bitmap is too short for the {rows} values of its column"
            )));
        }
    }
    Ok(buffers
        .iter()
        .fold(0u64, |sum, len| sum.saturating_add(*len)))
}

/// The bytes of a buffer, if it lies inside its body.
fn buffer_bytes(offset: i64, length: i64, body: &[u8]) -> Result<&[u8], ArrowError> {
    usize::try_from(offset)
        .ok()
        .zip(usize::try_from(length).ok())
        .and_then(|(start, len)| body.get(start..start.checked_add(len)?))
        .ok_or_else(|| {
            invalid(format!(
                "a buffer at offset {offset} of length {length} lies outside its {}-byte body",
                body.len()
            ))
        })
}

/// The size a compressed buffer declares it expands to (its first eight bytes).
fn uncompressed_len(stored: &[u8]) -> Result<u64, ArrowError> {
    let Some(prefix) = stored.first_chunk::<8>() else {
        // An empty buffer has no prefix; anything else shorter than one is refused by the decoder.
        return Ok(stored.len() as u64);
    };
    match i64::from_le_bytes(*prefix) {
        NOT_COMPRESSED => Ok(stored.len() as u64 - 8),
        len => u64::try_from(len).map_err(|_| {
            invalid(format!(
                "a compressed buffer declares {len} bytes once decompressed"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::ipc::CompressionType;
    use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};

    use super::*;

    fn stream(compression: Option<CompressionType>) -> Vec<u8> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(0..1000)),
                Arc::new(StringArray::from_iter_values(
                    (0..1000).map(|i| format!("s{i}")),
                )),
            ],
        )
        .unwrap();
        let options = IpcWriteOptions::default()
            .try_with_compression(compression)
            .unwrap();
        let mut out = Vec::new();
        let mut writer = StreamWriter::try_new_with_options(&mut out, &schema, options).unwrap();
        writer.write(&batch).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        out
    }

    #[test]
    fn a_valid_stream_passes_and_reports_its_decoded_size() {
        let plain = check(&stream(None), u64::MAX).unwrap();
        // Two batches of 8000 bytes of integers, 4004 of offsets and 3890 of strings (padded).
        assert!(plain.decoded_bytes >= 2 * 15_894, "{plain:?}");
        assert!(plain.decoded_bytes < 2 * 16_200, "{plain:?}");
        let lz4 = stream(Some(CompressionType::LZ4_FRAME));
        let compressed = check(&lz4, u64::MAX).unwrap();
        assert!(
            compressed.decoded_bytes >= plain.decoded_bytes - 1024,
            "{compressed:?}"
        );
        assert!(lz4.len() < stream(None).len());
    }

    #[test]
    fn a_stream_decoding_past_the_limit_is_refused() {
        let err = check(&stream(None), 1000).unwrap_err();
        assert!(err.to_string().contains("more than 1000 bytes"), "{err}");
    }

    #[test]
    fn a_truncated_stream_is_refused_without_allocating_its_declared_body() {
        let full = stream(None);
        for cut in [9, full.len() / 2, full.len() - 9] {
            let err = check(&full[..cut], u64::MAX).unwrap_err();
            assert!(err.to_string().contains("follow"), "{cut}: {err}");
        }
        let err = check(&full[..6], u64::MAX).unwrap_err();
        assert!(err.to_string().contains("inside a message length"), "{err}");
    }

    #[test]
    fn an_inflated_compressed_length_is_refused() {
        let mut lz4 = stream(Some(CompressionType::LZ4_FRAME));
        let expected = check(&lz4, u64::MAX).unwrap().decoded_bytes;
        // Overwrite every 8-byte prefix that declares the integers' 8000 bytes.
        let declared = 8000i64.to_le_bytes();
        let at: Vec<usize> = (0..lz4.len() - 8)
            .filter(|&i| lz4[i..i + 8] == declared)
            .collect();
        assert!(!at.is_empty());
        for i in at {
            lz4[i..i + 8].copy_from_slice(&(50i64 << 30).to_le_bytes());
        }
        assert!(check(&lz4, u64::MAX).unwrap().decoded_bytes > 50 << 30);
        let err = check(&lz4, expected * 2).unwrap_err();
        assert!(err.to_string().contains("decodes to more than"), "{err}");
    }

    #[test]
    fn a_body_without_a_schema_is_not_a_stream() {
        for body in [&[][..], &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]] {
            let err = check(body, u64::MAX).unwrap_err();
            assert!(err.to_string().contains("no schema message"), "{err}");
        }
    }
}
