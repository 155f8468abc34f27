//! The TLS flags: `--tls-cert`/`--tls-key` turn HTTPS on, `--tls-ca` also requires client
//! certificates (mutual TLS). A half-given pair is refused here; the files themselves are read
//! and checked by [`crate::http::tls`] before the port is bound, so a bad certificate stops
//! the start instead of falling back to plain HTTP.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// HTTPS flags (flattened into [`Config`](super::Config)).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM, leaf first). Needs --tls-key.
    #[arg(long, env = "STRATA_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "STRATA_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// Require a client certificate signed by one of these CAs (PEM): mutual TLS.
    #[arg(long, env = "STRATA_TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    /// A connection that has not finished its TLS handshake by then is closed, so a silent
    /// client cannot hold a connection open.
    #[arg(
        long,
        env = "STRATA_TLS_HANDSHAKE_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub tls_handshake_timeout_ms: u64,
}

/// Where the certificate, its key and the client CAs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The certificate chain.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// CAs a client certificate must chain to; `None`: no client certificates asked.
    pub client_ca: Option<PathBuf>,
    /// How long a handshake may take.
    pub handshake_timeout: Duration,
}

impl TlsArgs {
    /// `None` for plain HTTP; an error names the missing half of a pair.
    pub fn settings(&self) -> Result<Option<TlsSettings>, String> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => match self.tls_ca {
                Some(_) => Err(
                    "--tls-ca needs --tls-cert and --tls-key: client certificates \
                                are asked for only over HTTPS"
                        .into(),
                ),
                None => Ok(None),
            },
            (Some(_), None) => Err("--tls-cert needs --tls-key".into()),
            (None, Some(_)) => Err("--tls-key needs --tls-cert".into()),
            (Some(cert), Some(key)) => {
                if self.tls_handshake_timeout_ms == 0 {
                    return Err("--tls-handshake-timeout-ms must be above 0".into());
                }
                Ok(Some(TlsSettings {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: self.tls_ca.clone(),
                    handshake_timeout: Duration::from_millis(self.tls_handshake_timeout_ms),
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Config;

    fn resolve(args: &[&str]) -> Result<Option<TlsSettings>, String> {
        let mut all = vec!["strata"];
        all.extend_from_slice(args);
        Config::try_parse_from(all)
            .map_err(|e| e.to_string())?
            .tls
            .settings()
    }

    #[test]
    fn pairs_are_whole_or_refused() {
        assert_eq!(resolve(&[]).unwrap(), None);
        assert!(
            resolve(&["--tls-cert", "c"])
                .unwrap_err()
                .contains("--tls-key")
        );
        assert!(
            resolve(&["--tls-key", "k"])
                .unwrap_err()
                .contains("--tls-cert")
        );
        assert!(
            resolve(&["--tls-ca", "ca"])
                .unwrap_err()
                .contains("--tls-cert")
        );
        let s = resolve(&["--tls-cert", "c", "--tls-key", "k", "--tls-ca", "ca"])
            .unwrap()
            .unwrap();
        assert_eq!(s.client_ca, Some(PathBuf::from("ca")));
        assert_eq!(s.handshake_timeout, Duration::from_secs(10));
    }
}
