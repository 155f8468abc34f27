//! Tiered storage on a local directory: tables and rows survive restarts and crashes, flushes
//! move rows to Delta/Parquet without showing any row twice, and queries see both tiers.

use serde_json::json;

use crate::common::TestServer;
use crate::common::hdb::Hdb;

#[tokio::test]
async fn acknowledged_rows_survive_a_crash() {
    let hdb = Hdb::local();
    let mut server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, ts TIMESTAMP_NS, s SYMBOL)")
        .await;
    c.sql_ok("INSERT INTO t VALUES (1, 1000000000, 'a'), (2, 2000000000, 'b')")
        .await;
    c.sql_ok("ALTER TABLE t ADD COLUMN note STRING").await;
    c.sql_ok("INSERT INTO t VALUES (3, 3000000000, 'c', 'late')")
        .await;
    server.kill();

    let server = hdb.start(&[]).await;
    let c = server.client();
    assert_eq!(
        c.rows("SELECT id, s, note FROM t ORDER BY id").await,
        json!([[1, "a", null], [2, "b", null], [3, "c", "late"]])
    );
    assert_eq!(
        c.rows("DESCRIBE t").await,
        json!([
            ["id", "INT64"],
            ["ts", "TIMESTAMP_NS"],
            ["s", "SYMBOL"],
            ["note", "STRING"]
        ])
    );
}

#[tokio::test]
async fn flushed_rows_are_seen_once_and_survive_restarts() {
    let hdb = Hdb::local();
    let mut server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, ts TIMESTAMP_NS)")
        .await;
    // Two days, so the flush writes one file per day.
    c.sql_ok(
        "INSERT INTO ticks VALUES ('b', 2.0, 86400000000001), ('a', 1.0, 1), ('a', 1.5, 86400000000002)",
    )
    .await;
    let r = c.sql_ok("FLUSH TABLE ticks").await;
    let message = r["data"][0][0].as_str().unwrap().to_string();
    assert!(message.contains("3 rows in 2 files"), "{message}");
    assert_eq!(hdb.files_on_disk("ticks").unwrap(), 2);
    c.sql_ok("INSERT INTO ticks VALUES ('c', 3.0, 172800000000000)")
        .await;

    let all = json!([
        ["a", 1.0, 1],
        ["a", 1.5, 86400000000002_i64],
        ["b", 2.0, 86400000000001_i64],
        ["c", 3.0, 172800000000000_i64]
    ]);
    let q = "SELECT symbol, price, CAST(ts AS BIGINT) FROM ticks ORDER BY symbol, ts";
    assert_eq!(c.rows(q).await, all, "hot and flushed rows, each once");
    assert_eq!(
        c.rows("SELECT count(*) FROM ticks WHERE ts >= 86400000000000")
            .await,
        json!([[3]]),
        "time filters reach both tiers"
    );

    // A clean stop flushes what is left; the restart reads it all back from the HDB.
    assert_eq!(server.terminate(), Some(0));
    assert_eq!(hdb.files_on_disk("ticks").unwrap(), 3);
    let server = hdb.start(&[]).await;
    let c = server.client();
    assert_eq!(c.rows(q).await, all);
    // Everything is in the HDB now: a scan with no columns, row counts from the Delta log.
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[4]]));
    assert_eq!(
        c.rows("SHOW TABLES").await,
        json!([["ticks", 4], ["trades", 0]])
    );
    let stats = c.get("/stats").await.json();
    assert_eq!(stats["storage_mode"], "tiered");
    assert_eq!(stats["hdb_rows"], 4);
    assert_eq!(stats["hdb_files"], 3);
    assert_eq!(stats["tables"][0]["delta_version"], 2);
    assert!(stats["wal"]["segments"].as_u64().unwrap() >= 1);
    // Records written since this start: the INSERTs were before the restart above.
    assert_eq!(stats["wal"]["records"], 0);
    let cluster = c.get("/admin/cluster").await.json();
    assert_eq!(cluster["mode"], "standalone");
    assert_eq!(cluster["hdb_rows"], 4);
    let metrics = String::from_utf8(c.get("/metrics").await.body).unwrap();
    assert!(metrics.contains("strata_hdb_rows 4"), "{metrics}");
    assert!(
        metrics.contains("strata_table_delta_version{table=\"ticks\"} 2"),
        "{metrics}"
    );
    let r = c.sql_ok("FLUSH TABLE ticks").await;
    assert_eq!(
        r["data"],
        json!([["Table 'ticks' flushed: no rows in memory"]])
    );
}

#[tokio::test]
async fn a_dropped_table_stays_dropped() {
    let hdb = Hdb::local();
    let mut server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64)").await;
    c.sql_ok("INSERT INTO t VALUES (1), (2)").await;
    c.sql_ok("DROP TABLE t").await;
    c.sql_ok("CREATE TABLE t (id INT64)").await;
    c.sql_ok("INSERT INTO t VALUES (3)").await;
    server.kill();

    let server = hdb.start(&[]).await;
    let c = server.client();
    assert_eq!(
        c.rows("SELECT id FROM t").await,
        json!([[3]]),
        "WAL records of the dropped table are not replayed into the new one"
    );
}

#[tokio::test]
async fn admin_flush_moves_every_table() {
    let hdb = Hdb::local();
    let server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE a (v INT64)").await;
    c.sql_ok("CREATE TABLE b (v INT64)").await;
    c.sql_ok("INSERT INTO a VALUES (1), (2)").await;
    c.sql_ok("INSERT INTO b VALUES (3)").await;
    let reply = c
        .request(reqwest::Method::POST, "/admin/flush", &[], vec![])
        .await;
    assert_eq!(
        reply.json(),
        json!({"flushed_rows": 3, "storage_mode": "tiered"})
    );
    assert_eq!(
        hdb.files_on_disk("a").unwrap() + hdb.files_on_disk("b").unwrap(),
        2
    );
    assert_eq!(c.rows("SELECT sum(v) FROM a").await, json!([[3]]));
}

#[tokio::test]
async fn update_and_delete_reach_both_tiers_and_last() {
    let hdb = Hdb::local();
    let mut server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, v FLOAT64, ts TIMESTAMP_NS)")
        .await;
    c.sql_ok("INSERT INTO t VALUES (1, 1.0, 1000), (2, 2.0, 2000), (3, 3.0, 3000)")
        .await;
    c.sql_ok("FLUSH TABLE t").await;
    c.sql_ok("INSERT INTO t VALUES (4, 4.0, 4000), (5, 5.0, 5000)")
        .await;

    let r = c
        .sql_ok("DELETE FROM t WHERE ts >= 2000 AND ts < 5000")
        .await;
    assert_eq!(r["data"], json!([[3]]), "two flushed rows and one hot row");
    let r = c.sql_ok("UPDATE t SET v = v * 10 WHERE id IN (1, 5)").await;
    assert_eq!(r["data"], json!([[2]]));
    let expected = json!([[1, 10.0], [5, 50.0]]);
    assert_eq!(c.rows("SELECT id, v FROM t ORDER BY id").await, expected);

    server.kill();
    let server = hdb.start(&[]).await;
    assert_eq!(
        server
            .client()
            .rows("SELECT id, v FROM t ORDER BY id")
            .await,
        expected,
        "the changes were durable when acknowledged"
    );
}

#[tokio::test]
async fn optimize_merges_small_files_without_changing_results() {
    optimize(Hdb::local()).await;
}

#[tokio::test]
async fn optimize_merges_small_files_without_changing_results_on_s3() {
    optimize(Hdb::s3("optimize").await).await;
}

async fn optimize(hdb: Hdb) {
    let server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (symbol SYMBOL, v INT64, ts TIMESTAMP_NS)")
        .await;
    // Six flushes over two days: six small files a day.
    for i in 0..6 {
        c.sql_ok(&format!(
            "INSERT INTO t VALUES ('b', {i}, {}), ('a', {i}, {})",
            1000 - i,
            86_400_000_000_000_i64 + i
        ))
        .await;
        c.sql_ok("FLUSH TABLE t").await;
    }
    assert!(matches!(hdb.files_on_disk("t"), None | Some(12)));
    let q = "SELECT symbol, v, CAST(ts AS BIGINT) FROM t ORDER BY symbol, v";
    let before = c.rows(q).await;
    let first = c
        .rows("SELECT first(v), last(v) FROM t WHERE symbol = 'b'")
        .await;

    let r = c.sql_ok("OPTIMIZE t").await;
    assert_eq!(
        r["data"],
        json!([["Table 't' optimized: 12 files rewritten as 2"]])
    );
    assert_eq!(c.rows(q).await, before);
    assert_eq!(
        c.rows("SELECT first(v), last(v) FROM t WHERE symbol = 'b'")
            .await,
        first
    );
    let stats = c.get("/stats").await.json();
    let t = stats["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "t")
        .unwrap()
        .clone();
    assert_eq!(t["hdb_files"], 2);
    // The replaced files stay for time travel until VACUUM removes them.
    assert!(matches!(hdb.files_on_disk("t"), None | Some(14)));
    let r = c.sql_ok("VACUUM t RETAIN 0 HOURS").await;
    assert_eq!(r["data"], json!([["Table 't' vacuumed: 12 files deleted"]]));
    assert!(matches!(hdb.files_on_disk("t"), None | Some(2)));
    assert_eq!(c.rows(q).await, before);
}

/// Polls `sql` until it returns `want` (10 s deadline).
pub(crate) async fn eventually(c: &crate::common::Client, sql: &str, want: serde_json::Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = c.rows(sql).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{sql}: {got} != {want}"
        );
    }
}

#[tokio::test]
async fn ttl_removes_old_days_from_both_tiers_and_persists() {
    ttl(Hdb::local()).await;
}

#[tokio::test]
async fn ttl_removes_old_days_from_both_tiers_and_persists_on_s3() {
    ttl(Hdb::s3("ttl").await).await;
}

async fn ttl(hdb: Hdb) {
    let args = ["--flush-interval-ms", "20"];
    let mut server = hdb.start(&args).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, ts TIMESTAMP_NS)").await;
    // Days 0 and 1 of 1970, and now.
    c.sql_ok("INSERT INTO t VALUES (1, 1000), (2, 2000)").await;
    c.sql_ok("FLUSH TABLE t").await;
    c.sql_ok("INSERT INTO t VALUES (3, 86400000000500)").await;
    c.sql_ok("INSERT INTO t (id, ts) VALUES (4, now())").await;
    assert_eq!(c.rows("SELECT count(*) FROM t").await, json!([[4]]));

    let r = c.sql_ok("ALTER TABLE t SET TTL 2 DAYS").await;
    assert_eq!(r["data"], json!([["Table 't' keeps 48 hours of data"]]));
    eventually(&c, "SELECT id FROM t", json!([[4]])).await;
    let history = c.rows("DESCRIBE HISTORY t").await;
    assert_eq!(
        history[0][2], "DELETE",
        "the HDB files left in a Delta commit"
    );

    // The TTL is part of the table: after a crash the WAL brings day 1 back, and it goes again.
    server.kill();
    let server = hdb.start(&args).await;
    eventually(&server.client(), "SELECT id FROM t", json!([[4]])).await;

    let err = server
        .client()
        .sql_err(
            "ALTER TABLE trades SET TTL 1 WEEKS",
            reqwest::StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(err.contains("DAYS|HOURS"), "{err}");
}

#[tokio::test]
async fn the_memory_budget_flushes_first_then_pushes_back() {
    // Tiered: over the budget, the write flushes the hot rows to the HDB and goes through.
    let hdb = Hdb::local();
    let server = hdb.start(&["--rdb-max-bytes", "1"]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64)").await;
    for i in 0..3 {
        c.sql_ok(&format!("INSERT INTO t VALUES ({i})")).await;
    }
    assert_eq!(c.rows("SELECT count(*) FROM t").await, json!([[3]]));
    let stats = c.get("/stats").await.json();
    assert!(stats["flushes"].as_u64().unwrap() >= 2, "{stats}");
    assert_eq!(c.get("/health").await.json(), json!({"status": "healthy"}));

    // Memory only: nothing to flush to, so the write is refused with 503 and Retry-After.
    let server = TestServer::start(&["--rdb-max-bytes", "1"]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64)").await;
    c.sql_ok("INSERT INTO t VALUES (1)").await;
    let reply = c
        .request(
            reqwest::Method::POST,
            "/",
            &[],
            b"INSERT INTO t VALUES (2)".to_vec(),
        )
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("retry-after").as_deref(), Some("1"));
    let error = reply.json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("--rdb-max-bytes"), "{error}");
    assert_eq!(
        c.rows("SELECT count(*) FROM t").await,
        json!([[1]]),
        "nothing half-written"
    );
}
