//! SQL: one statement in, Arrow batches out.
//!
//! ```text
//! SQL text ─► parser::parse ─► Statement (class, tables) ─┬─► ddl / storage   (catalog and HDB statements)
//!                                                         └─► rewrite ─► DataFusion (SELECT/INSERT/UPDATE/DELETE/EXPLAIN)
//! ```
//!
//! [`QueryService`] owns what every statement passes whatever door it came in by: the caller's
//! authorization (statement class, touched tables, tenant, symbol scope) before anything looks
//! a table up; read-only requests; the query timeout; cancellation (`running`); and the row cap
//! of results that will be rendered row by row. It knows no protocol: its errors are
//! [`Error`]s, which each front door maps to its own statuses.

pub mod analyzer;
mod constant;
mod ddl;
pub mod error;
pub mod insert_values;
pub mod joins;
pub mod parser;
pub mod policy;
pub mod reads;
pub mod rewrite;
pub mod running;
pub mod runtime;
pub mod session;
pub mod statement;
mod storage;
pub mod system;
pub mod udf;
pub mod yield_points;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use futures::StreamExt;
use strata_tiers::Tiers;

pub use error::{Error, Result};
use running::RunningQueries;
use runtime::QueryRuntime;
use statement::{Class, DmlKind, Planned, Statement};

use crate::auth::{Caller, Permission};

/// A statement's result: a schema and its rows.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// Result columns.
    pub schema: SchemaRef,
    /// Result rows.
    pub batches: Vec<RecordBatch>,
    /// What its scans read (zero for statements that scan nothing).
    pub read: reads::ReadStats,
}

impl QueryOutput {
    /// A result.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self {
            schema,
            batches,
            read: reads::ReadStats::default(),
        }
    }

    /// This result, having read `read`.
    pub fn with_read(self, read: reads::ReadStats) -> Self {
        Self { read, ..self }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Whether a request may change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read statements only (SELECT, SHOW, DESCRIBE, EXPLAIN).
    ReadOnly,
    /// Any statement.
    ReadWrite,
}

/// Limits applied to every statement.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Wall-clock limit; the statement is cancelled past it.
    pub timeout: Duration,
}

/// A cap on one statement, and what set it (named in the error that reports it: a server
/// flag, or the request's own setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<T> {
    /// The cap.
    pub value: T,
    /// The flag or setting it comes from, e.g. `--max-result-rows` or `max_result_rows`.
    pub set_by: &'static str,
}

impl<T> Limit<T> {
    /// `value`, set by `set_by`.
    pub fn new(value: T, set_by: &'static str) -> Self {
        Limit { value, set_by }
    }
}

/// What one statement may cost, as its request asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Fail the statement when its result has more rows than this.
    pub max_rows: Option<Limit<usize>>,
    /// Stop it after this long; the server's own timeout still applies when shorter.
    pub timeout: Option<Limit<std::time::Duration>>,
    /// Past `max_rows`, answer the first `max_rows` rows instead of failing (ClickHouse's
    /// `result_overflow_mode = 'break'`).
    pub truncate: bool,
}

/// Where an append builds and logs its rows ([`QueryService::append_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// On the async worker serving the request: a few rows, cheaper than a thread hop.
    Small,
    /// On a blocking thread: work proportional to a large body.
    Large,
}

/// Plans and runs SQL against the tiers.
pub struct QueryService {
    tiers: Arc<Tiers>,
    ctx: SessionContext,
    limits: QueryLimits,
    executed: AtomicU64,
    running: Arc<RunningQueries>,
    runtime: QueryRuntime,
    /// Results of statements computed from literals alone ([`constant`]).
    constants: constant::ConstantResults,
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
    /// A service over `tiers`, running each query on up to `parallelism` threads of its own
    /// ([`QueryRuntime`]); fails only when those threads cannot be started.
    pub fn new(
        tiers: Arc<Tiers>,
        parallelism: usize,
        limits: QueryLimits,
    ) -> std::io::Result<Self> {
        let ctx = session::context(Arc::clone(&tiers), parallelism);
        Ok(Self {
            tiers,
            ctx,
            limits,
            executed: AtomicU64::new(0),
            running: Arc::new(RunningQueries::default()),
            runtime: QueryRuntime::new(parallelism)?,
            constants: constant::ConstantResults::default(),
        })
    }

    /// The statements running now.
    pub fn running(&self) -> &RunningQueries {
        &self.running
    }

    /// Statements run since start.
    pub fn queries_executed(&self) -> u64 {
        self.executed.load(Ordering::Relaxed)
    }

    /// Parses, authorizes and runs one statement for `caller`. With authentication on, text
    /// that does not parse cannot be classified and is refused as such (the reference's
    /// fail-closed rule); otherwise it is a parse error.
    pub async fn run(
        &self,
        sql: &str,
        caller: &Caller,
        access: Access,
        bounds: Bounds,
    ) -> Result<QueryOutput> {
        let statement = match parser::parse(sql) {
            Ok(statement) => statement,
            Err(e) if caller.is_authenticated() => {
                return Err(caller
                    .refuse(crate::auth::Error::Unclassified {
                        reason: e.to_string(),
                    })
                    .into());
            }
            Err(e) => return Err(e),
        };
        self.execute(statement, sql, caller, access, bounds).await
    }

    /// Authorizes and runs one parsed statement (`sql` is its text, for the running list).
    /// Checked in the reference's order: the statement class against the role, then
    /// read-only requests, then every touched table against the caller's scope, all before
    /// any table is looked up. `bounds` caps the result size (for results rendered row by
    /// row: exceeding it fails the statement rather than exhausting memory) and may shorten
    /// the server's query timeout.
    pub async fn execute(
        &self,
        statement: Statement,
        sql: &str,
        caller: &Caller,
        access: Access,
        bounds: Bounds,
    ) -> Result<QueryOutput> {
        let _slot = authorize(&statement, caller, access)?;
        self.executed.fetch_add(1, Ordering::Relaxed);
        let statement_class = statement.class();
        let tables = statement.tables();
        let name = statement.name();
        // Storage maintenance runs to completion: a timeout or a kill must not abandon a
        // rewrite of HDB files half-way (a flush of 100 M rows takes longer than the default
        // query timeout, and abandoning it would leave its written files for VACUUM).
        let interruptible = !matches!(
            statement,
            Statement::Flush { .. }
                | Statement::Optimize { .. }
                | Statement::Vacuum { .. }
                | Statement::SetTtl { .. }
                | Statement::DescribeHistory { .. }
        );
        let work = self.dispatch(statement, caller, bounds);
        let output = if interruptible {
            let mut registration = self.running.register(&caller.identity.subject, sql);
            let timeout = match bounds.timeout {
                Some(asked) if asked.value < self.limits.timeout => asked,
                _ => Limit::new(self.limits.timeout, "--query-timeout-ms"),
            };
            tokio::select! {
                biased;
                () = registration.cancelled() => Err(Error::Cancelled),
                done = tokio::time::timeout(timeout.value, work) => done.map_err(|_| Error::Timeout {
                    ms: timeout.value.as_millis() as u64,
                    set_by: timeout.set_by,
                })?,
            }
        } else {
            work.await
        };
        if statement_class == Class::Admin && output.is_ok() {
            caller.audit(format!("ddl: {name} {}", tables.join(", ")));
        }
        output
    }

    /// Authorizes an `INSERT … FORMAT` statement ([`Statement::InsertRows`]) as any other
    /// write, then appends the rows `decode` makes for the table's schema, all or none. The
    /// decoding runs off the I/O threads: it is CPU work proportional to the body.
    pub async fn insert_rows<F>(
        &self,
        statement: Statement,
        caller: &Caller,
        access: Access,
        decode: F,
    ) -> Result<u64>
    where
        F: FnOnce(&arrow::datatypes::SchemaRef, Option<&[String]>) -> Result<Vec<RecordBatch>>
            + Send
            + 'static,
    {
        let _slot = authorize(&statement, caller, access)?;
        let Statement::InsertRows { table, columns } = statement else {
            return Err(Error::Invalid("Not an INSERT … FORMAT statement".into()));
        };
        self.executed.fetch_add(1, Ordering::Relaxed);
        let name = table.clone();
        self.append_with(&name, Work::Large, move |handle| {
            let schema = handle.schema();
            if let Some(columns) = &columns
                && let Some(unknown) = columns.iter().find(|c| schema.index_of(c).is_err())
            {
                return Err(Error::Invalid(format!(
                    "Unknown column '{unknown}' in table '{table}'"
                )));
            }
            let batches = decode(&schema, columns.as_deref())?;
            crate::ingest::append_conformed(handle, &batches).map_err(Error::Tiers)
        })
        .await
    }

    /// Appends to `table` what `append` writes through its handle, once the hot tier has room,
    /// and answers once the rows are durable. A large write is built and logged on a blocking
    /// thread (CPU work proportional to the body); a small one right here, cheaper than the hop.
    /// Either way the WAL's group commit is awaited without holding a thread.
    async fn append_with<F>(&self, table: &str, work: Work, append: F) -> Result<u64>
    where
        F: FnOnce(&strata_tiers::TableHandle) -> Result<strata_tiers::Written> + Send + 'static,
    {
        let handle = self.tiers.table(table).map_err(Error::Tiers)?;
        self.tiers.reserve(0).await.map_err(Error::Tiers)?;
        let written = match work {
            Work::Small => append(&handle)?,
            Work::Large => tokio::task::spawn_blocking(move || append(&handle))
                .await
                .map_err(|e| Error::Invalid(format!("The insert did not finish: {e}")))??,
        };
        written.durable().await.map_err(Error::Tiers)
    }

    async fn dispatch(
        &self,
        statement: Statement,
        caller: &Caller,
        bounds: Bounds,
    ) -> Result<QueryOutput> {
        let tiers = self.tiers.as_ref();
        match statement {
            Statement::Query(planned) | Statement::Explain { planned, .. } => {
                self.datafusion(planned, None, caller, bounds).await
            }
            Statement::Dml { kind, planned } => {
                self.datafusion(planned, Some(kind), caller, bounds).await
            }
            Statement::CreateTable {
                definition,
                if_not_exists,
            } => ddl::create_table(tiers, *definition, if_not_exists).await,
            Statement::DropTables { names, if_exists } => {
                ddl::drop_tables(tiers, &names, if_exists).await
            }
            Statement::AlterTable {
                name,
                if_exists,
                operations,
            } => ddl::alter_table(tiers, &name, if_exists, &operations).await,
            Statement::ShowTables => ddl::show_tables(tiers, |t| caller.may_see(t)),
            Statement::ShowDatabases => ddl::show_databases(),
            Statement::SetSettings { .. } => Err(Error::Invalid(
                "SET changes the settings of a ClickHouse session: send it to the ClickHouse \
                 protocol with session_id"
                    .into(),
            )),
            Statement::ShowTableNames { database } => {
                ddl::show_table_names(tiers, &database, |t| caller.may_see(t))
            }
            Statement::ShowCreateTable { table } => ddl::show_create_table(tiers, &table),
            Statement::ExistsTable { table } => ddl::exists_table(tiers, &table),
            Statement::Describe { table } => ddl::describe(tiers, &table),
            Statement::DescribeColumns { table } => ddl::describe_columns(tiers, &table),
            Statement::InsertValues {
                table,
                columns,
                rows,
            } => self.insert_values(table, columns, rows).await,
            Statement::InsertRows { .. } => Err(Error::Invalid(
                "INSERT … FORMAT takes its rows after the statement, in the request body".into(),
            )),
            Statement::Flush { tables } => storage::flush(tiers, &tables).await,
            Statement::Optimize { table } => storage::optimize(tiers, &table).await,
            Statement::Vacuum {
                table,
                retain_hours,
            } => storage::vacuum(tiers, &table, retain_hours).await,
            Statement::SetTtl { table, ttl_nanos } => {
                storage::set_ttl(tiers, &table, ttl_nanos).await
            }
            Statement::DescribeHistory { table } => storage::describe_history(tiers, &table).await,
        }
    }

    /// Appends the rows of a plain-literal `INSERT … VALUES` ([`insert_values`]) without
    /// planning: the same checks and fitting as DataFusion's insert, in a fraction of its time.
    async fn insert_values(
        &self,
        table: String,
        columns: Option<Vec<String>>,
        rows: insert_values::ValueRows,
    ) -> Result<QueryOutput> {
        ddl::require_tables(&self.tiers, std::slice::from_ref(&table))?;
        let work = if rows.len() <= insert_values::INLINE_ROWS {
            Work::Small
        } else {
            Work::Large
        };
        let inserted = self
            .append_with(&table, work, move |handle| {
                insert_values::append(handle, columns.as_deref(), &rows)
            })
            .await?;
        insert_values::inserted(inserted)
    }

    async fn datafusion(
        &self,
        planned: Planned,
        dml: Option<DmlKind>,
        caller: &Caller,
        bounds: Bounds,
    ) -> Result<QueryOutput> {
        // Checked up front for the reference's clear message, before anything is planned.
        ddl::require_tables(&self.tiers, &planned.tables)?;
        if dml == Some(DmlKind::Insert) {
            // The rows' size is known only once the statement runs: refuse new rows while the
            // hot tier is at its budget and flushing cannot make room.
            self.tiers.reserve(0).await?;
        }
        // A statement of literals alone answers as it did the first time: only a complete
        // result is kept, and served when it fits the request's bounds.
        let constant = dml
            .is_none()
            .then(|| constant::ConstantResults::key(&planned.ast))
            .flatten();
        let fits = |rows: usize| bounds.max_rows.is_none_or(|max| rows <= max.value);
        if let Some(key) = &constant
            && let Some(output) = self.constants.get(key)
            && fits(output.rows())
        {
            return Ok(output);
        }
        // Past `max_rows` a statement fails unless it may be cut short: then the rows may be
        // only the first ones.
        let complete = !bounds.truncate;
        let mut ast = *planned.ast;
        parser::history::fold(&mut ast)?;
        rewrite::apply(&mut ast);
        // A symbol-scoped caller plans against tables under its row policy; one reading the
        // `system` database sees it as its scope allows.
        let system = if planned.tables.iter().any(|t| t.starts_with("system.")) {
            Some(system::schema(
                &self.tiers,
                |t| caller.may_see(t),
                session::function_names(&self.ctx),
            )?)
        } else {
            None
        };
        let state = session::state_for(
            &self.ctx,
            Arc::clone(&self.tiers),
            caller.symbols().map(|s| Arc::new(s.clone())),
            system,
        );
        // Planning and execution both run on the query threads: physical planning already
        // starts DataFusion's partition tasks, and they must not land on the server's runtime.
        let output = self
            .runtime
            .spawn(plan_and_collect(state, ast, bounds))
            .await
            .map_err(Error::QueryTask)??;
        if let Some(key) = constant
            && complete
        {
            self.constants.keep(key, &output);
        }
        match dml {
            Some(kind) => dml_count(output, kind),
            None => Ok(output),
        }
    }
}

/// Plans `ast` against `state` and collects its result within `bounds`.
async fn plan_and_collect(
    state: datafusion::execution::SessionState,
    ast: datafusion::sql::sqlparser::ast::Statement,
    bounds: Bounds,
) -> Result<QueryOutput> {
    let plan = state
        .statement_to_plan(DfStatement::Statement(Box::new(ast)))
        .await?;
    let frame = DataFrame::new(state, plan);
    let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let task = Arc::new(frame.task_ctx());
    let counter = Arc::new(reads::ReadCounter::default());
    let plan = reads::count(frame.create_physical_plan().await?, &counter)?;
    let mut stream = datafusion::physical_plan::execute_stream(plan, task)?;
    let mut batches = Vec::new();
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows();
        if let Some(max) = bounds.max_rows.filter(|m| rows > m.value) {
            if !bounds.truncate {
                return Err(Error::ResultTooLarge {
                    max: max.value,
                    set_by: max.set_by,
                });
            }
            let keep = batch.num_rows() - (rows - max.value);
            batches.push(batch.slice(0, keep));
            break;
        }
        batches.push(batch);
    }
    Ok(QueryOutput::new(schema, batches).with_read(counter.stats()))
}

/// Checks `statement` for `caller`, in the reference's order: the statement class against the
/// role, then read-only requests, then every touched table against the caller's scope, all
/// before any table is looked up. Returns the tenant's concurrency slot, held while it runs.
fn authorize(
    statement: &Statement,
    caller: &Caller,
    access: Access,
) -> Result<Option<crate::auth::tenants::TenantSlot>> {
    let class = statement.class();
    caller.require(permission(class), "SQL statement")?;
    if access == Access::ReadOnly && class != Class::Read {
        caller.audit("sql-get-mutation-forbidden");
        return Err(Error::ReadOnlyRequest { class });
    }
    let tables = statement.tables();
    caller.check_tables(tables.iter().map(String::as_str))?;
    if class != Class::Read {
        caller.require_unscoped_write()?;
    } else if caller.symbols().is_some() && matches!(statement, Statement::DescribeHistory { .. }) {
        // Commit metrics count every symbol's rows.
        return Err(caller
            .refuse(crate::auth::Error::SymbolScopeUnavailable)
            .into());
    }
    Ok(caller.tenant_slot()?)
}

/// The permission a statement class needs.
fn permission(class: Class) -> Permission {
    match class {
        Class::Read => Permission::Query,
        Class::Write => Permission::Ingest,
        Class::Admin => Permission::Admin,
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
        .map_err(Error::Output)?;
    Ok(QueryOutput::new(schema, batches).with_read(output.read))
}
