//! Memories: store, get, delete, ranked search with filters, context, tenant scoping.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{HOUR, close, ids, now, search, store};
use crate::common::TestServer;

#[tokio::test]
async fn store_get_and_delete() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let r = store(&c, json!({"content": "first", "embedding": [1, 0, 0]})).await;
    assert_eq!(r, json!({"ok": true, "memory_id": "mem_1"}));
    let full = json!({
        "memory_id": "m-full", "tenant_id": "t", "namespace": "agent", "user_id": "u",
        "session_id": "s", "agent_id": "planner", "type": "preference",
        "content": "User prefers concise answers.", "metadata_json": "{\"source\":\"profile\"}",
        "embedding": [0.5, 0.5, 0.0], "token_count": 5, "importance": 2.5,
        "created_at_ns": 7, "expires_at_ns": 0, "pinned": true
    });
    assert_eq!(store(&c, full.clone()).await["memory_id"], "m-full");
    let (status, got) = c
        .json(
            Method::GET,
            "/api/ai/memories/m-full?tenant_id=t&namespace=agent",
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["found"], true);
    let m = &got["memory"];
    for field in [
        "tenant_id",
        "namespace",
        "user_id",
        "session_id",
        "agent_id",
        "type",
        "content",
        "metadata_json",
        "token_count",
        "importance",
        "created_at_ns",
        "pinned",
        "embedding",
    ] {
        assert_eq!(m[field], full[field], "{field}");
    }
    assert_eq!(m["access_count"], 0);
    // Wrong tenant or namespace: not found; no namespace given: found.
    for path in [
        "/api/ai/memories/m-full?tenant_id=other",
        "/api/ai/memories/m-full?namespace=default",
    ] {
        let (status, body) = c.json(Method::GET, path, None, &[]).await;
        assert_eq!(
            (status, &body["found"]),
            (StatusCode::NOT_FOUND, &json!(false)),
            "{path}"
        );
    }
    assert_eq!(
        c.json(Method::GET, "/api/ai/memories/m-full", None, &[])
            .await
            .0,
        StatusCode::OK
    );
    // An update keeps one record.
    store(
        &c,
        json!({"memory_id": "m-full", "tenant_id": "t", "content": "changed"}),
    )
    .await;
    let (_, got) = c
        .json(Method::GET, "/api/ai/memories/m-full", None, &[])
        .await;
    assert_eq!(got["memory"]["content"], "changed");
    assert_eq!(got["memory"]["namespace"], "default");
    let (status, body) = c
        .json(
            Method::DELETE,
            "/api/ai/memories/m-full?tenant_id=t",
            None,
            &[],
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"ok": true, "memory_id": "m-full"}))
    );
    let (status, body) = c
        .json(Method::DELETE, "/api/ai/memories/m-full", None, &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("m-full"), "{body}");
    // Generated ids never reuse a taken one.
    store(&c, json!({"memory_id": "mem_2", "content": "x"})).await;
    assert_eq!(
        store(&c, json!({"content": "y"})).await["memory_id"],
        "mem_3"
    );
}

#[tokio::test]
async fn search_ranks_by_the_reference_score() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let t = now();
    for body in [
        json!({"memory_id": "a", "tenant_id": "t1", "content": "a", "embedding": [1, 0], "created_at_ns": 1}),
        json!({"memory_id": "b", "tenant_id": "t1", "content": "b", "embedding": [0, 1], "importance": 3, "pinned": true, "created_at_ns": 1}),
        json!({"memory_id": "c", "tenant_id": "t1", "content": "c", "embedding": [0.6, 0.8], "created_at_ns": 1}),
        // One hour old: recency 1/(1+1) = 0.5.
        json!({"memory_id": "d", "tenant_id": "t1", "content": "d", "embedding": [0, -1], "created_at_ns": t - HOUR}),
        json!({"memory_id": "e", "tenant_id": "t2", "content": "e", "embedding": [1, 0]}),
    ] {
        store(&c, body).await;
    }
    let q = json!({"tenant_id": "t1", "query_embedding": [2, 0], "limit": 10});
    let m = search(&c, q.clone()).await;
    assert_eq!(ids(&m), ["a", "b", "c", "d"]);
    for (hit, (score, sim)) in m
        .iter()
        .zip([(10.0, 1.0), (8.0, 0.0), (6.0, 0.6), (0.5, 0.0)])
    {
        assert!(
            close(&hit["score"], score) && close(&hit["similarity"], sim),
            "{hit}"
        );
    }
    // Every returned memory counted one access: +0.01 each time.
    let m = search(&c, q.clone()).await;
    assert!(close(&m[0]["score"], 10.01), "{}", m[0]);
    assert_eq!(m[0]["access_count"], 2);
    // No query vector: importance, pinning, recency and accesses only.
    let m = search(&c, json!({"tenant_id": "t1", "limit": 2})).await;
    assert_eq!(ids(&m), ["b", "d"]);
    // Limit, empty tenant = every tenant, limit 0.
    assert_eq!(
        search(
            &c,
            json!({"tenant_id": "t1", "query_embedding": [1, 0], "limit": 1})
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        search(&c, json!({"query_embedding": [1, 0]})).await.len(),
        5
    );
    assert!(
        search(&c, json!({"tenant_id": "t1", "limit": 0}))
            .await
            .is_empty()
    );
    // Ties: newer first.
    for (id, created) in [("old", 10), ("new", 20)] {
        store(
            &c,
            json!({"memory_id": id, "tenant_id": "tie", "content": id, "created_at_ns": created}),
        )
        .await;
    }
    assert_eq!(
        ids(&search(&c, json!({"tenant_id": "tie"})).await),
        ["new", "old"]
    );
}

#[tokio::test]
async fn search_filters_scopes_and_expiry() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let t = now();
    for (id, user, session, agent, kind, ns, expires) in [
        ("m1", "u1", "s1", "a1", "fact", "default", 0),
        ("m2", "u2", "s1", "a1", "fact", "default", 0),
        ("m3", "u1", "s2", "a2", "preference", "default", 0),
        ("m4", "u1", "s1", "a1", "fact", "other", 0),
        ("m5", "u1", "s1", "a1", "fact", "default", t + 3600 * HOUR),
        ("m6", "u1", "s1", "a1", "fact", "default", t - 1),
    ] {
        store(&c, json!({"memory_id": id, "tenant_id": "t", "user_id": user, "session_id": session,
            "agent_id": agent, "type": kind, "namespace": ns, "content": id, "expires_at_ns": expires})).await;
    }
    let q = |extra: Value| {
        let mut body = json!({"tenant_id": "t"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let sorted = |mut v: Vec<&str>| {
        v.sort();
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    // m6 expired (and was evicted by the next write); m4 is in another namespace.
    assert_eq!(
        sorted(ids(&search(&c, q(json!({}))).await)),
        ["m1", "m2", "m3", "m5"]
    );
    assert_eq!(
        sorted(ids(&search(&c, q(json!({"user_id": "u1"}))).await)),
        ["m1", "m3", "m5"]
    );
    assert_eq!(
        sorted(ids(&search(&c, q(json!({"session_id": "s2"}))).await)),
        ["m3"]
    );
    assert_eq!(
        sorted(ids(&search(
            &c,
            q(json!({"agent_id": "a1", "type": "fact", "user_id": "u2"}))
        )
        .await)),
        ["m2"]
    );
    assert_eq!(
        sorted(ids(&search(&c, q(json!({"namespace": "other"}))).await)),
        ["m4"]
    );
    assert!(search(&c, q(json!({"user_id": "nobody"}))).await.is_empty());
}

#[tokio::test]
async fn context_dedupes_and_fits_the_budget_greedily() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    for (id, content, tokens, importance) in [
        ("big", "big", 100, 5.0),
        ("dup1", "same text", 4, 4.0),
        ("dup2", "same text", 4, 3.0),
        ("small", "small", 5, 2.0),
        // No token count: ceil(11 bytes / 4) = 3.
        ("est", "eleven char", 0, 1.0),
    ] {
        store(
            &c,
            json!({"memory_id": id, "tenant_id": "t", "content": content,
            "token_count": tokens, "importance": importance, "created_at_ns": 1}),
        )
        .await;
    }
    let ctx = |budget: i64| json!({"tenant_id": "t", "token_budget": budget, "limit": 10});
    let r = c.post_ok("/api/ai/context", ctx(10)).await;
    assert_eq!(
        ids(r["memories"].as_array().unwrap()),
        ["dup1", "small"],
        "{r}"
    );
    assert_eq!(
        (r["token_count"].as_i64(), r["rows"].as_i64()),
        (Some(9), Some(2))
    );
    let r = c.post_ok("/api/ai/context", ctx(0)).await;
    assert_eq!(
        ids(r["memories"].as_array().unwrap()),
        ["big", "dup1", "small", "est"]
    );
    assert_eq!(r["token_count"], 112);
    let r = c.post_ok("/api/ai/context", ctx(-1)).await;
    assert_eq!(r, json!({"memories": [], "token_count": 0, "rows": 0}));
}

#[tokio::test]
async fn tenant_header_scopes_every_request() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let h = [("X-Zepto-Tenant-Id", "acme")];
    let (status, r) = c
        .json(
            Method::POST,
            "/api/ai/memories",
            Some(&json!({"memory_id": "x", "content": "acme's"})),
            &h,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    store(
        &c,
        json!({"memory_id": "y", "tenant_id": "other", "content": "other's"}),
    )
    .await;
    // The header's tenant sees only its own; without a tenant every tenant is searched.
    let (_, r) = c
        .json(
            Method::POST,
            "/api/ai/memories/search",
            Some(&json!({})),
            &h,
        )
        .await;
    assert_eq!(ids(r["matches"].as_array().unwrap()), ["x"]);
    assert_eq!(search(&c, json!({})).await.len(), 2);
    // Header and body must agree.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/ai/memories",
            Some(json!({"tenant_id": "other", "content": "z"})),
        ),
        (
            Method::POST,
            "/api/ai/memories/search",
            Some(json!({"tenant_id": "other"})),
        ),
        (
            Method::POST,
            "/api/ai/cache/lookup",
            Some(json!({"tenant_id": "other", "prompt": "p"})),
        ),
        (Method::GET, "/api/ai/memories/y?tenant_id=other", None),
    ] {
        let (status, r) = c.json(method, path, body.as_ref(), &h).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {r}");
        assert_eq!(r["error"], "Tenant header does not match request tenant_id");
    }
    // Another tenant's memory: invisible, and its id cannot be taken over.
    let (status, _) = c.json(Method::GET, "/api/ai/memories/y", None, &h).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = c.json(Method::DELETE, "/api/ai/memories/y", None, &h).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, r) = c
        .json(
            Method::POST,
            "/api/ai/memories",
            Some(&json!({"memory_id": "y", "content": "mine"})),
            &h,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        r["error"].as_str().unwrap().contains("another tenant"),
        "{r}"
    );
    let (_, r) = c.json(Method::GET, "/api/ai/memories/y", None, &[]).await;
    assert_eq!(r["memory"]["content"], "other's");
}
