//! The mutation log: every memory and cache change is appended to a WAL before it is applied,
//! and the ids it touched are remembered until a Lance commit takes them.
//!
//! The WAL is the tiers' segment log ([`strata_tiers::wal`]); a record's `target` names the
//! dataset (`memories` or `cache`) and its `tag` the change (`upsert`, whose rows are
//! whole records in the dataset's schema, or `delete`, whose rows are ids). Replay applies the
//! records in order on top of what the datasets hold; both kinds are absolute (a whole record or
//! its absence), so replaying a record the datasets already reflect changes nothing.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use parking_lot::Mutex;
use strata_tiers::wal::{Wal, WalConfig, WalRecord, WalStats};

use super::schema::{
    CACHE_ID, MEMORY_ID, cache_from_batch, cache_to_batch, ids_batch, ids_from_batch,
    memories_from_batch, memories_to_batch,
};
use crate::memory::error::{Error, Result};
use crate::memory::record::{CacheEntry, Memory};

const MEMORIES: &str = "memories";
const CACHE: &str = "cache";
const UPSERT: &str = "upsert";
const DELETE: &str = "delete";

/// One logged change.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// A memory stored (whole record).
    PutMemory(Memory),
    /// A memory removed (delete, TTL or capacity eviction).
    DeleteMemory(String),
    /// A cache entry stored (whole entry).
    PutCache(CacheEntry),
    /// A cache entry removed, by cache id.
    DeleteCache(String),
}

/// Ids changed since the last Lance commit.
#[derive(Debug, Default)]
pub struct Dirty {
    /// Memory ids stored or removed.
    pub memories: HashSet<String>,
    /// Memory ids only accessed (their access figures changed).
    pub touched: HashSet<String>,
    /// Cache ids stored, removed or hit.
    pub cache: HashSet<String>,
    /// Logged changes (accesses not counted).
    pub mutations: u64,
}

impl Dirty {
    /// Whether there is anything to commit.
    pub fn is_empty(&self) -> bool {
        self.memories.is_empty() && self.touched.is_empty() && self.cache.is_empty()
    }

    fn absorb(&mut self, other: Dirty) {
        self.memories.extend(other.memories);
        self.touched.extend(other.touched);
        self.cache.extend(other.cache);
        self.mutations += other.mutations;
    }
}

/// The WAL plus the set of ids not yet in the datasets.
#[derive(Debug)]
pub struct MutationLog {
    wal: Arc<Wal>,
    dirty: Mutex<Dirty>,
}

impl MutationLog {
    /// Opens the WAL and hands every change in it to `replay`, oldest first. Replayed changes
    /// count as not yet committed.
    pub fn open(config: WalConfig, mut replay: impl FnMut(Mutation)) -> Result<Self> {
        let mut dirty = Dirty::default();
        let wal = Wal::open(config, 1, |record| {
            for mutation in decode(&record).map_err(|reason| {
                strata_tiers::wal::WalError::Format(format!(
                    "agent memory WAL record {}: {reason}",
                    record.seq
                ))
            })? {
                mark(&mut dirty, &mutation);
                replay(mutation);
            }
            Ok(())
        })
        .map_err(|source| Error::Wal {
            context: "cannot open the Agent Memory WAL",
            source,
        })?;
        Ok(Self {
            wal,
            dirty: Mutex::new(dirty),
        })
    }

    /// Appends a change (not yet synced; see [`MutationLog::sync`]) and returns its sequence.
    pub fn append(&self, mutation: &Mutation, dim: usize) -> Result<u64> {
        let (dataset, kind, batch) =
            encode(mutation, dim).map_err(|e| Error::Encoding(format!("a WAL record: {e}")))?;
        let seq = self
            .wal
            .append(dataset, kind, &batch.schema(), std::slice::from_ref(&batch))
            .map_err(|source| Error::Wal {
                context: "Agent Memory WAL write failed",
                source,
            })?;
        // Applied to memory by the caller under the same lock: nothing is in flight.
        self.wal.applied(seq);
        mark(&mut self.dirty.lock(), mutation);
        Ok(seq)
    }

    /// Makes `seq` durable as `--wal-sync` asks.
    pub fn sync(&self, seq: u64) -> Result<()> {
        self.wal.sync(seq).map_err(|source| Error::Wal {
            context: "Agent Memory WAL sync failed",
            source,
        })
    }

    /// Syncs everything (shutdown).
    pub fn sync_all(&self) -> Result<()> {
        self.wal.sync_all().map_err(|source| Error::Wal {
            context: "Agent Memory WAL sync failed",
            source,
        })
    }

    /// Memories returned by a search: their access figures changed (not logged; they reach the
    /// dataset with the next commit).
    pub fn touched_memories<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut dirty = self.dirty.lock();
        dirty.touched.extend(ids.into_iter().map(str::to_string));
    }

    /// A cache entry hit by a lookup.
    pub fn touched_cache(&self, id: &str) {
        self.dirty.lock().cache.insert(id.to_string());
    }

    /// Changes logged since the last commit.
    pub fn pending_mutations(&self) -> u64 {
        self.dirty.lock().mutations
    }

    /// Takes the dirty ids and the last sequence they cover. Call with the stores' locks held,
    /// so no change is logged in between.
    pub fn take_dirty(&self) -> (Dirty, u64) {
        let dirty = std::mem::take(&mut *self.dirty.lock());
        (dirty, self.wal.next_seq() - 1)
    }

    /// Gives back ids a failed commit did not write.
    pub fn restore_dirty(&self, dirty: Dirty) {
        self.dirty.lock().absorb(dirty);
    }

    /// Everything up to `seq` is in the datasets: its WAL segments may go.
    pub fn committed_through(&self, seq: u64) -> Result<()> {
        self.wal
            .remove_through(seq)
            .map(|_| ())
            .map_err(|source| Error::Wal {
                context: "cannot remove Agent Memory WAL segments",
                source,
            })
    }

    /// WAL figures.
    pub fn stats(&self) -> WalStats {
        self.wal.stats()
    }
}

fn mark(dirty: &mut Dirty, mutation: &Mutation) {
    dirty.mutations += 1;
    match mutation {
        Mutation::PutMemory(m) => dirty.memories.insert(m.memory_id.clone()),
        Mutation::DeleteMemory(id) => dirty.memories.insert(id.clone()),
        Mutation::PutCache(e) => dirty.cache.insert(e.cache_id.clone()),
        Mutation::DeleteCache(id) => dirty.cache.insert(id.clone()),
    };
}

fn encode(
    mutation: &Mutation,
    dim: usize,
) -> Result<(&'static str, &'static str, RecordBatch), arrow::error::ArrowError> {
    Ok(match mutation {
        Mutation::PutMemory(m) => (
            MEMORIES,
            UPSERT,
            memories_to_batch(std::slice::from_ref(m), dim)?,
        ),
        Mutation::DeleteMemory(id) => (
            MEMORIES,
            DELETE,
            ids_batch(MEMORY_ID, std::slice::from_ref(id))?,
        ),
        Mutation::PutCache(e) => (CACHE, UPSERT, cache_to_batch(std::slice::from_ref(e), dim)?),
        Mutation::DeleteCache(id) => (
            CACHE,
            DELETE,
            ids_batch(CACHE_ID, std::slice::from_ref(id))?,
        ),
    })
}

fn decode(record: &WalRecord) -> Result<Vec<Mutation>, String> {
    let mut out = Vec::new();
    for batch in &record.batches {
        match (record.target.as_str(), record.tag.as_str()) {
            (MEMORIES, UPSERT) => out.extend(
                memories_from_batch(batch)?
                    .into_iter()
                    .map(Mutation::PutMemory),
            ),
            (MEMORIES, DELETE) => out.extend(
                ids_from_batch(batch, MEMORY_ID)?
                    .into_iter()
                    .map(Mutation::DeleteMemory),
            ),
            (CACHE, UPSERT) => {
                out.extend(cache_from_batch(batch)?.into_iter().map(Mutation::PutCache))
            }
            (CACHE, DELETE) => out.extend(
                ids_from_batch(batch, CACHE_ID)?
                    .into_iter()
                    .map(Mutation::DeleteCache),
            ),
            (dataset, kind) => return Err(format!("unknown change '{kind}' of '{dataset}'")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use strata_tiers::wal::WalSync;

    use super::*;

    fn memory(id: &str) -> Memory {
        Memory::sample(id, vec![1.0, 0.0])
    }

    #[test]
    fn changes_replay_in_order_and_commits_clear_them() {
        let dir = tempfile::tempdir().unwrap();
        let config = WalConfig {
            dir: dir.path().to_path_buf(),
            sync: WalSync::Batch(Duration::from_millis(50)),
            segment_bytes: 1 << 20,
        };
        let changes = vec![
            Mutation::PutMemory(memory("a")),
            Mutation::DeleteMemory("a".into()),
            Mutation::PutMemory(memory("b")),
        ];
        {
            let log = MutationLog::open(config.clone(), |_| panic!("empty log")).unwrap();
            for c in &changes {
                let seq = log.append(c, 2).unwrap();
                log.sync(seq).unwrap();
            }
            assert_eq!(log.pending_mutations(), 3);
            log.sync_all().unwrap();
        }
        let mut replayed = Vec::new();
        let log = MutationLog::open(config, |m| replayed.push(m)).unwrap();
        assert_eq!(replayed, changes);
        let (dirty, through) = log.take_dirty();
        assert_eq!(dirty.memories.len(), 2);
        assert_eq!(through, 3);
        assert_eq!(log.pending_mutations(), 0);
        log.restore_dirty(dirty);
        assert_eq!(log.pending_mutations(), 3);
    }
}
