//! Server-side sessions: a random id handed to a browser as the `zepto_sid` cookie, standing
//! for an identity established once (a Bearer token on `POST /auth/session`, or an OIDC login).
//!
//! Only the SHA-256 of an id is kept, so the table itself holds nothing a client could send.
//! A session lasts its time to live, never longer than the credential it came from (a JWT's
//! `exp`), and one made from an API key ends the moment the key is revoked, disabled or
//! expires: each use asks the key store again. The table is bounded; when full, the session
//! closest to its end makes room.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use super::error::{Error, Result};
use super::identity::{Identity, Source};
use super::keys::{KeyStore, random};

/// The cookie's name (the reference's).
pub const COOKIE: &str = "zepto_sid";
/// Most sessions held at once.
pub const MAX_SESSIONS: usize = 100_000;

/// Tokens of an OIDC login, for `POST /auth/refresh`.
#[derive(Clone)]
pub struct OidcTokens {
    /// The provider's refresh token, if it gave one.
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for OidcTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcTokens")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .finish()
    }
}

#[derive(Debug, Clone)]
struct Session {
    identity: Arc<Identity>,
    expires_at: SystemTime,
    oidc: Option<OidcTokens>,
}

/// A session as its owner may see it.
#[derive(Debug, Clone)]
pub struct Active {
    /// Who it is.
    pub identity: Arc<Identity>,
    /// OIDC tokens, for sessions of an OIDC login.
    pub oidc: Option<OidcTokens>,
}

/// Every live session.
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
}

fn hash(id: &str) -> [u8; 32] {
    super::keys::sha256(id)
}

impl Sessions {
    /// Sessions living `ttl` at most.
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            ttl,
            by_hash: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `identity`, ending with its credential if that is sooner than the
    /// time to live; returns its id (the cookie value) and how long it lives.
    pub fn create(
        &self,
        identity: Arc<Identity>,
        oidc: Option<OidcTokens>,
    ) -> Result<(String, Duration)> {
        let now = SystemTime::now();
        let expires_at = self.end(now, &identity);
        let lifetime = expires_at.duration_since(now).unwrap_or_default();
        if lifetime.is_zero() {
            return Err(Error::InvalidToken { reason: "expired" });
        }
        let id = hex::encode(random::<32>()?);
        let mut map = self.by_hash.lock();
        map.retain(|_, s| s.expires_at > now);
        if map.len() >= MAX_SESSIONS
            && let Some(soonest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires_at)
                .map(|(k, _)| *k)
        {
            map.remove(&soonest);
        }
        map.insert(
            hash(&id),
            Session {
                identity,
                expires_at,
                oidc,
            },
        );
        Ok((id, lifetime))
    }

    /// The session `id` stands for, if it is live; for a session made from an API key, the
    /// key's current identity (none once it is revoked, disabled or expired).
    pub fn get(&self, id: &str, keys: Option<&KeyStore>) -> Result<Active> {
        let key = hash(id);
        let mut map = self.by_hash.lock();
        let Some(session) = map.get(&key) else {
            return Err(Error::InvalidSession);
        };
        if session.expires_at <= SystemTime::now() {
            map.remove(&key);
            return Err(Error::InvalidSession);
        }
        let identity = match session.identity.source {
            Source::ApiKey => match keys.and_then(|k| k.identity_of(&session.identity.subject)) {
                Some(current) => current,
                None => {
                    map.remove(&key);
                    return Err(Error::InvalidSession);
                }
            },
            _ => Arc::clone(&session.identity),
        };
        Ok(Active {
            identity,
            oidc: session.oidc.clone(),
        })
    }

    /// Replaces an OIDC session's identity and tokens after a refresh, and extends it.
    pub fn refreshed(
        &self,
        id: &str,
        identity: Arc<Identity>,
        oidc: OidcTokens,
    ) -> Result<Duration> {
        let now = SystemTime::now();
        let expires_at = self.end(now, &identity);
        let mut map = self.by_hash.lock();
        let session = map.get_mut(&hash(id)).ok_or(Error::InvalidSession)?;
        session.identity = identity;
        session.expires_at = expires_at;
        session.oidc = Some(oidc);
        Ok(expires_at.duration_since(now).unwrap_or_default())
    }

    fn end(&self, now: SystemTime, identity: &Identity) -> SystemTime {
        let by_ttl = now + self.ttl;
        identity.expires_at.map_or(by_ttl, |end| end.min(by_ttl))
    }

    /// Ends the session `id`; whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        self.by_hash.lock().remove(&hash(id)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::identity::AccessScope;
    use crate::auth::role::Role;

    fn jwt_identity(expires_at: Option<SystemTime>) -> Arc<Identity> {
        Arc::new(Identity {
            subject: "alice".into(),
            name: None,
            role: Role::Reader,
            source: Source::Jwt,
            scope: AccessScope::default(),
            expires_at,
        })
    }

    #[test]
    fn sessions_live_and_end() {
        let sessions = Sessions::new(Duration::from_secs(3600));
        let (id, life) = sessions.create(jwt_identity(None), None).unwrap();
        assert_eq!(id.len(), 64);
        assert!(life <= Duration::from_secs(3600));
        assert_eq!(sessions.get(&id, None).unwrap().identity.subject, "alice");
        assert!(sessions.get("0".repeat(64).as_str(), None).is_err());
        assert!(sessions.remove(&id));
        assert!(sessions.get(&id, None).is_err());
        // Never beyond the credential's own end.
        let soon = SystemTime::now() + Duration::from_secs(5);
        let (_, life) = sessions.create(jwt_identity(Some(soon)), None).unwrap();
        assert!(life <= Duration::from_secs(5));
        let past = SystemTime::now() - Duration::from_secs(1);
        assert!(sessions.create(jwt_identity(Some(past)), None).is_err());
    }

    #[test]
    fn key_sessions_follow_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(&dir.path().join("keys.json")).unwrap();
        let (secret, id) = store
            .create(&crate::auth::keys::NewKey {
                name: Some("w".into()),
                role: Some("writer".into()),
                ..Default::default()
            })
            .unwrap();
        let identity = store.authenticate(&secret).unwrap();
        let sessions = Sessions::new(Duration::from_secs(60));
        let (sid, _) = sessions.create(identity, None).unwrap();
        assert!(sessions.get(&sid, Some(&store)).is_ok());
        store.revoke(&id).unwrap();
        assert!(matches!(
            sessions.get(&sid, Some(&store)),
            Err(Error::InvalidSession)
        ));
    }
}
