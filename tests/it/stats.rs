use reqwest::StatusCode;
use serde_json::json;

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
