#!/usr/bin/env python3
"""kdb+'s joins: Strata vs DuckDB and ClickHouse (chdb) on generated trades and quotes.

    make bench-joins                                   # 10 M trades x 10 M quotes, 100 symbols
    make bench-joins JOINS_BENCH_ARGS="--rows 1000000"

Each engine gets the same rows in its own best form: Strata in memory (POST /insert/arrow);
DuckDB in its in-memory tables, times as BIGINT nanoseconds; ClickHouse (the chdb package) in
MergeTree tables ORDER BY (sym, ts) with a LowCardinality symbol. Each query class is run on all
three, the answers must agree (a mismatch fails the run), and the median of --repeat runs after
a warm-up is reported, with Strata's time over HTTP (parse, plan, run, encode) and the others'
in process.

  * as-of join, totals:  every trade with the prevailing quote (ASOF LEFT JOIN), counted and summed;
  * as-of join, by symbol: mean trade-minus-quote (slippage) per symbol (ASOF JOIN, GROUP BY);
  * window join:  for each trade, count and mean of the quotes within +-1 s. Strata runs its WINDOW
    JOIN; DuckDB and ClickHouse have no window join, so they get the formulation that suits them
    best: prefix counts and sums of the quotes by symbol, and two as-of joins per trade (the window's
    two edges), which is exact for count and mean.
"""
import argparse
import os
import sys
import time

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Strata, ipc_bytes, median_time, same  # noqa: E402

T0 = 1_711_152_000_000_000_000  # 2024-03-23T00:00:00Z
DAY = 86_000 * 10**9
WINDOW = 10**9  # +-1 s


def generate(rows, symbols, seed):
    """Trades and quotes, `rows` each, over one day. Quote times are distinct (so "the
    prevailing quote" is one row in every engine); some trades fall exactly on a quote's time."""
    rng = np.random.default_rng(seed)
    names = np.array(['S%03d' % i for i in range(symbols)])
    q_step = DAY // rows
    q_ts = T0 + np.arange(rows, dtype=np.int64) * q_step
    quotes = pa.table({
        'sym': pa.array(names[rng.integers(0, symbols, rows)]),
        'ts': pa.array(q_ts),
        'bid': pa.array(np.round(100.0 + np.cumsum(rng.normal(0, 0.01, rows)), 4)),
    })
    t_ts = np.sort(T0 + rng.integers(0, DAY, rows, dtype=np.int64))
    on_quote = rng.random(rows) < 0.05
    t_ts[on_quote] = q_ts[rng.integers(0, rows, on_quote.sum())]
    trades = pa.table({
        'id': pa.array(np.arange(rows, dtype=np.int64)),
        'sym': pa.array(names[rng.integers(0, symbols, rows)]),
        'ts': pa.array(t_ts),
        'price': pa.array(np.round(100.0 + np.cumsum(rng.normal(0, 0.01, rows)), 4)),
        'size': pa.array(rng.integers(1, 1000, rows, dtype=np.int64)),
    })
    return trades, quotes


def with_timestamps(table):
    return table.set_column(table.schema.get_field_index('ts'), 'ts',
                            table['ts'].cast(pa.timestamp('ns', tz='UTC')))


# (name, Strata, DuckDB, ClickHouse)
QUERIES = [
    ('as-of join, totals (ASOF LEFT JOIN)',
     "SELECT count(*), count(q.bid), round(sum(q.bid), 2) FROM fills t "
     "ASOF LEFT JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts",
     "SELECT count(*), count(q.bid), round(sum(q.bid), 2) FROM fills t "
     "ASOF LEFT JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts",
     "SELECT count(), count(q.bid), round(sum(q.bid), 2) FROM fills t "
     "ASOF LEFT JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts SETTINGS join_use_nulls = 1"),
    ('as-of join, slippage by symbol (ASOF JOIN, GROUP BY)',
     "SELECT t.sym, count(*), round(avg(t.price - q.bid), 6) FROM fills t "
     "ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts GROUP BY t.sym ORDER BY t.sym",
     "SELECT t.sym, count(*), round(avg(t.price - q.bid), 6) FROM fills t "
     "ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts GROUP BY t.sym ORDER BY t.sym",
     "SELECT t.sym, count(), round(avg(t.price - q.bid), 6) FROM fills t "
     "ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts GROUP BY t.sym ORDER BY t.sym"),
    ('window join, count and mean of quotes within +-1 s',
     "SELECT sum(wj_count(q.bid)), round(sum(wj_avg(q.bid)), 2) FROM fills t "
     "WINDOW JOIN quotes q ON t.sym = q.sym AND q.ts BETWEEN t.ts - INTERVAL '1 second' "
     "AND t.ts + INTERVAL '1 second'",
     # Prefix counts and sums per symbol; a window is (last quote <= hi) minus (last quote < lo).
     "WITH p AS (SELECT sym, ts, row_number() OVER w AS n, sum(bid) OVER w AS s FROM quotes "
     "WINDOW w AS (PARTITION BY sym ORDER BY ts ROWS UNBOUNDED PRECEDING)), "
     "e AS (SELECT sym, ts + %d AS hi, ts - %d AS lo FROM fills), "
     "c AS (SELECT coalesce(h.n, 0) - coalesce(l.n, 0) AS n, coalesce(h.s, 0) - coalesce(l.s, 0) AS s "
     "FROM e ASOF LEFT JOIN p h ON e.sym = h.sym AND e.hi >= h.ts "
     "ASOF LEFT JOIN p l ON e.sym = l.sym AND e.lo > l.ts) "
     "SELECT sum(n), round(sum(CASE WHEN n > 0 THEN s / n END), 2) FROM c" % (WINDOW, WINDOW),
     "WITH p AS (SELECT sym, ts, row_number() OVER w AS n, sum(bid) OVER w AS s FROM quotes "
     "WINDOW w AS (PARTITION BY sym ORDER BY ts ROWS UNBOUNDED PRECEDING)), "
     "e AS (SELECT sym, ts + %d AS hi, ts - %d - 1 AS lo FROM fills), "
     "c AS (SELECT h.n - l.n AS n, h.s - l.s AS s "
     "FROM e ASOF LEFT JOIN p AS h ON e.sym = h.sym AND e.hi >= h.ts "
     "ASOF LEFT JOIN p AS l ON e.sym = l.sym AND e.lo >= l.ts) "
     "SELECT sum(n), round(sum(if(n > 0, s / n, 0)), 2) FROM c" % (WINDOW, WINDOW)),
]


def load_clickhouse(trades, quotes):
    from chdb import session
    s = session.Session()
    s.query('CREATE DATABASE IF NOT EXISTS b')
    s.query('USE b')
    s.query('CREATE TABLE quotes (sym LowCardinality(String), ts Int64, bid Float64) '
            'ENGINE = MergeTree ORDER BY (sym, ts)')
    s.query('CREATE TABLE fills (id Int64, sym LowCardinality(String), ts Int64, price Float64, '
            'size Int64) ENGINE = MergeTree ORDER BY (sym, ts)')
    globals()['_ch_trades'], globals()['_ch_quotes'] = trades, quotes
    s.query("INSERT INTO quotes SELECT * FROM Python(_ch_quotes)")
    s.query("INSERT INTO fills SELECT * FROM Python(_ch_trades)")
    s.query('OPTIMIZE TABLE quotes FINAL')
    s.query('OPTIMIZE TABLE fills FINAL')
    return s


def clickhouse_rows(s, sql):
    import json
    out = s.query(sql, 'JSONCompact')
    return json.loads(out.bytes())['data']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--rows', type=int, default=10_000_000, help='trades, and as many quotes')
    ap.add_argument('--symbols', type=int, default=100)
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    args = ap.parse_args()

    print('generating %d trades and %d quotes, %d symbols ...' % (args.rows, args.rows, args.symbols),
          flush=True)
    trades, quotes = generate(args.rows, args.symbols, 7)

    duck = duckdb.connect()
    duck.execute('SET threads = %d' % args.threads)
    duck.register('t_src', trades)
    duck.register('q_src', quotes)
    duck.execute('CREATE TABLE fills AS SELECT * FROM t_src')
    duck.execute('CREATE TABLE quotes AS SELECT * FROM q_src')
    ch = load_clickhouse(trades, quotes)

    strata = Strata(args.strata, args.threads)
    timings = []
    try:
        strata.sql('CREATE TABLE fills (id INT64, sym SYMBOL, ts TIMESTAMP_NS, price FLOAT64, size INT64)')
        strata.sql('CREATE TABLE quotes (sym SYMBOL, ts TIMESTAMP_NS, bid FLOAT64)')
        for name, table in (('fills', trades), ('quotes', quotes)):
            table = with_timestamps(table)
            for o in range(0, table.num_rows, 1_000_000):
                strata.post('/insert/arrow?table=' + name, ipc_bytes(table.slice(o, 1_000_000)),
                            {'Content-Type': 'application/vnd.apache.arrow.stream'})
        for name, q_strata, q_duck, q_ch in QUERIES:
            s_rows = strata.sql(q_strata)['data']
            d_rows = [list(r) for r in duck.execute(q_duck).fetchall()]
            c_rows = clickhouse_rows(ch, q_ch)
            for other, rows in (('DuckDB', d_rows), ('ClickHouse', c_rows)):
                if not same(s_rows, rows):
                    raise SystemExit('results differ for %s:\nstrata %s\n%s %s'
                                     % (name, s_rows[:3], other, rows[:3]))
            ts = median_time(lambda: strata.post('/', q_strata.encode()), args.repeat)
            td = median_time(lambda: duck.execute(q_duck).fetchall(), args.repeat)
            tc = median_time(lambda: ch.query(q_ch, 'JSONCompact'), args.repeat)
            timings.append((name, ts, td, tc))
            print('%s: strata %.1f ms, duckdb %.1f ms, clickhouse %.1f ms'
                  % (name, ts * 1e3, td * 1e3, tc * 1e3), flush=True)
    finally:
        strata.stop()

    print()
    print('Trades: %d, quotes: %d, symbols: %d, threads: %d, machine: %d cores'
          % (args.rows, args.rows, args.symbols, args.threads, os.cpu_count()))
    print()
    print('| query | Strata ms | DuckDB ms | ClickHouse ms | Strata / fastest peer |')
    print('|---|---:|---:|---:|---:|')
    for name, ts, td, tc in timings:
        print('| %s | %.1f | %.1f | %.1f | %.2fx |' % (name, ts * 1e3, td * 1e3, tc * 1e3, ts / min(td, tc)))


if __name__ == '__main__':
    sys.exit(main())
