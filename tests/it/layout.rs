//! The HDB's file layout (time clusters sorted by symbol and time, page indexes) changes where
//! rows are, never which rows a query sees: random queries answer as DuckDB does over the same
//! rows, across flushes, rows still in memory, OPTIMIZE, and files another writer appended in
//! its own layout, which OPTIMIZE then rewrites. The hot tier's symbol and time indexes read only
//! the rows a filter can match.

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::external::python_script;
use crate::common::rng::Rng;
use crate::common::{Client, TestServer};

const DAY: i64 = 86_400_000_000_000;
const SECOND: i64 = 1_000_000_000;
const SYMBOLS: [&str; 6] = ["AAPL", "IBM", "MSFT", "NVDA", "ORCL", "SAP"];

/// Random ticks over three days: times at whole seconds (so many ties), a few NULL symbols and
/// prices.
fn ticks(rng: &mut Rng, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| {
            let symbol = match rng.below(40) {
                0 => Value::Null,
                _ => json!(rng.pick(&SYMBOLS)),
            };
            let price = match rng.below(30) {
                0 => Value::Null,
                _ => json!(rng.below(100_000) as f64 / 100.0),
            };
            let ts = rng.below(3) as i64 * DAY + rng.below(20_000) as i64 * SECOND;
            json!([symbol, price, rng.below(1_000), ts])
        })
        .collect()
}

/// A random filter: a conjunction of time ranges, symbols, values and NULL tests.
fn condition(rng: &mut Rng) -> String {
    let mut terms = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let from = rng.below(3) as i64 * DAY + rng.below(20_000) as i64 * SECOND;
        let width = [SECOND, 60 * SECOND, 3_600 * SECOND, DAY][rng.below(4) as usize];
        terms.push(match rng.below(9) {
            0 | 1 => format!("ts >= {from} AND ts < {}", from + width),
            2 => format!("ts BETWEEN {from} AND {}", from + width),
            3 | 4 => format!("symbol = '{}'", rng.pick(&SYMBOLS)),
            5 => format!(
                "symbol IN ('{}', '{}')",
                rng.pick(&SYMBOLS),
                rng.pick(&SYMBOLS)
            ),
            6 => format!("volume > {}", rng.below(1_000)),
            7 => format!("price < {}", rng.below(1_000)),
            _ => ["price IS NULL", "symbol IS NULL", "symbol IS NOT NULL"][rng.below(3) as usize]
                .to_string(),
        });
    }
    terms.join(" AND ")
}

/// A random query of the classes scans serve (the same text in Strata's SQL and DuckDB's).
fn query(rng: &mut Rng) -> String {
    let cond = condition(rng);
    match rng.below(5) {
        0 => format!(
            "SELECT symbol, count(*), sum(volume), min(price), max(price), min(ts), max(ts) \
             FROM ticks WHERE {cond} GROUP BY symbol ORDER BY symbol NULLS LAST"
        ),
        1 => format!(
            "SELECT symbol, price, volume, ts FROM ticks WHERE {cond} \
             ORDER BY ts, symbol NULLS LAST, price NULLS LAST, volume"
        ),
        2 => format!(
            "SELECT count(*), count(price), count(DISTINCT symbol), sum(volume) FROM ticks \
             WHERE {cond}"
        ),
        3 => format!(
            "SELECT symbol, price, ts FROM ticks WHERE {cond} \
             ORDER BY price DESC NULLS LAST, ts, symbol NULLS LAST LIMIT 7"
        ),
        // A limit reaches the scan when every filter is applied there (symbol constraints).
        _ => format!(
            "SELECT count(*) FROM (SELECT price FROM ticks WHERE symbol IN ('{}', '{}') LIMIT {}) AS l",
            rng.pick(&SYMBOLS),
            rng.pick(&SYMBOLS),
            rng.below(400)
        ),
    }
}

/// What DuckDB answers for each of `queries` over `rows` in its own table.
fn duckdb(rows: &[Value], queries: &[String]) -> Vec<Value> {
    let spec = json!({
        "tables": {"ticks": {
            "columns": [["symbol", "VARCHAR"], ["price", "DOUBLE"], ["volume", "BIGINT"], ["ts", "BIGINT"]],
            "rows": rows,
        }},
        "queries": queries,
    });
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("spec.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    let answers = python_script("duckdb_query.py", &[path.to_str().unwrap()], &[]);
    answers.as_array().unwrap().clone()
}

/// Every query answers here as DuckDB answered it; `when` names the stage for the message.
/// Strata compares its `TIMESTAMP_NS` column with the integer literals directly (so the time
/// filters reach the scan's pruning) and prints times as integer nanoseconds, as DuckDB's
/// BIGINT column does.
async fn assert_answers(c: &Client, queries: &[String], expected: &[Value], when: &str) {
    for (sql, theirs) in queries.iter().zip(expected) {
        assert_eq!(&c.rows(sql).await, theirs, "{when}: {sql}");
    }
}

fn values(rows: &[Value]) -> String {
    let cells = |r: &Value| {
        r.as_array()
            .unwrap()
            .iter()
            .map(|v| match v {
                Value::String(s) => format!("'{s}'"),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    rows.iter()
        .map(|r| format!("({})", cells(r)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the layout script sees in the table's current files.
fn inspect(table_dir: &str) -> Vec<Value> {
    let files = python_script("hdb_layout.py", &["inspect", table_dir], &[]);
    files.as_array().unwrap().clone()
}

#[tokio::test]
async fn random_queries_answer_as_duckdb_does_across_flushes_optimize_and_foreign_files() {
    let data = TempDir::new().unwrap();
    let dir = data.path().to_str().unwrap();
    // Small row groups, so each day's file has many clusters; no background compaction.
    let args = [
        "--hdb-dir",
        dir,
        "--hdb-row-group-rows",
        "64",
        "--compact-min-files",
        "0",
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut rows = ticks(&mut rng, 2_400);
    let queries: Vec<String> = (0..40).map(|_| query(&mut rng)).collect();

    let mut server = TestServer::start(&args).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, ts TIMESTAMP_NS)")
        .await;
    // Three flushes (three files a day), the last quarter left in memory.
    for (i, part) in rows.chunks(600).enumerate() {
        c.sql_ok(&format!("INSERT INTO ticks VALUES {}", values(part)))
            .await;
        if i < 3 {
            c.sql_ok("FLUSH TABLE ticks").await;
        }
    }
    let expected = duckdb(&rows, &queries);
    // Most filters select something (an empty answer proves little).
    let answered = expected
        .iter()
        .filter(|a| a.as_array().is_some_and(|r| !r.is_empty() && r[0][0] != 0))
        .count();
    assert!(
        answered >= queries.len() / 2,
        "{answered} of {}",
        queries.len()
    );
    assert_answers(&c, &queries, &expected, "flushed and in memory").await;

    c.sql_ok("FLUSH TABLE ticks").await;
    let r = c.sql_ok("OPTIMIZE ticks").await;
    assert_eq!(
        r["data"],
        json!([["Table 'ticks' optimized: 12 files rewritten as 3"]])
    );
    assert_answers(&c, &queries, &expected, "optimized").await;

    // Another writer appends a file in its own layout while Strata is down.
    server.terminate();
    let table_dir = format!("{dir}/tables/ticks");
    let foreign = ticks(&mut rng, 300);
    let spec = data.path().join("foreign.json");
    std::fs::write(&spec, Value::Array(foreign.clone()).to_string()).unwrap();
    python_script(
        "hdb_layout.py",
        &["append", &table_dir, spec.to_str().unwrap()],
        &[],
    );
    rows.extend(foreign);
    let expected = duckdb(&rows, &queries);
    let server = TestServer::start(&args).await;
    let c = server.client();
    assert_answers(&c, &queries, &expected, "with a foreign file").await;
    let before = inspect(&table_dir);
    assert_eq!(
        before.iter().filter(|f| f["layout"].is_null()).count(),
        1,
        "{before:?}"
    );

    // OPTIMIZE rewrites the days the foreign file touches (it holds rows of all three), even
    // though no day has two small files of Strata's.
    let r = c.sql_ok("OPTIMIZE ticks").await;
    assert_eq!(
        r["data"],
        json!([["Table 'ticks' optimized: 4 files rewritten as 3"]])
    );
    assert_answers(&c, &queries, &expected, "foreign file rewritten").await;
    let files = inspect(&table_dir);
    assert_eq!(files.len(), 3);
    for file in &files {
        assert_eq!(file["layout"], "time-clustered/1", "{file}");
        let groups = file["groups"].as_array().unwrap();
        assert!(groups.len() > 5, "{file}");
        for (i, g) in groups.iter().enumerate() {
            assert_eq!(g["sorted"], true, "group {i} of {file}");
            assert!(g["rows"].as_u64().unwrap() <= 64, "{file}");
            if let Some(next) = groups.get(i + 1) {
                assert!(g["max_ts"].as_i64() <= next["min_ts"].as_i64(), "{file}");
            }
        }
    }
    // Nothing left to do.
    let r = c.sql_ok("OPTIMIZE ticks").await;
    assert_eq!(
        r["data"],
        json!([["Table 'ticks' optimized: 0 files rewritten as 0"]])
    );
}

#[tokio::test]
async fn symbol_and_time_filters_narrow_the_in_memory_scan_to_the_matching_rows() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, ts TIMESTAMP_NS)")
        .await;
    // Two chunks in time order; AAPL is every third row.
    for part in 0..2 {
        let rows: Vec<Value> = (0..300)
            .map(|i| {
                let n = part * 300 + i;
                let symbol = if n % 3 == 0 { "AAPL" } else { "IBM" };
                json!([symbol, n as f64, n, n * SECOND])
            })
            .collect();
        c.sql_ok(&format!("INSERT INTO ticks VALUES {}", values(&rows)))
            .await;
    }
    let scanned = |r: &Value| r["rows_scanned"].as_u64().unwrap();
    let r = c
        .sql_ok("SELECT count(*), sum(volume) FROM ticks WHERE symbol = 'AAPL'")
        .await;
    assert_eq!(r["data"], json!([[200, (0..600).step_by(3).sum::<i64>()]]));
    assert_eq!(scanned(&r), 200, "only AAPL's rows are read");
    let sql = format!(
        "SELECT count(*) FROM ticks WHERE ts >= {} AND ts < {}",
        100 * SECOND,
        110 * SECOND
    );
    let r = c.sql_ok(&sql).await;
    assert_eq!(r["data"], json!([[10]]));
    assert_eq!(scanned(&r), 10, "a time-sorted chunk is cut to the window");
    let sql = format!(
        "SELECT volume FROM ticks WHERE symbol IN ('AAPL', 'NONE') AND ts >= {} AND ts < {} ORDER BY volume",
        100 * SECOND,
        110 * SECOND
    );
    let r = c.sql_ok(&sql).await;
    assert_eq!(r["data"], json!([[102], [105], [108]]));
    assert_eq!(scanned(&r), 3);
    // No symbol constraint, or an inexact one: every row of the chunks is read.
    let r = c
        .sql_ok("SELECT count(*) FROM ticks WHERE symbol <> 'AAPL'")
        .await;
    assert_eq!((r["data"].clone(), scanned(&r)), (json!([[400]]), 600));
}

#[tokio::test]
async fn value_ranges_skip_the_blocks_of_the_in_memory_scan_that_cannot_match() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, ts TIMESTAMP_NS)")
        .await;
    // Three chunks of 10 000 rows whose price rises with the row (as a drifting price does);
    // each chunk's zone map has blocks of 8 192 rows.
    for part in 0..3 {
        let rows: Vec<Value> = (0..10_000)
            .map(|i| {
                let n = part * 10_000 + i;
                json!(["S", n as f64, n % 7, n * SECOND])
            })
            .collect();
        c.sql_ok(&format!("INSERT INTO ticks VALUES {}", values(&rows)))
            .await;
    }
    let scanned = |r: &Value| r["rows_scanned"].as_u64().unwrap();
    let r = c
        .sql_ok("SELECT count(*), min(price) FROM ticks WHERE price > 25000")
        .await;
    assert_eq!(r["data"], json!([[4_999, 25_001.0]]));
    assert_eq!(
        scanned(&r),
        10_000,
        "only the last chunk can hold such prices"
    );
    let r = c
        .sql_ok("SELECT count(*), sum(volume) FROM ticks WHERE price <= 100 AND volume = 3")
        .await;
    let expected: i64 = (0..=100).filter(|n| n % 7 == 3).count() as i64;
    assert_eq!(r["data"], json!([[expected, 3 * expected]]));
    assert_eq!(scanned(&r), 8_192, "one block of the first chunk");
    // Blocks apart from each other, and a range nothing meets.
    let r = c
        .sql_ok("SELECT count(*) FROM ticks WHERE price BETWEEN 9000 AND 10500")
        .await;
    assert_eq!(r["data"], json!([[1_501]]));
    assert_eq!(scanned(&r), (10_000 - 8_192) + 8_192);
    let r = c
        .sql_ok("SELECT count(*) FROM ticks WHERE price < -1")
        .await;
    assert_eq!((r["data"].clone(), scanned(&r)), (json!([[0]]), 0));
    // Not a range the scan understands: every row is read, the answer is the same.
    let r = c
        .sql_ok("SELECT count(*) FROM ticks WHERE price + 0 > 25000")
        .await;
    assert_eq!((r["data"].clone(), scanned(&r)), (json!([[4_999]]), 30_000));
}
