"""Runs one SQL query in DuckDB over tables given as JSON, and prints its rows as JSON.

Usage: duckdb_query.py SPEC.json, where SPEC is
  {"tables": {"name": {"columns": [["col", "DUCKDB TYPE"], ...], "rows": [[...], ...]}},
   "sql": "SELECT ..."}
or, with "queries": ["SELECT ...", ...] instead of "sql", prints a list of every query's rows.

The integration tests use it as a yardstick: the same rows in DuckDB's own tables, the same
question in DuckDB's own SQL (its ASOF JOIN), the answers compared with Strata's.
"""

import json
import sys

import duckdb


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    con = duckdb.connect()
    for name, table in spec["tables"].items():
        columns = ", ".join(f'"{c}" {t}' for c, t in table["columns"])
        con.execute(f'CREATE TABLE "{name}" ({columns})')
        marks = ", ".join("?" for _ in table["columns"])
        if table["rows"]:
            con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', table["rows"])
    def run(sql):
        return [list(r) for r in con.execute(sql).fetchall()]

    if "queries" in spec:
        print(json.dumps([run(q) for q in spec["queries"]]))
    else:
        print(json.dumps(run(spec["sql"])))


if __name__ == "__main__":
    main()
