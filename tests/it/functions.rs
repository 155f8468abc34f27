use serde_json::json;

use crate::common::{MINUTE, T0, TestServer, ticks_server};

fn approx(v: &serde_json::Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

#[tokio::test]
async fn aggregates_vwap_first_last_follow_time() {
    let (_server, c) = ticks_server().await;
    let r = c
        .rows("SELECT count(*), sum(volume), vwap(price, volume), min(price), max(price), first(price), last(price) FROM ticks WHERE symbol = 'AAPL'")
        .await;
    assert_eq!(r, json!([[4, 100, 101.0, 90.0, 110.0, 100.0, 105.0]]));
    assert_eq!(
        c.rows("SELECT vwap(price, volume) FROM ticks WHERE symbol = 'MSFT'")
            .await,
        json!([[207.5]])
    );
    assert_eq!(
        c.rows("SELECT avg(price) FROM ticks WHERE symbol = 'AAPL'")
            .await,
        json!([[101.25]])
    );
    let by_sym = c
        .rows("SELECT symbol, first(price), last(price), vwap(price, volume) FROM ticks GROUP BY symbol ORDER BY symbol")
        .await;
    assert_eq!(
        by_sym,
        json!([["AAPL", 100.0, 105.0, 101.0], ["MSFT", 200.0, 210.0, 207.5]])
    );
    // Through a subquery and with an explicit order, too.
    let r = c
        .rows("SELECT first(p) FROM (SELECT price AS p, timestamp FROM ticks WHERE symbol = 'AAPL') s")
        .await;
    assert_eq!(r, json!([[100.0]]));
    let r = c
        .rows("SELECT first_value(price ORDER BY volume DESC) FROM ticks WHERE symbol = 'AAPL'")
        .await;
    assert_eq!(r, json!([[105.0]]));
    // vwap of nothing is NULL, not a division by zero.
    assert_eq!(
        c.rows("SELECT vwap(price, volume) FROM ticks WHERE price > 1000")
            .await,
        json!([[null]])
    );
}

#[tokio::test]
async fn ohlcv_bars_with_xbar() {
    let (_server, c) = ticks_server().await;
    let r = c
        .rows("SELECT xbar(timestamp, 300000000000) AS bar, first(price) AS open, max(price) AS high, min(price) AS low, last(price) AS close, sum(volume) AS vol FROM ticks WHERE symbol = 'AAPL' GROUP BY xbar(timestamp, 300000000000) ORDER BY bar ASC")
        .await;
    assert_eq!(
        r,
        json!([
            [T0, 100.0, 110.0, 90.0, 90.0, 60],
            [T0 + 5 * MINUTE, 105.0, 105.0, 105.0, 105.0, 40]
        ])
    );
    assert_eq!(
        c.rows("SELECT xbar(17, 5), xbar(-1, 5), xbar(2.7, 0.5)")
            .await,
        json!([[15, -5, 2.5]])
    );
}

#[tokio::test]
async fn kdb_window_functions() {
    let (_server, c) = ticks_server().await;
    let r = c
        .rows("SELECT price, DELTA(price) OVER (ORDER BY timestamp), RATIO(price) OVER (ORDER BY timestamp), EMA(price, 0.5) OVER (ORDER BY timestamp) FROM ticks WHERE symbol = 'AAPL' ORDER BY timestamp")
        .await;
    let rows = r.as_array().unwrap();
    let col = |i: usize| rows.iter().map(|row| row[i].clone()).collect::<Vec<_>>();
    assert_eq!(
        col(0),
        [json!(100.0), json!(110.0), json!(90.0), json!(105.0)]
    );
    assert_eq!(
        col(1),
        [json!(100.0), json!(10.0), json!(-20.0), json!(15.0)]
    );
    let ratios = col(2);
    for (got, want) in ratios.iter().zip([1.0, 1.1, 90.0 / 110.0, 105.0 / 90.0]) {
        assert!(approx(got, want), "{got} vs {want}");
    }
    assert_eq!(
        col(3),
        [json!(100.0), json!(105.0), json!(97.5), json!(101.25)]
    );
    // A period instead of alpha, and no ORDER BY: the table's time order applies.
    let r = c
        .rows("SELECT EMA(price, 3) OVER () FROM ticks WHERE symbol = 'AAPL' ORDER BY timestamp")
        .await;
    assert_eq!(r, json!([[100.0], [105.0], [97.5], [101.25]]));
    // Per symbol, integers stay integers.
    let r = c
        .rows("SELECT symbol, DELTA(volume) OVER (PARTITION BY symbol ORDER BY timestamp) FROM ticks ORDER BY symbol, timestamp")
        .await;
    assert_eq!(
        r,
        json!([
            ["AAPL", 10],
            ["AAPL", 10],
            ["AAPL", 10],
            ["AAPL", 10],
            ["MSFT", 5],
            ["MSFT", 10]
        ])
    );
}

#[tokio::test]
async fn time_functions() {
    let (_server, c) = ticks_server().await;
    let r = c
        .rows("SELECT EPOCH_S(timestamp), EPOCH_MS(timestamp) FROM ticks WHERE symbol = 'MSFT' ORDER BY timestamp")
        .await;
    let s = T0 / 1_000_000_000;
    assert_eq!(r, json!([[s, s * 1000], [s + 60, (s + 60) * 1000]]));
    let t = T0 + 5 * MINUTE + 1_234_567_891;
    let r = c
        .rows(&format!(
            "SELECT DATE_TRUNC('ns', {t}), DATE_TRUNC('us', {t}), DATE_TRUNC('ms', {t}), DATE_TRUNC('s', {t}), \
             DATE_TRUNC('min', {t}), DATE_TRUNC('hour', {t}), DATE_TRUNC('day', {t}), DATE_TRUNC('week', {t})"
        ))
        .await;
    let day = T0 - 22 * 3_600_000_000_000;
    assert_eq!(
        r,
        json!([[
            t,
            t - 891,
            t - 567_891,
            t - 234_567_891,
            T0 + 5 * MINUTE,
            T0,
            day,
            day - 5 * 86_400_000_000_000i64
        ]])
    );
    let r = c
        .rows("SELECT DATE_TRUNC('min', timestamp) AS m, count(*) FROM ticks GROUP BY m ORDER BY m")
        .await;
    assert_eq!(
        r,
        json!([
            [T0, 2],
            [T0 + MINUTE, 2],
            [T0 + 2 * MINUTE, 1],
            [T0 + 5 * MINUTE, 1]
        ])
    );
    // NOW() and INTERVAL arithmetic on nanosecond timestamps, long and short units.
    c.sql_ok("INSERT INTO ticks SELECT 'NOW', 1, 1, now()")
        .await;
    for interval in ["5 minutes", "5 min", "300 s", "1 h", "1 d"] {
        let q =
            format!("SELECT count(*) FROM ticks WHERE timestamp > NOW() - INTERVAL '{interval}'");
        assert_eq!(c.rows(&q).await, json!([[1]]), "{interval}");
    }
    let q = "SELECT count(*) FROM ticks WHERE timestamp + INTERVAL '1 minute' > NOW()";
    assert_eq!(c.rows(q).await, json!([[1]]));
}

#[tokio::test]
async fn statistics_are_population_and_doubles() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE v (x INT64)").await;
    c.sql_ok("INSERT INTO v VALUES (1), (2), (3), (4)").await;
    let r = c
        .rows("SELECT STDDEV(x), VARIANCE(x), MEDIAN(x), PERCENTILE(x, 0.5), PERCENTILE(x, 75), stddev_samp(x) FROM v")
        .await;
    let row = &r[0];
    assert!(approx(&row[0], 1.25f64.sqrt()), "{row}");
    assert!(approx(&row[1], 1.25), "{row}");
    assert!(approx(&row[2], 2.5), "{row}");
    assert!(approx(&row[3], 2.5), "{row}");
    assert!(approx(&row[4], 3.25), "{row}");
    assert!(approx(&row[5], (5.0f64 / 3.0).sqrt()), "{row}");
}
