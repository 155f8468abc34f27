//! Agent Memory's settings, as plain values: the server's flags are resolved into these once
//! (`crate::config`), and the subsystem takes nothing else from the server.

use std::collections::HashMap;
use std::path::PathBuf;

use super::error::{Error, Result};
pub use super::service::Limits;

/// Everything Agent Memory needs to open.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Capacity limits.
    pub limits: Limits,
    /// Approximate search.
    pub ann: AnnSettings,
    /// Commit to the datasets once this many changes are logged (0: only at stop).
    pub flush_every: u64,
    /// Where the records persist; `None`: in memory only.
    pub storage: Option<Storage>,
}

/// When approximate search is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnMode {
    /// Exact scan only.
    Off,
    /// A vector index from `min_records` memories.
    Auto,
    /// A vector index whenever there are vectors.
    On,
}

impl AnnMode {
    /// The mode as a word (`off`, `auto`, `on`).
    pub fn as_str(self) -> &'static str {
        match self {
            AnnMode::Off => "off",
            AnnMode::Auto => "auto",
            AnnMode::On => "on",
        }
    }
}

/// Approximate-search settings.
#[derive(Debug, Clone, Copy)]
pub struct AnnSettings {
    /// off, auto, on.
    pub mode: AnnMode,
    /// Rows from which `auto` indexes.
    pub min_records: usize,
    /// Most candidates re-ranked per search.
    pub max_candidates: usize,
    /// Partitions whose rows a search bounds from their codes (0: chosen by the index's size).
    pub probes: usize,
}

impl Default for AnnSettings {
    /// Exact scan only.
    fn default() -> Self {
        Self {
            mode: AnnMode::Off,
            min_records: 50_000,
            max_candidates: 50_000,
            probes: 0,
        }
    }
}

/// Where Agent Memory data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// Root of the datasets: a `file://` or object-store URL ending in `/`.
    pub root: url::Url,
    /// Object-store settings.
    pub options: HashMap<String, String>,
    /// The WAL directory (always local).
    pub wal_dir: PathBuf,
    /// WAL durability.
    pub wal_sync: strata_tiers::wal::WalSync,
}

impl Storage {
    /// Storage at `dir_or_uri` (a directory or an `s3://`, `file://` or `memory://` URI);
    /// `default_wal_dir` serves when the datasets are not local. Nothing is created here:
    /// directories are made when the store is opened.
    pub fn resolve(
        dir_or_uri: &str,
        options: HashMap<String, String>,
        default_wal_dir: PathBuf,
        wal_sync: strata_tiers::wal::WalSync,
    ) -> Result<Self> {
        let bad =
            |reason: String| Error::Storage(format!("--agent-memory-dir {dir_or_uri}: {reason}"));
        let (root, wal_dir) = if dir_or_uri.contains("://") {
            let mut root = url::Url::parse(dir_or_uri).map_err(|e| bad(e.to_string()))?;
            if !matches!(root.scheme(), "s3" | "file" | "memory") {
                return Err(bad(format!(
                    "unsupported scheme '{}' (use a path or s3://)",
                    root.scheme()
                )));
            }
            if !root.path().ends_with('/') {
                root.set_path(&format!("{}/", root.path()));
            }
            let wal_dir = match root.to_file_path() {
                Ok(local) if root.scheme() == "file" => local.join("wal"),
                _ => default_wal_dir,
            };
            (root, wal_dir)
        } else {
            let abs = std::path::absolute(dir_or_uri).map_err(|e| bad(e.to_string()))?;
            let root = url::Url::from_directory_path(&abs)
                .map_err(|()| bad("not a usable directory path".into()))?;
            (root, abs.join("wal"))
        };
        Ok(Self {
            root,
            options,
            wal_dir,
            wal_sync,
        })
    }

    /// The local directory of the datasets, when they are local.
    pub fn local_dir(&self) -> Option<PathBuf> {
        (self.root.scheme() == "file")
            .then(|| self.root.to_file_path().ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_tiers::wal::WalSync;

    #[test]
    fn local_and_object_store_locations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("am");
        let resolve = |s: &str| Storage::resolve(s, HashMap::new(), "w".into(), WalSync::Off);
        let local = resolve(path.to_str().unwrap()).unwrap();
        assert_eq!(local.root.scheme(), "file");
        assert!(local.root.path().ends_with("/am/"));
        assert!(local.wal_dir.ends_with("am/wal"));
        assert!(!path.exists(), "resolving creates nothing");
        assert_eq!(local.local_dir(), Some(path.clone()));
        let s3 = resolve("s3://b/p").unwrap();
        assert_eq!(s3.root.as_str(), "s3://b/p/");
        assert_eq!(s3.wal_dir, PathBuf::from("w"));
        assert_eq!(s3.local_dir(), None);
        assert!(resolve("gopher://x").is_err());
    }
}
