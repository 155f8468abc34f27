//! Bounded fuzzing of every input surface against a real server: mutated SQL from a corpus of
//! every statement family, random JSON for `/api/ai/*`, corrupted Arrow IPC for
//! `/insert/arrow`, odd methods, paths and headers. No answer may be a 5xx, no connection may
//! drop, the server must stay up, and no refused request may change any data.
//!
//! One file per surface (`sql`, `memory_json`, `ipc_bodies`, `odd_requests`, `credentials`,
//! `clickhouse`); this one holds what they share: the generator, the probe that checks each
//! answer, and the snapshots compared before and after.
//!
//! Deterministic (a fixed-seed generator, so a failure reproduces; `STRATA_FUZZ_SEED=n` explores
//! other inputs), bounded by count and time (`STRATA_FUZZ_SECONDS`, default 20 per surface).

use std::time::{Duration, Instant};

use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Client, TestServer, ticks_server_with};

mod clickhouse;
mod credentials;
mod ipc_bodies;
mod memory_json;
mod odd_requests;
mod sql;

/// A small xorshift generator: no dependency, same sequence every run.
struct Rng(u64);

impl Rng {
    /// A generator for one surface: `seed`, or it mixed with `STRATA_FUZZ_SEED` to explore other
    /// inputs locally (the seed is printed so that a failure reproduces).
    fn seeded(seed: u64) -> Self {
        let extra = std::env::var("STRATA_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let seed = seed ^ extra.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        eprintln!("fuzz: seed {seed:#x} (STRATA_FUZZ_SEED={extra})");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// How long each surface is fuzzed.
fn budget() -> Duration {
    let secs = std::env::var("STRATA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// What the data looks like: every table with its rows, the columns and a checksum of `ticks`,
/// and the Agent Memory counts. (A fuzzed statement may legitimately drop `ticks`: then the
/// answers are that error, compared the same way.)
async fn snapshot(c: &Client) -> Value {
    let mut parts = Vec::new();
    for q in [
        "SHOW TABLES",
        "DESCRIBE ticks",
        "SELECT count(*), sum(price), sum(volume), min(timestamp), max(timestamp), count(DISTINCT symbol) FROM ticks",
    ] {
        let (status, body) = c.sql(q).await;
        parts.push(json!([status.as_u16(), body["data"], body["error"]]));
    }
    let ai = c.get("/api/ai/stats").await.json();
    parts.push(json!([ai["memory_count"], ai["cache_count"]]));
    Value::Array(parts)
}

/// A `ticks` server whose background loop never runs during a test (no TTL expiry or flush
/// between a request and the snapshot after it).
async fn quiet_ticks_server() -> (TestServer, Client) {
    ticks_server_with(&["--flush-interval-ms", "3600000"]).await
}

/// Sends one request and checks the answer; returns whether it was refused (4xx). A 5xx fails
/// the test with the request and the end of the server's log.
async fn probe(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    what: &str,
) -> bool {
    let Some(reply) = server
        .client()
        .try_request(method, path, headers, body)
        .await
    else {
        let log = server.log();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!(
            "{what}: no answer (connection dropped)\nserver log (last lines, newest first):\n{}",
            tail.join("\n")
        );
    };
    if reply.status.is_server_error() {
        let log = server.log();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!(
            "{what}: {} {}\nserver log (last lines, newest first):\n{}",
            reply.status,
            String::from_utf8_lossy(&reply.body),
            tail.join("\n")
        );
    }
    reply.status.is_client_error()
}

/// Fails if the server panicked anywhere, even where the panic was caught and answered.
fn assert_no_panic(server: &TestServer) {
    let log = server.log();
    let panics: Vec<&str> = log.lines().filter(|l| l.contains("panicked at")).collect();
    assert!(
        panics.is_empty(),
        "the server panicked:\n{}",
        panics.join("\n")
    );
}

/// `piece` inserted into `items` at `at`.
fn insert_at<T>(items: &mut Vec<T>, at: usize, piece: Vec<T>) {
    let tail = items.split_off(at);
    items.extend(piece);
    items.extend(tail);
}

/// The rows of `trades`, to compare before and after.
async fn snapshot_trades(c: &Client) -> Value {
    json!({"rows": c.rows("SELECT count(*), sum(price) FROM trades").await})
}
