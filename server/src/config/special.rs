//! Directives whose syntax is not a single scalar: save, client-output-buffer-limit,
//! bind, notify-keyspace-events, oom-score-adj-values, latency-tracking-info-percentiles,
//! maxmemory-clients, replicaof, dir. Parsers return Redis's exact error texts.
//! Must not touch the directive table.

use super::values::{parse_i64, parse_int_range, parse_memory};
use super::{ClientClass, OutputBufferLimit};

const ERR_SAVE: &str = "Invalid save parameters";

/// Parses the arguments of one `save` line (`""` or no argument means "no snapshots").
/// A single argument holding several words (`--save "3600 1"` on the command
/// line, `save "3600 1 300 100"` in a file) is split, as Redis does.
pub fn parse_save(args: &[String]) -> Result<Vec<(u64, u64)>, String> {
    if args.is_empty() || (args.len() == 1 && args[0].is_empty()) {
        return Ok(Vec::new());
    }
    if args.len() == 1 && args[0].contains(char::is_whitespace) {
        let words: Vec<String> = args[0].split_whitespace().map(str::to_string).collect();
        return parse_save(&words);
    }
    if !args.len().is_multiple_of(2) {
        return Err(ERR_SAVE.to_string());
    }
    args.chunks(2)
        .map(|p| {
            let secs = parse_i64(&p[0]).filter(|v| *v >= 1);
            let changes = parse_i64(&p[1]).filter(|v| *v >= 0);
            match (secs, changes) {
                (Some(s), Some(c)) => Ok((s as u64, c as u64)),
                _ => Err(ERR_SAVE.to_string()),
            }
        })
        .collect()
}

/// Formats save points as CONFIG GET shows them.
pub fn fmt_save(save: &[(u64, u64)]) -> String {
    save.iter()
        .map(|(s, c)| format!("{s} {c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Maps a client class name (normal, replica, slave, pubsub) to its class.
pub fn client_class(name: &str) -> Option<ClientClass> {
    match name.to_ascii_lowercase().as_str() {
        "normal" => Some(ClientClass::Normal),
        "replica" | "slave" => Some(ClientClass::Replica),
        "pubsub" => Some(ClientClass::Pubsub),
        _ => None,
    }
}

/// Parses `class hard soft seconds [class hard soft seconds ...]`; returns the updates.
pub fn parse_output_buffer_limits(
    args: &[String],
) -> Result<Vec<(ClientClass, OutputBufferLimit)>, String> {
    if args.is_empty() || !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".to_string());
    }
    args.chunks(4)
        .map(|c| {
            let class = client_class(&c[0]).ok_or_else(|| {
                "Invalid client class specified in buffer limit configuration.".to_string()
            })?;
            let hard = parse_memory(&c[1]);
            let soft = parse_memory(&c[2]);
            let secs = parse_i64(&c[3]).filter(|v| *v >= 0);
            match (hard, soft, secs) {
                (Some(hard), Some(soft), Some(secs)) => Ok((
                    class,
                    OutputBufferLimit {
                        hard,
                        soft,
                        soft_seconds: secs as u64,
                    },
                )),
                _ => Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .to_string(),
                ),
            }
        })
        .collect()
}

/// Formats the three limits as CONFIG GET shows them (the replica class is "slave").
pub fn fmt_output_buffer_limits(l: &[OutputBufferLimit; 3]) -> String {
    ["normal", "slave", "pubsub"]
        .iter()
        .zip(l.iter())
        .map(|(n, l)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Validates a bind address list (at most 16, like Redis).
pub fn parse_bind(args: &[String]) -> Result<Vec<String>, String> {
    if args.len() > 16 {
        return Err("Too many bind addresses specified.".to_string());
    }
    Ok(args.to_vec())
}

/// Keyspace notification classes, in the order Redis prints them.
const NOTIFY_CLASSES: &[u8] = b"g$lshzxetdn";

/// Parses notify-keyspace-events flags and returns the canonical flag string.
pub fn parse_notify(s: &str) -> Result<String, String> {
    let mut classes = [false; 11];
    let (mut k, mut e, mut m) = (false, false, false);
    for c in s.bytes() {
        match c {
            // `A` is every class but `n` (new key) and `m` (key miss).
            b'A' => {
                for (i, on) in classes.iter_mut().enumerate() {
                    *on |= NOTIFY_CLASSES[i] != b'n';
                }
            }
            b'K' => k = true,
            b'E' => e = true,
            b'm' => m = true,
            _ => match NOTIFY_CLASSES.iter().position(|x| *x == c) {
                Some(i) => classes[i] = true,
                None => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
            },
        }
    }
    let mut out = String::new();
    let all = classes
        .iter()
        .enumerate()
        .all(|(i, on)| *on || NOTIFY_CLASSES[i] == b'n');
    if all {
        // Redis 7.0 prints `A` and drops `n` here, yet still raises `new`
        // events; we keep the `n` so the setting means what was asked.
        out.push('A');
        if let Some(n) = NOTIFY_CLASSES.iter().position(|x| *x == b'n') {
            if classes[n] {
                out.push('n');
            }
        }
    } else {
        for (i, on) in classes.iter().enumerate() {
            if *on {
                out.push(NOTIFY_CLASSES[i] as char);
            }
        }
    }
    for (on, ch) in [(k, 'K'), (e, 'E'), (m, 'm')] {
        if on {
            out.push(ch);
        }
    }
    Ok(out)
}

/// Validates oom-score-adj-values (three integers in -2000..=2000).
pub fn parse_oom_values(args: &[String]) -> Result<String, String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".to_string());
    }
    let vals = args
        .iter()
        .map(|a| parse_i64(a).filter(|v| (-2000..=2000).contains(v)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".to_string()
        })?;
    Ok(vals
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" "))
}

/// Validates latency-tracking-info-percentiles (floats in 0..=100).
pub fn parse_percentiles(args: &[String]) -> Result<String, String> {
    let args: Vec<&String> = args.iter().filter(|a| !a.is_empty()).collect();
    let mut out = Vec::new();
    for a in args {
        let v: f64 = a
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
        if !(0.0..=100.0).contains(&v) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .to_string(),
            );
        }
        out.push(v.to_string());
    }
    Ok(out.join(" "))
}

/// Validates maxmemory-clients: a memory value or a percentage of maxmemory.
pub fn parse_memory_or_percent(s: &str) -> Result<String, String> {
    let err = || "argument must be a memory or percent value".to_string();
    if let Some(num) = s.strip_suffix('%') {
        let v = parse_i64(num).filter(|v| *v >= 0).ok_or_else(err)?;
        if v > 100 {
            return Err("percentage argument must be less or equal to 100".to_string());
        }
        return Ok(format!("{v}%"));
    }
    parse_memory(s)
        .filter(|v| *v <= i64::MAX as u64)
        .map(|v| v.to_string())
        .ok_or_else(err)
}

/// Parses `replicaof host port` / `replicaof no one`.
pub fn parse_replicaof(args: &[String]) -> Result<Option<(String, u16)>, String> {
    if args.len() != 2 {
        return Err("wrong number of arguments".to_string());
    }
    if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
        return Ok(None);
    }
    let port = parse_int_range(&args[1], 0, 65535).map_err(|_| "Invalid master port")?;
    Ok(Some((args[0].clone(), port as u16)))
}

/// Strips Rust's " (os error N)" suffix so the text reads like strerror().
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Checks that `dir` is an existing directory and returns its absolute path.
pub fn parse_dir(dir: &str) -> Result<String, String> {
    let path = std::fs::canonicalize(dir).map_err(|e| strerror(&e))?;
    if !path.is_dir() {
        return Err("Not a directory".to_string());
    }
    Ok(path.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn save_points_parse_and_reject_like_redis() {
        assert_eq!(
            parse_save(&v(&["60", "10", "5", "0"])),
            Ok(vec![(60, 10), (5, 0)])
        );
        assert_eq!(parse_save(&v(&[""])), Ok(vec![]));
        assert_eq!(parse_save(&[]), Ok(vec![]));
        for bad in [&["10"][..], &["0", "0"], &["60", "-1"], &["60", "abc"]] {
            assert_eq!(parse_save(&v(bad)), Err(ERR_SAVE.to_string()));
        }
    }

    #[test]
    fn notify_flags_are_canonicalised_like_redis() {
        assert_eq!(parse_notify("KEA").unwrap(), "AKE");
        assert_eq!(parse_notify("Kn").unwrap(), "nK");
        // Redis prints these two as "AKEm" and "A", dropping the `n` it
        // still honours; we keep it so the setting round-trips.
        assert_eq!(parse_notify("AKEmn").unwrap(), "AnKEm");
        assert_eq!(parse_notify("ndtexzhsl$").unwrap(), "$lshzxetdn");
        assert_eq!(parse_notify("ndtexzhsl$g").unwrap(), "An");
        assert_eq!(parse_notify("g$lshzxetd").unwrap(), "A");
        assert_eq!(parse_notify("").unwrap(), "");
        assert!(parse_notify("Q").is_err());
    }

    #[test]
    fn output_buffer_limits_accept_class_aliases_and_units() {
        let r = parse_output_buffer_limits(&v(&["slave", "1mb", "2k", "3"])).unwrap();
        assert_eq!(r[0].0, ClientClass::Replica);
        assert_eq!(r[0].1.hard, 1 << 20);
        assert_eq!(r[0].1.soft, 2000);
        assert!(parse_output_buffer_limits(&v(&["normal", "1", "2"])).is_err());
        assert!(parse_output_buffer_limits(&v(&["master", "1", "2", "3"])).is_err());
        assert!(parse_output_buffer_limits(&v(&["normal", "1", "1", "-1"])).is_err());
    }

    #[test]
    fn maxmemory_clients_accepts_memory_or_percent() {
        assert_eq!(parse_memory_or_percent("5%").unwrap(), "5%");
        assert_eq!(parse_memory_or_percent("1kb").unwrap(), "1024");
        assert!(parse_memory_or_percent("200%")
            .unwrap_err()
            .contains("less or equal"));
        assert!(parse_memory_or_percent("-5%").is_err());
    }

    #[test]
    fn replicaof_accepts_no_one_and_checks_the_port() {
        assert_eq!(parse_replicaof(&v(&["NO", "one"])), Ok(None));
        assert_eq!(
            parse_replicaof(&v(&["h", "7000"])),
            Ok(Some(("h".to_string(), 7000)))
        );
        assert_eq!(
            parse_replicaof(&v(&["a", "b"])),
            Err("Invalid master port".to_string())
        );
    }
}
