//! Random JSON for the Agent Memory API (`/api/ai/*`).

use super::*;

/// A random JSON value, nested at most `depth` deep, often of the field types the API uses.
fn random_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.pick(&[
            0i64,
            -1,
            1,
            7,
            i64::MAX,
            i64::MIN,
            1_711_231_200_000_000_000
        ])),
        3 => json!(rng.pick(&[0.5f64, -0.0, 1e308, -1e-300, 3.25])),
        4 => json!(rng.pick(&["", "a", "default", "x'y", "🦀", "{}", "{\"k\":1}", "{oops"])),
        5 => json!(
            (0..rng.below(5))
                .map(|i| i as f64 * 0.5)
                .collect::<Vec<_>>()
        ),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(5) {
                let key = rng.pick(FIELD_NAMES).to_string();
                map.insert(key, random_json(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

const FIELD_NAMES: &[&str] = &[
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "content",
    "metadata_json",
    "embedding",
    "query_embedding",
    "token_count",
    "importance",
    "created_at_ns",
    "expires_at_ns",
    "pinned",
    "memory_id",
    "limit",
    "token_budget",
    "prompt",
    "response",
    "semantic_threshold",
    "bogus",
];

const AI_POSTS: &[&str] = &[
    "/api/ai/memories",
    "/api/ai/memories/search",
    "/api/ai/context",
    "/api/ai/cache/store",
    "/api/ai/cache/lookup",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_json_for_agent_memory_never_fails_on_our_side() {
    let (server, c) = quiet_ticks_server().await;
    // A store with a dimension, so mismatches are exercised.
    c.post_ok(
        "/api/ai/memories",
        json!({"content": "seed", "embedding": [1.0, 0.0, 0.0, 0.0], "tenant_id": "t"}),
    )
    .await;
    let mut rng = Rng::seeded(0x5eed_0002);
    let mut before = snapshot(&c).await;
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 4000 {
        let path = *rng.pick(AI_POSTS);
        let mut body = random_json(&mut rng, 3);
        if rng.chance(60) {
            // Mostly objects with plausible fields, so validation beyond the JSON shape runs.
            let mut map = serde_json::Map::new();
            for _ in 0..=rng.below(6) {
                map.insert(rng.pick(FIELD_NAMES).to_string(), random_json(&mut rng, 1));
            }
            body = Value::Object(map);
        }
        let mut bytes = body.to_string().into_bytes();
        if rng.chance(10) && !bytes.is_empty() {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        let tenant = *rng.pick(&["", "t", "u", "x y"]);
        let headers: Vec<(&str, &str)> = if tenant.is_empty() {
            vec![]
        } else {
            vec![("X-Zepto-Tenant-Id", tenant)]
        };
        let what = format!("POST {path} {}", String::from_utf8_lossy(&bytes));
        let refused = probe(&server, Method::POST, path, &headers, bytes, &what).await;
        let after = snapshot(&c).await;
        if refused {
            assert_eq!(after, before, "refused request changed data: {what}");
        }
        before = after;
        sent += 1;
    }
    for path in [
        "/api/ai/memories/mem_1?tenant_id=t&x=1",
        "/api/ai/cache?prompt=",
        "/api/ai/stats?scope=moon",
    ] {
        assert!(
            probe(&server, Method::GET, path, &[], vec![], path).await || path.contains("mem_1")
        );
    }
    eprintln!("fuzz: {sent} Agent Memory requests");
    assert_no_panic(&server);
    assert!(sent > 50, "too few requests in the time budget: {sent}");
}
