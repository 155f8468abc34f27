//! Token buckets per key (identity or client address): `rpm` tokens a minute refill
//! continuously up to `burst`; each request takes one.
//!
//! The map stays bounded: a bucket that has refilled to `burst` is the same as no bucket, so
//! such buckets are dropped whenever the map is full. If it is still full (more distinct
//! clients active at once than `max_keys`), a new client is refused until buckets refill:
//! the limiter never forgets a client that is being limited.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Buckets kept at most, per limiter (the reference's bound).
pub const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One limiter.
#[derive(Debug)]
pub struct RateLimiter<K> {
    per_second: f64,
    burst: f64,
    max_keys: usize,
    state: Mutex<State<K>>,
}

#[derive(Debug)]
struct State<K> {
    buckets: HashMap<K, Bucket>,
    pruned_at: Option<Instant>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter of `rpm` requests a minute with bursts of `burst`; `None` when `rpm` is 0
    /// (limiting off).
    pub fn new(rpm: u32, burst: u32, max_keys: usize) -> Option<Self> {
        (rpm > 0).then(|| RateLimiter {
            per_second: f64::from(rpm) / 60.0,
            burst: f64::from(burst.max(1)),
            max_keys: max_keys.max(1),
            state: Mutex::new(State {
                buckets: HashMap::new(),
                pruned_at: None,
            }),
        })
    }

    /// Takes a token from `key`'s bucket, or says how long until one is there.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock();
        if !state.buckets.contains_key(key) && state.buckets.len() >= self.max_keys {
            self.prune(&mut state, now);
            if state.buckets.len() >= self.max_keys {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = state.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }

    /// Buckets held now.
    pub fn len(&self) -> usize {
        self.state.lock().buckets.len()
    }

    /// Whether no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every bucket that has refilled (at most once a second: a full map under a flood
    /// of new clients must not cost a scan per request).
    fn prune(&self, state: &mut State<K>, now: Instant) {
        if state
            .pruned_at
            .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        state.pruned_at = Some(now);
        let (per_second, burst) = (self.per_second, self.burst);
        state.buckets.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < burst
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let limiter = RateLimiter::new(60, 2, 10).unwrap();
        let t0 = Instant::now();
        assert!(limiter.check(&"k", t0).is_ok());
        assert!(limiter.check(&"k", t0).is_ok());
        let wait = limiter.check(&"k", t0).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limiter.check(&"other", t0).is_ok(), "keys are independent");
        assert!(
            limiter
                .check(&"k", t0 + Duration::from_millis(500))
                .is_err()
        );
        assert!(
            limiter
                .check(&"k", t0 + Duration::from_millis(1600))
                .is_ok()
        );
    }

    #[test]
    fn zero_disables() {
        assert!(RateLimiter::<String>::new(0, 10, 10).is_none());
    }

    #[test]
    fn the_map_stays_bounded() {
        let limiter = RateLimiter::new(60, 1, 100).unwrap();
        let t0 = Instant::now();
        for i in 0..100 {
            limiter.check(&i, t0).unwrap();
        }
        // Every bucket is empty: a new client waits rather than evicting a limited one.
        assert!(limiter.check(&1000, t0).is_err());
        assert_eq!(limiter.len(), 100);
        // Once they have refilled they are dropped to make room.
        let later = t0 + Duration::from_secs(2);
        assert!(limiter.check(&1000, later).is_ok());
        assert!(limiter.len() <= 100);
        for i in 2000..12_000 {
            let _ = limiter.check(&i, later + Duration::from_secs(i as u64));
        }
        assert!(limiter.len() <= 100);
    }
}
