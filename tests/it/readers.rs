//! Invariant 4: the HDB is plain Delta + Parquet. The deltalake Python package, pyarrow and
//! DuckDB read Strata's tables, locally and on S3, and see exactly the rows Strata returns —
//! nanosecond timestamps, NULLs, updated and deleted rows included.

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::TestServer;
use crate::common::external::{create_bucket, s3_endpoint, s3_env, third_party_reads};

/// Every column type, NULLs, two flushes and an UPDATE + DELETE (files replaced in the log).
async fn fill(server: &TestServer) -> Value {
    let c = server.client();
    c.sql_ok(
        "CREATE TABLE t (id INT64, i INT32, f FLOAT64, r FLOAT32, ts TIMESTAMP_NS, s SYMBOL, \
         txt STRING, b BOOL)",
    )
    .await;
    c.sql_ok(
        "INSERT INTO t VALUES (1, 2, 1.5, 2.5, 1711231200123456789, 'AAPL', 'hello', true), \
         (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
         (3, -7, -0.25, 0.5, 1711317600000000001, 'MSFT', 'x', false)",
    )
    .await;
    c.sql_ok("FLUSH TABLE t").await;
    c.sql_ok("INSERT INTO t VALUES (4, 9, 9.5, 9.5, 1711231200000000999, 'AAPL', 'late', true)")
        .await;
    c.sql_ok("UPDATE t SET txt = 'updated' WHERE id = 1").await;
    c.sql_ok("DELETE FROM t WHERE id = 3").await;
    c.sql_ok("FLUSH TABLE t").await;
    // Strata's own answer, timestamps as the integers the HDB stores.
    c.rows("SELECT id, i, f, r, CAST(ts AS BIGINT), s, txt, b FROM t ORDER BY id")
        .await
}

fn assert_agree(strata: &Value, seen: &Value) {
    for reader in ["deltalake", "pyarrow", "duckdb"] {
        assert_eq!(&seen[reader], strata, "{reader} disagrees with Strata");
    }
}

#[tokio::test]
async fn readers_agree_on_a_local_table() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let strata = fill(&server).await;
    assert_eq!(strata.as_array().unwrap().len(), 3);
    let uri = data.path().join("tables/t");
    let seen = third_party_reads(uri.to_str().unwrap(), "id", &[]);
    assert_agree(&strata, &seen);
    assert_eq!(
        strata[0][4],
        json!(1711231200123456789_i64),
        "nanoseconds kept"
    );
}

#[tokio::test]
async fn readers_agree_on_an_s3_table() {
    let endpoint = s3_endpoint();
    let bucket = create_bucket(&endpoint, "readers").await;
    let env = s3_env(&endpoint);
    let uri = format!("s3://{bucket}/hdb");
    let server = TestServer::start_with_env(&["--hdb-uri", &uri], &env).await;
    let strata = fill(&server).await;
    let seen = third_party_reads(&format!("{uri}/tables/t"), "id", &env);
    assert_agree(&strata, &seen);
}
