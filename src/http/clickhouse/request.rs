//! What makes a request a ClickHouse one, and the URL parameters this edge reads.
//!
//! Recognition (DESIGN.md, API decisions) is by protocol markers: `X-ClickHouse-*` headers,
//! HTTP Basic credentials, the URL parameters only ClickHouse clients send (`database`,
//! `query_id`, `session_id`, `client_protocol_version`, `param_*`, `user`/`password`, settings
//! such as `enable_http_compression`), a `default_format` other than the ZeptoDB API's own
//! `Arrow`/`ArrowStream`, or a `FORMAT` clause in the SQL (asked of the front end). Everything
//! else keeps the ZeptoDB JSON.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

pub use crate::config::server::Protocol;

/// URL parameters that only ClickHouse clients send.
const MARKERS: [&str; 24] = [
    "database",
    "query_id",
    "session_id",
    "session_timeout",
    "session_check",
    "client_protocol_version",
    "user",
    "password",
    "quota_key",
    "enable_http_compression",
    "http_zlib_compression_level",
    "wait_end_of_query",
    "send_progress_in_http_headers",
    "http_headers_progress_interval_ms",
    "max_execution_time",
    "max_result_rows",
    "result_overflow_mode",
    "readonly",
    "add_http_cors_header",
    "compress",
    "decompress",
    "date_time_input_format",
    "cancel_http_readonly_queries_on_client_close",
    "limit",
];

/// A request's URL parameters, in order.
pub type Pairs = Vec<(String, String)>;

/// The parameters of a raw query string.
pub fn pairs(raw: Option<&str>) -> Pairs {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// Whether a request is ClickHouse's: its headers or URL parameters mark a ClickHouse client,
/// or it carries no ZeptoDB marker either and ClickHouse is the `default` protocol.
pub fn is_clickhouse(headers: &HeaderMap, pairs: &Pairs, default: Protocol) -> bool {
    has_markers(headers, pairs) || (default == Protocol::Clickhouse && !is_zeptodb(headers, pairs))
}

/// What only ZeptoDB clients send: a Bearer token, the session cookie, `X-Zepto-*` headers, a
/// request for the ZeptoDB API's Arrow stream.
fn is_zeptodb(headers: &HeaderMap, pairs: &Pairs) -> bool {
    let bearer = headers.get(AUTHORIZATION).is_some_and(|v| {
        v.as_bytes().len() > 7 && v.as_bytes()[..7].eq_ignore_ascii_case(b"bearer ")
    });
    let cookie = headers
        .get(axum::http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains(crate::auth::sessions::COOKIE));
    let zepto_header = headers.keys().any(|k| k.as_str().starts_with("x-zepto-"));
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let arrow = crate::http::sql::wants_arrow(headers, param("default_format"), param("format"));
    bearer || cookie || zepto_header || arrow
}

/// Whether the headers or URL parameters mark a ClickHouse client.
fn has_markers(headers: &HeaderMap, pairs: &Pairs) -> bool {
    let header = headers
        .keys()
        .any(|k| k.as_str().starts_with("x-clickhouse-"));
    let basic = headers.get(AUTHORIZATION).is_some_and(|v| {
        v.as_bytes().len() > 6 && v.as_bytes()[..6].eq_ignore_ascii_case(b"basic ")
    });
    header
        || basic
        || pairs.iter().any(|(name, value)| {
            MARKERS.contains(&name.as_str())
                || name.starts_with("param_")
                || name.starts_with("output_format_")
                || name.starts_with("input_format_")
                || (name == "default_format"
                    && !value.eq_ignore_ascii_case("arrow")
                    && !value.eq_ignore_ascii_case("arrowstream"))
        })
}

/// The parameters this edge acts on.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// `query`: the SQL (or its start).
    pub query: Option<String>,
    /// `default_format`.
    pub default_format: Option<String>,
    /// `query_id` (empty: generate one).
    pub query_id: Option<String>,
    /// `database`.
    pub database: Option<String>,
    /// `client_protocol_version`: the Native revision.
    pub protocol: u64,
    /// `enable_http_compression=1`.
    pub compress_response: bool,
    /// `compress=1`: the response in ClickHouse's compressed blocks, in this method
    /// (`network_compression_method`).
    pub compress_blocks: Option<super::blocks::Codec>,
    /// `decompress=1`: the request body is ClickHouse's compressed blocks.
    pub decompress_body: bool,
    /// Every other parameter: the settings ([`super::settings`] reads those it acts on).
    pub settings: Pairs,
    /// `add_http_cors_header=1`.
    pub cors: bool,
    /// `param_<name>` values, by name.
    pub bound: Pairs,
    /// `user` and `password`.
    pub user: Option<String>,
    /// See `user`.
    pub password: Option<String>,
    /// `session_id` (with `session_timeout`, `session_check`).
    pub session: Option<super::sessions::SessionParams>,
}

impl Params {
    /// Reads `pairs`; unknown settings are accepted and ignored, as the clients' extra
    /// settings must be.
    pub fn from_pairs(pairs: &Pairs) -> Self {
        let mut p = Params::default();
        let on = |v: &str| v != "0" && !v.eq_ignore_ascii_case("false") && !v.is_empty();
        for (name, value) in pairs {
            match name.as_str() {
                "query" => p.query = Some(value.clone()),
                "default_format" => p.default_format = Some(value.clone()),
                "query_id" => p.query_id = Some(value.clone()).filter(|v| !v.is_empty()),
                "database" => p.database = Some(value.clone()).filter(|v| !v.is_empty()),
                "client_protocol_version" => p.protocol = value.parse().unwrap_or(0),
                "enable_http_compression" => p.compress_response = on(value),
                "compress" => {
                    p.compress_blocks = on(value).then(|| {
                        super::blocks::Codec::from_setting(
                            pairs
                                .iter()
                                .find(|(n, _)| n == "network_compression_method")
                                .map(|(_, v)| v.as_str()),
                        )
                    })
                }
                "decompress" => p.decompress_body = on(value),
                "add_http_cors_header" => p.cors = on(value),
                "user" => p.user = Some(value.clone()),
                "password" => p.password = Some(value.clone()),
                "session_id" | "session_timeout" | "session_check" => {}
                other => match other.strip_prefix("param_") {
                    Some(param) => p.bound.push((param.to_string(), value.clone())),
                    None => p.settings.push((other.to_string(), value.clone())),
                },
            }
        }
        let get = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        p.session = get("session_id").filter(|id| !id.is_empty()).map(|id| {
            super::sessions::SessionParams {
                id: id.clone(),
                timeout: get("session_timeout").cloned(),
                check: get("session_check").is_some_and(|v| on(v)),
            }
        });
        p
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn q(s: &str) -> Pairs {
        pairs(Some(s))
    }

    #[test]
    fn markers_select_the_clickhouse_edge() {
        let z = Protocol::Zeptodb;
        let none = HeaderMap::new();
        assert!(!is_clickhouse(&none, &q("query=SELECT%201"), z));
        assert!(!is_clickhouse(&none, &q("default_format=ArrowStream"), z));
        assert!(is_clickhouse(&none, &q("default_format=Native"), z));
        assert!(is_clickhouse(&none, &q("query_id=x"), z));
        assert!(is_clickhouse(&none, &q("param_x=1"), z));
        let mut basic = HeaderMap::new();
        basic.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic ZGVmYXVsdDo="),
        );
        assert!(is_clickhouse(&basic, &Pairs::new(), z));
        let mut bearer = HeaderMap::new();
        bearer.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert!(!is_clickhouse(&bearer, &Pairs::new(), z));
        let mut user = HeaderMap::new();
        user.insert("x-clickhouse-user", HeaderValue::from_static("default"));
        assert!(is_clickhouse(&user, &Pairs::new(), z));
        // With ClickHouse the default, only ZeptoDB's own markers keep the ZeptoDB API.
        let c = Protocol::Clickhouse;
        assert!(is_clickhouse(&none, &q("query=SELECT%201"), c));
        assert!(!is_clickhouse(&bearer, &Pairs::new(), c));
        assert!(!is_clickhouse(&none, &q("format=arrow"), c));
    }

    #[test]
    fn parameters_are_read() {
        let p = Params::from_pairs(&q(
            "query_id=&client_protocol_version=54460&param_x=41&enable_http_compression=1&max_threads=2",
        ));
        assert_eq!(p.query_id, None);
        assert_eq!(p.protocol, 54460);
        assert!(p.compress_response);
        assert_eq!(
            p.settings,
            vec![("max_threads".to_string(), "2".to_string())]
        );
        assert_eq!(p.bound, vec![("x".to_string(), "41".to_string())]);
    }
}
