//! OpenID Connect login for browsers: the authorization-code flow with PKCE against the
//! provider `--oidc-issuer` names, ending in a server-side session ([`super::sessions`]).
//!
//! The provider is discovered (`/.well-known/openid-configuration`) on first use and kept;
//! a failed discovery is tried again by the next login. `/auth/login` issues a random `state`
//! (kept here, bounded, ten minutes) and a PKCE challenge; the callback accepts only a `state`
//! this server issued, exchanges the code with the client secret (HTTP Basic, the OIDC
//! default), and takes the identity from the ID token, verified like any RS256 JWT against
//! the provider's key set with `iss` = the issuer and `aud` = the client id. Roles and scope
//! come from the same claims as API JWTs (`role`/`zepto_role`, `tenant_id`, `allowed_tables`,
//! `zepto_symbols`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use serde::Deserialize;
use url::Url;

use super::error::{Error, Result};
use super::identity::Identity;
use super::jwt::{JwtSettings, JwtVerifier};
use super::keys::random;
use super::sessions::OidcTokens;

/// How long a login may take between `/auth/login` and the callback.
const LOGIN_WINDOW: Duration = Duration::from_secs(600);
/// Most logins in flight.
const MAX_PENDING: usize = 10_000;

/// The `--oidc-*` flags.
#[derive(Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL.
    pub issuer: Url,
    /// This server's client id at the provider.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// Where the provider sends the browser back (this server's `/auth/callback`).
    pub redirect_uri: Url,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug)]
struct Provider {
    authorization_endpoint: Url,
    token_endpoint: Url,
    id_tokens: JwtVerifier,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Debug)]
struct Pending {
    verifier: String,
    started: Instant,
}

/// A login the provider confirmed.
#[derive(Debug)]
pub struct Login {
    /// Who logged in.
    pub identity: Arc<Identity>,
    /// The tokens a refresh needs.
    pub tokens: OidcTokens,
    /// Seconds the provider's access token lives, when it said.
    pub expires_in: Option<u64>,
}

/// The OIDC client.
#[derive(Debug)]
pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    provider: tokio::sync::OnceCell<Provider>,
    pending: Mutex<HashMap<String, Pending>>,
}

fn provider_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::IdentityProvider(format!("{what}: {e}"))
}

impl Oidc {
    /// A client for `settings`; nothing is fetched until the first login.
    pub fn new(settings: OidcSettings) -> std::result::Result<Self, String> {
        let http = super::jwks::provider_client("--oidc-issuer")?;
        Ok(Oidc {
            settings,
            http,
            provider: tokio::sync::OnceCell::new(),
            pending: Mutex::new(HashMap::new()),
        })
    }

    async fn provider(&self) -> Result<&Provider> {
        self.provider.get_or_try_init(|| self.discover()).await
    }

    async fn discover(&self) -> Result<Provider> {
        let issuer = self.settings.issuer.as_str().trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let answer = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| provider_error("discovery", e.without_url()))?;
        if !answer.status().is_success() {
            return Err(provider_error(
                "discovery",
                format!("HTTP {}", answer.status()),
            ));
        }
        let body = answer
            .bytes()
            .await
            .map_err(|e| provider_error("discovery", e.without_url()))?;
        let doc: Discovery =
            serde_json::from_slice(&body).map_err(|e| provider_error("discovery document", e))?;
        if doc.issuer.trim_end_matches('/') != issuer {
            return Err(provider_error(
                "discovery",
                format!("the document is for issuer {}, not {issuer}", doc.issuer),
            ));
        }
        let endpoint = |name: &str, text: &str| {
            super::jwks::check_url(name, text).map_err(|e| provider_error("discovery", e))
        };
        let id_tokens = JwtVerifier::new(&JwtSettings {
            jwks_url: Some(endpoint("jwks_uri", &doc.jwks_uri)?),
            jwks_refresh: Duration::from_secs(3600),
            issuer: Some(doc.issuer.clone()),
            audience: Some(self.settings.client_id.clone()),
            ..JwtSettings::default()
        })
        .map_err(|e| provider_error("discovery", e))?
        .ok_or_else(|| provider_error("discovery", "no key set"))?;
        if let Some(jwks) = id_tokens.jwks() {
            jwks.reload()
                .await
                .map_err(|e| provider_error("the provider's key set", e))?;
            jwks.spawn_refresh(Duration::from_secs(3600));
        }
        Ok(Provider {
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                &doc.authorization_endpoint,
            )?,
            token_endpoint: endpoint("token_endpoint", &doc.token_endpoint)?,
            id_tokens,
        })
    }

    /// Where to send the browser to log in, and the `state` it will come back with.
    pub async fn login(&self) -> Result<(Url, String)> {
        let provider = self.provider().await?;
        let state = hex::encode(random::<16>()?);
        let verifier = URL_SAFE_NO_PAD.encode(random::<32>()?);
        let challenge =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
        {
            let mut pending = self.pending.lock();
            pending.retain(|_, p| p.started.elapsed() < LOGIN_WINDOW);
            if pending.len() >= MAX_PENDING
                && let Some(oldest) = pending
                    .iter()
                    .min_by_key(|(_, p)| p.started)
                    .map(|(k, _)| k.clone())
            {
                pending.remove(&oldest);
            }
            pending.insert(
                state.clone(),
                Pending {
                    verifier,
                    started: Instant::now(),
                },
            );
        }
        let mut url = provider.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", self.settings.redirect_uri.as_str())
            .append_pair("scope", "openid")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok((url, state))
    }

    /// The provider sent the browser back with `code` for `state`: exchange it and resolve
    /// who logged in.
    pub async fn callback(&self, code: &str, state: &str) -> Result<Login> {
        let pending = {
            let mut pending = self.pending.lock();
            pending
                .remove(state)
                .filter(|p| p.started.elapsed() < LOGIN_WINDOW)
        }
        .ok_or(Error::LoginState)?;
        let provider = self.provider().await?;
        let answer = self
            .token_request(
                provider,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", self.settings.redirect_uri.as_str()),
                    ("client_id", &self.settings.client_id),
                    ("code_verifier", &pending.verifier),
                ],
            )
            .await?;
        self.resolve(provider, answer, None).await
    }

    /// A new access and ID token for a session's refresh token.
    pub async fn refresh(&self, tokens: &OidcTokens) -> Result<Login> {
        let Some(refresh_token) = &tokens.refresh_token else {
            return Err(Error::InvalidSession);
        };
        let provider = self.provider().await?;
        let answer = self
            .token_request(
                provider,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                    ("client_id", &self.settings.client_id),
                ],
            )
            .await
            // A refused refresh ends the login: the session is no longer backed.
            .map_err(|_| Error::InvalidSession)?;
        self.resolve(provider, answer, Some(refresh_token.clone()))
            .await
    }

    async fn token_request(
        &self,
        provider: &Provider,
        form: &[(&str, &str)],
    ) -> Result<TokenAnswer> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let answer = self
            .http
            .post(provider.token_endpoint.clone())
            .basic_auth(
                form_encode(&self.settings.client_id),
                Some(form_encode(&self.settings.client_secret)),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| provider_error("token endpoint", e.without_url()))?;
        let status = answer.status();
        let body = answer
            .bytes()
            .await
            .map_err(|e| provider_error("token endpoint", e.without_url()))?;
        if !status.is_success() {
            // The provider's own error code (invalid_grant, invalid_client…) tells the
            // operator what to fix; its description may echo input, so it is not repeated.
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_default();
            return Err(provider_error(
                "token endpoint",
                format!("HTTP {status} {code}").trim_end(),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| provider_error("token endpoint answer", e))
    }

    async fn resolve(
        &self,
        provider: &Provider,
        answer: TokenAnswer,
        old_refresh: Option<String>,
    ) -> Result<Login> {
        let id_token = answer
            .id_token
            .ok_or_else(|| provider_error("token endpoint", "no id_token in the answer"))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let identity = provider.id_tokens.verify(&id_token, now).await?;
        Ok(Login {
            identity: Arc::new(identity),
            tokens: OidcTokens {
                refresh_token: answer.refresh_token.or(old_refresh),
            },
            expires_in: answer.expires_in,
        })
    }
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before HTTP Basic.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
