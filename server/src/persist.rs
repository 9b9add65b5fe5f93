//! Placeholder for the persistence API (snapshots by fork); replaced by the
//! real implementation (RDB writer) when it lands.

use crate::server::Server;

pub enum SnapshotTarget {
    File(std::path::PathBuf),
    Fd(std::os::fd::RawFd),
}

pub struct ReplAux {
    pub stream_db: usize,
    pub replid: String,
    pub offset: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildPurpose {
    Bgsave,
    ReplicationDisk,
    ReplicationSocket,
}

pub fn fork_snapshot(
    _srv: &mut Server,
    _target: SnapshotTarget,
    _aux: Option<ReplAux>,
    _purpose: ChildPurpose,
) -> std::io::Result<i32> {
    Err(std::io::Error::other("snapshots are not available yet"))
}

pub fn reap_child(_srv: &mut Server) -> Option<(ChildPurpose, bool)> {
    None
}

pub struct LoadOptions {
    pub check_crc: bool,
    pub keep_expired: bool,
    pub now_ms: i64,
}

#[derive(Debug)]
pub struct RdbError(pub String);

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct RdbLoader;

impl RdbLoader {
    pub fn new(_data: bytes::Bytes, _opts: LoadOptions) -> Result<Self, RdbError> {
        Err(RdbError("RDB loading is not available yet".into()))
    }
    pub fn step(&mut self, _srv: &mut Server, _max_keys: usize) -> Result<bool, RdbError> {
        Ok(true)
    }
    pub fn keys_loaded(&self) -> u64 {
        0
    }
}

pub fn child_running(_srv: &Server) -> bool {
    false
}
