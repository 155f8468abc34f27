"""clickhouse-connect's own API end to end against a Strata server; prints what it saw as JSON.

Usage: clickhouse_client.py BASE_URL
"""
import datetime
import decimal
import json
import uuid
import zoneinfo
import sys
from urllib.parse import urlparse

import clickhouse_connect
import pandas
from clickhouse_connect.driver.exceptions import DatabaseError

url = urlparse(sys.argv[1])
client = clickhouse_connect.get_client(host=url.hostname, port=url.port, username="default", password="")
out = {"server_version": client.server_version, "server_tz": str(client.server_tz)}

client.command("DROP TABLE IF EXISTS cc")
client.command("CREATE TABLE cc (id Int64, name String, ts TIMESTAMP_NS, v Float64)")
summary = client.insert(
    "cc",
    [
        [1, "a", datetime.datetime(2024, 1, 1, 0, 0, 0, 123456), 1.5],
        [2, None, datetime.datetime(2024, 1, 2), None],
    ],
    column_names=["id", "name", "ts", "v"],
)
out["written_rows"] = summary.written_rows
result = client.query("SELECT id, name, ts, v FROM cc ORDER BY id")
out["column_names"] = list(result.column_names)
out["column_types"] = [t.name for t in result.column_types]
out["rows"] = [[r[0], r[1], r[2].isoformat() if r[2] else None, r[3]] for r in result.result_rows]
df = client.query_df("SELECT name, v FROM cc ORDER BY id")
out["df_names"] = [None if pandas.isna(n) else n for n in df["name"]]
table = client.query_arrow("SELECT id, name FROM cc ORDER BY id")
out["arrow"] = {"rows": table.num_rows, "columns": table.column_names}
blocks = 0
with client.query_row_block_stream("SELECT id FROM cc ORDER BY id") as stream:
    for block in stream:
        blocks += len(block)
out["streamed_rows"] = blocks
out["count"] = client.command("SELECT count() FROM cc")
out["param"] = client.query("SELECT {x:UInt32} + 1 AS y", parameters={"x": 41}).result_rows
# ClickHouse-declared types through the client's own Native encoder and decoder.
client.command("DROP TABLE IF EXISTS cct")
client.command(
    "CREATE TABLE cct (id UInt32, u UUID, code FixedString(3), price Decimal(10, 2), d Date, "
    "at DateTime('Europe/Paris'), t3 DateTime64(3), note Nullable(String)) "
    "ENGINE = MergeTree ORDER BY id"
)
paris = zoneinfo.ZoneInfo("Europe/Paris")
client.insert(
    "cct",
    [
        [1, uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "fra", decimal.Decimal("12.34"),
         datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 4, 4, 5, tzinfo=paris),
         datetime.datetime(2024, 1, 2, 3, 4, 5, 123000), None],
        [2, uuid.UUID(int=0), "de", decimal.Decimal("-0.5"), datetime.date(1970, 1, 1),
         datetime.datetime(1970, 1, 1, 1, 0, 0, tzinfo=paris), datetime.datetime(1970, 1, 1), "x"],
    ],
)
typed = client.query("SELECT * FROM cct ORDER BY id")
out["typed_types"] = [t.name for t in typed.column_types]
out["typed_rows"] = [
    [r[0], str(r[1]), r[2].decode() if isinstance(r[2], bytes) else r[2], str(r[3]), r[4].isoformat(),
     r[5].isoformat(), r[6].isoformat(), r[7]]
    for r in typed.result_rows
]
# Array columns, nested and with NULL items, both ways through the client's Native codec.
client.command("DROP TABLE IF EXISTS cca")
client.command(
    "CREATE TABLE cca (id UInt32, tags Array(String), xs Array(Nullable(Int32)), "
    "days Array(Date), grid Array(Array(Float64))) ENGINE = MergeTree ORDER BY id"
)
client.insert(
    "cca",
    [
        [1, ["a", "b'c"], [1, None], [datetime.date(2024, 1, 2)], [[1.5], []]],
        [2, [], [], [], []],
    ],
)
arrays = client.query("SELECT * FROM cca ORDER BY id")
out["array_types"] = [t.name for t in arrays.column_types]
out["array_rows"] = [
    [r[0], list(r[1]), list(r[2]), [d.isoformat() for d in r[3]], [list(g) for g in r[4]]]
    for r in arrays.result_rows
]
# Map columns, with NULL values and arrays inside, both ways through the client's Native codec.
client.command("DROP TABLE IF EXISTS ccm")
client.command(
    "CREATE TABLE ccm (id UInt32, attrs Map(String, String), opt Map(Int32, Nullable(Float64)), "
    "lists Map(String, Array(UInt64))) ENGINE = MergeTree ORDER BY id"
)
client.insert(
    "ccm",
    [
        [1, {"service": "api", "q": "it's"}, {1: 1.5, 2: None}, {"x": [1, 18446744073709551615]}],
        [2, {}, {}, {}],
    ],
)
maps = client.query("SELECT * FROM ccm ORDER BY id")
out["map_types"] = [t.name for t in maps.column_types]
out["map_rows"] = [
    [r[0], r[1], {str(k): v for k, v in r[2].items()}, {k: list(v) for k, v in r[3].items()}]
    for r in maps.result_rows
]
out["map_value"] = client.query("SELECT attrs['q'] FROM ccm WHERE id = 1").result_rows[0][0]
try:
    client.query("SELECT * FROM no_such_table")
    out["error"] = None
except DatabaseError as e:
    out["error"] = {"code": getattr(e, "code", None), "text": str(e)[:200]}
print(json.dumps(out))
