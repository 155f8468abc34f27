//! A JSON Web Key Set fetched from the identity provider (`--jwks-url`): the RS256 keys by
//! `kid`, so the provider can rotate keys without a restart.
//!
//! The set is fetched at start, again every refresh interval in the background, on
//! `POST /admin/auth/reload`, and when a token names a `kid` the set does not hold. That last
//! one is under the client's control, so it is a single flight (concurrent unknown `kid`s wait
//! for one fetch) and at most one per cooldown: random `kid`s cannot turn Strata into an
//! amplifier against the provider. A failed fetch keeps the keys already loaded.
//!
//! Only keys that can be RS256 verification keys are kept: `kty: "RSA"`, `use` absent or
//! `"sig"`, `alg` absent or `"RS256"`, 2048 to 8192 bits.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;
use serde::Deserialize;
use url::Url;

/// Fewest seconds between two fetches caused by unknown `kid`s.
pub const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(30);
/// How long one call to the provider may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest key set document read.
const MAX_DOCUMENT: usize = 1 << 20;

/// Why a fetch gave no keys.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed or did not answer 200.
    #[error("the JWKS endpoint could not be read: {0}")]
    Http(String),
    /// The answer is not a key set.
    #[error("the JWKS endpoint did not answer a JSON Web Key Set: {0}")]
    Malformed(String),
    /// A key set without one usable RS256 key.
    #[error("the JWKS holds no RS256 signing key")]
    NoKeys,
}

/// The keys by `kid`, replaced whole by each successful fetch.
pub struct Jwks {
    url: Url,
    http: reqwest::Client,
    keys: RwLock<Arc<HashMap<String, ParsedPublicKey>>>,
    /// Held for the length of a fetch (single flight); holds when the last unknown-`kid`
    /// fetch started.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    cooldown: Duration,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url.as_str())
            .field("keys", &self.keys.read().len())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Checks an identity provider's URL (`--jwks-url`, and the OIDC issuer and endpoints):
/// HTTPS, or plain HTTP to a loopback address (a provider on the same machine, and the tests).
pub fn check_url(flag: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{flag} {text}: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!(
            "{flag} {text}: identity providers are reached over https (plain http only on a loopback address)"
        )),
    }
}

/// The client for calls to an identity provider: bounded in time, and never following a
/// redirect (a provider's URLs are configured, not discovered through redirects).
pub(super) fn provider_client(flag: &str) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("{flag}: cannot build an HTTP client: {e}"))
}

impl Jwks {
    /// An empty set for `url`; [`Jwks::reload`] fills it.
    pub fn new(url: Url) -> Result<Self, String> {
        let http = provider_client("--jwks-url")?;
        Ok(Jwks {
            url,
            http,
            keys: RwLock::new(Arc::new(HashMap::new())),
            fetching: tokio::sync::Mutex::new(None),
            cooldown: UNKNOWN_KID_COOLDOWN,
        })
    }

    /// The key with this `kid`; without a `kid`, the only key when the set holds exactly one
    /// (with more, which one the token means is unknown, so none is).
    pub fn key(&self, kid: Option<&str>) -> Option<KeyRef> {
        let keys = Arc::clone(&self.keys.read());
        let kid = match kid {
            Some(kid) => kid.to_string(),
            None if keys.len() == 1 => keys.keys().next()?.clone(),
            None => return None,
        };
        keys.contains_key(&kid).then_some(KeyRef { keys, kid })
    }

    /// How many keys are loaded.
    pub fn len(&self) -> usize {
        self.keys.read().len()
    }

    /// Whether no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fetches the set now (start, background refresh, `POST /admin/auth/reload`): the number
    /// of keys loaded, or why none were (the old keys stay).
    pub async fn reload(&self) -> Result<usize, FetchError> {
        let _flight = self.fetching.lock().await;
        self.fetch().await
    }

    /// A token named `kid`s the set does not hold: fetch again unless one was fetched for this
    /// reason within the cooldown. Returns whether a later lookup may now find it.
    pub async fn refresh_for_unknown_kid(&self) -> bool {
        let mut last = self.fetching.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.cooldown) {
            // Another request fetched while this one waited, or one did recently.
            return true;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(url = %self.url, "JWKS refresh for an unknown kid failed: {e}");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<usize, FetchError> {
        let response = self
            .http
            .get(self.url.clone())
            .send()
            .await
            .map_err(|e| FetchError::Http(without_url(e)))?;
        if !response.status().is_success() {
            return Err(FetchError::Http(format!("HTTP {}", response.status())));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT as u64)
        {
            return Err(FetchError::Malformed("larger than 1 MiB".into()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| FetchError::Http(without_url(e)))?;
        if body.len() > MAX_DOCUMENT {
            return Err(FetchError::Malformed("larger than 1 MiB".into()));
        }
        let keys = parse(&body)?;
        let n = keys.len();
        *self.keys.write() = Arc::new(keys);
        Ok(n)
    }

    /// Fetches the set every `every` until the set is dropped.
    pub fn spawn_refresh(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(jwks) = weak.upgrade() else { return };
                match jwks.reload().await {
                    Ok(n) => tracing::debug!(keys = n, "JWKS refreshed"),
                    Err(e) => {
                        tracing::warn!(url = %jwks.url, "JWKS refresh failed, keeping the old keys: {e}")
                    }
                }
            }
        });
    }
}

/// A loaded key, kept alive while a token is checked against it.
#[derive(Debug)]
pub struct KeyRef {
    keys: Arc<HashMap<String, ParsedPublicKey>>,
    kid: String,
}

impl KeyRef {
    /// Verifies an RS256 signature.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.keys
            .get(&self.kid)
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }
}

fn without_url(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    // The URL is the operator's own configuration; the log line names it once already.
    e.without_url().to_string()
}

/// The usable keys of a key set document; keys of other kinds or uses are skipped, one
/// malformed RSA key fails the whole set (a provider publishing it has a problem worth seeing).
fn parse(body: &[u8]) -> Result<HashMap<String, ParsedPublicKey>, FetchError> {
    let doc: Document =
        serde_json::from_slice(body).map_err(|e| FetchError::Malformed(e.to_string()))?;
    let mut keys = HashMap::new();
    for value in doc.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if jwk.kty != "RSA"
            || jwk.usage.as_deref().is_some_and(|u| u != "sig")
            || jwk.alg.as_deref().is_some_and(|a| a != "RS256")
        {
            continue;
        }
        let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
            continue;
        };
        let component = |name: &str, text: &str| {
            let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| {
                FetchError::Malformed(format!("key {kid}: {name} is not base64url"))
            })?;
            // Big-endian without leading zeros, as the verifier wants it.
            let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
            Ok::<_, FetchError>(bytes[first..].to_vec())
        };
        let components = RsaPublicKeyComponents {
            n: component("n", &n)?,
            e: component("e", &e)?,
        };
        let bits = components.n.len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(FetchError::Malformed(format!(
                "key {kid}: RSA modulus of {bits} bits (2048 to 8192 accepted)"
            )));
        }
        let key = components
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(|e| FetchError::Malformed(format!("key {kid}: {e}")))?;
        keys.insert(kid, key);
    }
    if keys.is_empty() {
        return Err(FetchError::NoKeys);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_loopback() {
        assert!(check_url("--jwks-url", "https://idp.example.com/jwks").is_ok());
        assert!(check_url("--jwks-url", "http://127.0.0.1:9/jwks").is_ok());
        assert!(check_url("--jwks-url", "http://[::1]:9/jwks").is_ok());
        assert!(check_url("--jwks-url", "http://localhost:9/jwks").is_ok());
        assert!(check_url("--jwks-url", "http://idp.example.com/jwks").is_err());
        assert!(check_url("--jwks-url", "ftp://127.0.0.1/jwks").is_err());
        assert!(check_url("--jwks-url", "not a url").is_err());
    }

    #[test]
    fn only_rs256_signing_keys_are_kept() {
        // A 2048-bit modulus of 0xff bytes is not a valid key but parses as components; the
        // parser is exercised on what it skips, and on an empty result.
        let none = br#"{"keys":[{"kty":"EC","kid":"e","crv":"P-256"},{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},{"kty":"RSA","kid":"hs","alg":"HS256","n":"AQAB","e":"AQAB"}]}"#;
        assert!(matches!(parse(none), Err(FetchError::NoKeys)));
        let small = br#"{"keys":[{"kty":"RSA","kid":"s","n":"AQAB","e":"AQAB"}]}"#;
        assert!(matches!(parse(small), Err(FetchError::Malformed(_))));
        assert!(matches!(parse(b"[]"), Err(FetchError::Malformed(_))));
        assert!(matches!(parse(b"<html>"), Err(FetchError::Malformed(_))));
    }
}
