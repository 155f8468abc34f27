//! What real clients send: Grafana's two plugins' request sequences, clickhouse-connect's own
//! API end to end, Grafana's ad hoc filters.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{ch, ok};
use crate::common::TestServer;

#[tokio::test]
async fn grafana_and_altinity_request_sequences() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    ok(
        &c,
        "CREATE TABLE ticks (sym SYMBOL, price FLOAT64, ts TIMESTAMP_NS)",
    )
    .await;
    ok(&c, "INSERT INTO ticks VALUES ('A', 1.0, 1704067210000000000), ('B', 2.0, 1704067250000000000), ('A', 3.0, 1704067270000000000)").await;
    // The official plugin: handshake, ping, schema pickers, a time-series panel (Native 54460).
    let grafana = "default_format=Native&client_protocol_version=54460&max_execution_time=65";
    for sql in [
        "SELECT displayName(), version(), revision(), timezone()",
        "SELECT 1",
        "SHOW DATABASES",
        "SHOW TABLES FROM \"default\"",
        "DESC TABLE \"default\".\"ticks\"",
        "SELECT name, is_aggregate, case_insensitive, alias_to, origin, description, syntax, arguments, returned_value, examples, categories FROM system.functions LIMIT 10000",
        "SELECT name, type, table FROM system.columns WHERE database IN ('default')",
        "select distinct sym from \"default\".\"ticks\" limit 1000",
    ] {
        let r = ch(&c, sql, grafana).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{sql}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(&r.body[..8], b"\x01\x00\x02\xff\xff\xff\xff\x00", "{sql}");
    }
    let panel = "SELECT toStartOfInterval(toDateTime(ts), INTERVAL 60 second) as \"time\", sym, count() as c FROM \"default\".\"ticks\" WHERE ( ts >= toDateTime(1704067200) AND ts <= toDateTime(1704153600) ) GROUP BY time, sym ORDER BY time ASC, sym LIMIT 1000 FORMAT JSONCompact";
    let json: Value = serde_json::from_slice(&ok(&c, panel).await).unwrap();
    assert_eq!(json["meta"][0]["type"], "Nullable(DateTime('UTC'))");
    assert_eq!(
        json["data"],
        json!([
            ["2024-01-01 00:00:00", "A", "1"],
            ["2024-01-01 00:00:00", "B", "1"],
            ["2024-01-01 00:01:00", "A", "1"]
        ])
    );
    // Altinity: JSON with rows, GET with query=, the timezone() key, the intDiv time column.
    let r = c.get("/?query=SELECT%201%20FORMAT%20JSON").await;
    let json: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (json["data"][0]["1"].clone(), json["rows"].clone()),
        (json!(1), json!(1))
    );
    let json: Value =
        serde_json::from_slice(&ok(&c, "SELECT timezone() FORMAT JSON;").await).unwrap();
    assert_eq!(json["data"][0]["timezone()"], "UTC");
    let q = "SELECT (intDiv(toUInt32(ts), 60) * 60) * 1000 as t, count() FROM default.ticks WHERE ts >= toDateTime(1704067200) AND ts <= toDateTime(1704153600) GROUP BY t ORDER BY t FORMAT JSON";
    let json: Value = serde_json::from_slice(&ok(&c, q).await).unwrap();
    assert_eq!(json["meta"][1]["name"], "count()");
    assert_eq!(
        json["data"],
        json!([{"t": "1704067200000", "count()": "2"}, {"t": "1704067260000", "count()": "1"}])
    );
    for sql in [
        "SELECT name FROM system.databases ORDER BY name FORMAT JSON",
        "SELECT name FROM system.tables WHERE database = 'default' ORDER BY name FORMAT JSON",
        "SELECT database, table, name, type FROM system.columns WHERE database = 'default' AND database != 'system' ORDER BY database, table FORMAT JSON",
    ] {
        let json: Value = serde_json::from_slice(&ok(&c, sql).await).unwrap();
        assert!(json["rows"].as_u64().unwrap() > 0, "{sql}: {json}");
    }
}

#[tokio::test]
async fn clickhouse_connect_works_end_to_end() {
    let server = TestServer::start(&[]).await;
    let out = crate::common::external::python_script("clickhouse_client.py", &[server.base()], &[]);
    assert_eq!(out["server_version"], "24.8.1.1");
    assert_eq!(out["written_rows"], 2);
    assert_eq!(out["column_names"], json!(["id", "name", "ts", "v"]));
    assert_eq!(
        out["rows"][0],
        json!([1, "a", "2024-01-01T00:00:00.123456", 1.5])
    );
    assert_eq!(
        out["rows"][1],
        json!([2, null, "2024-01-02T00:00:00", null])
    );
    assert_eq!(out["df_names"], json!(["a", null]));
    assert_eq!(out["arrow"], json!({"rows": 2, "columns": ["id", "name"]}));
    assert_eq!(out["streamed_rows"], 2);
    assert_eq!(out["count"], 2);
    assert_eq!(out["param"], json!([[42]]));
    assert_eq!(out["error"]["code"], 60);
    assert_eq!(
        out["array_types"],
        json!([
            "UInt32",
            "Array(String)",
            "Array(Nullable(Int32))",
            "Array(Date)",
            "Array(Array(Float64))"
        ])
    );
    assert_eq!(
        out["array_rows"],
        json!([
            [1, ["a", "b'c"], [1, null], ["2024-01-02"], [[1.5], []]],
            [2, [], [], [], []]
        ])
    );
    assert_eq!(
        out["map_types"],
        json!([
            "UInt32",
            "Map(String, String)",
            "Map(Int32, Nullable(Float64))",
            "Map(String, Array(UInt64))"
        ])
    );
    assert_eq!(
        out["map_rows"],
        json!([
            [
                1,
                {"service": "api", "q": "it's"},
                {"1": 1.5, "2": null},
                {"x": [1, 18_446_744_073_709_551_615_u64]}
            ],
            [2, {}, {}, {}]
        ])
    );
    assert_eq!(out["map_value"], "it's");
    assert_eq!(
        out["typed_types"],
        json!([
            "UInt32",
            "UUID",
            "FixedString(3)",
            "Decimal(10, 2)",
            "Date",
            "DateTime('Europe/Paris')",
            "DateTime64(3)",
            "Nullable(String)"
        ])
    );
    assert_eq!(
        out["typed_rows"],
        json!([
            [
                1,
                "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
                "fra",
                "12.34",
                "2024-01-02",
                "2024-01-02T04:04:05+01:00",
                "2024-01-02T03:04:05.123000",
                null
            ],
            [
                2,
                "00000000-0000-0000-0000-000000000000",
                "de\u{0}",
                "-0.50",
                "1970-01-01",
                "1970-01-01T01:00:00+01:00",
                "1970-01-01T00:00:00",
                "x"
            ]
        ])
    );
}

#[tokio::test]
async fn grafana_ad_hoc_filters_apply_to_every_read_of_their_table() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    ok(&c, "CREATE TABLE f (sym SYMBOL, v Int64)").await;
    ok(&c, "INSERT INTO f VALUES ('A', 1), ('B', 2), ('A', 3)").await;
    let q = "SELECT sym, sum(v) FROM \"default\".\"f\" GROUP BY sym ORDER BY sym \
             SETTINGS additional_table_filters={'f' : 'sym = \\'A\\''} FORMAT TSV";
    assert_eq!(ok(&c, q).await, b"A\t4\n");
    let q = "SELECT count() FROM f AS x JOIN f AS y ON x.v = y.v \
             SETTINGS additional_table_filters={'default.f' : 'v > 1'}";
    assert_eq!(ok(&c, q).await, b"2\n");
    let r = ch(
        &c,
        "SELECT 1 SETTINGS additional_table_filters={'f' 'x'}",
        "query_id=x",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
