//! RESP2/RESP3 codec (no I/O) and a small blocking client.
//!
//! - [`request`]: the server's incremental, zero-copy request decoder (multibulk and
//!   inline), with Redis 7.0's exact protocol-error texts.
//! - [`encode`]: reply and request writers, and Redis's number formatting.
//! - [`frame`]: a RESP2+RESP3 reply decoder whose frames re-encode byte for byte.
//! - [`client`]: a blocking [`Connection`] for tests, tools and replication.
//! - [`follow`]: a [`FollowingClient`] on top of it that follows `-REDIRECT` and `MOVING`
//!   across a primary/replica switchover.
//!
//! This crate never touches the keyspace, the event loop or server configuration.
//!
//! ```no_run
//! use handoff_protocol::{cmd, Connection, Frame};
//!
//! let mut conn = Connection::connect("127.0.0.1:6379")?;
//! let reply = conn.call(&cmd(&["SET", "greeting", "hello"]))?;
//! assert_eq!(reply, Frame::Simple("OK".into()));
//! let value = conn.call(&["GET", "greeting"])?;
//! assert_eq!(value.as_bytes(), Some(&b"hello"[..]));
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod client;
pub mod encode;
pub mod follow;
pub mod frame;
pub mod request;

pub use client::{cmd, Connection};
pub use follow::{FollowConfig, FollowCounters, FollowingClient};
pub use frame::{Frame, FrameError};
pub use request::{Limits, Parsed, ProtocolError, RequestParser};
