//! The SQL front end: one statement in, Arrow batches out.
//!
//! ```text
//! SQL text ─► statement::parse ─► statement::kind ─┬─► ddl::execute          (CREATE/DROP/ALTER/SHOW/DESCRIBE)
//!                                                  └─► rewrite ─► DataFusion (SELECT/INSERT/UPDATE/DELETE/EXPLAIN)
//! ```
//!
//! [`QueryService`] owns the limits: read-only access for `GET`, the query timeout, and the row
//! cap of results that will be rendered as JSON.

pub mod analyzer;
pub mod ddl;
pub mod rewrite;
pub mod session;
pub mod statement;
pub mod time_travel;
pub mod udf;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use futures::StreamExt;
use strata_tiers::Tiers;

use crate::error::{Error, Result};
use statement::{DmlKind, Kind};

/// A statement's result: a schema and its rows.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// Result columns.
    pub schema: SchemaRef,
    /// Result rows.
    pub batches: Vec<RecordBatch>,
}

impl QueryOutput {
    /// A result.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self { schema, batches }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Whether a request may change data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `GET /?query=`: SELECT, SHOW, DESCRIBE, EXPLAIN only.
    ReadOnly,
    /// `POST /`: anything.
    ReadWrite,
}

/// Limits applied to every statement.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Wall-clock limit; the statement is cancelled past it.
    pub timeout: Duration,
}

/// Plans and runs SQL against the tiers.
pub struct QueryService {
    tiers: Arc<Tiers>,
    ctx: SessionContext,
    limits: QueryLimits,
    executed: AtomicU64,
}

impl std::fmt::Debug for QueryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryService")
            .field("limits", &self.limits)
            .field("executed", &self.executed)
            .finish_non_exhaustive()
    }
}

impl QueryService {
    /// A service over `tiers`, running each query on up to `parallelism` threads.
    pub fn new(tiers: Arc<Tiers>, parallelism: usize, limits: QueryLimits) -> Self {
        let ctx = session::context(Arc::clone(&tiers), parallelism);
        Self {
            tiers,
            ctx,
            limits,
            executed: AtomicU64::new(0),
        }
    }

    /// Statements run since start.
    pub fn queries_executed(&self) -> u64 {
        self.executed.load(Ordering::Relaxed)
    }

    /// Runs one statement. `max_rows` caps the result size (for results rendered row by row);
    /// exceeding it fails the statement with 413 rather than exhausting memory.
    pub async fn run(
        &self,
        sql: &str,
        access: Access,
        max_rows: Option<usize>,
    ) -> Result<QueryOutput> {
        if let Some(command) = statement::command(sql) {
            let command = command?;
            if access == Access::ReadOnly && !command.is_read_only() {
                return Err(Error::MethodNotAllowed {
                    message: "GET SQL is read-only; use POST / for maintenance statements".into(),
                    allow: "POST",
                });
            }
            self.executed.fetch_add(1, Ordering::Relaxed);
            return ddl::run_command(&self.tiers, command).await;
        }
        let stmt = statement::parse(sql)?;
        let kind = statement::kind(&stmt)?;
        if access == Access::ReadOnly && kind != Kind::Read {
            return Err(Error::MethodNotAllowed {
                message: "GET SQL is read-only; use POST / for DML or DDL".into(),
                allow: "POST",
            });
        }
        self.executed.fetch_add(1, Ordering::Relaxed);
        let timeout = self.limits.timeout;
        tokio::time::timeout(timeout, self.execute(stmt, max_rows))
            .await
            .map_err(|_| Error::Timeout(timeout.as_millis() as u64))?
    }

    async fn execute(&self, stmt: Statement, max_rows: Option<usize>) -> Result<QueryOutput> {
        match &stmt {
            Statement::CreateTable(_)
            | Statement::Drop { .. }
            | Statement::AlterTable(_)
            | Statement::ShowTables { .. }
            | Statement::ExplainTable { .. }
            | Statement::Flush { .. } => ddl::execute(&self.tiers, &stmt).await,
            _ => self.execute_datafusion(stmt, max_rows).await,
        }
    }

    async fn execute_datafusion(
        &self,
        mut stmt: Statement,
        max_rows: Option<usize>,
    ) -> Result<QueryOutput> {
        rewrite::apply(&mut stmt);
        let dml = statement::dml_kind(&stmt);
        if matches!(stmt, Statement::Insert(_)) {
            // The rows' size is known only once the statement runs: refuse new rows while the
            // hot tier is at its budget and flushing cannot make room.
            self.tiers.reserve(0).await?;
        }
        let state = self.ctx.state();
        let stmt = DfStatement::Statement(Box::new(stmt));
        // Checked up front for the reference's clear message; table functions such as
        // generate_series(…) look like relations to the resolver.
        for table in state.resolve_table_references(&stmt)? {
            let name = table.table();
            let name = time_travel::versioned_name(name).map_or(name, |(base, _)| base);
            if !self.tiers.catalog().contains(name) && !state.table_functions().contains_key(name) {
                return Err(Error::UnknownTable(name.to_string()));
            }
        }
        let plan = state.statement_to_plan(stmt).await?;
        let frame = DataFrame::new(state, plan);
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let mut stream = frame.execute_stream().await?;
        let mut batches = Vec::new();
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows();
            if let Some(max) = max_rows.filter(|&m| rows > m) {
                return Err(Error::PayloadTooLarge(format!(
                    "Result has more than {max} rows (--max-result-rows); add a LIMIT or request Arrow (Accept: application/vnd.apache.arrow.stream)"
                )));
            }
            batches.push(batch);
        }
        let output = QueryOutput::new(schema, batches);
        match dml {
            Some(kind) => dml_count(output, kind),
            None => Ok(output),
        }
    }
}

/// DataFusion reports DML as one UInt64 `count`; the ZeptoDB API calls it `inserted`, `updated`
/// or `deleted`, as a signed integer.
fn dml_count(output: QueryOutput, kind: DmlKind) -> Result<QueryOutput> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        kind.column(),
        DataType::Int64,
        false,
    )]));
    let batches = output
        .batches
        .iter()
        .map(|b| {
            let count: ArrayRef = cast(b.column(0), &DataType::Int64)?;
            RecordBatch::try_new(Arc::clone(&schema), vec![count])
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(QueryOutput::new(schema, batches))
}
