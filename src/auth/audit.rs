//! The audit log: every authentication, refusal, admin action and DDL statement as an
//! [`Event`], kept in a bounded ring (`GET /admin/audit`) and, with `--audit-log-file`, appended
//! to a file as JSON lines. Events carry who and what, never a credential.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

use parking_lot::Mutex;
use serde::Serialize;
use strata_tiers::clock::now_nanos;

use super::identity::Identity;

/// Events the ring keeps (the reference's size).
pub const RING_CAPACITY: usize = 10_000;

/// Longest detail kept; longer ones (a whole SQL text) are cut.
const MAX_DETAIL: usize = 512;

/// One audited event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// When, in nanoseconds since the epoch.
    pub ts: i64,
    /// Who: key id, token subject, or `anonymous`.
    pub subject: String,
    /// Their role.
    pub role: String,
    /// What they asked (`POST /`, `DELETE /admin/keys/{id}`).
    pub action: String,
    /// What happened (`apikey-auth`, `sql-ADMIN-forbidden`, `ddl: CREATE TABLE t`).
    pub detail: String,
    /// The client's address (empty when unknown).
    pub from: String,
}

impl Event {
    /// An event now.
    pub fn new(identity: &Identity, action: &str, detail: String, from: Option<IpAddr>) -> Self {
        Event::anonymous(
            &identity.subject,
            identity.role.as_str(),
            action,
            detail,
            from,
        )
    }

    /// An event for a caller not (yet) identified.
    pub fn anonymous(
        subject: &str,
        role: &str,
        action: &str,
        mut detail: String,
        from: Option<IpAddr>,
    ) -> Self {
        if detail.len() > MAX_DETAIL {
            let mut cut = MAX_DETAIL;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push('…');
        }
        Event {
            ts: now_nanos(),
            subject: subject.to_string(),
            role: role.to_string(),
            action: action.to_string(),
            detail,
            from: from.map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}

/// The ring and the optional file.
#[derive(Debug)]
pub struct Audit {
    ring: Mutex<VecDeque<Event>>,
    capacity: usize,
    file: Option<Mutex<File>>,
}

impl Audit {
    /// A log keeping `capacity` events, appending to `file` when given.
    pub fn new(capacity: usize, file: Option<File>) -> Self {
        Audit {
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity: capacity.max(1),
            file: file.map(Mutex::new),
        }
    }

    /// A log appending to `path` (created with mode 0600 if missing).
    pub fn with_file(capacity: usize, path: &Path) -> std::io::Result<Self> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(Audit::new(capacity, Some(options.open(path)?)))
    }

    /// Records one event. A failing file write is logged, never fails the request.
    pub fn record(&self, event: Event) {
        if let Some(file) = &self.file {
            match serde_json::to_vec(&event) {
                Ok(mut line) => {
                    line.push(b'\n');
                    if let Err(e) = file.lock().write_all(&line) {
                        tracing::warn!("cannot append to the audit log file: {e}");
                    }
                }
                Err(e) => tracing::warn!("cannot encode an audit event: {e}"),
            }
        }
        let mut ring = self.ring.lock();
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(event);
    }

    /// The newest `n` events, oldest first.
    pub fn recent(&self, n: usize) -> Vec<Event> {
        let ring = self.ring.lock();
        ring.iter()
            .skip(ring.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail: &str) -> Event {
        Event::anonymous("s", "reader", "POST /", detail.to_string(), None)
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let audit = Audit::new(3, None);
        for d in ["a", "b", "c", "d"] {
            audit.record(event(d));
        }
        let details: Vec<_> = audit.recent(10).into_iter().map(|e| e.detail).collect();
        assert_eq!(details, ["b", "c", "d"]);
        let last: Vec<_> = audit.recent(2).into_iter().map(|e| e.detail).collect();
        assert_eq!(last, ["c", "d"]);
        assert!(audit.recent(0).is_empty());
    }

    #[test]
    fn the_file_gets_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let audit = Audit::with_file(4, &path).unwrap();
        audit.record(event("quote \" and\nnewline"));
        audit.record(event(&"x".repeat(2000)));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(
            lines.len(),
            2,
            "one line per event, control characters escaped"
        );
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["detail"], "quote \" and\nnewline");
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert!(second["detail"].as_str().unwrap().len() <= MAX_DETAIL + 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
    }
}
