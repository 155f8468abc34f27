//! [`Client`]: typed helpers over HTTP, returning status and parsed bodies.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// An HTTP client bound to one server.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    /// Sent as `Authorization: Bearer <token>` on every request.
    token: Option<String>,
}

/// A raw response.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not JSON).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header as text.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl Client {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_string(),
            token: None,
        }
    }

    /// A client for `base` sending through `http` (one that trusts a test CA, presents a client
    /// certificate, or speaks only one HTTP version).
    pub(crate) fn with_http(base: &str, http: reqwest::Client) -> Self {
        Self {
            http,
            base: base.to_string(),
            token: None,
        }
    }

    /// The same server, every request authenticated with `token` (an API key or a JWT).
    pub(crate) fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// The bearer token this client sends.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn builder(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Any request.
    pub(crate) async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self.builder(method, path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.body(body).send().await.expect("request sent");
        Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.expect("body").to_vec(),
        }
    }

    /// Any request; `None` if it could not be sent or answered (a request the client or the
    /// server's HTTP parser refuses as malformed).
    pub(crate) async fn try_request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Option<Reply> {
        let mut req = self.builder(method, path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.body(body).send().await.ok()?;
        Some(Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.ok()?.to_vec(),
        })
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.request(reqwest::Method::GET, path, &[], vec![]).await
    }

    /// `POST /` with `sql`; returns status and JSON body.
    pub(crate) async fn sql(&self, sql: &str) -> (StatusCode, Value) {
        let r = self
            .request(reqwest::Method::POST, "/", &[], sql.as_bytes().to_vec())
            .await;
        (r.status, r.json())
    }

    /// `POST /` with `sql` to a server that may be going away: `None` if the request failed to
    /// get an answer (connection refused or reset), else the status.
    pub(crate) async fn try_sql(&self, sql: &str) -> Option<StatusCode> {
        let resp = self
            .builder(reqwest::Method::POST, "/")
            .body(sql.to_string())
            .send()
            .await
            .ok()?;
        let status = resp.status();
        resp.bytes().await.ok()?;
        Some(status)
    }

    /// `POST /` that must succeed; returns the JSON body.
    pub(crate) async fn sql_ok(&self, sql: &str) -> Value {
        let (status, body) = self.sql(sql).await;
        assert_eq!(status, StatusCode::OK, "{sql}\n→ {body}");
        body
    }

    /// `POST /` that must fail with `status`; returns the error message.
    pub(crate) async fn sql_err(&self, sql: &str, status: StatusCode) -> String {
        let (got, body) = self.sql(sql).await;
        assert_eq!(got, status, "{sql}\n→ {body}");
        assert_eq!(body["rows"], 0, "error body shape: {body}");
        assert_eq!(
            body["columns"],
            serde_json::json!([]),
            "error body shape: {body}"
        );
        body["error"].as_str().expect("error message").to_string()
    }

    /// A JSON request (`body` serialised, `headers` added); returns status and JSON body.
    pub(crate) async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let r = self.request(method, path, &all, bytes).await;
        (r.status, r.json())
    }

    /// `POST path` with a JSON body that must succeed; returns the JSON answer.
    pub(crate) async fn post_ok(&self, path: &str, body: Value) -> Value {
        let (status, reply) = self
            .json(reqwest::Method::POST, path, Some(&body), &[])
            .await;
        assert_eq!(status, StatusCode::OK, "POST {path} {body}\n→ {reply}");
        reply
    }

    /// The `data` of a successful query.
    pub(crate) async fn rows(&self, sql: &str) -> Value {
        self.sql_ok(sql).await["data"].clone()
    }
}
