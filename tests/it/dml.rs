use reqwest::StatusCode;
use serde_json::json;

use crate::common::{T0, TestServer, ticks_server};

#[tokio::test]
async fn insert_values_column_lists_and_defaults() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE typed (id INT64, name STRING, ratio FLOAT64, ok BOOL, ts TIMESTAMP_NS)")
        .await;
    let r = c
        .sql_ok(&format!(
            "INSERT INTO typed (id, name, ts) VALUES (1, 'a', {T0}), (2, 'b', {T0})"
        ))
        .await;
    assert_eq!(r["columns"], json!(["inserted"]));
    assert_eq!(r["data"], json!([[2]]));
    assert_eq!(
        c.rows("SELECT id, name, ratio, ok, ts FROM typed ORDER BY id")
            .await,
        json!([[1, "a", null, null, T0], [2, "b", null, null, T0]])
    );
    c.sql_ok("INSERT INTO typed VALUES (3, 'c', 0.5, true, '2024-03-23T22:00:00Z')")
        .await;
    assert_eq!(
        c.rows("SELECT ratio, ok, ts FROM typed WHERE id = 3").await,
        json!([[0.5, true, T0]])
    );
    assert_eq!(
        c.rows("SHOW TABLES").await,
        json!([["trades", 0], ["typed", 3]])
    );
}

#[tokio::test]
async fn insert_select_copies_rows() {
    let (_server, c) = ticks_server().await;
    c.sql_ok("CREATE TABLE aapl (price FLOAT64, timestamp TIMESTAMP_NS)")
        .await;
    let r = c
        .sql_ok("INSERT INTO aapl SELECT price, timestamp FROM ticks WHERE symbol = 'AAPL'")
        .await;
    assert_eq!(r["data"], json!([[4]]));
    assert_eq!(
        c.rows("SELECT sum(price) FROM aapl").await,
        json!([[405.0]])
    );
}

#[tokio::test]
async fn a_bad_row_inserts_nothing() {
    let (_server, c) = ticks_server().await;
    let err = c
        .sql_err(
            "INSERT INTO ticks VALUES ('X', 1, 1, 1), ('Y', 'not a number', 1, 2)",
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(!err.is_empty());
    c.sql_err(
        "INSERT INTO ticks (nope) VALUES (1)",
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.sql_err("INSERT INTO ticks VALUES (1, 2)", StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[6]]));
}

#[tokio::test]
async fn update_and_delete_report_counts() {
    let (_server, c) = ticks_server().await;
    let r = c
        .sql_ok("UPDATE ticks SET volume = 50 WHERE symbol = 'AAPL' AND price > 100")
        .await;
    assert_eq!(r["columns"], json!(["updated"]));
    assert_eq!(r["data"], json!([[2]]));
    assert_eq!(
        c.rows("SELECT sum(volume) FROM ticks WHERE symbol = 'AAPL'")
            .await,
        json!([[140]])
    );
    let r = c
        .sql_ok("UPDATE ticks SET price = price * 2 WHERE symbol = 'MSFT'")
        .await;
    assert_eq!(r["data"], json!([[2]]));
    assert_eq!(
        c.rows("SELECT price FROM ticks WHERE symbol = 'MSFT' ORDER BY timestamp")
            .await,
        json!([[400.0], [420.0]])
    );
    let r = c.sql_ok("DELETE FROM ticks WHERE symbol = 'MSFT'").await;
    assert_eq!(r["columns"], json!(["deleted"]));
    assert_eq!(r["data"], json!([[2]]));
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[4]]));
    let r = c.sql_ok("DELETE FROM ticks WHERE price > 1000").await;
    assert_eq!(r["data"], json!([[0]]));
    let r = c.sql_ok("DELETE FROM ticks").await;
    assert_eq!(r["data"], json!([[4]]));
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[0]]));
}

#[tokio::test]
async fn update_can_move_rows_to_another_day() {
    let (_server, c) = ticks_server().await;
    let day = 86_400_000_000_000i64;
    c.sql_ok(&format!(
        "UPDATE ticks SET timestamp = {} WHERE symbol = 'MSFT'",
        T0 + 3 * day
    ))
    .await;
    let q = format!(
        "SELECT count(*) FROM ticks WHERE timestamp >= {}",
        T0 + 2 * day
    );
    assert_eq!(c.rows(&q).await, json!([[2]]));
    let q = format!("SELECT count(*) FROM ticks WHERE timestamp < {}", T0 + day);
    assert_eq!(c.rows(&q).await, json!([[4]]));
}

#[tokio::test]
async fn explain_does_not_execute_dml() {
    let (_server, c) = ticks_server().await;
    let r = c.sql_ok("EXPLAIN DELETE FROM ticks").await;
    assert!(r["rows"].as_u64().unwrap() > 0);
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[6]]));
}

#[tokio::test]
async fn failed_update_changes_nothing() {
    let (_server, c) = ticks_server().await;
    c.sql_err("UPDATE ticks SET volume = 'abc'", StatusCode::BAD_REQUEST)
        .await;
    c.sql_err("UPDATE ticks SET nope = 1", StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(
        c.rows("SELECT sum(volume) FROM ticks").await,
        json!([[120]])
    );
}
