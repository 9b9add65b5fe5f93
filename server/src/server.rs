//! The server's state: configuration, keyspace, clients, command table and
//! counters. Everything here is owned by the event-loop thread; nothing in it
//! does I/O (the loop in `net` does).

use std::net::SocketAddr;
use std::time::Instant;

use crate::client::Client;
use crate::commands::CommandTable;
use crate::config::Config;
use crate::keyspace::Keyspace;
use crate::stats::{SlowLog, Stats};

/// Why and how the server should stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownRequest {
    /// The signal that asked for it (`SIGTERM`, `SIGINT`), None for the SHUTDOWN command.
    pub by_signal: Option<&'static str>,
}

/// How a blocked client is released other than by data arriving.
#[derive(Clone, Copy, Debug)]
pub enum UnblockReply {
    /// The command's timeout reply (a null).
    Timeout,
    /// An error reply (CLIENT UNBLOCK ... ERROR).
    Error(&'static str),
}

/// The client slab: stable slots, so a slot number can be a mio token.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Option<Box<Client>>>,
    free: Vec<usize>,
    len: usize,
}

impl Clients {
    /// Reserves a slot and stores the client built for it.
    pub fn insert(&mut self, make: impl FnOnce(usize) -> Client) -> usize {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Some(Box::new(make(slot)));
        self.len += 1;
        slot
    }

    pub fn get(&self, slot: usize) -> Option<&Client> {
        self.slots.get(slot)?.as_deref()
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Client> {
        self.slots.get_mut(slot)?.as_deref_mut()
    }

    /// Takes a client out while a command runs with `&mut` access to both it
    /// and the rest of the server; [`Clients::put_back`] returns it.
    pub fn take(&mut self, slot: usize) -> Option<Box<Client>> {
        self.slots.get_mut(slot)?.take()
    }

    pub fn put_back(&mut self, c: Box<Client>) {
        let slot = c.slot;
        self.slots[slot] = Some(c);
    }

    /// Removes a client for good.
    pub fn remove(&mut self, slot: usize) -> Option<Box<Client>> {
        let c = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(c)
    }

    /// Number of connected clients (including one taken out for a command).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().filter_map(|c| c.as_deref())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.slots.iter_mut().filter_map(|c| c.as_deref_mut())
    }

    /// Slot numbers of every client present.
    pub fn slots(&self) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| i)
            .collect()
    }
}

/// The whole server state.
pub struct Server {
    pub config: Config,
    pub keyspace: Keyspace,
    pub clients: Clients,
    pub commands: CommandTable,
    pub stats: Stats,
    pub slowlog: SlowLog,
    /// 40 hex characters, new at every start (INFO `run_id`).
    pub run_id: String,
    pub started: Instant,
    pub started_unix_ms: i64,
    /// The addresses actually bound (port 0 resolved).
    pub listening: Vec<SocketAddr>,
    pub next_client_id: u64,
    pub shutdown: Option<ShutdownRequest>,
    /// SHUTDOWN's wait for lagging replicas (`shutdown.rs`).
    pub shutdown_state: crate::shutdown::State,
    /// Path of the executable (INFO `executable`).
    pub executable: String,
    /// Number of cron runs so far.
    pub cron_loops: u64,
    /// Unix time in seconds of the last successful save (LASTSAVE).
    pub lastsave: i64,
    /// Clients flagged `close_asap` by a command (CLIENT KILL), closed before sleeping.
    pub clients_to_close: Vec<usize>,
    /// WATCHed keys.
    pub watches: crate::multi::Watches,
    /// Channel and pattern subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Clients with replies to write before the loop sleeps.
    pub pending_writes: Vec<usize>,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
    /// `notify-keyspace-events` as last parsed, and its class bits.
    notify_cache: (String, u32),
    /// Lua scripts, function libraries and the Lua state they run in.
    pub scripting: crate::scripting::Scripting,
    /// Replication: ids, backlog, replicas, the link to a primary.
    pub repl: crate::repl::Replication,
    /// Snapshot child, save points, load and save counters (persist.rs).
    pub persist: crate::persist::PersistState,
    /// CLIENT PAUSE / FAILOVER pauses and the clients they hold.
    pub pause: crate::pause::Pause,
    /// Maintenance notifications: sequence ids, demotion, counters.
    pub maint: crate::maint::Maint,
    /// Handles a script past busy-reply-threshold serves other clients
    /// with (see `net::busy`); None without an event loop.
    pub busy_io: Option<Box<crate::net::busy::BusyIo>>,
    /// maxmemory: the eviction pool and run state (evict.rs).
    pub evict: crate::evict::Evict,
}

impl Server {
    pub fn new(config: Config) -> Self {
        crate::clock::init();
        let commands = CommandTable::build();
        let stats = Stats::new(commands.entries.len());
        let now_ms = unix_ms();
        let mut keyspace = Keyspace::new(config.databases);
        keyspace.lfu = lfu_settings(&config);
        // Right from the start: a snapshot loads before the first cron tick.
        keyspace.lru_clock = ((now_ms / 1000) & 0xFF_FFFF) as u32;
        Server {
            keyspace,
            config,
            clients: Clients::default(),
            stats,
            commands,
            slowlog: SlowLog::default(),
            run_id: random_hex(40),
            started: Instant::now(),
            started_unix_ms: now_ms,
            listening: Vec::new(),
            next_client_id: 1,
            shutdown: None,
            shutdown_state: Default::default(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            cron_loops: 0,
            lastsave: now_ms / 1000,
            clients_to_close: Vec::new(),
            watches: Default::default(),
            pubsub: Default::default(),
            pending_writes: Vec::new(),
            blocking: Default::default(),
            notify_cache: (String::new(), 0),
            repl: crate::repl::Replication::new(),
            scripting: Default::default(),
            persist: Default::default(),
            pause: Default::default(),
            maint: Default::default(),
            busy_io: None,
            evict: Default::default(),
        }
    }

    /// Keys expire (lazily and actively) only on a primary that is not
    /// paused: a replica waits for its primary's DEL, and a pause freezes
    /// the dataset (expired keys read as missing but stay until it ends).
    /// Pauses `actions` for `purpose` until `end` (None: until
    /// [`Server::unpause`]); expiry stops with it.
    pub fn pause(
        &mut self,
        purpose: crate::pause::Purpose,
        actions: crate::pause::Actions,
        end: Option<Instant>,
    ) {
        self.pause.pause(purpose, actions, end, Instant::now());
        self.refresh_expire_mode();
    }

    /// Ends the pause of `purpose`; held clients run before the loop sleeps.
    pub fn unpause(&mut self, purpose: crate::pause::Purpose) {
        self.pause.unpause(purpose, Instant::now());
        self.refresh_expire_mode();
    }

    /// CONFIG SET maxmemory-policy / lfu-*: keys count accesses the new way.
    pub fn refresh_lfu_mode(&mut self) {
        self.keyspace.lfu = lfu_settings(&self.config);
    }

    pub fn refresh_expire_mode(&mut self) {
        self.keyspace.expire_keys = !self.repl.is_replica() && !self.pause.writes_paused();
    }

    /// Keyspace change tracking is needed while anyone watches keys or
    /// waits for them.
    pub fn update_tracking(&mut self) {
        let on = !self.watches.is_empty() || !self.blocking.is_empty();
        self.keyspace.set_tracking(on);
    }

    /// Ends a client's wait: `reply` is written (None when the re-run command
    /// already replied), registrations are dropped, and its pending input is
    /// queued for processing.
    pub fn unblock(&mut self, client: &mut Client, reply: Option<UnblockReply>) {
        let Some(state) = client.blocked.take() else {
            return;
        };
        self.blocking.remove(client.slot, &state);
        match reply {
            Some(UnblockReply::Timeout) => {
                let resp3 = client.resp >= 3;
                let out = &mut client.out;
                match state.on_timeout {
                    crate::blocking::TimeoutReply::NullArray => {
                        handoff_protocol::encode::null_array(out, resp3)
                    }
                    crate::blocking::TimeoutReply::NullBulk => {
                        handoff_protocol::encode::null_bulk(out, resp3)
                    }
                    crate::blocking::TimeoutReply::ReplicaCount { offset, .. } => {
                        let n = crate::repl::primary::replicas_at(self, offset);
                        handoff_protocol::encode::integer(&mut client.out, n)
                    }
                    crate::blocking::TimeoutReply::Shutdown => {
                        let text = crate::errors::SHUTDOWN_FAILED;
                        self.stats.count_error(text);
                        handoff_protocol::encode::error(&mut client.out, text.as_bytes())
                    }
                }
            }
            Some(UnblockReply::Error(text)) => {
                self.stats.count_error(text);
                handoff_protocol::encode::error(&mut client.out, text.as_bytes());
            }
            None => {}
        }
        self.blocking.resumed.push(client.slot);
        self.update_tracking();
    }

    /// Drops a client's watches (UNWATCH, EXEC, DISCARD, RESET, disconnect).
    pub fn unwatch_all(&mut self, client: &mut Client) {
        if client.watched.is_empty() {
            client.watch_dirty = false;
            return;
        }
        let keys = std::mem::take(&mut client.watched);
        self.watches.remove_all(client.slot, &keys);
        client.watch_dirty = false;
        self.update_tracking();
    }

    /// After a command changed the dataset: invalidates the transactions of
    /// clients watching a changed key. `current` is the client that ran the
    /// command (taken out of the slab while it runs).
    pub fn keys_changed(&mut self, current: &mut Client) {
        self.keys_changed_by(Some(current));
    }

    /// [`Server::keys_changed`] for changes made outside a command (or
    /// before it runs): `current`, if any, is the client taken out.
    pub fn keys_changed_by(&mut self, mut current: Option<&mut Client>) {
        if self.watches.is_empty() && self.blocking.is_empty() {
            return;
        }
        let (keys, dbs) = self.keyspace.take_touched();
        if keys.is_empty() && dbs.is_empty() {
            return;
        }
        if !self.blocking.is_empty() {
            for (db, key) in &keys {
                self.blocking.signal(*db, key);
            }
            for db in &dbs {
                self.blocking.signal_db(*db);
            }
        }
        for slot in self.watches.affected(&keys, &dbs) {
            if let Some(cur) = current.as_deref_mut().filter(|c| c.slot == slot) {
                cur.watch_dirty = true;
            } else if let Some(c) = self.clients.get_mut(slot) {
                c.watch_dirty = true;
            }
        }
    }

    /// The keyspace notification classes enabled by `notify-keyspace-events`
    /// (re-parsed only when the setting changed). Called several times per
    /// command: the check is inline, and the usual empty setting is told
    /// apart by its length alone.
    #[inline]
    pub fn notify_classes(&mut self) -> u32 {
        let (cached, now) = (&self.notify_cache.0, &self.config.notify_keyspace_events);
        if cached.len() != now.len() || (!now.is_empty() && cached != now) {
            self.refresh_notify_classes();
        }
        self.notify_cache.1
    }

    #[cold]
    fn refresh_notify_classes(&mut self) {
        use crate::pubsub::class;
        let bits = crate::pubsub::parse_classes(&self.config.notify_keyspace_events);
        self.notify_cache = (self.config.notify_keyspace_events.clone(), bits);
        let channels = bits & (class::KEYSPACE | class::KEYEVENT) != 0;
        self.keyspace.set_notify_records(
            channels && bits & class::NEW != 0,
            channels && bits & class::KEY_MISS != 0,
        );
    }

    /// Queues client `slot` for writing before the loop sleeps (used when a
    /// command writes into another client's buffer, e.g. PUBLISH).
    pub fn schedule_write(&mut self, slot: usize) {
        if let Some(c) = self.clients.get_mut(slot) {
            if !c.pending_write && !c.out.is_empty() {
                c.pending_write = true;
                self.pending_writes.push(slot);
            }
        }
    }

    /// The TCP port clients connect to (the first bound address).
    pub fn port(&self) -> u16 {
        self.listening
            .first()
            .map(|a| a.port())
            .unwrap_or(self.config.port)
    }
}

/// Unix time in milliseconds.
/// The LFU settings when the maxmemory policy is an LFU one.
fn lfu_settings(c: &Config) -> Option<crate::keyspace::lfu::Lfu> {
    use crate::config::MaxmemoryPolicy as P;
    matches!(c.maxmemory_policy, P::AllkeysLfu | P::VolatileLfu).then_some(
        crate::keyspace::lfu::Lfu {
            log_factor: c.lfu_log_factor,
            decay_time: c.lfu_decay_time,
        },
    )
}

pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix time in microseconds.
pub fn unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Random lowercase hex characters from the OS (run ids, replication ids).
pub fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; n.div_ceil(2)];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !filled {
        // Fall back to hashing the time and pid: unique enough for an id.
        let seed = unix_us() as u64 ^ ((std::process::id() as u64) << 32);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed.rotate_left(i as u32 * 7) ^ (i as u64 * 0x9e37_79b9)) as u8;
        }
    }
    let mut s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(n);
    s
}
