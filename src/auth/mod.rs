//! Authentication and authorization: who sends a request, and what it may do and reach.
//!
//! ```text
//! request ─► address bucket ─► credential (JWT, API key, session) ─► identity bucket ─► Caller
//!                                                                                  │
//!   endpoint permission (the edge's route table) ◄────────────────────────────────┤
//!   statement class, touched tables, tenant namespace, symbol scope (sql) ◄────────┘
//! ```
//!
//! [`Auth`] is built once from the flags: [`Mode::Open`] (no authentication: every caller is
//! the anonymous administrator, and the client's tenant header is trusted, as the reference's
//! `--no-auth`) or [`Mode::Enforced`]. Each front door turns a request's credential into a
//! [`Caller`] here and passes it to the services, which ask it before they touch anything
//! ([`Caller::require`], [`Caller::check_tables`]). Refusals are typed ([`Error`]) and audited
//! ([`audit`]); no module here knows HTTP.

pub mod audit;
pub mod clients;
pub mod error;
pub mod identity;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod oidc;
pub mod rate;
pub mod role;
pub mod sessions;
pub mod tenants;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use self::audit::{Audit, Event, RING_CAPACITY};
use self::clients::Clients;
pub use self::error::{Error, Result};
pub use self::identity::{AccessScope, Caller, Identity, Source, TenantBinding};
use self::jwt::{JwtSettings, JwtVerifier};
use self::keys::KeyStore;
use self::oidc::{Oidc, OidcSettings};
use self::rate::{MAX_KEYS, RateLimiter};
pub use self::role::{Permission, Role};
use self::sessions::Sessions;
use self::tenants::Tenants;

/// Whether requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No authentication (`--no-auth`, or a loopback bind with no credential source).
    Open,
    /// Every request but the public paths carries a credential.
    Enforced,
}

/// Request rates (0 disables a limiter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSettings {
    /// Requests a minute per identity.
    pub rpm: u32,
    /// Burst per identity.
    pub burst: u32,
    /// Requests a minute per client address.
    pub ip_rpm: u32,
    /// Burst per client address.
    pub ip_burst: u32,
}

/// Everything [`Auth`] is built from.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Open or enforced.
    pub mode: Mode,
    /// `--api-keys-file`.
    pub keys_file: Option<PathBuf>,
    /// JWT keys and required claims.
    pub jwt: JwtSettings,
    /// `--tenant` values.
    pub tenants: Vec<String>,
    /// Rate limits.
    pub rate: RateSettings,
    /// `--audit-log-file`.
    pub audit_file: Option<PathBuf>,
    /// `--public-metrics`: `/metrics` without credentials.
    pub public_metrics: bool,
    /// How long a session lives at most.
    pub session_ttl: Duration,
    /// OIDC login, when configured.
    pub oidc: Option<OidcSettings>,
}

impl AuthSettings {
    /// Open mode with nothing configured (tests, embedders).
    pub fn open() -> Self {
        AuthSettings {
            mode: Mode::Open,
            keys_file: None,
            jwt: JwtSettings::default(),
            tenants: Vec::new(),
            rate: RateSettings {
                rpm: 0,
                burst: 0,
                ip_rpm: 0,
                ip_burst: 0,
            },
            audit_file: None,
            public_metrics: false,
            session_ttl: DEFAULT_SESSION_TTL,
            oidc: None,
        }
    }
}

/// A session's longest life unless `--session-ttl-secs` says otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// A credential as a front door found it.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// None sent.
    None,
    /// A bearer token: an API key or a JWT.
    Bearer(&'a str),
    /// A `zepto_sid` session cookie.
    Session(&'a str),
    /// Something that is not a credential this server takes.
    Malformed,
}

/// The authentication service.
#[derive(Debug)]
pub struct Auth {
    mode: Mode,
    keys: Option<KeyStore>,
    jwt: Option<JwtVerifier>,
    tenants: Tenants,
    per_identity: Option<RateLimiter<String>>,
    per_address: Option<RateLimiter<IpAddr>>,
    audit: Arc<Audit>,
    clients: Clients,
    public_metrics: bool,
    sessions: Sessions,
    oidc: Option<Oidc>,
}

impl Auth {
    /// The service `settings` describe. Anything that cannot work (a malformed key file, a
    /// bad JWT key, enforced mode with no usable credential) is an error naming the flag: the
    /// server refuses to start rather than run weaker than asked.
    pub fn new(settings: &AuthSettings) -> std::result::Result<Self, String> {
        let keys = match &settings.keys_file {
            None => None,
            Some(path) => Some(KeyStore::open(path).map_err(|e| e.to_string())?),
        };
        let jwt = JwtVerifier::new(&settings.jwt)?;
        let tenants = Tenants::parse(&settings.tenants)?;
        let oidc = settings.oidc.clone().map(Oidc::new).transpose()?;
        if settings.mode == Mode::Enforced
            && jwt.is_none()
            && oidc.is_none()
            && keys.as_ref().is_none_or(KeyStore::is_empty)
        {
            let file = settings
                .keys_file
                .as_ref()
                .map_or_else(|| "keys.json".to_string(), |p| p.display().to_string());
            return Err(format!(
                "authentication is on but no credential can be accepted: {}. Create the first key with \
                 `strata keys create --api-keys-file {file} --name admin --role admin` and start with \
                 --api-keys-file {file}, or configure --jwt-secret / --jwt-public-key",
                if keys.is_some() {
                    "the API key file holds no key"
                } else {
                    "no --api-keys-file, --jwt-secret or --jwt-public-key"
                }
            ));
        }
        let audit = match &settings.audit_file {
            None => Audit::new(RING_CAPACITY, None),
            Some(path) => Audit::with_file(RING_CAPACITY, path)
                .map_err(|e| format!("--audit-log-file {}: {e}", path.display()))?,
        };
        let r = settings.rate;
        Ok(Auth {
            mode: settings.mode,
            keys,
            jwt,
            tenants,
            per_identity: RateLimiter::new(r.rpm, r.burst, MAX_KEYS),
            per_address: RateLimiter::new(r.ip_rpm, r.ip_burst, MAX_KEYS),
            audit: Arc::new(audit),
            clients: Clients::default(),
            public_metrics: settings.public_metrics,
            sessions: Sessions::new(settings.session_ttl),
            oidc,
        })
    }

    /// Starts what runs beside the requests: the first fetch of the JWKS (a provider that is
    /// down leaves JWTs refused until a later fetch succeeds, never accepted) and its
    /// background refresh.
    pub async fn start(&self, jwks_refresh: Duration) {
        let Some(jwks) = self.jwt.as_ref().and_then(JwtVerifier::jwks) else {
            return;
        };
        match jwks.reload().await {
            Ok(n) => tracing::info!(keys = n, "JWKS loaded"),
            Err(e) => tracing::error!("JWKS not loaded; RS256 tokens are refused until it is: {e}"),
        }
        jwks.spawn_refresh(jwks_refresh);
    }

    /// `POST /admin/auth/reload`: fetches the JWKS now; the number of keys loaded.
    pub async fn reload_jwks(&self) -> Result<usize> {
        let Some(jwks) = self.jwt.as_ref().and_then(JwtVerifier::jwks) else {
            return Err(Error::IdentityProvider(
                "no JWKS is configured (--jwks-url)".into(),
            ));
        };
        jwks.reload()
            .await
            .map_err(|e| Error::IdentityProvider(e.to_string()))
    }

    /// The sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The OIDC client, or why there is none.
    pub fn oidc(&self) -> Result<&Oidc> {
        self.oidc.as_ref().ok_or(Error::OidcUnconfigured)
    }

    /// Open mode with nothing configured.
    pub fn open() -> Self {
        Auth {
            mode: Mode::Open,
            keys: None,
            jwt: None,
            tenants: Tenants::default(),
            per_identity: None,
            per_address: None,
            audit: Arc::new(Audit::new(RING_CAPACITY, None)),
            clients: Clients::default(),
            public_metrics: false,
            sessions: Sessions::new(DEFAULT_SESSION_TTL),
            oidc: None,
        }
    }

    /// Open or enforced.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether `/metrics` is public.
    pub fn public_metrics(&self) -> bool {
        self.public_metrics
    }

    /// The audit log.
    pub fn audit(&self) -> &Arc<Audit> {
        &self.audit
    }

    /// The API keys, when a key file is configured.
    pub fn keys(&self) -> Option<&KeyStore> {
        self.keys.as_ref()
    }

    /// The clients seen recently (`/admin/sessions`).
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The caller of open mode: the anonymous administrator, for `tenant` if the client named
    /// one.
    pub fn anonymous(
        &self,
        tenant: Option<String>,
        from: Option<IpAddr>,
        action: String,
    ) -> Caller {
        let binding = self.tenants.bind(tenant.as_deref());
        let identity = Arc::new(Identity::anonymous(tenant));
        self.clients.seen(from, &identity.subject);
        Caller::new(identity, binding, from, action, Arc::clone(&self.audit))
    }

    /// Charges the client address's bucket: before any credential is looked at, so invalid
    /// credentials cannot be tried faster than the limit.
    pub fn admit_address(&self, from: Option<IpAddr>, action: &str) -> Result<()> {
        let (Some(limiter), Some(ip)) = (&self.per_address, from) else {
            return Ok(());
        };
        limiter.check(&ip, Instant::now()).map_err(|retry_after| {
            self.refuse_unknown(
                Error::RateLimited {
                    retry_after,
                    before_authentication: true,
                },
                action,
                from,
            )
        })
    }

    /// The caller `credential` proves, its identity's bucket charged.
    pub async fn authenticate(
        &self,
        credential: Credential<'_>,
        from: Option<IpAddr>,
        action: String,
    ) -> Result<Caller> {
        let identity = match self.identify(credential).await {
            Ok(identity) => identity,
            Err(e) => return Err(self.refuse_unknown(e, &action, from)),
        };
        let binding = self.tenants.bind(identity.scope.tenant.as_deref());
        let caller = Caller::new(
            Arc::clone(&identity),
            binding,
            from,
            action,
            Arc::clone(&self.audit),
        );
        if let Some(limiter) = &self.per_identity {
            let key = format!("{}:{}", identity.source.as_str(), identity.subject);
            limiter.check(&key, Instant::now()).map_err(|retry_after| {
                caller.refuse(Error::RateLimited {
                    retry_after,
                    before_authentication: false,
                })
            })?;
        }
        self.clients.seen(from, &identity.subject);
        let how = match credential {
            Credential::Session(_) => "session",
            _ => identity.source.as_str(),
        };
        caller.audit(format!("{how}-auth"));
        Ok(caller)
    }

    /// The identity behind a Bearer token alone (no bucket, no audit): for turning a token
    /// into a session, which the request's own authentication already charged and audited.
    pub async fn identify(&self, credential: Credential<'_>) -> Result<Arc<Identity>> {
        let token = match credential {
            Credential::None => return Err(Error::MissingCredentials),
            Credential::Malformed => return Err(Error::BadScheme),
            Credential::Session(id) => {
                return self
                    .sessions
                    .get(id, self.keys.as_ref())
                    .map(|active| active.identity);
            }
            Credential::Bearer(token) => token,
        };
        if let (true, Some(jwt)) = (token.starts_with("ey"), &self.jwt) {
            return jwt.verify(token, now_seconds()).await.map(Arc::new);
        }
        match &self.keys {
            Some(keys) => keys.authenticate(token),
            None => Err(Error::InvalidApiKey),
        }
    }

    fn refuse_unknown(&self, error: Error, action: &str, from: Option<IpAddr>) -> Error {
        self.audit.record(Event::anonymous(
            "-",
            "",
            action,
            error.audit_detail(),
            from,
        ));
        error
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keys::NewKey;

    fn enforced(dir: &std::path::Path) -> (Auth, String) {
        let path = dir.join("keys.json");
        let store = KeyStore::open(&path).unwrap();
        let (admin, _) = store
            .create(&NewKey {
                name: Some("root".into()),
                role: Some("admin".into()),
                ..NewKey::default()
            })
            .unwrap();
        let settings = AuthSettings {
            mode: Mode::Enforced,
            keys_file: Some(path),
            rate: RateSettings {
                rpm: 60,
                burst: 2,
                ip_rpm: 0,
                ip_burst: 0,
            },
            ..AuthSettings::open()
        };
        (Auth::new(&settings).unwrap(), admin)
    }

    #[test]
    fn enforced_mode_needs_a_credential_source() {
        let dir = tempfile::tempdir().unwrap();
        let none = AuthSettings {
            mode: Mode::Enforced,
            ..AuthSettings::open()
        };
        assert!(Auth::new(&none).unwrap_err().contains("strata keys create"));
        let empty = AuthSettings {
            keys_file: Some(dir.path().join("empty.json")),
            ..none
        };
        assert!(Auth::new(&empty).unwrap_err().contains("holds no key"));
    }

    #[tokio::test]
    async fn keys_and_limits() {
        let dir = tempfile::tempdir().unwrap();
        let (auth, admin) = enforced(dir.path());
        let ok = auth
            .authenticate(Credential::Bearer(&admin), None, "POST /".into())
            .await
            .unwrap();
        assert_eq!(ok.identity.role, Role::Admin);
        assert!(matches!(
            auth.authenticate(Credential::None, None, "POST /".into())
                .await,
            Err(Error::MissingCredentials)
        ));
        assert!(matches!(
            auth.authenticate(Credential::Bearer("eyJhbGciOi.x.y"), None, "POST /".into())
                .await,
            Err(Error::InvalidApiKey)
        ));
        auth.authenticate(Credential::Bearer(&admin), None, "POST /".into())
            .await
            .unwrap();
        assert!(matches!(
            auth.authenticate(Credential::Bearer(&admin), None, "POST /".into())
                .await,
            Err(Error::RateLimited {
                before_authentication: false,
                ..
            })
        ));
        let events = auth.audit().recent(100);
        assert!(events.iter().any(|e| e.detail == "apikey-auth"));
        assert!(events.iter().any(|e| e.detail == "rate-limit-forbidden"));
        assert!(events.iter().all(|e| !e.detail.contains(&admin)));
    }
}
