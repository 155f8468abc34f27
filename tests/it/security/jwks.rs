//! RS256 keys from a JSON Web Key Set (`--jwks-url`) served by the test identity provider:
//! tokens chosen by `kid`, rotation picked up on an unknown `kid` and by
//! `POST /admin/auth/reload`, at most one fetch per cooldown however many unknown `kid`s
//! arrive, a broken endpoint keeping the old keys, and the tokens that must be refused.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::idp::{Idp, Serve};
use super::jwt::{AUD, ISS};
use super::{Secured, status};

fn claims(role: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"sub": "dave@example.test", "iss": ISS, "aud": AUD, "exp": now + 3600, "role": role})
}

async fn server(idp: &Idp) -> Secured {
    Secured::start(&[
        "--jwks-url",
        &idp.jwks_url(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
    ])
    .await
}

async fn whoami(s: &Secured, token: &str) -> StatusCode {
    let r = s.anon.with_token(token).get("/whoami").await;
    if r.status != StatusCode::OK {
        eprintln!("whoami: {} {}", r.status, String::from_utf8_lossy(&r.body));
    }
    r.status
}

async fn reload(s: &Secured) -> (StatusCode, Value) {
    let r = s
        .admin
        .request(Method::POST, "/admin/auth/reload", &[], vec![])
        .await;
    (r.status, r.json())
}

#[tokio::test]
async fn keys_rotate_by_kid() {
    let idp = Idp::start().await;
    let s = server(&idp).await;
    assert_eq!(idp.jwks_fetches(), 1, "fetched once at start");
    let k1 = idp.sign("k1", json!({"kid": "k1"}), &claims("reader"));
    let who = s.anon.with_token(&k1).get("/whoami").await;
    assert_eq!(who.status, StatusCode::OK);
    assert_eq!(
        who.json(),
        json!({"role": "reader", "subject": "dave@example.test"})
    );
    // The only key may be used without a kid.
    let bare = idp.sign("k1", json!({}), &claims("reader"));
    assert_eq!(whoami(&s, &bare).await, StatusCode::OK);

    // The provider rotates in k2: a token naming it makes Strata fetch the set again.
    idp.add_key("k2");
    idp.publish(&["k1", "k2"]);
    let k2 = idp.sign("k2", json!({"kid": "k2"}), &claims("writer"));
    assert_eq!(whoami(&s, &k2).await, StatusCode::OK);
    assert_eq!(idp.jwks_fetches(), 2);
    // With two keys, a token without kid names none of them.
    assert_eq!(whoami(&s, &bare).await, StatusCode::UNAUTHORIZED);

    // Random kids: refused, and within the cooldown they cost the provider nothing.
    let fetches = idp.jwks_fetches();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let token = idp.sign(
            "k1",
            json!({"kid": format!("random-{i}")}),
            &claims("admin"),
        );
        let client = s.anon.with_token(&token);
        tasks.push(tokio::spawn(async move {
            status(&client, Method::GET, "/whoami").await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert!(
        idp.jwks_fetches() <= fetches + 1,
        "100 unknown kids caused {} fetches",
        idp.jwks_fetches() - fetches
    );

    // The admin reloads after the provider retires k1.
    idp.publish(&["k2"]);
    assert_eq!(
        reload(&s).await,
        (StatusCode::OK, json!({"refreshed": true, "keys_loaded": 1}))
    );
    assert_eq!(whoami(&s, &k1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&s, &k2).await, StatusCode::OK);
    let reader = s.role("reader").await;
    assert_eq!(
        status(&reader, Method::POST, "/admin/auth/reload").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_broken_endpoint_keeps_the_old_keys() {
    let idp = Idp::start().await;
    let s = server(&idp).await;
    let k1 = idp.sign("k1", json!({"kid": "k1"}), &claims("reader"));
    for broken in [Serve::Down, Serve::Garbage] {
        idp.serve(broken);
        let (code, body) = reload(&s).await;
        assert_eq!(code, StatusCode::BAD_GATEWAY, "{body}");
        assert!(body["error"].as_str().unwrap().contains("JWKS"), "{body}");
        assert_eq!(whoami(&s, &k1).await, StatusCode::OK, "old keys kept");
    }
    // A set whose only keys are for encryption or another algorithm holds nothing usable.
    idp.serve(Serve::Keys);
    let mut enc = idp.jwk("k1");
    enc["use"] = json!("enc");
    let mut hs = idp.jwk("k1");
    hs["alg"] = json!("HS256");
    idp.publish_raw(vec![enc, hs]);
    assert_eq!(reload(&s).await.0, StatusCode::BAD_GATEWAY);
    assert_eq!(whoami(&s, &k1).await, StatusCode::OK);

    // A server without a key set has nothing to reload.
    let plain = Secured::start(&[]).await;
    assert_eq!(reload(&plain).await.0, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn key_set_tokens_that_must_be_refused() {
    use aws_lc_rs::hmac;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let idp = Idp::start().await;
    let s = server(&idp).await;
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    // HS256 "signed" with the published modulus as the secret.
    let n = idp.jwk("k1")["n"].as_str().unwrap().to_string();
    let signed = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": "k1"}).to_string().as_bytes()),
        b64(claims("admin").to_string().as_bytes())
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, n.as_bytes()),
        signed.as_bytes(),
    );
    let confused = format!("{signed}.{}", b64(tag.as_ref()));
    assert_eq!(whoami(&s, &confused).await, StatusCode::UNAUTHORIZED);
    // Signed by a key the provider never published, under a published kid.
    idp.add_key("rogue");
    let rogue = idp.sign("rogue", json!({"kid": "k1"}), &claims("admin"));
    assert_eq!(whoami(&s, &rogue).await, StatusCode::UNAUTHORIZED);
    // A good signature does not excuse bad claims.
    let mut expired = claims("reader");
    expired["exp"] = json!(1);
    let expired = idp.sign("k1", json!({"kid": "k1"}), &expired);
    assert_eq!(whoami(&s, &expired).await, StatusCode::UNAUTHORIZED);
    let mut elsewhere = claims("reader");
    elsewhere["aud"] = json!("another-service");
    let elsewhere = idp.sign("k1", json!({"kid": "k1"}), &elsewhere);
    assert_eq!(whoami(&s, &elsewhere).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jwks_settings_are_checked_at_start() {
    use crate::common::TestServer;
    let refuses = |args: &[&str], says: &str| {
        let (code, out) = TestServer::refused(args);
        assert_ne!(code, Some(0), "{args:?} must not start: {out}");
        assert!(out.contains(says), "{args:?}: must name {says:?}: {out}");
    };
    refuses(
        &[
            "--jwks-url",
            "http://idp.example.test/jwks",
            "--jwt-issuer",
            ISS,
            "--jwt-audience",
            AUD,
        ],
        "https",
    );
    refuses(
        &["--jwks-url", "https://idp.example.test/jwks"],
        "--jwt-issuer",
    );
    refuses(
        &["--no-auth", "--jwks-url", "https://idp.example.test/jwks"],
        "--no-auth",
    );
}
