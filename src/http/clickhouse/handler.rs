//! One ClickHouse request, end to end: the SQL is the `query` parameter followed by the body;
//! the front end says what it is (its `FORMAT`, `SETTINGS` and, for an insert, where its rows
//! are); the same query service as every edge authorizes and runs it; the answer is encoded
//! in the asked format with ClickHouse's headers, or is ClickHouse's exception.
//!
//! The whole result is built before the status line is sent, so every failure gets its proper
//! status (what `wait_end_of_query=1` asks for, and what clickhouse-go needs: only 200 is
//! success).

use std::time::{Duration, Instant};

use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::compression::{self, Method};
use super::exception::Exception;
use super::output::{self, OutputFormat};
use super::request::Params;
use super::sessions::Sessions;
use super::settings::Settings;
use crate::auth::Caller;
use crate::format::clickhouse::json::Statistics;
use crate::format::clickhouse::{canonical_name, input};
use crate::sql::parser::clickhouse as front;
use crate::sql::reads::ReadStats;
use crate::sql::statement::{Class, Statement};
use crate::sql::system::{DATABASE, DEFAULT_DATABASE};
use crate::sql::{Access, QueryOutput, QueryService};

/// The time zone Strata reports: results are in UTC.
pub const TIMEZONE: &str = "UTC";

const QUERY_ID: HeaderName = HeaderName::from_static("x-clickhouse-query-id");
const FORMAT: HeaderName = HeaderName::from_static("x-clickhouse-format");
const TZ: HeaderName = HeaderName::from_static("x-clickhouse-timezone");
const SUMMARY: HeaderName = HeaderName::from_static("x-clickhouse-summary");
const PROGRESS: HeaderName = HeaderName::from_static("x-clickhouse-progress");
const DISPLAY_NAME: HeaderName = HeaderName::from_static("x-clickhouse-server-display-name");

/// What a request is: the parts the handler needs, extracted by the route.
#[derive(Debug)]
pub struct Call<'a> {
    /// The caller the authentication admitted.
    pub caller: &'a Caller,
    /// `GET`: read-only.
    pub read_only: bool,
    /// The URL parameters.
    pub params: Params,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The body, decompressed.
    pub body: Bytes,
    /// The most bytes the rows of an `INSERT … FORMAT` may decode to: a bound on what a small
    /// compressed or columnar body can expand into in memory.
    pub max_decoded_bytes: u64,
    /// The server's sessions (`session_id`).
    pub sessions: &'a Sessions,
}

/// A successful answer.
struct Answer {
    body: Vec<u8>,
    /// Set for statements that return a result set.
    format: Option<(String, &'static str)>,
    written_rows: u64,
    result_rows: u64,
    read: ReadStats,
    /// Send `X-ClickHouse-Progress` if the statement ran at least this long.
    progress: Option<Duration>,
}

impl Answer {
    /// The answer of a statement that returns no result set.
    fn done(body: &[u8], written_rows: u64) -> Self {
        Answer {
            body: body.to_vec(),
            format: None,
            written_rows,
            result_rows: 0,
            read: ReadStats::default(),
            progress: None,
        }
    }
}

/// Answers `call`.
pub async fn answer(queries: &QueryService, call: Call<'_>) -> Response {
    let started = Instant::now();
    let query_id = call.params.query_id.clone().unwrap_or_else(new_query_id);
    let compression = compression::response_method(call.headers, call.params.compress_response);
    let cors = call.params.cors;
    let blocks = call.params.compress_blocks;
    let result = run(queries, &call, started).await;
    let mut response = match result {
        Ok(answer) => ok(answer, blocks, compression, started),
        // With `compress=1` ClickHouse writes its exception into the compressed stream too.
        Err(exception) => {
            match blocks.map(|codec| super::blocks::encode(exception.body().as_bytes(), codec)) {
                Some(Ok(packed)) => exception.response_with_body(packed),
                Some(Err(e)) => Exception::internal(&e).response(),
                None => exception.response(),
            }
        }
    };
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&query_id) {
        headers.insert(QUERY_ID, id);
    }
    headers.insert(TZ, HeaderValue::from_static(TIMEZONE));
    headers.insert(DISPLAY_NAME, HeaderValue::from_static("strata"));
    headers.insert(
        HeaderName::from_static("keep-alive"),
        HeaderValue::from_static("timeout=10"),
    );
    if cors {
        headers.insert(
            axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    response
}

async fn run(
    queries: &QueryService,
    call: &Call<'_>,
    started: Instant,
) -> Result<Answer, Exception> {
    let text = assemble(call.params.query.as_deref(), &call.body);
    if text.iter().all(u8::is_ascii_whitespace) {
        return if call.read_only {
            Ok(Answer::done(b"Ok.\n", 0))
        } else {
            Err(crate::sql::Error::Empty.into())
        };
    }
    if let Some(db) = &call.params.database
        && db != DEFAULT_DATABASE
        && db != DATABASE
    {
        return Err(crate::sql::Error::UnknownDatabase { name: db.clone() }.into());
    }
    let request = match front::parse(&text, &call.params.bound) {
        Ok(request) => request,
        // With authentication on, text that does not parse cannot be authorized.
        Err(e) if call.caller.is_authenticated() => {
            return Err(crate::sql::Error::Denied(call.caller.refuse(
                crate::auth::Error::Unclassified {
                    reason: e.to_string(),
                },
            ))
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    // Held to the end of the request: the session serves one request at a time.
    let session = match &call.params.session {
        Some(params) => Some(call.sessions.hold(params, &call.caller.identity.subject)?),
        None => None,
    };
    let session_settings = session.as_ref().map(|s| s.settings()).unwrap_or_default();
    if let Statement::SetSettings { settings: assigned } = &request.statement {
        // Checked now, so a bad value fails the SET rather than every later statement.
        Settings::new(assigned, &call.params.settings, &session_settings).bounds()?;
        if let Some(session) = &session {
            session.set(assigned);
            tracing::debug!(session = session.id(), settings = ?assigned, "SET");
        }
        return Ok(Answer::done(b"", 0));
    }
    let settings = Settings::new(&request.settings, &call.params.settings, &session_settings);
    let read_only = call.read_only || settings.read_only();
    let bounds = settings.bounds()?;
    let progress = settings.progress_interval()?;
    let access = if read_only {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    if let Statement::InsertRows { .. } = &request.statement {
        let format = request.format.clone().unwrap_or_default();
        let rows = Bytes::copy_from_slice(request.rows.unwrap_or_default());
        let max_decoded = call.max_decoded_bytes;
        let written = queries
            .insert_rows(
                request.statement,
                call.caller,
                access,
                move |schema, columns| {
                    input::decode(&format, &rows, schema, columns, max_decoded)
                        .map_err(|e| crate::sql::Error::Rows(e.to_string()))
                },
            )
            .await?;
        return Ok(Answer {
            progress,
            ..Answer::done(b"", written)
        });
    }
    let name = request
        .format
        .or_else(|| call.params.default_format.clone())
        .unwrap_or_else(|| "TabSeparated".into());
    let format = OutputFormat::parse(&name).ok_or_else(|| {
        Exception::new(
            73,
            "UNKNOWN_FORMAT",
            format!(
                "Unknown output format {name} (supported: {})",
                output::SUPPORTED
            ),
        )
    })?;
    let class = request.statement.class();
    let is_dml = matches!(
        request.statement,
        Statement::Dml { .. } | Statement::InsertValues { .. }
    );
    let sql = String::from_utf8_lossy(&text[..text.len().min(4096)]).into_owned();
    let output = queries
        .execute(request.statement, &sql, call.caller, access, bounds)
        .await?;
    if class != Class::Read {
        return Ok(Answer {
            read: output.read,
            progress,
            ..Answer::done(b"", if is_dml { dml_rows(&output) } else { 0 })
        });
    }
    let statistics = Statistics {
        elapsed_secs: started.elapsed().as_secs_f64(),
        rows_read: output.read.rows,
        bytes_read: output.read.bytes,
    };
    let body = output::encode(format, call.params.protocol, &output, statistics)?;
    Ok(Answer {
        body,
        format: Some((
            canonical_name(&name).map_or(name, str::to_string),
            format.content_type(),
        )),
        written_rows: 0,
        result_rows: output.rows() as u64,
        read: output.read,
        progress,
    })
}

/// The `query` parameter, then the body, a line break between them.
fn assemble(query: Option<&str>, body: &Bytes) -> Vec<u8> {
    match query.filter(|q| !q.is_empty()) {
        None => body.to_vec(),
        Some(q) if body.is_empty() => q.as_bytes().to_vec(),
        Some(q) => {
            let mut text = Vec::with_capacity(q.len() + 1 + body.len());
            text.extend_from_slice(q.as_bytes());
            text.push(b'\n');
            text.extend_from_slice(body);
            text
        }
    }
}

/// The row count a DML statement reports.
fn dml_rows(output: &QueryOutput) -> u64 {
    output
        .batches
        .iter()
        .filter_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .map(|a| a.values().iter().map(|&v| v.max(0) as u64).sum::<u64>())
        })
        .sum()
}

fn ok(
    mut answer: Answer,
    blocks: Option<super::blocks::Codec>,
    compression: Option<Method>,
    started: Instant,
) -> Response {
    let elapsed = started.elapsed();
    // Every figure a string, as ClickHouse writes them.
    let summary = serde_json::json!({
        "read_rows": answer.read.rows.to_string(),
        "read_bytes": answer.read.bytes.to_string(),
        "written_rows": answer.written_rows.to_string(),
        "written_bytes": "0",
        "total_rows_to_read": answer.read.rows.to_string(),
        "result_rows": answer.result_rows.to_string(),
        "result_bytes": answer.body.len().to_string(),
        "elapsed_ns": elapsed.as_nanos().to_string(),
    });
    if let Some(codec) = blocks.filter(|_| !answer.body.is_empty()) {
        match super::blocks::encode(&answer.body, codec) {
            Ok(packed) => answer.body = packed,
            Err(e) => return Exception::internal(&e).response(),
        }
    }
    let (body, encoding) = match compression {
        Some(method) if !answer.body.is_empty() => {
            match compression::compress(method, &answer.body) {
                Ok(packed) => (packed, Some(method)),
                Err(e) => return Exception::internal(&e).response(),
            }
        }
        _ => (answer.body, None),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&summary.to_string()) {
        // ClickHouse sends a progress header each time the interval passes while a query
        // runs. The figures here are known only at its end, so a statement that ran at least
        // one interval gets one header, with its final figures.
        if answer.progress.is_some_and(|every| elapsed >= every) {
            headers.insert(PROGRESS, v.clone());
        }
        headers.insert(SUMMARY, v);
    }
    match &answer.format {
        Some((name, content_type)) => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            if let Ok(v) = HeaderValue::from_str(name) {
                headers.insert(FORMAT, v);
            }
        }
        None => {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=UTF-8"),
            );
        }
    }
    if let Some(method) = encoding {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(method.name()));
    }
    response
}

/// A random UUID (version 4), as ClickHouse generates query ids.
fn new_query_id() -> String {
    let mut b = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        return format!(
            "{:032x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
