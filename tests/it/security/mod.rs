//! Security against real servers: start-up refusals, API keys (CLI, admin API, restart),
//! roles × statement classes and endpoints, table/tenant scope through every SQL shape, JWTs,
//! rate limits, audit, killing a running query.

mod admin;
mod idp;
mod jwks;
pub(crate) mod jwt;
mod keys;
mod limits;
mod roles;
mod scope;
mod sessions;
mod startup;
mod tls;

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{Client, TestServer};

/// `strata keys create --api-keys-file <file> --name <name> --role <role> <extra…>`: the key it
/// printed.
pub(crate) fn cli_key(file: &Path, name: &str, role: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["keys", "create", "--api-keys-file"])
        .arg(file)
        .args(["--name", name, "--role", role])
        .args(extra)
        .output()
        .expect("run strata keys create");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "keys create failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = stdout.trim().to_string();
    assert!(
        key.len() == 70 && key.starts_with("zepto_"),
        "not a key: {key}"
    );
    key
}

/// A server with authentication on: an admin key made on the command line, the tables of the
/// security tests, and a key per role made through the admin API.
pub(crate) struct Secured {
    pub(crate) server: TestServer,
    /// Unauthenticated client.
    pub(crate) anon: Client,
    /// The admin key's client.
    pub(crate) admin: Client,
    /// The admin key.
    pub(crate) admin_key: String,
    _keys_dir: TempDir,
}

impl Secured {
    /// Starts it with `extra` flags.
    pub(crate) async fn start(extra: &[&str]) -> Self {
        let keys_dir = TempDir::new().expect("temp dir");
        let keys_file = keys_dir.path().join("api_keys.json");
        let admin_key = cli_key(&keys_file, "root", "admin", &[]);
        let mut args = vec!["--api-keys-file", keys_file.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        let server = TestServer::start(&args).await;
        let anon = server.client();
        let admin = anon.with_token(&admin_key);
        for ddl in [
            "CREATE TABLE IF NOT EXISTS trades (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)",
            "CREATE TABLE secret (symbol SYMBOL, v INT64, timestamp TIMESTAMP_NS)",
            "CREATE TABLE deska_t (symbol SYMBOL, v INT64, timestamp TIMESTAMP_NS)",
            "CREATE TABLE deskb_t (symbol SYMBOL, v INT64, timestamp TIMESTAMP_NS)",
            "INSERT INTO trades VALUES ('AAPL', 10.0, 100, 1000), ('AAPL', 11.0, 200, 2000), ('MSFT', 20.0, 50, 3000)",
            "INSERT INTO secret VALUES ('AAPL', 42, 1000)",
            "INSERT INTO deska_t VALUES ('AAPL', 1, 1000)",
            "INSERT INTO deskb_t VALUES ('AAPL', 2, 1000)",
        ] {
            admin.sql_ok(ddl).await;
        }
        Secured {
            server,
            anon,
            admin,
            admin_key,
            _keys_dir: keys_dir,
        }
    }

    /// A new key made through `POST /admin/keys` with `body`; its client.
    pub(crate) async fn key(&self, body: Value) -> Client {
        let reply = self.admin.post_ok("/admin/keys", body).await;
        let key = reply["key"].as_str().expect("key in the answer");
        self.anon.with_token(key)
    }

    /// A key of `role`.
    pub(crate) async fn role(&self, role: &str) -> Client {
        self.key(json!({"name": role, "role": role})).await
    }
}

/// `POST /` with `sql` as `client`; the status and the `error` text (empty on success).
pub(crate) async fn sql_status(client: &Client, sql: &str) -> (StatusCode, String) {
    let r = client
        .request(reqwest::Method::POST, "/", &[], sql.as_bytes().to_vec())
        .await;
    let error = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_default();
    (r.status, error)
}

/// `method path` as `client`; the status.
pub(crate) async fn status(client: &Client, method: reqwest::Method, path: &str) -> StatusCode {
    client.request(method, path, &[], vec![]).await.status
}
