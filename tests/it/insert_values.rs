//! The `INSERT … VALUES` fast path against DataFusion's plan of the same rows: every case is
//! sent twice, once as plain literals (read by the fast path) and once with its first literal
//! in parentheses (which the fast path declines, so DataFusion plans it); both must succeed or
//! fail alike, and the two tables must end up holding the same rows.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestServer;

const COLUMNS: &str = "seq INT64, i8 INT8, u32 UINT32, f32 FLOAT32, d DECIMAL(10, 2), s STRING, \
                       sym SYMBOL, b BOOL, ts TIMESTAMP_NS, day DATE, id UUID, code FixedString(3), \
                       n Nullable(Int64)";

/// Rows of literals, in `COLUMNS`' order.
type Case = &'static [&'static [&'static str]];

const STORED: &[Case] = &[
    &[&[
        "1",
        "-5",
        "7",
        "1.5",
        "12.34",
        "'text'",
        "'AAPL'",
        "true",
        "1711234800000000000",
        "'2024-03-23'",
        "'6F9619FF-8B86-D011-B42D-00C04FC964FF'",
        "'abc'",
        "42",
    ]],
    // NULL everywhere.
    &[&[
        "2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
        "NULL", "NULL",
    ]],
    // Text for every type, cast as the insert casts it.
    &[&[
        "3",
        "'12'",
        "'8'",
        "'2.5'",
        "'3.14159'",
        "''",
        "'MSFT'",
        "'false'",
        "'2024-03-23T22:00:00Z'",
        "'2024-03-24'",
        "'00000000-0000-0000-0000-000000000000'",
        "'ab'",
        "'-1'",
    ]],
    // Floats into integers, integers into floats, decimals and booleans; quotes in text.
    &[&[
        "4", "1.9", "2.5", "1e2", "5", "'it''s'", "'Q'", "2", "0", "19000", "NULL", "''", "-0.5",
    ]],
    // One column mixing literal types across rows, including an Int64 a float would round.
    &[
        &[
            "5",
            "1",
            "1",
            "1",
            "1",
            "'a'",
            "'X'",
            "true",
            "1",
            "'2024-01-01'",
            "NULL",
            "'x'",
            "9223372036854775807",
        ],
        &[
            "6",
            "2.7",
            "'2'",
            "2.5",
            "'2.25'",
            "3",
            "'Y'",
            "'true'",
            "'2024-03-23T22:00:00.5Z'",
            "'2024-01-02'",
            "NULL",
            "'y'",
            "1.5",
        ],
        &[
            "7", "'3'", "3.0", "'3'", "3", "4.5", "NULL", "false", "2", "NULL", "NULL", "NULL",
            "'4'",
        ],
    ],
];

const REFUSED: &[Case] = &[
    // Out of range, not a number, not a time, not a UUID, too long, too precise, too few.
    &[&[
        "10", "300", "1", "1", "1", "''", "'A'", "true", "1", "NULL", "NULL", "''", "1",
    ]],
    &[&[
        "11", "1", "-1", "1", "1", "''", "'A'", "true", "1", "NULL", "NULL", "''", "1",
    ]],
    &[&[
        "12", "'x'", "1", "1", "1", "''", "'A'", "true", "1", "NULL", "NULL", "''", "1",
    ]],
    &[&[
        "13",
        "1",
        "1",
        "1",
        "1",
        "''",
        "'A'",
        "true",
        "'yesterday'",
        "NULL",
        "NULL",
        "''",
        "1",
    ]],
    &[&[
        "14",
        "1",
        "1",
        "1",
        "1",
        "''",
        "'A'",
        "true",
        "1",
        "NULL",
        "'not-a-uuid'",
        "''",
        "1",
    ]],
    &[&[
        "15", "1", "1", "1", "1", "''", "'A'", "true", "1", "NULL", "NULL", "'abcd'", "1",
    ]],
    &[&[
        "16",
        "1",
        "1",
        "1",
        "123456789012.5",
        "''",
        "'A'",
        "true",
        "1",
        "NULL",
        "NULL",
        "''",
        "1",
    ]],
    &[&["17", "1", "1"]],
    // A mixed column whose second literal does not fit.
    &[
        &[
            "18", "1", "1", "1", "1", "''", "'A'", "true", "1", "NULL", "NULL", "''", "1",
        ],
        &[
            "19", "1.5", "1", "1", "1", "''", "'A'", "true", "1", "NULL", "NULL", "''", "'z'",
        ],
    ],
];

fn values(case: Case, wrap_first: bool) -> String {
    case.iter()
        .enumerate()
        .map(|(r, row)| {
            let literals: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if wrap_first && r == 0 && i == 0 {
                        format!("({v})")
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            format!("({})", literals.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn the_fast_path_stores_what_datafusion_stores() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok(&format!("CREATE TABLE fast ({COLUMNS})")).await;
    c.sql_ok(&format!("CREATE TABLE planned ({COLUMNS})")).await;
    for case in STORED.iter().chain(REFUSED) {
        let fast = c
            .sql(&format!("INSERT INTO fast VALUES {}", values(case, false)))
            .await;
        let planned = c
            .sql(&format!(
                "INSERT INTO planned VALUES {}",
                values(case, true)
            ))
            .await;
        assert_eq!(
            fast.0, planned.0,
            "{case:?}\nfast: {}\nplanned: {}",
            fast.1, planned.1
        );
        if STORED.contains(case) {
            assert_eq!(fast.0, StatusCode::OK, "{case:?}: {}", fast.1);
            assert_eq!(fast.1["data"], json!([[case.len()]]));
            assert_eq!(fast.1["columns"], json!(["inserted"]));
        } else {
            assert_eq!(fast.0, StatusCode::BAD_REQUEST, "{case:?}: {}", fast.1);
            assert!(!fast.1["error"].as_str().unwrap_or("").is_empty());
        }
    }
    let fast = c.rows("SELECT * FROM fast ORDER BY seq").await;
    let planned = c.rows("SELECT * FROM planned ORDER BY seq").await;
    assert_eq!(fast, planned);
    assert_eq!(fast.as_array().map(Vec::len), Some(7), "{fast}");
    // Spot checks of what both stored.
    assert_eq!(
        c.rows("SELECT i8, s, b, n FROM fast WHERE seq = 2").await,
        json!([[null, null, null, null]])
    );
    assert_eq!(
        c.rows("SELECT n FROM fast WHERE seq IN (5, 6, 7) ORDER BY seq")
            .await,
        json!([[9223372036854775807i64], [1], [4]])
    );
}

#[tokio::test]
async fn column_lists_and_their_refusals() {
    let server = TestServer::start(&[]).await;
    let c = server.client();
    c.sql_ok("CREATE TABLE t (a INT64, b STRING, c FLOAT64)")
        .await;
    let r = c
        .sql_ok("INSERT INTO \"t\" (C, a) VALUES (1.5, 1), (NULL, 2);")
        .await;
    assert_eq!(r["data"], json!([[2]]));
    assert_eq!(
        c.rows("SELECT a, b, c FROM t ORDER BY a").await,
        json!([[1, null, 1.5], [2, null, null]])
    );
    let e = c
        .sql_err(
            "INSERT INTO t (a, a) VALUES (1, 2)",
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(e.contains("'a' is named twice"), "{e}");
    let e = c
        .sql_err(
            "INSERT INTO t (a, z) VALUES (1, 2)",
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(e.contains("Unknown column 'z'"), "{e}");
    let e = c
        .sql_err("INSERT INTO t (a, b) VALUES (1)", StatusCode::BAD_REQUEST)
        .await;
    assert!(e.contains("1 values a row for 2 columns (a, b)"), "{e}");
    let e = c
        .sql_err("INSERT INTO missing VALUES (1)", StatusCode::BAD_REQUEST)
        .await;
    assert!(e.contains("Unknown table: missing"), "{e}");
    assert_eq!(c.rows("SELECT count(*) FROM t").await, json!([[2]]));
}
