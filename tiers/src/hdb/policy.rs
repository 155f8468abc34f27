//! When a table's hot rows go to the HDB: by rows, bytes or age, whichever comes first.

use std::time::{Duration, Instant};

use crate::hot::Pending;

/// Flush thresholds, per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    /// Rows in memory.
    pub rows: usize,
    /// Arrow bytes in memory.
    pub bytes: usize,
    /// Age of the oldest row in memory.
    pub age: Duration,
}

impl FlushPolicy {
    /// Whether `pending` should be flushed at `now`.
    pub fn due(&self, pending: &Pending, now: Instant) -> bool {
        pending.rows > 0
            && (pending.rows >= self.rows
                || pending.bytes >= self.bytes
                || pending
                    .since
                    .is_some_and(|t| now.saturating_duration_since(t) >= self.age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_threshold_triggers_and_empty_tables_never_do() {
        let policy = FlushPolicy {
            rows: 100,
            bytes: 1000,
            age: Duration::from_secs(60),
        };
        let now = Instant::now();
        let p = |rows, bytes, age: u64| Pending {
            rows,
            bytes,
            since: now.checked_sub(Duration::from_secs(age)),
        };
        assert!(!policy.due(&p(10, 10, 1), now));
        assert!(policy.due(&p(100, 10, 1), now));
        assert!(policy.due(&p(10, 1000, 1), now));
        assert!(policy.due(&p(10, 10, 61), now));
        assert!(!policy.due(&p(0, 0, 600), now));
    }
}
