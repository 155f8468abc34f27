use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestServer, ticks_server};

#[tokio::test]
async fn bad_sql_gets_400_with_the_sql_error_shape() {
    let (_server, c) = ticks_server().await;
    let (status, body) = c.sql("").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (
            body["columns"].clone(),
            body["data"].clone(),
            body["rows"].clone(),
            body["execution_time_us"].clone()
        ),
        (json!([]), json!([]), json!(0), json!(0))
    );
    assert!(
        body["error"].as_str().unwrap().contains("Empty query"),
        "{body}"
    );

    let err = c.sql_err("SELEC 1", StatusCode::BAD_REQUEST).await;
    assert!(err.starts_with("Parse error:"), "{err}");
    let err = c
        .sql_err("SELECT * FROM nothere", StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(err, "Unknown table: nothere");
    let err = c
        .sql_err("SELECT nope FROM ticks", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("nope"), "{err}");
    let err = c
        .sql_err("SELECT price + 'x' FROM ticks", StatusCode::BAD_REQUEST)
        .await;
    assert!(!err.is_empty());
    let err = c
        .sql_err("SELECT 1; SELECT 2", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("one statement"), "{err}");
    let err = c
        .sql_err("CREATE VIEW v AS SELECT 1", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("Unsupported statement"), "{err}");
    let err = c
        .sql_err("SELECT xbar(price, 0) FROM ticks", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("positive"), "{err}");
    let err = c
        .sql_err(
            "SELECT EMA(price, 7.5) OVER () FROM ticks",
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(err.contains("EMA"), "{err}");
    let bytes = c.request(Method::POST, "/", &[], vec![0xff, 0xfe]).await;
    assert_eq!(bytes.status, StatusCode::BAD_REQUEST);
    assert!(bytes.json()["error"].as_str().unwrap().contains("UTF-8"));

    // Nothing above changed the data or hurt the server.
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[6]]));
    assert_eq!(c.get("/ping").await.status, StatusCode::OK);
}

#[tokio::test]
async fn get_is_read_only() {
    let (_server, c) = ticks_server().await;
    let ok = c
        .get("/?query=SELECT%20count(*)%20AS%20n%20FROM%20ticks")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["data"], json!([[6]]));
    assert_eq!(c.get("/?query=SHOW%20TABLES").await.status, StatusCode::OK);
    assert_eq!(
        c.get("/?query=DESCRIBE%20ticks").await.status,
        StatusCode::OK
    );
    for q in [
        "INSERT%20INTO%20ticks%20VALUES%20('X',1,1,1)",
        "DELETE%20FROM%20ticks",
        "DROP%20TABLE%20ticks",
        "CREATE%20TABLE%20x%20(a%20INT64)",
    ] {
        let r = c.get(&format!("/?query={q}")).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{q}");
        assert_eq!(r.header("allow").as_deref(), Some("POST"));
        assert!(r.json()["error"].as_str().unwrap().contains("read-only"));
    }
    assert_eq!(c.rows("SELECT count(*) FROM ticks").await, json!([[6]]));
}

#[tokio::test]
async fn oversize_bodies_get_413() {
    let server = TestServer::start(&["--max-request-bytes", "1024"]).await;
    let c = server.client();
    let big = format!("SELECT '{}'", "x".repeat(2000));
    let err = c.sql_err(&big, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(err.contains("1024"), "{err}");
    let r = c
        .request(
            Method::POST,
            "/insert/arrow?table=trades",
            &[],
            vec![0u8; 4096],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    c.sql_ok("SELECT 1").await;
}

#[tokio::test]
async fn results_over_the_row_cap_get_413_but_arrow_is_unlimited() {
    let server = TestServer::start(&["--max-result-rows", "10"]).await;
    let c = server.client();
    let err = c
        .sql_err(
            "SELECT * FROM generate_series(1, 11)",
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
    assert!(err.contains("LIMIT"), "{err}");
    c.sql_ok("SELECT * FROM generate_series(1, 10)").await;
    let arrow = c
        .request(
            Method::POST,
            "/",
            &[("Accept", "application/vnd.apache.arrow.stream")],
            b"SELECT * FROM generate_series(1, 11)".to_vec(),
        )
        .await;
    assert_eq!(arrow.status, StatusCode::OK);
}

#[tokio::test]
async fn slow_queries_time_out_with_408_and_the_server_stays_up() {
    let server = TestServer::start(&["--query-timeout-ms", "200"]).await;
    let c = server.client();
    let err = c
        .sql_err(
            "SELECT sum(a.value * b.value) FROM generate_series(1, 100000) a CROSS JOIN generate_series(1, 100000) b",
            StatusCode::REQUEST_TIMEOUT,
        )
        .await;
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(c.rows("SELECT 1 + 1").await, json!([[2]]));
}
