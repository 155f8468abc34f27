//! ClickHouse's own compressed blocks, the `compress=1` (response) and `decompress=1` (request
//! body) URL parameters that clickhouse-go sends with LZ4 or ZSTD compression. A body is a
//! sequence of blocks, each:
//!
//! | bytes | what |
//! |---|---|
//! | 16 | CityHash128 (1.0.2) of the rest of the block: its two halves, each little-endian |
//! | 1 | method: `0x02` none, `0x82` LZ4 (block format), `0x90` ZSTD |
//! | 4 | size of the block from the method byte on (header included), little-endian |
//! | 4 | size of the data once decompressed, little-endian |
//! | … | the compressed data |
//!
//! Responses are cut into blocks of at most 1 MiB of data (ClickHouse's `max_compress_block_size`)
//! and compressed with the `network_compression_method` setting's method (LZ4 unless it says
//! ZSTD or NONE). Request blocks are checked against their checksum before they are decoded,
//! and a body is refused once its decoded size would pass the request limit.

use super::cityhash::city_hash_128;
use super::compression::Error;

/// The data of a block is at most this long (ClickHouse's `max_compress_block_size`).
const BLOCK: usize = 1 << 20;
/// Checksum, then method, then the two sizes.
const HEADER: usize = 16 + 9;

/// A block's compression method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Stored as it is.
    None,
    /// LZ4's block format.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Codec {
    /// The method `network_compression_method` names (case-insensitive), LZ4 when it names none
    /// Strata writes.
    pub fn from_setting(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_uppercase).as_deref() {
            Some("ZSTD") => Codec::Zstd,
            Some("NONE") => Codec::None,
            _ => Codec::Lz4,
        }
    }

    fn byte(self) -> u8 {
        match self {
            Codec::None => 0x02,
            Codec::Lz4 => 0x82,
            Codec::Zstd => 0x90,
        }
    }
}

/// `data` as compressed blocks.
pub fn encode(data: &[u8], codec: Codec) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 2 + HEADER);
    for chunk in data.chunks(BLOCK) {
        let packed = match codec {
            Codec::None => chunk.to_vec(),
            Codec::Lz4 => lz4_flex::block::compress(chunk),
            Codec::Zstd => zstd::bulk::compress(chunk, 1)?,
        };
        let start = out.len();
        out.extend_from_slice(&[0; 16]);
        out.push(codec.byte());
        // A chunk is at most 1 MiB, so both sizes fit 32 bits.
        out.extend_from_slice(&((packed.len() + 9) as u32).to_le_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        out.extend_from_slice(&packed);
        let (first, second) = city_hash_128(&out[start + 16..]);
        out[start..start + 8].copy_from_slice(&first.to_le_bytes());
        out[start + 8..start + 16].copy_from_slice(&second.to_le_bytes());
    }
    Ok(out)
}

/// The data of the blocks in `body`, at most `limit` bytes of it.
pub fn decode(body: &[u8], limit: u64) -> Result<Vec<u8>, Error> {
    let corrupt = |reason: String| Error::Corrupt {
        method: "ClickHouse compressed block",
        reason,
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let rest = &body[at..];
        if rest.len() < HEADER {
            return Err(corrupt(format!(
                "the block at byte {at} is cut short ({} bytes, its header alone is {HEADER})",
                rest.len()
            )));
        }
        let size = u32_at(rest, 17) as usize;
        let plain = u32_at(rest, 21) as usize;
        if size < 9 || rest.len() < 16 + size {
            return Err(corrupt(format!(
                "the block at byte {at} declares {size} bytes, and {} follow its checksum",
                rest.len() - 16
            )));
        }
        let block = &rest[16..16 + size];
        let (first, second) = city_hash_128(block);
        if rest[..8] != first.to_le_bytes() || rest[8..16] != second.to_le_bytes() {
            return Err(Error::Checksum { at });
        }
        if (out.len() + plain) as u64 > limit {
            return Err(Error::TooLarge { limit });
        }
        let packed = &block[9..];
        match block[0] {
            0x02 if packed.len() == plain => out.extend_from_slice(packed),
            0x02 => {
                return Err(corrupt(format!(
                    "the uncompressed block at byte {at} holds {} bytes, not {plain}",
                    packed.len()
                )));
            }
            0x82 => {
                let data = lz4_flex::block::decompress(packed, plain)
                    .map_err(|e| corrupt(format!("the LZ4 block at byte {at}: {e}")))?;
                out.extend_from_slice(&data);
            }
            0x90 => {
                let data = zstd::bulk::decompress(packed, plain)
                    .map_err(|e| corrupt(format!("the ZSTD block at byte {at}: {e}")))?;
                out.extend_from_slice(&data);
            }
            other => return Err(Error::UnknownBlockMethod { method: other, at }),
        }
        at += 16 + size;
    }
    Ok(out)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_across_blocks() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        for codec in [Codec::None, Codec::Lz4, Codec::Zstd] {
            let packed = encode(&data, codec).unwrap();
            assert_eq!(packed[16], codec.byte());
            assert_eq!(decode(&packed, 1 << 30).unwrap(), data, "{codec:?}");
            assert!(matches!(decode(&packed, 1000), Err(Error::TooLarge { .. })));
        }
        assert!(decode(&[], 10).unwrap().is_empty());
    }

    #[test]
    fn damaged_blocks_are_refused_by_name() {
        let mut packed = encode(b"SELECT 1", Codec::Lz4).unwrap();
        let last = packed.len() - 1;
        packed[last] ^= 1;
        assert!(matches!(
            decode(&packed, 1 << 20),
            Err(Error::Checksum { at: 0 })
        ));
        let packed = encode(b"SELECT 1", Codec::Lz4).unwrap();
        assert!(matches!(
            decode(&packed[..packed.len() - 1], 1 << 20),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            decode(&packed[..10], 1 << 20),
            Err(Error::Corrupt { .. })
        ));
        let mut odd = encode(b"x", Codec::None).unwrap();
        odd[16] = 0x33;
        let (first, second) = city_hash_128(&odd[16..]);
        odd[..8].copy_from_slice(&first.to_le_bytes());
        odd[8..16].copy_from_slice(&second.to_le_bytes());
        assert!(matches!(
            decode(&odd, 1 << 20),
            Err(Error::UnknownBlockMethod { method: 0x33, .. })
        ));
        assert_eq!(Codec::from_setting(Some("zstd")), Codec::Zstd);
        assert_eq!(Codec::from_setting(None), Codec::Lz4);
    }
}
