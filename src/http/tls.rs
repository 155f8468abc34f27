//! HTTPS: the rustls server configuration built from `--tls-cert`, `--tls-key` and `--tls-ca`,
//! and the accept loop that serves the router over it.
//!
//! axum's own `serve` speaks plain TCP only, so TLS connections are driven here with the same
//! parts it uses (hyper-util's HTTP/1.1 + HTTP/2 connection builder): a handshake under a
//! deadline, then the router with the peer address ([`ConnectInfo`], which the rate limits and
//! the audit read) and a [`Tls`] marker on every request. The crypto provider is aws-lc-rs,
//! named explicitly: the tree enables both of rustls' providers, and the process-wide default
//! would panic on the first handshake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower::ServiceExt;

use crate::config::tls::TlsSettings;

/// Present on every request that arrived over TLS (session cookies are then `Secure`).
#[derive(Debug, Clone, Copy)]
pub struct Tls;

/// The HTTPS side of the listener: the handshake configuration and its deadline.
#[derive(Clone)]
pub struct TlsListener {
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    /// Reads and checks the certificate, its key and the client CAs; every failure names the
    /// flag and the file, and nothing weaker is tried instead.
    pub fn load(settings: &TlsSettings) -> Result<Self, String> {
        let certs = read_certs("--tls-cert", &settings.cert)?;
        let key = PrivateKeyDer::from_pem_file(&settings.key).map_err(|e| {
            format!(
                "--tls-key {}: no usable private key ({e})",
                settings.key.display()
            )
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        // rustls has no TLS 1.0 or 1.1 at all; 1.2 stays for older clients.
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &settings.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in read_certs("--tls-ca", path)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            format!(
                "--tls-cert {} with --tls-key {}: {e}",
                settings.cert.display(),
                settings.key.display()
            )
        })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            handshake_timeout: settings.handshake_timeout,
        })
    }

    /// Serves `router` on `listener` until `shutdown` completes, then lets every open
    /// connection finish the requests it carries.
    pub async fn serve(
        self,
        listener: TcpListener,
        router: Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            connections.spawn(
                self.clone()
                    .connection(tcp, peer, router.clone(), stopped.clone()),
            );
        }
        drop(listener);
        let _ = stop.send(true);
        while connections.join_next().await.is_some() {}
        Ok(())
    }

    async fn connection(
        self,
        tcp: tokio::net::TcpStream,
        peer: SocketAddr,
        router: Router,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        let stream =
            match tokio::time::timeout(self.handshake_timeout, self.acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
        let service = router.map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(Tls);
            request
        });
        let builder = auto::Builder::new(TokioExecutor::new());
        let connection = builder.serve_connection_with_upgrades(
            TokioIo::new(stream),
            TowerToHyperService::new(service),
        );
        tokio::pin!(connection);
        let finished = tokio::select! {
            finished = connection.as_mut() => finished,
            // The guard `wait_for` returns is dropped at once: it is not Send.
            () = async { drop(stopped.wait_for(|stop| *stop).await) } => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(e) = finished {
            tracing::debug!(%peer, "connection ended: {e}");
        }
    }
}

fn read_certs(flag: &str, path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{flag} {}: no PEM certificate in the file",
            path.display()
        ));
    }
    Ok(certs)
}
