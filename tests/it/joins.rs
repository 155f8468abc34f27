//! kdb+'s joins: ASOF [LEFT] / AJ0 / WINDOW / UNION / PLUS, against hand-computed answers and
//! against DuckDB's own ASOF JOIN on the same rows, across day partitions and both tiers.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::external::python_script;
use crate::common::rng::Rng;
use crate::common::{Client, TestServer};

/// Quotes and trades whose answers are worked out by hand below. Times are nanoseconds.
///
/// quotes: A@10 1.0, A@20 2.0, A@30 3.0, B@15 10.0, B@NULL 99.0, NULL@5 77.0
/// trades: 1 A@5, 2 A@10, 3 A@25, 4 A@40, 5 B@14, 6 B@15, 7 C@50, 8 NULL@20, 9 A@NULL
async fn small(c: &Client) {
    c.sql_ok("CREATE TABLE q (sym SYMBOL, ts TIMESTAMP_NS, bid FLOAT64)")
        .await;
    c.sql_ok("CREATE TABLE t (id INT64, sym SYMBOL, ts TIMESTAMP_NS, price FLOAT64)")
        .await;
    c.sql_ok(
        "INSERT INTO q VALUES ('A', 20, 2.0), ('A', 10, 1.0), ('B', 15, 10.0), ('A', 30, 3.0), \
         ('B', NULL, 99.0), (NULL, 5, 77.0)",
    )
    .await;
    c.sql_ok(
        "INSERT INTO t VALUES (1, 'A', 5, 1), (2, 'A', 10, 2), (3, 'A', 25, 3), (4, 'A', 40, 4), \
         (5, 'B', 14, 5), (6, 'B', 15, 6), (7, 'C', 50, 7), (8, NULL, 20, 8), (9, 'A', NULL, 9)",
    )
    .await;
}

#[tokio::test]
async fn asof_joins_take_the_prevailing_row() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    small(&c).await;
    let ids_bids = |sql: &str| {
        let c = c.clone();
        let sql = sql.to_string();
        async move { c.rows(&sql).await }
    };
    // Inner (the reference's ASOF JOIN): unmatched trades are dropped; equal times match.
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.id"
        )
        .await,
        json!([[2, 1.0], [3, 2.0], [4, 3.0], [6, 10.0]])
    );
    // kdb+'s aj: every trade kept; NULL keys and times match nothing.
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid, CAST(q.ts AS BIGINT) FROM t ASOF LEFT JOIN q \
             ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.id"
        )
        .await,
        json!([
            [1, null, null],
            [2, 1.0, 10],
            [3, 2.0, 20],
            [4, 3.0, 30],
            [5, null, null],
            [6, 10.0, 15],
            [7, null, null],
            [8, null, null],
            [9, null, null]
        ])
    );
    // The comparison may be written either way round, strictly, or looking forward.
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid FROM t ASOF JOIN q ON q.sym = t.sym AND q.ts <= t.ts ORDER BY t.id"
        )
        .await,
        json!([[2, 1.0], [3, 2.0], [4, 3.0], [6, 10.0]])
    );
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts > q.ts ORDER BY t.id"
        )
        .await,
        json!([[3, 2.0], [4, 3.0]])
    );
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts <= q.ts ORDER BY t.id"
        )
        .await,
        json!([[1, 1.0], [2, 1.0], [3, 3.0], [5, 10.0], [6, 10.0]])
    );
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts < q.ts ORDER BY t.id"
        )
        .await,
        json!([[1, 1.0], [2, 2.0], [3, 3.0], [5, 10.0]])
    );
    // ClickHouse's USING form: the last column is the time (t.ts >= q.ts).
    assert_eq!(
        ids_bids("SELECT id, bid FROM t ASOF LEFT JOIN q USING (sym, ts) ORDER BY id LIMIT 4")
            .await,
        json!([[1, null], [2, 1.0], [3, 2.0], [4, 3.0]])
    );
    // No key: the last quote of any symbol.
    assert_eq!(
        ids_bids("SELECT t.id, q.bid FROM t ASOF JOIN q ON t.ts >= q.ts ORDER BY t.id").await,
        json!([
            [1, 77.0],
            [2, 1.0],
            [3, 2.0],
            [4, 3.0],
            [5, 1.0],
            [6, 10.0],
            [7, 3.0],
            [8, 2.0]
        ])
    );
    // AJ0: the trades an ASOF JOIN keeps, with the left columns only.
    let aj0 = c
        .sql_ok("SELECT * FROM t AJ0 JOIN q ON t.sym = q.sym AND t.ts >= q.ts ORDER BY id")
        .await;
    assert_eq!(aj0["columns"], json!(["id", "sym", "ts", "price"]), "{aj0}");
    let ids: Vec<&Value> = aj0["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r[0])
        .collect();
    assert_eq!(ids, [&json!(2), &json!(3), &json!(4), &json!(6)]);
    // Joined rows feed aggregates, filters and other joins like any relation.
    assert_eq!(
        ids_bids(
            "SELECT t.sym, count(*), sum(q.bid) FROM t ASOF JOIN q ON t.sym = q.sym \
             AND t.ts >= q.ts WHERE t.price > 2 GROUP BY t.sym ORDER BY t.sym"
        )
        .await,
        json!([["A", 2, 5.0], ["B", 1, 10.0]])
    );
    // Filters on the trades move below the join (and a symbol filter to the quotes too):
    // the answer is the one filtering afterwards gives.
    assert_eq!(
        ids_bids(
            "SELECT t.id, q.bid FROM t ASOF LEFT JOIN q ON t.sym = q.sym AND t.ts >= q.ts \
             WHERE t.sym = 'A' AND t.id > 1 AND (q.bid > 1.5 OR q.bid IS NULL) ORDER BY t.id"
        )
        .await,
        json!([[3, 2.0], [4, 3.0], [9, null]])
    );
    let plan = c
        .rows(
            "EXPLAIN SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts >= q.ts \
             WHERE t.sym = 'A'",
        )
        .await
        .to_string();
    assert!(plan.contains("q.sym = Utf8(\\\"A\\\")"), "{plan}");
    assert_eq!(
        ids_bids(
            "SELECT a.id, q.bid FROM t a JOIN t b ON a.id = b.id ASOF JOIN q \
             ON a.sym = q.sym AND a.ts >= q.ts WHERE b.id < 4 ORDER BY a.id"
        )
        .await,
        json!([[2, 1.0], [3, 2.0]])
    );
}

#[tokio::test]
async fn window_joins_aggregate_each_window() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    small(&c).await;
    let rows = c
        .rows(
            "SELECT t.id, wj_count(q.bid), wj_avg(q.bid), wj_min(q.bid), wj_max(q.bid), \
             wj_sum(q.bid), CAST(wj_max(q.ts) AS BIGINT) FROM t WINDOW JOIN q ON t.sym = q.sym \
             AND q.ts BETWEEN t.ts - INTERVAL '20 nanoseconds' AND t.ts ORDER BY t.id",
        )
        .await;
    assert_eq!(
        rows,
        json!([
            [1, 0, null, null, null, null, null],
            [2, 1, 1.0, 1.0, 1.0, 1.0, 10],
            [3, 2, 1.5, 1.0, 2.0, 3.0, 20],
            [4, 2, 2.5, 2.0, 3.0, 5.0, 30],
            [5, 0, null, null, null, null, null],
            [6, 1, 10.0, 10.0, 10.0, 10.0, 15],
            [7, 0, null, null, null, null, null],
            [8, 0, null, null, null, null, null],
            [9, 0, null, null, null, null, null]
        ])
    );
    // A window reaching forward, and the right columns as the lists of the window's values.
    let rows = c
        .rows(
            "SELECT t.id, q.bid FROM t WINDOW JOIN q ON t.sym = q.sym \
             AND q.ts BETWEEN t.ts AND t.ts + INTERVAL '10 nanoseconds' WHERE t.id <= 3 ORDER BY t.id",
        )
        .await;
    assert_eq!(rows, json!([[1, [1.0]], [2, [1.0, 2.0]], [3, [3.0]]]));
}

#[tokio::test]
async fn union_and_plus_joins_follow_kdb() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE a (x INT64, b STRING)").await;
    c.sql_ok("CREATE TABLE b (b STRING, y FLOAT64)").await;
    c.sql_ok("INSERT INTO a VALUES (1, 'x')").await;
    c.sql_ok("INSERT INTO b VALUES ('y', 2.5)").await;
    let union = c.sql_ok("SELECT * FROM a UNION JOIN b ORDER BY b").await;
    assert_eq!(union["columns"], json!(["x", "b", "y"]), "{union}");
    assert_eq!(union["data"], json!([[1, "x", null], [null, "y", 2.5]]));

    c.sql_ok("CREATE TABLE pos (sym SYMBOL, qty INT64, cost FLOAT64, note STRING)")
        .await;
    c.sql_ok("CREATE TABLE fills (sym SYMBOL, qty INT64, cost FLOAT64, venue STRING)")
        .await;
    c.sql_ok("INSERT INTO pos VALUES ('A', 10, 100.0, 'a'), ('B', 5, 50.0, 'b')")
        .await;
    c.sql_ok("INSERT INTO fills VALUES ('A', 3, 30.5, 'X'), ('C', 1, 1.0, 'Y')")
        .await;
    let plus = c
        .sql_ok("SELECT * FROM pos PLUS JOIN fills ON pos.sym = fills.sym ORDER BY sym")
        .await;
    assert_eq!(
        plus["columns"],
        json!(["sym", "qty", "cost", "note", "venue"]),
        "{plus}"
    );
    assert_eq!(
        plus["data"],
        json!([["A", 13, 130.5, "a", "X"], ["B", 5, 50.0, "b", null]])
    );
    let using = c
        .rows("SELECT sym, qty FROM pos PLUS JOIN fills USING (sym) ORDER BY sym")
        .await;
    assert_eq!(using, json!([["A", 13], ["B", 5]]));
}

#[tokio::test]
async fn malformed_kdb_joins_are_refused_with_the_shape_they_take() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    small(&c).await;
    for (sql, says) in [
        (
            "SELECT * FROM t ASOF JOIN q ON t.sym = q.sym",
            "one comparison of their times",
        ),
        (
            "SELECT * FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts >= q.ts AND q.bid > 1",
            "one comparison of their times",
        ),
        (
            "SELECT * FROM t ASOF JOIN q ON t.sym = q.sym AND t.sym >= q.ts",
            "both be timestamps",
        ),
        (
            "SELECT * FROM t WINDOW JOIN q ON t.sym = q.sym",
            "window of the right table's time",
        ),
        (
            "SELECT * FROM t UNION JOIN q ON t.sym = q.sym",
            "UNION JOIN takes no ON",
        ),
        (
            "SELECT * FROM t PLUS JOIN q ON t.ts >= q.ts",
            "PLUS JOIN takes ON with equalities",
        ),
        (
            "SELECT * FROM t PLUS JOIN q ON t.sym = q.sym",
            "PLUS JOIN adds the columns",
        ),
        (
            "SELECT * FROM t ASOF JOIN t ON t.ts >= t.ts",
            "distinct names",
        ),
        (
            "SELECT wj_avg(price) FROM t",
            "aggregates a column of a WINDOW JOIN",
        ),
        (
            "DELETE FROM t WHERE id IN (SELECT t.id FROM t ASOF JOIN q ON t.ts >= q.ts)",
            "",
        ),
    ] {
        let (status, body) = c.sql(sql).await;
        if says.is_empty() {
            // A kdb+ join inside a subquery of a DML statement is a query like any other.
            assert_eq!(status, StatusCode::OK, "{sql}: {body}");
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sql}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{sql}: {error}");
    }
    // Nothing was changed by the refusals (the DELETE above removed the rows it matched).
    assert_eq!(c.rows("SELECT count(*) FROM q").await, json!([[6]]));
}

const DAY: i64 = 86_400_000_000_000;
const SECOND: i64 = 1_000_000_000;

/// Random trades and quotes over three days and five symbols (one with no quotes), with NULLs,
/// trades at exactly a quote's time, and quote times distinct within a symbol (DuckDB, like
/// Strata, picks any one of several right rows at one time). The first day is flushed to the
/// HDB, so every query reads both tiers.
async fn random(c: &Client, seed: u64) -> (Vec<Value>, Vec<Value>) {
    let mut rng = Rng(seed);
    let syms = ["A", "B", "C", "D", "E"];
    let mut quotes = Vec::new();
    let mut used = std::collections::HashSet::new();
    for _ in 0..600 {
        let sym = syms[rng.below(4) as usize];
        let ts = rng.below(3) as i64 * DAY + rng.below(2_000) as i64 * SECOND;
        if !used.insert((sym, ts)) {
            continue;
        }
        let bid = (rng.below(10_000) as f64) / 100.0;
        let sym = if rng.below(50) == 0 {
            Value::Null
        } else {
            json!(sym)
        };
        quotes.push(json!([sym, ts, bid]));
    }
    let mut trades = Vec::new();
    for id in 0..800 {
        let sym = syms[rng.below(5) as usize];
        let ts = match rng.below(10) {
            // Exactly at some quote's time.
            0 => quotes[rng.below(quotes.len() as u64) as usize][1]
                .as_i64()
                .unwrap(),
            _ => rng.below(3) as i64 * DAY + rng.below(2_100) as i64 * SECOND,
        };
        let ts = if rng.below(60) == 0 {
            Value::Null
        } else {
            json!(ts)
        };
        let sym = if rng.below(60) == 0 {
            Value::Null
        } else {
            json!(sym)
        };
        trades.push(json!([id, sym, ts, rng.below(100)]));
    }
    c.sql_ok("CREATE TABLE q (sym SYMBOL, ts TIMESTAMP_NS, bid FLOAT64)")
        .await;
    c.sql_ok("CREATE TABLE t (id INT64, sym SYMBOL, ts TIMESTAMP_NS, size INT64)")
        .await;
    // Rows of the first day (their time, column `at`, before DAY), or of the others.
    let values = |rows: &[Value], at: usize, first_day: bool| -> Option<String> {
        let chosen: Vec<String> = rows
            .iter()
            .filter(|r| r[at].as_i64().is_some_and(|ts| ts < DAY) == first_day)
            .map(|r| {
                let cells: Vec<String> = r
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => format!("'{s}'"),
                        other => other.to_string(),
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        (!chosen.is_empty()).then(|| chosen.join(", "))
    };
    for first_day in [true, false] {
        for (table, rows, at) in [("q", &quotes, 1), ("t", &trades, 2)] {
            if let Some(v) = values(rows, at, first_day) {
                c.sql_ok(&format!("INSERT INTO {table} VALUES {v}")).await;
            }
        }
        if first_day {
            c.sql_ok("FLUSH TABLE q").await;
            c.sql_ok("FLUSH TABLE t").await;
        }
    }
    (quotes, trades)
}

/// `ours` and `theirs` hold the same rows in the same order; else the first that differs.
fn assert_same_rows(ours: &Value, theirs: &Value, what: &str) {
    let (ours, theirs) = (ours.as_array().unwrap(), theirs.as_array().unwrap());
    if let Some(i) = (0..ours.len().min(theirs.len())).find(|i| ours[*i] != theirs[*i]) {
        panic!(
            "{what}: row {i} is {} here, {} in DuckDB",
            ours[i], theirs[i]
        );
    }
    assert_eq!(ours.len(), theirs.len(), "{what}: row counts");
}

/// What DuckDB answers for `sql` over the same rows, in its own tables (`tt` is `t` without
/// the trades whose time is NULL: DuckDB 1.x as-of joins such a trade to its symbol's last
/// quote, where Strata, as SQL compares NULL and as kdb+ orders its null time, matches none).
fn duckdb(quotes: &[Value], trades: &[Value], sql: &str) -> Value {
    let spec = json!({
        "tables": {
            "q": {"columns": [["sym", "VARCHAR"], ["ts", "BIGINT"], ["bid", "DOUBLE"]], "rows": quotes},
            "t": {"columns": [["id", "BIGINT"], ["sym", "VARCHAR"], ["ts", "BIGINT"], ["size", "BIGINT"]], "rows": trades},
        },
        "sql": format!("WITH tt AS (SELECT * FROM t WHERE ts IS NOT NULL) {sql}"),
    });
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("spec.json");
    std::fs::write(&path, spec.to_string()).unwrap();
    python_script("duckdb_query.py", &[path.to_str().unwrap()], &[])
}

#[tokio::test]
async fn asof_and_window_joins_agree_with_duckdb_across_days_and_tiers() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    for seed in [0x9E37_79B9_7F4A_7C15_u64, 0xD1B5_4A32_D192_ED03] {
        let (quotes, trades) = random(&c, seed).await;
        for (strata, theirs) in [
            (
                "SELECT t.id, q.bid, CAST(q.ts AS BIGINT) FROM t ASOF LEFT JOIN q \
                 ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.id",
                "SELECT t.id, CASE WHEN t.ts IS NOT NULL THEN q.bid END, \
                 CASE WHEN t.ts IS NOT NULL THEN q.ts END FROM t ASOF LEFT JOIN q \
                 ON t.sym = q.sym AND t.ts >= q.ts ORDER BY t.id",
            ),
            (
                "SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts > q.ts ORDER BY t.id",
                "SELECT t.id, q.bid FROM tt t ASOF JOIN q ON t.sym = q.sym AND t.ts > q.ts ORDER BY t.id",
            ),
            (
                "SELECT t.id, q.bid FROM t ASOF JOIN q ON t.sym = q.sym AND t.ts <= q.ts ORDER BY t.id",
                "SELECT t.id, q.bid FROM tt t ASOF JOIN q ON t.sym = q.sym AND t.ts <= q.ts ORDER BY t.id",
            ),
            (
                "SELECT t.id, q.bid FROM t ASOF LEFT JOIN q ON t.sym = q.sym AND t.ts >= q.ts \
                 WHERE t.sym IN ('A', 'C') AND t.size > 50 AND t.ts IS NOT NULL ORDER BY t.id",
                "SELECT t.id, q.bid FROM t ASOF LEFT JOIN q ON t.sym = q.sym AND t.ts >= q.ts \
                 WHERE t.sym IN ('A', 'C') AND t.size > 50 AND t.ts IS NOT NULL ORDER BY t.id",
            ),
            (
                "SELECT t.sym, count(*), round(sum(q.bid * t.size), 4) FROM t ASOF JOIN q \
                 ON t.sym = q.sym AND t.ts >= q.ts GROUP BY t.sym ORDER BY t.sym",
                "SELECT t.sym, count(*), round(sum(q.bid * t.size), 4) FROM tt t ASOF JOIN q \
                 ON t.sym = q.sym AND t.ts >= q.ts GROUP BY t.sym ORDER BY t.sym",
            ),
            (
                "SELECT t.id, wj_count(q.bid), round(wj_avg(q.bid), 6), wj_max(q.bid) FROM t \
                 WINDOW JOIN q ON t.sym = q.sym AND q.ts BETWEEN t.ts - INTERVAL '60 seconds' \
                 AND t.ts + INTERVAL '5 seconds' ORDER BY t.id",
                "SELECT t.id, count(q.bid), round(avg(q.bid), 6), max(q.bid) FROM t LEFT JOIN q \
                 ON t.sym = q.sym AND q.ts BETWEEN t.ts - 60000000000 AND t.ts + 5000000000 \
                 GROUP BY t.id ORDER BY t.id",
            ),
        ] {
            let ours = c.rows(strata).await;
            let expected = duckdb(&quotes, &trades, theirs);
            assert_same_rows(&ours, &expected, &format!("seed {seed:#x}: {strata}"));
        }
        c.sql_ok("DROP TABLE q").await;
        c.sql_ok("DROP TABLE t").await;
    }
}
