//! JWTs against a real server: HS256 identities and claims, and every token that must be
//! refused (expired, not yet valid, wrong issuer/audience/signature, `alg: none`, tampered, an
//! RS256 public key used as an HS256 secret).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Secured, sql_status, status};

pub(crate) const SECRET: &str = "integration-secret-of-at-least-32-bytes!!";
pub(crate) const ISS: &str = "https://idp.example.test";
pub(crate) const AUD: &str = "strata";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret),
        signed.as_bytes(),
    );
    format!("{signed}.{}", b64(tag.as_ref()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "alice@example.test", "iss": ISS, "aud": AUD, "exp": now() + 3600, "role": "reader"});
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// An HS256 token with the test claims, `extra` added (a null removes a claim).
pub(crate) fn hs256(extra: Value) -> String {
    sign(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims(extra),
        SECRET.as_bytes(),
    )
}

async fn server() -> Secured {
    Secured::start(&[
        "--jwt-secret",
        SECRET,
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--tenant",
        "deska:deska_",
    ])
    .await
}

#[tokio::test]
async fn tokens_carry_identity_and_scope() {
    let s = server().await;
    let reader = s.anon.with_token(&hs256(json!({})));
    let who = reader.get("/auth/me").await.json();
    assert_eq!(
        (&who["role"], &who["subject"], &who["source"]),
        (
            &json!("reader"),
            &json!("alice@example.test"),
            &json!("jwt")
        )
    );
    assert_eq!(
        sql_status(&reader, "SELECT count(*) FROM trades").await.0,
        StatusCode::OK
    );
    let (st, err) = sql_status(&reader, "INSERT INTO trades VALUES ('X', 1.0, 1, 5000)").await;
    assert_eq!(
        (st, err.as_str()),
        (
            StatusCode::FORBIDDEN,
            "WRITE permission required for SQL statement"
        )
    );
    // The reference's code spells the role claim zepto_role.
    let admin = s
        .anon
        .with_token(&hs256(json!({"role": null, "zepto_role": "admin"})));
    assert_eq!(
        status(&admin, Method::GET, "/admin/version").await,
        StatusCode::OK
    );
    // No role, or a role that is not one: authenticated, allowed nothing.
    let nobody = s.anon.with_token(&hs256(json!({"role": null})));
    assert_eq!(
        sql_status(&nobody, "SELECT 1").await.0,
        StatusCode::FORBIDDEN
    );
    let superuser = s.anon.with_token(&hs256(json!({"role": "superuser"})));
    assert_eq!(
        sql_status(&superuser, "SELECT 1").await.0,
        StatusCode::FORBIDDEN
    );
    // Scope claims hold exactly like a key's.
    let t1 = s
        .anon
        .with_token(&hs256(json!({"allowed_tables": ["trades"]})));
    assert_eq!(
        sql_status(&t1, "SELECT * FROM secret").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sql_status(&t1, "SELECT * FROM trades").await.0,
        StatusCode::OK
    );
    let ten = s.anon.with_token(&hs256(json!({"tenant_id": "deska"})));
    let (st, err) = sql_status(&ten, "SELECT * FROM deskb_t").await;
    assert_eq!(
        (st, err.as_str()),
        (
            StatusCode::FORBIDDEN,
            "Tenant 'deska' cannot access table 'deskb_t'"
        )
    );
    for bad_scope in [
        json!({"zepto_symbols": ",,,"}),
        json!({"allowed_tables": ["trades\n"]}),
        json!({"allowed_tables": [""]}),
        json!({"tenant_id": "a\u{0}"}),
    ] {
        let c = s.anon.with_token(&hs256(bad_scope.clone()));
        let (st, err) = sql_status(&c, "SELECT 1").await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{bad_scope}");
        assert_eq!(
            err,
            "Authenticated identity contains an invalid authorization scope"
        );
    }
    // API keys still work beside JWTs.
    assert_eq!(sql_status(&s.admin, "SELECT 1").await.0, StatusCode::OK);
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let s = server().await;
    let good = hs256(json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let admin_claims = b64(claims(json!({"role": "admin"})).to_string().as_bytes());
    let none = b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes());
    let cases = [
        ("expired", hs256(json!({"exp": now() - 5}))),
        ("no exp", hs256(json!({"exp": null}))),
        ("exp a string", hs256(json!({"exp": "tomorrow"}))),
        ("not yet valid", hs256(json!({"nbf": now() + 3600}))),
        (
            "wrong issuer",
            hs256(json!({"iss": "https://evil.example.test"})),
        ),
        ("wrong audience", hs256(json!({"aud": "someone-else"}))),
        (
            "audience only elsewhere",
            hs256(json!({"aud": null, "groups": [AUD]})),
        ),
        ("no sub", hs256(json!({"sub": null}))),
        (
            "wrong secret",
            sign(
                &json!({"alg": "HS256"}),
                &claims(json!({})),
                b"another-secret-of-at-least-32-bytes!!!",
            ),
        ),
        ("alg none", format!("{none}.{admin_claims}.")),
        (
            "HS512",
            sign(
                &json!({"alg": "HS512"}),
                &claims(json!({})),
                SECRET.as_bytes(),
            ),
        ),
        (
            "tampered",
            format!("{}.{admin_claims}.{}", parts[0], parts[2]),
        ),
        ("four segments", format!("{good}.x")),
        ("padded", format!("{good}=")),
    ];
    for (what, token) in cases {
        let c = s.anon.with_token(&token);
        let r = c.get("/whoami").await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.header("www-authenticate").is_some(), "{what}");
    }
}

#[tokio::test]
async fn an_rs256_key_is_never_an_hmac_secret() {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
    let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = pair.public_key().as_der().unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    );
    let dir = tempfile::tempdir().unwrap();
    let pem_path = dir.path().join("jwt.pem");
    std::fs::write(&pem_path, &pem).unwrap();
    let s = Secured::start(&[
        "--jwt-public-key",
        pem_path.to_str().unwrap(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
    ])
    .await;

    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "k1"});
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims(json!({})).to_string().as_bytes())
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut sig,
    )
    .unwrap();
    let token = format!("{signed}.{}", b64(&sig));
    let who = s.anon.with_token(&token).get("/whoami").await;
    assert_eq!(who.status, StatusCode::OK);
    assert_eq!(who.json()["subject"], "alice@example.test");
    // The classic confusion: HS256 "signed" with the public key's PEM as the secret.
    let confused = sign(
        &json!({"alg": "HS256"}),
        &claims(json!({"role": "admin"})),
        pem.as_bytes(),
    );
    assert_eq!(
        s.anon.with_token(&confused).get("/whoami").await.status,
        StatusCode::UNAUTHORIZED
    );
}
