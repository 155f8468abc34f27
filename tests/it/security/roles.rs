//! Roles × statement classes and endpoints, credential parsing, and the 401/403 answers.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Secured, sql_status, status};

const READ: &[&str] = &[
    "SELECT count(*) FROM trades",
    "SHOW TABLES",
    "DESCRIBE trades",
    "EXPLAIN SELECT * FROM trades",
];
const WRITE: &[&str] = &[
    "INSERT INTO trades VALUES ('IBM', 30.0, 10, 4000)",
    "UPDATE trades SET volume = 11 WHERE symbol = 'IBM'",
    "DELETE FROM trades WHERE symbol = 'IBM'",
];
const ADMIN: &[&str] = &[
    "CREATE TABLE made_here (v INT64, timestamp TIMESTAMP_NS)",
    "ALTER TABLE made_here ADD COLUMN w INT64",
    "FLUSH TABLE made_here",
    "DROP TABLE made_here",
];

#[tokio::test]
async fn every_role_against_every_statement_class() {
    let s = Secured::start(&[]).await;
    // (role, may read, may write, may administer)
    for (role, r, w, a) in [
        ("reader", true, false, false),
        ("writer", true, true, false),
        ("analyst", true, false, false),
        ("metrics", false, false, false),
        ("admin", true, true, true),
    ] {
        let c = s.role(role).await;
        for (sqls, allowed, perm) in [(READ, r, "READ"), (WRITE, w, "WRITE"), (ADMIN, a, "ADMIN")] {
            for sql in sqls {
                let (st, err) = sql_status(&c, sql).await;
                if allowed {
                    assert_eq!(st, StatusCode::OK, "{role}: {sql} → {err}");
                } else {
                    assert_eq!(st, StatusCode::FORBIDDEN, "{role}: {sql} → {err}");
                    assert_eq!(
                        err,
                        format!("{perm} permission required for SQL statement"),
                        "{role}: {sql}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn get_requests_check_the_permission_before_the_method() {
    let s = Secured::start(&[]).await;
    let writer = s.role("writer").await;
    let get = |c: &crate::common::Client, q: &str| {
        let path = format!("/?query={}", q.replace(' ', "%20"));
        let c = c.clone();
        async move { status(&c, Method::GET, &path).await }
    };
    assert_eq!(
        get(&writer, "SELECT count(*) FROM trades").await,
        StatusCode::OK
    );
    assert_eq!(
        get(&writer, "DROP TABLE trades").await,
        StatusCode::FORBIDDEN,
        "permission first"
    );
    assert_eq!(
        get(&writer, "INSERT INTO trades VALUES ('X', 1.0, 1, 1)").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        get(&s.admin, "DROP TABLE trades").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        sql_status(&s.admin, "SELECT count(*) FROM trades").await.0,
        StatusCode::OK,
        "still there"
    );
}

#[tokio::test]
async fn unclassifiable_sql_is_refused_when_authenticated() {
    let s = Secured::start(&[]).await;
    let reader = s.role("reader").await;
    for sql in ["SELECT FROM", "", "VACUUUM trades", "SELECT 1; SELECT 2"] {
        let (st, err) = sql_status(&reader, sql).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{sql:?} → {err}");
        assert!(
            err.starts_with("SQL statement could not be authorized"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn endpoints_need_their_permission() {
    let s = Secured::start(&[]).await;
    let reader = s.role("reader").await;
    let writer = s.role("writer").await;
    let metrics = s.role("metrics").await;
    let analyst = s.role("analyst").await;
    for (c, path, want) in [
        (&metrics, "/metrics", StatusCode::OK),
        (&metrics, "/stats", StatusCode::OK),
        (&metrics, "/api/ai/stats", StatusCode::OK),
        (&analyst, "/metrics", StatusCode::OK),
        (&analyst, "/stats", StatusCode::OK),
        (&writer, "/stats", StatusCode::OK),
        (&writer, "/metrics", StatusCode::FORBIDDEN),
        (&reader, "/stats", StatusCode::FORBIDDEN),
        (&reader, "/metrics", StatusCode::FORBIDDEN),
        (&reader, "/api/ai/stats", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(status(c, Method::GET, path).await, want, "{path}");
    }
    let denied = reader.get("/metrics").await;
    assert_eq!(denied.json()["error"], "METRICS permission required");
    for path in [
        "/admin/keys",
        "/admin/queries",
        "/admin/audit",
        "/admin/sessions",
        "/admin/version",
        "/admin/cluster",
    ] {
        assert_eq!(
            status(&writer, Method::GET, path).await,
            StatusCode::FORBIDDEN,
            "writer {path}"
        );
        assert_eq!(
            status(&s.anon, Method::GET, path).await,
            StatusCode::UNAUTHORIZED,
            "anonymous {path}"
        );
        assert_eq!(
            status(&s.admin, Method::GET, path).await,
            StatusCode::OK,
            "admin {path}"
        );
    }
    assert_eq!(
        writer.get("/admin/keys").await.json()["error"],
        "Admin permission required"
    );
    assert_eq!(
        status(&writer, Method::POST, "/admin/flush").await,
        StatusCode::FORBIDDEN
    );
    let version = s.admin.get("/admin/version").await.json();
    assert_eq!(version["engine"], "Strata");
    // Arrow ingest and Agent Memory writes need WRITE; reads need READ.
    let arrow = [("content-type", "application/vnd.apache.arrow.stream")];
    let r = reader
        .request(Method::POST, "/insert/arrow?table=trades", &arrow, vec![])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = writer
        .request(Method::POST, "/insert/arrow?table=trades", &arrow, vec![])
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a writer gets as far as the empty body"
    );
    let memory = json!({"namespace": "agent", "content": "likes tea", "embedding": [1.0, 0.0]});
    let (st, _) = reader
        .json(Method::POST, "/api/ai/memories", Some(&memory), &[])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    writer.post_ok("/api/ai/memories", memory).await;
    let search = json!({"namespace": "agent", "query_embedding": [1.0, 0.0], "limit": 5});
    assert_eq!(
        reader
            .post_ok("/api/ai/memories/search", search.clone())
            .await["rows"],
        1
    );
    let (st, _) = metrics
        .json(Method::POST, "/api/ai/memories/search", Some(&search), &[])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Public paths need nothing.
    for path in ["/ping", "/health", "/ready", "/api/license"] {
        assert_eq!(
            status(&s.anon, Method::GET, path).await,
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(s.anon.get("/api/license").await.json()["edition"], "open");
}

#[tokio::test]
async fn credentials_are_parsed_strictly() {
    let s = Secured::start(&[]).await;
    let reader = s.role("reader").await;
    let none = s
        .anon
        .request(Method::POST, "/", &[], b"SELECT 1".to_vec())
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["error"], "No Authorization header");
    assert_eq!(
        none.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"Strata\"")
    );
    let unknown = s.anon.with_token(&format!("zepto_{}", "0".repeat(64)));
    assert_eq!(
        sql_status(&unknown, "SELECT 1").await,
        (StatusCode::UNAUTHORIZED, "Invalid API key".into())
    );
    let key = reader_key(&s).await;
    for value in [format!("bearer {key}"), format!("BEARER {key}")] {
        let r = s
            .anon
            .request(
                Method::POST,
                "/",
                &[("authorization", &value)],
                b"SELECT 1".to_vec(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{value}: the scheme is case-insensitive"
        );
    }
    // Basic credentials mark a ClickHouse client: a wrong key is ClickHouse's refusal.
    let r = s
        .anon
        .request(
            Method::POST,
            "/",
            &[("authorization", "Basic Zm9vOmJhcg==")],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.starts_with(b"Code: 516. DB::Exception:"));
    for value in [
        format!("Bearer  {key}"),
        format!("Bearer {key} trailing"),
        format!("Token {key}"),
        "Bearer".to_string(),
        format!("Bearer {}", "x".repeat(64 * 1024)),
    ] {
        let r = s
            .anon
            .request(
                Method::POST,
                "/",
                &[("authorization", &value)],
                b"SELECT 1".to_vec(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            &value[..value.len().min(40)]
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains(&key),
            "a refusal never echoes the token"
        );
    }
    // Two Authorization headers: which one counts is ambiguous, so neither does.
    let admin_auth = format!("Bearer {}", s.admin_key);
    let r = reader
        .request(
            Method::POST,
            "/",
            &[("authorization", &admin_auth)],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "Ambiguous duplicate credential headers");
    // Client-sent identity headers never widen what a key may do.
    let spoof = [
        ("x-zepto-role", "admin"),
        ("x-zepto-subject", "root"),
        ("x-zepto-allowed-tables", "secret"),
    ];
    let r = reader
        .request(
            Method::POST,
            "/",
            &spoof,
            b"CREATE TABLE spoofed (v INT64, timestamp TIMESTAMP_NS)".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reader
            .request(Method::GET, "/admin/version", &spoof, vec![])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let who = reader.get("/whoami").await;
    assert_eq!(who.json()["role"], "reader");
    assert_eq!(
        who.header("cache-control").as_deref(),
        Some("no-store, private")
    );
    assert_eq!(reader.get("/auth/me").await.json()["source"], "apikey");
}

async fn reader_key(s: &Secured) -> String {
    let reply = s
        .admin
        .post_ok("/admin/keys", json!({"name": "r2", "role": "reader"}))
        .await;
    reply["key"].as_str().unwrap().to_string()
}
