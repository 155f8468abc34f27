//! `/admin/metrics/history`: the server's counters sampled every 3 s over the last hour, so a
//! dashboard can draw recent rates without a Prometheus of its own.
//!
//! A fixed ring of [`CAPACITY`] snapshots (about 90 KB) filled by one background task that
//! reads the same atomics `/stats` reads; a request never waits on the collector, and an
//! answer carries at most [`MAX_ANSWER`] snapshots.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::Serialize;
use strata_tiers::Tiers;

use crate::sql::QueryService;

/// How often a snapshot is taken.
pub const INTERVAL: Duration = Duration::from_secs(3);
/// Snapshots kept: one hour at [`INTERVAL`].
pub const CAPACITY: usize = 1200;
/// Most snapshots one answer carries (the reference's response limit: 30 minutes).
pub const MAX_ANSWER: usize = 600;

/// The counters at one moment (the reference's fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// When it was taken, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The node (0: standalone).
    pub node_id: u16,
    /// Rows accepted since start.
    pub ticks_ingested: u64,
    /// Rows stored since start.
    pub ticks_stored: u64,
    /// Rows dropped since start (always 0: only stored rows are acknowledged).
    pub ticks_dropped: u64,
    /// Statements run since start.
    pub queries_executed: u64,
    /// Rows read by scans since start.
    pub total_rows_scanned: u64,
    /// Day partitions created since start.
    pub partitions_created: u64,
    /// Wall time of the latest write, in nanoseconds.
    pub last_ingest_latency_ns: u64,
}

impl Snapshot {
    /// The counters of `tiers` and `queries` now.
    pub fn take(tiers: &Tiers, queries: &QueryService) -> Self {
        let t = tiers.stats();
        Snapshot {
            timestamp_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            node_id: 0,
            ticks_ingested: t.rows_ingested(),
            ticks_stored: t.rows_ingested(),
            ticks_dropped: 0,
            queries_executed: queries.queries_executed(),
            total_rows_scanned: t.rows_scanned(),
            partitions_created: t.partitions_created(),
            last_ingest_latency_ns: t.last_ingest_latency_ns(),
        }
    }
}

/// The ring of recent snapshots.
#[derive(Debug)]
pub struct History {
    ring: Mutex<VecDeque<Snapshot>>,
    capacity: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl History {
    /// A ring of `capacity` snapshots.
    pub fn new(capacity: usize) -> Self {
        History {
            ring: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity: capacity.max(1),
        }
    }

    /// Adds a snapshot, dropping the oldest when full.
    pub fn record(&self, snapshot: Snapshot) {
        let mut ring = self.ring.lock();
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(snapshot);
    }

    /// The latest `limit` (at most [`MAX_ANSWER`]) snapshots taken at or after `since_ms`,
    /// oldest first.
    pub fn since(&self, since_ms: i64, limit: usize) -> Vec<Snapshot> {
        let limit = limit.min(MAX_ANSWER);
        let ring = self.ring.lock();
        let matching = ring.iter().rev().take_while(|s| s.timestamp_ms >= since_ms);
        let mut latest: Vec<Snapshot> = matching.take(limit).copied().collect();
        latest.reverse();
        latest
    }

    /// Takes a snapshot now and every [`INTERVAL`] until the returned handle is aborted.
    pub fn spawn_collector(
        self: &Arc<Self>,
        tiers: Arc<Tiers>,
        queries: Arc<QueryService>,
    ) -> tokio::task::JoinHandle<()> {
        let history = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(INTERVAL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                history.record(Snapshot::take(&tiers, &queries));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Snapshot {
        Snapshot {
            timestamp_ms: ms,
            node_id: 0,
            ticks_ingested: ms as u64,
            ticks_stored: 0,
            ticks_dropped: 0,
            queries_executed: 0,
            total_rows_scanned: 0,
            partitions_created: 0,
            last_ingest_latency_ns: 0,
        }
    }

    #[test]
    fn the_ring_is_bounded_and_answers_the_latest() {
        let h = History::new(3);
        for ms in 1..=5 {
            h.record(at(ms));
        }
        let all: Vec<i64> = h.since(0, 100).iter().map(|s| s.timestamp_ms).collect();
        assert_eq!(all, [3, 4, 5], "oldest dropped, oldest first");
        let recent: Vec<i64> = h.since(4, 100).iter().map(|s| s.timestamp_ms).collect();
        assert_eq!(recent, [4, 5]);
        let one: Vec<i64> = h.since(0, 1).iter().map(|s| s.timestamp_ms).collect();
        assert_eq!(one, [5], "the limit keeps the latest");
        assert!(h.since(6, 100).is_empty());
    }

    #[test]
    fn answers_are_capped() {
        let h = History::new(CAPACITY);
        for ms in 0..CAPACITY as i64 {
            h.record(at(ms));
        }
        assert_eq!(h.since(0, usize::MAX).len(), MAX_ANSWER);
    }
}
