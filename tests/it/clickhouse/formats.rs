//! Output formats byte for byte, inserts in ClickHouse's formats, and every input format
//! round-tripped (written, read back, written again the same).

use std::io::Write;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ch, ok};
use crate::common::TestServer;

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
