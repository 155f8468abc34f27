//! The HTTP edge in process (`tower::ServiceExt::oneshot` on the router, no process, no
//! socket): every error shape, 404/405/413, the tenant header rules, the body limit, request
//! ids, and that 5xx bodies carry no internals.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use strata::http::state::{AppState, HttpLimits};
use tower::ServiceExt;

/// The router over a fresh in-memory server with a 1 KiB body limit.
fn app() -> Router {
    let limits = HttpLimits {
        max_request_bytes: 1024,
        max_result_rows: 10,
        default_protocol: strata::config::server::Protocol::Zeptodb,
    };
    strata::http::router(AppState::in_memory(limits, Duration::from_secs(5)).expect("state"))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    json: Value,
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(request.body(body.into()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
    }
}

async fn sql(app: &Router, text: &str) -> Answer {
    send(app, Method::POST, "/", &[], text.to_string()).await
}

/// The SQL error shape with `message`.
fn sql_error(message: &str) -> Value {
    json!({"columns": [], "data": [], "rows": 0, "execution_time_us": 0, "error": message})
}

#[tokio::test]
async fn sql_errors_have_the_sql_shape_and_exact_messages() {
    let app = app();
    for (text, status, message) in [
        (
            "",
            StatusCode::BAD_REQUEST,
            "Empty query: send one SQL statement in the request body (or ?query=)",
        ),
        (
            "SELECT * FROM nothere",
            StatusCode::BAD_REQUEST,
            "Unknown table: nothere",
        ),
        (
            "SELECT 1; SELECT 2",
            StatusCode::BAD_REQUEST,
            "Only one statement per request is allowed, got 2",
        ),
        (
            "FLUSH",
            StatusCode::BAD_REQUEST,
            "FLUSH takes a table: FLUSH TABLE name (or POST /admin/flush for every table)",
        ),
        (
            "SELECT * FROM generate_series(1, 11)",
            StatusCode::PAYLOAD_TOO_LARGE,
            "Result has more than 10 rows (--max-result-rows); add a LIMIT or request Arrow (Accept: application/vnd.apache.arrow.stream)",
        ),
    ] {
        let answer = sql(&app, text).await;
        assert_eq!(answer.status, status, "{text}");
        assert_eq!(answer.json, sql_error(message), "{text}");
    }
    let typed = sql(&app, "SELECT xbar(timestamp 1000) b FROM t GROUP BY b").await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    let message = typed.json["error"].as_str().unwrap();
    assert!(
        message.starts_with("Parse error: TIMESTAMP 1000"),
        "{message}"
    );
}

#[tokio::test]
async fn get_sql_is_read_only_with_allow_post() {
    let app = app();
    let answer = send(
        &app,
        Method::GET,
        "/?query=DROP%20TABLE%20t",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers["allow"], "POST");
    assert_eq!(
        answer.json,
        sql_error("GET SQL is read-only; send admin statements with POST /")
    );
    let ok = send(
        &app,
        Method::GET,
        "/?query=SELECT%201%20AS%20x",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json["data"], json!([[1]]));
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let app = app();
    let missing = send(&app, Method::GET, "/nope", &[], Body::empty()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json,
        json!({"error": "No such endpoint; see docs/api.md for the list"})
    );
    let wrong = send(&app, Method::DELETE, "/ping", &[], Body::empty()).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong.json,
        json!({"error": "Method DELETE is not allowed on /ping (allowed: GET,HEAD)"})
    );
    assert_eq!(wrong.headers["allow"], "GET,HEAD");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_before_they_are_read() {
    let app = app();
    let big = "x".repeat(2000);
    let declared = send(&app, Method::POST, "/", &[], format!("SELECT '{big}'")).await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        declared.json,
        sql_error("Request body exceeds 1024 bytes (--max-request-bytes)")
    );
    // A streamed body without Content-Length is cut at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(vec![b' '; 800]), Ok(vec![b' '; 800])];
    let streamed = Body::from_stream(futures::stream::iter(chunks));
    let answer = send(&app, Method::POST, "/api/ai/memories", &[], streamed).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.json,
        json!({"error": "Request body exceeds 1024 bytes (--max-request-bytes)"})
    );
    let arrow = send(
        &app,
        Method::POST,
        "/insert/arrow?table=t",
        &[],
        vec![0u8; 4096],
    )
    .await;
    assert_eq!(arrow.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tenant_header_rules() {
    let app = app();
    let store = |tenant_in_body: &str| {
        json!({"tenant_id": tenant_in_body, "content": "c", "embedding": [1.0, 0.0]}).to_string()
    };
    let conflict = send(
        &app,
        Method::POST,
        "/api/ai/memories",
        &[("x-zepto-tenant-id", "a")],
        store("b"),
    )
    .await;
    assert_eq!(conflict.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        conflict.json,
        json!({"error": "Tenant header does not match request tenant_id"})
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/ai/memories")
        .header(
            "x-zepto-tenant-id",
            axum::http::HeaderValue::from_bytes(b"\xffx").unwrap(),
        )
        .body(Body::from(store("")))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let agree = send(
        &app,
        Method::POST,
        "/api/ai/memories",
        &[("x-zepto-tenant-id", "a")],
        store("a"),
    )
    .await;
    assert_eq!(agree.status, StatusCode::OK, "{}", agree.json);
    // The header scopes reads: another tenant sees nothing.
    let id = agree.json["memory_id"].as_str().unwrap().to_string();
    let other = send(
        &app,
        Method::GET,
        &format!("/api/ai/memories/{id}"),
        &[("x-zepto-tenant-id", "b")],
        Body::empty(),
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.json["found"], json!(false));
}

#[tokio::test]
async fn agent_memory_validation_names_the_field() {
    let app = app();
    for (path, body, message) in [
        (
            "/api/ai/memories",
            "",
            "The request body is empty: send a JSON object",
        ),
        (
            "/api/ai/memories",
            "[1]",
            "The request body must be a JSON object",
        ),
        (
            "/api/ai/memories",
            r#"{"token_count": -1}"#,
            "token_count must be non-negative, got -1",
        ),
        (
            "/api/ai/memories",
            r#"{"pinned": "yes"}"#,
            "Field 'pinned' must be true or false, got a string",
        ),
        (
            "/api/ai/memories/search",
            r#"{"limit": -2}"#,
            "limit must be non-negative, got -2",
        ),
        (
            "/api/ai/cache/store",
            r#"{"response": "r"}"#,
            "prompt is required",
        ),
        (
            "/api/ai/cache/lookup",
            r#"{"prompt": "p", "semantic_threshold": 2}"#,
            "semantic_threshold must be a cosine similarity between -1 and 1, got 2",
        ),
    ] {
        let answer = send(&app, Method::POST, path, &[], body.to_string()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(answer.json, json!({ "error": message }), "{path} {body}");
    }
    let stats = send(&app, Method::GET, "/api/ai/stats", &[], Body::empty()).await;
    assert_eq!(stats.json["memory_count"], json!(0), "nothing stored");
}

#[tokio::test]
async fn request_ids_are_made_or_kept() {
    let app = app();
    let made = send(&app, Method::GET, "/ping", &[], Body::empty()).await;
    let id = made.headers["x-request-id"].to_str().unwrap();
    assert!(id.starts_with('r') && id.len() == 7, "{id}");
    let kept = send(
        &app,
        Method::GET,
        "/ping",
        &[("x-request-id", "mine-1")],
        Body::empty(),
    )
    .await;
    assert_eq!(kept.headers["x-request-id"], "mine-1");
}
