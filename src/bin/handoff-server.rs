//! The `handoff-server` binary: a drop-in for `redis-server`.

fn main() {
    std::process::exit(handoff_server::cli::main());
}
