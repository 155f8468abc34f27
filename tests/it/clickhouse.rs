//! The ClickHouse HTTP protocol on the same port: recognition, formats byte for byte,
//! inserts in ClickHouse's formats (compressed too), errors and their codes, credentials, the
//! handshakes clients and Grafana's plugins send, and clickhouse-connect's own API.

use std::io::Write;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Client, Reply, TestServer};

async fn ch(c: &Client, sql: &str, query: &str) -> Reply {
    c.request(
        Method::POST,
        &format!("/?{query}"),
        &[],
        sql.as_bytes().to_vec(),
    )
    .await
}

async fn ok(c: &Client, sql: &str) -> Vec<u8> {
    ok_in(c, sql, "query_id=t").await
}

#[tokio::test]
async fn recognition_headers_and_the_default_format() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    // Plain requests keep the ZeptoDB JSON.
    assert_eq!(c.sql_ok("SELECT 1 AS one").await["data"], json!([[1]]));
    // A FORMAT clause alone is ClickHouse's.
    let r = c
        .request(
            Method::POST,
            "/",
            &[],
            b"SELECT 1 AS one FORMAT JSONEachRow".to_vec(),
        )
        .await;
    assert_eq!(r.body, b"{\"one\":1}\n");
    // query_id is echoed; the default format is TabSeparated.
    let r = ch(&c, "SELECT version(), timezone()", "query_id=it-1").await;
    assert_eq!(r.header("x-clickhouse-query-id").as_deref(), Some("it-1"));
    assert_eq!(
        r.header("x-clickhouse-format").as_deref(),
        Some("TabSeparated")
    );
    assert_eq!(r.header("x-clickhouse-timezone").as_deref(), Some("UTC"));
    assert_eq!(r.body, b"24.8.1.1\tUTC\n");
    let summary: Value = serde_json::from_str(&r.header("x-clickhouse-summary").unwrap()).unwrap();
    assert!(
        summary.as_object().unwrap().values().all(Value::is_string),
        "{summary}"
    );
    // GET with query=, and `GET /` without one.
    let r = c.get("/?query=SELECT%201&query_id=").await;
    assert_eq!((r.status, r.body), (StatusCode::OK, b"1\n".to_vec()));
    // DDL answers no X-ClickHouse-Format (clickhouse-connect's command() reads that).
    let r = ch(
        &c,
        "CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a",
        "query_id=x",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("x-clickhouse-format").is_none());
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn formats_are_byte_exact() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    assert_eq!(
        ok(
            &c,
            "SELECT 1 AS a, 'x\\ty' AS b, NULL AS c FORMAT TabSeparatedWithNamesAndTypes"
        )
        .await,
        b"a\tb\tc\nUInt8\tString\tNullable(Nothing)\n1\tx\\ty\t\\N\n"
    );
    assert_eq!(
        ok(&c, "SELECT 1 AS a, 'q\"' AS b FORMAT CSVWithNames").await,
        b"\"a\",\"b\"\n1,\"q\"\"\"\n"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT number AS n FROM system.numbers LIMIT 2 FORMAT JSONEachRow"
        )
        .await,
        b"{\"n\":\"0\"}\n{\"n\":\"1\"}\n"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT toUInt8(5) AS a, 'z' AS b FORMAT RowBinaryWithNamesAndTypes"
        )
        .await,
        b"\x02\x01a\x01b\x05UInt8\x06String\x05\x01z"
    );
    let json: Value =
        serde_json::from_slice(&ok(&c, "SELECT count() AS c, 1 FROM system.one FORMAT JSON").await)
            .unwrap();
    assert_eq!(
        json["meta"],
        json!([{"name": "c", "type": "UInt64"}, {"name": "1", "type": "UInt8"}])
    );
    assert_eq!(
        (json["data"][0]["c"].clone(), json["rows"].clone()),
        (json!("1"), json!(1))
    );
    // Native, as clickhouse-connect probes it (BlockInfo) and as clickhouse-go reads it.
    let r = ch(
        &c,
        "SELECT 1 AS check\n FORMAT Native",
        "client_protocol_version=54405",
    )
    .await;
    assert_eq!(&r.body[8..16], b"\x01\x01\x05check");
    let r = ch(
        &c,
        "SELECT displayName(), version(), revision(), timezone()",
        "default_format=Native&client_protocol_version=54460",
    )
    .await;
    let body = &r.body;
    assert_eq!(
        &body[..10],
        b"\x01\x00\x02\xff\xff\xff\xff\x00\x04\x01",
        "{body:?}"
    );
    assert!(body.windows(8).any(|w| {
        w == b"\x06UInt32"[..]
            .iter()
            .chain(b"\x00")
            .copied()
            .collect::<Vec<_>>()
            .as_slice()
    }));
    // Arrow as an IPC file, Parquet as a file.
    assert!(
        ok(&c, "SELECT 1 AS a FORMAT Arrow")
            .await
            .starts_with(b"ARROW1")
    );
    assert!(
        ok(&c, "SELECT 1 AS a FORMAT Parquet")
            .await
            .starts_with(b"PAR1")
    );
    let r = ch(&c, "SELECT 1 FORMAT Nope", "query_id=x").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("73")
    );
}

#[tokio::test]
async fn inserts_in_clickhouse_formats_round_trip() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    ok(
        &c,
        "CREATE TABLE r (id Int64, s Nullable(String), ts TIMESTAMP_NS)",
    )
    .await;
    // JSONEachRow with the statement in query=, rows in the body.
    let r = c
        .request(
            Method::POST,
            "/?query=INSERT%20INTO%20r%20FORMAT%20JSONEachRow",
            &[],
            b"{\"id\":1,\"s\":\"a\",\"ts\":\"2024-01-01 00:00:00.000000001\"}\n".to_vec(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let summary: Value = serde_json::from_str(&r.header("x-clickhouse-summary").unwrap()).unwrap();
    assert_eq!(summary["written_rows"], "1");
    // TabSeparated, lz4-frame compressed (clickhouse-connect's inserts).
    let mut lz =
        lz4_frame(b"INSERT INTO r (id, s, ts) FORMAT TabSeparated\n2\t\\N\t2024-01-02 00:00:00\n");
    let r = c
        .request(
            Method::POST,
            "/",
            &[("Content-Encoding", "lz4")],
            std::mem::take(&mut lz),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // CSV, gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"INSERT INTO r FORMAT CSV\n3,\"x,y\",2024-01-03 00:00:00\n")
        .unwrap();
    let r = c
        .request(
            Method::POST,
            "/?query_id=z",
            &[("Content-Encoding", "gzip")],
            gz.finish().unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // Native: what Strata writes, Strata reads.
    let native = ok(
        &c,
        "SELECT id + 10 AS id, s, ts FROM r ORDER BY id FORMAT Native",
    )
    .await;
    let mut body = b"INSERT INTO r FORMAT Native\n".to_vec();
    body.extend_from_slice(&native);
    let r = c.request(Method::POST, "/?query_id=n", &[], body).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // A bad row fails the whole insert: nothing of it is stored.
    let r = c
        .request(
            Method::POST,
            "/?query_id=b",
            &[],
            b"INSERT INTO r FORMAT TSV\n4\ta\t2024-01-01\nnot-a-number\tb\t2024-01-01\n".to_vec(),
        )
        .await;
    assert_ne!(r.status, StatusCode::OK);
    assert!(r.header("x-clickhouse-exception-code").is_some());
    // Read back as ZeptoDB JSON: values, NULLs and nanoseconds.
    let rows = c.sql_ok("SELECT id, s, ts FROM r ORDER BY id").await["data"].clone();
    assert_eq!(
        rows,
        json!([
            [1, "a", 1_704_067_200_000_000_001i64],
            [2, null, 1_704_153_600_000_000_000i64],
            [3, "x,y", 1_704_240_000_000_000_000i64],
            [11, "a", 1_704_067_200_000_000_001i64],
            [12, null, 1_704_153_600_000_000_000i64],
            [13, "x,y", 1_704_240_000_000_000_000i64]
        ])
    );
    // And as ClickHouse JSON: nanoseconds kept, DateTime64(9).
    let json: Value =
        serde_json::from_slice(&ok(&c, "SELECT ts FROM r WHERE id = 1 FORMAT JSON").await).unwrap();
    assert_eq!(json["meta"][0]["type"], "Nullable(DateTime64(9, 'UTC'))");
    assert_eq!(json["data"][0]["ts"], "2024-01-01 00:00:00.000000001");
}

fn lz4_frame(data: &[u8]) -> Vec<u8> {
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn errors_carry_clickhouse_codes_and_compression_works_both_ways() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let r = ch(&c, "SELECT * FROM no_such_table", "query_id=e").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("60")
    );
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.starts_with("Code: 60. DB::Exception: ")
            && text.ends_with("(UNKNOWN_TABLE) (version 24.8.1.1)\n"),
        "{text}"
    );
    let r = ch(&c, "SELEC 1", "query_id=e").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.starts_with(b"Code: 62. DB::Exception:"));
    let r = ch(&c, "SHOW TABLES FROM nope", "query_id=e").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("81")
    );
    // GET is read-only.
    let r = c
        .get("/?query=CREATE%20TABLE%20g%20(a%20Int64)&query_id=g")
        .await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("164")
    );
    // Response compression only when enabled, gzip preferred.
    let r = c
        .request(
            Method::POST,
            "/?enable_http_compression=1",
            &[("Accept-Encoding", "zstd, gzip")],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(r.header("content-encoding").as_deref(), Some("gzip"));
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut plain).unwrap();
    assert_eq!(plain, b"1\n");
    let r = c
        .request(
            Method::POST,
            "/?query_id=c",
            &[("Content-Encoding", "snappy")],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("89")
    );
    // Parameters are bound server-side, typed.
    assert_eq!(
        c.request(
            Method::POST,
            "/?param_x=41",
            &[],
            b"SELECT {x:UInt32} + 1".to_vec()
        )
        .await
        .body,
        b"42\n"
    );
}

#[tokio::test]
async fn credentials_the_three_clickhouse_ways() {
    let secured = crate::security::Secured::start(&[]).await;
    let c = secured.anon.clone();
    let key = secured.admin_key.as_str();
    let basic = format!("Basic {}", base64_encode(&format!("default:{key}")));
    for (path, headers) in [
        (
            "/?query_id=a".to_string(),
            vec![("X-ClickHouse-User", "any"), ("X-ClickHouse-Key", key)],
        ),
        (
            "/?query_id=a".to_string(),
            vec![("Authorization", basic.as_str())],
        ),
        (format!("/?user=u&password={key}"), vec![]),
    ] {
        let r = c
            .request(Method::POST, &path, &headers, b"SELECT 1".to_vec())
            .await;
        assert_eq!(
            (r.status, r.body),
            (StatusCode::OK, b"1\n".to_vec()),
            "{headers:?}"
        );
    }
    let r = c
        .request(
            Method::POST,
            "/?query_id=a",
            &[
                ("X-ClickHouse-User", "default"),
                ("X-ClickHouse-Key", "wrong"),
            ],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.starts_with(b"Code: 516. DB::Exception:"),
        "{:?}",
        String::from_utf8_lossy(&r.body)
    );
    let r = c
        .request(
            Method::POST,
            &format!("/?password={key}"),
            &[("Authorization", basic.as_str())],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("516")
    );
    let r = c
        .request(Method::POST, "/?query_id=a", &[], b"SELECT 1".to_vec())
        .await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("516")
    );
    // A role's denial is ClickHouse's ACCESS_DENIED, and reveals nothing of the table.
    let reader = secured
        .key(json!({"name": "r", "role": "reader", "tables": ["trades"]}))
        .await;
    let token = reader_key(&reader);
    for table in ["secret", "no_such_table"] {
        let r = c
            .request(
                Method::POST,
                "/?query_id=d",
                &[("X-ClickHouse-Key", token.as_str())],
                format!("SELECT * FROM {table}").into_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{table}");
        assert_eq!(
            r.header("x-clickhouse-exception-code").as_deref(),
            Some("497")
        );
    }
}

fn reader_key(client: &Client) -> String {
    client.token().expect("a key client").to_string()
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

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
async fn clickhouse_types_are_kept_and_the_hdb_stays_readable() {
    let data = tempfile::TempDir::new().unwrap();
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    ok(
        &c,
        "CREATE TABLE typed (id UInt8, n Int16, big UInt64, d Date, dt DateTime, \
         s LowCardinality(String), u UUID, code FixedString(2), price Decimal(10, 2), \
         at DateTime('Europe/Paris'), t3 DateTime64(3), note Nullable(String)) \
         ENGINE = MergeTree PARTITION BY toYYYYMM(dt) ORDER BY (s, id) SETTINGS index_granularity = 8192",
    )
    .await;
    let rows = "1\t-2\t18446744073709551615\t2024-01-02\t2024-01-02 03:04:05\tx\t\
                61f0c404-5cb3-11e7-907b-a6006ad3dba0\tfr\t12.34\t2024-01-02 04:04:05\t\
                2024-01-02 03:04:05.123\t\\N\n\
                2\t300\t0\t1970-01-01\t1970-01-01 00:00:00\ty\t\
                00000000-0000-0000-0000-000000000000\tde\t-0.50\t1970-01-01 01:00:00\t\
                1970-01-01 00:00:00.000\tsome text\n";
    let r = c
        .request(
            Method::POST,
            "/?query=INSERT%20INTO%20typed%20FORMAT%20TSV",
            &[],
            rows.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // Declared as written, Nullable only where declared.
    let types = ok(
        &c,
        "SELECT name, type FROM system.columns WHERE table = 'typed' FORMAT TSV",
    )
    .await;
    assert_eq!(
        String::from_utf8(types).unwrap(),
        "id\tUInt8\nn\tInt16\nbig\tUInt64\nd\tDate\ndt\tDateTime\ns\tString\nu\tUUID\n\
         code\tFixedString(2)\nprice\tDecimal(10, 2)\nat\tDateTime(\\'Europe/Paris\\')\n\
         t3\tDateTime64(3)\nnote\tNullable(String)\n"
    );
    let create = ok(&c, "SHOW CREATE TABLE typed FORMAT TSVRaw").await;
    let create = String::from_utf8(create).unwrap();
    assert!(create.contains("`u` UUID,"), "{create}");
    assert!(create.contains("ORDER BY (`s`, `id`)"), "{create}");
    // The Paris column reads and prints wall-clock time in Paris: 04:04:05 there is 03:04:05 UTC.
    let at = ok(
        &c,
        "SELECT toUnixTimestamp(at) - toUnixTimestamp(dt) FROM typed FORMAT TSV",
    )
    .await;
    assert_eq!(at, b"0\n0\n");

    let query = "SELECT * FROM typed ORDER BY id FORMAT TSV";
    let hot = ok(&c, query).await;
    assert_eq!(String::from_utf8(hot.clone()).unwrap(), rows);
    // Binary formats in each declared type's layout, read back into a copy of the table.
    for format in ["Native", "RowBinaryWithNamesAndTypes"] {
        let copy = format!("copy_{}", format.to_lowercase());
        ok(
            &c,
            &format!(
                "CREATE TABLE {copy} (id UInt8, n Int16, big UInt64, d Date, dt DateTime, \
                 s LowCardinality(String), u UUID, code FixedString(2), price Decimal(10, 2), \
                 at DateTime('Europe/Paris'), t3 DateTime64(3), note Nullable(String)) \
                 ENGINE = MergeTree ORDER BY id"
            ),
        )
        .await;
        let body = ok(
            &c,
            &format!("SELECT * FROM typed ORDER BY id FORMAT {format}"),
        )
        .await;
        let uuid = [0xe7, 0x11, 0xb3, 0x5c, 0x04, 0xc4, 0xf0, 0x61];
        assert!(
            body.windows(8).any(|w| w == uuid),
            "{format}: UUID's high half, little-endian"
        );
        let r = c
            .request(
                Method::POST,
                &format!("/?query=INSERT%20INTO%20{copy}%20FORMAT%20{format}"),
                &[],
                body,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{format}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let back = ok(&c, &format!("SELECT * FROM {copy} ORDER BY id FORMAT TSV")).await;
        assert_eq!(back, hot, "{format}");
    }
    // A row without values for non-Nullable columns stores their defaults; bad values are named.
    ok(&c, "INSERT INTO copy_native (id) VALUES (7)").await;
    assert_eq!(
        ok(
            &c,
            "SELECT u, code, price, d, note FROM copy_native WHERE id = 7 FORMAT TSV"
        )
        .await,
        b"00000000-0000-0000-0000-000000000000\t\t0.00\t1970-01-01\t\\N\n"
    );
    for (insert, says) in [
        (
            "INSERT INTO copy_native (id, u) VALUES (8, 'not-a-uuid')",
            "'not-a-uuid' is not one",
        ),
        (
            "INSERT INTO copy_native (id, code) VALUES (8, 'abc')",
            "FixedString(2)",
        ),
    ] {
        let r = ch(&c, insert, "query_id=t").await;
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{insert}: {body}");
        assert!(body.contains(says), "{insert}: {body}");
    }

    // Flushed to the HDB: the same values from Strata, and from three other readers.
    ok(&c, "FLUSH TABLE typed").await;
    assert_eq!(ok(&c, query).await, hot);
    let uri = data.path().join("tables/typed");
    let seen = crate::common::external::third_party_reads(uri.to_str().unwrap(), "id", &[]);
    for reader in ["pyarrow", "duckdb"] {
        assert_eq!(seen[reader], seen["deltalake"], "{reader}");
    }
    assert_eq!(
        seen["deltalake"][0],
        json!([
            1,
            -2,
            "18446744073709551615",
            "2024-01-02",
            "2024-01-02 03:04:05+00:00",
            "x",
            "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
            "fr",
            "12.34",
            "2024-01-02 03:04:05+00:00",
            "2024-01-02 03:04:05.123000+00:00",
            null
        ])
    );
}

#[tokio::test]
async fn clickhouse_ttl_and_time_columns_of_datetime() {
    let data = tempfile::TempDir::new().unwrap();
    let dir = data.path().to_str().unwrap();
    // No background round for an hour: the old rows reach the HDB before any TTL sweep.
    let mut server = TestServer::start(&["--hdb-dir", dir, "--flush-interval-ms", "3600000"]).await;
    let c = server.client();
    ok(
        &c,
        "CREATE TABLE ev (id UInt32, at DateTime) ENGINE = MergeTree ORDER BY id \
         TTL toDateTime(at) + INTERVAL 2 DAY DELETE",
    )
    .await;
    let create = String::from_utf8(ok(&c, "SHOW CREATE TABLE ev FORMAT TSVRaw").await).unwrap();
    assert!(
        create.ends_with("TTL `at` + toIntervalDay(2)\n"),
        "{create}"
    );
    ok(
        &c,
        "INSERT INTO ev VALUES (1, '2020-01-01 00:00:00'), (2, '2020-01-02 00:00:00')",
    )
    .await;
    ok(&c, "FLUSH TABLE ev").await;
    ok(&c, "INSERT INTO ev VALUES (3, '2020-01-03 00:00:00')").await;
    ok(&c, "INSERT INTO ev SELECT 4, now()").await;
    assert_eq!(c.rows("SELECT count(*) FROM ev").await, json!([[4]]));
    assert_eq!(server.terminate(), Some(0));

    // With sweeps every 20 ms the old days leave both tiers: the HDB's files (whose DateTime
    // statistics are Delta timestamps) by a Delta commit, the replayed hot rows in memory.
    let server = TestServer::start(&["--hdb-dir", dir, "--flush-interval-ms", "20"]).await;
    let c = server.client();
    crate::tiered::eventually(&c, "SELECT id FROM ev", json!([[4]])).await;
    let history = c.rows("DESCRIBE HISTORY ev").await;
    let operations: Vec<&Value> = history.as_array().unwrap().iter().map(|h| &h[2]).collect();
    assert!(operations.contains(&&json!("DELETE")), "{history}");
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

/// Every format ClickHouse reads: what Strata writes in it, Strata reads back into a new table
/// with the same values (NULLs, escapes and nanoseconds included), and writes again byte for
/// byte the same.
#[tokio::test]
async fn every_input_format_round_trips() {
    const FORMATS: &[&str] = &[
        "TabSeparated",
        "TabSeparatedWithNames",
        "TabSeparatedWithNamesAndTypes",
        "CSV",
        "CSVWithNames",
        "CSVWithNamesAndTypes",
        "JSON",
        "JSONStrings",
        "JSONCompact",
        "JSONCompactStrings",
        "JSONEachRow",
        "JSONStringsEachRow",
        "JSONCompactEachRow",
        "JSONCompactEachRowWithNames",
        "JSONCompactEachRowWithNamesAndTypes",
        "JSONCompactStringsEachRow",
        "JSONCompactStringsEachRowWithNamesAndTypes",
        "Values",
        "RowBinary",
        "RowBinaryWithNames",
        "RowBinaryWithNamesAndTypes",
        "Native",
        "Arrow",
        "ArrowStream",
        "Parquet",
    ];
    const COLUMNS: &str = "(id Int64, s Nullable(String), f Float64, n Nullable(Int32), \
                           d Date, ts TIMESTAMP_NS)";
    let server = TestServer::start(&[]).await;
    let c = server.client();
    ok(&c, &format!("CREATE TABLE src {COLUMNS}")).await;
    ok(
        &c,
        "INSERT INTO src VALUES \
         (1, 'tab\\there, \"quoted\", it''s\\nnew line \\\\ back', 1.5, NULL, '2024-01-02', \
          '2024-01-01 00:00:00.000000001'), \
         (2, NULL, -0.25, -7, '1970-01-01', '2024-06-30 23:59:59.999999999'), \
         (3, '', 10000000000, 2147483647, '2149-06-06', '1970-01-01 00:00:00')",
    )
    .await;
    let expected = c.sql_ok("SELECT * FROM src ORDER BY id").await["data"].clone();
    assert_eq!(expected.as_array().map(Vec::len), Some(3), "{expected}");
    for (i, format) in FORMATS.iter().enumerate() {
        let written = ok(
            &c,
            &format!("SELECT * FROM src ORDER BY id FORMAT {format}"),
        )
        .await;
        let table = format!("dst{i}");
        ok(&c, &format!("CREATE TABLE {table} {COLUMNS}")).await;
        let mut body = format!("INSERT INTO {table} FORMAT {format}\n").into_bytes();
        body.extend_from_slice(&written);
        let r = c.request(Method::POST, "/?query_id=in", &[], body).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{format}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let back = c
            .sql_ok(&format!("SELECT * FROM {table} ORDER BY id"))
            .await["data"]
            .clone();
        assert_eq!(back, expected, "{format}: read back as ZeptoDB JSON");
        let again = ok(
            &c,
            &format!("SELECT * FROM {table} ORDER BY id FORMAT {format}"),
        )
        .await;
        if !format.starts_with("JSON") || format.ends_with("EachRow") || format.contains("Names") {
            assert_eq!(
                again,
                written,
                "{format}: {}",
                String::from_utf8_lossy(&again)
            );
        } else {
            // The envelopes' statistics (elapsed time) differ; everything else is the same.
            let strip = |body: &[u8]| {
                let mut v: Value = serde_json::from_slice(body).unwrap();
                v.as_object_mut().unwrap().remove("statistics");
                v
            };
            assert_eq!(strip(&again), strip(&written), "{format}");
        }
    }
    // TabSeparatedRaw carries no escapes, so it round-trips rows without tabs or newlines.
    ok(&c, &format!("CREATE TABLE raw {COLUMNS}")).await;
    let written = ok(
        &c,
        "SELECT * FROM src WHERE id > 1 ORDER BY id FORMAT TabSeparatedRaw",
    )
    .await;
    let mut body = b"INSERT INTO raw FORMAT TabSeparatedRaw\n".to_vec();
    body.extend_from_slice(&written);
    assert_eq!(
        c.request(Method::POST, "/?query_id=raw", &[], body)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        ok(&c, "SELECT * FROM raw ORDER BY id FORMAT TabSeparatedRaw").await,
        written
    );
}

/// The formats for people in a terminal, and the `…Strings` envelopes, over HTTP.
#[tokio::test]
async fn pretty_values_and_strings_outputs() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let pretty = ok(
        &c,
        "SELECT 1 AS a, 'xy' AS b, NULL AS c FORMAT PrettyCompact",
    )
    .await;
    assert_eq!(
        String::from_utf8(pretty).unwrap(),
        "┌─a─┬─b──┬─c────┐\n│ 1 │ xy │ ᴺᵁᴸᴸ │\n└───┴────┴──────┘\n"
    );
    assert_eq!(
        ok(&c, "SELECT 1 AS a, 'x''y' AS b FORMAT Values").await,
        b"(1,'x\\'y')"
    );
    let json: Value =
        serde_json::from_slice(&ok(&c, "SELECT 1 AS a, 2.5 AS b FORMAT JSONStrings").await)
            .unwrap();
    assert_eq!(json["data"], json!([{"a": "1", "b": "2.5"}]));
    assert!(ok(&c, "SELECT 1 FORMAT Null").await.is_empty());
}

/// `max_result_rows` (with either overflow mode) and `max_execution_time` bound a statement,
/// from the URL or its `SETTINGS`; ClickHouse's aggregate and formatting functions answer as
/// ClickHouse's do.
#[tokio::test]
async fn settings_bound_statements_and_clickhouse_functions_answer() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    ok(&c, "CREATE TABLE f (s String, p Float64, ts DateTime64(9))").await;
    ok(
        &c,
        "INSERT INTO f VALUES ('a', 3, '2024-05-06 07:08:09'), ('a', 1, '2024-05-06 07:08:10'), \
         ('b', 2, '2024-05-06 07:08:08'), ('b', 10, '2024-05-06 07:08:11')",
    )
    .await;
    // The settings Strata acts on are listed, at their defaults, and only those.
    let listed = ok(
        &c,
        "SELECT name, value, changed, type FROM system.settings WHERE name LIKE 'max%' \
         ORDER BY name FORMAT TSV",
    )
    .await;
    assert_eq!(
        listed,
        b"max_execution_time\t0\t0\tSeconds\nmax_result_rows\t0\t0\tUInt64\n"
    );
    // Comparisons are UInt8 1 or 0 (Nullable, as the columns are), as ClickHouse computes
    // them; Bool stays Bool.
    assert_eq!(
        ok(&c, "SELECT p > 2 AS big, s = 'a' AND p < 2, true FROM f ORDER BY p LIMIT 2 FORMAT TSVWithNamesAndTypes").await,
        b"big\ts = \\'a\\' AND p < 2\ttrue\nNullable(UInt8)\tNullable(UInt8)\tBool\n0\t1\ttrue\n0\t0\ttrue\n"
    );
    let r = ch(&c, "SELECT * FROM f", "max_result_rows=3").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("396")
    );
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        body.contains("max_result_rows") && !body.contains("Arrow"),
        "{body}"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT s FROM f ORDER BY p SETTINGS max_result_rows = 2, result_overflow_mode = 'break'"
        )
        .await,
        b"a\nb\n"
    );
    let slow = "SELECT count() FROM (SELECT number FROM system.numbers LIMIT 200000) a, \
                (SELECT number FROM system.numbers LIMIT 200000) b WHERE a.number + b.number = 7";
    let r = ch(&c, slow, "max_execution_time=0.2").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("159"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = ch(&c, "SELECT 1", "max_execution_time=soon").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("72")
    );
    assert_eq!(
        ok(
            &c,
            "SELECT s, argMin(p, ts), argMax(p, ts), quantile(0.5)(p), quantiles(0, 1)(p) \
             FROM f GROUP BY s ORDER BY s"
        )
        .await,
        b"a\t3\t1\t2\t[1,3]\nb\t2\t10\t6\t[2,10]\n"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT formatDateTime(ts, '%Y/%m/%d %H:%i:%S %M') FROM f ORDER BY ts LIMIT 1"
        )
        .await,
        b"2024/05/06 07:08:08 May\n"
    );
    assert_eq!(
        ok(&c, "SELECT arrayJoin([1, 2]) AS x, uptime() < 86400").await,
        b"1\t1\n2\t1\n"
    );
}

#[tokio::test]
async fn sessions_keep_their_settings_and_serve_one_request_at_a_time() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let five = "SELECT number FROM system.numbers LIMIT 5 FORMAT TSV";
    let set = ch(
        &c,
        "SET max_result_rows = 2, result_overflow_mode = 'break'",
        "session_id=s1",
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let r = ch(&c, five, "session_id=s1").await;
    assert_eq!(r.body, b"0\n1\n", "the session's SET applies");
    assert_eq!(ch(&c, five, "session_id=s2").await.body.len(), 10);
    assert_eq!(ch(&c, five, "query_id=q").await.body.len(), 10);
    // The URL and the statement's SETTINGS still win over the session's.
    let r = ch(&c, five, "session_id=s1&max_result_rows=0").await;
    assert_eq!(r.body.len(), 10, "{:?}", String::from_utf8_lossy(&r.body));

    let bad = ch(&c, "SET max_result_rows = 'many'", "session_id=s1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.header("x-clickhouse-exception-code").as_deref(),
        Some("72")
    );
    let missing = ch(&c, "SELECT 1", "session_id=nope&session_check=1").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.header("x-clickhouse-exception-code").as_deref(),
        Some("372")
    );

    // One request at a time (373 SESSION_IS_LOCKED otherwise) is the registry's unit test:
    // here, a session whose request failed is free again.
    let r = ch(&c, "SELECT * FROM nowhere", "session_id=s1").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(ok_in(&c, "SELECT 1", "session_id=s1").await, b"1\n");
}

async fn ok_in(c: &Client, sql: &str, query: &str) -> Vec<u8> {
    let r = ch(c, sql, query).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{sql}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.body
}
