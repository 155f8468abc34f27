use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::ipc::writer::StreamWriter;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Client, T0, TestServer};

/// An Arrow IPC stream of `n` ticks for `symbol`, starting at `start` ns, 1 ms apart.
fn ticks_ipc(symbol: &str, n: usize, start: i64) -> Vec<u8> {
    let batch = RecordBatch::try_from_iter(vec![
        ("symbol", Arc::new(StringArray::from(vec![symbol; n])) as _),
        (
            "price",
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| 100.0 + i as f64),
            )) as _,
        ),
        ("volume", Arc::new(Int64Array::from(vec![10; n])) as _),
        // Integer nanoseconds: converted to the TIMESTAMP_NS column.
        (
            "timestamp",
            Arc::new(Int64Array::from_iter_values(
                (0..n as i64).map(|i| start + i * 1_000_000),
            )) as _,
        ),
    ])
    .unwrap();
    let mut w = StreamWriter::try_new(Vec::new(), &batch.schema()).unwrap();
    w.write(&batch).unwrap();
    w.into_inner().unwrap()
}

async fn post_arrow(c: &Client, path: &str, body: Vec<u8>) -> crate::common::Reply {
    c.request(
        Method::POST,
        path,
        &[("Content-Type", "application/vnd.apache.arrow.stream")],
        body,
    )
    .await
}

#[tokio::test]
async fn arrow_ingest_appends_rows_matched_by_name() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let r = post_arrow(
        &c,
        "/insert/arrow?table=trades",
        ticks_ipc("AAPL", 1000, T0),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"inserted": 1000}));
    assert_eq!(r.header("x-zepto-format").as_deref(), Some("arrow-stream"));
    let r = post_arrow(
        &c,
        "/insert/arrow?table_name=trades",
        ticks_ipc("MSFT", 10, T0),
    )
    .await;
    assert_eq!(r.json(), json!({"inserted": 10}));
    assert_eq!(
        c.rows(
            "SELECT symbol, count(*), min(timestamp) FROM trades GROUP BY symbol ORDER BY symbol"
        )
        .await,
        json!([["AAPL", 1000, T0], ["MSFT", 10, T0]])
    );

    // A subset of the columns in another order: the rest are NULL.
    let batch = RecordBatch::try_from_iter(vec![
        ("volume", Arc::new(Int64Array::from(vec![7])) as _),
        ("symbol", Arc::new(StringArray::from(vec!["IBM"])) as _),
    ])
    .unwrap();
    let mut w = StreamWriter::try_new(Vec::new(), &batch.schema()).unwrap();
    w.write(&batch).unwrap();
    let r = post_arrow(&c, "/insert/arrow?table=trades", w.into_inner().unwrap()).await;
    assert_eq!(r.json(), json!({"inserted": 1}));
    assert_eq!(
        c.rows("SELECT price, volume, timestamp FROM trades WHERE symbol = 'IBM'")
            .await,
        json!([[null, 7, null]])
    );
}

#[tokio::test]
async fn bad_arrow_ingest_is_refused_and_stores_nothing() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "/insert/arrow",
            ticks_ipc("A", 1, T0),
            StatusCode::BAD_REQUEST,
            "table=",
        ),
        (
            "/insert/arrow?table=nope",
            ticks_ipc("A", 1, T0),
            StatusCode::BAD_REQUEST,
            "Unknown table: nope",
        ),
        (
            "/insert/arrow?table=trades",
            b"not arrow".to_vec(),
            StatusCode::BAD_REQUEST,
            "Arrow IPC",
        ),
        (
            "/insert/arrow?table=trades",
            vec![],
            StatusCode::BAD_REQUEST,
            "Arrow IPC",
        ),
    ];
    for (path, body, status, msg) in cases {
        let r = post_arrow(&c, path, body).await;
        assert_eq!(r.status, status, "{path}");
        let err = r.json()["error"].as_str().unwrap().to_string();
        assert!(err.contains(msg), "{path}: {err}");
    }
    let extra = RecordBatch::try_from_iter(vec![
        ("symbol", Arc::new(StringArray::from(vec!["A"])) as _),
        ("qty", Arc::new(Int64Array::from(vec![1])) as _),
    ])
    .unwrap();
    let mut w = StreamWriter::try_new(Vec::new(), &extra.schema()).unwrap();
    w.write(&extra).unwrap();
    let r = post_arrow(&c, "/insert/arrow?table=trades", w.into_inner().unwrap()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("Unknown column 'qty'")
    );
    let bad_type = RecordBatch::try_from_iter(vec![(
        "price",
        Arc::new(StringArray::from(vec!["1.5", "abc"])) as _,
    )])
    .unwrap();
    let mut w = StreamWriter::try_new(Vec::new(), &bad_type.schema()).unwrap();
    w.write(&bad_type).unwrap();
    let r = post_arrow(&c, "/insert/arrow?table=trades", w.into_inner().unwrap()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"].as_str().unwrap().contains("'price'"));
    assert_eq!(c.rows("SELECT count(*) FROM trades").await, json!([[0]]));
}

/// Writers append while readers aggregate: every read sees whole batches (a multiple of the batch
/// size) and never more than was acknowledged; at the end every acknowledged row is there once.
#[tokio::test]
async fn concurrent_ingest_and_queries_see_consistent_tables() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    const WRITERS: usize = 4;
    const BATCHES: usize = 25;
    const ROWS: usize = 2000;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..BATCHES {
                let start = T0 + ((w * BATCHES + b) * ROWS) as i64 * 1_000_000;
                let r = post_arrow(
                    &c,
                    "/insert/arrow?table=trades",
                    ticks_ipc(&format!("S{w}"), ROWS, start),
                )
                .await;
                assert_eq!(r.json(), json!({"inserted": ROWS}));
            }
        }));
    }
    let reader = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..50 {
                let n = c.rows("SELECT count(*) FROM trades").await[0][0]
                    .as_u64()
                    .unwrap();
                assert_eq!(n % ROWS as u64, 0, "partial batch visible: {n}");
                assert!(n >= last, "row count went backwards: {last} → {n}");
                last = n;
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    reader.await.unwrap();
    let total = (WRITERS * BATCHES * ROWS) as u64;
    assert_eq!(
        c.rows("SELECT count(*), count(DISTINCT timestamp) FROM trades")
            .await,
        json!([[total, total]])
    );
}
