#!/usr/bin/env python3
"""Every query class, in memory and over the HDB, against DuckDB and ClickHouse in one run.

    make bench-classes                                  # 10 M ticks, 100 symbols
    make bench-classes CLASSES_BENCH_ARGS="--rows 1000000"

The tick table of bench.py (symbol, price, volume, timestamp over one day) is given to every
engine in its own best form:

  * Strata in memory (POST /insert/arrow), and a second, tiered Strata whose rows are all flushed
    to its HDB (FLUSH TABLE) before it is queried;
  * DuckDB in its in-memory table; over its **own** Delta table (written by the deltalake package
    in arrival order, times as BIGINT nanoseconds); and over **Strata's** Delta table, so the file
    layout's share of a difference is visible;
  * ClickHouse (the chdb package) in a MergeTree ORDER BY (symbol, ts) with a LowCardinality
    symbol, merged to one part (OPTIMIZE … FINAL).

Every class is run on every engine, the answers must agree (a mismatch fails the run), and the
median of --repeat runs after a warm-up is reported; Strata's time is the whole HTTP round trip
(parse, plan, run, JSON), the others' in process. The classes, with a few shapes each, so no one
query is what is tuned: full-scan aggregates by symbol, time-bucketed bars over all symbols, one
symbol's bars, last value per symbol, narrow time windows, top-N, distinct counts, filtered
counts. (The as-of and window joins have their own run: joins.py.)
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import T0, Strata, delta_extension, generate, ipc_bytes, median_time, same  # noqa: E402

MIN = 60 * 10**9
HOUR = 60 * MIN


def classes():
    """(class, Strata SQL, peer SQL) with the table written as {t}; the peer SQL is DuckDB's and
    ClickHouse's alike (times are integer nanoseconds in both)."""
    w0, w1 = T0 + 10 * HOUR, T0 + 10 * HOUR + MIN
    h0, h1 = T0 + 15 * HOUR, T0 + 16 * HOUR
    return [
        ('full-scan aggregate by symbol (VWAP)',
         "SELECT symbol, round(sum(price * volume) / sum(volume), 6) AS vwap FROM {t} GROUP BY symbol ORDER BY symbol",
         "SELECT symbol, round(sum(price * volume) / sum(volume), 6) AS vwap FROM {t} GROUP BY symbol ORDER BY symbol"),
        ('full-scan aggregate by symbol (count, max, min)',
         "SELECT symbol, count(*), max(price), min(volume) FROM {t} GROUP BY symbol ORDER BY symbol",
         "SELECT symbol, count(*), max(price), min(volume) FROM {t} GROUP BY symbol ORDER BY symbol"),
        ('time-bucketed bars, all symbols (1 min)',
         "SELECT xbar(timestamp, %d) AS bar, count(*), sum(volume), max(price) FROM {t} GROUP BY bar ORDER BY bar" % MIN,
         "SELECT ts // %d * %d AS bar, count(*), sum(volume), max(price) FROM {t} GROUP BY bar ORDER BY bar" % (MIN, MIN)),
        ('one symbol\'s bars (5 min OHLCV)',
         "SELECT xbar(timestamp, %d) AS bar, first(price), max(price), min(price), last(price), sum(volume) "
         "FROM {t} WHERE symbol = 'S042' GROUP BY bar ORDER BY bar" % (5 * MIN),
         "SELECT ts // %d * %d AS bar, argMin(price, ts), max(price), min(price), argMax(price, ts), sum(volume) "
         "FROM {t} WHERE symbol = 'S042' GROUP BY bar ORDER BY bar" % (5 * MIN, 5 * MIN)),
        ('one symbol\'s bars over one hour (1 min)',
         "SELECT xbar(timestamp, %d) AS bar, count(*), round(avg(price), 6) FROM {t} "
         "WHERE symbol = 'S007' AND timestamp >= %d AND timestamp < %d GROUP BY bar ORDER BY bar" % (MIN, h0, h1),
         "SELECT ts // %d * %d AS bar, count(*), round(avg(price), 6) FROM {t} "
         "WHERE symbol = 'S007' AND ts >= %d AND ts < %d GROUP BY bar ORDER BY bar" % (MIN, MIN, h0, h1)),
        ('last value per symbol',
         "SELECT symbol, last(price) FROM {t} GROUP BY symbol ORDER BY symbol",
         "SELECT symbol, argMax(price, ts) FROM {t} GROUP BY symbol ORDER BY symbol"),
        ('narrow time window (1 min, all symbols)',
         "SELECT count(*), sum(volume), round(avg(price), 6) FROM {t} WHERE timestamp >= %d AND timestamp < %d" % (w0, w1),
         "SELECT count(*), sum(volume), round(avg(price), 6) FROM {t} WHERE ts >= %d AND ts < %d" % (w0, w1)),
        ('narrow time window, rows (1 s)',
         "SELECT symbol, price, volume, timestamp FROM {t} WHERE timestamp >= %d AND timestamp < %d "
         "ORDER BY timestamp, symbol" % (w0, w0 + 10**9),
         "SELECT symbol, price, volume, ts FROM {t} WHERE ts >= %d AND ts < %d ORDER BY ts, symbol" % (w0, w0 + 10**9)),
        ('top-N (10 largest prices)',
         "SELECT symbol, price, timestamp FROM {t} ORDER BY price DESC, timestamp LIMIT 10",
         "SELECT symbol, price, ts FROM {t} ORDER BY price DESC, ts LIMIT 10"),
        ('distinct counts',
         "SELECT count(DISTINCT price), count(DISTINCT symbol) FROM {t}",
         "SELECT count(DISTINCT price), count(DISTINCT symbol) FROM {t}"),
        ('filtered count (symbol and value)',
         "SELECT count(*) FROM {t} WHERE symbol = 'S042' AND volume > 500",
         "SELECT count(*) FROM {t} WHERE symbol = 'S042' AND volume > 500"),
        ('filtered count (value only)',
         "SELECT count(*) FROM {t} WHERE volume > 990 AND price > 100",
         "SELECT count(*) FROM {t} WHERE volume > 990 AND price > 100"),
    ]


def duck_sql(q, table):
    q = q.replace('argMin(', 'arg_min(').replace('argMax(', 'arg_max(')
    return q.replace('{t}', table)


def clickhouse_sql(q, table):
    """ClickHouse has no `//`: integer division is intDiv."""
    return re.sub(r'ts // (\d+)', r'intDiv(ts, \1)', q).replace('{t}', table)


def load_clickhouse(table):
    from chdb import session
    s = session.Session()
    s.query('CREATE DATABASE IF NOT EXISTS b')
    s.query('USE b')
    # chdb keeps one engine per process: a table of an earlier run (growth.py) may still be there.
    s.query('DROP TABLE IF EXISTS ticks SYNC')
    s.query('CREATE TABLE ticks (symbol LowCardinality(String), price Float64, volume Int64, ts Int64) '
            'ENGINE = MergeTree ORDER BY (symbol, ts)')
    globals()['_ch_ticks'] = table
    s.query('INSERT INTO ticks SELECT * FROM Python(_ch_ticks)')
    s.query('OPTIMIZE TABLE ticks FINAL')
    return s


def clickhouse_rows(s, sql):
    return json.loads(s.query(sql, 'JSONCompact').bytes())['data']


def measure(name, runs, repeat):
    """runs: [(engine, run, rows)], the first Strata's. Fails the run if any answer differs."""
    first = runs[0][2]
    for engine, _, rows in runs[1:]:
        if not same(first, rows):
            raise SystemExit('results differ for %s:\n%s %s\n%s %s' % (name, runs[0][0], first[:3], engine, rows[:3]))
    times = {engine: median_time(run, repeat) for engine, run, _ in runs}
    print('%s: %s' % (name, ', '.join('%s %.1f ms' % (e, t * 1e3) for e, t in times.items())), flush=True)
    return times


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--rows', type=int, default=10_000_000)
    ap.add_argument('--symbols', type=int, default=100)
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--only', help='run only the classes whose name contains this')
    return ap


def rss_bytes(pid):
    """Resident memory of a process (Linux /proc)."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0


def tree_bytes(path):
    """Bytes of the Parquet files under a Delta table's directory."""
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files if f.endswith('.parquet'))
    return total


def run(args):
    """Every class on every engine for one table size: ([(class, in-memory times, HDB times)],
    {what: bytes per row})."""
    print('generating %d rows, %d symbols ...' % (args.rows, args.symbols), flush=True)
    table = generate(args.rows, args.symbols)
    peer_table = table.set_column(3, 'ts', table['timestamp'].cast('int64'))
    work = tempfile.mkdtemp(prefix='strata-classes-')
    create = 'CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)'
    memory = {}

    duck = duckdb.connect()
    duck.execute('SET threads = %d' % args.threads)
    duck.execute("INSTALL '%s'; LOAD delta" % delta_extension())
    duck.register('src', peer_table)
    duck.execute('CREATE TABLE ticks AS SELECT * FROM src')
    duck.unregister('src')
    memory['DuckDB in memory'] = duck.execute('SELECT sum(memory_usage_bytes) FROM duckdb_memory()').fetchone()[0]
    import deltalake
    own = os.path.join(work, 'duckdb-delta')
    deltalake.write_deltalake(own, peer_table)
    memory['DuckDB own Delta (files)'] = tree_bytes(own)
    ch = load_clickhouse(peer_table)
    memory['ClickHouse MergeTree (compressed parts)'] = int(clickhouse_rows(
        ch, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'b' AND table = 'ticks' AND active")[0][0])

    # No query timeout: at 100 M rows a full scan and the flush take their time.
    untimed = ['--query-timeout-ms', str(10**8)]
    hot = Strata(args.strata, args.threads, untimed)
    hdb_dir = os.path.join(work, 'strata')
    hdb = Strata(args.strata, args.threads, untimed + ['--hdb-dir', hdb_dir, '--flush-rows', str(10**12),
                                             '--flush-bytes', str(10**15), '--flush-age-secs', str(10**6)])
    ours = os.path.join(hdb_dir, 'tables', 'ticks')
    rows = []
    try:
        idle = rss_bytes(hot.proc.pid)
        for s in (hot, hdb):
            s.sql(create)
            # One 1 M-row body at a time: at 100 M rows the bodies would not all fit beside the
            # engines' copies.
            for o in range(0, args.rows, 1_000_000):
                s.ingest('ticks', [ipc_bytes(table.slice(o, 1_000_000))])
        memory['Strata in memory (server RSS growth)'] = rss_bytes(hot.proc.pid) - idle
        hdb.sql('FLUSH TABLE ticks')
        memory['Strata HDB (files)'] = tree_bytes(ours)
        for name, q_strata, q_peer in classes():
            if args.only and args.only not in name:
                continue
            q_strata = q_strata.replace('{t}', 'ticks')
            q_ch = clickhouse_sql(q_peer, 'ticks')
            q_mem = duck_sql(q_peer, 'ticks')
            q_own = duck_sql(q_peer, "delta_scan('%s')" % own)
            # Strata's Delta table keeps the column's name, timestamp (as BIGINT nanoseconds).
            q_ours = re.sub(r'\bts\b', 'timestamp', duck_sql(q_peer, "delta_scan('%s')" % ours))
            ch_run = (lambda q: lambda: ch.query(q, 'JSONCompact'))(q_ch)
            ch_rows = clickhouse_rows(ch, q_ch)

            def duck_runs(*qs):
                return [(e, (lambda q: lambda: duck.execute(q).fetchall())(q),
                         [list(r) for r in duck.execute(q).fetchall()]) for e, q in qs]

            def strata_run(s):
                return ('Strata', lambda: s.post('/', q_strata.encode()), s.sql(q_strata)['data'])

            mem = measure(name + ', in memory',
                          [strata_run(hot)] + duck_runs(('DuckDB', q_mem)) + [('ClickHouse', ch_run, ch_rows)],
                          args.repeat)
            disk = measure(name + ', HDB',
                           [strata_run(hdb)] + duck_runs(('DuckDB own Delta', q_own), ("DuckDB Strata's Delta", q_ours))
                           + [('ClickHouse', ch_run, ch_rows)], args.repeat)
            rows.append((name, mem, disk))
    finally:
        hot.stop()
        hdb.stop()
        ch.query('DROP TABLE IF EXISTS ticks SYNC')
        ch.close()
        duck.close()
        shutil.rmtree(work, ignore_errors=True)
    return rows, {k: v / args.rows for k, v in memory.items()}


def main():
    args = parser().parse_args()
    report(args, *run(args))


def report(args, rows, memory):
    """The table of one size's run, then the bytes per row each engine keeps."""
    print()
    print('Rows: %d, symbols: %d, threads: %d, machine: %d cores' % (args.rows, args.symbols, args.threads, os.cpu_count()))
    print()
    print('| class | Strata hot | DuckDB mem | ClickHouse | hot / fastest | Strata HDB | DuckDB own Delta '
          "| DuckDB Strata's Delta | HDB / DuckDB own | HDB / ClickHouse |")
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for name, mem, disk in rows:
        ms = lambda t: '%.1f' % (t * 1e3)  # noqa: E731
        print('| %s | %s | %s | %s | %.2fx | %s | %s | %s | %.2fx | %.2fx |' % (
            name, ms(mem['Strata']), ms(mem['DuckDB']), ms(mem['ClickHouse']),
            mem['Strata'] / min(mem['DuckDB'], mem['ClickHouse']),
            ms(disk['Strata']), ms(disk['DuckDB own Delta']), ms(disk["DuckDB Strata's Delta"]),
            disk['Strata'] / disk['DuckDB own Delta'], disk['Strata'] / disk['ClickHouse']))
    print()
    print('| bytes per row | |')
    print('|---|---:|')
    for what, per_row in memory.items():
        print('| %s | %.1f |' % (what, per_row))


if __name__ == '__main__':
    sys.exit(main())
