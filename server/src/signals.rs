//! SIGTERM and SIGINT in the `handoff-server` binary, handled as
//! redis-server 7 does: the handler logs `Received SIGTERM scheduling
//! shutdown...` itself (Redis's `pid:signal-handler (time) message` line)
//! and leaves the shutdown to the event loop (`shutdown::on_signal`); a
//! SIGINT while a signalled shutdown is pending (waiting for replicas) exits
//! at once with `You insist... exiting now.` and exit code 1. A second
//! SIGTERM only logs, as in Redis.
//!
//! The handler makes async-signal-safe calls only (atomics, getpid, time,
//! open, write, close, unlink, _exit). Embedded servers install nothing:
//! [`take_pending`] and [`clear`] then act on flags nobody sets.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::OnceLock;

/// The signal the loop has not handled yet (0 = none).
static PENDING: AtomicI32 = AtomicI32::new(0);
/// A signal asked for a shutdown that is not cancelled (Redis's
/// `shutdown_asap`): a SIGINT now exits at once.
static ASAP: AtomicBool = AtomicBool::new(false);
/// Where the handler writes its lines: the log file (absolute), or
/// standard output when None. Unset (embedded servers): nowhere.
static LOG_TARGET: OnceLock<Option<CString>> = OnceLock::new();

/// Installs the handlers. `logfile` is the log file's absolute path ("" for
/// standard output); every loglevel shows the handler's warnings.
pub fn install(logfile: &str) {
    let target = (!logfile.is_empty())
        .then(|| CString::new(logfile).ok())
        .flatten();
    let _ = LOG_TARGET.set(target);
    // SAFETY: the handler only makes async-signal-safe calls (module header).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        // No SA_RESTART: epoll_wait returns EINTR and the loop notices at once.
        sa.sa_flags = 0;
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    if ASAP.load(Ordering::SeqCst) && sig == libc::SIGINT {
        log_from_handler(b"You insist... exiting now.");
        remove_temp_file();
        // SAFETY: _exit is async-signal-safe; this was not a clean shutdown.
        unsafe { libc::_exit(1) };
    }
    let msg: &[u8] = match sig {
        libc::SIGINT => b"Received SIGINT scheduling shutdown...",
        libc::SIGTERM => b"Received SIGTERM scheduling shutdown...",
        _ => b"Received shutdown signal, scheduling shutdown...",
    };
    log_from_handler(msg);
    ASAP.store(true, Ordering::SeqCst);
    PENDING.store(sig, Ordering::SeqCst);
}

/// The signal received since the last call, if any (by name).
pub fn take_pending() -> Option<&'static str> {
    match PENDING.swap(0, Ordering::SeqCst) {
        0 => None,
        libc::SIGINT => Some("SIGINT"),
        _ => Some("SIGTERM"),
    }
}

/// The signalled shutdown ended without exiting (aborted, or its save
/// failed): the next SIGINT is a first one again.
pub fn clear() {
    ASAP.store(false, Ordering::SeqCst);
    PENDING.store(0, Ordering::SeqCst);
}

/// A signal is waiting for the loop (SHUTDOWN ABORT cancels it).
pub fn pending() -> bool {
    PENDING.load(Ordering::SeqCst) != 0
}

/// Writes `pid:signal-handler (unixtime) msg` like Redis's
/// serverLogFromHandler, without allocating.
fn log_from_handler(msg: &[u8]) {
    let Some(target) = LOG_TARGET.get() else {
        return;
    };
    let mut line = [0u8; 160];
    let mut n = 0;
    let mut put = |b: &[u8]| {
        let k = b.len().min(line.len() - n);
        line[n..n + k].copy_from_slice(&b[..k]);
        n += k;
    };
    let mut digits = [0u8; 20];
    // SAFETY: getpid and time are async-signal-safe.
    let (pid, now) = unsafe {
        (
            libc::getpid() as u64,
            libc::time(std::ptr::null_mut()) as u64,
        )
    };
    put(decimal(pid, &mut digits));
    put(b":signal-handler (");
    put(decimal(now, &mut digits));
    put(b") ");
    put(msg);
    put(b"\n");
    // SAFETY: open/write/close on a NUL-terminated path and a stack buffer.
    unsafe {
        let fd = match target {
            Some(path) => libc::open(
                path.as_ptr(),
                libc::O_APPEND | libc::O_CREAT | libc::O_WRONLY,
                0o644,
            ),
            None => libc::STDOUT_FILENO,
        };
        if fd < 0 {
            return;
        }
        let _ = libc::write(fd, line.as_ptr().cast(), n);
        if target.is_some() {
            libc::close(fd);
        }
    }
}

/// Removes the `temp-<pid>.rdb` a synchronous save in progress writes (the
/// binary works in `dir`), as Redis does before exiting on a second SIGINT.
fn remove_temp_file() {
    let mut path = [0u8; 48];
    let mut digits = [0u8; 20];
    // SAFETY: getpid is async-signal-safe.
    let pid = unsafe { libc::getpid() } as u64;
    let parts: [&[u8]; 3] = [b"temp-", decimal(pid, &mut digits), b".rdb\0"];
    let mut n = 0;
    for p in parts {
        path[n..n + p.len()].copy_from_slice(p);
        n += p.len();
    }
    // SAFETY: a NUL-terminated path on the stack; unlink is async-signal-safe.
    unsafe { libc::unlink(path.as_ptr().cast()) };
}

/// `v` in decimal, written at the end of `buf`.
fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut b = [0u8; 20];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(1795406179, &mut b), b"1795406179");
        assert_eq!(decimal(u64::MAX, &mut b), b"18446744073709551615");
    }
}
