//! The ClickHouse dialect: request text in, statement, format, settings and rows out.

use super::*;

fn request(text: &str) -> Request<'_> {
    parse(text.as_bytes(), &[]).unwrap()
}

#[test]
fn format_and_settings_trail_the_statement() {
    let r = request("SELECT 1\n FORMAT Native");
    assert_eq!(r.format.as_deref(), Some("Native"));
    assert!(matches!(r.statement, Statement::Query(_)));
    let r = request("/* grafana */ SELECT timezone() FORMAT JSON;");
    assert_eq!(r.format.as_deref(), Some("JSON"));
    let r = request(
        "SELECT * FROM t SETTINGS additional_table_filters={'t' : 'x > 1'}, max_threads = 2 FORMAT JSON",
    );
    assert_eq!(r.format.as_deref(), Some("JSON"));
    assert_eq!(
        r.settings,
        vec![
            (
                "additional_table_filters".to_string(),
                "{'t' : 'x > 1'}".to_string()
            ),
            ("max_threads".to_string(), "2".to_string())
        ]
    );
    let r = request("SELECT 'FORMAT JSON' AS format");
    assert_eq!(r.format, None);
    assert!(!has_format_clause(b"SELECT 1"));
    assert!(has_format_clause(b"SELECT 1 \nFORMAT JSON"));
}

#[test]
fn inserts_split_statement_from_rows() {
    let text = b"INSERT INTO `t` (`a`, `b`) FORMAT Native\n\x01\x02'\xff";
    let r = parse(text, &[]).unwrap();
    assert_eq!(r.format.as_deref(), Some("Native"));
    assert_eq!(r.rows, Some(&b"\x01\x02'\xff"[..]));
    assert_eq!(
        r.statement,
        Statement::InsertRows {
            table: "t".into(),
            columns: Some(vec!["a".into(), "b".into()])
        }
    );
    let r = parse(b"INSERT INTO default.t FORMAT JSONEachRow {\"a\":1}", &[]).unwrap();
    assert_eq!(r.rows, Some(&b"{\"a\":1}"[..]));
    assert!(has_format_clause(b"insert into t format TSV\n1\n"));
    // Standard inserts stay SQL.
    let r = request("INSERT INTO t VALUES (1)");
    assert!(matches!(r.statement, Statement::InsertValues { .. }));
    let r = request("INSERT INTO t VALUES ('a\\tb')");
    assert!(matches!(r.statement, Statement::Dml { .. }));
}

#[test]
fn clickhouse_statements_parse() {
    assert_eq!(
        request("SHOW DATABASES").statement,
        Statement::ShowDatabases
    );
    assert_eq!(
        request("SHOW TABLES FROM \"default\"").statement,
        Statement::ShowTableNames {
            database: "default".into()
        }
    );
    assert_eq!(
        request("DESC TABLE \"default\".\"t\"").statement,
        Statement::DescribeColumns { table: "t".into() }
    );
    assert_eq!(
        request("DESCRIBE TABLE `t`\n FORMAT Native").statement,
        Statement::DescribeColumns { table: "t".into() }
    );
    assert_eq!(
        request("EXISTS TABLE t").statement,
        Statement::ExistsTable { table: "t".into() }
    );
    assert!(matches!(
        request("SELECT name FROM system.tables").statement,
        Statement::Query(p) if p.tables == ["system.tables"]
    ));
    assert!(parse(b"SHOW DATABASES extra", &[]).is_err());
}

#[test]
fn results_take_clickhouse_shapes() {
    let Statement::Query(p) = request("SELECT 1, count() AS c, -2 FROM t").statement else {
        panic!("not a query")
    };
    let sql = p.ast.to_string();
    assert!(
        sql.contains("CAST(1 AS TINYINT UNSIGNED) AS \"1\""),
        "{sql}"
    );
    assert!(
        sql.contains("CAST(count() AS BIGINT UNSIGNED) AS c"),
        "{sql}"
    );
    assert!(sql.contains("CAST(-2 AS TINYINT) AS \"-2\""), "{sql}");
    // Comparisons and logical operators are UInt8, named as written; a Bool stays Bool.
    let Statement::Query(p) =
        request("SELECT a > 1, a IS NULL AND b, true, a + 1 FROM t").statement
    else {
        panic!("not a query")
    };
    let sql = p.ast.to_string();
    assert!(
        sql.contains("CAST(a > 1 AS TINYINT UNSIGNED) AS \"a > 1\""),
        "{sql}"
    );
    assert!(
        sql.contains("CAST(a IS NULL AND b AS TINYINT UNSIGNED)"),
        "{sql}"
    );
    assert!(sql.contains("true AS \"true\""), "{sql}");
    assert!(sql.contains("a + 1 AS \"a + 1\""), "{sql}");
    // Backslash escapes are ClickHouse's.
    let Statement::Query(p) = request("SELECT 'a\\tb' AS s").statement else {
        panic!("not a query")
    };
    assert!(p.ast.to_string().contains("a\tb"), "{}", p.ast);
}
