//! CityHash128 as of CityHash 1.0.2: the checksum of ClickHouse's compressed blocks
//! ([`super::blocks`]). ClickHouse froze this version for its wire format (later CityHash
//! releases hash differently), so it is written out here rather than taken from a crate that
//! follows the current one; the tests pin it to values from the `clickhouse-cityhash` package,
//! the binding of ClickHouse's own copy that clickhouse-driver uses.

const K0: u64 = 0xc3a5_c85c_97cb_3127;
const K1: u64 = 0xb492_b66f_be98_f273;
const K2: u64 = 0x9ae1_6a3b_2f90_404f;
const K3: u64 = 0xc949_d7c7_509e_6557;

/// The 128-bit hash of `data`, as its two 64-bit halves in the order ClickHouse writes them
/// (each little-endian).
pub fn city_hash_128(data: &[u8]) -> (u64, u64) {
    if data.len() >= 16 {
        let seed = (fetch64(data, 0) ^ K3, fetch64(data, 8));
        with_seed(&data[16..], seed)
    } else if data.len() >= 8 {
        let len = data.len() as u64;
        let seed = (
            fetch64(data, 0) ^ len.wrapping_mul(K0),
            fetch64(data, data.len() - 8) ^ K1,
        );
        with_seed(&[], seed)
    } else {
        with_seed(data, (K0, K1))
    }
}

fn fetch64(s: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn fetch32(s: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&s[at..at + 4]);
    u64::from(u32::from_le_bytes(bytes))
}

fn rotate(value: u64, shift: u32) -> u64 {
    if shift == 0 {
        value
    } else {
        value.rotate_right(shift)
    }
}

fn shift_mix(value: u64) -> u64 {
    value ^ (value >> 47)
}

fn hash_len_16(u: u64, v: u64) -> u64 {
    const MUL: u64 = 0x9ddf_ea08_eb38_2d69;
    let mut a = (u ^ v).wrapping_mul(MUL);
    a ^= a >> 47;
    let mut b = (v ^ a).wrapping_mul(MUL);
    b ^= b >> 47;
    b.wrapping_mul(MUL)
}

fn hash_len_0_to_16(s: &[u8]) -> u64 {
    let len = s.len();
    if len > 8 {
        let a = fetch64(s, 0);
        let b = fetch64(s, len - 8);
        // Rotating by the length, which is 9 to 16 here: never 0.
        return hash_len_16(a, b.wrapping_add(len as u64).rotate_right(len as u32)) ^ b;
    }
    if len >= 4 {
        let a = fetch32(s, 0);
        return hash_len_16((len as u64).wrapping_add(a << 3), fetch32(s, len - 4));
    }
    if len > 0 {
        let (a, b, c) = (
            u32::from(s[0]),
            u32::from(s[len >> 1]),
            u32::from(s[len - 1]),
        );
        let y = a.wrapping_add(b << 8);
        let z = (len as u32).wrapping_add(c << 2);
        return shift_mix(u64::from(y).wrapping_mul(K2) ^ u64::from(z).wrapping_mul(K3))
            .wrapping_mul(K2);
    }
    K2
}

/// A 16-byte hash of 32 bytes and two seeds.
fn weak_hash_32(s: &[u8], at: usize, a: u64, b: u64) -> (u64, u64) {
    let (w, x, y, z) = (
        fetch64(s, at),
        fetch64(s, at + 8),
        fetch64(s, at + 16),
        fetch64(s, at + 24),
    );
    let a = a.wrapping_add(w);
    let b = rotate(b.wrapping_add(a).wrapping_add(z), 21);
    let c = a;
    let a = a.wrapping_add(x).wrapping_add(y);
    let b = b.wrapping_add(rotate(a, 44));
    (a.wrapping_add(z), b.wrapping_add(c))
}

/// Inputs of fewer than 128 bytes.
fn city_murmur(s: &[u8], seed: (u64, u64)) -> (u64, u64) {
    let len = s.len();
    let (mut a, mut b) = seed;
    let (mut c, mut d);
    if len <= 16 {
        a = shift_mix(a.wrapping_mul(K1)).wrapping_mul(K1);
        c = b.wrapping_mul(K1).wrapping_add(hash_len_0_to_16(s));
        d = shift_mix(a.wrapping_add(if len >= 8 { fetch64(s, 0) } else { c }));
    } else {
        c = hash_len_16(fetch64(s, len - 8).wrapping_add(K1), a);
        d = hash_len_16(
            b.wrapping_add(len as u64),
            c.wrapping_add(fetch64(s, len - 16)),
        );
        a = a.wrapping_add(d);
        let mut at = 0;
        let mut left = len as i64 - 16;
        loop {
            a ^= shift_mix(fetch64(s, at).wrapping_mul(K1)).wrapping_mul(K1);
            a = a.wrapping_mul(K1);
            b ^= a;
            c ^= shift_mix(fetch64(s, at + 8).wrapping_mul(K1)).wrapping_mul(K1);
            c = c.wrapping_mul(K1);
            d ^= c;
            at += 16;
            left -= 16;
            if left <= 0 {
                break;
            }
        }
    }
    let a = hash_len_16(a, c);
    let b = hash_len_16(d, b);
    (a ^ b, hash_len_16(b, a))
}

fn with_seed(s: &[u8], seed: (u64, u64)) -> (u64, u64) {
    if s.len() < 128 {
        return city_murmur(s, seed);
    }
    let mul = |v: u64| v.wrapping_mul(K1);
    let (mut x, mut y) = seed;
    let mut z = (s.len() as u64).wrapping_mul(K1);
    let mut v = (0u64, 0u64);
    v.0 = mul(rotate(y ^ K1, 49)).wrapping_add(fetch64(s, 0));
    v.1 = mul(rotate(v.0, 42)).wrapping_add(fetch64(s, 8));
    let mut w = (
        mul(rotate(y.wrapping_add(z), 35)).wrapping_add(x),
        mul(rotate(x.wrapping_add(fetch64(s, 88)), 53)),
    );
    let mut at = 0;
    let mut len = s.len();
    // Two rounds of 64 bytes per turn, as the reference unrolls them.
    loop {
        for _ in 0..2 {
            x = mul(rotate(
                x.wrapping_add(y)
                    .wrapping_add(v.0)
                    .wrapping_add(fetch64(s, at + 16)),
                37,
            ));
            y = mul(rotate(
                y.wrapping_add(v.1).wrapping_add(fetch64(s, at + 48)),
                42,
            ));
            x ^= w.1;
            y ^= v.0;
            z = rotate(z ^ w.0, 33);
            v = weak_hash_32(s, at, mul(v.1), x.wrapping_add(w.0));
            w = weak_hash_32(s, at + 32, z.wrapping_add(w.1), y);
            std::mem::swap(&mut z, &mut x);
            at += 64;
        }
        len -= 128;
        if len < 128 {
            break;
        }
    }
    y = y.wrapping_add(rotate(w.0, 37).wrapping_mul(K0).wrapping_add(z));
    x = x.wrapping_add(rotate(v.0.wrapping_add(z), 49).wrapping_mul(K0));
    // The last 0 to 127 bytes, in chunks of 32 counted back from the end.
    let mut tail_done = 0;
    while tail_done < len {
        tail_done += 32;
        y = rotate(y.wrapping_sub(x), 42)
            .wrapping_mul(K0)
            .wrapping_add(v.1);
        w.0 = w.0.wrapping_add(fetch64(s, at + len - tail_done + 16));
        x = rotate(x, 49).wrapping_mul(K0).wrapping_add(w.0);
        w.0 = w.0.wrapping_add(v.0);
        v = weak_hash_32(s, at + len - tail_done, v.0, v.1);
    }
    x = hash_len_16(x, v.0);
    y = hash_len_16(y, w.0);
    (
        hash_len_16(x.wrapping_add(v.1), w.1).wrapping_add(y),
        hash_len_16(x.wrapping_add(w.1), y.wrapping_add(v.1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `clickhouse_cityhash.cityhash.CityHash128(data)`, which is (first half << 64 | second).
    #[test]
    fn matches_clickhouse_cityhash_1_0_2() {
        let counting: Vec<u8> = (0..=255u8).collect();
        let cases: [(Vec<u8>, u128); 11] = [
            (b"".to_vec(), 0x3df09dfc64c09a2b3cb540c392e51e29),
            (counting[..12].to_vec(), 0x182760380e12873f89a96c2b71930cc2),
            (counting[..33].to_vec(), 0x66b6018b265e86eba5cf49e386167f3a),
            (counting[..100].to_vec(), 0x836ad9510a7189d492d5fdf90b6d0ef9),
            (counting[..143].to_vec(), 0x2d63dbf4c2290d5b5c12cc8417ceb584),
            (
                counting.repeat(2)[..300].to_vec(),
                0x8f4ad51c9a584560a8f4769716bb690a,
            ),
            (b"a".to_vec(), 0xd27139a1afe01ad0fd7e8ee2e4c86cf6),
            (b"abcdefgh".to_vec(), 0x4ba34274d268afb4fb0ea90987f10634),
            (
                b"0123456789abcdef".to_vec(),
                0xc52ea1adb29e48007369a2fab076de4c,
            ),
            (counting[..200].to_vec(), 0x275774699e23b6fd5682ef01ebe7289c),
            (counting.repeat(3), 0xdfe5f9b62ac6597105e7fd5ccc5ecc0f),
        ];
        for (data, want) in cases {
            let (first, second) = city_hash_128(&data);
            let got = (u128::from(first) << 64) | u128::from(second);
            assert_eq!(got, want, "{} bytes", data.len());
        }
    }
}
