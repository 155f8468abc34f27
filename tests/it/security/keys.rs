//! API keys: the command line, the admin API, what listings show, revoke/disable/expire, a
//! restart, and changes from the command line while the server runs.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Secured, cli_key, sql_status};
use crate::common::TestServer;

#[tokio::test]
async fn the_admin_api_lifecycle() {
    let s = Secured::start(&[]).await;
    let reader = s.role("reader").await;
    assert_eq!(
        sql_status(&reader, "SELECT count(*) FROM trades").await.0,
        StatusCode::OK
    );

    let keys = s.admin.get("/admin/keys").await;
    assert_eq!(keys.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&keys.body).into_owned();
    assert!(
        !text.contains("zepto_") && !text.contains("sha256"),
        "no secret listed: {text}"
    );
    let list = keys.json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "reader")
        .expect("the reader key is listed")
        .clone();
    let id = row["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ak_") && id.len() == 11, "{id}");
    for field in [
        "role",
        "enabled",
        "created_at_ns",
        "last_used_ns",
        "expires_at_ns",
        "tenant_id",
        "allowed_symbols",
        "allowed_tables",
    ] {
        assert!(row.get(field).is_some(), "{field} listed: {row}");
    }
    assert!(
        row["last_used_ns"].as_i64().unwrap() > 0,
        "the key was used: {row}"
    );

    let path = format!("/admin/keys/{id}");
    let patch = |body: serde_json::Value| {
        let (c, path) = (s.admin.clone(), path.clone());
        async move { c.json(Method::PATCH, &path, Some(&body), &[]).await }
    };
    let (st, body) = patch(json!({"enabled": false})).await;
    assert_eq!((st, body), (StatusCode::OK, json!({"updated": true})));
    let (st, err) = sql_status(&reader, "SELECT 1").await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "Invalid API key")
    );
    assert_eq!(
        patch(json!({"tables": [""], "enabled": true})).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sql_status(&reader, "SELECT 1").await.0,
        StatusCode::UNAUTHORIZED,
        "a refused PATCH changes nothing"
    );
    patch(json!({"enabled": true})).await;
    assert_eq!(sql_status(&reader, "SELECT 1").await.0, StatusCode::OK);

    let (st, body) = s
        .admin
        .json(Method::DELETE, &format!("/admin/keys/{id}"), None, &[])
        .await;
    assert_eq!((st, body), (StatusCode::OK, json!({"revoked": true})));
    assert_eq!(
        sql_status(&reader, "SELECT 1").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (st, body) = s
        .admin
        .json(Method::DELETE, &format!("/admin/keys/{id}"), None, &[])
        .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("Key not found"))
    );

    let expired = s
        .key(json!({"name": "old", "role": "reader", "expires_at_ns": 1}))
        .await;
    let (st, err) = sql_status(&expired, "SELECT 1").await;
    assert_eq!(
        (st, err.as_str()),
        (StatusCode::UNAUTHORIZED, "Invalid API key"),
        "same answer as unknown"
    );
    let later = s
        .key(json!({"name": "later", "role": "reader", "expires_at_ns": 4_000_000_000_000_000_000i64}))
        .await;
    assert_eq!(sql_status(&later, "SELECT 1").await.0, StatusCode::OK);

    for bad in [
        json!({"role": "reader"}),
        json!({"name": "x", "role": "superuser"}),
        json!({"name": "x", "tables": [""]}),
        json!({"name": "a|b"}),
        json!({"name": "x", "expires_at_ns": -1}),
    ] {
        let (st, body) = s
            .admin
            .json(Method::POST, "/admin/keys", Some(&bad), &[])
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad} → {body}");
    }
    let (_, body) = s
        .admin
        .json(
            Method::POST,
            "/admin/keys",
            Some(&json!({"role": "reader"})),
            &[],
        )
        .await;
    assert_eq!(body["error"], "Missing 'name' field");
}

#[tokio::test]
async fn keys_survive_a_restart_and_the_file_holds_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.json");
    let admin = cli_key(&file, "root", "admin", &[]);
    let args = ["--api-keys-file", file.to_str().unwrap()];
    let mut server = TestServer::start(&args).await;
    let made = server
        .client()
        .with_token(&admin)
        .post_ok("/admin/keys", json!({"name": "r", "role": "reader"}))
        .await;
    let reader = made["key"].as_str().unwrap().to_string();
    assert_eq!(server.terminate(), Some(0));

    let server = TestServer::start(&args).await;
    let c = server.client();
    assert_eq!(
        sql_status(&c.with_token(&reader), "SELECT 1").await.0,
        StatusCode::OK
    );
    assert_eq!(
        sql_status(&c.with_token(&admin), "SELECT 1").await.0,
        StatusCode::OK
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(&admin) && !text.contains(&reader),
        "keys are stored as hashes only"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left beside the key file");
}

#[tokio::test]
async fn the_command_line_lists_and_revokes_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.json");
    let admin = cli_key(&file, "root", "admin", &[]);
    let server = TestServer::start(&["--api-keys-file", file.to_str().unwrap()]).await;
    let c = server.client();
    // A key made on the command line while the server runs is accepted within a second.
    let late = cli_key(&file, "late", "reader", &["--tables", "trades,quotes"]);
    let late_client = c.with_token(&late);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sql_status(&late_client, "SELECT 1").await.0 != StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the new key was not picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["keys", "list", "--api-keys-file", file.to_str().unwrap()])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON list");
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "late")
        .unwrap()
        .clone();
    assert_eq!(row["allowed_tables"], json!(["trades", "quotes"]));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&late));
    let id = row["id"].as_str().unwrap();
    let revoked = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "keys",
            "revoke",
            "--api-keys-file",
            file.to_str().unwrap(),
            id,
        ])
        .output()
        .unwrap();
    assert!(revoked.status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sql_status(&late_client, "SELECT 1").await.0 != StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < deadline,
            "a revocation from the command line did not take effect"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        sql_status(&c.with_token(&admin), "SELECT 1").await.0,
        StatusCode::OK
    );
}
