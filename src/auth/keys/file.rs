//! The key file: one JSON document (`{"format": "strata-api-keys/1", "keys": [...]}`) written
//! to a temporary file beside it (mode 0600), synced, and renamed over it, so a crash leaves
//! either the old file or the new one. Reading checks every record; anything Strata would not
//! have written refuses the whole file.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::record::KeyRecord;
use crate::auth::error::{Error, Result};

const FORMAT: &str = "strata-api-keys/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    keys: Vec<KeyRecord>,
}

/// What identifies one version of the file (a rename gives a new inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

pub(crate) fn sha256(key: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

pub(super) fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    })
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::KeyFile {
        path: path.display().to_string(),
        source,
    }
}

fn malformed(path: &Path, reason: impl Into<String>) -> Error {
    Error::MalformedKeyFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// The records of the file (none if it does not exist), checked.
pub(super) fn read(path: &Path) -> Result<(Vec<KeyRecord>, Option<Stamp>)> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(io(path, e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| io(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(malformed(
                path,
                format!(
                    "it is readable by other users (mode {:o}); run chmod 600 on it",
                    mode & 0o777
                ),
            ));
        }
    }
    let doc: Document = serde_json::from_str(&text)
        .map_err(|e| malformed(path, format!("not a Strata key file: {e}")))?;
    if doc.format != FORMAT {
        return Err(malformed(
            path,
            format!("format {:?}, expected {FORMAT:?}", doc.format),
        ));
    }
    let (mut ids, mut hashes) = (HashSet::new(), HashSet::new());
    for r in &doc.keys {
        r.validate().map_err(|reason| malformed(path, reason))?;
        if !ids.insert(r.id.as_str()) {
            return Err(malformed(path, format!("key id {} appears twice", r.id)));
        }
        if !hashes.insert(r.sha256.as_str()) {
            return Err(malformed(
                path,
                format!("key {} repeats another key's hash", r.id),
            ));
        }
    }
    Ok((doc.keys, stamp(path)))
}

/// Replaces the file with `records`, atomically.
pub(super) fn write(path: &Path, records: &[KeyRecord]) -> Result<Stamp> {
    let doc = Document {
        format: FORMAT.to_string(),
        keys: records.to_vec(),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| malformed(path, e.to_string()))?;
    bytes.push(b'\n');
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "api_keys".into());
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable once the directory is.
        fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io(path, e));
    }
    stamp(path).ok_or_else(|| {
        io(
            path,
            std::io::Error::other("the file vanished after writing"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, hash: char) -> KeyRecord {
        KeyRecord {
            id: id.into(),
            name: "n".into(),
            role: "reader".into(),
            sha256: hash.to_string().repeat(64),
            enabled: true,
            created_at_ns: 1,
            last_used_ns: 0,
            expires_at_ns: 0,
            tenant_id: String::new(),
            allowed_symbols: vec![],
            allowed_tables: vec![],
        }
    }

    #[test]
    fn malformed_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write(&path, &[record("ak_0000000a", 'a')]).unwrap();
        assert_eq!(read(&path).unwrap().0.len(), 1);
        let good = fs::read_to_string(&path).unwrap();
        for (bad, why) in [
            ("garbage".to_string(), "not a Strata key file"),
            (good.replace("ak_0000000a", "ak_xyz"), "ak_ + 8 hex"),
            (good.replace("\"reader\"", "\"root\""), "Unknown role"),
            (good.replace(FORMAT, "other/1"), "format"),
            (
                good.replace("\"enabled\"", "\"extra\": 1, \"enabled\""),
                "not a Strata key file",
            ),
        ] {
            fs::write(&path, bad).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            }
            let err = read(&path).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        write(
            &path,
            &[record("ak_0000000a", 'a'), record("ak_0000000a", 'b')],
        )
        .unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("twice"));
        write(
            &path,
            &[record("ak_0000000a", 'a'), record("ak_0000000b", 'a')],
        )
        .unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("hash"));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write(&path, &[]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("chmod 600"));
    }
}
