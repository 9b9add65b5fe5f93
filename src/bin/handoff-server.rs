//! The `handoff-server` binary: a drop-in for `redis-server`.

use handoff_server::alloc::CountingAlloc;

/// Exact `used_memory`, as Redis's allocator accounting gives.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    CountingAlloc::activate();
    std::process::exit(handoff_server::cli::main());
}
