//! Map columns (`Map(K, V)`, `Map(K, Nullable(V))`, maps of arrays): declared, written with
//! ClickHouse's map literals and `map(…)`, read back in every ClickHouse format and as ZeptoDB
//! JSON objects, refused clearly where a value does not fit, flushed to the HDB and read there by
//! Strata and by deltalake, pyarrow and DuckDB.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::clickhouse::{ch, ok, round_trip_every_format};
use crate::common::{Client, TestServer};

const COLUMNS: &str = "(id Int64, attrs Map(LowCardinality(String), String), \
                       counts Map(String, UInt64), opt Map(Int32, Nullable(Float64)), \
                       lists Map(String, Array(Int32)), days Map(Date, Int64))";

async fn filled(c: &Client, table: &str) {
    ok(
        c,
        &format!("CREATE TABLE {table} {COLUMNS} ENGINE = MergeTree ORDER BY id"),
    )
    .await;
    ok(
        c,
        &format!(
            "INSERT INTO {table} VALUES \
             (1, {{'service': 'api', 'tab': 'a\\tb'}}, {{'a': 1, 'b': 18446744073709551615}}, \
              map(1, 1.5, 2, NULL), {{'x': [1, 2], 'y': []}}, map('2024-01-02', 7)), \
             (2, {{}}, {{}}, {{}}, {{}}, {{}}), \
             (3, {{'it''s': ''}}, {{'z': 0}}, map(-7, -0.25), {{'e': [-1]}}, \
              map('1970-01-01', -1, '2149-06-06', 2))"
        ),
    )
    .await;
}

fn expected() -> Value {
    json!([
        [
            1,
            {"service": "api", "tab": "a\tb"},
            {"a": 1, "b": 18_446_744_073_709_551_615_u64},
            {"1": 1.5, "2": null},
            {"x": [1, 2], "y": []},
            {"2024-01-02": 7}
        ],
        [2, {}, {}, {}, {}, {}],
        [
            3,
            {"it's": ""},
            {"z": 0},
            {"-7": -0.25},
            {"e": [-1]},
            {"1970-01-01": -1, "2149-06-06": 2}
        ]
    ])
}

#[tokio::test]
async fn maps_are_declared_kept_and_read_as_json_objects() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    filled(&c, "m").await;
    assert_eq!(
        c.sql_ok("SELECT * FROM m ORDER BY id").await["data"],
        expected()
    );
    let types = ok(
        &c,
        "SELECT name, type FROM system.columns WHERE table = 'm' FORMAT TSV",
    )
    .await;
    assert_eq!(
        String::from_utf8(types).unwrap(),
        "id\tInt64\nattrs\tMap(String, String)\ncounts\tMap(String, UInt64)\n\
         opt\tMap(Int32, Nullable(Float64))\nlists\tMap(String, Array(Int32))\n\
         days\tMap(Date, Int64)\n"
    );
    let described = c.sql_ok("DESCRIBE m").await["data"].clone();
    assert_eq!(
        described[3][1], "MAP(INT32, NULLABLE(FLOAT64))",
        "{described}"
    );
    // A value by its key, and ClickHouse's map functions.
    assert_eq!(
        ok(
            &c,
            "SELECT attrs['service'], counts['b'], lists['x'][2], mapKeys(attrs), \
             mapValues(days), mapContains(attrs, 'tab'), mapContains(attrs, 'nope') \
             FROM m WHERE id = 1 FORMAT TSV"
        )
        .await,
        b"api\t18446744073709551615\t2\t['service','tab']\t[7]\t1\t0\n"
    );
    // A missing map is the empty one.
    ok(&c, "INSERT INTO m (id) VALUES (4)").await;
    assert_eq!(
        c.sql_ok("SELECT attrs, opt FROM m WHERE id = 4").await["data"],
        json!([[{}, {}]])
    );
    // The text forms are ClickHouse's.
    let tsv = ok(
        &c,
        "SELECT attrs, counts, opt, lists FROM m WHERE id = 1 FORMAT TSV",
    )
    .await;
    assert_eq!(
        String::from_utf8(tsv).unwrap(),
        "{'service':'api','tab':'a\\tb'}\t{'a':1,'b':18446744073709551615}\t{1:1.5,2:NULL}\t\
         {'x':[1,2],'y':[]}\n"
    );
    let json = ok(
        &c,
        "SELECT counts, days FROM m WHERE id = 1 FORMAT JSONEachRow",
    )
    .await;
    assert_eq!(
        String::from_utf8(json).unwrap(),
        "{\"counts\":{\"a\":\"1\",\"b\":\"18446744073709551615\"},\"days\":{\"2024-01-02\":\"7\"}}\n"
    );
}

#[tokio::test]
async fn values_that_do_not_fit_a_map_are_refused() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    filled(&c, "m").await;
    for (sql, says) in [
        (
            "CREATE TABLE bad (a Nullable(Map(String, Int64))) ENGINE = Memory",
            "cannot be Nullable",
        ),
        (
            "CREATE TABLE bad (a Map(Nullable(String), Int64)) ENGINE = Memory",
            "keys cannot be Nullable",
        ),
        (
            "CREATE TABLE badkey (a Map(String, Int64), b Int64) ENGINE = MergeTree ORDER BY a",
            "cannot be in the sort key",
        ),
    ] {
        let r = ch(&c, sql, "query_id=a").await;
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{sql}: {body}");
        assert!(body.contains(says), "{sql}: {body}");
    }
    for (format, rows, says) in [
        ("JSONEachRow", "{\"id\": 9, \"attrs\": [\"a\"]}\n", "attrs"),
        (
            "JSONEachRow",
            "{\"id\": 9, \"counts\": {\"a\": null}}\n",
            "Map(K, Nullable(V))",
        ),
        (
            "JSONEachRow",
            "{\"id\": 9, \"counts\": {\"a\": -1}}\n",
            "-1",
        ),
        ("TabSeparated", "9\t{'a':'b'\t{}\t{}\t{}\t{}\n", "attrs"),
        ("CSV", "9,\"{}\",\"{}\",\"{'x':1}\",\"{}\",\"{}\"\n", "opt"),
    ] {
        let mut body = format!("INSERT INTO m FORMAT {format}\n").into_bytes();
        body.extend_from_slice(rows.as_bytes());
        let r = c.request(Method::POST, "/?query_id=bad", &[], body).await;
        let text = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{format} {rows}: {text}");
        assert!(text.contains(says), "{format} {rows}: {text}");
    }
    // Nothing of a refused insert landed.
    assert_eq!(
        c.sql_ok("SELECT count(*) FROM m").await["data"],
        json!([[3]])
    );
}

#[tokio::test]
async fn maps_round_trip_through_every_clickhouse_format() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    filled(&c, "src").await;
    round_trip_every_format(&c, COLUMNS, &expected()).await;
}

#[tokio::test]
async fn maps_flush_to_the_hdb_and_other_readers_see_them() {
    let data = tempfile::TempDir::new().unwrap();
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    filled(&c, "m").await;
    ok(&c, "FLUSH TABLE m").await;
    assert_eq!(
        c.sql_ok("SELECT * FROM m ORDER BY id").await["data"],
        expected()
    );
    // Both tiers in one answer: a hot row beside the flushed ones.
    ok(&c, "INSERT INTO m (id, attrs) VALUES (4, {'hot': 'yes'})").await;
    assert_eq!(
        c.sql_ok("SELECT id, attrs['hot'] FROM m WHERE id >= 3 ORDER BY id")
            .await["data"],
        json!([[3, null], [4, "yes"]])
    );
    let uri = data.path().join("tables/m");
    let seen = crate::common::external::third_party_reads(uri.to_str().unwrap(), "id", &[]);
    for reader in ["pyarrow", "duckdb"] {
        assert_eq!(seen[reader], seen["deltalake"], "{reader}");
    }
    // Each reader sees a map as its (key, value) pairs.
    assert_eq!(
        seen["deltalake"][0],
        json!([
            1,
            [["service", "api"], ["tab", "a\tb"]],
            // UInt64 is a Delta decimal(20, 0): the script prints decimals as text.
            [["a", "1"], ["b", "18446744073709551615"]],
            [[1, 1.5], [2, null]],
            [["x", [1, 2]], ["y", []]],
            [["2024-01-02", 7]]
        ])
    );
    // A restart reads the declared types back from the Delta log.
    drop(server);
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    assert_eq!(
        c.sql_ok("SELECT * FROM m WHERE id <= 3 ORDER BY id").await["data"],
        expected()
    );
    // A column added later reads as the empty map in the rows stored before it, in both tiers.
    ok(&c, "ALTER TABLE m ADD COLUMN extra Map(String, Int64)").await;
    ok(&c, "INSERT INTO m (id, extra) VALUES (5, {'k': 7})").await;
    assert_eq!(
        c.sql_ok("SELECT id, extra FROM m ORDER BY id").await["data"],
        json!([[1, {}], [2, {}], [3, {}], [4, {}], [5, {"k": 7}]])
    );
}
