//! Extractors whose rejections are our own errors, so a malformed request gets the same error
//! shape as every other failure: the size-limited body and URL parameters. (The caller and
//! its tenant are extracted in [`super::auth`].)

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::http::state::HttpLimits;

/// The whole request body, at most `--max-request-bytes` long. A declared `Content-Length` over
/// the limit is refused before anything is read.
#[derive(Debug)]
pub struct LimitedBody(pub Bytes);

impl<S> FromRequest<S> for LimitedBody
where
    S: Send + Sync,
    HttpLimits: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = HttpLimits::from_ref(state).max_request_bytes;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::BodyTooLarge { limit });
        }
        axum::body::to_bytes(request.into_body(), limit)
            .await
            .map(LimitedBody)
            .map_err(|e| {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
                while let Some(err) = source {
                    if err.is::<LengthLimitError>() {
                        return ApiError::BodyTooLarge { limit };
                    }
                    source = err.source();
                }
                ApiError::BadRequest(format!("Could not read the request body: {e}"))
            })
    }
}

impl LimitedBody {
    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, ApiError> {
        std::str::from_utf8(&self.0)
            .map_err(|_| ApiError::BadRequest("Request body is not UTF-8 text".into()))
    }
}

/// URL parameters decoded into `T`; a parameter of the wrong type is a 400 naming it.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(p)| Params(p))
            .map_err(|e| ApiError::BadRequest(format!("Bad URL parameters: {}", e.body_text())))
    }
}
