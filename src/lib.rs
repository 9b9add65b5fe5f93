//! # handoff
//!
//! A Redis-compatible in-memory key-value server built so that a
//! primary/replica pair can switch roles while clients keep working.
//!
//! This facade crate re-exports what an embedding program needs: the server
//! ([`Server`], [`ServerHandle`], [`Config`]) and the protocol client
//! ([`protocol::Connection`]), and [`pulse`], the switchover probe behind the
//! `handoff-pulse` binary.
//!
//! ## Embedding a server
//!
//! ```
//! use handoff::{Config, Server};
//! use handoff::protocol::{Connection, Frame};
//!
//! let mut config = Config::default();
//! config.port = 0; // any free port
//! config.bind = vec!["127.0.0.1".into()];
//! let server = Server::new(config).start().expect("server starts");
//!
//! let mut conn = Connection::connect(server.addr()).unwrap();
//! conn.call(&["SET", "greeting", "hello"]).unwrap();
//! let reply = conn.call(&["GET", "greeting"]).unwrap();
//! assert_eq!(reply, Frame::Bulk("hello".into()));
//!
//! server.shutdown(); // also happens when the handle is dropped
//! ```

pub mod pulse;

pub use handoff_protocol as protocol;
pub use handoff_server::{Config, Server, ServerHandle};
