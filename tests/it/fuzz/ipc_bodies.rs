//! Corrupted and recompressed Arrow IPC bodies for `/insert/arrow`.

use super::*;

/// A valid Arrow IPC stream of `ticks` rows, made with pyarrow-free Arrow: the server's own
/// result encoding of a SELECT.
async fn arrow_stream(c: &Client) -> Vec<u8> {
    let reply = c
        .request(
            Method::POST,
            "/",
            &[("Accept", "application/vnd.apache.arrow.stream")],
            b"SELECT symbol, price, volume, timestamp FROM ticks".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body
}

/// The same rows as `stream`, re-encoded with `compression`.
fn compressed(stream: &[u8], compression: CompressionType) -> Vec<u8> {
    let reader = StreamReader::try_new(stream, None).expect("the server's own stream");
    let schema = reader.schema();
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(compression))
        .expect("compression is built in");
    let mut out = Vec::new();
    let mut writer =
        StreamWriter::try_new_with_options(&mut out, &schema, options).expect("writer");
    for batch in reader {
        writer.write(&batch.expect("a valid batch")).expect("write");
    }
    writer.finish().expect("finish");
    drop(writer);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_arrow_ipc_is_refused_and_changes_nothing() {
    let (server, c) = quiet_ticks_server().await;
    let plain = arrow_stream(&c).await;
    // Compressed bodies carry a declared size per buffer that the decoder trusts: fuzz those too.
    let valids = [compressed(&plain, CompressionType::LZ4_FRAME), plain];
    let mut rng = Rng::seeded(0x5eed_0003);
    let mut before = snapshot(&c).await;
    let deadline = Instant::now() + budget();
    let mut sent = 0;
    while Instant::now() < deadline && sent < 3000 {
        let mut bytes = rng.pick(&valids).clone();
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                0 => {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(bytes.len());
                    bytes[i] = *rng.pick(&[0x00, 0xff, 0x7f, 0x80]);
                }
                2 => {
                    let cut = rng.below(bytes.len());
                    bytes.truncate(cut.max(1));
                }
                _ => {
                    let i = rng.below(bytes.len());
                    let n = rng.below(32).min(bytes.len() - i);
                    let copy = bytes[i..i + n].to_vec();
                    insert_at(&mut bytes, i, copy);
                }
            }
        }
        let table = *rng.pick(&["ticks", "ticks", "nothere", ""]);
        let path = format!("/insert/arrow?table={table}");
        let refused = probe(&server, Method::POST, &path, &[], bytes, &path).await;
        let after = snapshot(&c).await;
        if refused {
            assert_eq!(after, before, "refused ingest changed data");
        }
        before = after;
        sent += 1;
    }
    eprintln!("fuzz: {sent} Arrow IPC bodies");
    assert_no_panic(&server);
    assert!(sent > 50, "too few bodies in the time budget: {sent}");
}
