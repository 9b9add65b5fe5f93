//! Persistence: when and where RDB snapshots are written and read. SAVE
//! (synchronous), BGSAVE and full-sync snapshots in a forked child (the
//! parent keeps serving; the child serializes its copy-on-write image and
//! `_exit`s), `save` points checked from cron, the startup load of
//! `dir/dbfilename`, DEBUG RELOAD, SHUTDOWN's final save, and the counters
//! INFO persistence reports.
//!
//! The byte format is `rdb/`'s business; this module never encodes values
//! itself. Files are written to `temp-<pid>.rdb` in the target's directory
//! and renamed over the target, as Redis does, so a crash never leaves a
//! half-written dump under the real name.
//!
//! `keyspace.dirty` is never lowered here (command dispatch compares it
//! before/after a command); "changes since the last save" is `dirty` minus
//! the value it had when the last successful snapshot started.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;

use crate::rdb::{self, LoadOptions, RdbError, RdbLoader};
use crate::server::{unix_ms, Server};

pub use crate::rdb::ReplAux;

/// Where a forked child writes its RDB.
#[derive(Debug)]
pub enum SnapshotTarget {
    /// A file path: written as `temp-<childpid>.rdb` beside it, then renamed.
    File(PathBuf),
    /// The write end of a pipe or socket. Ownership passes to
    /// [`fork_snapshot`]: the parent closes its copy right after the fork,
    /// the child closes its copy when done, so the reader sees EOF.
    Fd(RawFd),
}

/// Why a child process was forked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildPurpose {
    Bgsave,
    ReplicationDisk,
    ReplicationSocket,
}

/// The running snapshot child.
#[derive(Debug)]
pub struct ChildInfo {
    pub pid: i32,
    pub purpose: ChildPurpose,
    pub started: Instant,
    /// `keyspace.dirty` at fork time.
    pub dirty_at_start: u64,
    /// The temp file the child writes (File targets).
    pub tmp: Option<PathBuf>,
    /// Read end of the pipe the child reports its progress and
    /// copy-on-write cost on (see `childinfo`).
    pub info_pipe: Option<OwnedFd>,
}

/// Persistence state kept on the server (one field, `srv.persist`).
#[derive(Debug)]
pub struct PersistState {
    pub child: Option<ChildInfo>,
    /// `keyspace.dirty` as of the last successful save.
    pub dirty_at_save: u64,
    pub last_bgsave_failed: bool,
    /// Duration of the last background save (-1: none yet).
    pub last_bgsave_time_sec: i64,
    /// Unix seconds of the last BGSAVE attempt (failed saves retry after 5 s).
    pub last_bgsave_try: i64,
    /// SAVE commands and BGSAVE forks (INFO `rdb_saves`, as Redis 7.0 counts).
    pub saves: u64,
    /// BGSAVE SCHEDULE asked for a save once the running child is done.
    pub bgsave_scheduled: bool,
    /// True while the startup load runs (INFO `loading`).
    pub loading: bool,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// How long the last fork() took in the parent (INFO `latest_fork_usec`).
    pub latest_fork_usec: u64,
    pub total_forks: u64,
    /// What the running (and the last) snapshot child reported.
    pub cow: crate::childinfo::CowStats,
}

impl Default for PersistState {
    fn default() -> Self {
        PersistState {
            child: None,
            dirty_at_save: 0,
            last_bgsave_failed: false,
            last_bgsave_time_sec: -1,
            last_bgsave_try: 0,
            saves: 0,
            bgsave_scheduled: false,
            loading: false,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
            latest_fork_usec: 0,
            total_forks: 0,
            cow: Default::default(),
        }
    }
}

impl PersistState {
    /// Changes since the last successful save (INFO `rdb_changes_since_last_save`).
    pub fn changes_since_save(&self, dirty: u64) -> u64 {
        dirty.saturating_sub(self.dirty_at_save)
    }

    /// Seconds the running BGSAVE has taken so far, -1 when none runs.
    pub fn current_bgsave_secs(&self) -> i64 {
        match &self.child {
            Some(c) => c.started.elapsed().as_secs() as i64,
            None => -1,
        }
    }
}

/// `dir/dbfilename`.
pub fn rdb_path(srv: &Server) -> PathBuf {
    Path::new(&srv.config.dir).join(&srv.config.dbfilename)
}

fn temp_path_for(target: &Path, pid: u32) -> PathBuf {
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    dir.join(format!("temp-{pid}.rdb"))
}

/// The whole dataset as an RDB in memory (synchronous).
pub fn rdb_to_vec(srv: &Server, aux: Option<&ReplAux>) -> Vec<u8> {
    let opts = rdb::write_options(&srv.config);
    // Writing into a Vec cannot fail.
    rdb::write_dataset(Vec::new(), srv, aux, opts).unwrap_or_default()
}

/// Writes an RDB of `srv` to `path` through a temp file and a rename.
fn write_file(
    srv: &Server,
    path: &Path,
    aux: Option<&ReplAux>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let tmp = temp_path_for(path, std::process::id());
    let res = (|| {
        let file = File::create(&tmp)?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let opts = rdb::write_options(&srv.config);
        let mut out = rdb::write_dataset_reporting(out, srv, aux, opts, progress)?;
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

fn now_secs() -> i64 {
    unix_ms() / 1000
}

/// SAVE: writes `dir/dbfilename` synchronously.
pub fn save_sync(srv: &mut Server) -> io::Result<()> {
    let path = rdb_path(srv);
    let dirty = srv.keyspace.dirty;
    match write_file(srv, &path, None, &mut |_| {}) {
        Ok(()) => {
            log::info!("DB saved on disk");
            let p = &mut srv.persist;
            p.dirty_at_save = dirty;
            p.last_bgsave_failed = false;
            srv.lastsave = now_secs();
            Ok(())
        }
        Err(e) => {
            log::warn!("Write error saving DB on disk: {e}");
            Err(e)
        }
    }
}

/// Forks a child that writes an RDB of the current dataset to `target`.
/// Err if a child already runs or the fork fails. Only this server's data is
/// written, even when several servers share the process (tests).
pub fn fork_snapshot(
    srv: &mut Server,
    target: SnapshotTarget,
    aux: Option<ReplAux>,
    purpose: ChildPurpose,
) -> io::Result<i32> {
    if srv.persist.child.is_some() {
        if let SnapshotTarget::Fd(fd) = target {
            // SAFETY: ownership of the fd was passed to us.
            unsafe { libc::close(fd) };
        }
        return Err(io::Error::other("a child process is already active"));
    }
    let dirty = srv.keyspace.dirty;
    // The child's reports (progress, copy-on-write); without a pipe the
    // snapshot still runs, unreported.
    let mut fds = [-1i32; 2];
    // SAFETY: pipe2 fills the two fds it is given.
    let info_pipe =
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } == 0 {
            // SAFETY: both fds were just created and are owned here.
            Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
        } else {
            None
        };
    let fork_started = Instant::now();
    // SAFETY: the child only serializes memory it inherited, writes to a
    // file descriptor and calls `_exit`; it never returns into the caller,
    // runs no destructors, and does not log (no locks of other threads).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = io::Error::last_os_error();
        if let SnapshotTarget::Fd(fd) = target {
            // SAFETY: we own the fd.
            unsafe { libc::close(fd) };
        }
        return Err(e);
    }
    if pid == 0 {
        let report_fd = info_pipe.as_ref().map(|(_, w)| w.as_raw_fd());
        let target_fd = match &target {
            SnapshotTarget::Fd(fd) => Some(*fd),
            SnapshotTarget::File(_) => None,
        };
        close_inherited_fds(&[report_fd, target_fd]);
        if srv.config.snapshot_sched_idle {
            sched_idle();
        }
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            child_write(srv, &target, aux.as_ref(), report_fd)
        }))
        .unwrap_or(2);
        // SAFETY: terminates the child without running atexit handlers or
        // destructors shared with the parent.
        unsafe { libc::_exit(code) };
    }
    srv.persist.latest_fork_usec = fork_started.elapsed().as_micros() as u64;
    srv.persist.total_forks += 1;
    // The parent keeps the read end only (the write end closes here).
    let info_pipe = info_pipe.map(|(r, _w)| r);
    let keys = srv.keyspace.total_keys() as u64;
    srv.persist.cow.start(keys);
    let tmp = match &target {
        SnapshotTarget::File(p) => Some(temp_path_for(p, pid as u32)),
        SnapshotTarget::Fd(fd) => {
            // SAFETY: the parent's copy of the fd we own; the child has its own.
            unsafe { libc::close(*fd) };
            None
        }
    };
    srv.persist.child = Some(ChildInfo {
        pid,
        purpose,
        started: Instant::now(),
        dirty_at_start: dirty,
        tmp,
        info_pipe,
    });
    Ok(pid)
}

/// In the child: moves this process to SCHED_IDLE, so that on a busy machine
/// the kernel preempts it the moment the parent's event loop (or any normal
/// task) wakes up, instead of letting the loop wait for the child's time
/// slice. The child still gets every idle CPU cycle. Failure is harmless.
/// In the child: closes every descriptor above stderr but `keep`. Redis's
/// child closes its listening sockets so a restarted server can bind the
/// port while an old snapshot is still being written; here the process may
/// also hold other servers (embedding, tests), whose listeners and client
/// connections would otherwise stay open, and a peer would not see a
/// connection those servers close, until this child exits.
fn close_inherited_fds(keep: &[Option<RawFd>]) {
    let mut kept: Vec<u32> = keep
        .iter()
        .flatten()
        .filter_map(|&fd| u32::try_from(fd).ok())
        .collect();
    kept.sort_unstable();
    let mut first = 3u32;
    for fd in kept.into_iter().chain([u32::MAX]) {
        if fd >= first {
            if fd > first {
                // SAFETY: close_range only closes descriptors of this (child)
                // process, none of which the child uses; on a kernel without
                // it (before 5.9) nothing is closed, as before.
                unsafe { libc::syscall(libc::SYS_close_range, first, fd - 1, 0) };
            }
            first = fd.saturating_add(1);
        }
    }
}

fn sched_idle() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: changes the scheduling policy of the calling process only.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
}

/// In the child: writes the snapshot, reporting on `report_fd`; returns
/// the exit code.
fn child_write(
    srv: &Server,
    target: &SnapshotTarget,
    aux: Option<&ReplAux>,
    report_fd: Option<RawFd>,
) -> i32 {
    let mut reporter = report_fd.map(crate::childinfo::Reporter::new);
    let mut progress = |keys: u64| {
        if let Some(r) = reporter.as_mut() {
            r.progress(keys);
        }
    };
    let res = match target {
        // The temp file carries the child's pid, as Redis names it.
        SnapshotTarget::File(path) => write_file(srv, path, aux, &mut progress),
        SnapshotTarget::Fd(fd) => {
            // SAFETY: the child's inherited copy of the fd we were given.
            let file = unsafe { File::from_raw_fd(*fd) };
            let out = BufWriter::with_capacity(1 << 16, file);
            let opts = rdb::write_options(&srv.config);
            rdb::write_dataset_reporting(out, srv, aux, opts, &mut progress)
                .and_then(|mut o| o.flush())
        }
    };
    if res.is_ok() {
        if let Some(r) = reporter.as_mut() {
            r.finish(srv.keyspace.total_keys() as u64);
        }
        0
    } else {
        1
    }
}

/// Reads what the running child reported so far (the cron's share: one
/// non-blocking read of a pipe).
pub fn receive_child_info(srv: &mut Server) {
    if let Some(fd) = srv
        .persist
        .child
        .as_ref()
        .and_then(|c| c.info_pipe.as_ref())
        .map(|p| p.as_raw_fd())
    {
        srv.persist.cow.drain(fd);
    }
}

/// Reaps a finished child (non-blocking). Returns what finished and whether
/// it succeeded; BGSAVE bookkeeping (LASTSAVE, dirty, status) is done here.
pub fn reap_child(srv: &mut Server) -> Option<(ChildPurpose, bool)> {
    let pid = srv.persist.child.as_ref()?.pid;
    let mut status: libc::c_int = 0;
    // SAFETY: plain waitpid on our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    if r == 0 {
        return None;
    }
    let ok = r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if ok {
        // Its last report (rdb_last_cow_size) is in the pipe.
        receive_child_info(srv);
    }
    srv.persist.cow.reset_current();
    let child = srv.persist.child.take()?;
    let secs = child.started.elapsed().as_secs() as i64;
    if child.purpose != ChildPurpose::ReplicationSocket {
        srv.persist.last_bgsave_time_sec = secs;
        if ok {
            log::info!("Background saving terminated with success");
            srv.persist.dirty_at_save = child.dirty_at_start;
            srv.persist.last_bgsave_failed = false;
            srv.lastsave = now_secs();
        } else {
            if r == pid && libc::WIFSIGNALED(status) {
                log::warn!(
                    "Background saving terminated by signal {}",
                    libc::WTERMSIG(status)
                );
            } else {
                log::warn!("Background saving error");
            }
            srv.persist.last_bgsave_failed = true;
            if let Some(tmp) = &child.tmp {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
    Some((child.purpose, ok))
}

/// Kills a running child (SHUTDOWN, FLUSHALL) and removes its temp file.
pub fn kill_child(srv: &mut Server) {
    if let Some(child) = srv.persist.child.take() {
        srv.persist.cow.reset_current();
        log::warn!("There is a child saving an .rdb. Killing it!");
        // SAFETY: signals and reaps our own child.
        unsafe {
            libc::kill(child.pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(child.pid, &mut status, 0);
        }
        if let Some(tmp) = &child.tmp {
            let _ = std::fs::remove_file(tmp);
        }
        if child.purpose == ChildPurpose::Bgsave {
            srv.persist.last_bgsave_failed = true;
        }
    }
}

/// Starts a BGSAVE to `dir/dbfilename`.
pub fn bgsave(srv: &mut Server) -> io::Result<i32> {
    srv.persist.last_bgsave_try = now_secs();
    let path = rdb_path(srv);
    match fork_snapshot(srv, SnapshotTarget::File(path), None, ChildPurpose::Bgsave) {
        Ok(pid) => {
            log::info!("Background saving started by pid {pid}");
            srv.persist.bgsave_scheduled = false;
            srv.persist.saves += 1;
            Ok(pid)
        }
        Err(e) => {
            log::warn!("Can't save in background: fork: {e}");
            srv.persist.last_bgsave_failed = true;
            Err(e)
        }
    }
}

/// The cron hook: reaps a finished child, then starts a BGSAVE when a
/// `save` point is reached or one was scheduled. Returns what finished (for
/// replication to react to).
pub fn cron(srv: &mut Server) -> Option<(ChildPurpose, bool)> {
    receive_child_info(srv);
    let finished = reap_child(srv);
    if srv.persist.child.is_none() {
        let now = now_secs();
        let changes = srv.persist.changes_since_save(srv.keyspace.dirty);
        let may_retry = now - srv.persist.last_bgsave_try > 5 || !srv.persist.last_bgsave_failed;
        let due = srv
            .config
            .save
            .iter()
            .find(|&&(secs, n)| changes >= n && now - srv.lastsave > secs as i64 && may_retry)
            .copied();
        if let Some((secs, n)) = due {
            log::info!("{n} changes in {secs} seconds. Saving...");
            let _ = bgsave(srv);
        } else if srv.persist.bgsave_scheduled {
            let _ = bgsave(srv);
        }
    }
    finished
}

/// Loads the RDB bytes `data` into `srv`, a batch of keys at a time, logging
/// progress for big files. Returns (keys loaded, keys expired).
pub fn load_bytes(
    srv: &mut Server,
    data: Bytes,
    opts: LoadOptions,
) -> Result<(u64, u64), RdbError> {
    let mut loader = RdbLoader::new(data, opts)?;
    let mut last_report = Instant::now();
    while !loader.step(srv, 10_000)? {
        if last_report.elapsed().as_secs() >= 1 {
            last_report = Instant::now();
            log::info!(
                "Loading RDB: {} keys loaded, {:.1}% done",
                loader.keys_loaded(),
                loader.position() as f64 * 100.0 / loader.total().max(1) as f64
            );
        }
    }
    Ok((loader.keys_loaded(), loader.keys_expired()))
}

fn load_options(srv: &Server) -> LoadOptions {
    LoadOptions {
        check_crc: srv.config.rdbchecksum,
        // A replica keeps keys that expired and waits for its primary's DEL.
        keep_expired: srv.config.replicaof.is_some(),
        now_ms: unix_ms(),
        allow_dup: false,
    }
}

/// Loads `path` into `srv` (which should be empty), with Redis's log lines.
pub fn load_file(srv: &mut Server, path: &Path, opts: LoadOptions) -> Result<(), String> {
    let started = Instant::now();
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    srv.persist.loading = true;
    let res = load_bytes(srv, Bytes::from(data), opts);
    srv.persist.loading = false;
    let (loaded, expired) = res.map_err(|e| e.0)?;
    srv.persist.last_load_keys_loaded = loaded;
    srv.persist.last_load_keys_expired = expired;
    srv.persist.dirty_at_save = srv.keyspace.dirty;
    log::info!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}.");
    log::info!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Loads `dir/dbfilename` at startup if it exists. Err: the message for
/// "Fatal error loading the DB" (the server must not start).
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    let path = rdb_path(srv);
    if !path.exists() {
        return Ok(());
    }
    let opts = load_options(srv);
    load_file(srv, &path, opts).map_err(|e| {
        log::warn!("Fatal error loading the DB: {e}. Exiting.");
        format!("Fatal error loading the DB: {e}. Exiting.")
    })
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load again.
pub fn debug_reload(srv: &mut Server, save: bool, flush: bool, merge: bool) -> Result<(), String> {
    if save && save_sync(srv).is_err() {
        return Err("ERR".into());
    }
    if flush {
        srv.keyspace.flush_all(false);
        srv.scripting.flush_functions();
    }
    let mut opts = load_options(srv);
    opts.allow_dup = merge;
    let path = rdb_path(srv);
    match load_file(srv, &path, opts) {
        Ok(()) => {
            log::warn!("DB reloaded by DEBUG RELOAD");
            Ok(())
        }
        Err(e) => {
            log::warn!("Error loading the RDB for DEBUG RELOAD: {e}");
            Err("ERR Error trying to load the RDB dump, check server logs.".into())
        }
    }
}

/// SHUTDOWN's persistence part: kills a running child and, when `save`,
/// writes the final snapshot. Err when that save failed.
pub fn before_shutdown(srv: &mut Server, save: bool) -> io::Result<()> {
    kill_child(srv);
    if save {
        log::info!("Saving the final RDB snapshot before exiting.");
        save_sync(srv)?;
    }
    Ok(())
}

/// FLUSHALL's persistence part (Redis 7.0): kill a running BGSAVE and, when
/// save points are configured, write the (now empty) dataset at once, which
/// resets the changes counter.
pub fn after_flushall(srv: &mut Server) {
    if srv
        .persist
        .child
        .as_ref()
        .is_some_and(|c| c.purpose == ChildPurpose::Bgsave)
    {
        kill_child(srv);
    }
    if !srv.config.save.is_empty() {
        let _ = save_sync(srv);
    }
}
