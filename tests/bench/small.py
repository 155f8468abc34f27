#!/usr/bin/env python3
"""Small requests: what one statement costs when the statement is tiny.

1. 16 clients each sending single-row `INSERT … VALUES` statements over keep-alive connections
   (`wrk`, a C load generator, so that the client is not the bottleneck) to a tiered server
   whose WAL is synced before every answer: rows/s and latency percentiles.
2. Multi-row `INSERT … VALUES` of 1 000 rows a statement, one connection, one after the other:
   rows/s.
3. `SELECT 1` against `GET /ping` over one keep-alive connection (`wrk`): the median latency of
   each, their difference (the statement's own cost on the server), and the server's own
   `execution_time_us`.

Every inserted row is counted back with `SELECT count(*)` before a figure is printed.

Usage: python3 tests/bench/small.py --strata BIN [--seconds 10] [--clients 16]
"""
import argparse, http.client, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

from auth import start  # one way to start a server on a free port, shared by the benchmarks

TABLE = 'small_ticks'

INSERT_LUA = r'''
local n = 0
local id = 0
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function request()
  n = n + 1
  local body = string.format(
    "INSERT INTO %s VALUES ('S%%03d', %%d.25, %%d, 1764892800%%09d)",
    n %% 100, n, id * 1000 + n %% 1000, (id * 10000000 + n) %% 1000000000)
  return wrk.format("POST", "/", {["Content-Type"] = "text/plain"}, body)
end
''' % TABLE

SELECT_LUA = r'''
function request()
  return wrk.format("POST", "/", {["Content-Type"] = "text/plain"}, "SELECT 1")
end
'''


def sql(conn, text):
    conn.request('POST', '/', body=text.encode())
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError('%s -> %d %s' % (text[:80], r.status, body[:300]))
    return json.loads(body)


def count(conn):
    return sql(conn, 'SELECT count(*) FROM %s' % TABLE)['data'][0][0]


UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3}


def wrk(url, script, clients, seconds, threads):
    """Runs wrk; returns (requests/s, {percentile: ms}, non-2xx count, total requests)."""
    with tempfile.NamedTemporaryFile('w', suffix='.lua', delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(['wrk', '-t', str(threads), '-c', str(clients), '-d', '%ds' % seconds,
                              '--latency', '-s', path, url],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    rate = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
    total = int(re.search(r'(\d+) requests in', out).group(1))
    bad = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    pct = {}
    for p, v, unit in re.findall(r'^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$', out, re.M):
        pct[int(p)] = float(v) * UNITS[unit]
    return rate, pct, int(bad.group(1)) if bad else 0, total


def single_row(binary, clients, seconds, threads):
    data = tempfile.mkdtemp(prefix='strata-small-')
    proc, host, port = start(binary, ['--hdb-dir', data, '--wal-sync', 'always',
                                      '--flush-rows', str(10**12), '--flush-bytes', str(10**15),
                                      '--flush-age-secs', str(10**6)])
    try:
        conn = http.client.HTTPConnection(host, port, timeout=600)
        sql(conn, 'CREATE TABLE %s (symbol SYMBOL, price FLOAT64, volume INT64, '
                  'timestamp TIMESTAMP)' % TABLE)
        syncs0 = stats(conn)
        rate, pct, bad, total = wrk('http://%s:%d/' % (host, port), INSERT_LUA, clients, seconds,
                                    threads)
        syncs = stats(conn) - syncs0
        stored = count(conn)
        # wrk counts the answers it read; up to one request per connection is still in flight
        # when it stops, and the server stores those too.
        if bad or not total <= stored <= total + clients:
            raise RuntimeError('%d requests, %d refused, %d rows stored' % (total, bad, stored))
        return rate, pct, total, syncs
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def stats(conn):
    conn.request('GET', '/stats')
    body = json.loads(conn.getresponse().read())
    return find(body, 'syncs') or 0


def find(obj, key):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key and isinstance(v, int):
                return v
            found = find(v, key)
            if found is not None:
                return found
    return None


def multi_row(binary, statements, rows):
    proc, host, port = start(binary, [])
    try:
        conn = http.client.HTTPConnection(host, port, timeout=600)
        sql(conn, 'CREATE TABLE %s (symbol SYMBOL, price FLOAT64, volume INT64, '
                  'timestamp TIMESTAMP)' % TABLE)
        bodies = []
        for s in range(statements + 1):
            values = ','.join("('S%03d', %d.%02d, %d, %d)" % (i % 100, 100 + i % 50, i % 100, i,
                                                             1764892800000000000 + s * rows + i)
                              for i in range(rows))
            bodies.append(('INSERT INTO %s VALUES %s' % (TABLE, values)).encode())
        times = []
        for i, body in enumerate(bodies):
            t = time.perf_counter()
            conn.request('POST', '/', body=body)
            r = conn.getresponse()
            answer = r.read()
            if r.status != 200:
                raise RuntimeError('INSERT -> %d %s' % (r.status, answer[:300]))
            if i:  # the first is the warm-up
                times.append(time.perf_counter() - t)
        stored = count(conn)
        if stored != (statements + 1) * rows:
            raise RuntimeError('%d rows stored, %d sent' % (stored, (statements + 1) * rows))
        return statements * rows / sum(times), statistics.median(times) * 1e3, len(bodies[0])
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def select_one(binary, seconds):
    proc, host, port = start(binary, [])
    try:
        url = 'http://%s:%d' % (host, port)
        ping = wrk(url + '/ping', '', 1, seconds, 1)
        select = wrk(url + '/', SELECT_LUA, 1, seconds, 1)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        server = []
        for _ in range(2000):
            server.append(sql(conn, 'SELECT 1')['execution_time_us'])
        return ping[1][50], select[1][50], statistics.median(server) / 1e3
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--clients', type=int, default=16)
    ap.add_argument('--seconds', type=int, default=10)
    ap.add_argument('--wrk-threads', type=int, default=2)
    ap.add_argument('--statements', type=int, default=200, help='multi-row INSERT statements')
    ap.add_argument('--rows', type=int, default=1000, help='rows per multi-row INSERT')
    args = ap.parse_args()
    if not shutil.which('wrk'):
        sys.exit('wrk is not installed (make deps-bench installs it)')

    rate, pct, total, syncs = single_row(args.strata, args.clients, args.seconds, args.wrk_threads)
    print('single-row INSERT, %d clients, WAL synced before each answer: %.0f rows/s '
          '(p50 %.2f ms, p90 %.2f ms, p99 %.2f ms; %d rows, %d fsyncs, %.1f rows per fsync)'
          % (args.clients, rate, pct[50], pct[90], pct[99], total, syncs,
             total / max(syncs, 1)))
    mrate, mmed, size = multi_row(args.strata, args.statements, args.rows)
    print('multi-row INSERT, %d rows a statement (%d bytes): %.0f rows/s (median %.2f ms a '
          'statement)' % (args.rows, size, mrate, mmed))
    ping, select, server = select_one(args.strata, max(args.seconds // 2, 2))
    print('SELECT 1: median %.3f ms round trip, /ping %.3f ms, difference %.3f ms; '
          'execution_time_us median %.3f ms' % (select, ping, select - ping, server))


if __name__ == '__main__':
    main()
