//! TLS against a real server: HTTPS with a certificate from a test CA made by the `openssl`
//! command, HTTP/1.1 and HTTP/2 by ALPN, no plaintext on the TLS port, the handshake deadline,
//! client certificates (mTLS), `Secure` session cookies, and bad TLS settings refusing start.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Version};
use tempfile::TempDir;

use super::cli_key;
use crate::common::{Client, TestServer};

/// A CA, a server certificate for 127.0.0.1 it signed, a client certificate it signed, and a
/// client certificate from another CA.
struct Pki {
    dir: TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    fn new() -> Self {
        let dir = TempDir::new().expect("temp dir");
        let d = dir.path();
        for ca in ["ca", "other-ca"] {
            openssl(
                d,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.pem"),
                    "-days",
                    "2",
                    "-subj",
                    &format!("/CN=Strata test {ca}"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            );
        }
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(
            d.join("client.ext"),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        for (name, ca, ext, serial) in [
            ("server", "ca", "server.ext", "1001"),
            ("client", "ca", "client.ext", "1002"),
            ("stranger", "other-ca", "client.ext", "1003"),
        ] {
            openssl(
                d,
                &[
                    "req",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={name}"),
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    &format!("{ca}.pem"),
                    "-CAkey",
                    &format!("{ca}.key"),
                    "-set_serial",
                    serial,
                    "-days",
                    "2",
                    "-extfile",
                    ext,
                    "-out",
                    &format!("{name}.pem"),
                ],
            );
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().expect("utf-8 path").to_string()
    }

    /// A client trusting only the test CA, presenting `identity` (`client`, `stranger`) if
    /// given.
    fn http(
        &self,
        identity: Option<&str>,
        configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> reqwest::Client {
        let ca =
            reqwest::Certificate::from_pem(&std::fs::read(self.path("ca.pem")).unwrap()).unwrap();
        let mut builder = reqwest::Client::builder().tls_certs_only([ca]);
        if let Some(name) = identity {
            let mut pem = std::fs::read(self.path(&format!("{name}.pem"))).unwrap();
            pem.extend(std::fs::read(self.path(&format!("{name}.key"))).unwrap());
            builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
        }
        configure(builder).build().unwrap()
    }

    fn tls_args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            self.arg("server.pem"),
            "--tls-key".into(),
            self.arg("server.key"),
        ]
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn https_speaks_http1_and_h2_and_no_plaintext() {
    let pki = Pki::new();
    let mut args = pki.tls_args();
    args.extend(["--tls-handshake-timeout-ms".into(), "500".into()]);
    let server = TestServer::start(&strs(&args)).await;
    let base = server.base().to_string();
    assert!(base.starts_with("https://"), "announced {base}");

    let h2 = reqwest::Client::get(&pki.http(None, |b| b), format!("{base}/ping"))
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(h2.status(), StatusCode::OK);
    assert_eq!(h2.version(), Version::HTTP_2, "h2 chosen by ALPN");
    let h1 = Client::with_http(&base, pki.http(None, reqwest::ClientBuilder::http1_only));
    let (status, body) = h1.sql("SELECT 1 AS one").await;
    assert_eq!(
        (status, body["data"][0][0].as_i64()),
        (StatusCode::OK, Some(1))
    );
    let h1_version = pki
        .http(None, reqwest::ClientBuilder::http1_only)
        .get(format!("{base}/ping"))
        .send()
        .await
        .unwrap()
        .version();
    assert_eq!(h1_version, Version::HTTP_11);

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = base.replacen("https://", "http://", 1);
    assert!(
        reqwest::get(format!("{plain}/ping")).await.is_err(),
        "plaintext must not be answered"
    );
    // A client that trusts nothing we signed refuses the server.
    assert!(reqwest::get(format!("{base}/ping")).await.is_err());

    // A silent client is dropped after the handshake deadline, and does not hold others up.
    let addr = base.trim_start_matches("https://").to_string();
    let silent = std::net::TcpStream::connect(&addr).unwrap();
    let other = pki
        .http(None, |b| b)
        .get(format!("{base}/ping"))
        .send()
        .await;
    assert_eq!(other.unwrap().status(), StatusCode::OK);
    let started = Instant::now();
    let closed = tokio::task::spawn_blocking(move || {
        let mut silent = silent;
        silent
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 16];
        // EOF (0) or a reset: the server hung up. A timeout would be an Err of kind WouldBlock.
        match silent.read(&mut buf) {
            Ok(n) => n == 0,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    })
    .await
    .unwrap();
    assert!(
        closed,
        "the server must close a connection that never handshakes"
    );
    assert!(started.elapsed() < Duration::from_secs(9));
}

#[tokio::test]
async fn client_certificates_are_required_with_tls_ca() {
    let pki = Pki::new();
    let mut args = pki.tls_args();
    args.extend(["--tls-ca".into(), pki.arg("ca.pem")]);
    let server = TestServer::start(&strs(&args)).await;
    let url = format!("{}/ping", server.base());
    let ok = pki.http(Some("client"), |b| b).get(&url).send().await;
    assert_eq!(
        ok.expect("a certificate from our CA").status(),
        StatusCode::OK
    );
    assert!(
        pki.http(None, |b| b).get(&url).send().await.is_err(),
        "no client certificate: the handshake fails"
    );
    assert!(
        pki.http(Some("stranger"), |b| b)
            .get(&url)
            .send()
            .await
            .is_err(),
        "a certificate from another CA: the handshake fails"
    );
}

#[tokio::test]
async fn session_cookies_are_secure_over_tls() {
    let pki = Pki::new();
    let keys = TempDir::new().unwrap();
    let file = keys.path().join("keys.json");
    let key = cli_key(&file, "root", "admin", &[]);
    let mut args = pki.tls_args();
    args.extend(["--api-keys-file".into(), file.to_str().unwrap().into()]);
    let server = TestServer::start(&strs(&args)).await;
    let admin = Client::with_http(server.base(), pki.http(None, |b| b)).with_token(&key);
    let r = admin
        .request(reqwest::Method::POST, "/auth/session", &[], vec![])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r.header("set-cookie").expect("a session cookie");
    for attribute in [
        "zepto_sid=",
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
}

#[tokio::test]
async fn bad_tls_settings_refuse_to_start() {
    let pki = Pki::new();
    let garbage = pki.path("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let refuses = |args: &[&str], says: &str| {
        let (code, out) = TestServer::refused(args);
        assert_ne!(code, Some(0), "{args:?} must not start: {out}");
        assert!(out.contains(says), "{args:?}: must name {says:?}: {out}");
    };
    let (cert, key, ca) = (
        pki.arg("server.pem"),
        pki.arg("server.key"),
        pki.arg("ca.pem"),
    );
    let garbage = garbage.to_str().unwrap();
    refuses(&["--tls-cert", &cert], "--tls-key");
    refuses(&["--tls-key", &key], "--tls-cert");
    refuses(&["--tls-ca", &ca], "--tls-cert");
    refuses(&["--tls-cert", garbage, "--tls-key", &key], "--tls-cert");
    refuses(&["--tls-cert", &cert, "--tls-key", garbage], "--tls-key");
    refuses(
        &["--tls-cert", "/nonexistent/cert.pem", "--tls-key", &key],
        "--tls-cert",
    );
    // A key that is not the certificate's.
    refuses(
        &["--tls-cert", &cert, "--tls-key", &pki.arg("client.key")],
        "--tls-cert",
    );
    refuses(
        &["--tls-cert", &cert, "--tls-key", &key, "--tls-ca", garbage],
        "--tls-ca",
    );
}
