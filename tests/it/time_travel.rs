//! Time travel over the HDB: `VERSION AS OF`, `TIMESTAMP AS OF`, `DESCRIBE HISTORY`.

use crate::common::TestServer;
use crate::common::hdb::Hdb;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn old_versions_stay_readable() {
    old_versions(Hdb::local()).await;
}

#[tokio::test]
async fn old_versions_stay_readable_on_s3() {
    old_versions(Hdb::s3("versions").await).await;
}

async fn old_versions(hdb: Hdb) {
    let server = hdb.start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, ts TIMESTAMP_NS)").await; // version 0
    c.sql_ok("INSERT INTO t VALUES (1, 10), (2, 20)").await;
    c.sql_ok("FLUSH TABLE t").await; // version 1
    let r = c
        .rows("SELECT CAST(now() AS VARCHAR), epoch_ms(now())")
        .await;
    let between = r[0][0].as_str().unwrap().replace(' ', "T");
    let between_ms = r[0][1].as_i64().unwrap();
    // Versions are dated by their log files' modification times: milliseconds on a local disk,
    // whole seconds on S3. Let the clock reach the next second before the next commit, so
    // `TIMESTAMP AS OF between` has exactly one answer on both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while c.rows("SELECT epoch_ms(now())").await[0][0]
        .as_i64()
        .unwrap()
        / 1000
        <= between_ms / 1000
    {
        assert!(std::time::Instant::now() < deadline, "clock stands still");
    }
    c.sql_ok("DELETE FROM t WHERE id = 1").await; // version 2
    c.sql_ok("INSERT INTO t VALUES (3, 30)").await;
    c.sql_ok("FLUSH TABLE t").await; // version 3
    c.sql_ok("ALTER TABLE t ADD COLUMN note STRING").await; // version 4

    let ids = |v: &str| format!("SELECT id FROM t {v} ORDER BY id");
    assert_eq!(c.rows(&ids("VERSION AS OF 0")).await, json!([]));
    assert_eq!(c.rows(&ids("VERSION AS OF 1")).await, json!([[1], [2]]));
    assert_eq!(c.rows(&ids("VERSION AS OF 2")).await, json!([[2]]));
    assert_eq!(c.rows(&ids("VERSION AS OF 3")).await, json!([[2], [3]]));
    assert_eq!(
        c.rows(&format!(
            "SELECT id FROM t TIMESTAMP AS OF '{between}Z' ORDER BY id"
        ))
        .await,
        json!([[1], [2]])
    );
    // An old version has the schema it had then.
    let r = c
        .sql_ok("SELECT * FROM t VERSION AS OF 3 ORDER BY id")
        .await;
    assert_eq!(r["columns"], json!(["id", "ts"]));
    // Joining today with yesterday.
    assert_eq!(
        c.rows("SELECT count(*) FROM t AS now JOIN t VERSION AS OF 1 AS old ON now.id = old.id")
            .await,
        json!([[1]])
    );

    let err = c
        .sql_err("SELECT * FROM t VERSION AS OF 99", StatusCode::BAD_REQUEST)
        .await;
    assert!(err.contains("no version"), "{err}");

    let history = c.rows("DESCRIBE HISTORY t").await;
    let ops: Vec<(i64, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_i64().unwrap(), r[2].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(ops.len(), 5);
    assert_eq!(ops[0].0, 4, "newest first");
    assert_eq!(ops[4], (0, "CREATE TABLE".to_string()));
    assert_eq!(ops[2], (2, "DELETE".to_string()));
}

#[tokio::test]
async fn time_travel_needs_the_hdb() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    let err = c
        .sql_err(
            "SELECT * FROM trades VERSION AS OF 0",
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(err.contains("--hdb-dir"), "{err}");
}
