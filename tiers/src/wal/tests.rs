use std::io::Write;

use arrow::array::Int64Array;

use super::segment::frame;
use super::*;

fn batch(values: &[i64]) -> RecordBatch {
    RecordBatch::try_from_iter(vec![(
        "v",
        Arc::new(Int64Array::from(values.to_vec())) as _,
    )])
    .unwrap()
}

fn config(dir: &Path, sync: WalSync) -> WalConfig {
    WalConfig {
        dir: dir.to_path_buf(),
        sync,
        segment_bytes: 1 << 20,
    }
}

fn replay_all(dir: &Path, min_next_seq: u64) -> (Arc<Wal>, Vec<WalRecord>) {
    let mut seen = Vec::new();
    let wal = Wal::open(config(dir, WalSync::Always), min_next_seq, |r| {
        seen.push(r);
        Ok(())
    })
    .unwrap();
    (wal, seen)
}

#[test]
fn records_survive_a_reopen_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, seen) = replay_all(dir.path(), 0);
    assert!(seen.is_empty());
    let b = batch(&[1, 2, 3]);
    let s1 = wal
        .append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    let s2 = wal
        .append("u", "id2", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    wal.sync(s2).unwrap();
    assert_eq!((s1, s2), (1, 2));
    drop(wal);

    let (wal, seen) = replay_all(dir.path(), 0);
    let seqs: Vec<_> = seen.iter().map(|r| (r.seq, r.target.as_str())).collect();
    assert_eq!(seqs, [(1, "t"), (2, "u")]);
    assert_eq!(seen[0].batches, [b]);
    assert_eq!(wal.next_seq(), 3, "numbers continue after the log");
}

#[test]
fn numbering_continues_after_the_hdb_high_water_mark() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = replay_all(dir.path(), 500);
    let b = batch(&[1]);
    assert_eq!(
        wal.append("t", "id", &b.schema(), std::slice::from_ref(&b))
            .unwrap(),
        500
    );
}

#[test]
fn a_torn_tail_is_cut_off_and_writing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = replay_all(dir.path(), 0);
    let b = batch(&[1]);
    wal.append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    let active = wal.writer.lock().active().path.clone();
    drop(wal);
    // A crash in the middle of the next write: half a frame at the end.
    let mut f = OpenOptions::new().append(true).open(&active).unwrap();
    f.write_all(&frame(b"never acknowledged")[..10]).unwrap();
    drop(f);

    let (wal, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.len(), 1);
    let seq = wal
        .append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    assert_eq!(seq, 2);
    drop(wal);
    let (_, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn damage_before_the_end_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let b = batch(&[1]);
    let (wal, _) = replay_all(dir.path(), 0);
    wal.append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    let first = wal.writer.lock().active().path.clone();
    drop(wal);
    let (wal, _) = replay_all(dir.path(), 0);
    wal.append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    drop(wal);
    let mut bytes = fs::read(&first).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&first, bytes).unwrap();
    let err = Wal::open(config(dir.path(), WalSync::Off), 0, |_| Ok(())).unwrap_err();
    assert!(matches!(err, WalError::Corrupt { .. }), "{err}");
}

#[test]
fn segments_rotate_and_flushed_ones_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), WalSync::Off);
    cfg.segment_bytes = 1 << 20;
    let wal = Wal::open(cfg, 0, |_| Ok(())).unwrap();
    let b = batch(&(0..70_000).collect::<Vec<_>>()); // ~560 KB a record
    let seqs: Vec<u64> = (0..5)
        .map(|_| {
            let seq = wal
                .append("t", "id", &b.schema(), std::slice::from_ref(&b))
                .unwrap();
            wal.applied(seq);
            seq
        })
        .collect();
    let before = wal.stats().segments;
    assert!(before >= 3, "{before} segments");
    assert_eq!(wal.remove_through(0).unwrap(), 0);
    let removed = wal.remove_through(seqs[3]).unwrap();
    assert!(removed >= 1);
    drop(wal);
    let (_, seen) = replay_all(dir.path(), 0);
    let first = seen.first().map(|r| r.seq).unwrap();
    assert!(first <= seqs[4], "the unflushed record is kept");
    assert_eq!(seen.last().map(|r| r.seq), Some(seqs[4]));
}

#[test]
fn concurrent_writers_share_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = replay_all(dir.path(), 0);
    let b = batch(&[1]);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let seq = wal
                        .append("t", "id", &b.schema(), std::slice::from_ref(&b))
                        .unwrap();
                    wal.sync(seq).unwrap();
                }
            });
        }
    });
    let stats = wal.stats();
    assert_eq!(stats.records, 200);
    assert!(stats.syncs <= 200);
    drop(wal);
    let (_, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_writers_are_covered_by_shared_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = replay_all(dir.path(), 0);
    let b = batch(&[1]);
    let mut writers = Vec::new();
    for _ in 0..32 {
        let (wal, b) = (Arc::clone(&wal), b.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..20 {
                let seq = wal
                    .append("t", "id", &b.schema(), std::slice::from_ref(&b))
                    .unwrap();
                wal.durable(seq).await.unwrap();
                // Acknowledged means on disk: the syncer published at least this sequence.
                assert!(wal.commit.synced_seq() >= seq);
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let stats = wal.stats();
    assert_eq!(stats.records, 640);
    // 32 writers at once: syncs are shared, never one per record.
    assert!(stats.syncs < 640, "{} syncs for 640 records", stats.syncs);
    drop(wal);
    let (_, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.len(), 640);
}

#[test]
fn dropping_the_log_stops_its_syncer() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = replay_all(dir.path(), 0);
    let weak = Arc::downgrade(&wal);
    let b = batch(&[1]);
    let seq = wal
        .append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    wal.sync(seq).unwrap();
    drop(wal);
    // The syncer holds the log only while syncing (it may still be finishing the one that
    // released us): soon nothing keeps it alive.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while weak.upgrade().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the syncer keeps the log alive"
        );
        std::thread::yield_now();
    }
    // And the directory can be opened again at once (no thread writing to it).
    let (_, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.len(), 1);
}

#[test]
fn records_on_their_way_to_the_hot_tier_are_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), WalSync::Off);
    cfg.segment_bytes = 1 << 20;
    let wal = Wal::open(cfg, 0, |_| Ok(())).unwrap();
    let b = batch(&(0..70_000).collect::<Vec<_>>());
    let first = wal
        .append("t", "id", &b.schema(), std::slice::from_ref(&b))
        .unwrap();
    let seqs: Vec<u64> = (0..4)
        .map(|_| {
            let seq = wal
                .append("t", "id", &b.schema(), std::slice::from_ref(&b))
                .unwrap();
            wal.applied(seq);
            seq
        })
        .collect();
    // `first` is not applied yet: even "everything is flushed" keeps its segment.
    wal.remove_through(seqs[3]).unwrap();
    drop(wal);
    let (_, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.first().map(|r| r.seq), Some(first));
}

#[test]
fn records_are_written_over_prepared_zeros_and_the_rest_is_cut_at_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = replay_all(dir.path(), 0);
    let b = batch(&[1, 2, 3]);
    for _ in 0..3 {
        let seq = wal
            .append("t", "id", &b.schema(), std::slice::from_ref(&b))
            .unwrap();
        wal.applied(seq);
    }
    let active = wal.writer.lock().active().path.clone();
    let written = wal.stats().bytes;
    let on_disk = fs::metadata(&active).unwrap().len();
    assert!(
        on_disk > written,
        "{on_disk} bytes on disk for {written} written"
    );
    drop(wal);

    let (wal, seen) = replay_all(dir.path(), 0);
    assert_eq!(seen.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(fs::metadata(&active).unwrap().len(), written);
    assert_eq!(wal.stats().bytes, written + MAGIC.len() as u64);
}
