//! Strata's integration tests: one binary, real `strata` processes on port 0, real HTTP.
//!
//! Each test starts its own server (fresh data, no shared state) and stops it when done.

mod common;

/// Array columns: both dialects' declarations, every format, refusals, the HDB and other readers.
mod arrays;
/// The ClickHouse HTTP protocol: formats, inserts, errors, credentials, Grafana, clickhouse-connect.
mod clickhouse;
/// DDL: CREATE/DROP/ALTER TABLE, SHOW TABLES, DESCRIBE, the quick-start table.
mod ddl;
/// INSERT (VALUES, SELECT), UPDATE, DELETE and their all-or-nothing behaviour.
mod dml;
/// Exactly-once visibility during ingest + flush, and no loss or duplicates across kill -9.
mod durability;
/// Bad input of every kind: statuses, bodies, nothing changed, server still up.
mod errors;
/// Result formats: ZeptoDB JSON types, Arrow IPC stream.
mod formats;
/// Time-series functions: xbar, vwap, first/last, EMA, DELTA, RATIO, epoch, date_trunc, stats.
mod functions;
/// Bounded fuzzing of SQL, Agent Memory JSON, Arrow IPC, methods, paths and headers.
mod fuzz;
/// /ping, /health, /ready, /whoami, request ids, unknown paths and methods, shutdown.
mod health;
/// POST /insert/arrow, and ingest racing queries.
mod ingest;
/// The `INSERT … VALUES` fast path: the same rows and refusals as DataFusion's plan.
mod insert_values;
/// kdb+'s joins (ASOF, AJ0, WINDOW, UNION, PLUS): hand-computed answers and DuckDB's.
mod joins;
/// The HDB file layout: random queries answer as DuckDB's over flushes, OPTIMIZE, foreign files.
mod layout;
/// Map columns: declarations, literals, every format, refusals, the HDB and other readers.
mod maps;
/// Agent Memory kept in memory: endpoints, ranking, context, prompt cache, eviction, tenants.
mod memory;
/// Agent Memory persisted in Lance datasets + WAL: restarts, kill -9, pylance, S3, ANN.
mod memory_persist;
/// Third-party Delta readers (deltalake, pyarrow, DuckDB) see what Strata returns.
mod readers;
/// The HTTP edge in process: error shapes, 404/405/413, tenant header, body limit.
mod router;
/// Tiered storage on LocalStack S3.
mod s3;
/// Authentication and authorization: keys, JWTs, roles, scope, limits, audit, kill.
mod security;
/// SELECT: filters, joins, CTEs, subqueries, window functions, time predicates.
mod select;
/// /stats and /metrics; what each query read, in each protocol.
mod stats;
/// Tiered storage on a local directory: restarts, crashes, flushes, both tiers in one query.
mod tiered;
/// VERSION AS OF, TIMESTAMP AS OF, DESCRIBE HISTORY.
mod time_travel;
