//! ClickHouse-declared types kept as declared (and readable in the HDB by other tools), TTLs and
//! time columns of DateTime, settings that bound statements, ClickHouse's functions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ch, ok};
use crate::common::TestServer;

#[tokio::test]
async fn clickhouse_types_are_kept_and_the_hdb_stays_readable() {
    let data = tempfile::TempDir::new().unwrap();
    let server = TestServer::start(&["--hdb-dir", data.path().to_str().unwrap()]).await;
    let c = server.client();
    ok(
        &c,
        "CREATE TABLE typed (id UInt8, n Int16, big UInt64, d Date, dt DateTime, \
         s LowCardinality(String), u UUID, code FixedString(2), price Decimal(10, 2), \
         at DateTime('Europe/Paris'), t3 DateTime64(3), note Nullable(String)) \
         ENGINE = MergeTree PARTITION BY toYYYYMM(dt) ORDER BY (s, id) SETTINGS index_granularity = 8192",
    )
    .await;
    let rows = "1\t-2\t18446744073709551615\t2024-01-02\t2024-01-02 03:04:05\tx\t\
                61f0c404-5cb3-11e7-907b-a6006ad3dba0\tfr\t12.34\t2024-01-02 04:04:05\t\
                2024-01-02 03:04:05.123\t\\N\n\
                2\t300\t0\t1970-01-01\t1970-01-01 00:00:00\ty\t\
                00000000-0000-0000-0000-000000000000\tde\t-0.50\t1970-01-01 01:00:00\t\
                1970-01-01 00:00:00.000\tsome text\n";
    let r = c
        .request(
            Method::POST,
            "/?query=INSERT%20INTO%20typed%20FORMAT%20TSV",
            &[],
            rows.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // Declared as written, Nullable only where declared.
    let types = ok(
        &c,
        "SELECT name, type FROM system.columns WHERE table = 'typed' FORMAT TSV",
    )
    .await;
    assert_eq!(
        String::from_utf8(types).unwrap(),
        "id\tUInt8\nn\tInt16\nbig\tUInt64\nd\tDate\ndt\tDateTime\ns\tString\nu\tUUID\n\
         code\tFixedString(2)\nprice\tDecimal(10, 2)\nat\tDateTime(\\'Europe/Paris\\')\n\
         t3\tDateTime64(3)\nnote\tNullable(String)\n"
    );
    let create = ok(&c, "SHOW CREATE TABLE typed FORMAT TSVRaw").await;
    let create = String::from_utf8(create).unwrap();
    assert!(create.contains("`u` UUID,"), "{create}");
    assert!(create.contains("ORDER BY (`s`, `id`)"), "{create}");
    // The Paris column reads and prints wall-clock time in Paris: 04:04:05 there is 03:04:05 UTC.
    let at = ok(
        &c,
        "SELECT toUnixTimestamp(at) - toUnixTimestamp(dt) FROM typed FORMAT TSV",
    )
    .await;
    assert_eq!(at, b"0\n0\n");

    let query = "SELECT * FROM typed ORDER BY id FORMAT TSV";
    let hot = ok(&c, query).await;
    assert_eq!(String::from_utf8(hot.clone()).unwrap(), rows);
    // Binary formats in each declared type's layout, read back into a copy of the table.
    for format in ["Native", "RowBinaryWithNamesAndTypes"] {
        let copy = format!("copy_{}", format.to_lowercase());
        ok(
            &c,
            &format!(
                "CREATE TABLE {copy} (id UInt8, n Int16, big UInt64, d Date, dt DateTime, \
                 s LowCardinality(String), u UUID, code FixedString(2), price Decimal(10, 2), \
                 at DateTime('Europe/Paris'), t3 DateTime64(3), note Nullable(String)) \
                 ENGINE = MergeTree ORDER BY id"
            ),
        )
        .await;
        let body = ok(
            &c,
            &format!("SELECT * FROM typed ORDER BY id FORMAT {format}"),
        )
        .await;
        let uuid = [0xe7, 0x11, 0xb3, 0x5c, 0x04, 0xc4, 0xf0, 0x61];
        assert!(
            body.windows(8).any(|w| w == uuid),
            "{format}: UUID's high half, little-endian"
        );
        let r = c
            .request(
                Method::POST,
                &format!("/?query=INSERT%20INTO%20{copy}%20FORMAT%20{format}"),
                &[],
                body,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{format}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let back = ok(&c, &format!("SELECT * FROM {copy} ORDER BY id FORMAT TSV")).await;
        assert_eq!(back, hot, "{format}");
    }
    // A row without values for non-Nullable columns stores their defaults; bad values are named.
    ok(&c, "INSERT INTO copy_native (id) VALUES (7)").await;
    assert_eq!(
        ok(
            &c,
            "SELECT u, code, price, d, note FROM copy_native WHERE id = 7 FORMAT TSV"
        )
        .await,
        b"00000000-0000-0000-0000-000000000000\t\t0.00\t1970-01-01\t\\N\n"
    );
    for (insert, says) in [
        (
            "INSERT INTO copy_native (id, u) VALUES (8, 'not-a-uuid')",
            "'not-a-uuid' is not one",
        ),
        (
            "INSERT INTO copy_native (id, code) VALUES (8, 'abc')",
            "FixedString(2)",
        ),
    ] {
        let r = ch(&c, insert, "query_id=t").await;
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{insert}: {body}");
        assert!(body.contains(says), "{insert}: {body}");
    }

    // Flushed to the HDB: the same values from Strata, and from three other readers.
    ok(&c, "FLUSH TABLE typed").await;
    assert_eq!(ok(&c, query).await, hot);
    let uri = data.path().join("tables/typed");
    let seen = crate::common::external::third_party_reads(uri.to_str().unwrap(), "id", &[]);
    for reader in ["pyarrow", "duckdb"] {
        assert_eq!(seen[reader], seen["deltalake"], "{reader}");
    }
    assert_eq!(
        seen["deltalake"][0],
        json!([
            1,
            -2,
            "18446744073709551615",
            "2024-01-02",
            "2024-01-02 03:04:05+00:00",
            "x",
            "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
            "fr",
            "12.34",
            "2024-01-02 03:04:05+00:00",
            "2024-01-02 03:04:05.123000+00:00",
            null
        ])
    );
}

#[tokio::test]
async fn clickhouse_ttl_and_time_columns_of_datetime() {
    let data = tempfile::TempDir::new().unwrap();
    let dir = data.path().to_str().unwrap();
    // No background round for an hour: the old rows reach the HDB before any TTL sweep.
    let mut server = TestServer::start(&["--hdb-dir", dir, "--flush-interval-ms", "3600000"]).await;
    let c = server.client();
    ok(
        &c,
        "CREATE TABLE ev (id UInt32, at DateTime) ENGINE = MergeTree ORDER BY id \
         TTL toDateTime(at) + INTERVAL 2 DAY DELETE",
    )
    .await;
    let create = String::from_utf8(ok(&c, "SHOW CREATE TABLE ev FORMAT TSVRaw").await).unwrap();
    assert!(
        create.ends_with("TTL `at` + toIntervalDay(2)\n"),
        "{create}"
    );
    ok(
        &c,
        "INSERT INTO ev VALUES (1, '2020-01-01 00:00:00'), (2, '2020-01-02 00:00:00')",
    )
    .await;
    ok(&c, "FLUSH TABLE ev").await;
    ok(&c, "INSERT INTO ev VALUES (3, '2020-01-03 00:00:00')").await;
    ok(&c, "INSERT INTO ev SELECT 4, now()").await;
    assert_eq!(c.rows("SELECT count(*) FROM ev").await, json!([[4]]));
    assert_eq!(server.terminate(), Some(0));

    // With sweeps every 20 ms the old days leave both tiers: the HDB's files (whose DateTime
    // statistics are Delta timestamps) by a Delta commit, the replayed hot rows in memory.
    let server = TestServer::start(&["--hdb-dir", dir, "--flush-interval-ms", "20"]).await;
    let c = server.client();
    crate::tiered::eventually(&c, "SELECT id FROM ev", json!([[4]])).await;
    let history = c.rows("DESCRIBE HISTORY ev").await;
    let operations: Vec<&Value> = history.as_array().unwrap().iter().map(|h| &h[2]).collect();
    assert!(operations.contains(&&json!("DELETE")), "{history}");
}

/// `max_result_rows` (with either overflow mode) and `max_execution_time` bound a statement,
/// from the URL or its `SETTINGS`; ClickHouse's aggregate and formatting functions answer as
/// ClickHouse's do.
#[tokio::test]
async fn settings_bound_statements_and_clickhouse_functions_answer() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    ok(&c, "CREATE TABLE f (s String, p Float64, ts DateTime64(9))").await;
    ok(
        &c,
        "INSERT INTO f VALUES ('a', 3, '2024-05-06 07:08:09'), ('a', 1, '2024-05-06 07:08:10'), \
         ('b', 2, '2024-05-06 07:08:08'), ('b', 10, '2024-05-06 07:08:11')",
    )
    .await;
    // The settings Strata acts on are listed, at their defaults, and only those.
    let listed = ok(
        &c,
        "SELECT name, value, changed, type FROM system.settings WHERE name LIKE 'max%' \
         ORDER BY name FORMAT TSV",
    )
    .await;
    assert_eq!(
        listed,
        b"max_execution_time\t0\t0\tSeconds\nmax_result_rows\t0\t0\tUInt64\n"
    );
    // Comparisons are UInt8 1 or 0 (Nullable, as the columns are), as ClickHouse computes
    // them; Bool stays Bool.
    assert_eq!(
        ok(&c, "SELECT p > 2 AS big, s = 'a' AND p < 2, true FROM f ORDER BY p LIMIT 2 FORMAT TSVWithNamesAndTypes").await,
        b"big\ts = \\'a\\' AND p < 2\ttrue\nNullable(UInt8)\tNullable(UInt8)\tBool\n0\t1\ttrue\n0\t0\ttrue\n"
    );
    let r = ch(&c, "SELECT * FROM f", "max_result_rows=3").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("396")
    );
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        body.contains("max_result_rows") && !body.contains("Arrow"),
        "{body}"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT s FROM f ORDER BY p SETTINGS max_result_rows = 2, result_overflow_mode = 'break'"
        )
        .await,
        b"a\nb\n"
    );
    let slow = "SELECT count() FROM (SELECT number FROM system.numbers LIMIT 200000) a, \
                (SELECT number FROM system.numbers LIMIT 200000) b WHERE a.number + b.number = 7";
    let r = ch(&c, slow, "max_execution_time=0.2").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("159"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = ch(&c, "SELECT 1", "max_execution_time=soon").await;
    assert_eq!(
        r.header("x-clickhouse-exception-code").as_deref(),
        Some("72")
    );
    assert_eq!(
        ok(
            &c,
            "SELECT s, argMin(p, ts), argMax(p, ts), quantile(0.5)(p), quantiles(0, 1)(p) \
             FROM f GROUP BY s ORDER BY s"
        )
        .await,
        b"a\t3\t1\t2\t[1,3]\nb\t2\t10\t6\t[2,10]\n"
    );
    assert_eq!(
        ok(
            &c,
            "SELECT formatDateTime(ts, '%Y/%m/%d %H:%i:%S %M') FROM f ORDER BY ts LIMIT 1"
        )
        .await,
        b"2024/05/06 07:08:08 May\n"
    );
    assert_eq!(
        ok(&c, "SELECT arrayJoin([1, 2]) AS x, uptime() < 86400").await,
        b"1\t1\n2\t1\n"
    );
}
