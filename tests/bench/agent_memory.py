#!/usr/bin/env python3
"""Agent Memory search: Strata vs a NumPy brute-force top-K over the same vectors, in one run.

    make bench-memory                                  # 100 k and 1 M memories of dimension 384
    make bench-memory MEMORY_BENCH_ARGS="--sizes 100000 --queries 100"

For each size: the memories (clustered unit vectors, as embedding models produce) are written as
Strata's `memories.lance` dataset with pylance, a release Strata is started on that directory
(its load time is reported), and the same query vectors are searched
  * by Strata's exact scan (`--agent-memory-ann off`) over HTTP, one request at a time;
  * by NumPy in this process: `V @ q`, `argpartition`, sort of the top K (BLAS on every core);
  * at the largest size, by Strata with `--agent-memory-ann on` (its in-memory IVF index: exact
    comparisons in the nearest partitions), whose top-K is compared with the exact scan's
    (recall@K); "start s" is then the time until searches use the index, first after training
    it, then after a restart that adopts the saved centroids.
Latencies are p50/p99 over --queries searches after --warmup; Strata's include HTTP and JSON.
The exact scan must return NumPy's top-K (the memories' scores differ only by similarity).
The ingest rate over POST /api/ai/memories is measured on --ingest memories.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import lance
import numpy as np
import pyarrow as pa

TENANT, NAMESPACE = 'bench', 'default'


def clustered(n, dim, clusters, seed):
    """Unit vectors around `clusters` random centres (spread 0.35 per coordinate-scaled unit)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        noise = rng.standard_normal((hi - lo, dim), dtype=np.float32) * np.float32(0.35 / np.sqrt(dim))
        v = centres[rng.integers(0, clusters, hi - lo)] + noise
        out[lo:hi] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def write_dataset(root, vectors):
    """`memories.lance` in Strata's schema (docs/agent-memory.md)."""
    n, dim = vectors.shape
    ids = pa.array(['m%d' % i for i in range(n)])
    text = lambda v: pa.array([v] * n, pa.string())
    zeros = pa.array(np.zeros(n, dtype=np.int64))
    table = pa.table({
        'memory_id': ids, 'tenant_id': text(TENANT), 'namespace': text(NAMESPACE),
        'user_id': text(''), 'session_id': text(''), 'agent_id': text(''), 'type': text('memory'),
        'content': pa.array(['memory %d' % i for i in range(n)]), 'metadata_json': text('{}'),
        'embedding': pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
        'token_count': pa.array(np.full(n, 8, dtype=np.int64)),
        'importance': pa.array(np.zeros(n)),
        'created_at_ns': pa.array(np.ones(n, dtype=np.int64)),
        'last_accessed_ns': pa.array(np.ones(n, dtype=np.int64)),
        'expires_at_ns': zeros, 'pinned': pa.array(np.zeros(n, dtype=bool)),
        'access_count': zeros,
    })
    lance.write_dataset(table, os.path.join(root, 'memories.lance'), max_rows_per_file=1 << 20)


class Strata:
    def __init__(self, binary, flags):
        self.proc = subprocess.Popen([binary, '--port', '0', *flags], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 1800
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith('Strata listening on http://'):
                self.host, port = line.strip().rsplit('/', 1)[1].split(':')
                self.port = int(port)
                self.conn = self.connect()
                return
        raise RuntimeError('strata did not start')

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=600)

    def call(self, method, path, body=None, conn=None):
        conn = conn or self.conn
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={'Content-Type': 'application/json'})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError('%s %s -> %d %s' % (method, path, r.status, data[:300]))
        return json.loads(data)

    def stats(self):
        return self.call('GET', '/api/ai/stats')

    def wait_index(self, timeout=1800):
        """Polls until searches use the vector index (it is built or adopted in the background)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ann = self.stats()['ann']
            if ann['enabled']:
                return ann
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise SystemExit('the vector index was not ready: %s' % self.stats()['ann'])

    def search(self, q, k):
        body = {'tenant_id': TENANT, 'namespace': NAMESPACE, 'query_embedding': q, 'limit': k}
        return [m['memory_id'] for m in self.call('POST', '/api/ai/memories/search', body)['matches']]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=600)


def percentiles(times):
    ms = np.array(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def strata_searches(strata, queries, k, warmup):
    as_lists = [q.tolist() for q in queries]
    for q in as_lists[:warmup]:
        strata.search(q, k)
    results, times = [], []
    for q in as_lists:
        t = time.perf_counter()
        results.append(strata.search(q, k))
        times.append(time.perf_counter() - t)
    return results, times


def numpy_searches(vectors, queries, k, warmup):
    def top(q):
        scores = vectors @ (q / np.linalg.norm(q))
        part = np.argpartition(-scores, k)[:k]
        return part[np.argsort(-scores[part], kind='stable')]
    for q in queries[:warmup]:
        top(q)
    results, times = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(['m%d' % i for i in top(q)])
        times.append(time.perf_counter() - t)
    return results, times


def overlap(a, b, k):
    return sum(len(set(x) & set(y)) for x, y in zip(a, b)) / (k * len(a))


def ingest_rate(binary, vectors, count, threads=4):
    """Memories per second over POST /api/ai/memories, `threads` connections."""
    data = tempfile.mkdtemp(prefix='strata-membench-ingest-')
    strata = Strata(binary, ['--agent-memory-dir', data])
    bodies = [json.dumps({'memory_id': 'i%d' % i, 'tenant_id': TENANT, 'content': 'memory %d' % i,
                          'embedding': vectors[i].tolist()}) for i in range(count)]
    def worker(part):
        conn = strata.connect()
        for body in part:
            conn.request('POST', '/api/ai/memories', body=body, headers={'Content-Type': 'application/json'})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
    t = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(bodies[i::threads],)) for i in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    rate = count / (time.perf_counter() - t)
    strata.stop()
    shutil.rmtree(data, ignore_errors=True)
    return rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--strata', required=True)
    ap.add_argument('--sizes', default='100000,1000000')
    ap.add_argument('--dim', type=int, default=384)
    ap.add_argument('--clusters', type=int, default=1000)
    ap.add_argument('--queries', type=int, default=200)
    ap.add_argument('--warmup', type=int, default=20)
    ap.add_argument('-k', type=int, default=10)
    ap.add_argument('--ingest', type=int, default=20000)
    ap.add_argument('--no-ann', action='store_true', help='skip the approximate-search run')
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(',')]
    rows = []
    for n in sizes:
        vectors = clustered(n, args.dim, args.clusters, seed=n)
        # Queries: near stored memories, as a follow-up question is near earlier context.
        rng = np.random.default_rng(7)
        picks = vectors[rng.integers(0, n, args.queries + args.warmup)]
        noise = rng.standard_normal(picks.shape, dtype=np.float32) * np.float32(0.2 / np.sqrt(args.dim))
        queries = (picks + noise).astype(np.float32)
        root = tempfile.mkdtemp(prefix='strata-membench-')
        write_dataset(root, vectors)

        t = time.perf_counter()
        strata = Strata(args.strata, ['--agent-memory-dir', root, '--agent-memory-ann', 'off'])
        load = time.perf_counter() - t
        assert strata.stats()['memory_count'] == n
        exact, t_exact = strata_searches(strata, queries, args.k, args.warmup)
        strata.stop()
        brute, t_numpy = numpy_searches(vectors, queries, args.k, args.warmup)
        agree = overlap(exact, brute, args.k)
        if agree < 0.99:
            raise SystemExit('exact scan and NumPy disagree: %.3f of the top-%d in common' % (agree, args.k))
        p50_s, p99_s = percentiles(t_exact)
        p50_n, p99_n = percentiles(t_numpy)
        rows.append(('%d x %d, exact scan' % (n, args.dim), p50_s, p99_s, p50_n, p99_n, agree, load))
        print('%d x %d exact: p50 %.2f ms (NumPy %.2f ms)' % (n, args.dim, p50_s, p50_n), flush=True)

        if n == max(sizes) and not args.no_ann:
            t = time.perf_counter()
            strata = Strata(args.strata, ['--agent-memory-dir', root, '--agent-memory-ann', 'on'])
            strata.wait_index()
            build = time.perf_counter() - t
            approx, t_ann = strata_searches(strata, queries, args.k, args.warmup)
            ann = strata.stats()['ann']
            strata.stop()
            recall = overlap(approx, exact, args.k)
            p50_a, p99_a = percentiles(t_ann)
            rows.append(('%d x %d, ANN (IVF, %d partitions; %d/%d answered from the index)'
                         % (n, args.dim, ann['partitions'], ann['search_count'],
                            ann['search_count'] + ann['fallback_count']),
                         p50_a, p99_a, p50_n, p99_n, recall, build))

            # A restart adopts the centroids saved with the dataset instead of training them.
            t = time.perf_counter()
            strata = Strata(args.strata, ['--agent-memory-dir', root, '--agent-memory-ann', 'on'])
            listening = time.perf_counter() - t
            ann = strata.wait_index()
            reopen = time.perf_counter() - t
            if ann['rebuild_count'] != 0:
                raise SystemExit('the vector index was trained again: %s' % ann)
            print('restart: listening after %.1f s, serving with the index after %.1f s'
                  % (listening, reopen), flush=True)
            again, t_again = strata_searches(strata, queries, args.k, args.warmup)
            ann = strata.stats()['ann']
            strata.stop()
            p50_r, p99_r = percentiles(t_again)
            rows.append(('%d x %d, ANN after a restart (centroids adopted; %d/%d from the index)'
                         % (n, args.dim, ann['search_count'], ann['search_count'] + ann['fallback_count']),
                         p50_r, p99_r, p50_n, p99_n, overlap(again, exact, args.k), reopen))
            print('after the restart: %s' % json.dumps(ann), flush=True)
        shutil.rmtree(root, ignore_errors=True)

    print('\nAgent Memory search, top-%d, %d queries (ms; Strata over HTTP, NumPy in process)' % (args.k, args.queries))
    print('%-72s %8s %8s %8s %8s %7s %8s %9s' % ('case', 'p50', 'p99', 'numpy50', 'numpy99', 'ratio', 'top-K', 'start s'))
    for name, p50, p99, n50, n99, agree, start in rows:
        print('%-72s %8.2f %8.2f %8.2f %8.2f %6.2fx %8.3f %9.1f' % (name, p50, p99, n50, n99, p50 / n50, agree, start))
    if args.ingest:
        rate = ingest_rate(args.strata, clustered(args.ingest, args.dim, args.clusters, seed=1), args.ingest)
        print('ingest, POST /api/ai/memories (%d x %d, 4 connections, WAL synced): %.0f memories/s'
              % (args.ingest, args.dim, rate))


if __name__ == '__main__':
    sys.exit(main())
