//! The front end's answers for every statement family: what it is, its class, the tables it
//! touches, and the refusals that must come before planning.

use super::parse;
use crate::sql::error::Error;
use crate::sql::statement::{Class, Statement};

/// Class and touched tables of `sql`.
fn facts(sql: &str) -> (Class, Vec<String>) {
    let statement = parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    (statement.class(), statement.tables())
}

fn tables(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn refused(sql: &str) -> String {
    match parse(sql) {
        Ok(s) => panic!("{sql}: accepted as {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn queries_read_every_table_they_name() {
    for (sql, want) in [
        ("SELECT 1", vec![]),
        ("SELECT * FROM Trades", vec!["trades"]),
        (r#"SELECT * FROM "Trades""#, vec!["Trades"]),
        (
            "SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (x)",
            vec!["a", "b", "c"],
        ),
        ("SELECT * FROM a, b", vec!["a", "b"]),
        (
            "SELECT * FROM a UNION ALL SELECT * FROM b EXCEPT SELECT * FROM c",
            vec!["a", "b", "c"],
        ),
        (
            "SELECT * FROM a WHERE x IN (SELECT x FROM b)",
            vec!["a", "b"],
        ),
        (
            "SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.x = a.x)",
            vec!["a", "b"],
        ),
        ("SELECT (SELECT max(x) FROM b) AS m FROM a", vec!["a", "b"]),
        (
            "SELECT * FROM (SELECT * FROM (SELECT * FROM deep) d1) d2",
            vec!["deep"],
        ),
        (
            "SELECT * FROM a GROUP BY x HAVING count(*) > (SELECT 1 FROM h)",
            vec!["a", "h"],
        ),
        ("SELECT * FROM public.t", vec!["t"]),
        ("SELECT * FROM strata.public.t", vec!["t"]),
        ("SELECT * FROM other.t", vec!["other.t"]),
        ("SELECT * FROM generate_series(1, 3)", vec![]),
        (
            "SELECT * FROM generate_series(1, 3) g JOIN t ON g.value = t.x",
            vec!["t"],
        ),
        ("VALUES (1), (2)", vec![]),
    ] {
        assert_eq!(facts(sql), (Class::Read, tables(&want)), "{sql}");
    }
}

#[test]
fn cte_names_are_not_tables_where_they_are_in_scope() {
    for (sql, want) in [
        ("WITH c AS (SELECT * FROM t) SELECT * FROM c", vec!["t"]),
        // A CTE shadowing a table: its body reads the table, the outer query the CTE.
        ("WITH t AS (SELECT * FROM t) SELECT * FROM t", vec!["t"]),
        ("WITH t AS (SELECT 1 AS x) SELECT * FROM t", vec![]),
        (
            "WITH a AS (SELECT * FROM x), b AS (SELECT * FROM a) SELECT * FROM b",
            vec!["x"],
        ),
        // A later CTE is not in scope of an earlier one's body: `b` there is a table.
        (
            "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
            vec!["b"],
        ),
        // Out of its WITH's scope the name is a table again.
        (
            "SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) s JOIN t ON true",
            vec!["t"],
        ),
        (
            "SELECT * FROM (WITH c AS (SELECT 1) SELECT * FROM c) s, c",
            vec!["c"],
        ),
        (
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
            vec![],
        ),
        // A qualified name never means a CTE.
        ("WITH t AS (SELECT 1) SELECT * FROM public.t", vec!["t"]),
    ] {
        assert_eq!(facts(sql).1, tables(&want), "{sql}");
    }
}

#[test]
fn dml_writes_its_target_and_reads_its_sources() {
    for (sql, want) in [
        ("INSERT INTO t VALUES (1)", vec!["t"]),
        (
            "INSERT INTO t SELECT * FROM s JOIN u ON true",
            vec!["s", "t", "u"],
        ),
        (
            "INSERT INTO t WITH c AS (SELECT * FROM s) SELECT * FROM c",
            vec!["s", "t"],
        ),
        (
            "UPDATE t SET a = 1 WHERE b IN (SELECT b FROM s)",
            vec!["s", "t"],
        ),
        (
            "DELETE FROM t WHERE a = (SELECT max(a) FROM s)",
            vec!["s", "t"],
        ),
    ] {
        assert_eq!(facts(sql), (Class::Write, tables(&want)), "{sql}");
    }
    // Plain literals take the fast path; anything more is planned by DataFusion.
    assert!(matches!(
        parse("INSERT INTO t VALUES (1)").unwrap(),
        Statement::InsertValues { .. }
    ));
    assert!(matches!(
        parse("INSERT INTO t VALUES ((1))").unwrap(),
        Statement::Dml { .. }
    ));
    assert!(matches!(
        crate::sql::parser::clickhouse::parse(b"INSERT INTO t VALUES (1, 'a')", &[])
            .unwrap()
            .statement,
        Statement::InsertValues { .. }
    ));
}

#[test]
fn explain_only_writes_when_it_runs_the_statement() {
    assert_eq!(
        facts("EXPLAIN SELECT * FROM t"),
        (Class::Read, tables(&["t"]))
    );
    assert_eq!(
        facts("EXPLAIN DELETE FROM t"),
        (Class::Read, tables(&["t"]))
    );
    assert_eq!(
        facts("EXPLAIN ANALYZE INSERT INTO t SELECT * FROM s"),
        (Class::Write, tables(&["s", "t"]))
    );
    assert_eq!(
        facts("EXPLAIN ANALYZE SELECT * FROM t"),
        (Class::Read, tables(&["t"]))
    );
    assert!(refused("EXPLAIN DROP TABLE t").contains("EXPLAIN takes"));
}

#[test]
fn catalog_statements_are_admin_and_name_their_tables() {
    for (sql, class, want) in [
        ("CREATE TABLE t (a INT64)", Class::Admin, vec!["t"]),
        (
            "CREATE TABLE IF NOT EXISTS T (a INT64)",
            Class::Admin,
            vec!["t"],
        ),
        (
            "CREATE TABLE default.e (ts DateTime('Europe/Paris'), id UUID) ENGINE = MergeTree \
             ORDER BY (id, ts) PARTITION BY toYYYYMM(ts) TTL ts + INTERVAL 30 DAY",
            Class::Admin,
            vec!["e"],
        ),
        ("DROP TABLE a, b", Class::Admin, vec!["a", "b"]),
        ("DROP TABLE IF EXISTS a", Class::Admin, vec!["a"]),
        ("ALTER TABLE t ADD COLUMN b BOOL", Class::Admin, vec!["t"]),
        ("ALTER TABLE t SET TTL 2 DAYS", Class::Admin, vec!["t"]),
        ("SHOW TABLES", Class::Read, vec![]),
        ("DESCRIBE t", Class::Read, vec!["t"]),
        ("DESC t", Class::Read, vec!["t"]),
    ] {
        assert_eq!(facts(sql), (class, tables(&want)), "{sql}");
    }
    assert_eq!(
        parse("alter table T set ttl 2 hours").unwrap(),
        Statement::SetTtl {
            table: "t".into(),
            ttl_nanos: 2 * 3_600_000_000_000
        }
    );
    assert_eq!(
        parse("ALTER TABLE t SET TTL 0 DAYS").unwrap(),
        Statement::SetTtl {
            table: "t".into(),
            ttl_nanos: 0
        }
    );
    assert!(refused("ALTER TABLE t SET TTL 2 WEEKS").contains("SET TTL n DAYS|HOURS"));
    assert!(refused("ALTER TABLE t SET TTL -1 DAYS").contains("SET TTL n DAYS|HOURS"));
    assert!(refused("CREATE TABLE s.t (a INT64)").contains("Qualified table names"));
    // ALTER reads ClickHouse's spelling of column types as CREATE does.
    for sql in [
        "ALTER TABLE t ADD COLUMN a Array(Nullable(Int64))",
        "alter table t add column a INT64[], add column b SYMBOL",
        "ALTER TABLE t ADD COLUMN d DateTime64(3, 'UTC')",
    ] {
        assert_eq!(facts(sql), (Class::Admin, tables(&["t"])), "{sql}");
    }
}

#[test]
fn storage_statements_are_admin() {
    for (sql, want) in [
        (
            "FLUSH TABLE t",
            Statement::Flush {
                tables: tables(&["t"]),
            },
        ),
        (
            "flush tables a, B",
            Statement::Flush {
                tables: tables(&["a", "b"]),
            },
        ),
        ("OPTIMIZE t", Statement::Optimize { table: "t".into() }),
        (
            "OPTIMIZE TABLE \"T\"",
            Statement::Optimize { table: "T".into() },
        ),
        (
            "VACUUM t",
            Statement::Vacuum {
                table: "t".into(),
                retain_hours: None,
            },
        ),
        (
            "VACUUM TABLE t RETAIN 0 HOURS;",
            Statement::Vacuum {
                table: "t".into(),
                retain_hours: Some(0),
            },
        ),
    ] {
        let statement = parse(sql).unwrap();
        assert_eq!(statement.class(), Class::Admin, "{sql}");
        assert_eq!(statement, want, "{sql}");
    }
    assert!(refused("FLUSH").contains("FLUSH takes a table"));
    assert!(refused("FLUSH PRIVILEGES").contains("FLUSH takes a table"));
    assert!(refused("OPTIMIZE").starts_with("Parse error"));
    assert!(refused("VACUUM t RETAIN x HOURS").starts_with("Parse error"));
    assert!(refused("VACUUM t RETAIN 3 DAYS").starts_with("Parse error"));
    assert!(refused("OPTIMIZE t extra").starts_with("Parse error"));
}

#[test]
fn time_travel_reads_the_table_it_names() {
    assert_eq!(
        parse("describe history Trades;").unwrap(),
        Statement::DescribeHistory {
            table: "trades".into()
        }
    );
    assert_eq!(facts("DESC HISTORY t"), (Class::Read, tables(&["t"])));
    assert_eq!(
        facts("SELECT * FROM t VERSION AS OF 3"),
        (Class::Read, tables(&["t"]))
    );
    assert_eq!(
        facts("SELECT * FROM t TIMESTAMP AS OF '2024-03-23T22:00:00Z' o JOIN u ON true"),
        (Class::Read, tables(&["t", "u"]))
    );
    assert_eq!(
        facts("INSERT INTO t SELECT * FROM t VERSION AS OF 1"),
        (Class::Write, tables(&["t"]))
    );
    assert!(refused("DESCRIBE HISTORY").starts_with("Parse error"));
}

#[test]
fn bad_input_is_refused_before_planning() {
    assert!(matches!(parse("  "), Err(Error::Empty)));
    assert!(matches!(parse(";;"), Err(Error::Empty)));
    assert!(refused("SELEC 1").starts_with("Parse error"));
    assert_eq!(
        refused("SELECT 1; SELECT 2"),
        "Only one statement per request is allowed, got 2"
    );
    assert!(parse("SELECT 1;").is_ok());
    assert!(refused("SELECT 1 SELECT 2").starts_with("Parse error"));
    assert!(refused("CREATE VIEW v AS SELECT 1").contains("Unsupported statement"));
    assert!(refused("CREATE TABLE t AS SELECT * FROM s").contains("INSERT INTO … SELECT"));
    assert!(refused("SELECT a INTO t2 FROM t").contains("SELECT … INTO"));
    // datafusion-sql panics on a typed literal whose value is not a string.
    let err = refused("SELECT xbar(timestamp 1000) b, count(*) FROM f GROUP BY b");
    assert!(err.starts_with("Parse error: TIMESTAMP 1000"), "{err}");
    assert!(err.contains("comma"), "{err}");
    assert!(parse("SELECT TIMESTAMP '2024-01-01 00:00:00'").is_ok());
    let deep = format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500));
    assert!(refused(&deep).starts_with("Parse error"));
}

#[test]
fn clickhouse_create_table_keeps_types_sort_key_and_ttl() {
    let Statement::CreateTable { definition, .. } = parse(
        "CREATE TABLE IF NOT EXISTS `ev` (`ts` DateTime64(3, 'UTC') CODEC(Delta, ZSTD), \
         id UInt32 COMMENT 'key', price Decimal(10, 2), code Nullable(FixedString(3)), \
         n Float64 NULL, day Date) ENGINE = MergeTree() PARTITION BY toDate(ts) \
         ORDER BY (id, ts) TTL toDateTime(ts) + toIntervalMonth(1) SETTINGS index_granularity = 8192",
    )
    .unwrap() else {
        panic!("not a CREATE TABLE")
    };
    let nullable: Vec<bool> = definition.columns().iter().map(|c| c.nullable).collect();
    assert_eq!(nullable, [false, false, false, true, true, false]);
    assert_eq!(definition.sort_key(), ["id", "ts"]);
    assert_eq!(definition.time_column(), Some(0));
    assert_eq!(definition.ttl_nanos(), Some(31 * 86_400_000_000_000));
    assert_eq!(
        definition.columns()[2].ty,
        strata_catalog::ColumnType::Decimal(10, 2)
    );

    let Statement::CreateTable { definition, .. } =
        parse("CREATE TABLE s (symbol SYMBOL, v INT64 NOT NULL, ts TIMESTAMP_NS)").unwrap()
    else {
        panic!("not a CREATE TABLE")
    };
    let nullable: Vec<bool> = definition.columns().iter().map(|c| c.nullable).collect();
    assert_eq!(
        nullable,
        [true, false, true],
        "Strata's columns hold NULLs by default"
    );

    for (sql, says) in [
        (
            "CREATE TABLE r (a UInt8) ENGINE = ReplacingMergeTree ORDER BY a",
            "ReplacingMergeTree",
        ),
        (
            "CREATE TABLE r (a UInt8 DEFAULT 1) ENGINE = MergeTree ORDER BY a",
            "DEFAULT",
        ),
        (
            "CREATE TABLE r (a UInt8) ENGINE = MergeTree ORDER BY a + 1",
            "names columns",
        ),
        (
            "CREATE TABLE r (a UInt8) ENGINE = MergeTree ORDER BY b",
            "no column 'b'",
        ),
        (
            "CREATE TABLE r (a UInt8, t DateTime) ENGINE = MergeTree ORDER BY a TTL a + INTERVAL 1 DAY",
            "time column",
        ),
        (
            "CREATE TABLE r (a DateTime64(4)) ENGINE = MergeTree ORDER BY a",
            "3, 6 or 9",
        ),
        (
            "CREATE TABLE r (a Map(String, UInt8)) ENGINE = MergeTree ORDER BY a",
            "map column 'a' cannot be in the sort key",
        ),
        (
            "CREATE TABLE r (a UInt8, INDEX i a TYPE minmax) ENGINE = MergeTree ORDER BY a",
            "indexes",
        ),
    ] {
        let err = refused(sql);
        assert!(err.contains(says), "{sql}: {err}");
    }
}
