//! Commands as they travel on the replication stream: RESP2 arrays of bulk
//! strings, nothing else.

/// Appends `args` as `*N\r\n$len\r\narg\r\n...` to `out`.
pub fn encode_into<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    out.push(b'*');
    push_decimal(out, args.len());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        push_decimal(out, a.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_decimal(out: &mut Vec<u8>, n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// `REPLCONF ACK <offset>`, as a replica sends it.
pub fn ack(offset: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    encode_into(
        &mut out,
        &[b"REPLCONF".as_ref(), b"ACK", offset.to_string().as_bytes()],
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_encode_as_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode_into(&mut out, &["SELECT", "0"]);
        assert_eq!(out, b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n");
        assert_eq!(
            ack(864),
            b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$3\r\n864\r\n".to_vec()
        );
    }
}
