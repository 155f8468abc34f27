//! Segment files: the on-disk framing of the WAL.
//!
//! A segment is named after the sequence number of its first record (`00000000000000000042.wal`),
//! starts with an 8-byte magic that carries the format version, then holds records framed as
//!
//! ```text
//! u32 payload length | u32 CRC-32 of the payload | payload
//! ```
//!
//! A segment is written into space filled with zeros beforehand (`Writer::prepare` in `mod.rs`), so the records
//! end where a zero length starts and only zeros follow: no record has an empty payload.
//!
//! A write that was cut short by a crash leaves a partial frame at the very end of the newest
//! segment: [`read_segment`] reports where the valid part ends so the caller can cut it off. A bad
//! frame anywhere else means the log was damaged after the fact, and is an error.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::{WalError, WalResult, io};

/// First bytes of every segment; the digits are the format version.
pub(crate) const MAGIC: &[u8; 8] = b"STRWAL01";
/// Length + CRC.
pub(crate) const FRAME_HEADER: usize = 8;
/// Upper bound on one record, against reading garbage lengths as allocations.
const MAX_RECORD: usize = 1 << 31;

/// A segment file found in the WAL directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    /// Sequence number of the first record the segment may hold.
    pub(crate) first_seq: u64,
    pub(crate) path: PathBuf,
}

/// The file name of the segment starting at `first_seq`.
pub(crate) fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.wal"))
}

/// The segments in `dir`, oldest first. Other files are ignored.
pub(crate) fn list_segments(dir: &Path) -> WalResult<Vec<SegmentFile>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let first_seq = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first_seq) = first_seq {
            segments.push(SegmentFile { first_seq, path });
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// Fills in the frame header of `buf`: its first [`FRAME_HEADER`] bytes are reserved, the rest
/// is the payload.
pub(crate) fn seal_frame(buf: &mut [u8]) {
    let (header, payload) = buf.split_at_mut(FRAME_HEADER);
    // Payloads are bounded by the request size limit, far below 4 GiB.
    header[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    header[4..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
}

/// `payload` framed for appending to a segment.
#[cfg(test)]
pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0; FRAME_HEADER];
    out.extend_from_slice(payload);
    seal_frame(&mut out);
    out
}

/// The records of one segment.
#[derive(Debug)]
pub(crate) struct SegmentContents {
    /// Payloads of the valid records, in order.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Byte length of the valid prefix of the file.
    pub(crate) valid_len: u64,
    /// Whether bytes other than zeros follow the valid prefix (a torn or damaged tail).
    pub(crate) torn: bool,
    /// Whether the file is longer than its valid prefix (zeros not yet written over, or a
    /// torn tail).
    pub(crate) longer: bool,
}

/// Reads a segment. A bad frame is reported as `torn` (with `valid_len` where it starts); the
/// caller decides whether that is a crash's torn tail or damage.
pub(crate) fn read_segment(path: &Path) -> WalResult<SegmentContents> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io(path))?;
    if bytes.len() < MAGIC.len() {
        // Created but never written: a crash right after rotation.
        return Ok(SegmentContents {
            payloads: Vec::new(),
            valid_len: 0,
            torn: !bytes.is_empty(),
            longer: !bytes.is_empty(),
        });
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(WalError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: "not a Strata WAL segment (bad magic)".into(),
        });
    }
    let mut offset = MAGIC.len();
    let mut payloads = Vec::new();
    while offset < bytes.len() {
        let Some(header) = bytes.get(offset..offset + FRAME_HEADER) else {
            break;
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len == 0 {
            // The space prepared for records and not yet written over.
            break;
        }
        let start = offset + FRAME_HEADER;
        let Some(payload) = bytes.get(start..start + len).filter(|_| len <= MAX_RECORD) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        payloads.push(payload.to_vec());
        offset = start + len;
    }
    Ok(SegmentContents {
        payloads,
        valid_len: offset as u64,
        torn: bytes[offset..].iter().any(|&b| b != 0),
        longer: offset < bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(path: &Path, parts: &[&[u8]]) {
        let mut f = File::create(path).unwrap();
        for p in parts {
            f.write_all(p).unwrap();
        }
    }

    #[test]
    fn reads_records_and_finds_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 1);
        let (a, b) = (frame(b"first"), frame(b"second"));
        write(&path, &[MAGIC, &a, &b[..b.len() - 2]]);
        let contents = read_segment(&path).unwrap();
        assert_eq!(contents.payloads, [b"first".to_vec()]);
        assert_eq!(contents.valid_len, (MAGIC.len() + a.len()) as u64);
        assert!(contents.torn);

        write(&path, &[MAGIC, &a, &b]);
        let contents = read_segment(&path).unwrap();
        assert_eq!(contents.payloads.len(), 2);
        assert!(!contents.torn);
    }

    #[test]
    fn records_end_where_the_prepared_zeros_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 1);
        let a = frame(b"first");
        let zeros = vec![0; 4096];
        write(&path, &[MAGIC, &a, &zeros]);
        let contents = read_segment(&path).unwrap();
        assert_eq!(contents.payloads, [b"first".to_vec()]);
        assert_eq!(contents.valid_len, (MAGIC.len() + a.len()) as u64);
        assert!(!contents.torn && contents.longer);

        // Half a frame written into the zeros by a crash is a torn tail.
        let b = frame(b"second");
        write(&path, &[MAGIC, &a, &b[..b.len() - 2], &zeros]);
        let contents = read_segment(&path).unwrap();
        assert_eq!(contents.payloads.len(), 1);
        assert!(contents.torn);
        // So is a frame whose header never reached the disk while its payload did.
        write(
            &path,
            &[MAGIC, &a, &[0; FRAME_HEADER], &b[FRAME_HEADER..], &zeros],
        );
        assert!(read_segment(&path).unwrap().torn);
    }

    #[test]
    fn a_flipped_bit_stops_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = segment_path(dir.path(), 1);
        let mut a = frame(b"first");
        let last = a.len() - 1;
        a[last] ^= 1;
        write(&path, &[MAGIC, &a]);
        let contents = read_segment(&path).unwrap();
        assert!(contents.payloads.is_empty());
        assert!(contents.torn);
    }

    #[test]
    fn segments_list_in_sequence_order() {
        let dir = tempfile::tempdir().unwrap();
        for seq in [10, 2, 300] {
            write(&segment_path(dir.path(), seq), &[MAGIC]);
        }
        write(&dir.path().join("notes.txt"), &[b"x"]);
        let seqs: Vec<_> = list_segments(dir.path())
            .unwrap()
            .iter()
            .map(|s| s.first_seq)
            .collect();
        assert_eq!(seqs, [2, 10, 300]);
    }
}
