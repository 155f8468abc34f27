//! Rate limits: per identity and per client address, refill, public paths never limited.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use super::{cli_key, sql_status, status};
use crate::common::{Client, TestServer};

/// A server with `flags` and two keys made on the command line (no requests spent on set-up):
/// the server, and clients for an admin and a reader.
async fn limited(flags: &[&str]) -> (TestServer, tempfile::TempDir, Client, Client, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.json");
    let admin = cli_key(&file, "root", "admin", &[]);
    let reader = cli_key(&file, "reader", "reader", &[]);
    let mut args = vec!["--api-keys-file", file.to_str().unwrap()];
    args.extend_from_slice(flags);
    let server = TestServer::start(&args).await;
    let c = server.client();
    (
        server,
        dir,
        c.with_token(&admin),
        c.with_token(&reader),
        admin,
    )
}

#[tokio::test]
async fn each_identity_has_its_own_bucket_and_it_refills() {
    // 60 a minute: one token a second, bursts of 2.
    let (server, _dir, admin, reader, _) = limited(&[
        "--rate-limit-rpm",
        "60",
        "--rate-limit-burst",
        "2",
        "--ip-rate-limit-rpm",
        "0",
    ])
    .await;
    assert_eq!(sql_status(&reader, "SELECT 1").await.0, StatusCode::OK);
    assert_eq!(sql_status(&reader, "SELECT 1").await.0, StatusCode::OK);
    let over = reader
        .request(Method::POST, "/", &[], b"SELECT 1".to_vec())
        .await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert_eq!(over.json()["error"], "Rate limit exceeded");
    let wait: u64 = over
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Another identity is not affected; public paths are never limited.
    assert_eq!(sql_status(&admin, "SELECT 1").await.0, StatusCode::OK);
    for _ in 0..20 {
        assert_eq!(status(&reader, Method::GET, "/ping").await, StatusCode::OK);
    }
    // The bucket refills at one token a second.
    let _ = &server;
    let started = Instant::now();
    while sql_status(&reader, "SELECT 1").await.0 != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the bucket never refilled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let audit = admin.get("/admin/audit?n=10000").await.json();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"] == "rate-limit-forbidden" && e["role"] == "reader"),
        "the refusal is audited"
    );
}

#[tokio::test]
async fn the_address_bucket_is_charged_before_credentials() {
    let (server, _dir, admin, _, admin_key) = limited(&[
        "--ip-rate-limit-rpm",
        "1",
        "--ip-rate-limit-burst",
        "2",
        "--rate-limit-rpm",
        "0",
    ])
    .await;
    let bogus = server
        .client()
        .with_token(&format!("zepto_{}", "f".repeat(64)));
    // Invalid keys spend the address's burst, then are refused by the bucket before they are
    // looked at.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(sql_status(&bogus, "SELECT 1").await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN
        ]
    );
    assert_eq!(
        sql_status(&admin, "SELECT 1").await.0,
        StatusCode::FORBIDDEN,
        "same address, same bucket"
    );
    assert_eq!(
        status(&server.client(), Method::GET, "/health").await,
        StatusCode::OK,
        "public paths are not limited"
    );
    assert!(
        !server.log().contains(&admin_key),
        "no key in the server log"
    );
}
