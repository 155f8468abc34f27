//! ClickHouse's own compressed blocks over HTTP (`compress=1` responses, `decompress=1`
//! request bodies), checked by a client built from independent parts
//! (`tests/readers/clickhouse_blocks.py`: CityHash 1.0.2's binding, lz4, zstandard).

use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn compressed_blocks_both_ways() {
    let server = TestServer::start(&[]).await;
    let out = crate::common::external::python_script("clickhouse_blocks.py", &[server.base()], &[]);
    assert_eq!(out["lz4"], json!([200, [[0x82, "1\tabc\n"]]]));
    assert_eq!(out["zstd"], json!([200, [[0x90, "2\n"]]]));
    assert_eq!(out["error"][0], 404, "{}", out["error"]);
    assert!(
        out["error"][1]
            .as_str()
            .is_some_and(|e| e.starts_with("Code: 60. DB::Exception:")),
        "{}",
        out["error"]
    );
    assert_eq!(out["insert"], json!([200, ""]));
    assert_eq!(out["count"], "100000\t4999950000\n");
    assert_eq!(out["damaged"][0], 400, "{}", out["damaged"]);
    assert!(
        out["damaged"][1]
            .as_str()
            .is_some_and(|e| e.contains("Code: 40.") && e.contains("checksum")),
        "{}",
        out["damaged"]
    );
}
