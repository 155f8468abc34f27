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

/// Column holding the vectors in both datasets.
pub const EMBEDDING: &str = "embedding";
/// Key column of the memories dataset.
pub const MEMORY_ID: &str = "memory_id";
/// Key column of the cache dataset.
pub const CACHE_ID: &str = "cache_id";

const STRING_COLUMNS: &[&str] = &[
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "content",
    "metadata_json",
];

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
    let mut fields = vec![Field::new(MEMORY_ID, DataType::Utf8, false)];
    fields.extend(
        STRING_COLUMNS
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, false)),
    );
    fields.extend([
        embedding_field(dim),
        Field::new("token_count", DataType::Int64, false),
        Field::new("importance", DataType::Float64, false),
        Field::new("created_at_ns", DataType::Int64, false),
        Field::new("last_accessed_ns", DataType::Int64, false),
        Field::new("expires_at_ns", DataType::Int64, false),
        Field::new("pinned", DataType::Boolean, false),
        Field::new("access_count", DataType::Int64, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// Schema of the cache dataset.
pub fn cache_schema(dim: usize) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(CACHE_ID, DataType::Utf8, false),
        Field::new("tenant_id", DataType::Utf8, false),
        Field::new("namespace", DataType::Utf8, false),
        Field::new("prompt", DataType::Utf8, false),
        Field::new("response", DataType::Utf8, false),
        embedding_field(dim),
        Field::new("token_count", DataType::Int64, false),
        Field::new("metadata_json", DataType::Utf8, false),
        Field::new("created_at_ns", DataType::Int64, false),
        Field::new("last_accessed_ns", DataType::Int64, false),
        Field::new("expires_at_ns", DataType::Int64, false),
        Field::new("access_count", DataType::Int64, false),
    ]))
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
    let text = |f: fn(&Memory) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(memories.iter().map(f)))
    };
    let int = |f: fn(&Memory) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(memories.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(|m| &m.memory_id),
        text(|m| &m.tenant_id),
        text(|m| &m.namespace),
        text(|m| &m.user_id),
        text(|m| &m.session_id),
        text(|m| &m.agent_id),
        text(|m| &m.kind),
        text(|m| &m.content),
        text(|m| &m.metadata_json),
        embeddings(
            memories.iter().map(|m| m.embedding.as_slice()).collect(),
            dim,
        )?,
        int(|m| m.token_count),
        Arc::new(Float64Array::from_iter_values(
            memories.iter().map(|m| m.importance),
        )),
        int(|m| m.created_at_ns),
        int(|m| m.last_accessed_ns),
        int(|m| m.expires_at_ns),
        Arc::new(BooleanArray::from_iter(
            memories.iter().map(|m| Some(m.pinned)),
        )),
        int(|m| m.access_count as i64),
    ];
    RecordBatch::try_new(memory_schema(dim), columns)
}

/// Cache entries as one batch of [`cache_schema`].
pub fn cache_to_batch(
    entries: &[CacheEntry],
    dim: usize,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let text = |f: fn(&CacheEntry) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(entries.iter().map(f)))
    };
    let int = |f: fn(&CacheEntry) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(entries.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(|e| &e.cache_id),
        text(|e| &e.tenant_id),
        text(|e| &e.namespace),
        text(|e| &e.prompt),
        text(|e| &e.response),
        embeddings(
            entries.iter().map(|e| e.embedding.as_slice()).collect(),
            dim,
        )?,
        int(|e| e.token_count),
        text(|e| &e.metadata_json),
        int(|e| e.created_at_ns),
        int(|e| e.last_accessed_ns),
        int(|e| e.expires_at_ns),
        int(|e| e.access_count as i64),
    ];
    RecordBatch::try_new(cache_schema(dim), columns)
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

fn ints(batch: &RecordBatch, name: &str) -> Result<Vec<i64>, String> {
    Ok(column::<Int64Array>(batch, name)?.values().to_vec())
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

/// Memories from a batch of [`memory_schema`] (any dimension).
pub fn memories_from_batch(batch: &RecordBatch) -> Result<Vec<Memory>, String> {
    let s: Vec<&StringArray> = std::iter::once(MEMORY_ID)
        .chain(STRING_COLUMNS.iter().copied())
        .map(|c| strings(batch, c))
        .collect::<Result<_, _>>()?;
    let mut vectors = vectors(batch)?.into_iter();
    let token_count = ints(batch, "token_count")?;
    let importance = column::<Float64Array>(batch, "importance")?;
    let created = ints(batch, "created_at_ns")?;
    let accessed = ints(batch, "last_accessed_ns")?;
    let expires = ints(batch, "expires_at_ns")?;
    let pinned = column::<BooleanArray>(batch, "pinned")?;
    let access = ints(batch, "access_count")?;
    Ok((0..batch.num_rows())
        .map(|i| Memory {
            memory_id: s[0].value(i).to_string(),
            tenant_id: s[1].value(i).to_string(),
            namespace: s[2].value(i).to_string(),
            user_id: s[3].value(i).to_string(),
            session_id: s[4].value(i).to_string(),
            agent_id: s[5].value(i).to_string(),
            kind: s[6].value(i).to_string(),
            content: s[7].value(i).to_string(),
            metadata_json: s[8].value(i).to_string(),
            embedding: vectors.next().unwrap_or_default(),
            token_count: token_count[i],
            importance: importance.value(i),
            created_at_ns: created[i],
            last_accessed_ns: accessed[i],
            expires_at_ns: expires[i],
            pinned: pinned.value(i),
            access_count: access[i].max(0) as u64,
        })
        .collect())
}

/// Cache entries from a batch of [`cache_schema`] (any dimension).
pub fn cache_from_batch(batch: &RecordBatch) -> Result<Vec<CacheEntry>, String> {
    let id = strings(batch, CACHE_ID)?;
    let tenant = strings(batch, "tenant_id")?;
    let namespace = strings(batch, "namespace")?;
    let prompt = strings(batch, "prompt")?;
    let response = strings(batch, "response")?;
    let metadata = strings(batch, "metadata_json")?;
    let mut vectors = vectors(batch)?.into_iter();
    let token_count = ints(batch, "token_count")?;
    let created = ints(batch, "created_at_ns")?;
    let accessed = ints(batch, "last_accessed_ns")?;
    let expires = ints(batch, "expires_at_ns")?;
    let access = ints(batch, "access_count")?;
    Ok((0..batch.num_rows())
        .map(|i| CacheEntry {
            cache_id: id.value(i).to_string(),
            tenant_id: tenant.value(i).to_string(),
            namespace: namespace.value(i).to_string(),
            prompt: prompt.value(i).to_string(),
            response: response.value(i).to_string(),
            embedding: vectors.next().unwrap_or_default(),
            token_count: token_count[i],
            metadata_json: metadata.value(i).to_string(),
            created_at_ns: created[i],
            last_accessed_ns: accessed[i],
            expires_at_ns: expires[i],
            access_count: access[i].max(0) as u64,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_round_trip_with_and_without_embeddings() {
        let base = Memory {
            memory_id: "m1".into(),
            tenant_id: "t".into(),
            namespace: "n".into(),
            user_id: "u".into(),
            session_id: "s".into(),
            agent_id: "a".into(),
            kind: "fact".into(),
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
