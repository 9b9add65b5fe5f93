//! The RDB payload after `+FULLRESYNC`: newline keepalives, then either
//! `$<len>\r\n` and exactly len bytes (disk-based), or `$EOF:<40-byte
//! mark>\r\n`, the RDB and the mark again (diskless). What follows the
//! payload in the same TCP stream is the command stream.

#[derive(Debug)]
enum Framing {
    Header,
    Sized(usize),
    Eof([u8; 40]),
}

pub struct RdbTransfer {
    framing: Framing,
    header: Vec<u8>,
    payload: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Need more bytes.
    More,
    /// The payload is complete; `rest` is the start of the command stream.
    Done { rdb: Vec<u8>, rest: Vec<u8> },
}

impl Default for RdbTransfer {
    fn default() -> Self {
        Self::new()
    }
}

impl RdbTransfer {
    pub fn new() -> Self {
        RdbTransfer {
            framing: Framing::Header,
            header: Vec::new(),
            payload: Vec::new(),
        }
    }

    /// Payload bytes received so far.
    pub fn received(&self) -> usize {
        self.payload.len()
    }

    /// True once the size line was read and it announced EOF framing.
    pub fn is_diskless(&self) -> bool {
        matches!(self.framing, Framing::Eof(_))
    }

    /// Feeds bytes from the primary. Errors are the reasons to drop the link.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<Progress, String> {
        while let Framing::Header = self.framing {
            let Some(nl) = data.iter().position(|&c| c == b'\n') else {
                self.header.extend_from_slice(data);
                if self.header.len() > 1024 {
                    return Err("Bad protocol from MASTER: header line too long".into());
                }
                return Ok(Progress::More);
            };
            self.header.extend_from_slice(&data[..nl]);
            data = &data[nl + 1..];
            let mut line = std::mem::take(&mut self.header);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                continue; // keepalive
            }
            if line[0] == b'-' {
                return Err(format!(
                    "MASTER aborted replication with an error: {}",
                    String::from_utf8_lossy(&line[1..])
                ));
            }
            if line[0] != b'$' {
                return Err(format!(
                    "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?",
                    String::from_utf8_lossy(&line)
                ));
            }
            if let Some(mark) = line.strip_prefix(b"$EOF:") {
                if mark.len() < 40 {
                    return Err("Bad EOF mark from MASTER".into());
                }
                let mut m = [0u8; 40];
                m.copy_from_slice(&mark[..40]);
                self.framing = Framing::Eof(m);
            } else {
                let len = std::str::from_utf8(&line[1..])
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok())
                    .ok_or("Bad RDB size from MASTER")?;
                self.payload.reserve(len.min(1 << 30));
                self.framing = Framing::Sized(len);
            }
        }
        match self.framing {
            Framing::Sized(len) => {
                let want = len - self.payload.len();
                if data.len() < want {
                    self.payload.extend_from_slice(data);
                    return Ok(Progress::More);
                }
                self.payload.extend_from_slice(&data[..want]);
                Ok(Progress::Done {
                    rdb: std::mem::take(&mut self.payload),
                    rest: data[want..].to_vec(),
                })
            }
            Framing::Eof(mark) => {
                // Nothing follows the mark until we ACK, so the mark ends the data.
                self.payload.extend_from_slice(data);
                if self.payload.len() >= 40 && self.payload[self.payload.len() - 40..] == mark {
                    let n = self.payload.len() - 40;
                    self.payload.truncate(n);
                    return Ok(Progress::Done {
                        rdb: std::mem::take(&mut self.payload),
                        rest: Vec::new(),
                    });
                }
                Ok(Progress::More)
            }
            Framing::Header => Ok(Progress::More),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sized_payload_ends_exactly_and_the_stream_follows_it() {
        let mut t = RdbTransfer::new();
        assert_eq!(t.feed(b"\n\n$5\r\nRE").unwrap(), Progress::More);
        assert_eq!(
            t.feed(b"DIS*1\r\n$4\r\nPING\r\n").unwrap(),
            Progress::Done {
                rdb: b"REDIS".to_vec(),
                rest: b"*1\r\n$4\r\nPING\r\n".to_vec()
            }
        );
    }

    #[test]
    fn an_eof_payload_ends_at_the_repeated_mark_even_when_split() {
        let mark = "0123456789abcdef0123456789abcdef01234567";
        let mut t = RdbTransfer::new();
        let data = format!("$EOF:{mark}\r\nREDIS0010...{mark}");
        let bytes = data.as_bytes();
        let mut last = Progress::More;
        for chunk in bytes.chunks(7) {
            last = t.feed(chunk).unwrap();
        }
        assert_eq!(
            last,
            Progress::Done {
                rdb: b"REDIS0010...".to_vec(),
                rest: vec![]
            }
        );
    }

    #[test]
    fn errors_and_garbage_from_the_primary_abort_the_transfer() {
        assert!(RdbTransfer::new().feed(b"-ERR bgsave failed\r\n").is_err());
        assert!(RdbTransfer::new().feed(b"+OK\r\n").is_err());
        assert!(RdbTransfer::new().feed(b"$abc\r\n").is_err());
        assert!(RdbTransfer::new().feed(b"$EOF:short\r\n").is_err());
    }
}
