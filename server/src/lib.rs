//! The handoff server: event loop, clients, keyspace, commands and
//! configuration. The binary (`handoff-server`) and embedding both go
//! through this crate.

pub mod alloc;
pub mod blocking;
pub mod childinfo;
pub mod cli;
pub mod client;
pub mod clock;
pub mod commands;
pub mod config;
pub mod embed;
pub mod errors;
pub mod evict;
pub mod geohash;
pub mod hll;
pub mod keyspace;
pub mod logging;
pub mod maint;
pub mod multi;
pub mod net;
pub mod pause;
pub mod persist;
pub mod pubsub;
pub mod rdb;
pub mod repl;
pub mod rng;
pub mod scripting;
pub mod server;
pub mod shutdown;
pub mod signals;
pub mod stats;
pub mod types;

pub use config::Config;
pub use embed::{Server, ServerHandle};
