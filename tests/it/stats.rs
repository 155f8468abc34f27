use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::clickhouse::ch;
use crate::common::hdb::Hdb;
use crate::common::ticks_server;

#[tokio::test]
async fn stats_count_rows_queries_and_tables() {
    let (_server, c) = ticks_server().await;
    c.sql_ok("SELECT count(*) FROM ticks").await;
    let s = c.get("/stats").await.json();
    assert_eq!(s["ticks_ingested"], 6);
    assert_eq!(s["ticks_stored"], 6);
    assert_eq!(s["ticks_dropped"], 0);
    assert!(s["queries_executed"].as_u64().unwrap() >= 3, "{s}");
    assert!(s["total_rows_scanned"].as_u64().unwrap() >= 6, "{s}");
    assert_eq!(s["partitions_created"], 1);
    assert!(s["last_ingest_latency_ns"].as_u64().unwrap() > 0);
    assert_eq!(s["rdb_rows"], 6);
    let ticks = s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ticks")
        .unwrap()
        .clone();
    assert_eq!(
        (ticks["rows"].clone(), ticks["partitions"].clone()),
        (json!(6), json!(1))
    );
    assert!(ticks["bytes"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn prometheus_metrics() {
    let (_server, c) = ticks_server().await;
    c.sql_ok("SELECT count(*) FROM ticks").await;
    let r = c.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(r.body).unwrap();
    for line in [
        "zepto_ticks_ingested_total 6",
        "zepto_ticks_stored_total 6",
        "zepto_ticks_dropped_total 0",
        "zepto_server_up 1",
        "zepto_partitions_total 1",
        "strata_table_rows{table=\"ticks\"} 6",
        "strata_rdb_rows 6",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    for name in [
        "zepto_queries_executed_total",
        "zepto_rows_scanned_total",
        "zepto_http_requests_total",
    ] {
        assert!(text.contains(&format!("# TYPE {name} counter")), "{name}");
    }
    c.sql_ok("DROP TABLE ticks").await;
    let text = String::from_utf8(c.get("/metrics").await.body).unwrap();
    assert!(
        !text.contains("table=\"ticks\""),
        "dropped tables disappear"
    );
}

/// What one query read, from both tiers, in each protocol's own place: ZeptoDB's
/// `rows_scanned`, ClickHouse's summary, JSON statistics and (when asked) progress header.
#[tokio::test]
async fn each_query_reports_the_rows_it_read() {
    let hdb = Hdb::local();
    let server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, ts TIMESTAMP_NS)")
        .await;
    c.sql_ok("INSERT INTO ticks VALUES ('a', 1.0, 1), ('b', 2.0, 2), ('a', 1.5, 86400000000002)")
        .await;
    c.sql_ok("FLUSH TABLE ticks").await;
    c.sql_ok("INSERT INTO ticks VALUES ('c', 3.0, 172800000000000)")
        .await;
    let scanned = |sql: &'static str| {
        let c = &c;
        async move { c.sql_ok(sql).await["rows_scanned"].clone() }
    };
    assert_eq!(scanned("SELECT sum(price) FROM ticks").await, json!(4));
    // The HDB's two days are pruned by their files' statistics, the hot tier by its partitions.
    assert_eq!(
        scanned("SELECT sum(price) FROM ticks WHERE ts >= 172800000000000").await,
        json!(1)
    );
    assert_eq!(
        scanned("SELECT 1 + 1").await,
        json!(1),
        "one placeholder row"
    );
    assert_eq!(scanned("SHOW TABLES").await, json!(0));

    let sum = "SELECT sum(price) AS p FROM ticks FORMAT JSON";
    let r = ch(&c, sum, "query_id=r").await;
    let summary: Value = serde_json::from_str(&r.header("x-clickhouse-summary").unwrap()).unwrap();
    assert_eq!(
        (&summary["read_rows"], &summary["total_rows_to_read"]),
        (&json!("4"), &json!("4")),
        "{summary}"
    );
    let bytes: u64 = summary["read_bytes"].as_str().unwrap().parse().unwrap();
    assert!(bytes >= 4 * 8, "{summary}");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["statistics"]["rows_read"], 4);
    assert_eq!(body["statistics"]["bytes_read"], bytes);
    assert!(r.header("x-clickhouse-progress").is_none(), "not asked for");
    let r = ch(
        &c,
        sum,
        "send_progress_in_http_headers=1&http_headers_progress_interval_ms=0",
    )
    .await;
    let progress: Value =
        serde_json::from_str(&r.header("x-clickhouse-progress").unwrap()).unwrap();
    assert_eq!(progress["read_rows"], "4", "{progress}");
    // A long interval outlasts the query: no header, as from ClickHouse.
    let r = ch(
        &c,
        sum,
        "send_progress_in_http_headers=1&http_headers_progress_interval_ms=600000",
    )
    .await;
    assert!(r.header("x-clickhouse-progress").is_none());
}
