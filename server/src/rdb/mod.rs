//! The RDB format: loading files and full-sync payloads written by Redis
//! (versions 1-12) and Valkey, writing version 10, and the DUMP/RESTORE
//! payload framing (type byte + value + 2-byte version + CRC-64).
//!
//! This module owns bytes <-> values only. When and where snapshots are
//! taken (SAVE, BGSAVE, fork, startup load) lives in `persist.rs`; the
//! commands are in `commands/dump_restore.rs` and `commands/debug.rs`.

pub mod crc64;
pub mod lzf;
pub mod packed;
pub mod reader;
pub mod writer;

use std::io::{self, Write};

use crate::config::Config;
use crate::keyspace::Value;
use crate::server::Server;
use crate::types::{hash, set, stream, zset};

pub use reader::{RdbLoader, Reader};
pub use writer::{RdbWriter, WriteOptions};

/// Why an RDB could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError(pub String);

impl RdbError {
    pub fn new(msg: impl Into<String>) -> Self {
        RdbError(msg.into())
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RdbError {}

/// How a load treats checksums, expired keys and duplicates.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Verify a non-zero CRC-64 trailer (`rdbchecksum yes`).
    pub check_crc: bool,
    /// Keep keys whose TTL has passed (a replica waits for the primary's DEL).
    pub keep_expired: bool,
    /// Unix ms used to decide what has expired.
    pub now_ms: i64,
    /// Replace a key seen twice instead of failing (DEBUG RELOAD MERGE).
    pub allow_dup: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            check_crc: true,
            keep_expired: false,
            now_ms: crate::server::unix_ms(),
            allow_dup: false,
        }
    }
}

/// The encoding limits of the configuration, applied to loaded values.
#[derive(Clone, Copy, Debug)]
pub struct Encodings {
    pub list_fill: i64,
    pub hash: hash::Limits,
    pub set: set::Limits,
    pub zset: zset::Limits,
    pub stream: stream::NodeLimits,
}

impl Encodings {
    pub fn from_config(c: &Config) -> Self {
        let conv = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let other = |name: &str, default: usize| {
            c.other
                .get(name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(default)
        };
        Encodings {
            list_fill: c.list_max_listpack_size,
            hash: hash::Limits {
                max_entries: c.hash_max_listpack_entries,
                max_value: c.hash_max_listpack_value,
            },
            set: set::Limits {
                intset_entries: conv(c.set_max_intset_entries),
                lp_entries: conv(c.set_max_listpack_entries),
                lp_value: conv(c.set_max_listpack_value),
            },
            zset: zset::Limits {
                entries: conv(c.zset_max_listpack_entries),
                value: conv(c.zset_max_listpack_value),
            },
            stream: stream::NodeLimits {
                max_bytes: other("stream-node-max-bytes", 4096),
                max_entries: other("stream-node-max-entries", 100),
            },
        }
    }
}

/// What is added to the RDB for a replication full sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplAux {
    pub stream_db: usize,
    pub replid: String,
    pub offset: i64,
}

/// Writes the whole dataset of `srv` as an RDB file to `out`: header, AUX
/// fields, function libraries, every non-empty database, EOF and CRC.
pub fn write_dataset<W: Write>(
    out: W,
    srv: &Server,
    aux: Option<&ReplAux>,
    opts: WriteOptions,
) -> io::Result<W> {
    let mut w = RdbWriter::new(out, opts);
    w.header()?;
    w.aux("redis-ver", crate::config::REDIS_VERSION.as_bytes())?;
    w.aux("redis-bits", b"64")?;
    let now = crate::server::unix_ms() / 1000;
    w.aux("ctime", now.to_string().as_bytes())?;
    let used = crate::alloc::allocated().unwrap_or(0);
    w.aux("used-mem", used.to_string().as_bytes())?;
    if let Some(a) = aux {
        w.aux("repl-stream-db", a.stream_db.to_string().as_bytes())?;
        w.aux("repl-id", a.replid.as_bytes())?;
        w.aux("repl-offset", a.offset.to_string().as_bytes())?;
    }
    w.aux("aof-base", b"0")?;
    for lib in srv.scripting.functions.libraries.values() {
        w.function(&lib.code)?;
    }
    w.set_access(access_info(srv));
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.select_db(i, db.len(), db.expires_len())?;
        let delay = std::time::Duration::from_micros(w.options().key_delay_us);
        for e in db.iter() {
            w.entry(e)?;
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
        }
    }
    w.finish()
}

/// What Redis saves before each key under the current maxmemory policy:
/// IDLE under an LRU one, FREQ under an LFU one.
pub fn access_info(srv: &Server) -> writer::AccessInfo {
    use crate::config::MaxmemoryPolicy as P;
    match srv.config.maxmemory_policy {
        P::AllkeysLru | P::VolatileLru => writer::AccessInfo::Lru {
            clock: srv.keyspace.lru_clock,
        },
        P::AllkeysLfu | P::VolatileLfu => writer::AccessInfo::Lfu {
            minute: crate::keyspace::lfu::minutes(crate::server::unix_ms()),
            decay_time: srv.config.lfu_decay_time,
        },
        _ => writer::AccessInfo::None,
    }
}

/// The writer options the configuration asks for.
pub fn write_options(c: &Config) -> WriteOptions {
    WriteOptions {
        compress: c.rdbcompression,
        checksum: c.rdbchecksum,
        key_delay_us: c
            .other
            .get("rdb-key-save-delay")
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(0, |v| v.max(0) as u64),
    }
}

/// A DUMP payload: type byte, value, RDB version (2 bytes LE), CRC-64 (8
/// bytes LE) of everything before it.
pub fn dump_value(v: &Value, opts: WriteOptions) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), opts);
    // Writing into a Vec cannot fail.
    let _ = w.byte(writer::object_type(v));
    let _ = w.value(v);
    let _ = w.raw(&(writer::VERSION as u16).to_le_bytes());
    let crc = w.crc();
    let mut out = w.into_inner();
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Why a RESTORE payload was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Version too new or checksum mismatch.
    VersionOrChecksum,
    /// The value itself does not decode.
    BadData,
}

/// Checks the footer of a DUMP payload (version <= ours... up to the
/// newest we read, CRC unless zero or `skip_crc`) and returns the body.
pub fn verify_payload(p: &[u8], skip_crc: bool) -> Result<&[u8], PayloadError> {
    let body_len = p
        .len()
        .checked_sub(10)
        .ok_or(PayloadError::VersionOrChecksum)?;
    let version = u16::from_le_bytes([p[body_len], p[body_len + 1]]) as u32;
    if version > reader::MAX_VERSION && version != reader::VALKEY_VERSION {
        return Err(PayloadError::VersionOrChecksum);
    }
    if !skip_crc {
        let mut stored = [0u8; 8];
        stored.copy_from_slice(&p[p.len() - 8..]);
        if crc64::crc64(&p[..p.len() - 8]) != u64::from_le_bytes(stored) {
            return Err(PayloadError::VersionOrChecksum);
        }
    }
    Ok(&p[..body_len])
}

/// Decodes a verified DUMP body (type byte + value) into a value.
pub fn restore_value(body: &[u8], enc: &Encodings, now_ms: i64) -> Result<Value, PayloadError> {
    let mut r = Reader::new(body);
    let t = r.u8().map_err(|_| PayloadError::BadData)?;
    let opts = LoadOptions {
        check_crc: false,
        keep_expired: false,
        now_ms,
        allow_dup: false,
    };
    match reader::read_object(&mut r, t, enc, &opts) {
        Ok(Some(v)) if r.remaining() == 0 => Ok(v),
        _ => Err(PayloadError::BadData),
    }
}

/// FUNCTION DUMP's payload: one FUNCTION2 record per library, then the RDB
/// version and CRC-64 as in a DUMP payload.
pub fn dump_functions<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
    // Writing into a Vec cannot fail.
    for code in codes {
        let _ = w.function(code);
    }
    let _ = w.raw(&(writer::VERSION as u16).to_le_bytes());
    let crc = w.crc();
    let mut out = w.into_inner();
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a FUNCTION RESTORE payload, or Redis's error text.
pub fn parse_function_payload(p: &[u8]) -> Result<Vec<bytes::Bytes>, String> {
    let body = verify_payload(p, false)
        .map_err(|_| "ERR DUMP payload version or checksum are wrong".to_string())?;
    let mut r = Reader::new(body);
    let mut codes = Vec::new();
    while r.remaining() > 0 {
        match r.u8() {
            Ok(reader::op::FUNCTION2) => {}
            Ok(reader::op::FUNCTION_PRE_GA) => {
                return Err("ERR Pre-GA function format not supported".into())
            }
            _ => return Err("ERR given type is not a function".into()),
        }
        let code = r
            .string()
            .map_err(|_| "ERR Failed loading library from payload".to_string())?;
        codes.push(bytes::Bytes::from(code.into_owned()));
    }
    Ok(codes)
}
