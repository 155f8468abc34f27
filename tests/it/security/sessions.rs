//! Sessions and OIDC login against real servers: a Bearer token turned into a `zepto_sid`
//! cookie (its role and scope kept, ended by logout and by revoking the key), and the whole
//! browser login against the test identity provider: `/auth/login` → the provider →
//! `/auth/callback` → a session → `/auth/refresh`; forged or replayed states refused.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::idp::{CLIENT_ID, CLIENT_SECRET, Idp};
use super::{Secured, sql_status};
use crate::common::Client;

/// The `name=value` part of a `Set-Cookie` header.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// Requests that carry only `cookie` (no Authorization).
async fn with_cookie(
    c: &Client,
    method: Method,
    path: &str,
    cookie: &str,
    body: &str,
) -> crate::common::Reply {
    c.request(
        method,
        path,
        &[("cookie", cookie)],
        body.as_bytes().to_vec(),
    )
    .await
}

#[tokio::test]
async fn a_bearer_token_becomes_a_session() {
    let s = Secured::start(&[]).await;
    let reader = s.role("reader").await;
    let r = reader
        .request(Method::POST, "/auth/session", &[], vec![])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(
        (body["session"].clone(), body["role"].clone()),
        (json!(true), json!("reader"))
    );
    let set = r.header("set-cookie").expect("Set-Cookie");
    for attribute in [
        "zepto_sid=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(set.contains(attribute), "{attribute} missing: {set}");
    }
    assert!(!set.contains("Secure"), "no Secure over plain HTTP: {set}");
    let cookie = cookie_pair(&set);

    // The cookie alone is the reader: reads pass, the role still binds.
    let who = with_cookie(&s.anon, Method::GET, "/whoami", &cookie, "").await;
    assert_eq!(who.status, StatusCode::OK);
    assert_eq!(who.json()["subject"], body["subject"]);
    assert_eq!(
        with_cookie(
            &s.anon,
            Method::POST,
            "/",
            &cookie,
            "SELECT count(*) FROM trades"
        )
        .await
        .status,
        StatusCode::OK
    );
    let create = with_cookie(
        &s.anon,
        Method::POST,
        "/",
        &cookie,
        "CREATE TABLE t (v INT64)",
    )
    .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    // A cookie is not a credential to make another session from; two are ambiguous.
    assert_eq!(
        with_cookie(&s.anon, Method::POST, "/auth/session", &cookie, "")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let twice = format!("{cookie}; {cookie}");
    assert_eq!(
        with_cookie(&s.anon, Method::GET, "/whoami", &twice, "")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let forged = "zepto_sid=0000000000000000000000000000000000000000000000000000000000000000";
    assert_eq!(
        with_cookie(&s.anon, Method::GET, "/whoami", forged, "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Logout ends it and clears the cookie.
    let out = with_cookie(&s.anon, Method::POST, "/auth/logout", &cookie, "").await;
    assert_eq!(
        (out.status, out.json()),
        (StatusCode::OK, json!({"ok": true}))
    );
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(
        with_cookie(&s.anon, Method::GET, "/whoami", &cookie, "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Sessions are audited.
    let audit = s.admin.get("/admin/audit?n=100").await.json();
    let details: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details.contains(&"session-created") && details.contains(&"session-auth"),
        "{details:?}"
    );
}

#[tokio::test]
async fn a_session_ends_with_its_key() {
    let s = Secured::start(&[]).await;
    let created = s
        .admin
        .post_ok("/admin/keys", json!({"name": "w", "role": "writer"}))
        .await;
    let writer = s.anon.with_token(created["key"].as_str().unwrap());
    let r = writer
        .request(Method::POST, "/auth/session", &[], vec![])
        .await;
    let cookie = cookie_pair(&r.header("set-cookie").unwrap());
    let id = r.json()["subject"].as_str().unwrap().to_string();
    assert_eq!(
        with_cookie(&s.anon, Method::GET, "/whoami", &cookie, "")
            .await
            .status,
        StatusCode::OK
    );
    let revoked = s
        .admin
        .request(Method::DELETE, &format!("/admin/keys/{id}"), &[], vec![])
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        with_cookie(&s.anon, Method::GET, "/whoami", &cookie, "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn oidc_endpoints_answer_503_when_not_configured() {
    let s = Secured::start(&[]).await;
    for (method, path) in [
        (Method::GET, "/auth/login"),
        (Method::GET, "/auth/callback?code=x&state=y"),
    ] {
        let r = s.anon.request(method, path, &[], vec![]).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("--oidc-issuer")
        );
    }
}

/// A client that does not follow redirects, as a test of each hop.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn oidc_login_makes_a_session_and_refreshes_it() {
    let idp = Idp::start().await;
    let keys = tempfile::TempDir::new().unwrap();
    let file = keys.path().join("keys.json");
    super::cli_key(&file, "root", "admin", &[]);
    // The redirect URI is whatever the provider sends the browser back to (often a reverse
    // proxy in front of Strata); the test walks each hop itself, so any URL does.
    let redirect = "http://strata.example.test/auth/callback";
    let server = crate::common::TestServer::start_with_env(
        &[
            "--api-keys-file",
            file.to_str().unwrap(),
            "--oidc-issuer",
            &idp.base,
            "--oidc-client-id",
            CLIENT_ID,
            "--oidc-redirect-uri",
            redirect,
        ],
        &[("STRATA_OIDC_CLIENT_SECRET", CLIENT_SECRET.to_string())],
    )
    .await;
    let base = server.base().to_string();
    let http = no_redirects();

    // 1. Strata sends the browser to the provider with a state and a PKCE challenge.
    let login = http.get(format!("{base}/auth/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::FOUND);
    let to = login.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with(&format!("{}/authorize?", idp.base)), "{to}");
    assert!(
        to.contains("code_challenge_method=S256") && to.contains("state="),
        "{to}"
    );
    let state_cookie = cookie_pair(login.headers()[SET_COOKIE].to_str().unwrap());
    assert!(
        state_cookie.starts_with("zepto_oidc_state="),
        "{state_cookie}"
    );

    // 2. The provider logs the user in and sends the browser back with a code.
    let back = http.get(&to).send().await.unwrap();
    assert!(back.status().is_redirection(), "{}", back.status());
    let callback = url::Url::parse(back.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(callback.path(), "/auth/callback");
    let query = callback.query().unwrap().to_string();

    // A callback without the browser's state cookie, or with another state, is refused.
    let forged = http
        .get(format!("{base}/auth/callback?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let other_state = http
        .get(format!("{base}/auth/callback?code=x&state=0123"))
        .header(COOKIE, "zepto_oidc_state=0123")
        .send()
        .await
        .unwrap();
    assert_eq!(other_state.status(), StatusCode::BAD_REQUEST);

    // 3. The real callback: the code is exchanged, the ID token verified, a session made.
    let done = http
        .get(format!("{base}/auth/callback?{query}"))
        .header(COOKIE, &state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::FOUND, "{:?}", done.headers());
    assert_eq!(done.headers()[LOCATION], "/auth/me");
    let session = done
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("zepto_sid="))
        .expect("a session cookie");
    let cookie = cookie_pair(&session);
    let anon = Client::new(&base);
    let me = with_cookie(&anon, Method::GET, "/auth/me", &cookie, "").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        (me.json()["subject"].clone(), me.json()["role"].clone()),
        (json!("carol"), json!("reader"))
    );
    assert_eq!(
        with_cookie(&anon, Method::POST, "/", &cookie, "SELECT 1")
            .await
            .status,
        StatusCode::OK
    );
    // The same code and state cannot be used twice.
    let replay = http
        .get(format!("{base}/auth/callback?{query}"))
        .header(COOKIE, &state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

    // 4. Refresh: new tokens from the provider, the session goes on.
    let refreshed = with_cookie(&anon, Method::POST, "/auth/refresh", &cookie, "").await;
    assert_eq!(
        refreshed.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&refreshed.body)
    );
    assert_eq!(refreshed.json()["refreshed"], json!(true));
    assert_eq!(refreshed.json()["expires_in"], json!(3600));
    assert_eq!(idp.refreshes(), 1);
    // Without a session there is nothing to refresh.
    assert_eq!(
        anon.request(Method::POST, "/auth/refresh", &[], vec![])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with_cookie(&anon, Method::POST, "/auth/logout", &cookie, "")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        with_cookie(&anon, Method::GET, "/auth/me", &cookie, "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_oidc_login_with_a_bad_id_token_or_code_is_refused() {
    let idp = Idp::start().await;
    let keys = tempfile::TempDir::new().unwrap();
    let file = keys.path().join("keys.json");
    super::cli_key(&file, "root", "admin", &[]);
    let server = crate::common::TestServer::start_with_env(
        &[
            "--api-keys-file",
            file.to_str().unwrap(),
            "--oidc-issuer",
            &idp.base,
            "--oidc-client-id",
            CLIENT_ID,
            "--oidc-redirect-uri",
            "http://strata.example.test/auth/callback",
        ],
        &[("STRATA_OIDC_CLIENT_SECRET", CLIENT_SECRET.to_string())],
    )
    .await;
    let base = server.base().to_string();
    let http = no_redirects();
    let start = || async {
        let login = http.get(format!("{base}/auth/login")).send().await.unwrap();
        let state_cookie = cookie_pair(login.headers()[SET_COOKIE].to_str().unwrap());
        let to = login.headers()[LOCATION].to_str().unwrap().to_string();
        let back = http.get(&to).send().await.unwrap();
        let callback = url::Url::parse(back.headers()[LOCATION].to_str().unwrap()).unwrap();
        (callback.query().unwrap().to_string(), state_cookie)
    };
    // A code the provider never issued: the exchange fails (502).
    let (query, state_cookie) = start().await;
    let state = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let bad_code = http
        .get(format!("{base}/auth/callback?code=forged&state={state}"))
        .header(COOKIE, &state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_code.status(), StatusCode::BAD_GATEWAY);
    // An ID token for another audience: who logged in cannot be established (401).
    idp.set_user(json!({"sub": "mallory", "role": "admin", "aud": "another-client"}));
    let (query, state_cookie) = start().await;
    let wrong_aud = http
        .get(format!("{base}/auth/callback?{query}"))
        .header(COOKIE, &state_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_aud.status(), StatusCode::UNAUTHORIZED);
    // The provider's own refusal is passed on as a 400 naming it.
    let refused = http
        .get(format!("{base}/auth/callback?error=access_denied&state=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let (status, _) = sql_status(&Client::new(&base), "SELECT 1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
