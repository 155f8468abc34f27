//! Mutated API keys and JWTs: refused, and nothing changed by them.

use super::*;

/// A credential with one random change: a character replaced, dropped or added, the token
/// cut, doubled, re-cased or padded.
fn mutate_token(rng: &mut Rng, token: &str) -> String {
    let mut t: Vec<u8> = token.as_bytes().to_vec();
    match rng.below(7) {
        0 => {
            let i = rng.below(t.len());
            t[i] = *rng.pick(b"AZaz09-_.=+/ \x00\xff");
        }
        1 => {
            t.remove(rng.below(t.len()));
        }
        2 => {
            let i = rng.below(t.len() + 1);
            t.insert(i, *rng.pick(b"A.a0-_= "));
        }
        3 => t.truncate(rng.below(t.len())),
        4 => t.extend_from_slice(token.as_bytes()),
        5 => t.make_ascii_uppercase(),
        _ => t.extend(std::iter::repeat_n(b'=', 1 + rng.below(3))),
    }
    String::from_utf8_lossy(&t).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_credentials_are_refused_and_change_nothing() {
    use crate::security::jwt::{AUD, ISS, SECRET, hs256};
    let s = crate::security::Secured::start(&[
        "--jwt-secret",
        SECRET,
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--rate-limit-rpm",
        "0",
        "--ip-rate-limit-rpm",
        "0",
    ])
    .await;
    let before = s
        .admin
        .rows("SELECT count(*), sum(price) FROM trades")
        .await;
    let jwt = hs256(serde_json::json!({"role": "admin"}));
    let originals = [s.admin_key.clone(), jwt];
    // A live admin session: its cookie is mutated too.
    let session = s
        .admin
        .request(Method::POST, "/auth/session", &[], vec![])
        .await;
    let sid = session
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_string))
        .and_then(|c| c.strip_prefix("zepto_sid=").map(str::to_string))
        .expect("a session cookie");
    let schemes = ["Bearer ", "bearer ", "Basic ", "Token ", "", "Bearer  "];
    let mut rng = Rng::seeded(0x5eed_0005);
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 3000 {
        let cookie = rng.chance(30);
        let original = if cookie {
            sid.clone()
        } else {
            rng.pick(&originals).clone()
        };
        let token = mutate_token(&mut rng, &original);
        // HTTP drops whitespace around a header value (RFC 9110 §5.5): such a "mutation" is
        // the original credential.
        let token = token.trim_matches([' ', '\t']).to_string();
        let (header, value) = if cookie {
            let name = *rng.pick(&["zepto_sid=", "zepto_sid=", "ZEPTO_SID=", "zepto_sid ="]);
            if token == original && name == "zepto_sid=" {
                continue;
            }
            ("cookie", format!("{name}{token}"))
        } else {
            let scheme = *rng.pick(&schemes);
            if token == original && (scheme == "Bearer " || scheme == "bearer ") {
                continue;
            }
            ("authorization", format!("{scheme}{token}"))
        };
        let write = b"INSERT INTO trades VALUES ('FUZZ', 1.0, 1, 1)".to_vec();
        let what = format!("{header}: {}", &value[..value.len().min(80)]);
        let Some(reply) = s
            .anon
            .try_request(Method::POST, "/", &[(header, &value)], write)
            .await
        else {
            // A header value the HTTP client or parser refuses; the server must still answer.
            assert_eq!(s.anon.get("/ping").await.status, StatusCode::OK, "{what}");
            continue;
        };
        assert!(
            matches!(reply.status.as_u16(), 400 | 401 | 403),
            "{what}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        assert!(
            !String::from_utf8_lossy(&reply.body).contains(&original),
            "{what}: the answer echoes a credential"
        );
        sent += 1;
    }
    assert_eq!(
        s.admin
            .rows("SELECT count(*), sum(price) FROM trades")
            .await,
        before,
        "no refused request changed a row"
    );
    eprintln!("fuzz: {sent} credentials");
    assert_no_panic(&s.server);
}
