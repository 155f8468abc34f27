#!/usr/bin/env python3
"""What authentication costs on the query path: the same small statement against a server with
authentication off, and against one with it on (an API key, then an HS256 JWT), in one run.

Each configuration sends the statement over one keep-alive connection; rounds alternate between
the configurations so that drift of the machine hits all alike. Prints median and p99 latency per
request and the added cost against the open server.

Usage: python3 tests/bench/auth.py --strata BIN [--requests 4000] [--rounds 5]
"""
import argparse, base64, hashlib, hmac, http.client, json, os, re, statistics, subprocess, sys, tempfile, time

SECRET = 'benchmark-secret-of-at-least-32-bytes!!'
ISS, AUD = 'https://idp.bench', 'strata'


def start(binary, extra):
    proc = subprocess.Popen([binary, '--port', '0', *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith('Strata listening on http://'):
            host, port = line.strip().rsplit('/', 1)[1].split(':')
            return proc, host, int(port)
    raise RuntimeError('strata did not start')


def b64(d):
    return base64.urlsafe_b64encode(d).rstrip(b'=').decode()


def jwt():
    h = b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    p = b64(json.dumps({'sub': 'bench', 'role': 'reader', 'iss': ISS, 'aud': AUD,
                        'exp': int(time.time()) + 3600}).encode())
    s = b64(hmac.new(SECRET.encode(), ('%s.%s' % (h, p)).encode(), hashlib.sha256).digest())
    return '%s.%s.%s' % (h, p, s)


def run(host, port, token, n, body=b'SELECT 1'):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {'Authorization': 'Bearer ' + token} if token else {}
    times = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request('POST', '/', body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        times.append(time.perf_counter() - t)
        if r.status != 200:
            raise RuntimeError('status %d' % r.status)
    conn.close()
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--requests', type=int, default=4000)
    ap.add_argument('--rounds', type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix='strata-auth-bench-')
    keys = os.path.join(work, 'keys.json')
    out = subprocess.run([args.strata, 'keys', 'create', '--api-keys-file', keys, '--name', 'bench',
                          '--role', 'reader'], capture_output=True, text=True, check=True)
    key = re.search(r'zepto_[0-9a-f]{64}', out.stdout).group(0)
    token = jwt()
    open_srv = start(args.strata, ['--no-auth'])
    auth_srv = start(args.strata, ['--api-keys-file', keys, '--jwt-secret', SECRET, '--jwt-issuer', ISS,
                                   '--jwt-audience', AUD, '--rate-limit-rpm', '0', '--ip-rate-limit-rpm', '0'])
    configs = [('no auth', open_srv, None), ('API key', auth_srv, key), ('JWT (HS256)', auth_srv, token)]
    samples = {name: [] for name, _, _ in configs}
    try:
        for _, (_, host, port), tok in configs:
            run(host, port, tok, 500)  # warm-up
        for _ in range(args.rounds):
            for name, (_, host, port), tok in configs:
                samples[name] += run(host, port, tok, args.requests // args.rounds)
    finally:
        for proc, _, _ in (open_srv, auth_srv):
            proc.terminate()
            proc.wait(timeout=60)
    base = statistics.median(samples['no auth'])
    print()
    print('Authentication on the query path: `SELECT 1` over one keep-alive connection, %d requests each' % args.requests)
    print()
    print('| credential | median µs | p99 µs | added µs (median) | added |')
    print('|---|---:|---:|---:|---:|')
    for name, _, _ in configs:
        t = sorted(samples[name])
        med, p99 = statistics.median(t), t[int(len(t) * 0.99)]
        print('| %s | %.1f | %.1f | %+.1f | %+.1f %% |' % (name, med * 1e6, p99 * 1e6, (med - base) * 1e6,
                                                        (med - base) / base * 100))


if __name__ == '__main__':
    sys.exit(main())
