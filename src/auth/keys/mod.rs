//! API keys: made from the operating system's random source, handed out once, kept only as
//! their SHA-256 in the key file (`--api-keys-file`, mode 0600, replaced atomically).
//!
//! A lookup hashes the presented key and finds the hash in a map: no secret is ever compared
//! byte by byte, and an unknown, disabled, expired or revoked key get the same answer. The file
//! is the source of truth: every change re-reads it before writing, and lookups notice (within
//! a second) changes made by `strata keys` while the server runs, so a revocation from the
//! command line takes effect without a restart.

mod file;
pub mod record;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::RwLock;
use strata_tiers::clock::now_nanos;

pub use self::record::{KEY_LEN, KEY_PREFIX, KeyInfo, KeyRecord, KeyUpdate, NewKey};
use super::error::{Error, Result};
use super::identity::{AccessScope, Identity, Source};
use super::role::Role;
use file::Stamp;
pub(crate) use file::sha256;

/// How often a lookup may look at the key file for changes made elsewhere.
const RECHECK_NANOS: i64 = 1_000_000_000;

/// One loaded key.
#[derive(Debug)]
struct Entry {
    record: KeyRecord,
    identity: Arc<Identity>,
    last_used_ns: AtomicI64,
}

#[derive(Debug, Default)]
struct Loaded {
    entries: Vec<Entry>,
    by_hash: HashMap<[u8; 32], usize>,
    stamp: Option<Stamp>,
}

/// The keys of one key file.
#[derive(Debug)]
pub struct KeyStore {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    checked_at: AtomicI64,
}

impl KeyStore {
    /// Opens the key file at `path` (a missing file is an empty store, created at the first
    /// key). A file Strata did not write, or one others can read, is refused.
    pub fn open(path: &Path) -> Result<Self> {
        let store = KeyStore {
            path: path.to_path_buf(),
            loaded: RwLock::new(Loaded::default()),
            checked_at: AtomicI64::new(now_nanos()),
        };
        let (records, stamp) = file::read(&store.path)?;
        *store.loaded.write() = build(records, stamp, &HashMap::new());
        Ok(store)
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.loaded.read().entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The identity of `key`, if it is a known, enabled, unexpired key; its last use is noted.
    pub fn authenticate(&self, key: &str) -> Result<Arc<Identity>> {
        if key.len() != KEY_LEN || !key.starts_with(KEY_PREFIX) {
            return Err(Error::InvalidApiKey);
        }
        let now = now_nanos();
        self.notice_changes(now);
        let hash = file::sha256(key);
        let loaded = self.loaded.read();
        let entry = loaded
            .by_hash
            .get(&hash)
            .map(|&i| &loaded.entries[i])
            .ok_or(Error::InvalidApiKey)?;
        let r = &entry.record;
        if !r.enabled || (r.expires_at_ns != 0 && now >= r.expires_at_ns) {
            return Err(Error::InvalidApiKey);
        }
        entry.last_used_ns.fetch_max(now, Ordering::Relaxed);
        Ok(Arc::clone(&entry.identity))
    }

    /// The current identity of the key with id `id`, if it is still enabled and unexpired: a
    /// session made from a key ends when the key is revoked, disabled or expires, and follows
    /// its role and scope when they change.
    pub fn identity_of(&self, id: &str) -> Option<Arc<Identity>> {
        let now = now_nanos();
        self.notice_changes(now);
        let loaded = self.loaded.read();
        let entry = loaded.entries.iter().find(|e| e.record.id == id)?;
        let r = &entry.record;
        if !r.enabled || (r.expires_at_ns != 0 && now >= r.expires_at_ns) {
            return None;
        }
        entry.last_used_ns.fetch_max(now, Ordering::Relaxed);
        Some(Arc::clone(&entry.identity))
    }

    /// Every key, without secrets, oldest first.
    pub fn list(&self) -> Vec<KeyInfo> {
        let loaded = self.loaded.read();
        loaded
            .entries
            .iter()
            .map(|e| {
                let mut info = KeyInfo::from(&e.record);
                info.last_used_ns = e.last_used_ns.load(Ordering::Relaxed);
                info
            })
            .collect()
    }

    /// Makes a key; returns it (the only time it is ever shown) and its id.
    pub fn create(&self, new: &NewKey) -> Result<(String, String)> {
        let role = new.validate()?;
        let key = format!("{KEY_PREFIX}{}", hex::encode(random::<32>()?));
        let sha256 = hex::encode(file::sha256(&key));
        let id = self.change(|records| {
            let id = loop {
                let id = format!("ak_{}", hex::encode(random::<4>()?));
                if !records.iter().any(|r| r.id == id) {
                    break id;
                }
            };
            records.push(KeyRecord {
                id: id.clone(),
                name: new.name.clone().unwrap_or_default(),
                role: role.as_str().to_string(),
                sha256: sha256.clone(),
                enabled: true,
                created_at_ns: now_nanos(),
                last_used_ns: 0,
                expires_at_ns: new.expires_at_ns,
                tenant_id: new.tenant_id.clone(),
                allowed_symbols: new.symbols.clone(),
                allowed_tables: new.tables.clone(),
            });
            Ok(id)
        })?;
        Ok((key, id))
    }

    /// Changes the fields `update` gives of key `id`; nothing changes if any field is bad.
    pub fn update(&self, id: &str, update: &KeyUpdate) -> Result<()> {
        update.validate()?;
        self.change(|records| {
            let record = records
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or(Error::KeyNotFound)?;
            update.apply(record);
            Ok(())
        })
    }

    /// Deletes key `id`: it is refused from now on, and cannot be enabled again.
    pub fn revoke(&self, id: &str) -> Result<()> {
        self.change(|records| {
            let before = records.len();
            records.retain(|r| r.id != id);
            if records.len() == before {
                Err(Error::KeyNotFound)
            } else {
                Ok(())
            }
        })
    }

    /// Re-reads the file, applies `edit`, writes the file atomically and loads the result.
    /// Last-use times noted in memory are kept.
    fn change<T>(&self, edit: impl FnOnce(&mut Vec<KeyRecord>) -> Result<T>) -> Result<T> {
        let mut loaded = self.loaded.write();
        let used = last_used(&loaded);
        let (mut records, _) = file::read(&self.path)?;
        for r in &mut records {
            if let Some(&t) = used.get(&r.id) {
                r.last_used_ns = r.last_used_ns.max(t);
            }
        }
        let out = edit(&mut records)?;
        let stamp = file::write(&self.path, &records)?;
        *loaded = build(records, Some(stamp), &used);
        Ok(out)
    }

    /// Reloads the file if it changed since it was loaded (looked at most once a second).
    fn notice_changes(&self, now: i64) {
        let checked = self.checked_at.load(Ordering::Relaxed);
        if now - checked < RECHECK_NANOS
            || self
                .checked_at
                .compare_exchange(checked, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let current = file::stamp(&self.path);
        if current == self.loaded.read().stamp {
            return;
        }
        match file::read(&self.path) {
            Ok((records, stamp)) => {
                let mut loaded = self.loaded.write();
                let used = last_used(&loaded);
                *loaded = build(records, stamp, &used);
                tracing::info!(path = %self.path.display(), keys = loaded.entries.len(), "reloaded the API key file");
            }
            // Keep serving the keys loaded last rather than none; say why.
            Err(e) => tracing::error!(
                "cannot reload the API key file, keeping the keys loaded before: {e}"
            ),
        }
    }
}

fn last_used(loaded: &Loaded) -> HashMap<String, i64> {
    loaded
        .entries
        .iter()
        .map(|e| (e.record.id.clone(), e.last_used_ns.load(Ordering::Relaxed)))
        .collect()
}

/// Loaded entries from checked records (checked by [`file::read`] or by creation).
fn build(records: Vec<KeyRecord>, stamp: Option<Stamp>, used: &HashMap<String, i64>) -> Loaded {
    let mut loaded = Loaded {
        stamp,
        ..Loaded::default()
    };
    for record in records {
        let mut hash = [0u8; 32];
        if hex::decode_to_slice(&record.sha256, &mut hash).is_err() {
            continue;
        }
        let identity = Arc::new(identity_of(&record));
        let last = used
            .get(&record.id)
            .copied()
            .unwrap_or(0)
            .max(record.last_used_ns);
        loaded.by_hash.insert(hash, loaded.entries.len());
        loaded.entries.push(Entry {
            record,
            identity,
            last_used_ns: AtomicI64::new(last),
        });
    }
    loaded
}

fn identity_of(r: &KeyRecord) -> Identity {
    let set = |v: &[String]| (!v.is_empty()).then(|| v.iter().cloned().collect::<BTreeSet<_>>());
    Identity {
        subject: r.id.clone(),
        name: Some(r.name.clone()),
        role: Role::parse(&r.role).unwrap_or(Role::Unknown),
        source: Source::ApiKey,
        scope: AccessScope {
            tables: set(&r.allowed_tables),
            symbols: set(&r.allowed_symbols),
            tenant: Some(r.tenant_id.clone()).filter(|t| !t.is_empty()),
        },
        expires_at: u64::try_from(r.expires_at_ns)
            .ok()
            .filter(|&ns| ns != 0)
            .map(|ns| std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns)),
    }
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Random)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, role: &str) -> NewKey {
        NewKey {
            name: Some(name.into()),
            role: Some(role.into()),
            ..NewKey::default()
        }
    }

    #[test]
    fn lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let store = KeyStore::open(&path).unwrap();
        assert!(store.is_empty());
        let (secret, id) = store.create(&key("root", "admin")).unwrap();
        assert_eq!(secret.len(), KEY_LEN);
        assert!(
            secret[KEY_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(id.starts_with("ak_") && id.len() == 11);
        let who = store.authenticate(&secret).unwrap();
        assert_eq!((who.subject.as_str(), who.role), (id.as_str(), Role::Admin));

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&secret) && !text.contains(&secret[6..]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        store
            .update(
                &id,
                &KeyUpdate {
                    enabled: Some(false),
                    ..KeyUpdate::default()
                },
            )
            .unwrap();
        assert!(matches!(
            store.authenticate(&secret),
            Err(Error::InvalidApiKey)
        ));
        store
            .update(
                &id,
                &KeyUpdate {
                    enabled: Some(true),
                    ..KeyUpdate::default()
                },
            )
            .unwrap();
        assert!(store.authenticate(&secret).is_ok());
        let bad = KeyUpdate {
            enabled: Some(false),
            tables: Some(vec![String::new()]),
            ..KeyUpdate::default()
        };
        assert!(store.update(&id, &bad).is_err());
        assert!(
            store.authenticate(&secret).is_ok(),
            "a refused update changes nothing"
        );

        let reopened = KeyStore::open(&path).unwrap();
        assert!(
            reopened.authenticate(&secret).is_ok(),
            "keys survive a restart"
        );
        assert!(reopened.list()[0].last_used_ns > 0);

        store.revoke(&id).unwrap();
        assert!(matches!(
            store.authenticate(&secret),
            Err(Error::InvalidApiKey)
        ));
        assert!(matches!(store.revoke(&id), Err(Error::KeyNotFound)));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn expiry_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(&dir.path().join("k")).unwrap();
        let (old, _) = store
            .create(&NewKey {
                expires_at_ns: 1,
                ..key("old", "reader")
            })
            .unwrap();
        let (later, _) = store
            .create(&NewKey {
                expires_at_ns: now_nanos() + 3_600_000_000_000,
                ..key("later", "reader")
            })
            .unwrap();
        assert!(matches!(
            store.authenticate(&old),
            Err(Error::InvalidApiKey)
        ));
        assert!(store.authenticate(&later).is_ok());
        let unknown = format!("{KEY_PREFIX}{}", "0".repeat(64));
        assert!(matches!(
            store.authenticate(&unknown),
            Err(Error::InvalidApiKey)
        ));
        assert!(matches!(
            store.authenticate("zepto_short"),
            Err(Error::InvalidApiKey)
        ));
    }

    #[test]
    fn a_second_writer_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let server = KeyStore::open(&path).unwrap();
        let cli = KeyStore::open(&path).unwrap();
        let (secret, id) = cli.create(&key("from-cli", "reader")).unwrap();
        // The server's own next change keeps the key the other writer made.
        server.create(&key("from-server", "reader")).unwrap();
        assert!(server.authenticate(&secret).is_ok());
        cli.revoke(&id).unwrap();
        server.checked_at.store(0, Ordering::Relaxed);
        assert!(
            server.authenticate(&secret).is_err(),
            "a revocation elsewhere takes effect"
        );
    }
}
