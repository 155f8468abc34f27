//! HTTP compression as ClickHouse does it: request bodies in `Content-Encoding` gzip, deflate,
//! br, zstd or lz4 (the LZ4 *frame* format clickhouse-connect sends with every insert), and
//! responses compressed only when the client sets `enable_http_compression=1` and lists a
//! method in `Accept-Encoding`. gzip is preferred whenever it is listed: every client decodes
//! it, while Node 20 (the JS client) cannot decode zstd (`clickhouse-http.md` §1.1).

use std::io::{Read, Write};

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};

/// A compression method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// gzip.
    Gzip,
    /// zlib (HTTP's `deflate`).
    Deflate,
    /// Brotli.
    Br,
    /// Zstandard.
    Zstd,
    /// The LZ4 frame format.
    Lz4,
}

impl Method {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Method::Gzip,
            "deflate" => Method::Deflate,
            "br" => Method::Br,
            "zstd" => Method::Zstd,
            "lz4" => Method::Lz4,
            _ => return None,
        })
    }

    /// The `Content-Encoding` value.
    pub fn name(self) -> &'static str {
        match self {
            Method::Gzip => "gzip",
            Method::Deflate => "deflate",
            Method::Br => "br",
            Method::Zstd => "zstd",
            Method::Lz4 => "lz4",
        }
    }
}

/// Why a body could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `Content-Encoding` Strata does not decode.
    #[error("Unknown Content-Encoding '{0}' (supported: gzip, deflate, br, zstd, lz4)")]
    Unknown(String),
    /// The body is not what its encoding says.
    #[error("The request body is not valid {method} data: {reason}")]
    Corrupt {
        /// The encoding.
        method: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A compressed block (`decompress=1`) whose checksum does not match its bytes.
    #[error(
        "The checksum of the compressed block at byte {at} does not match its data: the body \
         was damaged or is not in ClickHouse's compressed-block format"
    )]
    Checksum {
        /// Where the block starts in the body.
        at: usize,
    },
    /// A compressed block (`decompress=1`) in a method Strata does not decode.
    #[error(
        "The compressed block at byte {at} has method 0x{method:02x} (supported: 0x02 none, \
         0x82 LZ4, 0x90 ZSTD)"
    )]
    UnknownBlockMethod {
        /// The method byte.
        method: u8,
        /// Where the block starts in the body.
        at: usize,
    },
    /// Decompressed, the body would exceed the limit.
    #[error("The decompressed request body exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
}

/// The request body as sent, decompressed per `Content-Encoding` to at most `limit` bytes.
pub fn decode_body(
    headers: &HeaderMap,
    body: bytes::Bytes,
    limit: u64,
) -> Result<bytes::Bytes, Error> {
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Ok(body);
    };
    let name = value.to_str().unwrap_or("?").trim();
    if name.is_empty() || name.eq_ignore_ascii_case("identity") {
        return Ok(body);
    }
    let method =
        Method::parse(name).ok_or_else(|| Error::Unknown(name.chars().take(40).collect()))?;
    let reader: Box<dyn Read> =
        match method {
            Method::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&body[..])),
            Method::Deflate => Box::new(flate2::read::ZlibDecoder::new(&body[..])),
            Method::Br => Box::new(brotli::Decompressor::new(&body[..], 64 * 1024)),
            Method::Zstd => Box::new(zstd::stream::read::Decoder::new(&body[..]).map_err(|e| {
                Error::Corrupt {
                    method: method.name(),
                    reason: e.to_string(),
                }
            })?),
            Method::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(&body[..])),
        };
    let mut out = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::Corrupt {
            method: method.name(),
            reason: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(Error::TooLarge { limit });
    }
    Ok(out.into())
}

/// The method to compress a response with, if the client asked for compression and listed
/// one Strata writes.
pub fn response_method(headers: &HeaderMap, enabled: bool) -> Option<Method> {
    if !enabled {
        return None;
    }
    let listed: Vec<Method> = headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let method = Method::parse(parts.next().unwrap_or(""))?;
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (!refused).then_some(method)
        })
        .collect();
    if listed.contains(&Method::Gzip) {
        return Some(Method::Gzip);
    }
    listed.first().copied()
}

/// `body` compressed with `method`.
pub fn compress(method: Method, body: &[u8]) -> std::io::Result<Vec<u8>> {
    match method {
        Method::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body)?;
            e.finish()
        }
        Method::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body)?;
            e.finish()
        }
        Method::Br => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 4, 22);
                w.write_all(body)?;
            }
            Ok(out)
        }
        Method::Zstd => zstd::encode_all(body, 3),
        Method::Lz4 => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(body)?;
            e.finish().map_err(std::io::Error::other)
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn every_method_round_trips() {
        let body = b"INSERT INTO t FORMAT TSV\n1\n2\n".repeat(50);
        for method in [
            Method::Gzip,
            Method::Deflate,
            Method::Br,
            Method::Zstd,
            Method::Lz4,
        ] {
            let packed = compress(method, &body).unwrap();
            let mut h = HeaderMap::new();
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(method.name()));
            let back = decode_body(&h, packed.clone().into(), 1 << 20).unwrap();
            assert_eq!(&back[..], &body[..], "{method:?}");
            assert!(matches!(
                decode_body(&h, packed.into(), 10),
                Err(Error::TooLarge { .. })
            ));
        }
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        assert!(matches!(
            decode_body(&h, body.clone().into(), 1 << 20),
            Err(Error::Unknown(_))
        ));
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(matches!(
            decode_body(&h, body.into(), 1 << 20),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn gzip_is_preferred_and_compression_must_be_enabled() {
        let mut h = HeaderMap::new();
        h.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static("lz4, zstd, gzip, deflate"),
        );
        assert_eq!(response_method(&h, true), Some(Method::Gzip));
        assert_eq!(response_method(&h, false), None);
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(response_method(&h, true), Some(Method::Br));
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        assert_eq!(response_method(&h, true), None);
    }
}
