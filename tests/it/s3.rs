//! Tiered storage on S3 (LocalStack, started by `make test`): tables and rows survive a crash
//! and a restart, with flushed rows read back from the bucket; an outage of the store during
//! flushes loses nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::common::TestServer;
use crate::common::external::{create_bucket, s3_endpoint, s3_env};

#[tokio::test]
async fn tables_and_rows_survive_a_crash_on_s3() {
    let endpoint = s3_endpoint();
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

/// A TCP relay to the S3 endpoint that the test can cut (the store "goes away") and restore.
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, conns) = (Arc::clone(&up), Arc::clone(&connections));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: connection reset
                }
                let target = target.clone();
                conns.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Self {
            addr,
            up,
            connections,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Polls `check` until it holds (60 s deadline).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::task::yield_now().await;
    }
}

// Multi-threaded: the relay must serve while the test thread waits on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_loses_nothing() {
    let endpoint = s3_endpoint();
    let bucket = create_bucket(&endpoint, "outage").await;
    let target = endpoint.trim_start_matches("http://").to_string();
    let relay = Relay::start(target).await;
    let env = s3_env(&format!("http://{}", relay.addr));
    let uri = format!("s3://{bucket}/hdb");
    let wal = tempfile::TempDir::new().unwrap();
    let args = [
        "--hdb-uri",
        &uri,
        "--wal-dir",
        wal.path().to_str().unwrap(),
        "--flush-rows",
        "1",
        "--flush-interval-ms",
        "20",
        "--hdb-option",
        "max_retries=1",
        "--hdb-option",
        "retry_timeout=1s",
    ];
    let mut server = TestServer::start_with_env(&args, &env).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (id INT64, ts TIMESTAMP_NS)").await;

    relay.cut();
    c.sql_ok("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
        .await;
    until("a failed flush", || async {
        c.get("/health").await.json()["status"] == "degraded"
    })
    .await;
    let stats = c.get("/stats").await.json();
    assert!(stats["flush_failures"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(
        c.rows("SELECT count(*) FROM t").await,
        json!([[3]]),
        "rows stay queryable from memory"
    );

    relay.restore();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while c.get("/stats").await.json()["hdb_rows"] != 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no flush after the outage; log:\n{}",
            server.log()
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(c.get("/health").await.json()["status"], "healthy");
    server.kill();

    let server = TestServer::start_with_env(&args, &env).await;
    assert_eq!(
        server.client().rows("SELECT id FROM t ORDER BY id").await,
        json!([[1], [2], [3]]),
        "nothing lost, nothing twice"
    );
}
