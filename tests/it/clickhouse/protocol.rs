//! Recognition of ClickHouse requests, errors and their codes, HTTP compression both ways, the
//! three ways of sending credentials, sessions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ch, ok_in};
use crate::common::{Client, TestServer};

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
