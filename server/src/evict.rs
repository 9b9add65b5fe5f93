//! maxmemory: evicting keys when used memory is over the limit, and the OOM
//! decision taken before a command runs (Redis 7.0's evict.c behaviour,
//! implemented here from its documented results, not its code).
//!
//! Owns the eviction pool (the best 16 candidates seen so far, across
//! databases, kept between calls), the run bounded by
//! `maxmemory-eviction-tenacity`, the "keep evicting between polls" flag the
//! event loop honours, and the script OOM state. Sampling draws random slab
//! slots (or random positions in a database's list of keys with a TTL):
//! it never scans the keyspace.
//!
//! Each evicted key is removed (its value freed in the background under
//! `lazyfree-lazy-eviction`), counted, announced (`evicted`, class `e`),
//! sent to replicas as DEL (UNLINK when lazy), and touches WATCHes.
//! Nothing runs when `maxmemory` is 0: dispatch checks that one field first.
//! Must not touch: keyspace internals beyond `Db`'s sampling accessors.

use std::time::{Duration, Instant};

use crate::client::{Client, ClientKind};
use crate::commands::spec::flag;
use crate::config::MaxmemoryPolicy as Policy;
use crate::keyspace::{Keyspace, NO_EXPIRE};
use crate::rng::Rng;
use crate::server::Server;

/// Candidates kept between calls (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// What an eviction call achieved (Redis's EVICT_OK / RUNNING / FAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit, or evicting is not possible now (paused, replica,
    /// loading, a busy script): commands run.
    Ok,
    /// Still over the limit after the time allowed; the event loop keeps
    /// evicting between polls. Commands run.
    Running,
    /// Over the limit and nothing left to evict (or `noeviction`):
    /// commands that may grow memory are refused with -OOM.
    Fail,
}

struct Candidate {
    /// Higher is a better victim: idle ms (LRU), 255 - counter (LFU),
    /// u64::MAX - expiry (TTL).
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

/// Eviction state kept on the server.
pub struct Evict {
    /// Ascending by score: the best victim is last.
    pool: Vec<Candidate>,
    /// The random policies visit databases in turn.
    next_db: usize,
    /// A call ran out of time over the limit: the event loop calls
    /// [`time_proc`] between polls until memory is fine or nothing is left.
    pub running: bool,
    /// Whether the command being run started out of memory: a script's
    /// first write that may grow memory is refused then.
    pub oom_at_start: bool,
    rng: Rng,
}

impl Default for Evict {
    fn default() -> Self {
        Evict {
            pool: Vec::with_capacity(POOL_SIZE),
            next_db: 0,
            running: false,
            oom_at_start: false,
            rng: Rng::new(0x9e37_79b9_7f4a_7c15 ^ (std::process::id() as u64).rotate_left(29)),
        }
    }
}

impl Evict {
    fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// The policies that pick from any key (the others only from keys with a TTL).
fn allkeys(p: Policy) -> bool {
    matches!(
        p,
        Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
    )
}

/// The time one call may spend evicting: 0..500 us linearly up to tenacity
/// 10, then 15% more per step (about 2 minutes at 99), unbounded at 100.
pub fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * tenacity as u64)),
        11..=99 => Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        )),
        _ => None,
    }
}

/// Memory not counted against maxmemory: what replicas are still to be
/// sent (their output buffers and the stream kept while they load a
/// snapshot). Counting it would make every evicted key's DEL evict more.
pub fn not_counted(srv: &Server) -> u64 {
    srv.repl
        .replicas
        .iter()
        .filter_map(|&slot| srv.clients.get(slot))
        .filter(|c| c.kind == ClientKind::Replica)
        .map(|c| {
            let pending = c.replica.as_deref().map_or(0, |r| r.pending.capacity());
            (c.out.capacity() + pending) as u64
        })
        .sum()
}

/// How much must be freed to get under maxmemory (None: nothing).
fn to_free(srv: &Server) -> Option<u64> {
    let max = srv.config.maxmemory;
    if max == 0 {
        return None;
    }
    let used = crate::alloc::allocated()? as u64;
    if used <= max {
        return None;
    }
    let logical = used.saturating_sub(not_counted(srv));
    (logical > max).then(|| logical - max)
}

fn used_now() -> i64 {
    crate::alloc::allocated().unwrap_or(0) as i64
}

/// Evicting is skipped (as if memory were fine) inside a busy script, while
/// a snapshot loads, on a replica that leaves it to its primary, and while
/// writes are paused (the dataset stays still; switchover-spec.md §3, §5).
fn allowed(srv: &Server) -> bool {
    !(srv.scripting.running.is_some()
        || srv.repl.loading()
        || (srv.repl.is_replica() && srv.config.replica_ignore_maxmemory)
        || srv.pause.writes_paused())
}

/// Evicts keys per `maxmemory-policy` until memory is under the limit, the
/// time allowed is used up (then the event loop continues), or nothing is
/// left to evict. `current` is the client whose command is about to run
/// (out of the client slab), for its notifications and WATCHes.
pub fn perform(srv: &mut Server, mut current: Option<&mut Client>) -> Outcome {
    if !allowed(srv) {
        return Outcome::Ok;
    }
    let outcome = match to_free(srv) {
        None => Outcome::Ok,
        Some(_) if srv.config.maxmemory_policy == Policy::NoEviction => Outcome::Fail,
        Some(goal) => {
            let outcome = evict_for(srv, goal as i64, current.as_deref_mut());
            srv.keys_changed_by(current);
            outcome
        }
    };
    let st = &mut srv.stats;
    match outcome {
        Outcome::Ok => {
            if let Some(since) = st.eviction_exceeded_since.take() {
                st.total_eviction_exceeded_us += since.elapsed().as_micros() as u64;
            }
        }
        _ => {
            st.eviction_exceeded_since.get_or_insert_with(Instant::now);
        }
    }
    outcome
}

fn evict_for(srv: &mut Server, goal: i64, mut current: Option<&mut Client>) -> Outcome {
    let limit = time_limit(srv.config.maxmemory_eviction_tenacity);
    let lazy = srv.config.lazyfree_lazy_eviction;
    let started = Instant::now();
    let mut freed = 0i64;
    let mut keys = 0u64;
    while freed < goal {
        let Some((db, key)) = pick(srv) else {
            return out_of_keys(srv, started, limit);
        };
        let before = used_now();
        let Some(e) = srv.keyspace.dbs[db].remove(&key) else {
            continue;
        };
        if lazy {
            crate::keyspace::lazyfree::drop_value(e.value);
        } else {
            drop(e);
        }
        freed += before - used_now();
        srv.stats.evicted_keys += 1;
        crate::pubsub::notify(
            srv,
            current.as_deref_mut(),
            crate::pubsub::class::EVICTED,
            "evicted",
            &key,
            db,
        );
        let del: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        crate::repl::propagate(srv, Some(db), &[del, &key[..]]);
        keys += 1;
        if keys.is_multiple_of(16) {
            // Values freed in the background lower memory on their own.
            if lazy && to_free(srv).is_none() {
                break;
            }
            if limit.is_some_and(|l| started.elapsed() > l) {
                srv.evict.running = true;
                break;
            }
        }
    }
    if srv.evict.running {
        Outcome::Running
    } else {
        Outcome::Ok
    }
}

/// Nothing left to evict: values still being freed in the background may
/// be enough, so wait for them a little (within the time limit).
fn out_of_keys(srv: &Server, started: Instant, limit: Option<Duration>) -> Outcome {
    use std::sync::atomic::Ordering;
    let limit = limit.unwrap_or(Duration::from_secs(1));
    while crate::keyspace::lazyfree::PENDING.load(Ordering::Relaxed) > 0
        && started.elapsed() < limit
    {
        if to_free(srv).is_none() {
            return Outcome::Ok;
        }
        std::thread::sleep(limit.min(Duration::from_millis(1)));
    }
    Outcome::Fail
}

/// The next victim (database, key), or None when no key qualifies.
fn pick(srv: &mut Server) -> Option<(usize, Box<[u8]>)> {
    let policy = srv.config.maxmemory_policy;
    match policy {
        Policy::NoEviction => None,
        Policy::AllkeysRandom | Policy::VolatileRandom => pick_random(srv, allkeys(policy)),
        _ => pick_pooled(srv, policy),
    }
}

fn pick_random(srv: &mut Server, all: bool) -> Option<(usize, Box<[u8]>)> {
    let ev = &mut srv.evict;
    let dbs = &srv.keyspace.dbs;
    for _ in 0..dbs.len() {
        ev.next_db = (ev.next_db + 1) % dbs.len();
        let j = ev.next_db;
        let d = &dbs[j];
        if all {
            let rng = &mut ev.rng;
            if let Some(e) = d.random_key(|| rng.next_u64()) {
                return Some((j, e.key[..].into()));
            }
        } else if d.expires_len() > 0 {
            let pos = (ev.random() % d.expires_len() as u64) as usize;
            if let Some((key, _)) = d.expiring_at(pos) {
                return Some((j, key.into()));
            }
        }
    }
    None
}

fn pick_pooled(srv: &mut Server, policy: Policy) -> Option<(usize, Box<[u8]>)> {
    let all = allkeys(policy);
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    let now_ms = crate::server::unix_ms();
    loop {
        let ks = &srv.keyspace;
        let ev = &mut srv.evict;
        let mut total = 0;
        for db in 0..ks.dbs.len() {
            let d = &ks.dbs[db];
            let n = if all { d.len() } else { d.expires_len() };
            if n > 0 {
                populate(ev, ks, policy, db, samples, now_ms);
                total += n;
            }
        }
        if total == 0 {
            return None;
        }
        // Best first; keys gone since they were sampled are skipped.
        while let Some(c) = ev.pool.pop() {
            let live = ks.dbs[c.db]
                .get_raw(&c.key)
                .is_some_and(|e| all || e.expire_at != NO_EXPIRE);
            if live {
                return Some((c.db, c.key));
            }
        }
    }
}

/// Samples up to `samples` keys of database `db` into the pool.
fn populate(ev: &mut Evict, ks: &Keyspace, policy: Policy, db: usize, samples: usize, now_ms: i64) {
    let all = allkeys(policy);
    let d = &ks.dbs[db];
    let range = if all { d.slot_count() } else { d.expires_len() };
    if range == 0 {
        return;
    }
    let mut got = 0;
    // Free slab slots are misses: a bounded number of tries, then one key
    // found the slow way so that a non-empty database always yields one.
    for _ in 0..samples * 4 {
        if got == samples {
            break;
        }
        let r = (ev.random() % range as u64) as usize;
        let slot = if all {
            Some(r as u32)
        } else {
            d.expiring_slot(r)
        };
        let Some(e) = slot.and_then(|s| d.slot(s)) else {
            continue;
        };
        got += 1;
        offer(ev, score(ks, policy, e, now_ms), db, &e.key);
    }
    if got == 0 {
        let rng = &mut ev.rng;
        let found = d.random_key(|| rng.next_u64());
        if let Some(e) = found.filter(|e| all || e.expire_at != NO_EXPIRE) {
            let s = score(ks, policy, e, now_ms);
            let key: Box<[u8]> = e.key[..].into();
            offer(ev, s, db, &key);
        }
    }
}

fn score(ks: &Keyspace, policy: Policy, e: &crate::keyspace::Entry, now_ms: i64) -> u64 {
    match policy {
        Policy::AllkeysLfu | Policy::VolatileLfu => 255 - ks.lfu_counter(e.lru, now_ms) as u64,
        Policy::VolatileTtl => u64::MAX - e.expire_at.max(0) as u64,
        _ => crate::keyspace::lru_idle_secs(ks.lru_clock, e.lru) as u64 * 1000,
    }
}

/// Puts a sampled key in the pool if it beats the worst one there (or
/// there is room); a full pool drops its worst.
fn offer(ev: &mut Evict, score: u64, db: usize, key: &[u8]) {
    let pool = &mut ev.pool;
    if pool.iter().any(|c| c.db == db && &c.key[..] == key) {
        return;
    }
    let k = pool.partition_point(|c| c.score < score);
    let c = Candidate {
        score,
        db,
        key: key.into(),
    };
    if pool.len() < POOL_SIZE {
        pool.insert(k, c);
    } else if k > 0 {
        pool.remove(0);
        pool.insert(k - 1, c);
    }
}

/// The event loop's turn between polls while a run is unfinished.
pub fn time_proc(srv: &mut Server) {
    if perform(srv, None) != Outcome::Running {
        srv.evict.running = false;
    }
}

/// CONFIG SET maxmemory: eviction starts from the event loop (not inside
/// the CONFIG command), as Redis 7.0 does.
pub fn limit_changed(srv: &mut Server) {
    let max = srv.config.maxmemory;
    if max == 0 {
        return;
    }
    match crate::alloc::allocated() {
        Some(used) => {
            let used = (used as u64).saturating_sub(not_counted(srv));
            if max < used {
                log::warn!(
                    "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
                );
            }
        }
        None => log::warn!(
            "maxmemory has no effect: the counting allocator (handoff_server::alloc::CountingAlloc) is not installed in this process"
        ),
    }
    srv.evict.running = true;
}

/// Before a command when maxmemory is set: evicts, then tells whether the
/// command is refused. Refused when over the limit with nothing to evict:
/// commands that may grow memory (DENYOOM, EXEC of a queue holding one,
/// scripts that declared no `allow-oom`), and anything queued in MULTI
/// except EXEC, DISCARD, QUIT and RESET. Never the primary's stream.
pub fn before_command(
    srv: &mut Server,
    client: &mut Client,
    name: &str,
    flags: u32,
) -> Option<&'static str> {
    // A replica's own commands (REPLCONF ACK) never evict: the replica's
    // client is out of the slab while they run, so the DELs would miss it.
    if srv.scripting.running.is_some() || client.kind == ClientKind::Replica {
        return None;
    }
    let oom = perform(srv, Some(client)) == Outcome::Fail;
    srv.evict.oom_at_start = oom;
    if !oom || client.kind == ClientKind::PrimaryLink {
        return None;
    }
    let refuse = flags & flag::DENYOOM != 0
        || (client.multi.is_some() && !matches!(name, "exec" | "discard" | "quit" | "reset"));
    refuse.then_some(crate::errors::OOM)
}

/// A script with declared flags but neither `allow-oom` nor `no-writes`
/// does not start when its command started out of memory.
pub fn script_start_refused(srv: &Server, client: &Client, script_flags: u32) -> bool {
    use crate::scripting::script_flags as sf;
    srv.config.maxmemory > 0
        && srv.evict.oom_at_start
        && client.kind != ClientKind::PrimaryLink
        && script_flags & (sf::ALLOW_OOM | sf::NO_WRITES) == 0
}

/// A script's command that may grow memory is refused when the script
/// started out of memory and has not written yet (after a write it must
/// run to the end).
pub fn script_call_refused(srv: &Server, client: &Client, allow_oom: bool, cmd_flags: u32) -> bool {
    srv.config.maxmemory > 0
        && !allow_oom
        && srv.evict.oom_at_start
        && cmd_flags & flag::DENYOOM != 0
        && client.kind != ClientKind::PrimaryLink
        && !srv.scripting.running.as_ref().is_some_and(|r| r.wrote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_maps_to_redis_time_limits() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert!(time_limit(99).unwrap() > Duration::from_secs(100));
        assert_eq!(time_limit(100), None);
    }

    #[test]
    fn the_pool_keeps_the_best_sixteen_in_ascending_order() {
        let mut ev = Evict::default();
        for i in 0..40u64 {
            let key = format!("k{i}");
            offer(&mut ev, (i * 7919) % 101, 0, key.as_bytes());
        }
        assert_eq!(ev.pool.len(), POOL_SIZE);
        let scores: Vec<u64> = ev.pool.iter().map(|c| c.score).collect();
        let mut sorted = scores.clone();
        sorted.sort();
        assert_eq!(scores, sorted);
        let mut all: Vec<u64> = (0..40u64).map(|i| (i * 7919) % 101).collect();
        all.sort();
        assert_eq!(scores, all[40 - POOL_SIZE..]);
        // A key already in the pool is not added twice.
        let best = ev.pool.last().map(|c| c.key.clone()).unwrap();
        offer(&mut ev, 1000, 0, &best);
        assert_eq!(ev.pool.iter().filter(|c| c.key == best).count(), 1);
    }

    #[test]
    fn volatile_ttl_prefers_the_nearest_expiry() {
        let mut ks = Keyspace::new(1);
        for i in 0..200i64 {
            let k = format!("k{i}");
            ks.set(0, k.as_bytes(), crate::keyspace::Value::from_bytes(b"v"));
            ks.dbs[0].set_expire(k.as_bytes(), 1_000_000 + i * 1000);
        }
        let mut ev = Evict::default();
        for _ in 0..20 {
            populate(&mut ev, &ks, Policy::VolatileTtl, 0, 5, 0);
        }
        let best = ev.pool.last().unwrap();
        let at = ks.dbs[0].get_raw(&best.key).unwrap().expire_at;
        // 100 samples of 200 keys: the best is almost surely among the first 20.
        assert!(at < 1_000_000 + 20 * 1000, "{at}");
    }
}
