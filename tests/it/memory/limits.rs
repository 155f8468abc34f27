//! Refused requests, the prompt cache, eviction, and the figures Agent Memory reports.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{close, ids, now, search, store};
use crate::common::TestServer;

#[tokio::test]
async fn bad_requests_are_refused_with_a_reason_and_change_nothing() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    store(
        &c,
        json!({"memory_id": "keep", "content": "k", "embedding": [1, 0]}),
    )
    .await;
    let raw = |body: &'static str| body.as_bytes().to_vec();
    for (path, body, says) in [
        ("/api/ai/memories", raw(""), "empty"),
        ("/api/ai/memories", raw("{not json"), "not valid JSON"),
        ("/api/ai/memories", raw("[1,2]"), "JSON object"),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","embedding":"oops"}"#),
            "Field 'embedding' must be an array",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","embedding":[1,"a"]}"#),
            "element 1",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","embedding":[1e39,0]}"#),
            "finite",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","embedding":[NaN,0]}"#),
            "not valid JSON",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","embedding":[1,0,0]}"#),
            "embedding dimension mismatch: expected 2, got 3",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","token_count":-1}"#),
            "token_count must be non-negative",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","token_count":1.5}"#),
            "whole number",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","importance":"high"}"#),
            "Field 'importance' must be a number",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","pinned":1}"#),
            "true or false",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","metadata_json":"{bad"}"#),
            "metadata_json",
        ),
        (
            "/api/ai/memories",
            raw(r#"{"content":"x","colour":"red"}"#),
            "Unknown field 'colour'",
        ),
        (
            "/api/ai/memories/search",
            raw(r#"{"limit":-1}"#),
            "limit must be non-negative",
        ),
        (
            "/api/ai/memories/search",
            raw(r#"{"query_embedding":[1,2,3]}"#),
            "query_embedding dimension mismatch",
        ),
        (
            "/api/ai/context",
            raw(r#"{"token_budget":"all"}"#),
            "token_budget",
        ),
        (
            "/api/ai/cache/store",
            raw(r#"{"prompt":"p"}"#),
            "response is required",
        ),
        (
            "/api/ai/cache/store",
            raw(r#"{"response":"r"}"#),
            "prompt is required",
        ),
        ("/api/ai/cache/lookup", raw(r#"{}"#), "prompt is required"),
        (
            "/api/ai/cache/lookup",
            raw(r#"{"prompt":"p","semantic_threshold":2}"#),
            "semantic_threshold",
        ),
    ] {
        let r = c
            .request(
                Method::POST,
                path,
                &[("content-type", "application/json")],
                body.clone(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {}",
            String::from_utf8_lossy(&body)
        );
        let msg = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(
            msg.contains(says),
            "{path} {}: {msg}",
            String::from_utf8_lossy(&body)
        );
    }
    for path in [
        "/api/ai/cache?tenant_id=t",
        "/api/ai/cache?prompt=p&colour=red",
    ] {
        let (status, _) = c.json(Method::DELETE, path, None, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    let (status, r) = c
        .json(Method::GET, "/api/ai/stats?scope=global", None, &[])
        .await;
    assert_eq!(
        (status, r["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("scope must be local or cluster")
        )
    );
    let (_, stats) = c.json(Method::GET, "/api/ai/stats", None, &[]).await;
    assert_eq!(
        (
            stats["memory_count"].as_u64(),
            stats["cache_count"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(stats["embedding_dim"], 2);
}

#[tokio::test]
async fn prompt_cache_exact_semantic_and_delete() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let r = c
        .post_ok(
            "/api/ai/cache/store",
            json!({"tenant_id": "t", "namespace": "n",
            "prompt": "Summarize the latest task", "response": "Short summary", "embedding": [1, 0],
            "token_count": 12}),
        )
        .await;
    assert_eq!(r, json!({"ok": true, "cache_id": "cache_1"}));
    let lookup = |body: Value| c.post_ok("/api/ai/cache/lookup", body);
    let r = lookup(
        json!({"tenant_id": "t", "namespace": "n", "prompt": "  summarize\tTHE   latest task "}),
    )
    .await;
    assert_eq!(
        (r["hit"].as_bool(), r["kind"].as_str()),
        (Some(true), Some("exact"))
    );
    assert_eq!(
        (r["score"].as_f64(), r["entry"]["response"].as_str()),
        (Some(1.0), Some("Short summary"))
    );
    assert_eq!(r["entry"]["access_count"], 1);
    let r = lookup(
        json!({"tenant_id": "t", "namespace": "n", "prompt": "recap", "embedding": [0.96, 0.28]}),
    )
    .await;
    assert_eq!(r["kind"], "semantic");
    assert!(close(&r["score"], 0.96), "{r}");
    let miss = json!({"hit": false});
    assert_eq!(lookup(json!({"tenant_id": "t", "namespace": "n", "prompt": "recap", "embedding": [0.96, 0.28], "semantic_threshold": 0.97})).await, miss);
    // Below the default 0.92: cos = 0.9.
    assert_eq!(lookup(json!({"tenant_id": "t", "namespace": "n", "prompt": "recap", "embedding": [0.9, 0.43589]})).await, miss);
    assert_eq!(lookup(json!({"tenant_id": "u", "namespace": "n", "prompt": "Summarize the latest task", "embedding": [1, 0]})).await, miss);
    assert_eq!(
        lookup(json!({"tenant_id": "t", "prompt": "Summarize the latest task"})).await,
        miss,
        "namespace scopes too"
    );
    // Same prompt again: replaced, same id.
    let r = c
        .post_ok("/api/ai/cache/store", json!({"tenant_id": "t", "namespace": "n", "prompt": "SUMMARIZE the latest task", "response": "v2"}))
        .await;
    assert_eq!(r["cache_id"], "cache_1");
    let r =
        lookup(json!({"tenant_id": "t", "namespace": "n", "prompt": "summarize the latest task"}))
            .await;
    assert_eq!(r["entry"]["response"], "v2");
    let path = "/api/ai/cache?tenant_id=t&namespace=n&prompt=summarize%20the%20LATEST%20task";
    let (status, r) = c.json(Method::DELETE, path, None, &[]).await;
    assert_eq!(
        (status, r),
        (StatusCode::OK, json!({"ok": true, "cache_id": "cache_1"}))
    );
    assert_eq!(
        c.json(Method::DELETE, path, None, &[]).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn capacity_and_ttl_eviction() {
    let server = TestServer::start(&[
        "--agent-memory-max-memories",
        "2",
        "--agent-memory-max-cache-entries",
        "1",
    ])
    .await;
    let c = server.client();
    store(
        &c,
        json!({"memory_id": "pinned", "content": "p", "pinned": true}),
    )
    .await;
    store(
        &c,
        json!({"memory_id": "important", "content": "i", "importance": 5}),
    )
    .await;
    // Over capacity: the lowest retention goes, and that is the memory just written.
    let r = store(&c, json!({"memory_id": "weak", "content": "w"})).await;
    assert_eq!(r, json!({"ok": true, "memory_id": "weak", "evicted": true}));
    // The next write evicts the unpinned "important"; pinned memories are protected, so with
    // only pinned ones left the count may exceed the cap.
    store(
        &c,
        json!({"memory_id": "pinned2", "content": "p2", "pinned": true}),
    )
    .await;
    store(
        &c,
        json!({"memory_id": "pinned3", "content": "p3", "pinned": true}),
    )
    .await;
    let mut left = ids(&search(&c, json!({})).await)
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    left.sort();
    assert_eq!(left, ["pinned", "pinned2", "pinned3"]);
    // TTL: an expired memory goes at the next write, pinned or not.
    store(&c, json!({"memory_id": "brief", "content": "b", "pinned": true, "expires_at_ns": now() + 50_000_000})).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while search(&c, json!({}))
        .await
        .iter()
        .any(|m| m["memory_id"] == "brief")
    {
        assert!(std::time::Instant::now() < deadline, "brief never expired");
        tokio::task::yield_now().await;
    }
    store(
        &c,
        json!({"memory_id": "trigger", "content": "t", "pinned": true}),
    )
    .await;
    let (status, _) = c
        .json(Method::GET, "/api/ai/memories/brief", None, &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Cache: one entry kept; the new one displaces the older, less used one.
    c.post_ok(
        "/api/ai/cache/store",
        json!({"prompt": "one", "response": "1", "created_at_ns": 1}),
    )
    .await;
    c.post_ok(
        "/api/ai/cache/store",
        json!({"prompt": "two", "response": "2"}),
    )
    .await;
    assert_eq!(
        c.post_ok("/api/ai/cache/lookup", json!({"prompt": "one"}))
            .await["hit"],
        false
    );
    assert_eq!(
        c.post_ok("/api/ai/cache/lookup", json!({"prompt": "two"}))
            .await["hit"],
        true
    );
    let (_, stats) = c.json(Method::GET, "/api/ai/stats", None, &[]).await;
    assert_eq!(stats["evicted_memory_count"], 3, "{stats}");
    assert_eq!(stats["evicted_cache_count"], 1, "{stats}");
    assert_eq!(stats["eviction_config"]["max_memories"], 2);
}

#[tokio::test]
async fn stats_and_metrics_report_figures_not_content() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    store(&c, json!({"content": "very secret memory", "embedding": [1, 2, 3], "metadata_json": "{\"k\":\"secret-meta\"}"})).await;
    c.post_ok(
        "/api/ai/cache/store",
        json!({"prompt": "secret prompt", "response": "secret answer"}),
    )
    .await;
    let (status, stats) = c
        .json(Method::GET, "/api/ai/stats?scope=local", None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!stats.to_string().contains("secret"), "{stats}");
    assert_eq!(
        (
            stats["memory_count"].as_u64(),
            stats["cache_count"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(stats["embedding_dim"], 3);
    assert_eq!(stats["ann"]["mode"], "off");
    assert_eq!(stats["persistence"]["enabled"], false);
    let text = String::from_utf8(c.get("/metrics").await.body).unwrap();
    for line in [
        "zepto_agent_memory_records 1",
        "zepto_agent_cache_entries 1",
        "zepto_agent_memory_embedding_dim 3",
        "zepto_agent_memory_evictions_total 0",
        "zepto_agent_memory_ann_searches_total 0",
    ] {
        assert!(text.contains(line), "missing {line}");
    }
    assert!(!text.contains("secret"));
}
