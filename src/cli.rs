//! Subcommands of the `strata` binary besides serving: `strata keys create|list|revoke`
//! manage the API key file (how the first admin key is made). A running server picks the
//! changes up within a second.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::auth::keys::{KeyStore, NewKey};

/// What to do instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `strata keys …`.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it, once, on standard output.
    Create {
        /// The key file (created if missing, mode 0600).
        #[arg(long, env = "STRATA_API_KEYS_FILE")]
        api_keys_file: PathBuf,
        /// A label for the key.
        #[arg(long)]
        name: String,
        /// admin, writer, reader, analyst or metrics.
        #[arg(long, default_value = "reader")]
        role: String,
        /// The only tables it may touch (comma-separated; default: all).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// The only symbols whose rows it sees (comma-separated; default: all).
        #[arg(long, value_delimiter = ',')]
        symbols: Vec<String>,
        /// The tenant it acts for.
        #[arg(long)]
        tenant: Option<String>,
        /// Expiry in nanoseconds since the epoch (0: never).
        #[arg(long, default_value_t = 0)]
        expires_at_ns: i64,
    },
    /// List the keys (never the keys themselves) as JSON.
    List {
        /// The key file.
        #[arg(long, env = "STRATA_API_KEYS_FILE")]
        api_keys_file: PathBuf,
    },
    /// Revoke a key by id (`ak_…`).
    Revoke {
        /// The key file.
        #[arg(long, env = "STRATA_API_KEYS_FILE")]
        api_keys_file: PathBuf,
        /// The key's id.
        id: String,
    },
}

/// Runs `command`; the error is what to tell the user.
pub fn run(command: &Command) -> Result<(), String> {
    let Command::Keys(keys) = command;
    let mut out = std::io::stdout().lock();
    let written = match keys {
        KeysCommand::Create {
            api_keys_file,
            name,
            role,
            tables,
            symbols,
            tenant,
            expires_at_ns,
        } => {
            let store = KeyStore::open(api_keys_file).map_err(|e| e.to_string())?;
            let new = NewKey {
                name: Some(name.clone()),
                role: Some(role.clone()),
                tables: tables.clone(),
                symbols: symbols.clone(),
                tenant_id: tenant.clone().unwrap_or_default(),
                expires_at_ns: *expires_at_ns,
            };
            let (key, id) = store.create(&new).map_err(|e| e.to_string())?;
            tracing::info!(%id, name, role, file = %api_keys_file.display(), "API key created; it is shown once");
            writeln!(out, "{key}")
        }
        KeysCommand::List { api_keys_file } => {
            let store = KeyStore::open(api_keys_file).map_err(|e| e.to_string())?;
            let text = serde_json::to_string_pretty(&store.list()).map_err(|e| e.to_string())?;
            writeln!(out, "{text}")
        }
        KeysCommand::Revoke { api_keys_file, id } => {
            let store = KeyStore::open(api_keys_file).map_err(|e| e.to_string())?;
            store.revoke(id).map_err(|e| format!("{id}: {e}"))?;
            writeln!(out, "revoked {id}")
        }
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}
