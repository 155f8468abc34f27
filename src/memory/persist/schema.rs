//! The Arrow form of memories and cache entries: the schema of the two Lance datasets and of
//! the WAL's records, and the conversions both ways.
//!
//! Embeddings are `FixedSizeList<Float32>` of the store's dimension (null: no embedding), the
//! type vector indexes and other Lance readers expect. Until the first embedding fixes the
//! dimension, the column is a one-element list that is always null.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, FixedSizeListArray, Float32Array, Float64Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::memory::record::{CacheEntry, Memory};
use crate::memory::scope::SCOPE_FIELDS;

/// Column holding the vectors in both datasets.
pub const EMBEDDING: &str = "embedding";
/// Key column of the memories dataset.
pub const MEMORY_ID: &str = "memory_id";
/// Key column of the cache dataset.
pub const CACHE_ID: &str = "cache_id";

/// One column of a dataset: its name and type, and how a record's field becomes the column's
/// value and back. Each dataset's columns are listed once ([`MEMORY_COLUMNS`],
/// [`CACHE_COLUMNS`]); its schema and both conversions are derived from that list.
enum Column<R> {
    /// A non-null UTF-8 column.
    Text(&'static str, fn(&R) -> &str, fn(&mut R, String)),
    /// A non-null 64-bit integer column.
    Int(&'static str, fn(&R) -> i64, fn(&mut R, i64)),
    /// A non-null 64-bit float column.
    Float(&'static str, fn(&R) -> f64, fn(&mut R, f64)),
    /// A non-null boolean column.
    Bool(&'static str, fn(&R) -> bool, fn(&mut R, bool)),
    /// The [`EMBEDDING`] column: null where the record has none.
    Embedding(fn(&R) -> &[f32], fn(&mut R, Vec<f32>)),
}

use Column::{Bool, Embedding, Float, Int, Text};

/// The columns of the memories dataset, in order.
const MEMORY_COLUMNS: &[Column<Memory>] = &[
    Text(MEMORY_ID, |m| &m.memory_id, |m, v| m.memory_id = v),
    Text(
        SCOPE_FIELDS[0],
        |m| &m.scope.tenant_id,
        |m, v| m.scope.tenant_id = v,
    ),
    Text(
        SCOPE_FIELDS[1],
        |m| &m.scope.namespace,
        |m, v| m.scope.namespace = v,
    ),
    Text(
        SCOPE_FIELDS[2],
        |m| &m.scope.user_id,
        |m, v| m.scope.user_id = v,
    ),
    Text(
        SCOPE_FIELDS[3],
        |m| &m.scope.session_id,
        |m, v| m.scope.session_id = v,
    ),
    Text(
        SCOPE_FIELDS[4],
        |m| &m.scope.agent_id,
        |m, v| m.scope.agent_id = v,
    ),
    Text(SCOPE_FIELDS[5], |m| &m.scope.kind, |m, v| m.scope.kind = v),
    Text("content", |m| &m.content, |m, v| m.content = v),
    Text(
        "metadata_json",
        |m| &m.metadata_json,
        |m, v| m.metadata_json = v,
    ),
    Embedding(|m| &m.embedding, |m, v| m.embedding = v),
    Int("token_count", |m| m.token_count, |m, v| m.token_count = v),
    Float("importance", |m| m.importance, |m, v| m.importance = v),
    Int(
        "created_at_ns",
        |m| m.created_at_ns,
        |m, v| m.created_at_ns = v,
    ),
    Int(
        "last_accessed_ns",
        |m| m.last_accessed_ns,
        |m, v| m.last_accessed_ns = v,
    ),
    Int(
        "expires_at_ns",
        |m| m.expires_at_ns,
        |m, v| m.expires_at_ns = v,
    ),
    Bool("pinned", |m| m.pinned, |m, v| m.pinned = v),
    Int(
        "access_count",
        |m| m.access_count as i64,
        |m, v| m.access_count = v.max(0) as u64,
    ),
];

/// The columns of the prompt-cache dataset, in order.
const CACHE_COLUMNS: &[Column<CacheEntry>] = &[
    Text(CACHE_ID, |e| &e.cache_id, |e, v| e.cache_id = v),
    Text(SCOPE_FIELDS[0], |e| &e.tenant_id, |e, v| e.tenant_id = v),
    Text(SCOPE_FIELDS[1], |e| &e.namespace, |e, v| e.namespace = v),
    Text("prompt", |e| &e.prompt, |e, v| e.prompt = v),
    Text("response", |e| &e.response, |e, v| e.response = v),
    Embedding(|e| &e.embedding, |e, v| e.embedding = v),
    Int("token_count", |e| e.token_count, |e, v| e.token_count = v),
    Text(
        "metadata_json",
        |e| &e.metadata_json,
        |e, v| e.metadata_json = v,
    ),
    Int(
        "created_at_ns",
        |e| e.created_at_ns,
        |e, v| e.created_at_ns = v,
    ),
    Int(
        "last_accessed_ns",
        |e| e.last_accessed_ns,
        |e, v| e.last_accessed_ns = v,
    ),
    Int(
        "expires_at_ns",
        |e| e.expires_at_ns,
        |e, v| e.expires_at_ns = v,
    ),
    Int(
        "access_count",
        |e| e.access_count as i64,
        |e, v| e.access_count = v.max(0) as u64,
    ),
];

impl<R> Column<R> {
    fn field(&self, dim: usize) -> Field {
        match self {
            Text(name, ..) => Field::new(*name, DataType::Utf8, false),
            Int(name, ..) => Field::new(*name, DataType::Int64, false),
            Float(name, ..) => Field::new(*name, DataType::Float64, false),
            Bool(name, ..) => Field::new(*name, DataType::Boolean, false),
            Embedding(..) => embedding_field(dim),
        }
    }

    /// The column's values for `records`.
    fn array(&self, records: &[R], dim: usize) -> Result<ArrayRef, arrow::error::ArrowError> {
        Ok(match self {
            Text(_, get, _) => Arc::new(StringArray::from_iter_values(records.iter().map(get))),
            Int(_, get, _) => Arc::new(Int64Array::from_iter_values(records.iter().map(get))),
            Float(_, get, _) => Arc::new(Float64Array::from_iter_values(records.iter().map(get))),
            Bool(_, get, _) => Arc::new(BooleanArray::from_iter(
                records.iter().map(|r| Some(get(r))),
            )),
            Embedding(get, _) => embeddings(records.iter().map(get).collect(), dim)?,
        })
    }

    /// Sets the field of every record from the column of `batch`.
    fn read(&self, batch: &RecordBatch, records: &mut [R]) -> Result<(), String> {
        match self {
            Text(name, _, set) => {
                let values = strings(batch, name)?;
                for (i, r) in records.iter_mut().enumerate() {
                    set(r, values.value(i).to_string());
                }
            }
            Int(name, _, set) => {
                let values = column::<Int64Array>(batch, name)?;
                for (r, v) in records.iter_mut().zip(values.values()) {
                    set(r, *v);
                }
            }
            Float(name, _, set) => {
                let values = column::<Float64Array>(batch, name)?;
                for (r, v) in records.iter_mut().zip(values.values()) {
                    set(r, *v);
                }
            }
            Bool(name, _, set) => {
                let values = column::<BooleanArray>(batch, name)?;
                for (i, r) in records.iter_mut().enumerate() {
                    set(r, values.value(i));
                }
            }
            Embedding(_, set) => {
                for (r, v) in records.iter_mut().zip(vectors(batch)?) {
                    set(r, v);
                }
            }
        }
        Ok(())
    }
}

fn schema_of<R>(columns: &[Column<R>], dim: usize) -> SchemaRef {
    Arc::new(Schema::new(
        columns.iter().map(|c| c.field(dim)).collect::<Vec<_>>(),
    ))
}

fn to_batch<R>(
    columns: &[Column<R>],
    records: &[R],
    dim: usize,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let arrays = columns
        .iter()
        .map(|c| c.array(records, dim))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema_of(columns, dim), arrays)
}

fn from_batch<R: Default>(columns: &[Column<R>], batch: &RecordBatch) -> Result<Vec<R>, String> {
    let mut records: Vec<R> = std::iter::repeat_with(R::default)
        .take(batch.num_rows())
        .collect();
    for c in columns {
        c.read(batch, &mut records)?;
    }
    Ok(records)
}

/// The list size used for a dimension (`0`: not fixed yet).
pub fn list_size(dim: usize) -> i32 {
    dim.max(1) as i32
}

fn embedding_field(dim: usize) -> Field {
    Field::new(
        EMBEDDING,
        DataType::FixedSizeList(
            Arc::new(Field::new("item", DataType::Float32, true)),
            list_size(dim),
        ),
        true,
    )
}

/// Schema of the memories dataset.
pub fn memory_schema(dim: usize) -> SchemaRef {
    schema_of(MEMORY_COLUMNS, dim)
}

/// Schema of the cache dataset.
pub fn cache_schema(dim: usize) -> SchemaRef {
    schema_of(CACHE_COLUMNS, dim)
}

/// Schema of a batch of ids (deletions in the WAL).
pub fn id_schema(column: &str) -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]))
}

/// One column of ids.
pub fn ids_batch(column: &str, ids: &[String]) -> Result<RecordBatch, arrow::error::ArrowError> {
    RecordBatch::try_new(
        id_schema(column),
        vec![Arc::new(StringArray::from_iter_values(ids)) as ArrayRef],
    )
}

/// Ids from a batch with an id column.
pub fn ids_from_batch(batch: &RecordBatch, column: &str) -> Result<Vec<String>, String> {
    Ok(strings(batch, column)?
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect())
}

fn embeddings(vectors: Vec<&[f32]>, dim: usize) -> Result<ArrayRef, arrow::error::ArrowError> {
    let size = list_size(dim) as usize;
    let mut values = Vec::with_capacity(vectors.len() * size);
    let mut valid = Vec::with_capacity(vectors.len());
    for v in &vectors {
        if v.len() == size && dim > 0 {
            values.extend_from_slice(v);
            valid.push(true);
        } else {
            values.resize(values.len() + size, 0.0);
            valid.push(false);
        }
    }
    let field = Arc::new(Field::new("item", DataType::Float32, true));
    Ok(Arc::new(FixedSizeListArray::try_new(
        field,
        size as i32,
        Arc::new(Float32Array::from(values)),
        Some(NullBuffer::from(valid)),
    )?))
}

/// Memories as one batch of [`memory_schema`].
pub fn memories_to_batch(
    memories: &[Memory],
    dim: usize,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    to_batch(MEMORY_COLUMNS, memories, dim)
}

/// Cache entries as one batch of [`cache_schema`].
pub fn cache_to_batch(
    entries: &[CacheEntry],
    dim: usize,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    to_batch(CACHE_COLUMNS, entries, dim)
}

/// Memories from a batch of [`memory_schema`] (any dimension).
pub fn memories_from_batch(batch: &RecordBatch) -> Result<Vec<Memory>, String> {
    from_batch(MEMORY_COLUMNS, batch)
}

/// Memories of a batch whose vectors stay in the batch's buffer (a load copies each once,
/// straight into the memory table).
#[derive(Debug)]
pub struct MemoryRows {
    /// The memories, each with an empty `embedding`.
    pub records: Vec<Memory>,
    /// The embedding column and its values.
    lists: FixedSizeListArray,
    values: Float32Array,
}

impl MemoryRows {
    /// The memories, taken out (their vectors stay readable with [`MemoryRows::vector`]).
    pub fn take_records(&mut self) -> Vec<Memory> {
        std::mem::take(&mut self.records)
    }

    /// Row `i`'s vector; empty when it has none.
    pub fn vector(&self, i: usize) -> &[f32] {
        if self.lists.is_null(i) {
            return &[];
        }
        let size = self.lists.value_length() as usize;
        let start = self.lists.value_offset(i) as usize;
        self.values.values().get(start..start + size).unwrap_or(&[])
    }
}

/// Memories from a batch of [`memory_schema`], vectors left in place.
pub fn memory_rows(batch: &RecordBatch) -> Result<MemoryRows, String> {
    let lists = column::<FixedSizeListArray>(batch, EMBEDDING)?.clone();
    let values = lists
        .values()
        .as_any()
        .downcast_ref::<Float32Array>()
        .ok_or("embedding values are not float32")?
        .clone();
    let mut records: Vec<Memory> = std::iter::repeat_with(Memory::default)
        .take(batch.num_rows())
        .collect();
    for c in MEMORY_COLUMNS {
        if !matches!(c, Embedding(..)) {
            c.read(batch, &mut records)?;
        }
    }
    Ok(MemoryRows {
        records,
        lists,
        values,
    })
}

/// Cache entries from a batch of [`cache_schema`] (any dimension).
pub fn cache_from_batch(batch: &RecordBatch) -> Result<Vec<CacheEntry>, String> {
    from_batch(CACHE_COLUMNS, batch)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, String> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| format!("column '{name}' is missing or of the wrong type"))
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray, String> {
    column::<StringArray>(batch, name)
}

/// The embeddings of a batch, empty where null.
fn vectors(batch: &RecordBatch) -> Result<Vec<Vec<f32>>, String> {
    let list = column::<FixedSizeListArray>(batch, EMBEDDING)?;
    let values = list
        .values()
        .as_any()
        .downcast_ref::<Float32Array>()
        .ok_or("embedding values are not float32")?;
    let size = list.value_length() as usize;
    Ok((0..list.len())
        .map(|i| {
            if list.is_null(i) {
                Vec::new()
            } else {
                let start = list.value_offset(i) as usize;
                values.values()[start..start + size].to_vec()
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::scope::Scope;

    #[test]
    fn memories_round_trip_with_and_without_embeddings() {
        let base = Memory {
            memory_id: "m1".into(),
            scope: Scope::from_values(["t", "n", "u", "s", "a", "fact"].map(String::from)),
            content: "c".into(),
            metadata_json: "{\"k\":1}".into(),
            embedding: vec![1.0, 2.0],
            token_count: 3,
            importance: 1.5,
            created_at_ns: 10,
            last_accessed_ns: 11,
            expires_at_ns: 12,
            pinned: true,
            access_count: 4,
        };
        let mut plain = base.clone();
        plain.memory_id = "m2".into();
        plain.embedding.clear();
        let batch = memories_to_batch(&[base.clone(), plain.clone()], 2).unwrap();
        assert_eq!(
            memories_from_batch(&batch).unwrap(),
            vec![base, plain.clone()]
        );
        // Before the dimension is fixed.
        let batch = memories_to_batch(std::slice::from_ref(&plain), 0).unwrap();
        assert_eq!(memories_from_batch(&batch).unwrap(), vec![plain]);
        // A slice keeps its offset.
        let ids = ids_batch(MEMORY_ID, &["a".into(), "b".into()]).unwrap();
        assert_eq!(
            ids_from_batch(&ids.slice(1, 1), MEMORY_ID).unwrap(),
            vec!["b"]
        );
    }

    #[test]
    fn cache_round_trips() {
        let e = CacheEntry {
            cache_id: "cache_1".into(),
            tenant_id: "t".into(),
            namespace: "n".into(),
            prompt: "p".into(),
            response: "r".into(),
            embedding: vec![0.5, 0.5, 0.0],
            token_count: 2,
            metadata_json: "{}".into(),
            created_at_ns: 1,
            last_accessed_ns: 2,
            expires_at_ns: 0,
            access_count: 7,
        };
        let batch = cache_to_batch(std::slice::from_ref(&e), 3).unwrap();
        assert_eq!(cache_from_batch(&batch.slice(0, 1)).unwrap(), vec![e]);
    }
}
