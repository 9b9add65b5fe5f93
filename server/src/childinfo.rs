//! What a snapshot child tells its parent while it writes, as Redis's child
//! info pipe: how many keys it has written and how much memory copy-on-write
//! has cost so far (its Private_Dirty bytes: the pages the parent modified
//! since the fork stay with the child only, plus the child's own buffers).
//!
//! The child ([`Reporter`]) measures at most once per second and then only
//! if the last measurement took under 1 % of the time since (Redis's
//! CHILD_COW_DUTY_CYCLE), and writes fixed-size records to a non-blocking
//! pipe (a full pipe drops a record rather than stall the child). The parent
//! ([`CowStats`]) only reads the pipe, from its cron, and keeps the numbers
//! INFO persistence reports under Redis's names.
//!
//! The child does not log (a logger lock held by another thread at fork time
//! would never be released in the child): the parent logs Redis's "Fork CoW"
//! line for it when the final record arrives.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Bytes of one record: kind, keys, cow, measured-at, peak, average (u64 each).
const RECORD: usize = 48;

/// Which report a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Progress while writing (CHILD_INFO_TYPE_CURRENT_INFO).
    Current = 1,
    /// The RDB is complete: the CoW cost of the whole snapshot.
    RdbDone = 2,
}

/// One record from the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub kind: Kind,
    /// Keys written so far.
    pub keys: u64,
    /// Private_Dirty bytes at the last measurement.
    pub cow: u64,
    /// When that measurement was taken ([`monotonic_us`]).
    pub cow_updated_us: u64,
    /// Highest and average measurement in the child so far.
    pub peak: u64,
    pub avg: u64,
}

impl Report {
    fn encode(&self) -> [u8; RECORD] {
        let mut b = [0u8; RECORD];
        let words = [
            self.kind as u64,
            self.keys,
            self.cow,
            self.cow_updated_us,
            self.peak,
            self.avg,
        ];
        for (chunk, w) in b.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8]) -> Option<Report> {
        let mut w = [0u64; RECORD / 8];
        for (slot, chunk) in w.iter_mut().zip(b.get(..RECORD)?.chunks_exact(8)) {
            *slot = u64::from_le_bytes(chunk.try_into().ok()?);
        }
        let kind = match w[0] {
            1 => Kind::Current,
            2 => Kind::RdbDone,
            _ => return None,
        };
        Some(Report {
            kind,
            keys: w[1],
            cow: w[2],
            cow_updated_us: w[3],
            peak: w[4],
            avg: w[5],
        })
    }
}

/// CLOCK_MONOTONIC in microseconds: the same clock in parent and child.
pub fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// The sum of the `Private_Dirty:` lines (kB) of an smaps file, in bytes.
pub fn parse_private_dirty(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.strip_prefix("Private_Dirty:"))
        .filter_map(|rest| rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// This process's Private_Dirty bytes: `/proc/self/smaps_rollup` (one
/// summary, cheaper), else the sum over `/proc/self/smaps` as Redis reads
/// it; 0 where neither exists.
pub fn private_dirty(buf: &mut String) -> u64 {
    for path in ["/proc/self/smaps_rollup", "/proc/self/smaps"] {
        buf.clear();
        if let Ok(mut f) = std::fs::File::open(path) {
            if std::io::Read::read_to_string(&mut f, buf).is_ok() {
                return parse_private_dirty(buf);
            }
        }
    }
    0
}

/// Least time between two progress records.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// A measurement waits for 100 times its own cost since the last one.
const DUTY_CYCLE: u64 = 100;

/// The child's side: measures and writes records to the pipe.
pub struct Reporter {
    fd: RawFd,
    last_sent: Option<Instant>,
    cow: u64,
    peak: u64,
    sum: u64,
    count: u64,
    updated_us: u64,
    cost_us: u64,
    buf: String,
}

impl Reporter {
    /// Reports to the pipe's write end `fd` (owned by the child).
    pub fn new(fd: RawFd) -> Self {
        Reporter {
            fd,
            last_sent: None,
            cow: 0,
            peak: 0,
            sum: 0,
            count: 0,
            updated_us: 0,
            cost_us: 0,
            buf: String::new(),
        }
    }

    /// Called every 1024 keys: a progress record at most once a second.
    pub fn progress(&mut self, keys: u64) {
        if self.last_sent.is_some_and(|t| t.elapsed() < REPORT_EVERY) {
            return;
        }
        self.last_sent = Some(Instant::now());
        let now = monotonic_us();
        let due = self.updated_us == 0
            || now.saturating_sub(self.updated_us) > self.cost_us.saturating_mul(DUTY_CYCLE);
        if due {
            self.measure(now);
        }
        self.send(Kind::Current, keys);
    }

    /// The snapshot is complete: a final measurement and record.
    pub fn finish(&mut self, keys: u64) {
        self.measure(monotonic_us());
        self.send(Kind::RdbDone, keys);
    }

    fn measure(&mut self, started_us: u64) {
        self.cow = private_dirty(&mut self.buf);
        self.updated_us = monotonic_us();
        self.cost_us = self.updated_us.saturating_sub(started_us);
        self.peak = self.peak.max(self.cow);
        self.sum += self.cow;
        self.count += 1;
    }

    fn send(&self, kind: Kind, keys: u64) {
        let r = Report {
            kind,
            keys,
            cow: self.cow,
            cow_updated_us: self.updated_us,
            peak: self.peak,
            avg: self.sum / self.count.max(1),
        };
        let b = r.encode();
        // SAFETY: writes our buffer to the pipe; a record (under PIPE_BUF)
        // goes whole or not at all. Best effort: a full pipe drops it.
        unsafe { libc::write(self.fd, b.as_ptr() as *const libc::c_void, b.len()) };
    }
}

/// The parent's side: the child's reports as INFO persistence shows them.
#[derive(Debug, Default)]
pub struct CowStats {
    /// `current_cow_peak`: the highest CoW reported by the running child.
    pub peak: u64,
    /// `current_cow_size`: its last progress report.
    pub current: u64,
    /// When `current` was measured ([`monotonic_us`]); 0 = never.
    pub current_updated_us: u64,
    /// `current_save_keys_processed` / `current_save_keys_total`.
    pub keys_processed: u64,
    pub keys_total: u64,
    /// `rdb_last_cow_size`: the peak CoW of the last complete RDB child.
    pub rdb_last_cow_size: u64,
    partial: Vec<u8>,
}

impl CowStats {
    /// A child was forked to write `keys_total` keys.
    pub fn start(&mut self, keys_total: u64) {
        self.reset_current();
        self.keys_total = keys_total;
    }

    /// No child runs any more (Redis's resetChildState).
    pub fn reset_current(&mut self) {
        self.peak = 0;
        self.current = 0;
        self.current_updated_us = 0;
        self.keys_processed = 0;
        self.keys_total = 0;
        self.partial.clear();
    }

    /// Reads every record waiting in the pipe's read end `fd` (non-blocking).
    pub fn drain(&mut self, fd: RawFd) {
        let mut buf = [0u8; RECORD * 16];
        loop {
            // SAFETY: reads into our buffer, of its length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n <= 0 {
                return;
            }
            self.feed(&buf[..n as usize]);
        }
    }

    /// Applies the complete records in `bytes` (a record may span calls).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let whole = self.partial.len() / RECORD * RECORD;
        let records: Vec<Report> = self.partial[..whole]
            .chunks_exact(RECORD)
            .filter_map(Report::decode)
            .collect();
        self.partial.drain(..whole);
        for r in records {
            self.apply(r);
        }
    }

    fn apply(&mut self, r: Report) {
        self.peak = self.peak.max(r.cow);
        let line = || {
            format!(
                "Fork CoW for RDB: current {} MB, peak {} MB, average {} MB",
                r.cow >> 20,
                r.peak >> 20,
                r.avg >> 20
            )
        };
        match r.kind {
            Kind::Current => {
                self.current = r.cow;
                self.current_updated_us = r.cow_updated_us;
                self.keys_processed = r.keys;
                if r.cow != 0 {
                    log::debug!("{}", line());
                }
            }
            Kind::RdbDone => {
                self.rdb_last_cow_size = self.peak;
                log::info!("{}", line());
            }
        }
    }

    /// `current_fork_perc`: keys written out of the keys at fork time.
    pub fn fork_perc(&self) -> f64 {
        if self.keys_total == 0 {
            return 0.0;
        }
        self.keys_processed as f64 / self.keys_total as f64 * 100.0
    }

    /// `current_cow_size_age`: seconds since `current` was measured.
    pub fn current_age_secs(&self) -> u64 {
        if self.current_updated_us == 0 {
            return 0;
        }
        monotonic_us().saturating_sub(self.current_updated_us) / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirty_sums_the_smaps_lines_in_bytes() {
        let smaps = "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\n\
                     Size:                328 kB\n\
                     Private_Clean:         0 kB\n\
                     Private_Dirty:        12 kB\n\
                     7f00-7f01 rw-p 00000000 00:00 0\n\
                     Private_Dirty:         4 kB\n";
        assert_eq!(parse_private_dirty(smaps), 16 * 1024);
        assert_eq!(parse_private_dirty("Private_Dirty: x kB\n"), 0);
        // This process has some (its stack and heap at least).
        assert!(private_dirty(&mut String::new()) > 0);
    }

    #[test]
    fn records_split_across_reads_are_applied_whole_and_the_peak_is_kept() {
        let mut s = CowStats::default();
        s.start(1000);
        let a = Report {
            kind: Kind::Current,
            keys: 100,
            cow: 5 << 20,
            cow_updated_us: monotonic_us(),
            peak: 5 << 20,
            avg: 5 << 20,
        };
        let b = Report {
            kind: Kind::Current,
            keys: 500,
            cow: 3 << 20,
            ..a
        };
        let done = Report {
            kind: Kind::RdbDone,
            keys: 1000,
            cow: 4 << 20,
            ..a
        };
        let mut bytes = a.encode().to_vec();
        bytes.extend_from_slice(&b.encode());
        s.feed(&bytes[..70]);
        assert_eq!((s.keys_processed, s.current), (100, 5 << 20));
        s.feed(&bytes[70..]);
        assert_eq!(
            (s.keys_processed, s.current, s.peak),
            (500, 3 << 20, 5 << 20)
        );
        assert_eq!(format!("{:.2}", s.fork_perc()), "50.00");
        s.feed(&done.encode());
        assert_eq!(s.rdb_last_cow_size, 5 << 20, "the peak of the whole save");
        s.reset_current();
        assert_eq!((s.peak, s.current, s.keys_total), (0, 0, 0));
        assert_eq!(s.rdb_last_cow_size, 5 << 20);
        // Garbage is skipped, not misread.
        s.feed(&[0xff; RECORD]);
        assert_eq!(s.rdb_last_cow_size, 5 << 20);
    }

    #[test]
    fn a_reporter_writes_a_first_record_at_once_then_at_most_one_a_second() {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 fills the two fds.
        assert_eq!(
            unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
            0
        );
        let mut rep = Reporter::new(fds[1]);
        rep.progress(1);
        rep.progress(1025);
        rep.finish(2000);
        let mut s = CowStats::default();
        s.start(2000);
        s.drain(fds[0]);
        assert_eq!(
            s.keys_processed, 1,
            "the second progress call came too soon"
        );
        assert!(s.peak > 0 && s.rdb_last_cow_size == s.peak);
        // SAFETY: closing the fds we created.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
