//! The end-of-run check on the final primary: every acknowledged SET must be there with
//! its value (or a later one this connection sent without learning the outcome), every
//! preloaded key must be intact, and each INCR counter must equal the acknowledged INCRs
//! (plus at most the uncertain ones). Reads only, pipelined in batches.

use std::io;

use handoff_protocol::{Connection, Frame};

use super::worker::{self, Outcome};

/// Commands sent before their replies are read.
const BATCH: usize = 1000;

/// What the final primary holds compared with what was acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The node checked.
    pub primary: String,
    /// Acknowledged SET keys checked.
    pub keys_checked: u64,
    /// Acknowledged keys absent on the final primary.
    pub missing: u64,
    /// Acknowledged keys holding an older value than the last acknowledged one.
    pub stale: u64,
    /// Keys holding a value this run never wrote to them (should never happen).
    pub unexpected: u64,
    pub preload_checked: u64,
    pub preload_missing: u64,
    pub preload_wrong: u64,
    /// Sum of acknowledged INCRs and of the counters' final values.
    pub incr_acked: u64,
    pub incr_final: u64,
    /// INCRs whose outcome the client never learnt (they may have run).
    pub incr_uncertain: u64,
    /// Counters whose final value lies outside [acknowledged, acknowledged + uncertain].
    pub counters_wrong: u64,
}

impl Verdict {
    /// No acknowledged write lost, none stale, counters within bounds.
    pub fn clean(&self) -> bool {
        self.missing == 0
            && self.stale == 0
            && self.unexpected == 0
            && self.preload_missing == 0
            && self.preload_wrong == 0
            && self.counters_wrong == 0
    }

    /// Whether the INCR total is exact (no uncertain INCR ran, none was lost).
    pub fn incr_exact(&self) -> bool {
        self.incr_final == self.incr_acked
    }
}

/// GETs `keys` in pipelined batches and returns the replies in order.
fn get_all(c: &mut Connection, keys: &[String]) -> io::Result<Vec<Frame>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BATCH) {
        for k in chunk {
            c.send(&["GET", k.as_str()])?;
        }
        c.flush()?;
        for _ in chunk {
            out.push(c.read_frame()?);
        }
    }
    Ok(out)
}

/// The preloaded key `i`.
pub fn preload_key(prefix: &str, i: usize) -> String {
    format!("{prefix}:pre:{i}")
}

/// The preloaded value of key `i`.
pub fn preload_value(i: usize, size: usize) -> String {
    worker::value(i as u64, size)
}

/// Writes `n` preload keys in pipelined batches.
pub fn preload(c: &mut Connection, prefix: &str, n: usize, size: usize) -> io::Result<()> {
    let mut i = 0;
    while i < n {
        let end = (i + BATCH).min(n);
        for j in i..end {
            c.send(&["SET", &preload_key(prefix, j), &preload_value(j, size)])?;
        }
        c.flush()?;
        for _ in i..end {
            let reply = c.read_frame()?;
            if let Some(e) = reply.error_text() {
                return Err(io::Error::other(format!(
                    "preload SET refused: {}",
                    String::from_utf8_lossy(e)
                )));
            }
        }
        i = end;
    }
    Ok(())
}

/// Checks everything against the final primary over `c`.
pub fn verify(
    c: &mut Connection,
    primary: &str,
    prefix: &str,
    outcomes: &[Outcome],
    preload: usize,
    value_size: usize,
) -> io::Result<Verdict> {
    let mut v = Verdict {
        primary: primary.to_string(),
        ..Verdict::default()
    };
    for (w, out) in outcomes.iter().enumerate() {
        let idx: Vec<usize> = (0..out.acked.len())
            .filter(|&i| out.acked[i] > 0 || out.uncertain.contains_key(&i))
            .collect();
        let keys: Vec<String> = idx.iter().map(|&i| worker::key(prefix, w, i)).collect();
        let replies = get_all(c, &keys)?;
        for (&i, reply) in idx.iter().zip(&replies) {
            let acked = out.acked[i];
            let maybe = out.uncertain.get(&i).map(Vec::as_slice).unwrap_or(&[]);
            let got = reply.as_bytes().and_then(worker::seq_of);
            if acked > 0 {
                v.keys_checked += 1;
            }
            match got {
                None if acked > 0 && !reply.is_null() => v.unexpected += 1,
                None if acked > 0 => v.missing += 1,
                None => {}
                Some(s) if s == acked || maybe.contains(&s) => {}
                Some(s) if s < acked => v.stale += 1,
                Some(_) => v.unexpected += 1,
            }
        }
        if out.incr_acked > 0 || out.incr_uncertain > 0 {
            let reply = get_all(c, &[worker::counter(prefix, w)])?;
            let value = reply
                .first()
                .and_then(Frame::as_int)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0);
            v.incr_acked += out.incr_acked;
            v.incr_uncertain += out.incr_uncertain;
            v.incr_final += value;
            if value < out.incr_acked || value > out.incr_acked + out.incr_uncertain {
                v.counters_wrong += 1;
            }
        }
    }
    let keys: Vec<String> = (0..preload).map(|i| preload_key(prefix, i)).collect();
    let replies = get_all(c, &keys)?;
    for (i, reply) in replies.iter().enumerate() {
        v.preload_checked += 1;
        match reply.as_bytes() {
            None => v.preload_missing += 1,
            Some(b) if b != preload_value(i, value_size).as_bytes() => v.preload_wrong += 1,
            Some(_) => {}
        }
    }
    Ok(v)
}
