//! SQL over HTTP: `POST /` (statement in the body) and `GET /?query=` (reads only), answered in
//! the ZeptoDB JSON shape or as an Arrow IPC stream; a request with ClickHouse's markers
//! (`super::clickhouse::request`, or a `FORMAT` clause the front end finds) is handed to the
//! ClickHouse edge instead. Request bodies may be compressed (`Content-Encoding`).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::clickhouse::exception::Exception;
use super::clickhouse::handler::{self as clickhouse, Call};
use super::clickhouse::request::{self as marks, Pairs};
use super::clickhouse::{blocks, compression};
use super::error::{ApiError, SqlError};
use super::extract::LimitedBody;
use super::paths;
use super::response::ok_json;
use crate::auth::Caller;
use crate::format::{self, ARROW_STREAM_MEDIA_TYPE, ResultFormat};
use crate::http::state::{AppState, HttpLimits};
use crate::ingest::max_decoded_bytes;
use crate::sql::parser::clickhouse::has_format_clause;
use crate::sql::{Access, Bounds, Limit, QueryService};

/// Debug aid the reference sets on Arrow responses and Arrow ingest replies (`arrow-stream`).
pub const X_ZEPTO_FORMAT: HeaderName = HeaderName::from_static("x-zepto-format");

/// What the SQL routes use.
#[derive(Debug, Clone)]
struct SqlState {
    queries: Arc<QueryService>,
    limits: HttpLimits,
    sessions: Arc<super::clickhouse::sessions::Sessions>,
}

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::ROOT, get(get_sql).post(post_sql))
        .with_state(SqlState {
            queries: Arc::clone(&state.queries),
            limits: state.limits,
            sessions: Arc::default(),
        })
}

impl axum::extract::FromRef<SqlState> for HttpLimits {
    fn from_ref(state: &SqlState) -> Self {
        state.limits
    }
}

/// URL parameters of the SQL endpoints.
#[derive(Debug, Default)]
struct SqlParams {
    /// The statement (`GET`), or the statement when the `POST` body is empty.
    query: Option<String>,
    /// `Arrow` / `ArrowStream` select Arrow output.
    default_format: Option<String>,
    /// `arrow` selects Arrow output.
    format: Option<String>,
}

impl SqlParams {
    fn from_pairs(pairs: &Pairs) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        SqlParams {
            query: get("query"),
            default_format: get("default_format"),
            format: get("format"),
        }
    }
}

/// `GET /` without a query: a liveness answer.
#[derive(Serialize)]
struct Banner {
    status: &'static str,
    engine: &'static str,
}

async fn post_sql(
    State(state): State<SqlState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Result<LimitedBody, ApiError>,
) -> Result<Response, SqlError> {
    let started = Instant::now();
    let pairs = marks::pairs(raw.as_deref());
    let marked = marks::is_clickhouse(&headers, &pairs, state.limits.default_protocol);
    let body = match body {
        Ok(LimitedBody(body)) => body,
        Err(e) if marked => return Ok(Exception::from(e).response()),
        Err(e) => return Err(e.into()),
    };
    let limit = max_decoded_bytes(state.limits.max_request_bytes);
    let ch_params = marks::Params::from_pairs(&pairs);
    let body = match compression::decode_body(&headers, body, limit) {
        Ok(body) if ch_params.decompress_body => {
            blocks::decode(&body, limit).map(bytes::Bytes::from)
        }
        decoded => decoded,
    };
    let body = match body {
        Ok(body) => body,
        // Compressed bodies are ClickHouse's: answer in its terms.
        Err(e) => return Ok(Exception::from(&e).response()),
    };
    let params = SqlParams::from_pairs(&pairs);
    let format_clause = has_format_clause(&body)
        || params
            .query
            .as_deref()
            .is_some_and(|q| has_format_clause(q.as_bytes()));
    if marked || format_clause {
        let call = Call {
            caller: &caller,
            read_only: false,
            params: ch_params,
            headers: &headers,
            body,
            max_decoded_bytes: limit,
            sessions: &state.sessions,
        };
        return Ok(clickhouse::answer(&state.queries, call).await);
    }
    let text = LimitedBody(body);
    let text = text.text()?;
    let sql = if text.trim().is_empty() {
        params.query.as_deref().unwrap_or_default()
    } else {
        text
    };
    let format = negotiate(&headers, &params);
    run(&state, sql, &caller, Access::ReadWrite, format, started).await
}

async fn get_sql(
    State(state): State<SqlState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, SqlError> {
    let started = Instant::now();
    let pairs = marks::pairs(raw.as_deref());
    let params = SqlParams::from_pairs(&pairs);
    let format_clause = params
        .query
        .as_deref()
        .is_some_and(|q| has_format_clause(q.as_bytes()));
    if marks::is_clickhouse(&headers, &pairs, state.limits.default_protocol) || format_clause {
        let call = Call {
            caller: &caller,
            read_only: true,
            params: marks::Params::from_pairs(&pairs),
            headers: &headers,
            body: bytes::Bytes::new(),
            max_decoded_bytes: max_decoded_bytes(state.limits.max_request_bytes),
            sessions: &state.sessions,
        };
        return Ok(clickhouse::answer(&state.queries, call).await);
    }
    let Some(sql) = params.query.as_deref().filter(|q| !q.trim().is_empty()) else {
        return Ok(ok_json(Banner {
            status: "ok",
            engine: "Strata",
        }));
    };
    let format = negotiate(&headers, &params);
    run(&state, sql, &caller, Access::ReadOnly, format, started).await
}

async fn run(
    state: &SqlState,
    sql: &str,
    caller: &Caller,
    access: Access,
    format: ResultFormat,
    started: Instant,
) -> Result<Response, SqlError> {
    let max_rows = match format {
        ResultFormat::ZeptoJson => Some(state.limits.max_result_rows)
            .filter(|&n| n > 0)
            .map(|n| Limit::new(n, "--max-result-rows")),
        ResultFormat::ArrowStream => None,
    };
    let bounds = Bounds {
        max_rows,
        ..Bounds::default()
    };
    let output = state.queries.run(sql, caller, access, bounds).await?;
    let elapsed_us = started.elapsed().as_secs_f64() * 1e6;
    Ok(match format {
        ResultFormat::ZeptoJson => (
            [(CONTENT_TYPE, "application/json")],
            format::json::encode(&output, elapsed_us)?,
        )
            .into_response(),
        ResultFormat::ArrowStream => (
            [
                (CONTENT_TYPE, ARROW_STREAM_MEDIA_TYPE),
                (X_ZEPTO_FORMAT, "arrow-stream"),
            ],
            format::arrow_ipc::encode(&output)?,
        )
            .into_response(),
    })
}

/// The format a request asks for: Arrow by `Accept`, `?default_format=Arrow|ArrowStream` or
/// `?format=arrow`; otherwise the ZeptoDB JSON.
fn negotiate(headers: &HeaderMap, params: &SqlParams) -> ResultFormat {
    if wants_arrow(
        headers,
        params.default_format.as_deref(),
        params.format.as_deref(),
    ) {
        ResultFormat::ArrowStream
    } else {
        ResultFormat::ZeptoJson
    }
}

/// Whether a request asks for the ZeptoDB API's Arrow stream (a ZeptoDB marker, too).
pub fn wants_arrow(
    headers: &HeaderMap,
    default_format: Option<&str>,
    format: Option<&str>,
) -> bool {
    let accept_arrow = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(ARROW_STREAM_MEDIA_TYPE));
    let param_arrow = default_format
        .is_some_and(|f| f.eq_ignore_ascii_case("arrow") || f.eq_ignore_ascii_case("arrowstream"))
        || format.is_some_and(|f| f.eq_ignore_ascii_case("arrow"));
    accept_arrow || param_arrow
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(default_format: Option<&str>, format: Option<&str>) -> SqlParams {
        SqlParams {
            query: None,
            default_format: default_format.map(str::to_string),
            format: format.map(str::to_string),
        }
    }

    #[test]
    fn negotiation() {
        let none = HeaderMap::new();
        for (params, want) in [
            (with(None, None), ResultFormat::ZeptoJson),
            (with(Some("ArrowStream"), None), ResultFormat::ArrowStream),
            (with(Some("arrow"), None), ResultFormat::ArrowStream),
            (with(None, Some("arrow")), ResultFormat::ArrowStream),
            (with(Some("JSON"), None), ResultFormat::ZeptoJson),
        ] {
            assert_eq!(negotiate(&none, &params), want);
        }
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static(ARROW_STREAM_MEDIA_TYPE));
        assert_eq!(negotiate(&h, &with(None, None)), ResultFormat::ArrowStream);
    }
}
