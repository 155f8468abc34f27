//! Sessions and browser login at the ZeptoDB edge: `POST /auth/session` (a Bearer token
//! becomes a `zepto_sid` cookie), `POST /auth/logout`, and the OIDC flow (`GET /auth/login`,
//! `GET /auth/callback`, `POST /auth/refresh`). The flows themselves live in
//! [`crate::auth::sessions`] and [`crate::auth::oidc`]; this module sets and reads cookies.
//!
//! Cookies are `HttpOnly` (no script reads them), `SameSite=Strict` for the session (no other
//! site's page can send it), and `Secure` when the request came over TLS. The short-lived
//! login-state cookie is `SameSite=Lax`, since the provider's redirect back is a cross-site
//! navigation; it binds the callback to the browser that started the login.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::{AUTHORIZATION, HeaderMap, LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::auth::{cookie as cookie_value, session_cookie};
use super::error::{ApiError, ApiResult};
use super::paths;
use super::response::private_json;
use super::state::AppState;
use super::tls::Tls;
use crate::auth::sessions::COOKIE;
use crate::auth::{Auth, Caller, Error, Mode};

/// The login-state cookie's name.
const STATE_COOKIE: &str = "zepto_oidc_state";
/// Where a completed login lands: the identity it established.
const AFTER_LOGIN: &str = paths::AUTH_ME;

/// The routes of this module.
pub fn router(state: &AppState) -> Router {
    Router::new()
        .route(paths::AUTH_SESSION, post(create))
        .route(paths::AUTH_LOGOUT, post(logout))
        .route(paths::AUTH_LOGIN, get(login))
        .route(paths::AUTH_CALLBACK, get(callback))
        .route(paths::AUTH_REFRESH, post(refresh))
        .with_state(Arc::clone(&state.auth))
}

/// `name=value` with the attributes every cookie here carries.
fn cookie(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: Duration,
    tls: bool,
) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={}{secure}",
        max_age.as_secs()
    );
    // Every part is ours: hex ids, fixed names, digits.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_cookie_header(id: &str, life: Duration, tls: bool) -> HeaderValue {
    cookie(COOKIE, id, "/", "Strict", life, tls)
}

/// `POST /auth/session`: the request's Bearer token, kept server-side; the answer sets the
/// cookie that stands for it.
async fn create(
    State(auth): State<Arc<Auth>>,
    tls: Option<axum::Extension<Tls>>,
    headers: HeaderMap,
    caller: Caller,
) -> ApiResult<Response> {
    if auth.mode() == Mode::Open {
        return Err(Error::Unsupported(
            "Authentication is off on this server: there is no identity to keep in a session",
        )
        .into());
    }
    if !headers.contains_key(AUTHORIZATION) {
        return Err(Error::Unsupported(
            "POST /auth/session takes a Bearer token (API key or JWT), not a session cookie",
        )
        .into());
    }
    let identity = Arc::clone(&caller.identity);
    let (id, life) = auth.sessions().create(Arc::clone(&identity), None)?;
    caller.audit("session-created");
    let mut response = private_json(json!({
        "session": true,
        "role": identity.role.as_str(),
        "subject": identity.subject,
    }));
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie_header(&id, life, tls.is_some()));
    Ok(response)
}

/// `POST /auth/logout`: ends the cookie's session (if any) and clears the cookie.
async fn logout(
    State(auth): State<Arc<Auth>>,
    tls: Option<axum::Extension<Tls>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(id) = session_cookie(&headers)? {
        auth.sessions().remove(id);
    }
    let mut response = private_json(json!({ "ok": true }));
    response.headers_mut().insert(
        SET_COOKIE,
        session_cookie_header("", Duration::ZERO, tls.is_some()),
    );
    Ok(response)
}

/// `GET /auth/login`: 302 to the provider's authorization endpoint.
async fn login(
    State(auth): State<Arc<Auth>>,
    tls: Option<axum::Extension<Tls>>,
) -> ApiResult<Response> {
    let (to, state) = auth.oidc()?.login().await?;
    let location = HeaderValue::from_str(to.as_str()).map_err(|_| {
        ApiError::from(Error::IdentityProvider(
            "the authorization endpoint is not a valid Location".into(),
        ))
    })?;
    let state_cookie = cookie(
        STATE_COOKIE,
        &state,
        paths::AUTH_CALLBACK,
        "Lax",
        Duration::from_secs(600),
        tls.is_some(),
    );
    Ok((
        StatusCode::FOUND,
        [(LOCATION, location), (SET_COOKIE, state_cookie)],
    )
        .into_response())
}

#[derive(Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback?code=&state=`: the provider confirmed a login; exchange the code, start
/// a session, and send the browser on.
async fn callback(
    State(auth): State<Arc<Auth>>,
    tls: Option<axum::Extension<Tls>>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> ApiResult<Response> {
    let oidc = auth.oidc()?;
    if let Some(error) = params.error {
        // The provider's error code, kept to its alphabet (RFC 6749 codes are `a-z_`).
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(ApiError::BadRequest(format!(
            "The identity provider refused the login ({error})"
        )));
    }
    let (Some(code), Some(state)) = (params.code, params.state) else {
        return Err(ApiError::BadRequest(
            "Missing 'code' or 'state' query parameter".into(),
        ));
    };
    // The state must be the one this browser was given by /auth/login.
    if cookie_value(&headers, STATE_COOKIE)? != Some(state.as_str()) {
        return Err(Error::LoginState.into());
    }
    let login = oidc.callback(&code, &state).await?;
    let (id, life) = auth
        .sessions()
        .create(Arc::clone(&login.identity), Some(login.tokens))?;
    let tls = tls.is_some();
    let mut response = (StatusCode::FOUND, [(LOCATION, AFTER_LOGIN)]).into_response();
    let h = response.headers_mut();
    h.append(SET_COOKIE, session_cookie_header(&id, life, tls));
    h.append(
        SET_COOKIE,
        cookie(
            STATE_COOKIE,
            "",
            paths::AUTH_CALLBACK,
            "Lax",
            Duration::ZERO,
            tls,
        ),
    );
    Ok(response)
}

/// `POST /auth/refresh`: new tokens from the provider for the cookie's OIDC session.
async fn refresh(
    State(auth): State<Arc<Auth>>,
    tls: Option<axum::Extension<Tls>>,
    headers: HeaderMap,
    _caller: Caller,
) -> ApiResult<Response> {
    let oidc = auth.oidc()?;
    let id = session_cookie(&headers)?.ok_or(Error::InvalidSession)?;
    let active = auth.sessions().get(id, auth.keys())?;
    let Some(tokens) = active.oidc else {
        return Err(Error::Unsupported(
            "This session was not made by an OIDC login: it has no tokens to refresh",
        )
        .into());
    };
    let login = oidc.refresh(&tokens).await?;
    let life = auth
        .sessions()
        .refreshed(id, login.identity, login.tokens)?;
    let mut response = private_json(json!({
        "refreshed": true,
        "expires_in": login.expires_in.unwrap_or(life.as_secs()),
    }));
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie_header(id, life, tls.is_some()));
    Ok(response)
}
