//! The clients seen recently (`GET /admin/sessions`, kdb+'s `.z.po`): one entry per client
//! address and identity, with when it was first and last seen and how many requests it made.
//! Bounded: entries idle for an hour go, and past [`MAX_CLIENTS`] the longest idle go first.

use std::collections::HashMap;
use std::net::IpAddr;

use parking_lot::Mutex;
use serde::Serialize;
use strata_tiers::clock::now_nanos;

/// Entries kept at most.
pub const MAX_CLIENTS: usize = 10_000;
const IDLE_NANOS: i64 = 3_600 * 1_000_000_000;

/// One client.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Client {
    /// Its address (empty when unknown).
    pub remote_addr: String,
    /// The identity it authenticated as.
    pub user: String,
    /// First request, ns since the epoch.
    pub connected_at_ns: i64,
    /// Latest request, ns since the epoch.
    pub last_active_ns: i64,
    /// Requests made.
    pub query_count: u64,
}

/// The tracker.
#[derive(Debug, Default)]
pub struct Clients {
    map: Mutex<HashMap<(Option<IpAddr>, String), Client>>,
}

impl Clients {
    /// Notes a request from `from` as `user`.
    pub fn seen(&self, from: Option<IpAddr>, user: &str) {
        let now = now_nanos();
        let mut map = self.map.lock();
        if let Some(c) = map.get_mut(&(from, user.to_string())) {
            c.last_active_ns = now;
            c.query_count += 1;
            return;
        }
        if map.len() >= MAX_CLIENTS {
            map.retain(|_, c| now - c.last_active_ns < IDLE_NANOS);
            if map.len() >= MAX_CLIENTS
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, c)| c.last_active_ns)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            (from, user.to_string()),
            Client {
                remote_addr: from.map(|a| a.to_string()).unwrap_or_default(),
                user: user.to_string(),
                connected_at_ns: now,
                last_active_ns: now,
                query_count: 1,
            },
        );
    }

    /// Every client active within the last hour, most recent first.
    pub fn list(&self) -> Vec<Client> {
        let now = now_nanos();
        let mut all: Vec<Client> = self
            .map
            .lock()
            .values()
            .filter(|c| now - c.last_active_ns < IDLE_NANOS)
            .cloned()
            .collect();
        all.sort_by_key(|c| std::cmp::Reverse(c.last_active_ns));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_and_user() {
        let clients = Clients::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        clients.seen(Some(a), "ak_1");
        clients.seen(Some(a), "ak_1");
        clients.seen(Some(a), "ak_2");
        let list = clients.list();
        assert_eq!(list.len(), 2);
        let one = list.iter().find(|c| c.user == "ak_1").unwrap();
        assert_eq!((one.query_count, one.remote_addr.as_str()), (2, "10.0.0.1"));
        for i in 0..(MAX_CLIENTS + 10) {
            clients.seen(None, &format!("u{i}"));
        }
        assert!(clients.map.lock().len() <= MAX_CLIENTS);
    }
}
