//! LZF, the compression of RDB strings (encoding 0xC3): a decompressor that
//! refuses malformed input instead of panicking, and a compressor whose
//! output any LZF decompressor (Redis's lzf_d included) reads. Owns only the
//! byte format; when to compress is the writer's decision.

/// Longest back-reference: 7 + 255 + 2 bytes.
const MAX_REF: usize = 264;
/// Farthest back-reference distance.
const MAX_OFF: usize = 1 << 13;
const HASH_BITS: u32 = 14;

/// Decompresses `input`, which must expand to exactly `ulen` bytes.
pub fn decompress(input: &[u8], ulen: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(ulen.min(1 << 28));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lit = input.get(i..i.checked_add(n)?)?;
            if out.len() + n > ulen {
                return None;
            }
            out.extend_from_slice(lit);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            let dist = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            let n = len + 2;
            if dist > out.len() || out.len() + n > ulen {
                return None;
            }
            let start = out.len() - dist;
            for k in 0..n {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == ulen).then_some(out)
}

fn hash3(b: &[u8], bits: u32) -> usize {
    let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
    (v.wrapping_mul(2_654_435_761) >> (32 - bits)) as usize
}

fn flush_literals(out: &mut Vec<u8>, lit: &[u8]) {
    for chunk in lit.chunks(32) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input`; None when the result would not be shorter than
/// `max_out` bytes.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(max_out.min(n));
    // A table sized to the input: small strings (most of them) stay cheap.
    let bits = (usize::BITS - n.leading_zeros()).clamp(6, HASH_BITS);
    let mut table = vec![usize::MAX; 1 << bits];
    let mut lit_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash3(&input[i..], bits);
        let cand = table[h];
        table[h] = i;
        if cand != usize::MAX && i - cand <= MAX_OFF && input[cand..cand + 3] == input[i..i + 3] {
            let max_len = MAX_REF.min(n - i);
            let mut len = 3;
            while len < max_len && input[cand + len] == input[i + len] {
                len += 1;
            }
            flush_literals(&mut out, &input[lit_start..i]);
            let off = i - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            i += len;
            lit_start = i;
        } else {
            i += 1;
        }
        if out.len() >= max_out {
            return None;
        }
    }
    flush_literals(&mut out, &input[lit_start..]);
    (out.len() < max_out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_data_round_trips() {
        let mut samples: Vec<Vec<u8>> = vec![
            b"abc".repeat(400),
            vec![b'P'; 2000],
            (0..5000u32).map(|i| (i * 7 % 13) as u8).collect(),
        ];
        let mut x = 12345u64;
        samples.push(
            (0..3000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 4) as u8 + b'a'
                })
                .collect(),
        );
        for s in samples {
            let c = compress(&s, s.len()).expect("compressible");
            assert!(c.len() < s.len());
            assert_eq!(decompress(&c, s.len()).unwrap(), s);
        }
    }

    #[test]
    fn incompressible_data_is_left_alone() {
        let mut x = 99u64;
        let s: Vec<u8> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(compress(&s, s.len() - 4).is_none());
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        // Back-reference before the start.
        assert!(decompress(&[0x20, 0x05], 3).is_none());
        // Literal run longer than the input.
        assert!(decompress(&[0x05, b'a'], 6).is_none());
        // Wrong expanded length.
        assert!(decompress(&[0x00, b'a'], 2).is_none());
        assert_eq!(decompress(&[0x00, b'a', 0x20, 0x00], 4).unwrap(), b"aaaa");
    }
}
