//! Group commit: one thread makes the log durable for every writer waiting on it at once.
//!
//! A writer appends its record to the OS ([`super::Wal::append`]) and then waits for its
//! sequence number to be synced, either asynchronously ([`super::Wal::durable`], on the async
//! worker that served the request: no blocking thread per writer) or blocking
//! ([`super::Wal::sync`]). Waiting asks the syncer thread for that sequence; the syncer runs one
//! `fdatasync` covering everything written when it starts and publishes the new synced sequence
//! to every waiter. Writers that arrive during one `fdatasync` are all covered by the next, so
//! the number of syncs per second stays bounded by the disk while the writes per sync grow with
//! concurrency, and no writer spins on a lock.
//!
//! A failed `fdatasync` is final. After a failure the kernel may have dropped the dirty pages
//! and marked them clean, so a retry can report success for data that never reached the disk;
//! every waiter and every later append gets the error, and the server must be restarted (its
//! replay then reads what the disk really holds).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use super::error::{WalError, WalResult};

/// The synced sequence and whether syncing has failed, shared by the writers and the syncer.
#[derive(Debug)]
pub(super) struct Commit {
    state: Mutex<State>,
    /// The syncer waits here for a wanted sequence past the synced one.
    wanted: Condvar,
    /// Blocking waiters wait here for the synced sequence to reach theirs.
    synced: Condvar,
    /// Asynchronous waiters watch this.
    published: watch::Sender<Published>,
    /// `state.synced`, readable without the lock for the common "already synced" case.
    synced_seq: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// The highest sequence someone waits for.
    wanted: u64,
    /// Every record up to this sequence is on disk.
    synced: u64,
    /// Why syncing failed, once it has.
    failed: Option<Arc<str>>,
    /// The log is gone: the syncer stops.
    stopped: bool,
}

#[derive(Debug, Clone)]
struct Published {
    synced: u64,
    failed: Option<Arc<str>>,
}

/// What the syncer should do next.
pub(super) enum Next {
    /// Sync what has been written.
    Sync,
    /// Stop: the log was dropped or syncing failed.
    Stop,
}

impl Commit {
    /// Nothing synced past `synced` yet (the sequence before the first new record).
    pub(super) fn new(synced: u64) -> Self {
        let (published, _) = watch::channel(Published {
            synced,
            failed: None,
        });
        Self {
            state: Mutex::new(State {
                wanted: synced,
                synced,
                failed: None,
                stopped: false,
            }),
            wanted: Condvar::new(),
            synced: Condvar::new(),
            published,
            synced_seq: AtomicU64::new(synced),
        }
    }

    /// Every record up to this sequence is on disk.
    pub(super) fn synced_seq(&self) -> u64 {
        self.synced_seq.load(Ordering::Acquire)
    }

    /// Refuses new writes once syncing has failed.
    pub(super) fn check(&self) -> WalResult<()> {
        match &self.state.lock().failed {
            Some(reason) => Err(WalError::SyncFailed(Arc::clone(reason))),
            None => Ok(()),
        }
    }

    /// Waits, off any async worker, until `seq` is on disk.
    pub(super) fn wait_blocking(&self, seq: u64) -> WalResult<()> {
        if self.synced_seq() >= seq {
            return Ok(());
        }
        let mut state = self.state.lock();
        self.want(&mut state, seq)?;
        loop {
            if let Some(reason) = &state.failed {
                return Err(WalError::SyncFailed(Arc::clone(reason)));
            }
            if state.synced >= seq {
                return Ok(());
            }
            self.synced.wait(&mut state);
        }
    }

    /// Waits until `seq` is on disk without holding a thread.
    pub(super) async fn wait(&self, seq: u64) -> WalResult<()> {
        if self.synced_seq() >= seq {
            return Ok(());
        }
        // Subscribed before asking, so the answer cannot be missed.
        let mut published = self.published.subscribe();
        self.want(&mut self.state.lock(), seq)?;
        let done = published
            .wait_for(|p| p.synced >= seq || p.failed.is_some())
            .await
            // The sender lives as long as `self`, which the caller borrows.
            .map_err(|_| WalError::SyncFailed("the log was closed".into()))?;
        match &done.failed {
            Some(reason) if done.synced < seq => Err(WalError::SyncFailed(Arc::clone(reason))),
            _ => Ok(()),
        }
    }

    fn want(&self, state: &mut State, seq: u64) -> WalResult<()> {
        if let Some(reason) = &state.failed {
            return Err(WalError::SyncFailed(Arc::clone(reason)));
        }
        if seq > state.wanted {
            state.wanted = seq;
            if state.wanted > state.synced {
                self.wanted.notify_one();
            }
        }
        Ok(())
    }

    /// The syncer's wait: returns once a sequence past the synced one is wanted, or it must stop.
    pub(super) fn next(&self) -> Next {
        let mut state = self.state.lock();
        loop {
            if state.stopped || state.failed.is_some() {
                return Next::Stop;
            }
            if state.wanted > state.synced {
                return Next::Sync;
            }
            self.wanted.wait(&mut state);
        }
    }

    /// Records that everything up to `seq` is on disk and wakes whoever waited for it.
    pub(super) fn synced(&self, seq: u64) {
        let mut state = self.state.lock();
        if seq <= state.synced {
            return;
        }
        state.synced = seq;
        self.synced_seq.store(seq, Ordering::Release);
        self.publish(&state);
    }

    /// Records that a sync failed: every waiter, now and later, gets `reason`.
    pub(super) fn failed(&self, reason: &str) {
        let mut state = self.state.lock();
        if state.failed.is_none() {
            state.failed = Some(Arc::from(reason));
        }
        self.publish(&state);
    }

    /// The log is being dropped: the syncer stops.
    pub(super) fn stop(&self) {
        self.state.lock().stopped = true;
        self.wanted.notify_all();
    }

    fn publish(&self, state: &State) {
        self.synced.notify_all();
        self.published.send_replace(Published {
            synced: state.synced,
            failed: state.failed.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_are_released_by_the_sync_that_covers_them() {
        let commit = Arc::new(Commit::new(4));
        assert!(commit.wait_blocking(4).is_ok(), "already synced");
        let waiter = {
            let commit = Arc::clone(&commit);
            std::thread::spawn(move || commit.wait_blocking(7))
        };
        // The syncer is woken only once the waiter has asked for 7.
        assert!(matches!(commit.next(), Next::Sync));
        commit.synced(6);
        assert!(matches!(commit.next(), Next::Sync), "7 is still wanted");
        commit.synced(9);
        assert!(waiter.join().unwrap().is_ok());
        assert_eq!(commit.synced_seq(), 9);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_sync_fails_every_waiter_and_every_later_write() {
        let commit = Arc::new(Commit::new(0));
        let waiting = {
            let commit = Arc::clone(&commit);
            tokio::spawn(async move { commit.wait(3).await })
        };
        // The waiter has asked once the syncer is told to sync.
        let syncer = {
            let commit = Arc::clone(&commit);
            tokio::task::spawn_blocking(move || matches!(commit.next(), Next::Sync))
        };
        assert!(syncer.await.unwrap());
        commit.synced(1);
        commit.failed("fdatasync: Input/output error");
        let err = waiting.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("Input/output error"), "{err}");
        assert!(commit.check().is_err());
        assert!(commit.wait_blocking(2).is_err());
        assert!(commit.wait(2).await.is_err());
        // What was synced before the failure stays acknowledged.
        assert!(commit.wait(1).await.is_ok());
        assert!(matches!(commit.next(), Next::Stop));
    }

    #[test]
    fn the_syncer_stops_when_the_log_goes() {
        let commit = Arc::new(Commit::new(0));
        let syncer = {
            let commit = Arc::clone(&commit);
            std::thread::spawn(move || matches!(commit.next(), Next::Stop))
        };
        commit.stop();
        assert!(syncer.join().unwrap());
    }
}
