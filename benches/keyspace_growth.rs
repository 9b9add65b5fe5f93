//! The longest single insert while a database grows from empty to millions
//! of keys: handoff's `Db` (key index resized a few entries at a time)
//! against a plain `hashbrown` table of slot numbers that grows in one step,
//! which is what `Db` used before. Both run in this process, one after the
//! other, on the same keys. Then the same growth for one big hash value
//! (`Hash`, hashtable encoding: the same incremental index since it moved
//! there too).
//!
//! Time per insert is the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so
//! being descheduled on a shared machine does not count as a stall; wall
//! time is printed beside it.
//!
//! ```sh
//! cargo bench --bench keyspace_growth                  # 3M keys
//! cargo bench --bench keyspace_growth -- --keys 500000
//! ```

use std::time::Instant;

use handoff_server::keyspace::db::Db;
use handoff_server::keyspace::value::Value;
use handoff_server::types::hash::{Hash, Limits};

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The slowest inserts: (cpu ns, wall ns, keys before the insert).
struct Slowest(Vec<(u64, u64, usize)>);

impl Slowest {
    fn record(&mut self, cpu: u64, wall: u64, at: usize) {
        self.0.push((cpu, wall, at));
        if self.0.len() > 64 {
            self.0.sort_unstable_by(|a, b| b.cmp(a));
            self.0.truncate(8);
        }
    }

    fn report(mut self, name: &str, total: std::time::Duration) {
        self.0.sort_unstable_by(|a, b| b.cmp(a));
        self.0.truncate(5);
        let list: Vec<String> = self
            .0
            .iter()
            .map(|(cpu, wall, at)| {
                format!(
                    "{:.2} ms cpu / {:.2} ms wall at {at} keys",
                    *cpu as f64 / 1e6,
                    *wall as f64 / 1e6
                )
            })
            .collect();
        println!(
            "{name:<28} total {:>7.0} ms | slowest: {}",
            total.as_secs_f64() * 1e3,
            list.join(", ")
        );
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

fn grow_db(keys: usize) {
    let mut db = Db::new();
    let mut slowest = Slowest(Vec::new());
    let started = Instant::now();
    for i in 0..keys {
        let k = key(i);
        let (c0, w0) = (thread_cpu_ns(), Instant::now());
        db.insert(&k, Value::from_bytes(b"value"), 0);
        slowest.record(thread_cpu_ns() - c0, w0.elapsed().as_nanos() as u64, i);
    }
    assert_eq!(db.len(), keys);
    slowest.report("handoff Db (incremental)", started.elapsed());
}

fn grow_one_step(keys: usize) {
    let hasher = ahash::RandomState::new();
    let mut stored: Vec<Vec<u8>> = Vec::with_capacity(keys);
    let mut table: hashbrown::HashTable<u32> = hashbrown::HashTable::new();
    let mut slowest = Slowest(Vec::new());
    let started = Instant::now();
    for i in 0..keys {
        let k = key(i);
        let (c0, w0) = (thread_cpu_ns(), Instant::now());
        let hash = hasher.hash_one(&k[..]);
        stored.push(k);
        table.insert_unique(hash, i as u32, |&j| {
            hasher.hash_one(&stored[j as usize][..])
        });
        slowest.record(thread_cpu_ns() - c0, w0.elapsed().as_nanos() as u64, i);
    }
    assert_eq!(table.len(), keys);
    slowest.report("hashbrown one-step growth", started.elapsed());
}

fn grow_hash(fields: usize) {
    let mut h = Hash::default();
    let limits = Limits {
        max_entries: 128,
        max_value: 64,
    };
    let mut slowest = Slowest(Vec::new());
    let started = Instant::now();
    for i in 0..fields {
        let f = key(i);
        let (c0, w0) = (thread_cpu_ns(), Instant::now());
        h.set(&f, b"value", limits);
        slowest.record(thread_cpu_ns() - c0, w0.elapsed().as_nanos() as u64, i);
    }
    assert_eq!(h.len(), fields);
    slowest.report("handoff Hash (incremental)", started.elapsed());
}

fn main() {
    let mut keys = 3_000_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--keys" => keys = args.next().and_then(|v| v.parse().ok()).expect("--keys N"),
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    println!("{keys} inserts of 16-byte keys, longest single insert (thread CPU time)");
    grow_one_step(keys);
    // glibc consolidates the millions of chunks the first run freed at a
    // later allocation (30 ms): make it happen here, not in a timed insert.
    // SAFETY: malloc_trim only walks and trims the allocator's own arenas.
    unsafe { libc::malloc_trim(0) };
    grow_db(keys);
    unsafe { libc::malloc_trim(0) };
    println!("the same as fields of one hash (HSET)");
    grow_hash(keys);
}
