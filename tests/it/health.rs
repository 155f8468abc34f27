use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn liveness_readiness_and_identity() {
    let server = TestServer::start(&[]).await;
    let c = server.client();

    let ping = c.get("/ping").await;
    assert_eq!(ping.status, StatusCode::OK);
    assert_eq!(ping.body, b"Ok.\n");

    assert_eq!(c.get("/health").await.json(), json!({"status": "healthy"}));
    assert_eq!(c.get("/ready").await.json(), json!({"status": "ready"}));
    assert_eq!(
        c.get("/whoami").await.json(),
        json!({"role": "admin", "subject": "anonymous"})
    );
    let root = c.get("/").await;
    assert_eq!(root.json(), json!({"status": "ok", "engine": "Strata"}));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_clients() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let a = c
        .get("/ping")
        .await
        .header("x-request-id")
        .expect("request id");
    let b = c
        .get("/health")
        .await
        .header("x-request-id")
        .expect("request id");
    assert!(a.starts_with('r') && b.starts_with('r'), "{a} {b}");
    assert_ne!(a, b);
    let mine = c
        .request(
            Method::POST,
            "/",
            &[("X-Request-Id", "client-42")],
            b"SELECT 1".to_vec(),
        )
        .await;
    assert_eq!(mine.header("x-request-id").as_deref(), Some("client-42"));
    let failed = c.request(Method::POST, "/", &[], b"SELEC".to_vec()).await;
    assert!(
        failed.header("x-request-id").is_some(),
        "errors carry ids too"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let missing = c.get("/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("No such endpoint")
    );

    let wrong = c.request(Method::DELETE, "/ping", &[], vec![]).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.header("allow").unwrap().contains("GET"));
    assert!(wrong.json()["error"].as_str().unwrap().contains("DELETE"));
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = TestServer::start(&[]).await;
    server.client().sql_ok("SELECT 1").await;
    assert_eq!(server.terminate(), Some(0), "log:\n{}", server.log());
    assert!(server.log().contains("stopped"));
}
