//! Reading request bodies under the `--max-request-bytes` limit.

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use http_body_util::LengthLimitError;

use crate::error::{Error, Result};

/// The whole body, or 413 if it is longer than `limit` bytes. A declared `Content-Length` over the
/// limit is refused before anything is read.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes> {
    let too_large = || {
        Error::PayloadTooLarge(format!(
            "Request body exceeds {limit} bytes (--max-request-bytes)"
        ))
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<LengthLimitError>() {
                return too_large();
            }
            source = err.source();
        }
        Error::BadRequest(format!("Could not read the request body: {e}"))
    })
}
