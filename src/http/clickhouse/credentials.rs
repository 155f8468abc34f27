//! ClickHouse clients' credentials, found the three ways ClickHouse's HTTP handler takes them
//! (in its order): the `X-ClickHouse-User`/`X-ClickHouse-Key` headers, HTTP Basic, the `user`
//! and `password` URL parameters. Strata's decision (`security.md`): the password is the API key
//! (or a JWT), the user name is free. Two ways at once is ambiguous and refused (ClickHouse's
//! 516), as two `Authorization` headers are on the ZeptoDB edge.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::auth::{Credential, Error};

/// The user header.
pub const USER_HEADER: &str = "x-clickhouse-user";
/// The password (key) header.
pub const KEY_HEADER: &str = "x-clickhouse-key";

/// A user name and password as a ClickHouse client sent them.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name (`default` when none was sent).
    pub user: String,
    /// The password: an API key or a JWT, or empty.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &if self.password.is_empty() { "" } else { "…" })
            .finish()
    }
}

impl Login {
    /// What authentication checks: the password as a bearer token; no password, no credential.
    pub fn credential(&self) -> Credential<'_> {
        if self.password.is_empty() {
            Credential::None
        } else {
            Credential::Bearer(&self.password)
        }
    }
}

/// The request's login: `user` and `password` are the URL's parameters of those names.
/// Without any, user `default` with an empty password (what ClickHouse assumes).
pub fn login(
    headers: &HeaderMap,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<Login, Error> {
    let mut found: Vec<Login> = Vec::new();
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().map(str::to_string).map_err(|_| Error::BadScheme))
            .transpose()
    };
    let (h_user, h_key) = (header(USER_HEADER)?, header(KEY_HEADER)?);
    if h_user.is_some() || h_key.is_some() {
        found.push(Login {
            user: h_user.unwrap_or_else(|| "default".into()),
            password: h_key.unwrap_or_default(),
        });
    }
    if let Some(value) = headers.get(AUTHORIZATION) {
        found.push(basic(value.as_bytes())?);
    }
    if user.is_some() || password.is_some() {
        found.push(Login {
            user: user.unwrap_or("default").to_string(),
            password: password.unwrap_or_default().to_string(),
        });
    }
    match found.len() {
        0 => Ok(Login {
            user: "default".into(),
            password: String::new(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(Error::DuplicateCredentials),
    }
}

/// `Basic base64(user:password)`; a Bearer token is taken as a password with no user.
fn basic(value: &[u8]) -> Result<Login, Error> {
    let text = std::str::from_utf8(value).map_err(|_| Error::BadScheme)?;
    let (scheme, rest) = text.split_once(' ').ok_or(Error::BadScheme)?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Login {
            user: "default".into(),
            password: rest.to_string(),
        });
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Error::BadScheme);
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| Error::BadScheme)?;
    let decoded = String::from_utf8(decoded).map_err(|_| Error::BadScheme)?;
    let (user, password) = decoded.split_once(':').ok_or(Error::BadScheme)?;
    Ok(Login {
        user: user.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn each_way_gives_the_key_as_the_password() {
        let key = "zepto_abc";
        let by_headers = login(
            &headers(&[(USER_HEADER, "grafana"), (KEY_HEADER, key)]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            (by_headers.user.as_str(), by_headers.password.as_str()),
            ("grafana", key)
        );
        let basic = format!("Basic {}", STANDARD.encode(format!("any:{key}")));
        let by_basic = login(&headers(&[("authorization", &basic)]), None, None).unwrap();
        assert!(matches!(by_basic.credential(), Credential::Bearer(k) if k == key));
        let by_params = login(&HeaderMap::new(), Some("u"), Some(key)).unwrap();
        assert_eq!(by_params.password, key);
        let nobody = login(&HeaderMap::new(), None, None).unwrap();
        assert_eq!(nobody.user, "default");
        assert!(matches!(nobody.credential(), Credential::None));
        let default_empty = format!("Basic {}", STANDARD.encode("default:"));
        let js = login(&headers(&[("authorization", &default_empty)]), None, None).unwrap();
        assert!(matches!(js.credential(), Credential::None));
        assert!(
            !format!("{by_basic:?}").contains(key),
            "Debug hides the password"
        );
    }

    #[test]
    fn two_ways_at_once_or_a_bad_header_are_refused() {
        let basic = format!("Basic {}", STANDARD.encode("u:zepto_x"));
        assert!(matches!(
            login(
                &headers(&[("authorization", &basic), (KEY_HEADER, "zepto_x")]),
                None,
                None
            ),
            Err(Error::DuplicateCredentials)
        ));
        assert!(matches!(
            login(
                &headers(&[("authorization", &basic)]),
                None,
                Some("zepto_x")
            ),
            Err(Error::DuplicateCredentials)
        ));
        for bad in ["Basic !!!", "Basic dXNlcg==", "Digest x", "Basic"] {
            assert!(
                matches!(
                    login(&headers(&[("authorization", bad)]), None, None),
                    Err(Error::BadScheme)
                ),
                "{bad}"
            );
        }
    }
}
