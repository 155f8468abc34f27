use serde_json::json;

use crate::common::{MINUTE, T0, ticks_server};

#[tokio::test]
async fn filters_on_time_accept_integer_nanoseconds() {
    let (_server, c) = ticks_server().await;
    let q = format!(
        "SELECT count(*) FROM ticks WHERE timestamp BETWEEN {T0} AND {}",
        T0 + MINUTE
    );
    assert_eq!(c.rows(&q).await, json!([[4]]));
    let q = format!(
        "SELECT count(*) FROM ticks WHERE timestamp > {}",
        T0 + MINUTE
    );
    assert_eq!(c.rows(&q).await, json!([[2]]));
    let q = format!(
        "SELECT count(*) FROM ticks WHERE {} <= timestamp",
        T0 + 2 * MINUTE
    );
    assert_eq!(c.rows(&q).await, json!([[2]]));
    let q = format!(
        "SELECT count(*) FROM ticks WHERE timestamp IN ({T0}, {})",
        T0 + 5 * MINUTE
    );
    assert_eq!(c.rows(&q).await, json!([[3]]));
    let q = format!(
        "SELECT count(*) FROM ticks WHERE timestamp > {} - {}",
        T0 + 5 * MINUTE,
        3 * MINUTE
    );
    assert_eq!(c.rows(&q).await, json!([[1]]));
    let q = "SELECT count(*) FROM ticks WHERE timestamp >= '2024-03-23T22:02:00Z'";
    assert_eq!(c.rows(q).await, json!([[2]]));
    // Pruning never loses rows on day boundaries.
    let q = format!("SELECT count(*) FROM ticks WHERE timestamp < {}", T0 + 1);
    assert_eq!(c.rows(&q).await, json!([[2]]));
}

#[tokio::test]
async fn where_in_case_group_order_limit() {
    let (_server, c) = ticks_server().await;
    assert_eq!(
        c.rows("SELECT count(*) FROM ticks WHERE symbol = 'AAPL' AND price IN (100, 90)")
            .await,
        json!([[2]])
    );
    assert_eq!(
        c.rows("SELECT sum(CASE WHEN price > 100 THEN volume ELSE 0 END) FROM ticks WHERE symbol = 'AAPL'").await,
        json!([[60]])
    );
    assert_eq!(
        c.rows("SELECT symbol, sum(volume) AS vol FROM ticks GROUP BY symbol ORDER BY vol DESC")
            .await,
        json!([["AAPL", 100], ["MSFT", 20]])
    );
    assert_eq!(
        c.rows("SELECT price FROM ticks ORDER BY price DESC LIMIT 2 OFFSET 1")
            .await,
        json!([[200.0], [110.0]])
    );
    assert_eq!(
        c.rows("SELECT DISTINCT symbol FROM ticks WHERE symbol LIKE 'A%'")
            .await,
        json!([["AAPL"]])
    );
    assert_eq!(
        c.rows("SELECT symbol FROM ticks GROUP BY symbol HAVING count(*) > 2")
            .await,
        json!([["AAPL"]])
    );
}

#[tokio::test]
async fn joins_ctes_subqueries_windows() {
    let (_server, c) = ticks_server().await;
    c.sql_ok("CREATE TABLE refdata (symbol SYMBOL, sector STRING)")
        .await;
    c.sql_ok("INSERT INTO refdata VALUES ('AAPL', 'tech'), ('XOM', 'energy')")
        .await;
    assert_eq!(
        c.rows("SELECT r.sector, count(*) FROM ticks t JOIN refdata r ON t.symbol = r.symbol GROUP BY r.sector").await,
        json!([["tech", 4]])
    );
    assert_eq!(
        c.rows("SELECT t.symbol, r.sector FROM ticks t LEFT JOIN refdata r ON t.symbol = r.symbol WHERE t.symbol = 'MSFT' LIMIT 1").await,
        json!([["MSFT", null]])
    );
    assert_eq!(
        c.rows("WITH v AS (SELECT symbol, sum(volume) AS vol FROM ticks GROUP BY symbol) SELECT symbol FROM v WHERE vol > 50").await,
        json!([["AAPL"]])
    );
    assert_eq!(
        c.rows("SELECT count(*) FROM ticks WHERE price > (SELECT avg(price) FROM ticks)")
            .await,
        json!([[2]])
    );
    assert_eq!(
        c.rows("SELECT count(*) FROM ticks WHERE symbol IN (SELECT symbol FROM refdata)")
            .await,
        json!([[4]])
    );
    assert_eq!(
        c.rows("SELECT symbol, price, row_number() OVER (PARTITION BY symbol ORDER BY price DESC) AS rn FROM ticks QUALIFY rn = 1 ORDER BY symbol").await,
        json!([["AAPL", 110.0, 1], ["MSFT", 210.0, 1]])
    );
    assert_eq!(
        c.rows("SELECT price, lag(price) OVER (ORDER BY timestamp) FROM ticks WHERE symbol = 'MSFT' ORDER BY timestamp").await,
        json!([[200.0, null], [210.0, 200.0]])
    );
    assert_eq!(
        c.rows("SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a").await,
        json!([[1], [2]])
    );
}

#[tokio::test]
async fn explain_shows_a_plan() {
    let (_server, c) = ticks_server().await;
    let r = c
        .sql_ok("EXPLAIN SELECT sum(price) FROM ticks WHERE symbol = 'AAPL'")
        .await;
    assert_eq!(r["columns"], json!(["plan_type", "plan"]));
    assert!(r["data"].to_string().contains("DataSourceExec"), "{r}");
}

/// Statements of literals alone are answered from memory after their first run
/// (`src/sql/constant.rs`): the same answer every time, bounds still applied, and a function
/// of the clock is never frozen.
#[tokio::test]
async fn literal_statements_answer_alike_and_the_clock_is_never_frozen() {
    use crate::clickhouse::{ch, ok};
    let (_server, c) = ticks_server().await;
    let first = c.sql_ok("SELECT 1 AS one, 'a' || 'b', 2 * 3").await;
    assert_eq!(first["data"], json!([[1, "ab", 6]]));
    for _ in 0..3 {
        let again = c.sql_ok("SELECT 1 AS one, 'a' || 'b', 2 * 3").await;
        assert_eq!(
            (&again["columns"], &again["data"]),
            (&first["columns"], &first["data"])
        );
    }
    // A result cut short by its bounds is not the statement's result.
    let two = "SELECT 1 UNION ALL SELECT 2 FORMAT TSV";
    let cut = ch(
        &c,
        two,
        "query_id=t&max_result_rows=1&result_overflow_mode=break",
    )
    .await;
    assert_eq!(cut.body.len(), 2, "{}", String::from_utf8_lossy(&cut.body));
    let mut whole = ok(&c, two).await;
    whole.sort();
    assert_eq!(whole, b"\n\n12");
    // A kept result is served only when it fits the request's bounds.
    let r = ch(&c, two, "query_id=t&max_result_rows=1").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("396")
    );

    let clock = c.rows("SELECT now()").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while c.rows("SELECT now()").await == clock {
        assert!(std::time::Instant::now() < deadline, "now() stays {clock}");
        tokio::task::yield_now().await;
    }
}
