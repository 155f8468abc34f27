#!/usr/bin/env python3
"""Reads a Strata table with third-party Delta readers and prints what each sees, as JSON.

    read_delta.py TABLE_URI ORDER_COLUMN

TABLE_URI is a local directory or s3://bucket/prefix/tables/<name>; S3 settings come from the
standard AWS_* variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Prints
{"deltalake": rows, "pyarrow": rows, "duckdb": rows}: every row as a list in column order,
sorted by ORDER_COLUMN. The integration tests compare each to what Strata returns.
"""
import json
import os
import sys
from urllib.parse import urlparse

import deltalake
import duckdb
import duckdb_extension_delta
import duckdb_extension_httpfs
import pyarrow.dataset as ds
import pyarrow.fs as pafs


def rows(table, order):
    names = table.column_names
    cols = [table.column(n).to_pylist() for n in names]
    out = [list(r) for r in zip(*cols)]
    i = names.index(order)
    return sorted(out, key=lambda r: (r[i] is None, r[i]))


def extension(module, name):
    base = os.path.join(os.path.dirname(module.__file__), 'extensions')
    version = os.listdir(base)[0]
    return os.path.join(base, version, name + '.duckdb_extension')


def main():
    uri, order = sys.argv[1], sys.argv[2]
    s3 = uri.startswith('s3://')
    endpoint = os.environ.get('AWS_ENDPOINT_URL', '')
    options = {}
    if s3:
        options = {
            'AWS_ENDPOINT_URL': endpoint,
            'AWS_ACCESS_KEY_ID': os.environ.get('AWS_ACCESS_KEY_ID', ''),
            'AWS_SECRET_ACCESS_KEY': os.environ.get('AWS_SECRET_ACCESS_KEY', ''),
            'AWS_REGION': os.environ.get('AWS_REGION', 'us-east-1'),
            'AWS_ALLOW_HTTP': os.environ.get('AWS_ALLOW_HTTP', 'false'),
        }
    seen = {}

    dt = deltalake.DeltaTable(uri, storage_options=options or None)
    seen['deltalake'] = rows(dt.to_pyarrow_table(), order)

    # pyarrow alone: the Parquet files the Delta log lists, read straight from the store.
    if s3:
        parsed = urlparse(endpoint)
        fs = pafs.S3FileSystem(
            access_key=options['AWS_ACCESS_KEY_ID'], secret_key=options['AWS_SECRET_ACCESS_KEY'],
            region=options['AWS_REGION'], endpoint_override=parsed.netloc, scheme=parsed.scheme)
        files = [f[len('s3://'):] for f in dt.file_uris()]
    else:
        fs, files = pafs.LocalFileSystem(), dt.file_uris()
    seen['pyarrow'] = rows(ds.dataset(files, format='parquet', filesystem=fs).to_table(), order)

    con = duckdb.connect()
    con.execute("INSTALL '%s'; LOAD delta" % extension(duckdb_extension_delta, 'delta'))
    if s3:
        con.execute("INSTALL '%s'; LOAD httpfs" % extension(duckdb_extension_httpfs, 'httpfs'))
        parsed = urlparse(endpoint)
        con.execute(
            "CREATE SECRET (TYPE S3, KEY_ID '%s', SECRET '%s', REGION '%s', ENDPOINT '%s', "
            "URL_STYLE 'path', USE_SSL %s)" % (
                options['AWS_ACCESS_KEY_ID'], options['AWS_SECRET_ACCESS_KEY'],
                options['AWS_REGION'], parsed.netloc, 'true' if parsed.scheme == 'https' else 'false'))
    seen['duckdb'] = rows(con.execute("SELECT * FROM delta_scan('%s')" % uri).fetch_arrow_table(), order)
    # Dates, times and decimals print as text (each reader the same way).
    json.dump(seen, sys.stdout, default=str)


if __name__ == '__main__':
    main()
