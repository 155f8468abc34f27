//! JSON Web Tokens: HS256 with a shared secret, RS256 with a public key or the provider's key
//! set ([`super::jwks`], chosen by the token's `kid`). Strict by design:
//!
//! - exactly three base64url segments, canonical and unpadded; at most 8 KiB;
//! - only the algorithms configured (an RS256 key is never used as an HMAC secret; `none`, HS512,
//!   ES256… are refused); a `crit` header is refused (no extension is understood);
//! - `exp` required and `now >= exp` refuses, `nbf` honoured, no leeway; `sub` required;
//!   `iss` and `aud` (string or array) must match when configured;
//! - a claim given twice, or of the wrong type, refuses the token;
//! - with a key set, a token without `kid` is accepted only while the set holds one key.
//!
//! Claims read: `sub`; the role from `role` (the reference's documentation) or `zepto_role`
//! (its code), which must agree when both are given; `tenant_id`; `allowed_tables`;
//! `zepto_symbols` (comma-separated, or an array).

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_lc_rs::{hmac, signature};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::error::Error;
use super::identity::{AccessScope, Identity, Source};
use super::jwks::Jwks;
use super::role::Role;

/// Longest token accepted.
const MAX_TOKEN: usize = 8 * 1024;
/// Shortest HS256 secret accepted (256 bits).
pub const MIN_SECRET: usize = 32;

/// What tokens are checked against.
#[derive(Debug, Clone, Default)]
pub struct JwtSettings {
    /// HS256 secret (at least [`MIN_SECRET`] bytes).
    pub secret: Option<Vec<u8>>,
    /// RS256 public key, PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: Option<Vec<u8>>,
    /// RS256 keys by `kid`, fetched from the provider (HTTPS, or HTTP on loopback).
    pub jwks_url: Option<url::Url>,
    /// How often the key set is fetched again in the background.
    pub jwks_refresh: std::time::Duration,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required member of `aud`.
    pub audience: Option<String>,
}

/// Checks tokens.
pub struct JwtVerifier {
    hs256: Option<hmac::Key>,
    rs256: Option<signature::ParsedPublicKey>,
    jwks: Option<Arc<Jwks>>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.is_some())
            .field("jwks", &self.jwks)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iss: Option<String>,
    aud: Option<OneOrMany>,
    role: Option<String>,
    zepto_role: Option<String>,
    tenant_id: Option<String>,
    allowed_tables: Option<Vec<String>>,
    zepto_symbols: Option<OneOrMany>,
}

fn invalid(reason: &'static str) -> Error {
    Error::InvalidToken { reason }
}

impl JwtVerifier {
    /// A verifier for `settings`; `None` when no key is configured. Bad keys are an error
    /// naming the flag (the server refuses to start rather than accept fewer tokens).
    pub fn new(settings: &JwtSettings) -> Result<Option<Self>, String> {
        let hs256 = match &settings.secret {
            None => None,
            Some(s) if s.len() < MIN_SECRET => {
                return Err(format!(
                    "--jwt-secret must be at least {MIN_SECRET} bytes (got {})",
                    s.len()
                ));
            }
            Some(s) => Some(hmac::Key::new(hmac::HMAC_SHA256, s)),
        };
        let rs256 = match &settings.public_key_pem {
            None => None,
            Some(pem) => Some(parse_public_key(pem)?),
        };
        let jwks = match &settings.jwks_url {
            None => None,
            Some(_) if rs256.is_some() => {
                return Err(
                    "--jwt-public-key and --jwks-url are two sources of RS256 keys: give one"
                        .into(),
                );
            }
            Some(url) => Some(Arc::new(Jwks::new(url.clone())?)),
        };
        if hs256.is_none() && rs256.is_none() && jwks.is_none() {
            return Ok(None);
        }
        Ok(Some(JwtVerifier {
            hs256,
            rs256,
            jwks,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        }))
    }

    /// The provider's key set, when `--jwks-url` is configured.
    pub fn jwks(&self) -> Option<&Arc<Jwks>> {
        self.jwks.as_ref()
    }

    /// The identity `token` proves at `now` (seconds since the epoch). A `kid` the key set
    /// does not hold sends for the set again (at most once per cooldown) before refusing.
    pub async fn verify(&self, token: &str, now: f64) -> Result<Identity, Error> {
        let verdict = self.check(token, now);
        if let (Err(Check::UnknownKid), Some(jwks)) = (&verdict, &self.jwks)
            && jwks.refresh_for_unknown_kid().await
        {
            return self.check(token, now).map_err(Check::into_error);
        }
        verdict.map_err(Check::into_error)
    }

    fn check(&self, token: &str, now: f64) -> Result<Identity, Check> {
        if token.len() > MAX_TOKEN {
            return Err(invalid("longer than 8 KiB").into());
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not three dot-separated segments").into());
        };
        let header: Header = serde_json::from_slice(&decode(h)?)
            .map_err(|_| invalid("header is not a JSON object with alg"))?;
        if header.crit.is_some() {
            return Err(invalid("critical header extensions are not supported").into());
        }
        let signature = decode(s)?;
        let signed = &token.as_bytes()[..h.len() + 1 + p.len()];
        let mismatch = || invalid("signature does not match");
        match (header.alg.as_str(), &self.hs256, &self.rs256, &self.jwks) {
            ("HS256", Some(key), _, _) => {
                hmac::verify(key, signed, &signature).map_err(|_| mismatch())?;
            }
            ("RS256", _, Some(key), _) => {
                key.verify_sig(signed, &signature).map_err(|_| mismatch())?;
            }
            ("RS256", _, None, Some(jwks)) => {
                let Some(key) = jwks.key(header.kid.as_deref()) else {
                    return Err(match header.kid {
                        Some(_) => Check::UnknownKid,
                        None => invalid("no kid, and the key set holds more than one key").into(),
                    });
                };
                if !key.verify(signed, &signature) {
                    return Err(mismatch().into());
                }
            }
            _ => return Err(invalid("algorithm not accepted").into()),
        }
        let claims: Claims = serde_json::from_slice(&decode(p)?)
            .map_err(|_| invalid("claims are malformed (a claim repeated or of the wrong type)"))?;
        Ok(self.identity(claims, now)?)
    }

    fn identity(&self, c: Claims, now: f64) -> Result<Identity, Error> {
        let exp = c.exp.ok_or_else(|| invalid("exp is required"))?;
        if now >= exp {
            return Err(invalid("expired"));
        }
        if c.nbf.is_some_and(|nbf| now < nbf) {
            return Err(invalid("not valid yet (nbf)"));
        }
        if let Some(want) = &self.issuer
            && c.iss.as_ref() != Some(want)
        {
            return Err(invalid("issuer is not the configured one"));
        }
        if let Some(want) = &self.audience {
            let ok = match &c.aud {
                Some(OneOrMany::One(a)) => a == want,
                Some(OneOrMany::Many(all)) => all.contains(want),
                None => false,
            };
            if !ok {
                return Err(invalid("audience is not the configured one"));
            }
        }
        let subject = c
            .sub
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("sub is required"))?;
        let role = match (&c.role, &c.zepto_role) {
            (Some(a), Some(b)) if a != b => return Err(invalid("role and zepto_role disagree")),
            (Some(r), _) | (None, Some(r)) => Role::parse(r).unwrap_or(Role::Unknown),
            (None, None) => Role::Unknown,
        };
        let symbols = match c.zepto_symbols {
            None => None,
            Some(OneOrMany::One(csv)) => Some(csv.split(',').map(str::to_string).collect()),
            Some(OneOrMany::Many(list)) => Some(list),
        };
        let set = |v: Option<Vec<String>>| {
            v.filter(|v| !v.is_empty())
                .map(|v| v.into_iter().collect::<BTreeSet<_>>())
        };
        let scope = AccessScope {
            tables: set(c.allowed_tables),
            symbols: set(symbols),
            tenant: c.tenant_id.filter(|t| !t.is_empty()),
        };
        if !scope.is_well_formed() || subject.chars().any(char::is_control) {
            return Err(Error::InvalidScope);
        }
        Ok(Identity {
            subject,
            name: None,
            role,
            source: Source::Jwt,
            scope,
            expires_at: std::time::Duration::try_from_secs_f64(exp)
                .ok()
                .map(|d| std::time::UNIX_EPOCH + d),
        })
    }
}

/// A check's verdict short of an identity: refused, or signed with a key not loaded yet.
enum Check {
    Refused(Error),
    UnknownKid,
}

impl From<Error> for Check {
    fn from(e: Error) -> Self {
        Check::Refused(e)
    }
}

impl Check {
    fn into_error(self) -> Error {
        match self {
            Check::Refused(e) => e,
            Check::UnknownKid => invalid("signed with a key (kid) the key set does not hold"),
        }
    }
}

fn decode(segment: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| invalid("not canonical unpadded base64url"))
}

fn parse_public_key(pem: &[u8]) -> Result<signature::ParsedPublicKey, String> {
    use rustls_pki_types::SubjectPublicKeyInfoDer;
    use rustls_pki_types::pem::PemObject;
    let der = SubjectPublicKeyInfoDer::from_pem_slice(pem).map_err(|e| {
        format!("--jwt-public-key: expected a PEM `PUBLIC KEY` (openssl rsa -pubout): {e}")
    })?;
    signature::ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der.as_ref())
        .map_err(|e| format!("--jwt-public-key: not an RSA public key of 2048 to 8192 bits: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    impl JwtVerifier {
        /// [`JwtVerifier::verify`] without a key set to fetch.
        fn verify_sync(&self, token: &str, now: f64) -> Result<Identity, Error> {
            self.check(token, now).map_err(Check::into_error)
        }
    }

    const SECRET: &[u8] = b"unit-test-secret-of-at-least-32-bytes!";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn sign(header: &serde_json::Value, claims: &str, secret: &[u8]) -> String {
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.as_bytes())
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            signed.as_bytes(),
        );
        format!("{signed}.{}", b64(tag.as_ref()))
    }

    fn hs(claims: serde_json::Value) -> String {
        sign(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &claims.to_string(),
            SECRET,
        )
    }

    fn verifier() -> JwtVerifier {
        JwtVerifier::new(&JwtSettings {
            secret: Some(SECRET.to_vec()),
            issuer: Some("https://idp.test".into()),
            audience: Some("strata".into()),
            ..JwtSettings::default()
        })
        .unwrap()
        .unwrap()
    }

    const NOW: f64 = 1_800_000_000.0;

    fn good() -> serde_json::Value {
        json!({"sub": "alice", "iss": "https://idp.test", "aud": "strata", "exp": NOW + 3600.0, "role": "reader"})
    }

    fn with(k: &str, v: serde_json::Value) -> serde_json::Value {
        let mut c = good();
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v;
        }
        c
    }

    #[test]
    fn a_good_token() {
        let id = verifier().verify_sync(&hs(good()), NOW).unwrap();
        assert_eq!(
            (id.subject.as_str(), id.role, id.source),
            ("alice", Role::Reader, Source::Jwt)
        );
        let scoped = hs(with("allowed_tables", json!(["trades"])));
        let id = verifier().verify_sync(&scoped, NOW).unwrap();
        assert_eq!(
            id.scope.tables.unwrap().into_iter().collect::<Vec<_>>(),
            ["trades"]
        );
        let id = verifier().verify_sync(&hs(with("zepto_role", json!("writer"))), NOW);
        assert!(id.is_err(), "role and zepto_role disagree");
        let mut c = good();
        c.as_object_mut().unwrap().remove("role");
        c["zepto_role"] = json!("admin");
        assert_eq!(
            verifier().verify_sync(&hs(c), NOW).unwrap().role,
            Role::Admin
        );
        let nameless = verifier()
            .verify_sync(&hs(with("role", json!("superuser"))), NOW)
            .unwrap();
        assert_eq!(nameless.role, Role::Unknown);
        let arr = hs(with("aud", json!(["other", "strata"])));
        assert!(verifier().verify_sync(&arr, NOW).is_ok());
    }

    #[test]
    fn refused_tokens() {
        let v = verifier();
        let token = hs(good());
        let (h, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let admin = b64(with("role", json!("admin")).to_string().as_bytes());
        let none_header = b64(json!({"alg": "none"}).to_string().as_bytes());
        let claims = b64(good().to_string().as_bytes());
        let cases: Vec<(&str, String)> = vec![
            ("expired", hs(with("exp", json!(NOW - 1.0)))),
            ("exp exactly now", hs(with("exp", json!(NOW)))),
            ("no exp", hs(with("exp", json!(null)))),
            ("exp a string", hs(with("exp", json!("soon")))),
            ("nbf ahead", hs(with("nbf", json!(NOW + 3600.0)))),
            ("wrong issuer", hs(with("iss", json!("https://evil.test")))),
            ("wrong audience", hs(with("aud", json!("other")))),
            (
                "audience array without ours",
                hs(with("aud", json!(["a", "b"]))),
            ),
            ("no audience", hs(with("aud", json!(null)))),
            ("no sub", hs(with("sub", json!(null)))),
            ("empty sub", hs(with("sub", json!("")))),
            (
                "wrong secret",
                sign(
                    &json!({"alg": "HS256"}),
                    &good().to_string(),
                    b"another-secret-of-at-least-32-bytes!!!",
                ),
            ),
            ("alg none", format!("{none_header}.{claims}.")),
            (
                "alg HS512",
                sign(&json!({"alg": "HS512"}), &good().to_string(), SECRET),
            ),
            (
                "RS256 not configured",
                sign(&json!({"alg": "RS256"}), &good().to_string(), SECRET),
            ),
            ("tampered", format!("{h}.{admin}.{sig}")),
            ("four segments", format!("{token}.x")),
            ("padded", format!("{token}=")),
            (
                "crit",
                sign(
                    &json!({"alg": "HS256", "crit": ["exp"]}),
                    &good().to_string(),
                    SECRET,
                ),
            ),
            (
                "duplicate sub",
                sign(
                    &json!({"alg": "HS256"}),
                    &good().to_string().replacen('{', "{\"sub\":\"bob\",", 1),
                    SECRET,
                ),
            ),
            ("too long", hs(with("pad", json!("x".repeat(9000))))),
        ];
        for (what, t) in cases {
            assert!(
                matches!(v.verify_sync(&t, NOW), Err(Error::InvalidToken { .. })),
                "{what} must be refused"
            );
        }
    }

    #[test]
    fn malformed_scopes_are_not_unrestricted() {
        let v = verifier();
        for (k, val) in [
            ("zepto_symbols", json!(",,,")),
            ("allowed_tables", json!(["trades\n"])),
            ("allowed_tables", json!([""])),
            ("allowed_tables", json!(["a,b"])),
            ("tenant_id", json!("t\u{0}")),
            ("sub", json!("a\nb")),
        ] {
            assert!(
                matches!(
                    v.verify_sync(&hs(with(k, val.clone())), NOW),
                    Err(Error::InvalidScope)
                ),
                "{k}={val}"
            );
        }
    }

    /// An RSA key pair's public half as PEM, and a signer.
    fn rsa() -> (Vec<u8>, impl Fn(&serde_json::Value, &str) -> String) {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::{KeyPair, KeySize};
        use aws_lc_rs::signature::KeyPair as _;
        use base64::engine::general_purpose::STANDARD;
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = pair.public_key().as_der().unwrap();
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<_> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        );
        let signer = move |header: &serde_json::Value, claims: &str| {
            let signed = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.as_bytes())
            );
            let mut sig = vec![0u8; pair.public_modulus_len()];
            pair.sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                signed.as_bytes(),
                &mut sig,
            )
            .unwrap();
            format!("{signed}.{}", b64(&sig))
        };
        (pem.into_bytes(), signer)
    }

    #[test]
    fn rs256_and_no_key_confusion() {
        let (pem, sign_rs) = rsa();
        let v = JwtVerifier::new(&JwtSettings {
            public_key_pem: Some(pem.clone()),
            issuer: Some("https://idp.test".into()),
            audience: Some("strata".into()),
            ..JwtSettings::default()
        })
        .unwrap()
        .unwrap();
        let token = sign_rs(&json!({"alg": "RS256", "kid": "k1"}), &good().to_string());
        assert_eq!(v.verify_sync(&token, NOW).unwrap().subject, "alice");
        // The public key's bytes used as an HMAC secret: HS256 is not configured here.
        let confused = sign(&json!({"alg": "HS256"}), &good().to_string(), &pem);
        assert!(v.verify_sync(&confused, NOW).is_err());
        let (_, other) = rsa();
        let foreign = other(&json!({"alg": "RS256"}), &good().to_string());
        assert!(
            v.verify_sync(&foreign, NOW).is_err(),
            "another key's signature"
        );
    }

    #[test]
    fn settings_are_checked() {
        let short = JwtSettings {
            secret: Some(b"short".to_vec()),
            ..JwtSettings::default()
        };
        assert!(JwtVerifier::new(&short).unwrap_err().contains("32 bytes"));
        let garbage = JwtSettings {
            public_key_pem: Some(b"not a pem".to_vec()),
            ..JwtSettings::default()
        };
        assert!(
            JwtVerifier::new(&garbage)
                .unwrap_err()
                .contains("--jwt-public-key")
        );
        assert!(JwtVerifier::new(&JwtSettings::default()).unwrap().is_none());
    }
}
