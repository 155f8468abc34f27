//! Bounded fuzzing of every input surface against a real server: mutated SQL from a corpus of
//! every statement family, random JSON for `/api/ai/*`, corrupted Arrow IPC for
//! `/insert/arrow`, odd methods, paths and headers. No answer may be a 5xx, no connection may
//! drop, the server must stay up, and no refused request may change any data.
//!
//! Deterministic (a fixed-seed generator, so a failure reproduces; `STRATA_FUZZ_SEED=n` explores
//! other inputs), bounded by count and time (`STRATA_FUZZ_SECONDS`, default 20 per surface).

use std::time::{Duration, Instant};

use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Client, TestServer, ticks_server_with};

/// A small xorshift generator: no dependency, same sequence every run.
struct Rng(u64);

impl Rng {
    /// A generator for one surface: `seed`, or it mixed with `STRATA_FUZZ_SEED` to explore other
    /// inputs locally (the seed is printed so that a failure reproduces).
    fn seeded(seed: u64) -> Self {
        let extra = std::env::var("STRATA_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let seed = seed ^ extra.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        eprintln!("fuzz: seed {seed:#x} (STRATA_FUZZ_SEED={extra})");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// How long each surface is fuzzed.
fn budget() -> Duration {
    let secs = std::env::var("STRATA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// What the data looks like: every table with its rows, the columns and a checksum of `ticks`,
/// and the Agent Memory counts. (A fuzzed statement may legitimately drop `ticks`: then the
/// answers are that error, compared the same way.)
async fn snapshot(c: &Client) -> Value {
    let mut parts = Vec::new();
    for q in [
        "SHOW TABLES",
        "DESCRIBE ticks",
        "SELECT count(*), sum(price), sum(volume), min(timestamp), max(timestamp), count(DISTINCT symbol) FROM ticks",
    ] {
        let (status, body) = c.sql(q).await;
        parts.push(json!([status.as_u16(), body["data"], body["error"]]));
    }
    let ai = c.get("/api/ai/stats").await.json();
    parts.push(json!([ai["memory_count"], ai["cache_count"]]));
    Value::Array(parts)
}

/// A `ticks` server whose background loop never runs during a test (no TTL expiry or flush
/// between a request and the snapshot after it).
async fn quiet_ticks_server() -> (TestServer, Client) {
    ticks_server_with(&["--flush-interval-ms", "3600000"]).await
}

/// Sends one request and checks the answer; returns whether it was refused (4xx). A 5xx fails
/// the test with the request and the end of the server's log.
async fn probe(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    what: &str,
) -> bool {
    let Some(reply) = server
        .client()
        .try_request(method, path, headers, body)
        .await
    else {
        let log = server.log();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!(
            "{what}: no answer (connection dropped)\nserver log (last lines, newest first):\n{}",
            tail.join("\n")
        );
    };
    if reply.status.is_server_error() {
        let log = server.log();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!(
            "{what}: {} {}\nserver log (last lines, newest first):\n{}",
            reply.status,
            String::from_utf8_lossy(&reply.body),
            tail.join("\n")
        );
    }
    reply.status.is_client_error()
}

/// Fails if the server panicked anywhere, even where the panic was caught and answered.
fn assert_no_panic(server: &TestServer) {
    let log = server.log();
    let panics: Vec<&str> = log.lines().filter(|l| l.contains("panicked at")).collect();
    assert!(
        panics.is_empty(),
        "the server panicked:\n{}",
        panics.join("\n")
    );
}

/// One statement of every family, against the `ticks` table.
const CORPUS: &[&str] = &[
    "SELECT symbol, vwap(price, volume) AS v FROM ticks WHERE symbol = 'AAPL' GROUP BY symbol",
    "SELECT xbar(timestamp, 300000000000) AS bar, first(price), last(price), count(*) FROM ticks GROUP BY bar ORDER BY bar",
    "WITH c AS (SELECT * FROM ticks WHERE price > 100) SELECT count(*) FROM c JOIN ticks t ON c.symbol = t.symbol",
    "SELECT * FROM ticks WHERE price IN (SELECT max(price) FROM ticks) UNION ALL SELECT * FROM ticks LIMIT 3",
    "SELECT EMA(price, 3) OVER (PARTITION BY symbol ORDER BY timestamp) FROM ticks",
    "SELECT DELTA(price) OVER (ORDER BY timestamp), RATIO(price) OVER (ORDER BY timestamp) FROM ticks",
    "SELECT date_trunc('minute', timestamp), epoch_ns(timestamp) FROM ticks",
    "SELECT * FROM ticks WHERE timestamp > now() - INTERVAL '5 min'",
    "SELECT * FROM ticks VERSION AS OF 0",
    "SELECT * FROM ticks TIMESTAMP AS OF '2024-03-23T22:00:00Z'",
    "SELECT * FROM generate_series(1, 5)",
    "SELECT a.price, b.price FROM ticks a ASOF LEFT JOIN ticks b ON a.symbol = b.symbol AND a.timestamp > b.timestamp",
    "SELECT wj_avg(b.price), wj_count(b.volume) FROM ticks a WINDOW JOIN ticks b ON a.symbol = b.symbol AND b.timestamp BETWEEN a.timestamp - INTERVAL '1 m' AND a.timestamp",
    "SELECT * FROM ticks a AJ0 JOIN ticks b USING (symbol, timestamp)",
    "SELECT * FROM ticks a PLUS JOIN ticks b ON a.symbol = b.symbol UNION ALL SELECT * FROM ticks a UNION JOIN ticks b",
    "EXPLAIN SELECT * FROM ticks",
    "INSERT INTO ticks VALUES ('ZZZ', 1.5, 7, 1711231200000000000)",
    // The fast path's shapes: column lists, several rows, quotes, NULLs, literal types mixed.
    "INSERT INTO ticks (symbol, timestamp) VALUES ('Z''Z', '2024-03-23T22:00:00Z'), ('Y', 1711231200000000001)",
    "INSERT INTO default.ticks VALUES ('A', -1.5e3, NULL, 1711231200000000000), ('B', 2, '3', '2024-03-23 22:00:00');",
    "insert into \"ticks\"(volume,price,symbol,timestamp)values(1,.5,'C',0),(+2,1.,'D',-1)",
    "INSERT INTO ticks SELECT symbol, price, volume, timestamp FROM ticks WHERE 1 = 0",
    "UPDATE ticks SET price = price WHERE symbol = 'NOPE'",
    "DELETE FROM ticks WHERE symbol = 'NOPE'",
    "CREATE TABLE fuzz_t (a INT64, b SYMBOL, ts TIMESTAMP_NS)",
    "DROP TABLE IF EXISTS fuzz_t",
    "ALTER TABLE ticks ADD COLUMN IF NOT EXISTS extra BOOL",
    "ALTER TABLE nothere SET TTL 2 DAYS",
    "SHOW TABLES",
    "DESCRIBE ticks",
    "DESCRIBE HISTORY ticks",
    "FLUSH TABLE ticks",
    "OPTIMIZE TABLE ticks",
    "VACUUM ticks RETAIN 168 HOURS",
];

/// Pieces spliced into statements.
const VOCABULARY: &[&str] = &[
    "(",
    ")",
    ",",
    ";",
    "'",
    "\"",
    "`",
    "*",
    "/",
    "-",
    "+",
    "%",
    "=",
    "<>",
    "||",
    "::",
    ".",
    " ",
    "--",
    "/*",
    "*/",
    "NULL",
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "JOIN",
    "ASOF",
    "WINDOW",
    "AJ0",
    "GLOBAL",
    "ON",
    "WITH",
    "AS",
    "UNION",
    "VALUES",
    "INTERVAL",
    "TIMESTAMP",
    "DATE",
    "CAST(",
    "AS INT",
    "OVER (",
    "PARTITION BY",
    "VERSION AS OF",
    "TIMESTAMP AS OF",
    "0",
    "1",
    "-1",
    "1e308",
    "9223372036854775807",
    "-9223372036854775808",
    "0.0",
    "1/0",
    "'x'",
    "''",
    "'2024-01-01'",
    "ticks",
    "nothere",
    "\"Ticks\"",
    "public.ticks",
    "price",
    "symbol",
    "timestamp",
    "volume",
    "xbar(",
    "vwap(",
    "EMA(",
    "first(",
    "count(*)",
    "generate_series(",
    "é",
    "\u{0}",
    "🦀",
    "\\",
    "$1",
    "?",
    "@",
    "#",
];

/// `piece` inserted into `items` at `at`.
fn insert_at<T>(items: &mut Vec<T>, at: usize, piece: Vec<T>) {
    let tail = items.split_off(at);
    items.extend(piece);
    items.extend(tail);
}

fn mutate(rng: &mut Rng, sql: &str) -> String {
    let mut text: Vec<char> = sql.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(text.len() + 1);
        match rng.below(6) {
            0 => {
                let end = (at + rng.below(12)).min(text.len());
                text.drain(at.min(end)..end);
            }
            1 | 2 => {
                let piece: Vec<char> = rng.pick(VOCABULARY).chars().collect();
                insert_at(&mut text, at, piece);
            }
            3 => {
                let end = (at + rng.below(16)).min(text.len());
                let copy: Vec<char> = text[at.min(end)..end].to_vec();
                insert_at(&mut text, at, copy);
            }
            4 => text.truncate(at),
            _ => {
                if !text.is_empty() {
                    let i = rng.below(text.len());
                    let j = rng.below(text.len());
                    text.swap(i, j);
                }
            }
        }
    }
    text.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_sql_never_fails_on_our_side() {
    let (server, c) = quiet_ticks_server().await;
    let mut rng = Rng::seeded(0x5eed_0001);
    let mut before = snapshot(&c).await;
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 4000 {
        let base = *rng.pick(CORPUS);
        let sql = mutate(&mut rng, base);
        let refused = probe(
            &server,
            Method::POST,
            "/",
            &[],
            sql.clone().into_bytes(),
            &sql,
        )
        .await;
        let after = snapshot(&c).await;
        if refused {
            assert_eq!(after, before, "refused statement changed data: {sql}");
        }
        before = after;
        sent += 1;
    }
    eprintln!("fuzz: {sent} mutated statements");
    assert_no_panic(&server);
    assert!(sent > 50, "too few statements in the time budget: {sent}");
    assert_eq!(c.get("/ping").await.status, StatusCode::OK);
}

/// A random JSON value, nested at most `depth` deep, often of the field types the API uses.
fn random_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.pick(&[
            0i64,
            -1,
            1,
            7,
            i64::MAX,
            i64::MIN,
            1_711_231_200_000_000_000
        ])),
        3 => json!(rng.pick(&[0.5f64, -0.0, 1e308, -1e-300, 3.25])),
        4 => json!(rng.pick(&["", "a", "default", "x'y", "🦀", "{}", "{\"k\":1}", "{oops"])),
        5 => json!(
            (0..rng.below(5))
                .map(|i| i as f64 * 0.5)
                .collect::<Vec<_>>()
        ),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(5) {
                let key = rng.pick(FIELD_NAMES).to_string();
                map.insert(key, random_json(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

const FIELD_NAMES: &[&str] = &[
    "tenant_id",
    "namespace",
    "user_id",
    "session_id",
    "agent_id",
    "type",
    "content",
    "metadata_json",
    "embedding",
    "query_embedding",
    "token_count",
    "importance",
    "created_at_ns",
    "expires_at_ns",
    "pinned",
    "memory_id",
    "limit",
    "token_budget",
    "prompt",
    "response",
    "semantic_threshold",
    "bogus",
];

const AI_POSTS: &[&str] = &[
    "/api/ai/memories",
    "/api/ai/memories/search",
    "/api/ai/context",
    "/api/ai/cache/store",
    "/api/ai/cache/lookup",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_json_for_agent_memory_never_fails_on_our_side() {
    let (server, c) = quiet_ticks_server().await;
    // A store with a dimension, so mismatches are exercised.
    c.post_ok(
        "/api/ai/memories",
        json!({"content": "seed", "embedding": [1.0, 0.0, 0.0, 0.0], "tenant_id": "t"}),
    )
    .await;
    let mut rng = Rng::seeded(0x5eed_0002);
    let mut before = snapshot(&c).await;
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 4000 {
        let path = *rng.pick(AI_POSTS);
        let mut body = random_json(&mut rng, 3);
        if rng.chance(60) {
            // Mostly objects with plausible fields, so validation beyond the JSON shape runs.
            let mut map = serde_json::Map::new();
            for _ in 0..=rng.below(6) {
                map.insert(rng.pick(FIELD_NAMES).to_string(), random_json(&mut rng, 1));
            }
            body = Value::Object(map);
        }
        let mut bytes = body.to_string().into_bytes();
        if rng.chance(10) && !bytes.is_empty() {
            let cut = rng.below(bytes.len());
            bytes.truncate(cut);
        }
        let tenant = *rng.pick(&["", "t", "u", "x y"]);
        let headers: Vec<(&str, &str)> = if tenant.is_empty() {
            vec![]
        } else {
            vec![("X-Zepto-Tenant-Id", tenant)]
        };
        let what = format!("POST {path} {}", String::from_utf8_lossy(&bytes));
        let refused = probe(&server, Method::POST, path, &headers, bytes, &what).await;
        let after = snapshot(&c).await;
        if refused {
            assert_eq!(after, before, "refused request changed data: {what}");
        }
        before = after;
        sent += 1;
    }
    for path in [
        "/api/ai/memories/mem_1?tenant_id=t&x=1",
        "/api/ai/cache?prompt=",
        "/api/ai/stats?scope=moon",
    ] {
        assert!(
            probe(&server, Method::GET, path, &[], vec![], path).await || path.contains("mem_1")
        );
    }
    eprintln!("fuzz: {sent} Agent Memory requests");
    assert_no_panic(&server);
    assert!(sent > 50, "too few requests in the time budget: {sent}");
}

/// A valid Arrow IPC stream of `ticks` rows, made with pyarrow-free Arrow: the server's own
/// result encoding of a SELECT.
async fn arrow_stream(c: &Client) -> Vec<u8> {
    let reply = c
        .request(
            Method::POST,
            "/",
            &[("Accept", "application/vnd.apache.arrow.stream")],
            b"SELECT symbol, price, volume, timestamp FROM ticks".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body
}

/// The same rows as `stream`, re-encoded with `compression`.
fn compressed(stream: &[u8], compression: CompressionType) -> Vec<u8> {
    let reader = StreamReader::try_new(stream, None).expect("the server's own stream");
    let schema = reader.schema();
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(compression))
        .expect("compression is built in");
    let mut out = Vec::new();
    let mut writer =
        StreamWriter::try_new_with_options(&mut out, &schema, options).expect("writer");
    for batch in reader {
        writer.write(&batch.expect("a valid batch")).expect("write");
    }
    writer.finish().expect("finish");
    drop(writer);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_arrow_ipc_is_refused_and_changes_nothing() {
    let (server, c) = quiet_ticks_server().await;
    let plain = arrow_stream(&c).await;
    // Compressed bodies carry a declared size per buffer that the decoder trusts: fuzz those too.
    let valids = [compressed(&plain, CompressionType::LZ4_FRAME), plain];
    let mut rng = Rng::seeded(0x5eed_0003);
    let mut before = snapshot(&c).await;
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 3000 {
        let mut bytes = rng.pick(&valids).clone();
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                0 => {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(bytes.len());
                    bytes[i] = *rng.pick(&[0x00, 0xff, 0x7f, 0x80]);
                }
                2 => {
                    let cut = rng.below(bytes.len());
                    bytes.truncate(cut.max(1));
                }
                _ => {
                    let i = rng.below(bytes.len());
                    let n = rng.below(32).min(bytes.len() - i);
                    let copy = bytes[i..i + n].to_vec();
                    insert_at(&mut bytes, i, copy);
                }
            }
        }
        let table = *rng.pick(&["ticks", "ticks", "nothere", ""]);
        let path = format!("/insert/arrow?table={table}");
        let refused = probe(&server, Method::POST, &path, &[], bytes, &path).await;
        let after = snapshot(&c).await;
        if refused {
            assert_eq!(after, before, "refused ingest changed data");
        }
        before = after;
        sent += 1;
    }
    eprintln!("fuzz: {sent} Arrow IPC bodies");
    assert_no_panic(&server);
    assert!(sent > 50, "too few bodies in the time budget: {sent}");
}

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

async fn snapshot_trades(c: &Client) -> Value {
    json!({"rows": c.rows("SELECT count(*), sum(price) FROM trades").await})
}

/// A credential with one random change: a character replaced, dropped or added, the token
/// cut, doubled, re-cased or padded.
fn mutate_token(rng: &mut Rng, token: &str) -> String {
    let mut t: Vec<u8> = token.as_bytes().to_vec();
    match rng.below(7) {
        0 => {
            let i = rng.below(t.len());
            t[i] = *rng.pick(b"AZaz09-_.=+/ \x00\xff");
        }
        1 => {
            t.remove(rng.below(t.len()));
        }
        2 => {
            let i = rng.below(t.len() + 1);
            t.insert(i, *rng.pick(b"A.a0-_= "));
        }
        3 => t.truncate(rng.below(t.len())),
        4 => t.extend_from_slice(token.as_bytes()),
        5 => t.make_ascii_uppercase(),
        _ => t.extend(std::iter::repeat_n(b'=', 1 + rng.below(3))),
    }
    String::from_utf8_lossy(&t).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_credentials_are_refused_and_change_nothing() {
    use crate::security::jwt::{AUD, ISS, SECRET, hs256};
    let s = crate::security::Secured::start(&[
        "--jwt-secret",
        SECRET,
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--rate-limit-rpm",
        "0",
        "--ip-rate-limit-rpm",
        "0",
    ])
    .await;
    let before = s
        .admin
        .rows("SELECT count(*), sum(price) FROM trades")
        .await;
    let jwt = hs256(serde_json::json!({"role": "admin"}));
    let originals = [s.admin_key.clone(), jwt];
    // A live admin session: its cookie is mutated too.
    let session = s
        .admin
        .request(Method::POST, "/auth/session", &[], vec![])
        .await;
    let sid = session
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_string))
        .and_then(|c| c.strip_prefix("zepto_sid=").map(str::to_string))
        .expect("a session cookie");
    let schemes = ["Bearer ", "bearer ", "Basic ", "Token ", "", "Bearer  "];
    let mut rng = Rng::seeded(0x5eed_0005);
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 3000 {
        let cookie = rng.chance(30);
        let original = if cookie {
            sid.clone()
        } else {
            rng.pick(&originals).clone()
        };
        let token = mutate_token(&mut rng, &original);
        // HTTP drops whitespace around a header value (RFC 9110 §5.5): such a "mutation" is
        // the original credential.
        let token = token.trim_matches([' ', '\t']).to_string();
        let (header, value) = if cookie {
            let name = *rng.pick(&["zepto_sid=", "zepto_sid=", "ZEPTO_SID=", "zepto_sid ="]);
            if token == original && name == "zepto_sid=" {
                continue;
            }
            ("cookie", format!("{name}{token}"))
        } else {
            let scheme = *rng.pick(&schemes);
            if token == original && (scheme == "Bearer " || scheme == "bearer ") {
                continue;
            }
            ("authorization", format!("{scheme}{token}"))
        };
        let write = b"INSERT INTO trades VALUES ('FUZZ', 1.0, 1, 1)".to_vec();
        let what = format!("{header}: {}", &value[..value.len().min(80)]);
        let Some(reply) = s
            .anon
            .try_request(Method::POST, "/", &[(header, &value)], write)
            .await
        else {
            // A header value the HTTP client or parser refuses; the server must still answer.
            assert_eq!(s.anon.get("/ping").await.status, StatusCode::OK, "{what}");
            continue;
        };
        assert!(
            matches!(reply.status.as_u16(), 400 | 401 | 403),
            "{what}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        assert!(
            !String::from_utf8_lossy(&reply.body).contains(&original),
            "{what}: the answer echoes a credential"
        );
        sent += 1;
    }
    assert_eq!(
        s.admin
            .rows("SELECT count(*), sum(price) FROM trades")
            .await,
        before,
        "no refused request changed a row"
    );
    eprintln!("fuzz: {sent} credentials");
    assert_no_panic(&s.server);
}

/// ClickHouse requests of every shape: FORMAT clauses, settings, parameters, system tables, the
/// statements only ClickHouse has, and inserts with their rows.
const CLICKHOUSE_CORPUS: &[&str] = &[
    "SELECT symbol, count() AS c FROM default.ticks GROUP BY symbol ORDER BY symbol FORMAT JSON",
    "SELECT toStartOfInterval(toDateTime(timestamp), INTERVAL 60 second) AS t, avg(price) FROM \"default\".\"ticks\" GROUP BY t ORDER BY t FORMAT Native",
    "SELECT (intDiv(toUInt32(timestamp), 60) * 60) * 1000 AS t, count() FROM ticks GROUP BY t FORMAT JSONCompact",
    "SELECT {x:UInt32} + 1 AS y, {s:String} AS s FORMAT TSVWithNamesAndTypes",
    "SELECT * FROM ticks SETTINGS max_threads = 1 FORMAT RowBinaryWithNamesAndTypes",
    "SELECT name, type FROM system.columns WHERE table = 'ticks' FORMAT CSVWithNames",
    "SELECT number FROM system.numbers LIMIT 3 FORMAT JSONEachRow",
    "SHOW DATABASES FORMAT JSON",
    "SET max_result_rows = 2, result_overflow_mode = 'break'",
    "CREATE TABLE IF NOT EXISTS fz (id UInt32, at DateTime('Europe/Paris'), u UUID, p Decimal(10, 2), c Nullable(FixedString(2))) ENGINE = MergeTree ORDER BY (id, at) TTL at + INTERVAL 30 DAY",
    "SHOW TABLES FROM \"default\"",
    "DESC TABLE `ticks` FORMAT Native",
    "SHOW CREATE TABLE ticks",
    "EXISTS TABLE ticks",
    "SELECT version(), timezone(), revision(), displayName() FORMAT Arrow",
    "INSERT INTO ticks (symbol, price, volume, timestamp) FORMAT JSONEachRow\n{\"symbol\":\"ZZZ\",\"price\":1.5,\"volume\":7,\"timestamp\":\"2024-03-23 22:00:00\"}\n",
    "INSERT INTO ticks FORMAT TSV\nZZZ\t1.5\t7\t2024-03-23 22:00:00\n",
    "INSERT INTO ticks FORMAT CSV\n\"ZZZ\",1.5,7,\"2024-03-23 22:00:00\"\n",
    "INSERT INTO ticks FORMAT Values ('ZZZ', 1.5, 7, '2024-03-23 22:00:00'), ('Z\\'Z', NULL, 8, '2024-03-23 22:00:01')",
    "INSERT INTO ticks FORMAT JSONCompactEachRowWithNames\n[\"symbol\",\"price\",\"volume\",\"timestamp\"]\n[\"ZZZ\",1.5,\"7\",\"2024-03-23 22:00:00\"]\n",
    "INSERT INTO ticks FORMAT JSONStringsEachRow\n{\"symbol\":\"ZZZ\",\"price\":\"ᴺᵁᴸᴸ\",\"volume\":\"7\",\"timestamp\":\"2024-03-23 22:00:00\"}\n",
    "INSERT INTO ticks FORMAT JSONCompact {\"meta\":[{\"name\":\"symbol\"},{\"name\":\"volume\"},{\"name\":\"timestamp\"}],\"data\":[[\"ZZZ\",\"7\",\"2024-03-23 22:00:00\"]]}",
    "INSERT INTO ticks FORMAT CSVWithNamesAndTypes\n\"symbol\",\"volume\",\"price\",\"timestamp\"\n\"String\",\"Int64\",\"Float64\",\"DateTime\"\nZZZ,7,1.5,2024-03-23 22:00:00\n",
    "SELECT * FROM ticks LIMIT 3 FORMAT PrettyCompact",
    "SELECT * FROM ticks LIMIT 3 FORMAT JSONCompactStringsEachRowWithNamesAndTypes",
    "CREATE TABLE IF NOT EXISTS fzc (id UInt32, tags Array(Nullable(String)), attrs Map(String, Array(Int32))) ENGINE = MergeTree ORDER BY id",
    "INSERT INTO fzc FORMAT TSV\n1\t['a',NULL]\t{'k':[1,2],'l':[]}\n",
    "INSERT INTO fzc FORMAT Values (2, ['b\\'c'], {'x': [3]})",
    "INSERT INTO fzc VALUES (3, [NULL], {'y': [-1], 'z': []})",
    "INSERT INTO fzc FORMAT JSONEachRow\n{\"id\":4,\"tags\":[\"z\"],\"attrs\":{\"q\":[4]}}\n",
    "SELECT attrs['k'], mapKeys(attrs), mapContains(attrs, 'x'), tags FROM fzc FORMAT Native",
];

/// The binary formats ClickHouse inserts in, whose bodies the fuzz corrupts byte by byte.
const BINARY_INSERT_FORMATS: &[&str] = &[
    "Native",
    "RowBinary",
    "RowBinaryWithNamesAndTypes",
    "ArrowStream",
    "Arrow",
    "Parquet",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_clickhouse_requests_never_fail_on_our_side() {
    let (server, c) = quiet_ticks_server().await;
    let mut rng = Rng::seeded(0x5eed_0006);
    // Valid insert bodies in each binary format, to corrupt byte by byte: (statement length,
    // statement and rows).
    let mut binary_inserts = Vec::new();
    for format in BINARY_INSERT_FORMATS {
        let select = format!("SELECT symbol, price, volume, timestamp FROM ticks FORMAT {format}");
        let rows = c.request(Method::POST, "/", &[], select.into_bytes()).await;
        assert_eq!(rows.status, StatusCode::OK, "{format}");
        let mut insert = format!("INSERT INTO ticks FORMAT {format}\n").into_bytes();
        let statement = insert.len();
        insert.extend_from_slice(&rows.body);
        binary_inserts.push((statement, insert));
    }
    let mut before = snapshot(&c).await;
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 3000 {
        let body: Vec<u8> = if rng.chance(25) {
            let (statement, insert) = rng.pick(&binary_inserts);
            let mut bytes = insert.clone();
            for _ in 0..=rng.below(3) {
                if bytes.len() <= *statement {
                    break;
                }
                let i = statement + rng.below(bytes.len() - statement);
                match rng.below(3) {
                    0 => bytes[i] ^= 1 << rng.below(8),
                    1 => bytes[i] = *rng.pick(&[0x00, 0xff, 0x7f, 0x80]),
                    _ => bytes.truncate(i),
                }
            }
            bytes
        } else {
            let base = *rng.pick(CLICKHOUSE_CORPUS);
            mutate(&mut rng, base).into_bytes()
        };
        let query = *rng.pick(&[
            "/?query_id=f",
            "/?param_x=41&param_s=a%27b",
            "/?param_x=nope",
            "/?default_format=Native&client_protocol_version=54460",
            "/?database=nope",
            "/?enable_http_compression=1&readonly=1",
            "/?session_id=fuzz&session_timeout=5",
        ]);
        let encoding = *rng.pick(&["", "", "", "gzip", "lz4", "snappy"]);
        let headers: Vec<(&str, &str)> = if encoding.is_empty() {
            vec![("Accept-Encoding", "gzip")]
        } else {
            vec![("Content-Encoding", encoding)]
        };
        let what = format!(
            "{query} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        );
        let Some(reply) = c.try_request(Method::POST, query, &headers, body).await else {
            panic!("{what}: no answer (connection dropped)");
        };
        // ClickHouse answers some refusals with 500 (its status table); what must never
        // happen is a fault of ours, which is code 1002 whatever the status.
        let code = reply.header("x-clickhouse-exception-code");
        assert_ne!(
            code.as_deref(),
            Some("1002"),
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        if reply.status.is_server_error() {
            assert!(
                code.is_some(),
                "{what}: {} without an exception code",
                reply.status
            );
        }
        let after = snapshot(&c).await;
        if reply.status != StatusCode::OK {
            assert_eq!(after, before, "refused request changed data: {what}");
        }
        before = after;
        sent += 1;
    }
    eprintln!("fuzz: {sent} ClickHouse requests");
    assert_no_panic(&server);
    assert!(sent > 50, "too few requests in the time budget: {sent}");
}
