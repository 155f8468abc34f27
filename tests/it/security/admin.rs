//! The admin API beyond keys: the audit log, the clients seen, running queries and their kill.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Secured, sql_status};

#[tokio::test]
async fn the_audit_log_records_who_did_what() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let s = Secured::start(&["--audit-log-file", file.to_str().unwrap()]).await;
    let reader = s.role("reader").await;
    assert_eq!(
        sql_status(&reader, "DROP TABLE trades").await.0,
        StatusCode::FORBIDDEN
    );
    sql_status(
        &s.anon.with_token(&format!("zepto_{}", "1".repeat(64))),
        "SELECT 1",
    )
    .await;
    let events = s.admin.get("/admin/audit?n=100").await.json();
    let events = events.as_array().unwrap();
    let denial = events
        .iter()
        .find(|e| e["detail"] == "sql-ADMIN-forbidden")
        .expect("the denial is audited");
    assert_eq!(denial["role"], "reader");
    assert_eq!(denial["action"], "POST /");
    assert_eq!(denial["from"], "127.0.0.1");
    assert!(denial["subject"].as_str().unwrap().starts_with("ak_"));
    assert!(events.iter().any(|e| e["detail"] == "apikey-invalid"));
    assert!(events.iter().any(|e| e["detail"] == "apikey-auth"));
    assert!(events.iter().any(|e| {
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("ddl: CREATE TABLE")
    }));
    assert!(events.iter().any(|e| {
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("key-created: ak_")
    }));
    assert_eq!(
        s.admin
            .get("/admin/audit?n=2")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (st, _) = s
        .admin
        .json(Method::GET, "/admin/audit?n=x", None, &[])
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // The file has the same events, one JSON object a line, and no key.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    assert!(text.contains("sql-ADMIN-forbidden"));
    assert!(
        !text.contains(&s.admin_key) && !text.contains("zepto_1111"),
        "no credential in the audit file"
    );
    let sessions = s.admin.get("/admin/sessions").await.json();
    assert!(
        sessions
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["remote_addr"] == "127.0.0.1" && c["query_count"].as_u64().unwrap() > 1)
    );
}

#[tokio::test]
async fn a_running_query_is_listed_and_killed() {
    let s = Secured::start(&["--query-timeout-ms", "120000"]).await;
    let rows: Vec<String> = (0..2000).map(|i| format!("({i}, {i})")).collect();
    s.admin
        .sql_ok("CREATE TABLE k (v INT64, timestamp TIMESTAMP_NS)")
        .await;
    s.admin
        .sql_ok(&format!("INSERT INTO k VALUES {}", rows.join(",")))
        .await;
    let slow = {
        let c = s.admin.clone();
        tokio::spawn(async move {
            sql_status(
                &c,
                "SELECT count(*) FROM k a, k b, k c WHERE a.v + b.v + c.v > -1",
            )
            .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let query = loop {
        let list = s.admin.get("/admin/queries").await.json();
        if let Some(q) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["sql"].as_str().unwrap().contains("k a, k b"))
        {
            break q.clone();
        }
        assert!(Instant::now() < deadline, "the running query is not listed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        query["subject"].as_str().unwrap().starts_with("ak_"),
        "{query}"
    );
    assert!(query["started_at_ns"].as_i64().unwrap() > 0);
    let id = query["id"].as_str().unwrap();
    let killed_at = Instant::now();
    let (st, body) = s
        .admin
        .json(Method::DELETE, &format!("/admin/queries/{id}"), None, &[])
        .await;
    assert_eq!((st, body), (StatusCode::OK, json!({"cancelled": true})));
    let (st, err) = slow.await.unwrap();
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::REQUEST_TIMEOUT, "Query cancelled")
    );
    eprintln!(
        "kill: the statement answered {:?} after the kill",
        killed_at.elapsed()
    );
    // The contract's bound (zepto_auth.py's kill_query): the kill is served by the server's
    // own threads while the plan holds the query threads, so it answers at once even with the
    // whole suite running beside it on two cores.
    assert!(
        killed_at.elapsed() < Duration::from_secs(5),
        "stopped {:?} after the kill",
        killed_at.elapsed()
    );
    // The killed plan left the query threads: the next statement does not queue behind it.
    let next = Instant::now();
    assert_eq!(s.admin.rows("SELECT 1 + 1").await, json!([[2]]));
    assert!(
        next.elapsed() < Duration::from_secs(5),
        "the next statement waited {:?} for the killed one",
        next.elapsed()
    );
    let (st, body) = s
        .admin
        .json(Method::DELETE, &format!("/admin/queries/{id}"), None, &[])
        .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("Query not found"))
    );
    assert!(
        s.admin
            .get("/admin/queries")
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["id"] != id)
    );
}

#[tokio::test]
async fn a_disconnecting_client_frees_its_query() {
    let s = Secured::start(&["--query-timeout-ms", "120000"]).await;
    let rows: Vec<String> = (0..2000).map(|i| format!("({i}, {i})")).collect();
    s.admin
        .sql_ok("CREATE TABLE k (v INT64, timestamp TIMESTAMP_NS)")
        .await;
    s.admin
        .sql_ok(&format!("INSERT INTO k VALUES {}", rows.join(",")))
        .await;
    let c = s.admin.clone();
    let slow = tokio::spawn(async move {
        sql_status(
            &c,
            "SELECT count(*) FROM k a, k b, k c WHERE a.v + b.v > -1",
        )
        .await
    });
    let listed = |s: &Secured| {
        let c = s.admin.clone();
        async move {
            let list = c.get("/admin/queries").await.json();
            list.as_array()
                .unwrap()
                .iter()
                .any(|q| q["sql"].as_str().unwrap().contains("k a, k b"))
        }
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !listed(&s).await {
        assert!(Instant::now() < deadline, "the query never showed up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    slow.abort();
    let deadline = Instant::now() + Duration::from_secs(10);
    while listed(&s).await {
        assert!(Instant::now() < deadline, "the query outlived its client");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn metrics_history_holds_recent_snapshots() {
    let s = Secured::start(&[]).await;
    // The collector takes its first snapshot at start; the setup's INSERTs come after it, so
    // a later snapshot shows them. Poll (3 s apart) until one does.
    let deadline = Instant::now() + Duration::from_secs(20);
    let snapshots = loop {
        let r = s.admin.get("/admin/metrics/history").await;
        assert_eq!(r.status, StatusCode::OK);
        let all = r.json();
        let all = all.as_array().unwrap().clone();
        if all.iter().any(|x| x["ticks_ingested"].as_u64() >= Some(6)) {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot shows the inserted rows: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let first = &snapshots[0];
    for field in [
        "timestamp_ms",
        "node_id",
        "ticks_ingested",
        "ticks_stored",
        "ticks_dropped",
        "queries_executed",
        "total_rows_scanned",
        "partitions_created",
        "last_ingest_latency_ns",
    ] {
        assert!(first.get(field).is_some(), "{field} missing: {first}");
    }
    let times: Vec<i64> = snapshots
        .iter()
        .map(|x| x["timestamp_ms"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    let one = s.admin.get("/admin/metrics/history?limit=1").await.json();
    assert_eq!(one.as_array().unwrap().len(), 1);
    let latest = times.last().unwrap();
    let since = s
        .admin
        .get(&format!(
            "/admin/metrics/history?since={}",
            latest + 3_600_000
        ))
        .await
        .json();
    assert_eq!(since, json!([]));
    assert_eq!(
        s.admin
            .get("/admin/metrics/history?limit=lots")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let reader = s.role("reader").await;
    assert_eq!(
        reader.get("/admin/metrics/history").await.status,
        StatusCode::FORBIDDEN
    );
}
