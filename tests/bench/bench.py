#!/usr/bin/env python3
"""Strata vs DuckDB on a generated tick table, measured side by side in one run.

    make bench                       # 10 M rows, 100 symbols (the figures in docs/benchmarks.md)
    make bench BENCH_ARGS="--rows 1000000"

Measures, on the release build of Strata started here on a free port:
  * ingest rate over POST /insert/arrow (1 M-row Arrow IPC bodies) and over multi-row INSERT;
  * three queries (VWAP by symbol, 5-minute OHLCV bars for one symbol, a filtered count), each
    run on Strata over HTTP and on DuckDB (Python, same rows in an in-memory table, same number
    of threads), median of --repeat runs after one warm-up, reported as the Strata/DuckDB ratio.
Both engines must return the same answers; a mismatch fails the run.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

T0 = 1_711_152_000_000_000_000  # 2024-03-23T00:00:00Z: every row falls in one UTC day
BAR_NS = 300_000_000_000


def generate(rows, symbols, seed=42):
    rng = np.random.default_rng(seed)
    sym_ids = rng.integers(0, symbols, rows)
    names = np.array(['S%03d' % i for i in range(symbols)])
    price = 100.0 + np.cumsum(rng.normal(0, 0.01, rows))
    volume = rng.integers(1, 1000, rows, dtype=np.int64)
    # Spread over 86 000 s (just under a day), so bars and filters see realistic time ranges.
    ts = T0 + np.arange(rows, dtype=np.int64) * (86_000 * 10**9 // rows)
    return pa.table({
        'symbol': pa.array(names[sym_ids]),
        'price': pa.array(np.round(price, 4)),
        'volume': pa.array(volume),
        'timestamp': pa.array(ts, type=pa.timestamp('ns', tz='UTC')),
    })


class Strata:
    def __init__(self, binary, threads):
        self.proc = subprocess.Popen([binary, '--port', '0', '--query-parallelism', str(threads),
                                      '--max-result-rows', '0'],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith('Strata listening on http://'):
                host, port = line.strip().rsplit('/', 1)[1].split(':')
                self.conn = http.client.HTTPConnection(host, int(port), timeout=600)
                return
        raise RuntimeError('strata did not start')

    def post(self, path, body, headers=None):
        self.conn.request('POST', path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError('%s -> %d %s' % (path, r.status, data[:300]))
        return data

    def sql(self, q):
        return json.loads(self.post('/', q.encode()))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def median_time(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ipc_bytes(table):
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def sql_literal_rows(table):
    cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
    ts = table.column('timestamp').cast(pa.int64()).to_pylist()
    return ','.join("('%s',%r,%d,%d)" % (s, p, v, t) for s, p, v, t in zip(cols[0], cols[1], cols[2], ts))


QUERIES = [
    ('VWAP by symbol',
     "SELECT symbol, vwap(price, volume) AS vwap FROM ticks GROUP BY symbol ORDER BY symbol",
     "SELECT symbol, sum(price * volume) / sum(volume) AS vwap FROM ticks GROUP BY symbol ORDER BY symbol"),
    ('5-min OHLCV bars, one symbol',
     "SELECT xbar(timestamp, %d) AS bar, first(price) AS o, max(price) AS h, min(price) AS l, "
     "last(price) AS c, sum(volume) AS v FROM ticks WHERE symbol = 'S042' GROUP BY bar ORDER BY bar" % BAR_NS,
     "SELECT epoch_ns(timestamp) // %d * %d AS bar, arg_min(price, timestamp) AS o, max(price) AS h, "
     "min(price) AS l, arg_max(price, timestamp) AS c, sum(volume) AS v FROM ticks WHERE symbol = 'S042' "
     "GROUP BY bar ORDER BY bar" % (BAR_NS, BAR_NS)),
    ('filtered count',
     "SELECT count(*) AS n FROM ticks WHERE symbol = 'S042' AND volume > 500",
     "SELECT count(*) AS n FROM ticks WHERE symbol = 'S042' AND volume > 500"),
]


def same(a, b):
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if isinstance(x, float) or isinstance(y, float):
                if abs(x - y) > 1e-6 * max(1.0, abs(x), abs(y)):
                    return False
            elif x != y:
                return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--rows', type=int, default=10_000_000)
    ap.add_argument('--symbols', type=int, default=100)
    ap.add_argument('--chunk-rows', type=int, default=1_000_000)
    ap.add_argument('--insert-rows', type=int, default=200_000)
    ap.add_argument('--insert-batch', type=int, default=1000)
    ap.add_argument('--repeat', type=int, default=7)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    args = ap.parse_args()

    print('generating %d rows, %d symbols ...' % (args.rows, args.symbols), flush=True)
    table = generate(args.rows, args.symbols)
    strata = Strata(args.strata, args.threads)
    results = []
    try:
        strata.sql('CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)')
        bodies = [ipc_bytes(table.slice(o, args.chunk_rows)) for o in range(0, args.rows, args.chunk_rows)]
        t = time.perf_counter()
        for b in bodies:
            strata.post('/insert/arrow?table=ticks', b, {'Content-Type': 'application/vnd.apache.arrow.stream'})
        arrow_s = time.perf_counter() - t
        results.append(('ingest, POST /insert/arrow (%d-row bodies)' % args.chunk_rows, args.rows / arrow_s))

        strata.sql('CREATE TABLE ticks_sql (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)')
        sample = table.slice(0, args.insert_rows)
        stmts = ['INSERT INTO ticks_sql VALUES ' + sql_literal_rows(sample.slice(o, args.insert_batch))
                 for o in range(0, args.insert_rows, args.insert_batch)]
        t = time.perf_counter()
        for s in stmts:
            strata.post('/', s.encode())
        sql_s = time.perf_counter() - t
        results.append(('ingest, multi-row INSERT (%d rows/statement)' % args.insert_batch, args.insert_rows / sql_s))
        n = strata.sql('SELECT count(*) FROM ticks')['data'][0][0]
        assert n == args.rows, n

        duck = duckdb.connect()
        duck.execute('SET threads = %d' % args.threads)
        duck.register('src', table)
        duck.execute('CREATE TABLE ticks AS SELECT * FROM src')
        duck.unregister('src')

        timings = []
        for name, q_strata, q_duck in QUERIES:
            s_rows = strata.sql(q_strata)['data']
            d_rows = [list(r) for r in duck.execute(q_duck).fetchall()]
            if name.startswith('5-min'):
                d_rows = [[int(r[0])] + r[1:] for r in d_rows]
            if not same(s_rows, d_rows):
                raise SystemExit('results differ for %s:\nstrata %s\nduckdb %s' % (name, s_rows[:3], d_rows[:3]))
            ts = median_time(lambda: strata.post('/', q_strata.encode()), args.repeat)
            td = median_time(lambda: duck.execute(q_duck).fetchall(), args.repeat)
            timings.append((name, ts, td))
    finally:
        strata.stop()

    print()
    print('Rows: %d, symbols: %d, threads: %d, machine: %d cores' % (args.rows, args.symbols, args.threads, os.cpu_count()))
    print()
    print('| ingest | rows/s |')
    print('|---|---:|')
    for name, rate in results:
        print('| %s | %s |' % (name, '{:,.0f}'.format(rate)))
    print()
    print('| query | Strata ms | DuckDB ms | Strata / DuckDB |')
    print('|---|---:|---:|---:|')
    for name, ts, td in timings:
        print('| %s | %.1f | %.1f | %.2fx |' % (name, ts * 1e3, td * 1e3, ts / td))


if __name__ == '__main__':
    sys.exit(main())
