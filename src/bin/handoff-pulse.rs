//! The `handoff-pulse` binary: probes a primary/replica pair through switchovers (see
//! `handoff::pulse`).

fn main() {
    std::process::exit(handoff::pulse::cli::main());
}
