use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn fresh_server_has_the_quick_start_table() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    assert_eq!(c.rows("SHOW TABLES").await, json!([["trades", 0]]));
    assert_eq!(
        c.rows("DESCRIBE trades").await,
        json!([
            ["symbol", "SYMBOL"],
            ["price", "FLOAT64"],
            ["volume", "INT64"],
            ["timestamp", "TIMESTAMP_NS"]
        ])
    );
}

#[tokio::test]
async fn ticks_flag_fills_the_quick_start_table() {
    let server = TestServer::start(&["--ticks", "5000"]).await;
    let c = server.client();
    assert_eq!(c.rows("SELECT count(*) FROM trades").await, json!([[5000]]));
    let syms = c.rows("SELECT count(DISTINCT symbol) FROM trades").await;
    assert_eq!(syms, json!([[5]]));
}

#[tokio::test]
async fn create_describe_show_drop() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let r = c
        .sql_ok(
            "CREATE TABLE every_type (a INT64, b BIGINT, c INT32, d INT, e FLOAT64, f DOUBLE, \
             g FLOAT32, h REAL, i TIMESTAMP_NS, j TIMESTAMP, k SYMBOL, l STRING, m VARCHAR(20), \
             n TEXT, o BOOL, p BOOLEAN)",
        )
        .await;
    assert_eq!(r["columns"], json!(["result"]));
    assert_eq!(r["data"], json!([["Table 'every_type' created"]]));
    let types: Vec<String> = c
        .rows("DESCRIBE every_type")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[1].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "INT64",
            "INT64",
            "INT32",
            "INT32",
            "FLOAT64",
            "FLOAT64",
            "FLOAT32",
            "FLOAT32",
            "TIMESTAMP_NS",
            "TIMESTAMP_NS",
            "SYMBOL",
            "STRING",
            "STRING",
            "STRING",
            "BOOL",
            "BOOL"
        ]
    );

    let err = c
        .sql_err("CREATE TABLE every_type (a INT64)", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("already exists"), "{err}");
    let r = c
        .sql_ok("CREATE TABLE IF NOT EXISTS every_type (a INT64)")
        .await;
    assert_eq!(r["data"], json!([["Table 'every_type' already exists"]]));
    assert_eq!(
        c.rows("DESCRIBE every_type")
            .await
            .as_array()
            .unwrap()
            .len(),
        16
    );

    let names = c.rows("SHOW TABLES").await;
    assert_eq!(names, json!([["every_type", 0], ["trades", 0]]));

    let r = c.sql_ok("DROP TABLE every_type").await;
    assert_eq!(r["data"], json!([["Table 'every_type' dropped"]]));
    let err = c
        .sql_err("DROP TABLE every_type", StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(err, "Unknown table: every_type");
    let r = c.sql_ok("DROP TABLE IF EXISTS every_type").await;
    assert_eq!(r["data"], json!([["Table 'every_type' does not exist"]]));
    let err = c
        .sql_err("DESCRIBE every_type", StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(err, "Unknown table: every_type");
}

#[tokio::test]
async fn bad_definitions_are_refused_and_change_nothing() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let bad = [
        ("CREATE TABLE t (a MONEY(10,2))", "Unsupported column type"),
        ("CREATE TABLE t (a INT64, a BOOL)", "already exists"),
        ("CREATE TABLE \"../etc\" (a INT64)", "Invalid table name"),
        ("CREATE TABLE t (\"a b\" INT64)", "Invalid column name"),
        ("CREATE TABLE t AS SELECT 1", "not supported"),
        ("CREATE TABLE s.t (a INT64)", "Qualified table names"),
    ];
    for (sql, msg) in bad {
        let err = c.sql_err(sql, StatusCode::BAD_REQUEST).await;
        assert!(err.contains(msg), "{sql}: {err}");
    }
    assert_eq!(c.rows("SHOW TABLES").await, json!([["trades", 0]]));
}

#[tokio::test]
async fn alter_add_and_drop_columns_keep_the_rows() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, ts TIMESTAMP_NS)").await;
    c.sql_ok("INSERT INTO t VALUES (1, 10), (2, 20)").await;

    let r = c.sql_ok("ALTER TABLE t ADD COLUMN note STRING").await;
    assert_eq!(r["data"], json!([["Table 't' altered"]]));
    assert_eq!(
        c.rows("SELECT id, note FROM t ORDER BY id").await,
        json!([[1, null], [2, null]])
    );
    c.sql_ok("INSERT INTO t VALUES (3, 30, 'new')").await;
    assert_eq!(
        c.rows("SELECT id, note FROM t ORDER BY id").await,
        json!([[1, null], [2, null], [3, "new"]])
    );
    c.sql_ok("ALTER TABLE t ADD COLUMN IF NOT EXISTS note STRING")
        .await;

    c.sql_ok("ALTER TABLE t DROP COLUMN id").await;
    assert_eq!(
        c.rows("DESCRIBE t").await,
        json!([["ts", "TIMESTAMP_NS"], ["note", "STRING"]])
    );
    assert_eq!(c.rows("SELECT count(*) FROM t").await, json!([[3]]));

    let err = c
        .sql_err("ALTER TABLE t DROP COLUMN ts", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("time column"), "{err}");
    let err = c
        .sql_err("ALTER TABLE t DROP COLUMN nope", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("nope"), "{err}");
    // A statement whose second change is invalid applies neither.
    c.sql_err(
        "ALTER TABLE t ADD COLUMN x BOOL, DROP COLUMN ts",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(c.rows("DESCRIBE t").await.as_array().unwrap().len(), 2);
    let err = c
        .sql_err(
            "ALTER TABLE nope ADD COLUMN x BOOL",
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(err, "Unknown table: nope");
}

#[tokio::test]
async fn names_fold_to_lower_case_unless_quoted() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE Quotes (Bid FLOAT64)").await;
    c.sql_ok("INSERT INTO QUOTES VALUES (1.5)").await;
    assert_eq!(c.rows("SELECT BID FROM quotes").await, json!([[1.5]]));
    assert_eq!(c.rows("DESCRIBE quotes").await, json!([["bid", "FLOAT64"]]));
}
