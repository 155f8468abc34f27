//! ClickHouse HTTP requests of every shape, and corrupted binary insert bodies.

use super::sql::mutate;
use super::*;

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
