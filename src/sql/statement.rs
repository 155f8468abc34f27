//! [`Statement`]: one request's SQL as the front end understands it.
//!
//! Every statement Strata runs is one variant here, standard SQL and Strata's own alike, and
//! each answers the two questions authorization, the statement router and the ClickHouse dialect
//! ask: its [`Class`] (read / write / admin) and every table it touches
//! ([`Statement::tables`]). [`super::parser`] builds them; nothing else looks at the raw text.

use std::fmt;

use datafusion::sql::sqlparser::ast;

/// What a statement does, for permissions and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Reads only: SELECT, EXPLAIN, SHOW TABLES, DESCRIBE, DESCRIBE HISTORY.
    Read,
    /// Changes rows: INSERT, UPDATE, DELETE (and EXPLAIN ANALYZE of them).
    Write,
    /// Changes tables or their storage: CREATE, DROP, ALTER, SET TTL, FLUSH, OPTIMIZE, VACUUM.
    Admin,
}

impl Class {
    /// The class as a word (`read`, `write`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Read => "read",
            Class::Write => "write",
            Class::Admin => "admin",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name a DML statement reports its row count under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmlKind {
    /// `INSERT` → `inserted`.
    Insert,
    /// `UPDATE` → `updated`.
    Update,
    /// `DELETE` → `deleted`.
    Delete,
}

impl DmlKind {
    /// The result column name (as in the ZeptoDB reference).
    pub fn column(self) -> &'static str {
        match self {
            DmlKind::Insert => "inserted",
            DmlKind::Update => "updated",
            DmlKind::Delete => "deleted",
        }
    }
}

/// One statement, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// SELECT, VALUES, WITH …: planned by DataFusion.
    Query(Planned),
    /// INSERT, UPDATE, DELETE: planned by DataFusion; answers a row count.
    Dml {
        /// Which one.
        kind: DmlKind,
        /// The statement.
        planned: Planned,
    },
    /// EXPLAIN (or EXPLAIN ANALYZE) of a query or DML.
    Explain {
        /// Whether it runs the statement (EXPLAIN ANALYZE).
        analyze: bool,
        /// The class of the explained statement.
        inner: Class,
        /// The whole EXPLAIN.
        planned: Planned,
    },
    /// `CREATE TABLE name (columns) …`, read into the table it makes.
    CreateTable {
        /// The table.
        definition: Box<strata_catalog::TableDefinition>,
        /// Whether an existing table of that name is fine.
        if_not_exists: bool,
    },
    /// `DROP TABLE [IF EXISTS] a[, b]`.
    DropTables {
        /// The tables.
        names: Vec<String>,
        /// Whether missing tables are fine.
        if_exists: bool,
    },
    /// `ALTER TABLE name ADD|DROP COLUMN …`.
    AlterTable {
        /// The table.
        name: String,
        /// `ALTER TABLE IF EXISTS`.
        if_exists: bool,
        /// The operations, in order.
        operations: Vec<ast::AlterTableOperation>,
    },
    /// `ALTER TABLE name SET TTL n DAYS|HOURS` (0: keep forever).
    SetTtl {
        /// The table.
        table: String,
        /// Rows older than this many nanoseconds expire (0: never).
        ttl_nanos: i64,
    },
    /// `SHOW TABLES`.
    ShowTables,
    /// `DESCRIBE name`.
    Describe {
        /// The table.
        table: String,
    },
    /// `SHOW DATABASES` (ClickHouse): `default` and `system`.
    ShowDatabases,
    /// `SET name = value, …` (ClickHouse): settings for the rest of the client's session, which
    /// the ClickHouse edge keeps. It reads and changes nothing.
    SetSettings {
        /// The settings assigned, values as text.
        settings: Vec<(String, String)>,
    },
    /// `SHOW TABLES [FROM db]` as ClickHouse answers it: the names in one database.
    ShowTableNames {
        /// The database (`default`, or `system`).
        database: String,
    },
    /// `SHOW CREATE TABLE name` (ClickHouse): the table's definition as a statement.
    ShowCreateTable {
        /// The table.
        table: String,
    },
    /// `EXISTS [TABLE] name` (ClickHouse): 1 or 0.
    ExistsTable {
        /// The table.
        table: String,
    },
    /// `DESCRIBE [TABLE] name` as ClickHouse answers it: name, ClickHouse type and the five
    /// further columns its clients read.
    DescribeColumns {
        /// The table.
        table: String,
    },
    /// `INSERT INTO name [(columns)] VALUES (…), …` of plain literals, read by the front end's
    /// fast path (`parser::values`) and appended without DataFusion planning; any other
    /// `INSERT` is a [`Statement::Dml`].
    InsertValues {
        /// The table.
        table: String,
        /// The columns the rows hold, in order (all the table's when absent).
        columns: Option<Vec<String>>,
        /// The rows.
        rows: super::insert_values::ValueRows,
    },
    /// `INSERT INTO name [(columns)] FORMAT X` followed by rows in format X (ClickHouse).
    InsertRows {
        /// The table.
        table: String,
        /// The columns the rows hold, in order (all the table's when absent).
        columns: Option<Vec<String>>,
    },
    /// `DESCRIBE HISTORY name`: the table's Delta commits.
    DescribeHistory {
        /// The table.
        table: String,
    },
    /// `FLUSH TABLE a[, b]`: hot rows to the HDB now.
    Flush {
        /// The tables.
        tables: Vec<String>,
    },
    /// `OPTIMIZE [TABLE] name`: compact the HDB files.
    Optimize {
        /// The table.
        table: String,
    },
    /// `VACUUM [TABLE] name [RETAIN n HOURS]`: delete unreferenced HDB files.
    Vacuum {
        /// The table.
        table: String,
        /// Files younger than this many hours stay (default: a week).
        retain_hours: Option<u64>,
    },
}

/// A statement DataFusion plans, with the tables it touches (CTE names excluded, time-travel
/// names as their table).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The parsed statement.
    pub ast: Box<ast::Statement>,
    /// Every table it reads or writes, sorted, each once.
    pub tables: Vec<String>,
}

impl Statement {
    /// The statement DataFusion plans, for the standard statements.
    pub(crate) fn planned_mut(&mut self) -> Option<&mut Planned> {
        match self {
            Statement::Query(p) | Statement::Dml { planned: p, .. } => Some(p),
            Statement::Explain { planned, .. } => Some(planned),
            _ => None,
        }
    }

    /// What the statement does.
    pub fn class(&self) -> Class {
        match self {
            Statement::Query(_)
            | Statement::ShowTables
            | Statement::ShowDatabases
            | Statement::SetSettings { .. }
            | Statement::ShowTableNames { .. }
            | Statement::ShowCreateTable { .. }
            | Statement::ExistsTable { .. }
            | Statement::Describe { .. }
            | Statement::DescribeColumns { .. }
            | Statement::DescribeHistory { .. } => Class::Read,
            // EXPLAIN ANALYZE runs its statement; plain EXPLAIN only plans it.
            Statement::Explain { analyze, inner, .. } => {
                if *analyze {
                    *inner
                } else {
                    Class::Read
                }
            }
            Statement::Dml { .. }
            | Statement::InsertValues { .. }
            | Statement::InsertRows { .. } => Class::Write,
            Statement::CreateTable { .. }
            | Statement::DropTables { .. }
            | Statement::AlterTable { .. }
            | Statement::SetTtl { .. }
            | Statement::Flush { .. }
            | Statement::Optimize { .. }
            | Statement::Vacuum { .. } => Class::Admin,
        }
    }

    /// Every table the statement touches, sorted, each once. `SHOW TABLES` touches none (it
    /// lists the tables the caller may see), nor `SHOW DATABASES`.
    pub fn tables(&self) -> Vec<String> {
        let mut tables = match self {
            Statement::Query(p) | Statement::Dml { planned: p, .. } => p.tables.clone(),
            Statement::Explain { planned, .. } => planned.tables.clone(),
            Statement::CreateTable { definition, .. } => vec![definition.name().to_string()],
            Statement::DropTables { names, .. } => names.clone(),
            Statement::Flush { tables } => tables.clone(),
            Statement::ShowTables
            | Statement::ShowDatabases
            | Statement::SetSettings { .. }
            | Statement::ShowTableNames { .. } => Vec::new(),
            Statement::AlterTable { name: table, .. }
            | Statement::SetTtl { table, .. }
            | Statement::Describe { table }
            | Statement::DescribeColumns { table }
            | Statement::ShowCreateTable { table }
            | Statement::ExistsTable { table }
            | Statement::InsertRows { table, .. }
            | Statement::InsertValues { table, .. }
            | Statement::DescribeHistory { table }
            | Statement::Optimize { table }
            | Statement::Vacuum { table, .. } => vec![table.clone()],
        };
        tables.sort();
        tables.dedup();
        tables
    }

    /// The statement's name for messages and logs (`SELECT`, `DROP TABLE`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Statement::Query(_) => "SELECT",
            Statement::Dml {
                kind: DmlKind::Insert,
                ..
            } => "INSERT",
            Statement::Dml {
                kind: DmlKind::Update,
                ..
            } => "UPDATE",
            Statement::Dml {
                kind: DmlKind::Delete,
                ..
            } => "DELETE",
            Statement::Explain { .. } => "EXPLAIN",
            Statement::CreateTable { .. } => "CREATE TABLE",
            Statement::DropTables { .. } => "DROP TABLE",
            Statement::AlterTable { .. } => "ALTER TABLE",
            Statement::SetTtl { .. } => "ALTER TABLE … SET TTL",
            Statement::ShowTables | Statement::ShowTableNames { .. } => "SHOW TABLES",
            Statement::ShowDatabases => "SHOW DATABASES",
            Statement::SetSettings { .. } => "SET",
            Statement::ShowCreateTable { .. } => "SHOW CREATE TABLE",
            Statement::ExistsTable { .. } => "EXISTS",
            Statement::DescribeColumns { .. } => "DESCRIBE",
            Statement::InsertRows { .. } | Statement::InsertValues { .. } => "INSERT",
            Statement::Describe { .. } => "DESCRIBE",
            Statement::DescribeHistory { .. } => "DESCRIBE HISTORY",
            Statement::Flush { .. } => "FLUSH",
            Statement::Optimize { .. } => "OPTIMIZE",
            Statement::Vacuum { .. } => "VACUUM",
        }
    }
}
