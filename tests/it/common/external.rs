//! The real external parts some tests use: LocalStack's S3 and the Python Delta readers.

use std::process::Command;

use serde_json::Value;

/// The S3 endpoint `make test` starts (LocalStack), from `STRATA_TEST_S3_ENDPOINT`. Without it
/// an S3 test fails, naming what is missing: it never passes without having run.
pub(crate) fn s3_endpoint() -> String {
    std::env::var("STRATA_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "STRATA_TEST_S3_ENDPOINT is not set: this test needs S3. `make test` starts LocalStack \
             and sets it; by hand: `make s3-up`, then STRATA_TEST_S3_ENDPOINT=http://127.0.0.1:4566"
        )
    })
}

/// The AWS variables that point a process at the test S3.
pub(crate) fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
}

/// Creates a bucket with a unique name; returns it.
pub(crate) async fn create_bucket(endpoint: &str, prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("{prefix}-{nanos}-{}", std::process::id());
    let status = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .expect("S3 endpoint reachable")
        .status();
    assert!(status.is_success(), "creating bucket {name}: {status}");
    name
}

/// What the deltalake package, pyarrow and DuckDB read from the Delta table at `uri`, rows
/// sorted by `order` (see `tests/readers/read_delta.py`).
pub(crate) fn third_party_reads(uri: &str, order: &str, env: &[(&str, String)]) -> Value {
    python_script("read_delta.py", &[uri, order], env)
}

/// What pylance reads from the Agent Memory datasets under `root` (see
/// `tests/readers/read_lance.py`).
pub(crate) fn lance_reads(root: &str, env: &[(&str, String)]) -> Value {
    python_script("read_lance.py", &[root], env)
}

/// Runs a reader script of `tests/readers` with the test Python; returns its JSON output.
pub(crate) fn python_script(script: &str, args: &[&str], env: &[(&str, String)]) -> Value {
    let python = std::env::var("STRATA_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = format!("{}/tests/readers/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&python)
        .arg(&script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e} (make test sets STRATA_TEST_PYTHON)"));
    assert!(
        out.status.success(),
        "{script} failed (install tests/requirements.txt: make deps-python):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader output is JSON")
}
