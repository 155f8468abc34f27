//! Authentication at the ZeptoDB HTTP edge: one middleware turns each request's credential
//! into a [`Caller`] (or refuses it), and one table ([`need`]) says what every route needs.
//!
//! Order, as the reference: duplicate credential headers → public path → the client address's
//! bucket (before any credential is looked at) → the credential (a token starting `ey` as a
//! JWT, else as an API key; without `Authorization`, the `zepto_sid` session cookie) → the
//! identity's bucket → the route's permission. SQL routes need
//! only an identity here: the statement's class and tables decide in [`crate::sql`]. Client
//! `X-Zepto-*` headers are removed once read, so nothing downstream can mistake them for
//! identity; only open mode reads one (`X-Zepto-Tenant-Id`, the reference's `--no-auth` rule).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{clickhouse, paths};
use crate::auth::{Auth, Caller, Credential, Error, Mode, Permission};

/// The header that names the tenant in open mode.
pub const TENANT_HEADER: &str = "x-zepto-tenant-id";

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: anyone may call it.
    Public,
    /// Any authenticated identity (the statement, or the handler, decides the rest).
    Identity,
    /// An identity whose role grants this.
    Permission(Permission),
}

/// What `method` on `route` needs. A route missing from this table needs the admin
/// permission: a new route is closed until it is listed here.
pub fn need(method: &Method, route: Option<&str>, public_metrics: bool) -> Need {
    use Need::{Identity, Permission as P, Public};
    use Permission::{Admin, Ingest, Metrics, Query, Stats};
    let Some(route) = route else {
        // No route matched: the answer is a 404, but only to an identified caller.
        return Identity;
    };
    let write = *method != Method::GET && *method != Method::HEAD;
    match route {
        paths::PING | paths::HEALTH | paths::READY | paths::API_LICENSE => Public,
        // Browser login: nothing to authenticate yet (the callback checks its own state).
        paths::AUTH_LOGIN | paths::AUTH_CALLBACK | paths::AUTH_LOGOUT => Public,
        paths::AUTH_SESSION | paths::AUTH_REFRESH => Identity,
        paths::METRICS if public_metrics => Public,
        paths::METRICS => P(Metrics),
        paths::ROOT | paths::WHOAMI | paths::AUTH_ME => Identity,
        paths::STATS | paths::AI_STATS => P(Stats),
        paths::INSERT_ARROW => P(Ingest),
        paths::AI_MEMORIES | paths::AI_CACHE_STORE | paths::AI_CACHE => P(Ingest),
        paths::AI_MEMORY if write => P(Ingest),
        paths::AI_MEMORY | paths::AI_MEMORY_SEARCH | paths::AI_CONTEXT | paths::AI_CACHE_LOOKUP => {
            P(Query)
        }
        _ => P(Admin),
    }
}

/// What the middleware needs: the authentication service, and which protocol a request with
/// neither protocol's markers speaks (to know whose credentials it carries).
#[derive(Debug, Clone)]
pub struct Gate {
    /// Authentication.
    pub auth: Arc<Auth>,
    /// `--default-protocol`.
    pub default_protocol: clickhouse::request::Protocol,
}

/// The middleware. Runs inside routing, so the matched route is known. A ClickHouse client
/// (`super::clickhouse::request`) on the SQL route authenticates ClickHouse's ways and is
/// refused in ClickHouse's shape.
pub async fn authenticate(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let auth = gate.auth;
    let pairs = clickhouse::request::pairs(request.uri().query());
    let clickhouse = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        == Some(paths::ROOT)
        && clickhouse::request::is_clickhouse(request.headers(), &pairs, gate.default_protocol);
    let login = if clickhouse {
        let params = clickhouse::request::Params::from_pairs(&pairs);
        match clickhouse::credentials::login(
            request.headers(),
            params.user.as_deref(),
            params.password.as_deref(),
        ) {
            Ok(login) => Some(login),
            Err(e) => return clickhouse::exception::Exception::from(ApiError::Auth(e)).response(),
        }
    } else {
        None
    };
    match admit(&auth, &mut request, login.as_ref()).await {
        Ok(caller) => {
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            next.run(request).await
        }
        Err(e) if clickhouse => {
            clickhouse::exception::Exception::from(ApiError::Auth(e)).response()
        }
        Err(e) => ApiError::Auth(e).into_response(),
    }
}

async fn admit(
    auth: &Auth,
    request: &mut Request,
    login: Option<&clickhouse::credentials::Login>,
) -> Result<Option<Caller>, Error> {
    let headers = request.headers();
    if headers.get_all(AUTHORIZATION).iter().count() > 1
        || headers.get_all(COOKIE).iter().count() > 1
    {
        return Err(Error::DuplicateCredentials);
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let need = need(request.method(), route, auth.public_metrics());
    let from = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    // An unmatched path is the client's text: keep the audit line short.
    let path: String = route
        .unwrap_or(request.uri().path())
        .chars()
        .take(200)
        .collect();
    let action = format!("{} {path}", request.method());
    if need == Need::Public {
        strip_identity_headers(request.headers_mut());
        return Ok(None);
    }
    let caller = match (auth.mode(), login) {
        // Open mode's ClickHouse user is `default` with no password; a password sent anyway
        // must be a valid key (ClickHouse refuses a wrong password).
        (Mode::Open, Some(login)) if !login.password.is_empty() => {
            auth.admit_address(from, &action)?;
            auth.authenticate(login.credential(), from, action).await?
        }
        (Mode::Open, _) => {
            let tenant = open_mode_tenant(request.headers())?;
            auth.anonymous(tenant, from, action)
        }
        (Mode::Enforced, Some(login)) => {
            auth.admit_address(from, &action)?;
            auth.authenticate(login.credential(), from, action).await?
        }
        (Mode::Enforced, None) => enforced(auth, request.headers(), need, from, action).await?,
    };
    strip_identity_headers(request.headers_mut());
    Ok(Some(caller))
}

async fn enforced(
    auth: &Auth,
    headers: &HeaderMap,
    need: Need,
    from: Option<IpAddr>,
    action: String,
) -> Result<Caller, Error> {
    auth.admit_address(from, &action)?;
    let credential = credential(headers)?;
    let caller = auth.authenticate(credential, from, action).await?;
    if let Need::Permission(p) = need {
        caller.require(p, "")?;
    }
    Ok(caller)
}

/// The request's credential: the `Authorization` header, else the session cookie.
pub fn credential(headers: &HeaderMap) -> Result<Credential<'_>, Error> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        return Ok(bearer(value.as_bytes()));
    }
    Ok(session_cookie(headers)?.map_or(Credential::None, Credential::Session))
}

/// The `zepto_sid` value of the request's `Cookie` header.
pub fn session_cookie(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    cookie(headers, crate::auth::sessions::COOKIE)
}

/// The value of cookie `wanted` in the request's `Cookie` header. Named twice is ambiguous,
/// and refused like two `Authorization` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, wanted: &str) -> Result<Option<&'a str>, Error> {
    let Some(cookies) = headers.get(COOKIE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let mut found = None;
    for pair in cookies.split(';') {
        // Only the separator's space is dropped: the value is taken verbatim, as a token is.
        let Some((name, value)) = pair.trim_start().split_once('=') else {
            continue;
        };
        if name == wanted {
            if found.is_some() {
                return Err(Error::DuplicateCredentials);
            }
            found = Some(value);
        }
    }
    Ok(found)
}

/// `Bearer <token>`, the scheme in any case, the token taken verbatim: one space, then
/// printable ASCII without spaces (`Bearer  x` and `Bearer x y` are not tokens).
fn bearer(value: &[u8]) -> Credential<'_> {
    const SCHEME: &[u8] = b"bearer ";
    if value.len() <= SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return Credential::Malformed;
    }
    let token = &value[SCHEME.len()..];
    if !token.iter().all(|b| b.is_ascii_graphic()) {
        return Credential::Malformed;
    }
    std::str::from_utf8(token).map_or(Credential::Malformed, Credential::Bearer)
}

/// The tenant an open-mode client names; an unreadable header is refused, not ignored.
fn open_mode_tenant(headers: &HeaderMap) -> Result<Option<String>, Error> {
    let Some(value) = headers.get(TENANT_HEADER) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .ok()
        .filter(|t| !t.chars().any(|c| c.is_control() || c == ','))
        .ok_or_else(|| Error::InvalidKeyField("X-Zepto-Tenant-Id must be a plain name".into()))?;
    Ok(Some(text.to_string()).filter(|t| !t.is_empty()))
}

fn strip_identity_headers(headers: &mut HeaderMap) {
    let names: Vec<_> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("x-zepto-"))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    /// The caller the middleware admitted. A handler reached without one (a route the
    /// middleware does not wrap) refuses rather than run unidentified.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Auth(Error::MissingCredentials))
    }
}

/// The tenant Agent Memory scopes a request to: the identity's (or, in open mode, the one the
/// client named). An authenticated identity whose tenant is not registered is refused.
#[derive(Debug, Clone, Default)]
pub struct RequestTenant(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_tenant()?;
        Ok(RequestTenant(caller.tenant_id().map(str::to_string)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_table() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(need(&get, Some(paths::PING), false), Need::Public);
        assert_eq!(need(&get, Some(paths::METRICS), true), Need::Public);
        assert_eq!(
            need(&get, Some(paths::METRICS), false),
            Need::Permission(Permission::Metrics)
        );
        assert_eq!(need(&post, Some(paths::ROOT), false), Need::Identity);
        assert_eq!(
            need(&get, Some(paths::AI_MEMORY), false),
            Need::Permission(Permission::Query)
        );
        assert_eq!(
            need(&Method::DELETE, Some(paths::AI_MEMORY), false),
            Need::Permission(Permission::Ingest)
        );
        assert_eq!(
            need(&post, Some(paths::INSERT_ARROW), false),
            Need::Permission(Permission::Ingest)
        );
        assert_eq!(
            need(&get, Some(paths::ADMIN_KEYS), false),
            Need::Permission(Permission::Admin)
        );
        assert_eq!(
            need(&get, Some("/some/new/route"), false),
            Need::Permission(Permission::Admin)
        );
        assert_eq!(need(&get, None, false), Need::Identity);
    }

    #[test]
    fn bearer_tokens_are_taken_verbatim() {
        assert!(matches!(bearer(b"Bearer abc"), Credential::Bearer("abc")));
        assert!(matches!(bearer(b"bearer abc"), Credential::Bearer("abc")));
        for bad in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer  abc",
            b"Bearer abc def",
            b"Basic Zm9vOmJhcg==",
            b"Bearer \xff",
        ] {
            assert!(matches!(bearer(bad), Credential::Malformed), "{bad:?}");
        }
    }
}
