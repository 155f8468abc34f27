//! The ClickHouse HTTP protocol on the same port: recognition, formats byte for byte,
//! inserts in ClickHouse's formats (compressed too), errors and their codes, credentials, the
//! handshakes clients and Grafana's plugins send, and clickhouse-connect's own API.

use reqwest::{Method, StatusCode};

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
