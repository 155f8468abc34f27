//! Agent Memory persisted as Lance datasets + WAL, on a local directory and on LocalStack S3:
//! restarts and kill -9 lose no acknowledged write, pylance reads what Strata wrote, and
//! approximate search gives the exact search's answers.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::external::lance_reads;
use crate::common::hdb::Hdb;
use crate::common::{Client, TestServer};

/// A test's Agent Memory: at its default place under an HDB (a local directory or an S3
/// bucket), and the root pylance reads.
struct Place {
    hdb: Hdb,
    root: String,
}

impl Place {
    fn local() -> Self {
        Self::under(Hdb::local())
    }

    async fn s3(name: &str) -> Self {
        Self::under(Hdb::s3(name).await)
    }

    fn under(hdb: Hdb) -> Self {
        let root = format!("{}/agent_memory", hdb.root());
        Self { hdb, root }
    }

    async fn start(&self, extra: &[&str]) -> TestServer {
        self.hdb.start(extra).await
    }
}

async fn stats(c: &Client) -> Value {
    let (status, s) = c.json(Method::GET, "/api/ai/stats", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    s
}

async fn get(c: &Client, id: &str) -> Option<Value> {
    let (status, r) = c
        .json(Method::GET, &format!("/api/ai/memories/{id}"), None, &[])
        .await;
    (status == StatusCode::OK).then(|| r["memory"].clone())
}

/// Polls until the WAL holds no uncommitted change.
async fn wait_committed(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = stats(c).await;
        if s["persistence"]["pending_mutations"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "changes never committed: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn memory(i: usize) -> Value {
    json!({"memory_id": format!("m{i}"), "tenant_id": "t", "namespace": "agent",
           "content": format!("memory {i}"), "embedding": [i as f32, 1.0, 0.5],
           "importance": (i % 3) as f64, "created_at_ns": 1_000 + i})
}

/// Writes, deletes, cache entries, then kill -9 at two moments (changes only in the WAL; some
/// committed and some not), a clean stop, and a read by pylance.
async fn survives_restarts_and_crashes(place: Place) {
    // Commits are due every 10 changes: the first crash finds some in Lance, some in the WAL.
    let mut server = place.start(&["--agent-memory-flush-every", "10"]).await;
    let c = server.client();
    for i in 0..25 {
        c.post_ok("/api/ai/memories", memory(i)).await;
    }
    for i in 0..5 {
        let (status, _) = c
            .json(Method::DELETE, &format!("/api/ai/memories/m{i}"), None, &[])
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    c.post_ok("/api/ai/memories", json!({"memory_id": "m7", "tenant_id": "t", "namespace": "agent", "content": "updated", "embedding": [0, 0, 1]})).await;
    c.post_ok("/api/ai/cache/store", json!({"tenant_id": "t", "prompt": "Hello there", "response": "General Kenobi", "embedding": [1, 0, 0]})).await;
    let generated = c
        .post_ok("/api/ai/memories", json!({"content": "auto id"}))
        .await["memory_id"]
        .clone();
    server.kill();

    let mut server = place.start(&["--agent-memory-flush-every", "10"]).await;
    let c = server.client();
    let s = stats(&c).await;
    assert_eq!(
        (s["memory_count"].as_u64(), s["cache_count"].as_u64()),
        (Some(21), Some(1)),
        "{s}"
    );
    assert_eq!(s["embedding_dim"], 3);
    for i in 0..5 {
        assert!(
            get(&c, &format!("m{i}")).await.is_none(),
            "m{i} was deleted"
        );
    }
    assert_eq!(get(&c, "m7").await.unwrap()["content"], "updated");
    assert_eq!(
        get(&c, "m24").await.unwrap()["embedding"],
        json!([24.0, 1.0, 0.5])
    );
    let hit = c
        .post_ok(
            "/api/ai/cache/lookup",
            json!({"tenant_id": "t", "prompt": "hello   THERE"}),
        )
        .await;
    assert_eq!(hit["entry"]["response"], "General Kenobi");
    // Ids generated after a restart do not reuse the one generated before it.
    let next = c
        .post_ok("/api/ai/memories", json!({"content": "another"}))
        .await["memory_id"]
        .clone();
    assert_ne!(next, generated);

    // Everything committed, then a crash: nothing is replayed twice or lost.
    c.post_ok(
        "/api/ai/memories",
        json!({"memory_id": "late", "content": "after commit"}),
    )
    .await;
    server.kill();
    let mut server = place.start(&["--agent-memory-flush-every", "1"]).await;
    let c = server.client();
    wait_committed(&c).await;
    assert_eq!(stats(&c).await["memory_count"], 23);
    assert_eq!(get(&c, "late").await.unwrap()["content"], "after commit");
    // A clean stop commits; pylance sees exactly what Strata serves.
    assert_eq!(server.terminate(), Some(0));
    let read = lance_reads(&place.root, place.hdb.env());
    let lance_ids: Vec<&str> = read["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["memory_id"].as_str().unwrap())
        .collect();
    assert_eq!(lance_ids.len(), 23, "{read}");
    assert!(lance_ids.contains(&"m7") && !lance_ids.contains(&"m0"));
    let m24 = read["memories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["memory_id"] == "m24")
        .unwrap();
    assert_eq!(
        (&m24["content"], &m24["embedding"]),
        (&json!("memory 24"), &json!([24.0, 1.0, 0.5]))
    );
    assert_eq!(read["cache"][0]["response"], "General Kenobi");
    let server = place.start(&[]).await;
    assert_eq!(stats(&server.client()).await["memory_count"], 23);
}

#[tokio::test]
async fn local_dir_survives_restarts_and_crashes() {
    survives_restarts_and_crashes(Place::local()).await;
}

#[tokio::test]
async fn s3_survives_restarts_and_crashes() {
    survives_restarts_and_crashes(Place::s3("agent-memory").await).await;
}

#[tokio::test]
async fn commits_keep_versions_and_fragments_bounded() {
    let place = Place::local();
    let server = place.start(&["--agent-memory-flush-every", "1"]).await;
    let c = server.client();
    for i in 0..60 {
        c.post_ok("/api/ai/memories", memory(i)).await;
        wait_committed(&c).await;
    }
    let s = stats(&c).await;
    let p = &s["persistence"];
    assert!(p["commits"].as_u64().unwrap() >= 30, "{s}");
    assert!(p["memories_fragments"].as_u64().unwrap() <= 17, "{s}");
    let versions =
        std::fs::read_dir(std::path::Path::new(&place.root).join("memories.lance/_versions"))
            .unwrap()
            .count();
    assert!(versions <= 40, "{versions} versions kept");
}

#[tokio::test]
async fn approximate_search_returns_the_exact_answers() {
    let place = Place::local();
    let args = [
        "--agent-memory-ann",
        "on",
        "--agent-memory-flush-every",
        "1",
    ];
    let ann = place.start(&args).await;
    let exact = TestServer::start(&[]).await;
    let (a, e) = (ann.client(), exact.client());
    // 2 000 vectors around 20 centres: enough to train an index.
    let dim = 16;
    // The last term makes every memory's vector its own: equal scores are ranked by storage
    // order, which a restart need not keep.
    let vector = |i: usize, jitter: usize| -> Vec<f32> {
        (0..dim)
            .map(|d| {
                (((i % 20) * 7 + d * 3) % 11) as f32
                    + ((jitter * 31 + d * 17) % 13) as f32 / 50.0
                    + if d == 0 { jitter as f32 * 1e-4 } else { 0.0 }
            })
            .collect()
    };
    // Two namespaces: searches change what they find (accesses), so the restart is checked on
    // memories no search has touched yet.
    let namespace = |i: usize| if i < 1000 { "n" } else { "m" };
    for i in 0..2000 {
        let body = json!({"memory_id": format!("v{i}"), "tenant_id": "t", "namespace": namespace(i),
            "content": format!("v{i}"), "embedding": vector(i, i), "created_at_ns": 1 + i as i64 % 7});
        a.post_ok("/api/ai/memories", body.clone()).await;
        e.post_ok("/api/ai/memories", body).await;
    }
    wait_committed(&a).await;
    wait_indexed(&a, 2000).await;
    let queries = |namespace: &str| -> Vec<Value> {
        (0..20)
            .map(|q| json!({"tenant_id": "t", "namespace": namespace, "query_embedding": vector(q * 3, q + 5000), "limit": 10}))
            .collect()
    };
    same_answers(&a, &e, &queries("n")).await;
    let s = stats(&a).await;
    assert!(s["ann"]["indexed_vectors"].as_u64().unwrap() >= 2000, "{s}");
    assert_eq!(
        s["ann"]["search_count"].as_u64().unwrap() + s["ann"]["fallback_count"].as_u64().unwrap(),
        20,
        "{s}"
    );
    assert!(s["ann"]["search_count"].as_u64().unwrap() > 0, "{s}");
    let partitions = s["ann"]["partitions"].clone();

    // A restart adopts the centroids saved with the dataset: nothing trained, the same
    // partitions probed, the same answers.
    drop(ann);
    let ann = place.start(&args).await;
    let a = ann.client();
    wait_indexed(&a, 2000).await;
    let s = stats(&a).await;
    assert_eq!(s["ann"]["rebuild_count"], 0, "{s}");
    assert_eq!(s["ann"]["partitions"], partitions, "{s}");
    assert!(s["ann"]["indexed_vectors"].as_u64().unwrap() >= 2000, "{s}");
    same_answers(&a, &e, &queries("m")).await;
    assert!(stats(&a).await["ann"]["search_count"].as_u64().unwrap() > 0);
}

/// Polls until the background maintainer has placed `rows` vectors and searches use the index.
async fn wait_indexed(a: &Client, rows: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = stats(a).await;
        if s["ann"]["enabled"] == true && s["ann"]["indexed_vectors"].as_u64() >= Some(rows) {
            return;
        }
        assert!(Instant::now() < deadline, "index never built: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each search in `queries` finds the same memories, in the same order, from `a` as from `e`.
async fn same_answers(a: &Client, e: &Client, queries: &[Value]) {
    let pick = |r: &Value| {
        r["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["memory_id"].clone())
            .collect::<Vec<_>>()
    };
    for (q, body) in queries.iter().enumerate() {
        let got = a.post_ok("/api/ai/memories/search", body.clone()).await;
        let want = e.post_ok("/api/ai/memories/search", body.clone()).await;
        assert_eq!(pick(&got), pick(&want), "query {q}");
    }
}

#[tokio::test]
async fn the_first_embedding_after_plain_memories_retypes_the_dataset() {
    let place = Place::local();
    let mut server = place.start(&["--agent-memory-flush-every", "1"]).await;
    let c = server.client();
    // Committed before any vector fixes the dimension.
    c.post_ok(
        "/api/ai/memories",
        json!({"memory_id": "plain", "content": "no vector"}),
    )
    .await;
    wait_committed(&c).await;
    c.post_ok(
        "/api/ai/memories",
        json!({"memory_id": "vec", "content": "v", "embedding": [0.5, 0.25]}),
    )
    .await;
    wait_committed(&c).await;
    assert_eq!(server.terminate(), Some(0));
    let read = lance_reads(&place.root, place.hdb.env());
    let rows = read["memories"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{read}");
    assert_eq!(
        (&rows[0]["memory_id"], &rows[0]["embedding"]),
        (&json!("plain"), &Value::Null)
    );
    assert_eq!(rows[1]["embedding"], json!([0.5, 0.25]));
    let server = place.start(&[]).await;
    let c = server.client();
    assert_eq!(stats(&c).await["embedding_dim"], 2);
    assert_eq!(
        get(&c, "vec").await.unwrap()["embedding"],
        json!([0.5, 0.25])
    );
}
