//! What a batch keeps in memory: each allocation its arrays point into, counted once.
//!
//! Arrow's `get_array_memory_size` adds up the capacity of every buffer of every array. Arrays
//! decoded from one Arrow IPC message all point into that message's single allocation, so each
//! of them reports the whole message: a 1 M-row tick batch counted 160 bytes a row while the
//! process held 45. The hot tier's budget (`--rdb-max-bytes`), its flush threshold and `/stats`
//! need what is really held.

use arrow::array::{Array, ArrayData, RecordBatch};
use arrow::buffer::Buffer;

/// Bytes of the distinct allocations `batch`'s columns hold.
pub fn retained_bytes(batch: &RecordBatch) -> usize {
    // (start of allocation, bytes): a batch has a handful of buffers, a scan beats hashing.
    let mut allocations = Vec::new();
    for column in batch.columns() {
        visit(&column.to_data(), &mut allocations);
    }
    allocations.iter().map(|(_, size)| size).sum()
}

fn visit(data: &ArrayData, allocations: &mut Vec<(usize, usize)>) {
    let mut add = |buffer: &Buffer| {
        // A buffer owned elsewhere (capacity 0) holds at least up to the end of this slice.
        let size = match buffer.capacity() {
            0 => buffer.ptr_offset() + buffer.len(),
            capacity => capacity,
        };
        let start = buffer.data_ptr().as_ptr() as usize;
        match allocations.iter_mut().find(|(s, _)| *s == start) {
            Some((_, held)) => *held = (*held).max(size),
            None => allocations.push((start, size)),
        }
    };
    for buffer in data.buffers() {
        add(buffer);
    }
    if let Some(nulls) = data.nulls() {
        add(nulls.buffer());
    }
    for child in data.child_data() {
        visit(child, allocations);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::ipc::reader::StreamReader;
    use arrow::ipc::writer::StreamWriter;

    use super::*;

    fn batch(rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
            Field::new("w", DataType::Int64, true),
        ]));
        let s = StringArray::from_iter_values((0..rows).map(|i| format!("S{:03}", i % 100)));
        let v = Int64Array::from_iter_values(0..rows as i64);
        let w = Int64Array::from_iter_values(0..rows as i64);
        RecordBatch::try_new(schema, vec![Arc::new(s), Arc::new(v), Arc::new(w)]).unwrap()
    }

    #[test]
    fn an_ipc_message_counts_once() {
        let rows = 100_000;
        let mut body = Vec::new();
        let b = batch(rows);
        let mut w = StreamWriter::try_new(&mut body, &b.schema()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        drop(w);
        let decoded = StreamReader::try_new(std::io::Cursor::new(body), None)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        // Data: 4-byte strings, 4-byte offsets, two 8-byte columns.
        let data = rows * (4 + 4 + 8 + 8);
        let held = retained_bytes(&decoded);
        assert!(held >= data && held < data + data / 10, "{held} vs {data}");
        assert!(decoded.get_array_memory_size() > 2 * held);
    }

    #[test]
    fn separate_buffers_all_count_shared_ones_once() {
        let b = batch(1000);
        let held = retained_bytes(&b);
        // Every buffer's capacity, without the array structs Arrow's figure adds.
        let buffers: usize = b
            .columns()
            .iter()
            .map(|c| c.to_data().get_buffer_memory_size())
            .sum();
        assert_eq!(held, buffers);
        // A slice still holds its whole allocation.
        assert_eq!(retained_bytes(&b.slice(0, 10)), held);
        // The same column twice is one allocation.
        let twice = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("a", DataType::Int64, true),
                Field::new("b", DataType::Int64, true),
            ])),
            vec![Arc::clone(b.column(1)), Arc::clone(b.column(1))],
        )
        .unwrap();
        assert_eq!(
            retained_bytes(&twice),
            b.column(1).to_data().get_buffer_memory_size()
        );
    }
}
