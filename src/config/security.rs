//! The authentication flags, resolved into [`AuthSettings`] with the fail-closed rules:
//! authentication is on when a credential source is configured or `--auth` is given;
//! `--no-auth` turns it off; with neither, only a loopback bind may run open.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

use crate::auth::jwt::JwtSettings;
use crate::auth::oidc::OidcSettings;
use crate::auth::{AuthSettings, Mode, RateSettings};

/// Authentication and access flags (flattened into [`Config`](super::Config)).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Security")]
pub struct SecurityArgs {
    /// Require authentication even with no credential source on the command line (the server
    /// then refuses to start until one is configured).
    #[arg(long, env = "STRATA_AUTH", conflicts_with = "no_auth")]
    pub auth: bool,

    /// Serve without authentication: every caller is the administrator, and the client's
    /// X-Zepto-Tenant-Id is trusted (the reference's open mode). Needed to run open on a
    /// non-loopback address.
    #[arg(long, env = "STRATA_NO_AUTH")]
    pub no_auth: bool,

    /// The API key file (only SHA-256 hashes are stored; mode 0600). Make the first key with
    /// `strata keys create --api-keys-file FILE --name admin --role admin`.
    #[arg(long, env = "STRATA_API_KEYS_FILE")]
    pub api_keys_file: Option<PathBuf>,

    /// HS256 secret for JWTs, at least 32 bytes (prefer the environment variable: flags are
    /// visible to other users of the machine).
    #[arg(long, env = "STRATA_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// RS256 public key for JWTs: a PEM file (`-----BEGIN PUBLIC KEY-----`).
    #[arg(long, env = "STRATA_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// RS256 keys by `kid` from the identity provider's JSON Web Key Set (https; plain http
    /// only from a loopback address). Refreshed in the background, on an unknown `kid`, and by
    /// `POST /admin/auth/reload`.
    #[arg(long, env = "STRATA_JWKS_URL", conflicts_with = "jwt_public_key")]
    pub jwks_url: Option<String>,

    /// Seconds between background fetches of --jwks-url.
    #[arg(long, env = "STRATA_JWKS_REFRESH_SECS", default_value_t = 3600)]
    pub jwks_refresh_secs: u64,

    /// The `iss` every JWT must carry (required with JWTs).
    #[arg(long, env = "STRATA_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// A value every JWT's `aud` must hold (required with JWTs).
    #[arg(long, env = "STRATA_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Register a tenant: `id:namespace[:max_concurrent_queries]`; its requests touch only tables
    /// whose names start with the namespace (empty: all). Repeatable.
    #[arg(long = "tenant", env = "STRATA_TENANTS", value_delimiter = ',')]
    pub tenants: Vec<String>,

    /// Requests a minute per identity (0: no limit).
    #[arg(long, env = "STRATA_RATE_LIMIT_RPM", default_value_t = 1000)]
    pub rate_limit_rpm: u32,

    /// Burst per identity.
    #[arg(long, env = "STRATA_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,

    /// Requests a minute per client address, charged before credentials are checked (0: no
    /// limit).
    #[arg(long, env = "STRATA_IP_RATE_LIMIT_RPM", default_value_t = 10_000)]
    pub ip_rate_limit_rpm: u32,

    /// Burst per client address.
    #[arg(long, env = "STRATA_IP_RATE_LIMIT_BURST", default_value_t = 500)]
    pub ip_rate_limit_burst: u32,

    /// Also append every audit event to this file, one JSON object per line.
    #[arg(long, env = "STRATA_AUDIT_LOG_FILE")]
    pub audit_log_file: Option<PathBuf>,

    /// Serve /metrics without credentials (for a Prometheus scraper).
    #[arg(long, env = "STRATA_PUBLIC_METRICS")]
    pub public_metrics: bool,

    /// Longest life of a session (`POST /auth/session`, OIDC login), in seconds; a session
    /// never outlives the token it was made from.
    #[arg(long, env = "STRATA_SESSION_TTL_SECS", default_value_t = 8 * 3600)]
    pub session_ttl_secs: u64,

    /// OIDC provider for browser login (`/auth/login`): its issuer URL (https; http only on
    /// loopback). Needs the other three --oidc-* flags.
    #[arg(long, env = "STRATA_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// This server's client id at the OIDC provider.
    #[arg(long, env = "STRATA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// Its client secret (prefer the environment variable).
    #[arg(long, env = "STRATA_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// This server's callback as registered at the provider: `https://<host>/auth/callback`.
    #[arg(long, env = "STRATA_OIDC_REDIRECT_URI")]
    pub oidc_redirect_uri: Option<String>,
}

impl SecurityArgs {
    /// The settings for a server listening on `bind`; contradictions and unsafe combinations
    /// are an error naming the flags.
    pub fn settings(&self, bind: IpAddr) -> Result<AuthSettings, String> {
        let sources = self.api_keys_file.is_some()
            || self.jwt_secret.is_some()
            || self.jwt_public_key.is_some()
            || self.jwks_url.is_some()
            || self.oidc_issuer.is_some();
        let mode = if self.no_auth {
            if sources {
                return Err(
                    "--no-auth cannot be combined with --api-keys-file, --jwt-secret, --jwt-public-key, --jwks-url or --oidc-issuer"
                        .into(),
                );
            }
            Mode::Open
        } else if sources || self.auth {
            Mode::Enforced
        } else if bind.is_loopback() {
            Mode::Open
        } else {
            return Err(format!(
                "refusing to serve {bind} without authentication. Either create a key \
                 (`strata keys create --api-keys-file keys.json --name admin --role admin`) and \
                 start with --api-keys-file keys.json, or pass --no-auth to accept every caller \
                 as administrator"
            ));
        };
        let jwt = self.jwt()?;
        if self.session_ttl_secs == 0 {
            return Err("--session-ttl-secs must be above 0".into());
        }
        Ok(AuthSettings {
            mode,
            keys_file: self.api_keys_file.clone(),
            jwt,
            tenants: self.tenants.clone(),
            rate: RateSettings {
                rpm: self.rate_limit_rpm,
                burst: self.rate_limit_burst,
                ip_rpm: self.ip_rate_limit_rpm,
                ip_burst: self.ip_rate_limit_burst,
            },
            audit_file: self.audit_log_file.clone(),
            public_metrics: self.public_metrics,
            session_ttl: std::time::Duration::from_secs(self.session_ttl_secs),
            oidc: self.oidc()?,
        })
    }

    fn oidc(&self) -> Result<Option<OidcSettings>, String> {
        match (
            &self.oidc_issuer,
            &self.oidc_client_id,
            &self.oidc_client_secret,
            &self.oidc_redirect_uri,
        ) {
            (None, None, None, None) => Ok(None),
            (Some(issuer), Some(client_id), Some(client_secret), Some(redirect_uri)) => {
                let issuer = crate::auth::jwks::check_url("--oidc-issuer", issuer)?;
                let redirect_uri = url::Url::parse(redirect_uri)
                    .map_err(|e| format!("--oidc-redirect-uri {redirect_uri}: {e}"))?;
                Ok(Some(OidcSettings {
                    issuer,
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    redirect_uri,
                }))
            }
            _ => Err("OIDC login needs all of --oidc-issuer, --oidc-client-id, \
                      --oidc-client-secret and --oidc-redirect-uri"
                .into()),
        }
    }

    fn jwt(&self) -> Result<JwtSettings, String> {
        if self.jwt_secret.is_none() && self.jwt_public_key.is_none() && self.jwks_url.is_none() {
            if self.jwt_issuer.is_some() || self.jwt_audience.is_some() {
                return Err(
                    "--jwt-issuer/--jwt-audience need --jwt-secret, --jwt-public-key or --jwks-url"
                        .into(),
                );
            }
            return Ok(JwtSettings::default());
        }
        let (Some(issuer), Some(audience)) = (&self.jwt_issuer, &self.jwt_audience) else {
            return Err(
                "JWTs need --jwt-issuer and --jwt-audience: without them a token minted for \
                 another service would be accepted here"
                    .into(),
            );
        };
        let public_key_pem = match &self.jwt_public_key {
            None => None,
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| format!("--jwt-public-key {}: {e}", path.display()))?,
            ),
        };
        let jwks_url = match &self.jwks_url {
            None => None,
            Some(url) => Some(crate::auth::jwks::check_url("--jwks-url", url)?),
        };
        if self.jwks_refresh_secs == 0 {
            return Err("--jwks-refresh-secs must be above 0".into());
        }
        Ok(JwtSettings {
            secret: self.jwt_secret.as_ref().map(|s| s.as_bytes().to_vec()),
            public_key_pem,
            jwks_url,
            jwks_refresh: std::time::Duration::from_secs(self.jwks_refresh_secs),
            issuer: Some(issuer.clone()),
            audience: Some(audience.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Config;

    fn resolve(args: &[&str]) -> Result<AuthSettings, String> {
        let mut all = vec!["strata"];
        all.extend_from_slice(args);
        let c = Config::try_parse_from(all).map_err(|e| e.to_string())?;
        c.security.settings(c.server.bind)
    }

    #[test]
    fn modes_fail_closed() {
        assert_eq!(
            resolve(&[]).unwrap().mode,
            Mode::Open,
            "loopback stays open"
        );
        let open_bind = resolve(&["--bind", "0.0.0.0"]).unwrap_err();
        assert!(
            open_bind.contains("--no-auth") && open_bind.contains("strata keys create"),
            "{open_bind}"
        );
        assert_eq!(
            resolve(&["--bind", "0.0.0.0", "--no-auth"]).unwrap().mode,
            Mode::Open
        );
        assert_eq!(
            resolve(&["--api-keys-file", "k"]).unwrap().mode,
            Mode::Enforced
        );
        assert_eq!(resolve(&["--auth"]).unwrap().mode, Mode::Enforced);
        assert!(resolve(&["--no-auth", "--api-keys-file", "k"]).is_err());
        assert!(resolve(&["--no-auth", "--auth"]).is_err());
    }

    #[test]
    fn jwt_needs_issuer_and_audience() {
        let secret = "s".repeat(40);
        assert!(
            resolve(&["--jwt-secret", &secret])
                .unwrap_err()
                .contains("--jwt-issuer")
        );
        let ok = resolve(&[
            "--jwt-secret",
            &secret,
            "--jwt-issuer",
            "i",
            "--jwt-audience",
            "a",
        ])
        .unwrap();
        assert_eq!(ok.mode, Mode::Enforced);
        assert!(resolve(&["--jwt-issuer", "i"]).is_err());
        let jwks = |url: &str| {
            resolve(&[
                "--jwks-url",
                url,
                "--jwt-issuer",
                "i",
                "--jwt-audience",
                "a",
            ])
        };
        assert_eq!(
            jwks("https://idp.example.com/jwks").unwrap().mode,
            Mode::Enforced
        );
        assert!(
            jwks("http://idp.example.com/jwks")
                .unwrap_err()
                .contains("https")
        );
        assert!(jwks("http://127.0.0.1:1/jwks").is_ok());
        assert!(
            resolve(&["--jwks-url", "https://idp.example.com/jwks"])
                .unwrap_err()
                .contains("--jwt-issuer")
        );
    }

    #[test]
    fn rate_defaults_are_the_references() {
        let s = resolve(&[]).unwrap();
        assert_eq!(
            s.rate,
            RateSettings {
                rpm: 1000,
                burst: 200,
                ip_rpm: 10_000,
                ip_burst: 500
            }
        );
    }
}
