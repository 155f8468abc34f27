//! Mutated SQL from a corpus of every statement family: never a 5xx, nothing changed by a refusal.

use super::*;

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

pub(super) fn mutate(rng: &mut Rng, sql: &str) -> String {
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
