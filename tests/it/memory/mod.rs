//! Agent Memory over HTTP, kept in memory: every endpoint, the ranking and retention formulas,
//! context assembly, the prompt cache, eviction, tenant rules and validation.

/// Validation errors, the prompt cache, capacity and TTL eviction, stats and metrics.
mod limits;
/// Store, get, delete, search ranking and filters, context assembly, tenant rules.
mod records;

use serde_json::Value;

use crate::common::Client;

pub(super) const HOUR: i64 = 3_600_000_000_000;

pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

pub(super) async fn store(c: &Client, body: Value) -> Value {
    c.post_ok("/api/ai/memories", body).await
}

pub(super) async fn search(c: &Client, body: Value) -> Vec<Value> {
    let r = c.post_ok("/api/ai/memories/search", body).await;
    assert_eq!(r["rows"], r["matches"].as_array().unwrap().len(), "{r}");
    r["matches"].as_array().unwrap().clone()
}

pub(super) fn ids(matches: &[Value]) -> Vec<&str> {
    matches
        .iter()
        .map(|m| m["memory_id"].as_str().unwrap())
        .collect()
}

pub(super) fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 1e-4
}
