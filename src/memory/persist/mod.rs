//! Persistence of Agent Memory: changes are logged to a WAL before they are applied
//! ([`log`]), and a background committer writes them in batches to two Lance datasets
//! ([`lance`]) whose Arrow schema is shared with the WAL ([`schema`]).
//!
//! Start: load the datasets, replay the WAL on top (its records are absolute, so records the
//! datasets already reflect change nothing), then serve. A commit takes the ids changed since
//! the last one, writes their current state, and only then lets the WAL drop the segments it
//! covered; a failed commit keeps everything and is retried with back-off. Stop: one last
//! commit, then a WAL sync, so a clean restart replays nothing.

pub mod centroids;
pub mod lance;
pub mod log;
mod restore;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use strata_tiers::wal::WalConfig;

use self::lance::{Datasets, Loaded};
use self::log::MutationLog;
use super::AgentMemory;
use super::error::{Error, Result};
use super::settings::{AnnSettings, Limits, Storage};

/// How often the committer checks whether a commit is due.
const COMMIT_POLL: Duration = Duration::from_millis(50);

/// Opens the datasets and the WAL at `storage` and rebuilds the store from them.
pub async fn open(storage: &Storage, limits: Limits, ann: AnnSettings) -> Result<AgentMemory> {
    if let Some(dir) = storage.local_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::Storage(format!(
                "cannot create the Agent Memory directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let memory = AgentMemory::with_ann(limits, ann);
    let (datasets, opened) = Datasets::open(storage, |loaded| match loaded {
        Loaded::MemoryCount { rows, dim } => memory.reserve_memories(rows, dim),
        Loaded::Memories(batch) => memory.restore_memories(batch),
        Loaded::Cache(entries) => {
            for e in entries {
                memory.restore(log::Mutation::PutCache(e));
            }
        }
    })
    .await?;
    let mut memory = memory;
    memory.restore_counters(opened.counters.0, opened.counters.1);
    if let Some(saved) = opened.centroids {
        memory.ann.adopt(saved);
    }
    let (memories, entries) = (opened.memories, opened.cache_entries);
    let mut replayed = 0u64;
    let log = MutationLog::open(
        WalConfig {
            dir: storage.wal_dir.clone(),
            sync: storage.wal_sync,
            segment_bytes: 16 << 20,
        },
        |mutation| {
            replayed += 1;
            memory.restore(mutation);
        },
    )?;
    memory.attach(log, Arc::new(datasets));
    tracing::info!(
        root = %storage.root,
        wal = %storage.wal_dir.display(),
        memories,
        cache_entries = entries,
        replayed,
        "agent memory loaded"
    );
    Ok(memory)
}

/// Commits what changed since the last commit; `Ok(false)` when nothing had.
pub async fn commit(memory: &AgentMemory) -> Result<bool> {
    let (Some(log), Some(datasets)) = (memory.log(), memory.datasets()) else {
        return Ok(false);
    };
    let Some((changes, dirty, through)) = memory.take_changes() else {
        return Ok(false);
    };
    match datasets.commit(changes).await {
        Ok(()) => {
            log.committed_through(through)?;
            Ok(true)
        }
        Err(e) => {
            log.restore_dirty(dirty);
            Err(e)
        }
    }
}

/// The background committer; [`Committer::stop`] lets a commit in progress finish (stopping
/// it halfway would drop the batch it took until the next start's replay).
#[derive(Debug)]
pub struct Committer {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Committer {
    /// Waits for the commit in progress, if any, and ends the task.
    pub async fn stop(self) {
        self.stop.notify_one();
        if let Err(e) = self.task.await {
            tracing::error!("agent memory committer failed: {e}");
        }
    }
}

/// Commits whenever `flush_every` changes have accumulated (never when 0), until stopped.
/// Failed commits are retried with back-off from 0.5 s to 60 s.
pub fn spawn_committer(memory: Arc<AgentMemory>, flush_every: u64) -> Committer {
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = Arc::clone(&stop);
    let task = tokio::spawn(async move {
        if memory.log().is_none() {
            return;
        }
        let mut backoff = Duration::ZERO;
        loop {
            tokio::select! {
                () = tokio::time::sleep(COMMIT_POLL.max(backoff)) => {}
                () = stopped.notified() => return,
            }
            let due = flush_every > 0
                && memory
                    .log()
                    .is_some_and(|log| log.pending_mutations() >= flush_every);
            if !due {
                continue;
            }
            match commit(&memory).await {
                Ok(_) => backoff = Duration::ZERO,
                Err(e) => {
                    backoff =
                        (backoff * 2).clamp(Duration::from_millis(500), Duration::from_secs(60));
                    tracing::warn!(retry_in = ?backoff, "agent memory commit failed; the WAL keeps the changes: {e}");
                }
            }
        }
    });
    Committer { stop, task }
}

/// The last commit at stop, then a WAL sync: whatever the commit could not write is replayed
/// from the WAL at the next start.
pub async fn shutdown(memory: &AgentMemory) {
    if memory.log().is_none() {
        return;
    }
    match commit(memory).await {
        Ok(_) => tracing::info!("agent memory committed at shutdown"),
        Err(e) => {
            tracing::warn!("agent memory commit at shutdown failed; the WAL keeps the changes: {e}")
        }
    }
    if let Some(log) = memory.log()
        && let Err(e) = log.sync_all()
    {
        tracing::error!("agent memory WAL sync at shutdown failed: {e}");
    }
}
