use std::io::Cursor;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, TimeUnit};
use arrow::ipc::reader::StreamReader;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{T0, ticks_server};

fn decode(body: &[u8]) -> Vec<RecordBatch> {
    StreamReader::try_new(Cursor::new(body.to_vec()), None)
        .expect("arrow stream")
        .map(|b| b.expect("batch"))
        .collect()
}

#[tokio::test]
async fn json_has_real_types() {
    let (_server, c) = ticks_server().await;
    let r = c
        .sql_ok("SELECT symbol, price, volume, timestamp, price > 100 AS big, NULL AS nothing FROM ticks WHERE symbol = 'MSFT' ORDER BY timestamp")
        .await;
    assert_eq!(
        r["columns"],
        json!(["symbol", "price", "volume", "timestamp", "big", "nothing"])
    );
    assert_eq!(
        r["data"],
        json!([
            ["MSFT", 200.0, 5, T0, true, null],
            ["MSFT", 210.0, 15, T0 + 60_000_000_000i64, true, null]
        ])
    );
    assert_eq!(r["rows"], 2);
    assert!(r["execution_time_us"].as_f64().unwrap() > 0.0);
    // Doubles stay doubles in the text, integers stay integers.
    let raw = c
        .request(
            Method::POST,
            "/",
            &[],
            b"SELECT avg(volume) AS a, sum(volume) AS s FROM ticks".to_vec(),
        )
        .await;
    let text = String::from_utf8(raw.body).unwrap();
    assert!(text.contains("[[20.0,120]]"), "{text}");
}

#[tokio::test]
async fn unaliased_columns_are_named_as_written() {
    let (_server, c) = ticks_server().await;
    let r = c
        .sql_ok("SELECT symbol, vwap(price, volume), count(*) FROM ticks GROUP BY symbol ORDER BY symbol")
        .await;
    assert_eq!(
        r["columns"],
        json!(["symbol", "vwap(price, volume)", "count(*)"])
    );
}

#[tokio::test]
async fn arrow_stream_on_request() {
    let (_server, c) = ticks_server().await;
    let sql =
        b"SELECT symbol, price, timestamp FROM ticks WHERE symbol = 'AAPL' ORDER BY timestamp"
            .to_vec();
    let asked = [
        ("/", vec![("Accept", "application/vnd.apache.arrow.stream")]),
        ("/?default_format=Arrow", vec![]),
        ("/?default_format=ArrowStream", vec![]),
        ("/?format=arrow", vec![]),
    ];
    for (path, headers) in asked {
        let r = c.request(Method::POST, path, &headers, sql.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/vnd.apache.arrow.stream")
        );
        assert_eq!(r.header("x-zepto-format").as_deref(), Some("arrow-stream"));
        let batches = decode(&r.body);
        let schema = batches[0].schema();
        assert_eq!(schema.field(0).name(), "symbol");
        assert_eq!(
            schema.field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
        let prices: Vec<f64> = batches
            .iter()
            .flat_map(|b| b.column(1).as_primitive::<Float64Type>().values().to_vec())
            .collect();
        assert_eq!(prices, [100.0, 110.0, 90.0, 105.0], "{path}");
    }
    // GET works too, and errors stay JSON.
    let r = c
        .request(
            Method::GET,
            "/?query=SELECT%201%20AS%20one&default_format=Arrow",
            &[],
            vec![],
        )
        .await;
    assert_eq!(decode(&r.body)[0].num_rows(), 1);
    let r = c
        .request(
            Method::POST,
            "/?format=arrow",
            &[],
            b"SELECT nope FROM ticks".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"].is_string());
}
