//! Tiered storage on S3 (LocalStack, started by `make test`): tables and rows survive a crash
//! and a restart, with flushed rows read back from the bucket.

use serde_json::json;

use crate::common::TestServer;
use crate::common::external::{create_bucket, s3_endpoint, s3_env};

#[tokio::test]
async fn tables_and_rows_survive_a_crash_on_s3() {
    let Some(endpoint) = s3_endpoint() else {
        eprintln!("skipped: STRATA_TEST_S3_ENDPOINT is not set (make test sets it)");
        return;
    };
    let bucket = create_bucket(&endpoint, "restart").await;
    let env = s3_env(&endpoint);
    let uri = format!("s3://{bucket}/hdb");
    let wal = tempfile::TempDir::new().unwrap();
    let args = ["--hdb-uri", &uri, "--wal-dir", wal.path().to_str().unwrap()];

    let mut server = TestServer::start_with_env(&args, &env).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, ts TIMESTAMP_NS)").await;
    c.sql_ok("INSERT INTO t VALUES (1, 10), (2, 20)").await;
    c.sql_ok("FLUSH TABLE t").await;
    c.sql_ok("INSERT INTO t VALUES (3, 30)").await;
    server.kill();

    let server = TestServer::start_with_env(&args, &env).await;
    let c = server.client();
    assert_eq!(
        c.rows("SELECT id FROM t ORDER BY id").await,
        json!([[1], [2], [3]]),
        "two rows from the bucket, one from the WAL"
    );
}
