//! Odd methods, paths and headers on every route.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_methods_paths_and_headers_are_answered_cleanly() {
    let server = TestServer::start(&["--ticks", "100"]).await;
    let c = server.client();
    let before = snapshot_trades(&c).await;
    let mut rng = Rng::seeded(0x5eed_0004);
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::HEAD,
        Method::from_bytes(b"BREW").unwrap(),
    ];
    let paths = [
        "/",
        "/?query=",
        "/?query=SELECT%201",
        "/?query=%FF%FE",
        "/?default_format=Arrow&query=SELECT%201",
        "/ping",
        "/health",
        "/ready",
        "/whoami",
        "/stats",
        "/metrics",
        "/insert/arrow",
        "/insert/arrow?table=",
        "/admin/cluster",
        "/admin/flush",
        "/api/ai/stats",
        "/api/ai/memories",
        "/api/ai/memories/%2e%2e",
        "/api/ai/memories/a/b",
        "/api/ai/cache",
        "/../etc/passwd",
        "//",
        "/%00",
        "/api/ai/memories/search?limit=1",
        "/?query=SELECT%201&query=SELECT%202",
        "/?format=arrow&query=SHOW%20TABLES",
    ];
    let headers: [&[(&str, &str)]; 6] = [
        &[],
        &[("Content-Type", "application/json")],
        &[("Accept", "application/vnd.apache.arrow.stream")],
        &[("Content-Length", "99999999999")],
        &[("X-Zepto-Tenant-Id", "t"), ("X-Request-Id", "fuzz")],
        &[("Transfer-Encoding", "gzip")],
    ];
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 2000 {
        let method = rng.pick(&methods).clone();
        let path = *rng.pick(&paths);
        let header = *rng.pick(&headers);
        // Never a write: this surface is about the edge, not the statements.
        let body = if rng.chance(50) {
            b"SELECT 1".to_vec()
        } else {
            vec![0xff; rng.below(64)]
        };
        let what = format!("{method} {path} {header:?}");
        let reply = c.try_request(method, path, header, body).await;
        match reply {
            Some(r) => assert!(!r.status.is_server_error(), "{what}: {}", r.status),
            // A malformed request may be refused by the HTTP parser itself; the server must
            // still answer the next one.
            None => assert_eq!(c.get("/ping").await.status, StatusCode::OK, "{what}"),
        }
        sent += 1;
    }
    let after = snapshot_trades(&c).await;
    assert_eq!(
        after["rows"], before["rows"],
        "no request changed the table"
    );
    eprintln!("fuzz: {sent} odd requests");
    assert_no_panic(&server);
}
