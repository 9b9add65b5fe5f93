//! Commands as they travel on the replication stream: RESP2 arrays of bulk
//! strings (written with the protocol crate's request encoder), nothing else.

use bytes::BytesMut;
use handoff_protocol::encode::encode_command;

/// `REPLCONF ACK <offset>`, as a replica sends it.
pub fn ack(offset: i64) -> BytesMut {
    let mut out = BytesMut::with_capacity(48);
    encode_command(
        &mut out,
        &[b"REPLCONF".as_ref(), b"ACK", offset.to_string().as_bytes()],
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_is_an_array_of_bulk_strings() {
        assert_eq!(
            &ack(864)[..],
            b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$3\r\n864\r\n"
        );
    }
}
