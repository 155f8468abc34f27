//! Where a tiered test server keeps its HDB: a local directory or a LocalStack S3 bucket, so one
//! test body runs against both.

use tempfile::TempDir;

use super::TestServer;
use super::external::{create_bucket, s3_endpoint, s3_env};

/// An HDB for one test, removed with it (the bucket is unique and left to LocalStack).
pub(crate) struct Hdb {
    /// `--hdb-dir`/`--hdb-uri` and `--wal-dir` flags.
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    /// The HDB root: a directory or an `s3://` URI.
    root: String,
    /// The HDB directory, for a local HDB.
    local: Option<std::path::PathBuf>,
    _dirs: Vec<TempDir>,
}

impl Hdb {
    /// An HDB in a temporary directory.
    pub(crate) fn local() -> Self {
        let dir = TempDir::new().unwrap();
        Self {
            args: vec!["--hdb-dir".into(), dir.path().to_str().unwrap().into()],
            env: Vec::new(),
            root: dir.path().to_str().unwrap().into(),
            local: Some(dir.path().to_path_buf()),
            _dirs: vec![dir],
        }
    }

    /// An HDB in a fresh bucket of the test S3, with a local WAL (the test fails without S3:
    /// see [`s3_endpoint`]).
    pub(crate) async fn s3(name: &str) -> Self {
        let endpoint = s3_endpoint();
        let bucket = create_bucket(&endpoint, name).await;
        let wal = TempDir::new().unwrap();
        Self {
            args: vec![
                "--hdb-uri".into(),
                format!("s3://{bucket}/hdb"),
                "--wal-dir".into(),
                wal.path().to_str().unwrap().into(),
            ],
            env: s3_env(&endpoint),
            root: format!("s3://{bucket}/hdb"),
            local: None,
            _dirs: vec![wal],
        }
    }

    /// The HDB root: a directory or an `s3://` URI.
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// The environment a server (or a reader) needs for this HDB.
    pub(crate) fn env(&self) -> &[(&'static str, String)] {
        &self.env
    }

    /// Parquet files on disk under table `table`, for a local HDB (`None` on S3).
    pub(crate) fn files_on_disk(&self, table: &str) -> Option<usize> {
        let dir = self.local.as_ref()?.join("tables").join(table);
        Some(
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.path().extension().is_some_and(|x| x == "parquet"))
                        .count()
                })
                .unwrap_or(0),
        )
    }

    /// A server on this HDB, with `extra` flags.
    pub(crate) async fn start(&self, extra: &[&str]) -> TestServer {
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        TestServer::start_with_env(&args, &self.env).await
    }
}
