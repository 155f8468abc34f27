//! Array columns (`Array(T)`, `Array(Nullable(T))`, nested): declared in both dialects, written
//! and read back in every ClickHouse format and as ZeptoDB JSON, refused clearly where a value
//! does not fit, flushed to the HDB and read there by Strata and by deltalake, pyarrow and
//! DuckDB.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::clickhouse::{ch, ok, round_trip_every_format};
use crate::common::{Client, TestServer};

const COLUMNS: &str = "(id Int64, tags Array(String), xs Array(Nullable(Int32)), \
                       days Array(Date), grid Array(Array(Float64)), \
                       at Array(DateTime64(9, 'UTC')))";

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
             (1, ['a', 'b''c', 'tab\\there'], [1, NULL, -3], ['2024-01-02', '1970-01-01'], \
              [[1.5, -2], [], [0.25]], ['2024-01-01 00:00:00.000000001']), \
             (2, [], [], [], [], []), \
             (3, ['[x, y]', ''], [NULL], ['2149-06-06'], [[]], \
              ['1970-01-01 00:00:00', '2024-06-30 23:59:59.999999999'])"
        ),
    )
    .await;
}

fn expected() -> Value {
    json!([
        [
            1,
            ["a", "b'c", "tab\there"],
            [1, null, -3],
            ["2024-01-02", "1970-01-01"],
            [[1.5, -2.0], [], [0.25]],
            [1_704_067_200_000_000_001_i64]
        ],
        [2, [], [], [], [], []],
        [
            3,
            ["[x, y]", ""],
            [null],
            ["2149-06-06"],
            [[]],
            [0, 1_719_791_999_999_999_999_i64]
        ]
    ])
}

#[tokio::test]
async fn arrays_are_declared_kept_and_read_as_json() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    filled(&c, "arr").await;
    assert_eq!(
        c.sql_ok("SELECT * FROM arr ORDER BY id").await["data"],
        expected()
    );
    let types = ok(
        &c,
        "SELECT name, type FROM system.columns WHERE table = 'arr' FORMAT TSV",
    )
    .await;
    assert_eq!(
        String::from_utf8(types).unwrap(),
        "id\tInt64\ntags\tArray(String)\nxs\tArray(Nullable(Int32))\ndays\tArray(Date)\n\
         grid\tArray(Array(Float64))\nat\tArray(DateTime64(9, \\'UTC\\'))\n"
    );
    // The SQL spellings declare the same types; DESCRIBE prints Strata's names.
    c.sql_ok("CREATE TABLE sqlarr (a BIGINT[], b ARRAY<VARCHAR>, ts TIMESTAMP_NS)")
        .await;
    let described = c.sql_ok("DESCRIBE sqlarr").await["data"].clone();
    assert_eq!(described[0][1], "ARRAY(INT64)", "{described}");
    assert_eq!(described[1][1], "ARRAY(STRING)", "{described}");
    // Items are indexed from 1, as in ClickHouse, and the usual array functions apply.
    assert_eq!(
        ok(
            &c,
            "SELECT tags[1], array_length(xs), grid[1][2] FROM arr WHERE id = 1 FORMAT TSV"
        )
        .await,
        b"a\t3\t-2\n"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT has(tags, 'a'), has(tags, 'z'), indexOf(tags, 'b''c'), \
             arrayReverse(xs) FROM arr WHERE id = 1 FORMAT TSV"
        )
        .await,
        b"1\t0\t2\t[-3,NULL,1]\n"
    );
    // A missing array is the empty one.
    ok(&c, "INSERT INTO arr (id) VALUES (4)").await;
    assert_eq!(
        c.sql_ok("SELECT tags, grid FROM arr WHERE id = 4").await["data"],
        json!([[[], []]])
    );
}

#[tokio::test]
async fn values_that_do_not_fit_an_array_are_refused() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    filled(&c, "arr").await;
    for (sql, says) in [
        // SQL's VALUES are cast to the table's types by the planner, which names the rule.
        (
            "INSERT INTO arr (id, tags) VALUES (9, ['a', NULL])",
            "cannot contain nulls",
        ),
        (
            "CREATE TABLE bad (a Nullable(Array(Int64))) ENGINE = Memory",
            "cannot be Nullable",
        ),
        ("INSERT INTO arr (id, xs) VALUES (9, ['x'])", "'x'"),
        (
            "CREATE TABLE badkey (a Array(Int64), b Int64) ENGINE = MergeTree ORDER BY a",
            "cannot be in the sort key",
        ),
    ] {
        let r = ch(&c, sql, "query_id=a").await;
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{sql}: {body}");
        assert!(body.contains(says), "{sql}: {body}");
    }
    for (format, rows, says) in [
        ("JSONEachRow", "{\"id\": 9, \"tags\": \"a\"}\n", "tags"),
        (
            "JSONEachRow",
            "{\"id\": 9, \"tags\": [\"a\", null]}\n",
            "Array(Nullable(T))",
        ),
        ("TabSeparated", "9\t[1,2\t[]\t[]\t[]\t[]\n", "tags"),
        (
            "CSV",
            "9,\"['a']\",\"[1]\",\"['nope']\",\"[]\",\"[]\"\n",
            "days",
        ),
    ] {
        let mut body = format!("INSERT INTO arr FORMAT {format}\n").into_bytes();
        body.extend_from_slice(rows.as_bytes());
        let r = c.request(Method::POST, "/?query_id=bad", &[], body).await;
        let text = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{format}: {text}");
        assert!(text.contains(says), "{format}: {text}");
    }
    // Nothing of a refused insert landed.
    assert_eq!(
        c.sql_ok("SELECT count(*) FROM arr").await["data"],
        json!([[3]])
    );
}

#[tokio::test]
async fn arrays_round_trip_through_every_clickhouse_format() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    filled(&c, "src").await;
    round_trip_every_format(&c, COLUMNS, &expected()).await;
    // The text forms are ClickHouse's: strings single-quoted with backslash escapes.
    let tsv = ok(&c, "SELECT tags, xs, days FROM src WHERE id = 1 FORMAT TSV").await;
    assert_eq!(
        String::from_utf8(tsv).unwrap(),
        "['a','b\\'c','tab\\there']\t[1,NULL,-3]\t['2024-01-02','1970-01-01']\n"
    );
    // Arrow IPC input reads flat columns only, and says so.
    let arrow = ok(&c, "SELECT * FROM src FORMAT ArrowStream").await;
    let mut body = b"INSERT INTO dst0 FORMAT ArrowStream\n".to_vec();
    body.extend_from_slice(&arrow);
    let r = c.request(Method::POST, "/?query_id=arrow", &[], body).await;
    let text = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("nested"), "{text}");
}

#[tokio::test]
async fn arrays_flush_to_the_hdb_and_other_readers_see_them() {
    let data = tempfile::TempDir::new().unwrap();
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    filled(&c, "arr").await;
    ok(&c, "FLUSH TABLE arr").await;
    assert_eq!(
        c.sql_ok("SELECT * FROM arr ORDER BY id").await["data"],
        expected()
    );
    // Both tiers in one answer: a hot row beside the flushed ones.
    ok(&c, "INSERT INTO arr (id, tags) VALUES (4, ['hot'])").await;
    assert_eq!(
        c.sql_ok("SELECT id, tags FROM arr WHERE id >= 3 ORDER BY id")
            .await["data"],
        json!([[3, ["[x, y]", ""]], [4, ["hot"]]])
    );
    let uri = data.path().join("tables/arr");
    let seen = crate::common::external::third_party_reads(uri.to_str().unwrap(), "id", &[]);
    for reader in ["pyarrow", "duckdb"] {
        assert_eq!(seen[reader], seen["deltalake"], "{reader}");
    }
    assert_eq!(
        seen["deltalake"][0],
        json!([
            1,
            ["a", "b'c", "tab\there"],
            [1, null, -3],
            ["2024-01-02", "1970-01-01"],
            [[1.5, -2.0], [], [0.25]],
            [1_704_067_200_000_000_001_i64]
        ])
    );
    // A restart reads the declared types back from the Delta log.
    drop(server);
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    assert_eq!(
        c.sql_ok("SELECT * FROM arr WHERE id <= 3 ORDER BY id")
            .await["data"],
        expected()
    );
    let types = ok(
        &c,
        "SELECT type FROM system.columns WHERE table = 'arr' FORMAT TSV",
    )
    .await;
    assert!(
        String::from_utf8_lossy(&types).contains("Array(Nullable(Int32))"),
        "{}",
        String::from_utf8_lossy(&types)
    );
    // A column added later reads as the empty array in the rows stored before it, in both tiers.
    ok(&c, "ALTER TABLE arr ADD COLUMN extra Array(Int64)").await;
    ok(&c, "INSERT INTO arr (id, extra) VALUES (5, [7])").await;
    assert_eq!(
        c.sql_ok("SELECT id, extra FROM arr ORDER BY id").await["data"],
        json!([[1, []], [2, []], [3, []], [4, []], [5, [7]]])
    );
}
