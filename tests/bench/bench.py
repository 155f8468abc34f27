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
    def __init__(self, binary, threads, extra=()):
        self.proc = subprocess.Popen([binary, '--port', '0', '--query-parallelism', str(threads),
                                      '--max-result-rows', '0', *extra],
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

    def sql_stats(self):
        self.conn.request('GET', '/stats')
        return json.loads(self.conn.getresponse().read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=600)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def ingest(self, table, bodies):
        for b in bodies:
            self.post('/insert/arrow?table=%s' % table, b,
                      {'Content-Type': 'application/vnd.apache.arrow.stream'})


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


def compare(strata, duck, queries, repeat):
    """Runs each (name, Strata SQL, DuckDB SQL) on both engines, fails the run if the answers
    differ, and returns (name, Strata seconds, DuckDB seconds) medians."""
    timings = []
    for name, q_strata, q_duck in queries:
        s_rows = strata.sql(q_strata)['data']
        d_rows = [list(r) for r in duck.execute(q_duck).fetchall()]
        if name.startswith('5-min'):
            d_rows = [[int(r[0])] + r[1:] for r in d_rows]
        if not same(s_rows, d_rows):
            raise SystemExit('results differ for %s:\nstrata %s\nduckdb %s' % (name, s_rows[:3], d_rows[:3]))
        ts = median_time(lambda: strata.post('/', q_strata.encode()), repeat)
        td = median_time(lambda: duck.execute(q_duck).fetchall(), repeat)
        timings.append((name, ts, td))
    return timings


def hdb_queries(table_strata, path):
    """The three queries over the HDB: Strata's, and DuckDB's over the same Delta table (its
    time column is the stored integer nanoseconds, so DuckDB needs no conversion)."""
    out = []
    for name, q_strata, q_duck in QUERIES:
        q_duck = q_duck.replace('epoch_ns(timestamp)', 'timestamp')
        q_duck = q_duck.replace('FROM ticks', "FROM delta_scan('%s')" % path)
        out.append((name + ', HDB', q_strata.replace('FROM ticks', 'FROM ' + table_strata), q_duck))
    return out


def delta_extension():
    import duckdb_extension_delta
    base = os.path.join(os.path.dirname(duckdb_extension_delta.__file__), 'extensions')
    return os.path.join(base, os.listdir(base)[0], 'delta.duckdb_extension')


def tiered_run(args, table, bodies, duck_mem):
    """Flush rate, queries over the HDB vs DuckDB on the same Delta table, a query over both
    tiers half-flushed, and WAL replay rate at restart."""
    import tempfile
    data = tempfile.mkdtemp(prefix='strata-bench-')
    # Flushes only when asked, so each figure measures one thing.
    flags = ['--hdb-dir', data, '--flush-rows', str(10**12), '--flush-bytes', str(10**15),
             '--flush-age-secs', str(10**6)]
    results, timings = [], []
    strata = Strata(args.strata, args.threads, flags)
    try:
        create = 'CREATE TABLE %s (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)'
        strata.sql(create % 'ticks')
        t = time.perf_counter()
        strata.ingest('ticks', bodies)
        results.append(('ingest, POST /insert/arrow with the WAL (--wal-sync always)',
                        args.rows / (time.perf_counter() - t)))
        t = time.perf_counter()
        strata.sql('FLUSH TABLE ticks')
        results.append(('flush to a local dir (Parquet in the HDB layout + Delta commit)',
                        args.rows / (time.perf_counter() - t)))

        duck = duckdb.connect()
        duck.execute('SET threads = %d' % args.threads)
        duck.execute("INSTALL '%s'; LOAD delta" % delta_extension())
        path = os.path.join(data, 'tables', 'ticks')
        timings += compare(strata, duck, hdb_queries('ticks', path), args.repeat)

        # Half the rows in the HDB, half in memory; DuckDB's in-memory table is the yardstick.
        strata.sql(create % 'half')
        strata.ingest('half', bodies[:len(bodies) // 2])
        strata.sql('FLUSH TABLE half')
        strata.ingest('half', bodies[len(bodies) // 2:])
        name, q_strata, q_duck = QUERIES[0]
        q_half = q_strata.replace('FROM ticks', 'FROM half')
        if not same(strata.sql(q_half)['data'], [list(r) for r in duck_mem.execute(q_duck).fetchall()]):
            raise SystemExit('results differ for the half-flushed table')
        ts = median_time(lambda: strata.post('/', q_half.encode()), args.repeat)
        td = median_time(lambda: duck_mem.execute(q_duck).fetchall(), args.repeat)
        timings.append((name + ', half HDB + half memory (DuckDB: in memory)', ts, td))

        # Crash with rows only in the WAL, then time the restart.
        strata.sql(create % 'unflushed')
        strata.ingest('unflushed', bodies)
        in_wal = sum(t['rows'] for t in strata.sql_stats()['tables'])
        strata.kill()
        t = time.perf_counter()
        strata = Strata(args.strata, args.threads, flags)
        elapsed = time.perf_counter() - t
        replayed = sum(t['rows'] for t in strata.sql_stats()['tables'])
        assert replayed == in_wal, (replayed, in_wal)
        results.append(('restart: WAL replay (%d rows)' % replayed, replayed / elapsed))
    finally:
        strata.stop()
        subprocess.run(['rm', '-rf', data])
    return results, timings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--rows', type=int, default=10_000_000)
    ap.add_argument('--symbols', type=int, default=100)
    ap.add_argument('--chunk-rows', type=int, default=1_000_000)
    ap.add_argument('--insert-rows', type=int, default=200_000)
    ap.add_argument('--insert-batch', type=int, default=1000)
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--no-tiered', action='store_true', help='skip the HDB part')
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

        timings = compare(strata, duck, QUERIES, args.repeat)
    finally:
        strata.stop()
    if not args.no_tiered:
        more_results, more_timings = tiered_run(args, table, bodies, duck)
        results += more_results
        timings += more_timings

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
