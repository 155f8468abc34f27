//! A small identity provider the tests start on loopback: a JSON Web Key Set of RS256 keys
//! (changed by the test to rotate them, or broken on purpose), and an OpenID Connect
//! provider (discovery, an authorization endpoint that logs the user in at once, a token
//! endpoint that checks the client secret and the PKCE verifier and answers signed ID
//! tokens and refresh tokens). Real HTTP on a real port; Strata cannot tell it from a real
//! provider.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lc_rs::digest;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use parking_lot::Mutex;
use serde_json::{Value, json};

pub(crate) const CLIENT_ID: &str = "strata-test";
pub(crate) const CLIENT_SECRET: &str = "s3cret:with/odd&chars";

/// What the key set endpoint answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Serve {
    /// The published keys.
    Keys,
    /// HTTP 500.
    Down,
    /// A body that is not a key set.
    Garbage,
}

struct Login {
    challenge: String,
    redirect_uri: String,
}

struct Inner {
    keys: HashMap<String, Arc<KeyPair>>,
    published: Vec<Value>,
    serve: Serve,
    codes: HashMap<String, Login>,
    refresh_tokens: HashMap<String, String>,
    /// The claims of the user who logs in.
    user: Value,
    issuer: String,
}

/// The provider; dropping it stops the server.
pub(crate) struct Idp {
    pub(crate) base: String,
    inner: Arc<Mutex<Inner>>,
    jwks_fetches: Arc<AtomicUsize>,
    refreshes: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `n` and `e` of an RSA public key from its PKCS#1 DER (`SEQUENCE { INTEGER, INTEGER }`).
fn modulus_and_exponent(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn length(b: &[u8], i: &mut usize) -> usize {
        let first = b[*i];
        *i += 1;
        if first < 0x80 {
            return first as usize;
        }
        let mut n = 0;
        for _ in 0..(first & 0x7f) {
            n = (n << 8) | b[*i] as usize;
            *i += 1;
        }
        n
    }
    let mut i = 0;
    assert_eq!(der[i], 0x30);
    i += 1;
    length(der, &mut i);
    let mut integer = || {
        assert_eq!(der[i], 0x02);
        i += 1;
        let n = length(der, &mut i);
        let bytes = der[i..i + n].to_vec();
        i += n;
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(0);
        bytes[first..].to_vec()
    };
    let n = integer();
    let e = integer();
    (n, e)
}

impl Idp {
    /// Starts the provider with key `k1` published, on a thread and runtime of its own: the
    /// tests block their own thread at times (waiting for a server to announce itself), and
    /// the provider must answer the server meanwhile.
    pub(crate) async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            keys: HashMap::new(),
            published: Vec::new(),
            serve: Serve::Keys,
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            user: json!({"sub": "carol", "role": "reader"}),
            issuer: base.clone(),
        }));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let refreshes = Arc::new(AtomicUsize::new(0));
        let state = IdpState {
            inner: Arc::clone(&inner),
            jwks_fetches: Arc::clone(&jwks_fetches),
            refreshes: Arc::clone(&refreshes),
        };
        let app = Router::new()
            .route("/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let idp = Idp {
            base,
            inner,
            jwks_fetches,
            refreshes,
            stop: Some(stop),
            thread: Some(thread),
        };
        idp.add_key("k1");
        idp.publish(&["k1"]);
        idp
    }

    /// The key set's URL.
    pub(crate) fn jwks_url(&self) -> String {
        format!("{}/jwks", self.base)
    }

    /// Makes RSA key `kid` (not published yet).
    pub(crate) fn add_key(&self, kid: &str) {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        self.inner.lock().keys.insert(kid.into(), Arc::new(pair));
    }

    /// The JWK of key `kid` as a JSON object.
    pub(crate) fn jwk(&self, kid: &str) -> Value {
        let inner = self.inner.lock();
        let pair = &inner.keys[kid];
        let (n, e) = modulus_and_exponent(pair.public_key().as_ref());
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(&n), "e": b64(&e)})
    }

    /// Publishes exactly these keys.
    pub(crate) fn publish(&self, kids: &[&str]) {
        let jwks: Vec<Value> = kids.iter().map(|k| self.jwk(k)).collect();
        self.publish_raw(jwks);
    }

    /// Publishes these JWK objects as they are.
    pub(crate) fn publish_raw(&self, jwks: Vec<Value>) {
        self.inner.lock().published = jwks;
    }

    /// Breaks (or mends) the key set endpoint.
    pub(crate) fn serve(&self, how: Serve) {
        self.inner.lock().serve = how;
    }

    /// How many times the key set was fetched.
    pub(crate) fn jwks_fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many refresh-token grants were answered.
    pub(crate) fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// The claims of the user the authorization endpoint logs in (merged into the ID token).
    pub(crate) fn set_user(&self, user: Value) {
        self.inner.lock().user = user;
    }

    /// An RS256 token over `claims` with header `header` (its `alg` set to RS256), signed by
    /// key `signer`.
    pub(crate) fn sign(&self, signer: &str, header: Value, claims: &Value) -> String {
        let pair = Arc::clone(&self.inner.lock().keys[signer]);
        sign_with(&pair, header, claims)
    }
}

fn sign_with(pair: &KeyPair, mut header: Value, claims: &Value) -> String {
    header["alg"] = json!("RS256");
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut sig,
    )
    .expect("sign");
    format!("{signed}.{}", b64(&sig))
}

#[derive(Clone)]
struct IdpState {
    inner: Arc<Mutex<Inner>>,
    jwks_fetches: Arc<AtomicUsize>,
    refreshes: Arc<AtomicUsize>,
}

async fn jwks(State(s): State<IdpState>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let inner = s.inner.lock();
    match inner.serve {
        Serve::Keys => axum::Json(json!({ "keys": inner.published })).into_response(),
        Serve::Down => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Serve::Garbage => "<html>maintenance</html>".into_response(),
    }
}

async fn discovery(State(s): State<IdpState>) -> Response {
    let issuer = s.inner.lock().issuer.clone();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

/// Logs the user in at once and sends the browser back with a code.
async fn authorize(
    State(s): State<IdpState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope")
            .is_some_and(|s| s.split(' ').any(|s| s == "openid"));
    let (Some(challenge), Some(redirect_uri), Some(state), true) = (
        q.get("code_challenge"),
        q.get("redirect_uri"),
        q.get("state"),
        ok,
    ) else {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    };
    let code = random_hex();
    s.inner.lock().codes.insert(
        code.clone(),
        Login {
            challenge: challenge.clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let mut to = url::Url::parse(redirect_uri).unwrap();
    to.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", state);
    Redirect::to(to.as_str()).into_response()
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("random");
    hex::encode(bytes)
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn client_authenticated(headers: &HeaderMap) -> bool {
    let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(basic) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded).to_string();
    let Some((id, secret)) = text.split_once(':') else {
        return false;
    };
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    decode(id) == CLIENT_ID && decode(secret) == CLIENT_SECRET
}

fn token_error(code: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": code })),
    )
        .into_response()
}

async fn token(State(s): State<IdpState>, headers: HeaderMap, body: String) -> Response {
    if !client_authenticated(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let f = form(&body);
    let mut inner = s.inner.lock();
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(login) = f.get("code").and_then(|c| inner.codes.remove(c)) else {
                return token_error("invalid_grant");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let challenge = b64(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
            if challenge != login.challenge || f.get("redirect_uri") != Some(&login.redirect_uri) {
                return token_error("invalid_grant");
            }
        }
        Some("refresh_token") => {
            let known = f
                .get("refresh_token")
                .and_then(|t| inner.refresh_tokens.get(t))
                .is_some();
            if !known {
                return token_error("invalid_grant");
            }
            s.refreshes.fetch_add(1, Ordering::SeqCst);
        }
        _ => return token_error("unsupported_grant_type"),
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = json!({"iss": inner.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 3600});
    for (k, v) in inner.user.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let pair = Arc::clone(&inner.keys["k1"]);
    let id_token = sign_with(&pair, json!({"kid": "k1", "typ": "JWT"}), &claims);
    let refresh = random_hex();
    inner.refresh_tokens.insert(refresh.clone(), "carol".into());
    axum::Json(json!({
        "access_token": "opaque-access-token",
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
        "refresh_token": refresh,
    }))
    .into_response()
}
