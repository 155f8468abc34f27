"""ClickHouse's compressed blocks (compress=1, decompress=1) against a Strata server, built and
checked here with the CityHash 1.0.2 binding clickhouse-driver uses, lz4 and zstandard, so the
test does not rest on Strata's own codec. Prints what it saw as JSON.

Usage: clickhouse_blocks.py BASE_URL
"""
import json
import struct
import sys
import urllib.error
import urllib.request

import lz4.block
import zstandard
from clickhouse_cityhash.cityhash import CityHash128

BASE = sys.argv[1]


def post(query, body):
    req = urllib.request.Request(BASE + "/?" + query, data=body, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def blocks(body):
    """Every block's (method, data), each checksum checked."""
    out, at = [], 0
    while at < len(body):
        # The two 64-bit halves, each little-endian; the binding's integer is first << 64 | second.
        first, second = struct.unpack("<QQ", body[at:at + 16])
        checksum = first << 64 | second
        method, size, plain = struct.unpack("<BII", body[at + 16:at + 25])
        block = body[at + 16:at + 16 + size]
        assert CityHash128(block) == checksum, "checksum of the block at %d" % at
        packed = block[9:]
        if method == 0x82:
            data = lz4.block.decompress(packed, uncompressed_size=plain)
        elif method == 0x90:
            data = zstandard.ZstdDecompressor().decompress(packed, max_output_size=plain)
        elif method == 0x02:
            data = packed
        else:
            raise AssertionError("method 0x%02x" % method)
        assert len(data) == plain
        out.append((method, data))
        at += 16 + size
    return out


def block(data, method=0x82):
    packed = lz4.block.compress(data, store_size=False) if method == 0x82 else \
        zstandard.ZstdCompressor().compress(data)
    header = struct.pack("<BII", method, len(packed) + 9, len(data))
    checksum = CityHash128(header + packed)
    halves = struct.pack("<QQ", checksum >> 64, checksum & (1 << 64) - 1)
    return halves + header + packed


out = {}
status, body = post("compress=1&query_id=b", b"SELECT 1 AS x, 'abc' AS s FORMAT TSV")
out["lz4"] = [status, [[m, d.decode()] for m, d in blocks(body)]]
status, body = post("compress=1&network_compression_method=ZSTD&query_id=b",
                    b"SELECT 2 AS x FORMAT TSV")
out["zstd"] = [status, [[m, d.decode()] for m, d in blocks(body)]]
status, body = post("compress=1&query_id=b", b"SELECT * FROM no_such_table")
out["error"] = [status, "".join(d.decode() for _, d in blocks(body))]

post("query_id=b", b"CREATE TABLE blk (id Int64, s String) ENGINE = MergeTree ORDER BY id")
rows = b"".join(b"%d\tname %d\n" % (i, i) for i in range(100000))
# The statement in the URL, the rows in three blocks, in both methods.
third = len(rows) // 3
cut = rows.index(b"\n", third) + 1
cut2 = rows.index(b"\n", 2 * third) + 1
body = block(rows[:cut]) + block(rows[cut:cut2], 0x90) + block(rows[cut2:])
status, answer = post("decompress=1&query=INSERT%20INTO%20blk%20FORMAT%20TSV", body)
out["insert"] = [status, answer.decode()]
status, answer = post("query_id=b", b"SELECT count(), sum(id) FROM blk FORMAT TSV")
out["count"] = answer.decode()
damaged = bytearray(block(b"INSERT INTO blk FORMAT TSV\n1\tx\n"))
damaged[-1] ^= 1
status, answer = post("decompress=1&query_id=b", bytes(damaged))
out["damaged"] = [status, answer.decode()]
print(json.dumps(out))
