//! Log lines in Redis's format: `pid:M 22 Nov 2026 10:00:00.123 * message`,
//! through `log` + `env_logger`, honouring `loglevel` and `logfile`.
//!
//! Levels map as Redis's: debug `.` (trace), verbose `-` (debug),
//! notice `*` (info), warning `#` (warn and error).

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// The role letter in log lines: M primary, S replica, C child process.
pub static ROLE_LETTER: AtomicU8 = AtomicU8::new(b'M');

/// Maps a Redis `loglevel` name to a `log` filter.
pub fn level_filter(loglevel: &str) -> log::LevelFilter {
    match loglevel {
        "debug" => log::LevelFilter::Trace,
        "verbose" => log::LevelFilter::Debug,
        "notice" => log::LevelFilter::Info,
        "warning" => log::LevelFilter::Warn,
        "nothing" => log::LevelFilter::Off,
        _ => log::LevelFilter::Info,
    }
}

/// Installs the global logger. `logfile` empty means standard output.
pub fn init(loglevel: &str, logfile: &str) -> std::io::Result<()> {
    let mut b = env_logger::Builder::new();
    b.filter_level(level_filter(loglevel));
    b.format(|buf, record| {
        let mark = match record.level() {
            log::Level::Trace => '.',
            log::Level::Debug => '-',
            log::Level::Info => '*',
            log::Level::Warn | log::Level::Error => '#',
        };
        writeln!(
            buf,
            "{}:{} {} {} {}",
            std::process::id(),
            ROLE_LETTER.load(Ordering::Relaxed) as char,
            timestamp(),
            mark,
            record.args()
        )
    });
    if !logfile.is_empty() {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)?;
        b.target(env_logger::Target::Pipe(Box::new(f)));
    } else {
        b.target(env_logger::Target::Stdout);
    }
    // A second init (embedding in a program that has a logger) is harmless.
    let _ = b.try_init();
    Ok(())
}

/// `22 Nov 2026 10:00:00.123` in local time.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let millis = now.subsec_millis();
    // SAFETY: localtime_r only writes into the tm we pass.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_look_like_redis_ones() {
        let t = super::timestamp();
        // e.g. "22 Nov 2026 10:00:00.123"
        let parts: Vec<&str> = t.split(' ').collect();
        assert_eq!(parts.len(), 4, "{t}");
        assert_eq!(parts[0].len(), 2);
        assert_eq!(parts[1].len(), 3);
        assert_eq!(parts[3].len(), 12);
    }
}
