//! Result encodings and how a client picks one.
//!
//! - [`json`]: the ZeptoDB JSON shape, the default.
//! - [`arrow_ipc`]: an Arrow IPC stream, chosen by `Accept: application/vnd.apache.arrow.stream`,
//!   `?default_format=Arrow|ArrowStream` or `?format=arrow`.

pub mod arrow_ipc;
pub mod json;

use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, HeaderName};

/// The media type of an Arrow IPC stream.
pub const ARROW_STREAM_MEDIA_TYPE: &str = "application/vnd.apache.arrow.stream";

/// Debug aid the reference sets on Arrow responses and Arrow ingest replies (`arrow-stream`).
pub const X_ZEPTO_FORMAT: HeaderName = HeaderName::from_static("x-zepto-format");

/// How a result is sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// `{"columns":[..],"data":[[..]],"rows":N,"execution_time_us":F}`.
    ZeptoJson,
    /// Arrow IPC stream bytes.
    ArrowStream,
}

impl ResultFormat {
    /// The format a request asks for.
    pub fn negotiate(
        headers: &HeaderMap,
        default_format: Option<&str>,
        format: Option<&str>,
    ) -> Self {
        let accept_arrow = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(ARROW_STREAM_MEDIA_TYPE));
        let param_arrow = default_format.is_some_and(|f| {
            f.eq_ignore_ascii_case("arrow") || f.eq_ignore_ascii_case("arrowstream")
        }) || format.is_some_and(|f| f.eq_ignore_ascii_case("arrow"));
        if accept_arrow || param_arrow {
            ResultFormat::ArrowStream
        } else {
            ResultFormat::ZeptoJson
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn negotiation() {
        let none = HeaderMap::new();
        assert_eq!(
            ResultFormat::negotiate(&none, None, None),
            ResultFormat::ZeptoJson
        );
        assert_eq!(
            ResultFormat::negotiate(&none, Some("ArrowStream"), None),
            ResultFormat::ArrowStream
        );
        assert_eq!(
            ResultFormat::negotiate(&none, Some("arrow"), None),
            ResultFormat::ArrowStream
        );
        assert_eq!(
            ResultFormat::negotiate(&none, None, Some("arrow")),
            ResultFormat::ArrowStream
        );
        assert_eq!(
            ResultFormat::negotiate(&none, Some("JSON"), None),
            ResultFormat::ZeptoJson
        );
        let mut h = HeaderMap::new();
        h.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.apache.arrow.stream"),
        );
        assert_eq!(
            ResultFormat::negotiate(&h, None, None),
            ResultFormat::ArrowStream
        );
    }
}
