//! The tiers' background work: every interval, flush the tables the policy says are due,
//! compact days left with many small files by those flushes, and expire rows past their TTL.
//! [`Maintenance::stop`] lets a round in progress finish, so a flush or compaction is never
//! abandoned half-way (its files would be orphans until the next VACUUM).

use std::sync::Arc;
use std::time::Duration;

use super::Tiers;
use crate::clock::now_nanos;
use crate::hdb::policy::FlushPolicy;

/// What the background loop does and how often.
#[derive(Debug, Clone, Copy)]
pub struct MaintenanceSettings {
    /// When a table is due for a flush.
    pub policy: FlushPolicy,
    /// How often the policy is checked.
    pub interval: Duration,
    /// Compact a day once it has this many files (0: never).
    pub compact_min_files: usize,
}

/// The running background loop.
#[derive(Debug)]
pub struct Maintenance {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Maintenance {
    /// Starts the loop over `tiers`.
    pub fn spawn(tiers: Arc<Tiers>, settings: MaintenanceSettings) -> Self {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(settings.interval.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = stopped.notified() => return,
                }
                round(&tiers, &settings).await;
            }
        });
        Self { stop, task }
    }

    /// Waits for the round in progress, if any, and ends the loop.
    pub async fn stop(self) {
        self.stop.notify_one();
        if let Err(e) = self.task.await {
            tracing::error!(target: "tiers::maintenance", "background maintenance failed: {e}");
        }
    }
}

async fn round(tiers: &Tiers, settings: &MaintenanceSettings) {
    // Small files come from flushes; look for days to compact only after one.
    if tiers.is_tiered()
        && tiers.flush_due(&settings.policy).await > 0
        && settings.compact_min_files > 0
    {
        tiers.compact_due(settings.compact_min_files).await;
    }
    if let Err(e) = tiers.enforce_ttl(now_nanos()).await {
        tracing::warn!(target: "tiers::ttl", "TTL expiry failed, will retry: {e}");
    }
}
