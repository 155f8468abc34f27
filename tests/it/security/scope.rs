//! Table, tenant and symbol scope: checked on every table a statement touches, in every SQL
//! shape, before anything says whether a table exists.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Secured, sql_status};
use crate::common::TestServer;

#[tokio::test]
async fn allowed_tables_hold_in_every_sql_shape() {
    let s = Secured::start(&[]).await;
    let t1 = s
        .key(json!({"name": "t1", "role": "reader", "tables": ["trades"]}))
        .await;
    let w1 = s
        .key(json!({"name": "w1", "role": "writer", "tables": ["trades"]}))
        .await;
    let a1 = s
        .key(json!({"name": "a1", "role": "admin", "tables": ["trades"]}))
        .await;
    assert_eq!(
        sql_status(&t1, "SELECT * FROM trades").await.0,
        StatusCode::OK
    );
    let (st, err) = sql_status(&t1, "SELECT * FROM secret").await;
    assert_eq!(
        (st, err.as_str()),
        (
            StatusCode::FORBIDDEN,
            "Access denied: table 'secret' not in allowed list"
        )
    );
    for sql in [
        "SELECT * FROM trades t JOIN secret s ON t.symbol = s.symbol",
        "WITH h AS (SELECT * FROM secret) SELECT * FROM h",
        "WITH a AS (SELECT * FROM secret), secret AS (SELECT * FROM trades) SELECT * FROM a",
        "SELECT symbol FROM trades UNION ALL SELECT symbol FROM secret",
        "SELECT * FROM trades WHERE volume IN (SELECT v FROM secret)",
        "SELECT (SELECT max(v) FROM secret) AS m FROM trades",
        "SELECT * FROM trades WHERE EXISTS (SELECT 1 FROM secret)",
        "SELECT * FROM (SELECT * FROM secret) sub",
        "SELECT * FROM SECRET",
        "SELECT * FROM \"secret\"",
        "SELECT * FROM secret VERSION AS OF 1",
        "SELECT * FROM secret@v1",
        "EXPLAIN SELECT * FROM secret",
        "DESCRIBE secret",
        "DESCRIBE HISTORY secret",
    ] {
        let (st, err) = sql_status(&t1, sql).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{sql} → {err}");
        assert!(err.contains("'secret'"), "{sql} → {err}");
    }
    // A CTE that only borrows the name reads an allowed table.
    let (st, err) = sql_status(
        &t1,
        "WITH secret AS (SELECT * FROM trades) SELECT count(*) FROM secret",
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{err}");
    // Writes and DDL are scoped the same way.
    assert_eq!(
        sql_status(&w1, "INSERT INTO trades SELECT * FROM trades WHERE false")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        sql_status(
            &w1,
            "INSERT INTO trades SELECT symbol, 1.0, v, timestamp FROM secret"
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    for sql in [
        "CREATE TABLE forbidden (v INT64, timestamp TIMESTAMP_NS)",
        "DROP TABLE secret",
        "ALTER TABLE secret ADD COLUMN w INT64",
        "FLUSH TABLE secret",
        "VACUUM secret",
    ] {
        assert_eq!(sql_status(&a1, sql).await.0, StatusCode::FORBIDDEN, "{sql}");
    }
    // An unknown table is not revealed to a restricted key; an unrestricted one learns it.
    assert_eq!(
        sql_status(&t1, "SELECT * FROM nothere").await.0,
        StatusCode::FORBIDDEN
    );
    let reader = s.role("reader").await;
    let (st, err) = sql_status(&reader, "SELECT * FROM nothere").await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::BAD_REQUEST, "Unknown table: nothere")
    );
    // SHOW TABLES lists only what the key may touch.
    let shown = t1.rows("SHOW TABLES").await;
    let names: Vec<_> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(names, vec![json!("trades")]);
    // Arrow ingest is scoped by its ?table=.
    let arrow = [("content-type", "application/vnd.apache.arrow.stream")];
    let r = w1
        .request(Method::POST, "/insert/arrow?table=secret", &arrow, vec![])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The table is untouched by every refused statement.
    assert_eq!(
        s.admin.rows("SELECT count(*) FROM secret").await,
        json!([[1]])
    );
}

#[tokio::test]
async fn tenants_stay_in_their_namespace() {
    let s = Secured::start(&["--tenant", "deska:deska_", "--tenant", "wide:"]).await;
    let ten = s
        .key(json!({"name": "ten", "role": "writer", "tenant_id": "deska"}))
        .await;
    assert_eq!(
        sql_status(&ten, "SELECT * FROM deska_t").await.0,
        StatusCode::OK
    );
    let (st, err) = sql_status(&ten, "SELECT * FROM deskb_t").await;
    assert_eq!(
        (st, err.as_str()),
        (
            StatusCode::FORBIDDEN,
            "Tenant 'deska' cannot access table 'deskb_t'"
        )
    );
    assert_eq!(
        sql_status(&ten, "SELECT * FROM trades").await.0,
        StatusCode::FORBIDDEN
    );
    let r = ten
        .request(
            Method::POST,
            "/",
            &[("x-zepto-tenant-id", "deskb")],
            b"SELECT * FROM deskb_t".to_vec(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a client-sent tenant header changes nothing"
    );
    let shown = ten.rows("SHOW TABLES").await;
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    // Both scopes: the allowed list is checked first.
    let both = s
        .key(json!({"name": "both", "role": "reader", "tenant_id": "deska", "tables": ["deska_t"]}))
        .await;
    let (_, err) = sql_status(&both, "SELECT * FROM deskb_t").await;
    assert_eq!(err, "Access denied: table 'deskb_t' not in allowed list");
    // An empty namespace is every table; an unregistered tenant is nothing.
    let wide = s
        .key(json!({"name": "wide", "role": "reader", "tenant_id": "wide"}))
        .await;
    assert_eq!(
        sql_status(&wide, "SELECT * FROM trades").await.0,
        StatusCode::OK
    );
    let lost = s
        .key(json!({"name": "lost", "role": "admin", "tenant_id": "missing"}))
        .await;
    let (st, err) = sql_status(&lost, "SELECT * FROM trades").await;
    assert_eq!(
        (st, err.as_str()),
        (
            StatusCode::FORBIDDEN,
            "Authenticated tenant scope is not configured"
        )
    );
    // Agent Memory is scoped to the key's tenant; a conflicting body tenant is a 400.
    let memory = json!({"namespace": "agent", "content": "desk a note", "embedding": [1.0, 0.0]});
    let stored = ten.post_ok("/api/ai/memories", memory).await;
    let id = stored["memory_id"].as_str().unwrap().to_string();
    let got = ten
        .get(&format!("/api/ai/memories/{id}?namespace=agent"))
        .await
        .json();
    assert_eq!(got["memory"]["tenant_id"], "deska");
    let other = json!({"tenant_id": "deskb", "namespace": "agent", "content": "x", "embedding": [1.0, 0.0]});
    let (st, _) = ten
        .json(Method::POST, "/api/ai/memories", Some(&other), &[])
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = ten
        .json(
            Method::POST,
            "/api/ai/memories/search",
            Some(&json!({"namespace": "agent", "query_embedding": [1.0, 0.0]})),
            &[("x-zepto-tenant-id", "deskb")],
        )
        .await;
    assert_eq!(st, StatusCode::OK, "the header is ignored, not a conflict");
    let (st, _) = lost
        .json(
            Method::POST,
            "/api/ai/memories/search",
            Some(&json!({"namespace": "agent", "query_embedding": [1.0, 0.0]})),
            &[],
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_tenants_concurrent_queries_are_bounded() {
    let s = Secured::start(&["--tenant", "deska:deska_:1", "--query-timeout-ms", "60000"]).await;
    s.admin
        .sql_ok("CREATE TABLE deska_k (v INT64, timestamp TIMESTAMP_NS)")
        .await;
    let rows: Vec<String> = (0..2000).map(|i| format!("({i}, {i})")).collect();
    s.admin
        .sql_ok(&format!("INSERT INTO deska_k VALUES {}", rows.join(",")))
        .await;
    let ten = s
        .key(json!({"name": "ten", "role": "reader", "tenant_id": "deska"}))
        .await;
    let slow = {
        let ten = ten.clone();
        tokio::spawn(async move {
            sql_status(
                &ten,
                "SELECT count(*) FROM deska_k a, deska_k b, deska_k c WHERE a.v + b.v + c.v > -1",
            )
            .await
        })
    };
    // Wait until the slow statement runs, then a second one is refused.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let id = loop {
        let list = s.admin.get("/admin/queries").await.json();
        if let Some(q) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["sql"].as_str().unwrap().contains("deska_k a"))
        {
            break q["id"].as_str().unwrap().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the slow query never showed up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let (st, err) = sql_status(&ten, "SELECT 1 FROM deska_t").await;
    assert_eq!(
        (st, err.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "Tenant query concurrency limit exceeded"
        )
    );
    s.admin
        .json(Method::DELETE, &format!("/admin/queries/{id}"), None, &[])
        .await;
    assert_eq!(slow.await.unwrap().0, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        sql_status(&ten, "SELECT 1 FROM deska_t").await.0,
        StatusCode::OK,
        "the slot was returned"
    );
}

#[tokio::test]
async fn symbol_scope_is_a_row_policy_beneath_every_query() {
    let s = Secured::start(&[]).await;
    s.admin
        .sql_ok("CREATE TABLE quotes (symbol SYMBOL, bid FLOAT64, timestamp TIMESTAMP_NS)")
        .await;
    s.admin
        .sql_ok("INSERT INTO quotes VALUES ('AAPL', 9.5, 900), ('MSFT', 19.5, 2900)")
        .await;
    s.admin
        .sql_ok("CREATE TABLE plain (v INT64, timestamp TIMESTAMP_NS)")
        .await;
    let sym = s
        .key(json!({"name": "sym", "role": "reader", "symbols": ["AAPL"]}))
        .await;
    for (sql, want) in [
        (
            "SELECT symbol, count(*) FROM trades GROUP BY symbol ORDER BY symbol",
            json!([["AAPL", 2]]),
        ),
        ("SELECT count(*) FROM trades", json!([[2]])),
        (
            "SELECT count(*) FROM trades WHERE symbol = 'MSFT'",
            json!([[0]]),
        ),
        ("SELECT sum(volume) FROM trades", json!([[300]])),
        (
            "SELECT price FROM trades ORDER BY price",
            json!([[10.0], [11.0]]),
        ),
        ("SELECT max(price) FROM trades LIMIT 1", json!([[11.0]])),
        (
            "SELECT count(*) FROM trades a JOIN trades b ON a.symbol = b.symbol",
            json!([[4]]),
        ),
        (
            "SELECT count(*) FROM trades t JOIN quotes q ON t.symbol = q.symbol",
            json!([[2]]),
        ),
        (
            "SELECT count(*) FROM trades WHERE volume IN (SELECT volume FROM trades WHERE symbol = 'MSFT')",
            json!([[0]]),
        ),
        ("SELECT (SELECT count(*) FROM quotes) AS n", json!([[1]])),
        (
            "SELECT count(*) FROM (SELECT * FROM trades UNION ALL SELECT symbol, bid, 0, timestamp FROM quotes) u",
            json!([[3]]),
        ),
        (
            "WITH t AS (SELECT * FROM trades) SELECT count(DISTINCT symbol) FROM t",
            json!([[1]]),
        ),
        // The policy runs first: a predicate that fails on a hidden row never sees one.
        (
            "SELECT count(*) FROM trades WHERE CASE WHEN symbol = 'MSFT' THEN 1/0 ELSE 0 END = 0",
            json!([[2]]),
        ),
        (
            "SELECT count(*) FROM trades WHERE CASE WHEN volume = 50 THEN 1/0 ELSE 0 END = 0",
            json!([[2]]),
        ),
    ] {
        assert_eq!(sym.rows(sql).await, want, "{sql}");
    }
    // The administrator still sees every row.
    assert_eq!(
        s.admin.rows("SELECT count(*) FROM trades").await,
        json!([[3]])
    );
    // A table whose rows carry no symbol cannot be read under a symbol scope.
    let (st, err) = sql_status(&sym, "SELECT count(*) FROM plain").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{err}");
    assert!(err.contains("no SYMBOL column"), "{err}");
    // DESCRIBE and SHOW TABLES carry no rows; DESCRIBE HISTORY's figures count every symbol.
    assert_eq!(sql_status(&sym, "DESCRIBE trades").await.0, StatusCode::OK);
    assert_eq!(
        sql_status(&sym, "DESCRIBE HISTORY trades").await.0,
        StatusCode::FORBIDDEN
    );
    // Symbols and tables together: AAPL rows of trades only.
    let both = s
        .key(json!({"name": "both", "role": "reader", "symbols": ["AAPL"], "tables": ["trades"]}))
        .await;
    assert_eq!(both.rows("SELECT count(*) FROM trades").await, json!([[2]]));
    assert_eq!(
        sql_status(&both, "SELECT * FROM quotes").await.0,
        StatusCode::FORBIDDEN
    );
    // The plan shows the policy.
    let plan = sym
        .sql_ok("EXPLAIN SELECT count(*) FROM trades WHERE price > 1")
        .await;
    assert!(plan.to_string().contains("RowPolicyExec"), "{plan}");
}

#[tokio::test]
async fn symbol_scoped_keys_cannot_write() {
    let s = Secured::start(&[]).await;
    let sym = s
        .key(json!({"name": "sym", "role": "writer", "symbols": ["AAPL"]}))
        .await;
    for sql in [
        "INSERT INTO trades VALUES ('MSFT', 1.0, 1, 9000)",
        "INSERT INTO trades VALUES ('AAPL', 1.0, 1, 9000)",
        "DELETE FROM trades WHERE symbol = 'MSFT'",
        "UPDATE trades SET volume = 0",
    ] {
        assert_eq!(
            sql_status(&sym, sql).await.0,
            StatusCode::FORBIDDEN,
            "{sql}"
        );
    }
    let arrow = [("content-type", "application/vnd.apache.arrow.stream")];
    let r = sym
        .request(Method::POST, "/insert/arrow?table=trades", &arrow, vec![])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.admin.rows("SELECT count(*) FROM trades").await,
        json!([[3]])
    );
}

#[tokio::test]
async fn open_mode_trusts_the_tenant_header() {
    let server = TestServer::start(&["--no-auth", "--tenant", "deska:deska_"]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE deska_t (v INT64, timestamp TIMESTAMP_NS)")
        .await;
    c.sql_ok("CREATE TABLE deskb_t (v INT64, timestamp TIMESTAMP_NS)")
        .await;
    let as_desk = |sql: &str| {
        c.request(
            Method::POST,
            "/",
            &[("x-zepto-tenant-id", "deska")],
            sql.as_bytes().to_vec(),
        )
    };
    assert_eq!(
        as_desk("SELECT * FROM deska_t").await.status,
        StatusCode::OK
    );
    let r = as_desk("SELECT * FROM deskb_t").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["error"],
        "Tenant 'deska' cannot access table 'deskb_t'"
    );
    assert_eq!(
        c.sql("SELECT * FROM deskb_t").await.0,
        StatusCode::OK,
        "no header: unrestricted"
    );
    // Unparseable SQL is still a parse error in open mode.
    assert_eq!(c.sql("SELECT FROM").await.0, StatusCode::BAD_REQUEST);
}
