//! The ClickHouse HTTP protocol on the same port: recognition, formats byte for byte,
//! inserts in ClickHouse's formats (compressed too), errors and their codes, credentials, the
//! handshakes clients and Grafana's plugins send, and clickhouse-connect's own API.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{Client, Reply};

/// Grafana's two plugins' request sequences, clickhouse-connect's API, ad hoc filters.
mod clients;
/// ClickHouse's own compressed blocks (`compress=1`, `decompress=1`), checked by independent
/// parts.
mod compressed_blocks;
/// Output formats byte for byte, and every input format round-tripped.
mod formats;
/// ClickHouse's protocol: recognition, errors and their codes, HTTP compression, credentials,
/// sessions.
mod protocol;
/// ClickHouse-declared types kept, TTLs, settings that bound statements, ClickHouse's functions.
mod types;

/// A ClickHouse request with the statement in the body and `query` as its URL parameters.
pub(crate) async fn ch(c: &Client, sql: &str, query: &str) -> Reply {
    c.request(
        Method::POST,
        &format!("/?{query}"),
        &[],
        sql.as_bytes().to_vec(),
    )
    .await
}

/// The body of a statement that must succeed (`query_id=t` marks it as ClickHouse).
pub(crate) async fn ok(c: &Client, sql: &str) -> Vec<u8> {
    ok_in(c, sql, "query_id=t").await
}

/// The body of a statement that must succeed, sent with `query`.
pub(crate) async fn ok_in(c: &Client, sql: &str, query: &str) -> Vec<u8> {
    let r = ch(c, sql, query).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{sql}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.body
}

/// Every format that carries arrays and maps both ways.
const COLLECTION_FORMATS: &[&str] = &[
    "TabSeparated",
    "TabSeparatedWithNamesAndTypes",
    "CSV",
    "CSVWithNames",
    "JSON",
    "JSONStrings",
    "JSONCompact",
    "JSONCompactStrings",
    "JSONEachRow",
    "JSONStringsEachRow",
    "JSONCompactEachRow",
    "JSONCompactStringsEachRowWithNamesAndTypes",
    "Values",
    "RowBinary",
    "RowBinaryWithNamesAndTypes",
    "Native",
    "Parquet",
];

/// Writes table `src` in each of [`COLLECTION_FORMATS`], inserts that body into a new table of
/// `columns` (`dst0`, `dst1`, … in the formats' order) and checks that it reads back as
/// `expected` in ZeptoDB JSON and as the same body in the format (a JSON envelope's
/// `statistics` aside).
pub(crate) async fn round_trip_every_format(c: &Client, columns: &str, expected: &Value) {
    for (i, format) in COLLECTION_FORMATS.iter().enumerate() {
        let written = ok(c, &format!("SELECT * FROM src ORDER BY id FORMAT {format}")).await;
        let table = format!("dst{i}");
        ok(
            c,
            &format!("CREATE TABLE {table} {columns} ENGINE = MergeTree ORDER BY id"),
        )
        .await;
        let mut body = format!("INSERT INTO {table} FORMAT {format}\n").into_bytes();
        body.extend_from_slice(&written);
        let r = c.request(Method::POST, "/?query_id=in", &[], body).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{format}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            &c.sql_ok(&format!("SELECT * FROM {table} ORDER BY id"))
                .await["data"],
            expected,
            "{format}: read back as ZeptoDB JSON"
        );
        let again = ok(
            c,
            &format!("SELECT * FROM {table} ORDER BY id FORMAT {format}"),
        )
        .await;
        if format.starts_with("JSON") && !format.contains("EachRow") {
            let strip = |body: &[u8]| {
                let mut v: Value = serde_json::from_slice(body).unwrap();
                v.as_object_mut().unwrap().remove("statistics");
                v
            };
            assert_eq!(strip(&again), strip(&written), "{format}");
        } else {
            assert_eq!(
                again,
                written,
                "{format}: {}",
                String::from_utf8_lossy(&again)
            );
        }
    }
}
