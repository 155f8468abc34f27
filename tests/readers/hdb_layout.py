#!/usr/bin/env python3
"""Writes into, and looks inside, a Strata table's Delta files, for the layout tests.

    hdb_layout.py append TABLE_DIR ROWS.json   appends rows as another writer would (deltalake's
                                               defaults: no Strata layout), one new version
    hdb_layout.py inspect TABLE_DIR            prints, for every file of the current version:
        {"layout": footer value of strata.layout or null,
         "groups": [{"rows": n, "min_ts": a, "max_ts": b, "sorted": whether the group's rows
                     are in (symbol, ts) order, NULL symbols first as Arrow sorts}]}

The table is (symbol, price, volume, ts) with ts as Delta long nanoseconds, as Strata stores a
TIMESTAMP_NS column.
"""
import json
import os
import sys

import deltalake
import pyarrow as pa
import pyarrow.parquet as pq


def append(uri, path):
    with open(path) as f:
        rows = json.load(f)
    cols = list(zip(*rows)) if rows else [[], [], [], []]
    table = pa.table({
        'symbol': pa.array(cols[0], pa.string()),
        'price': pa.array(cols[1], pa.float64()),
        'volume': pa.array(cols[2], pa.int64()),
        'ts': pa.array(cols[3], pa.int64()),
    })
    deltalake.write_deltalake(uri, table, mode='append')
    print(json.dumps({'appended': table.num_rows}))


def inspect(uri):
    files = []
    for file in deltalake.DeltaTable(uri).file_uris():
        path = file.removeprefix('file://')
        meta = pq.ParquetFile(path).metadata
        kv = meta.metadata or {}
        layout = kv.get(b'strata.layout')
        data = pq.read_table(path)
        groups = []
        offset = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            part = data.slice(offset, n)
            offset += n
            sym = part.column('symbol').to_pylist()
            ts = part.column('ts').to_pylist()
            keys = [(s is not None, s or '', t) for s, t in zip(sym, ts)]
            groups.append({'rows': n, 'min_ts': min(ts), 'max_ts': max(ts),
                           'sorted': keys == sorted(keys)})
        files.append({'layout': layout.decode() if layout else None, 'groups': groups})
    print(json.dumps(files))


if __name__ == '__main__':
    command, uri = sys.argv[1], sys.argv[2]
    if command == 'append':
        append(uri, sys.argv[3])
    elif command == 'inspect':
        inspect(uri)
    else:
        sys.exit('unknown command ' + command)
