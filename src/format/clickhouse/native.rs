//! `Native`, ClickHouse's columnar wire format (`clickhouse-http.md` §3.7): what
//! clickhouse-connect reads and writes by default and clickhouse-go (Grafana's official plugin)
//! reads. One block per batch: `[BlockInfo] varuint columns, varuint rows`, then per column its
//! name, its type, `[has_custom = 0]` and its values column by column (`Nullable`: the null map,
//! then a value under every row; `Array`: cumulative UInt64 end offsets, then the elements;
//! `Map`: the offsets as for an array, then every key, then every value).
//!
//! What the block carries depends on the client's `client_protocol_version`: BlockInfo from
//! any revision above 0 (54405 is clickhouse-connect's probe), the `has_custom` byte from
//! 54454 (clickhouse-go sends 54460). Strata reports revision [`REVISION`].

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::binary::{is_nullable, write_default, write_plain, write_string, write_varuint};
use super::{Unprintable, binary_columns, type_names};

/// The protocol revision Strata reports (`revision()`) and encodes at most.
pub const REVISION: u64 = 54460;
/// The first revision whose column headers carry the `has_custom` byte.
const CUSTOM_SERIALIZATION: u64 = 54454;
/// BlockInfo as servers write it: field 1 `is_overflows = 0`, field 2 `bucket_num = -1`, end.
const BLOCK_INFO: [u8; 8] = [0x01, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00];

/// The whole body of `batches` for a client at protocol `revision` (0: none asked). Empty
/// batches are skipped; a result without rows is one block of column headers.
pub fn encode_native(
    revision: u64,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, Unprintable> {
    let revision = revision.min(REVISION);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let type_names = type_names(schema)?;
    let mut out = Vec::new();
    let mut blocks = 0;
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let columns = binary_columns(schema, batch, &names)?;
        block(
            &mut out,
            revision,
            schema,
            &type_names,
            &columns,
            batch.num_rows(),
        )?;
        blocks += 1;
    }
    if blocks == 0 {
        block(&mut out, revision, schema, &type_names, &[], 0)?;
    }
    Ok(out)
}

fn block(
    out: &mut Vec<u8>,
    revision: u64,
    schema: &Schema,
    type_names: &[String],
    columns: &[ArrayRef],
    rows: usize,
) -> Result<(), Unprintable> {
    if revision > 0 {
        out.extend_from_slice(&BLOCK_INFO);
    }
    write_varuint(out, schema.fields().len() as u64);
    write_varuint(out, rows as u64);
    for (i, field) in schema.fields().iter().enumerate() {
        write_string(out, field.name().as_bytes());
        write_string(out, type_names[i].as_bytes());
        if revision >= CUSTOM_SERIALIZATION {
            out.push(0);
        }
        if rows > 0 {
            column(out, field, columns[i].as_ref()).map_err(|reason| Unprintable {
                column: field.name().clone(),
                reason,
            })?;
        }
    }
    Ok(())
}

/// Every value of `array`, columnar, as ClickHouse's type for `field` stores them.
fn column(out: &mut Vec<u8>, field: &Field, array: &dyn Array) -> Result<(), String> {
    if let DataType::List(item) = array.data_type() {
        let list = array.as_list::<i32>();
        let (start, len) = offsets(out, list.value_offsets());
        let values = list.values().slice(start, len);
        return column(out, item, values.as_ref());
    }
    if let DataType::Map(..) = array.data_type() {
        let map = array.as_map();
        let (start, len) = offsets(out, map.value_offsets());
        let entries = map.entries().slice(start, len);
        for (field, values) in entries.fields().iter().zip(entries.columns()) {
            column(out, field, values.as_ref())?;
        }
        return Ok(());
    }
    let nullable = is_nullable(field);
    let all_null = array.data_type() == &DataType::Null;
    if nullable {
        out.extend((0..array.len()).map(|row| u8::from(all_null || array.is_null(row))));
    } else if array.null_count() > 0 {
        return Err("a NULL in a column ClickHouse sees as not Nullable".into());
    }
    for row in 0..array.len() {
        if all_null || array.is_null(row) {
            write_default(out, array.data_type())?;
        } else {
            write_plain(out, array, row)?;
        }
    }
    Ok(())
}

/// Writes a collection column's cumulative end offsets (from 0, however the column is sliced);
/// returns where its entries start and how many there are.
fn offsets(out: &mut Vec<u8>, offsets: &[i32]) -> (usize, usize) {
    let first = offsets.first().copied().unwrap_or(0);
    for end in offsets.iter().skip(1) {
        out.extend_from_slice(&u64::try_from(end - first).unwrap_or(0).to_le_bytes());
    }
    let start = usize::try_from(first).unwrap_or(0);
    let len = usize::try_from(offsets.last().copied().unwrap_or(0) - first).unwrap_or(0);
    (start, len)
}
