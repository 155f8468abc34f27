#!/usr/bin/env python3
"""The ClickHouse protocol's paths, measured in one run:

  * Grafana's time-series panel query as the official plugin sends it (`toStartOfInterval`
    1-minute buckets over one day, Native at protocol 54460, over HTTP), for one symbol and for
    all symbols, on the 10 M-row tick table; DuckDB runs the same aggregation in-process on the
    same rows (`time_bucket`, fetched as Arrow), and both answers must agree; Strata's time is
    the whole HTTP round trip with the Native body the plugin decodes;
  * rows per second clickhouse-connect receives from Strata for a 1 M-row result, in Native
    (`client.query`) and in Arrow (`client.query_arrow`).

Usage: python3 tests/bench/clickhouse.py --strata BIN [--rows 10000000] [--repeat 5]
"""
import argparse
import json
import os
import sys
import time
import urllib.parse

import duckdb

sys.path.insert(0, os.path.dirname(__file__))
from bench import Strata, generate, ipc_bytes, median_time, T0  # noqa: E402

import clickhouse_connect  # noqa: E402

DAY_S = 86_400


def grafana_sql(symbol):
    start, end = T0 // 10**9, T0 // 10**9 + DAY_S
    where = '( timestamp >= toDateTime(%d) AND timestamp <= toDateTime(%d) )' % (start, end)
    if symbol:
        return ('SELECT toStartOfInterval(toDateTime(timestamp), INTERVAL 60 second) as "time", avg(price) as price '
                'FROM "default"."ticks" WHERE %s AND symbol = \'%s\' GROUP BY time ORDER BY time ASC' % (where, symbol))
    return ('SELECT toStartOfInterval(toDateTime(timestamp), INTERVAL 60 second) as "time", symbol, avg(price) as price '
            'FROM "default"."ticks" WHERE %s GROUP BY time, symbol ORDER BY time ASC, symbol ASC' % where)


def duck_sql(symbol):
    start, end = T0 // 10**9, T0 // 10**9 + DAY_S
    where = "timestamp >= to_timestamp(%d) AND timestamp <= to_timestamp(%d)" % (start, end)
    if symbol:
        return ("SELECT time_bucket(INTERVAL 60 second, timestamp) AS time, avg(price) FROM ticks "
                "WHERE %s AND symbol = '%s' GROUP BY time ORDER BY time" % (where, symbol))
    return ("SELECT time_bucket(INTERVAL 60 second, timestamp) AS time, symbol, avg(price) FROM ticks "
            "WHERE %s GROUP BY time, symbol ORDER BY time, symbol" % where)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--rows', type=int, default=10_000_000)
    ap.add_argument('--symbols', type=int, default=100)
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--repeat', type=int, default=5)
    ap.add_argument('--result-rows', type=int, default=1_000_000)
    args = ap.parse_args()

    table = generate(args.rows, args.symbols)
    duck = duckdb.connect()
    duck.execute('SET threads TO %d' % args.threads)
    duck.execute("SET TimeZone = 'UTC'")
    duck.register('ticks_arrow', table)
    duck.execute('CREATE TABLE ticks AS SELECT * FROM ticks_arrow')

    strata = Strata(args.strata, args.threads, ['--no-auth'])
    try:
        strata.sql('CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)')
        step = 1_000_000
        strata.ingest('ticks', [ipc_bytes(table.slice(i, step)) for i in range(0, args.rows, step)])
        host, port = strata.conn.host, strata.conn.port
        grafana = '/?' + urllib.parse.urlencode({
            'default_format': 'Native', 'client_protocol_version': '54460', 'max_execution_time': '65'})

        print()
        print('Grafana time-series panel (1-minute buckets over one day), %d rows, median of %d' % (args.rows, args.repeat))
        print()
        print('| query | buckets | Strata ms | DuckDB ms | Strata / DuckDB |')
        print('|---|---:|---:|---:|---:|')
        for label, symbol in (('one symbol', 'S042'), ('all symbols', None)):
            body = grafana_sql(symbol).encode()

            def via_grafana():
                return strata.post(grafana, body)
            # The same query as JSONCompact, to compare the answers with DuckDB's.
            check = strata.post('/?query_id=check', body + b' FORMAT JSONCompact')
            ours = json.loads(check)['data']
            theirs = duck.execute(duck_sql(symbol)).fetchall()
            if len(ours) != len(theirs) or any(
                    abs(float(a[-1]) - float(b[-1])) > 1e-6 * max(1.0, abs(float(b[-1]))) for a, b in zip(ours, theirs)):
                raise SystemExit('answers differ for %s: %d vs %d buckets' % (label, len(ours), len(theirs)))
            s = median_time(via_grafana, args.repeat)
            # DuckDB on its best terms: an Arrow result, no Python objects per row.
            d = median_time(lambda: duck.execute(duck_sql(symbol)).to_arrow_table(), args.repeat)
            print('| %s | %d | %.1f | %.1f | %.2f× |' % (label, len(ours), s * 1e3, d * 1e3, s / d))

        client = clickhouse_connect.get_client(host=host, port=port)
        n = min(args.result_rows, args.rows)
        q = 'SELECT symbol, price, volume, timestamp FROM ticks LIMIT %d' % n
        native = median_time(lambda: client.query(q).result_rows, args.repeat)
        arrow = median_time(lambda: client.query_arrow(q), args.repeat)
        got = client.query_arrow(q).num_rows
        if got != n:
            raise SystemExit('clickhouse-connect received %d rows, expected %d' % (got, n))
        print()
        print('clickhouse-connect receiving a %d-row result (4 columns), median of %d' % (n, args.repeat))
        print()
        print('| format | seconds | rows/s |')
        print('|---|---:|---:|')
        print('| Native (`client.query`, rows as Python tuples) | %.3f | %s |' % (native, '{:,.0f}'.format(n / native)))
        print('| Arrow (`client.query_arrow`) | %.3f | %s |' % (arrow, '{:,.0f}'.format(n / arrow)))
    finally:
        strata.stop()


if __name__ == '__main__':
    sys.exit(main())
