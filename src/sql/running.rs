//! The statements running now (`GET /admin/queries`), each cancellable
//! (`DELETE /admin/queries/{id}`): a cancelled statement stops at its next batch and answers
//! [`super::Error::Cancelled`]. A statement leaves the list when it ends, however it ends,
//! including when its client disconnects and the request is dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::Serialize;
use strata_tiers::clock::now_nanos;
use tokio::sync::watch;

/// Characters of a statement's text the listing shows.
const SQL_PREVIEW: usize = 200;

/// One running statement, as listed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueryInfo {
    /// `q_…`.
    pub id: String,
    /// Who runs it.
    pub subject: String,
    /// Its text (the first 200 characters).
    pub sql: String,
    /// When it started, ns since the epoch.
    pub started_at_ns: i64,
}

#[derive(Debug)]
struct Running {
    info: QueryInfo,
    cancel: watch::Sender<bool>,
}

/// The registry.
#[derive(Debug, Default)]
pub struct RunningQueries {
    next: AtomicU64,
    map: Mutex<HashMap<String, Running>>,
}

impl RunningQueries {
    /// Lists a statement until the returned guard is dropped.
    pub fn register(self: &Arc<Self>, subject: &str, sql: &str) -> Registration {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("q_{n:06x}");
        let (cancel, cancelled) = watch::channel(false);
        let info = QueryInfo {
            id: id.clone(),
            subject: subject.to_string(),
            sql: sql.trim().chars().take(SQL_PREVIEW).collect(),
            started_at_ns: now_nanos(),
        };
        self.map.lock().insert(id.clone(), Running { info, cancel });
        Registration {
            id,
            registry: Arc::clone(self),
            cancelled,
        }
    }

    /// Every running statement, oldest first.
    pub fn list(&self) -> Vec<QueryInfo> {
        let mut all: Vec<_> = self.map.lock().values().map(|r| r.info.clone()).collect();
        all.sort_by(|a, b| (a.started_at_ns, &a.id).cmp(&(b.started_at_ns, &b.id)));
        all
    }

    /// Cancels statement `id`; false if no such statement is running.
    pub fn cancel(&self, id: &str) -> bool {
        match self.map.lock().get(id) {
            Some(r) => {
                r.cancel.send_replace(true);
                true
            }
            None => false,
        }
    }
}

/// A listed statement; dropping it takes it off the list.
#[derive(Debug)]
pub struct Registration {
    id: String,
    registry: Arc<RunningQueries>,
    cancelled: watch::Receiver<bool>,
}

impl Registration {
    /// Completes when the statement is cancelled.
    pub async fn cancelled(&mut self) {
        // The sender lives in the registry until this guard drops: `wait_for` cannot fail
        // before then; if it ever did, never completing is the safe answer.
        if self.cancelled.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.map.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancel_and_leave() {
        let reg = Arc::new(RunningQueries::default());
        let mut a = reg.register("ak_1", "SELECT 1");
        let b = reg.register("ak_2", &"x".repeat(500));
        let list = reg.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].sql.len(), SQL_PREVIEW);
        let id = list[0].id.clone();
        assert!(reg.cancel(&id));
        tokio::time::timeout(std::time::Duration::from_secs(5), a.cancelled())
            .await
            .expect("cancelled at once");
        drop(a);
        assert!(!reg.cancel(&id), "a finished statement is gone");
        drop(b);
        assert!(reg.list().is_empty());
    }
}
