//! Freeing big values off the event loop (FLUSHALL ASYNC, UNLINK, lazyfree-*).
//!
//! Dropping a database with millions of keys takes long; the owner hands it to
//! a background thread instead. Only plain owned data crosses the channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crossbeam_channel::Sender;

use super::value::Value;

/// Objects handed over and not yet freed (INFO `lazyfree_pending_objects`).
pub static PENDING: AtomicU64 = AtomicU64::new(0);
/// Objects freed by the background thread (INFO `lazyfreed_objects`).
pub static FREED: AtomicU64 = AtomicU64::new(0);

/// Values whose freeing takes more allocations than this go to the
/// background thread (Redis's LAZYFREE_THRESHOLD).
const LAZYFREE_THRESHOLD: usize = 64;

fn worker() -> &'static Sender<Box<dyn Send>> {
    static WORKER: OnceLock<Sender<Box<dyn Send>>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Box<dyn Send>>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for obj in rx {
                    drop(obj);
                    PENDING.fetch_sub(1, Ordering::Relaxed);
                    FREED.fetch_add(1, Ordering::Relaxed);
                }
            })
            .expect("spawning the lazyfree thread");
        tx
    })
}

/// Frees `obj` on the background thread.
pub fn drop_later(obj: Box<dyn Send>) {
    PENDING.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = worker().send(obj) {
        drop(e.into_inner());
        PENDING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Frees a deleted or overwritten value, in the background when freeing
/// it would take many allocations. Deciding is O(1) (`Value::free_effort`).
pub fn drop_value(v: Value) {
    if v.free_effort() > LAZYFREE_THRESHOLD {
        drop_later(Box::new(v));
    }
}
