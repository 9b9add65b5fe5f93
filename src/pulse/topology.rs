//! Finding out who is primary in the pair, whether it is ready for a switchover, and
//! whether a switchover has happened, using only ROLE and INFO replication, which
//! handoff, Redis and Valkey all answer the same way.
//!
//! Every probe here uses short-lived or caller-owned plain connections with short
//! timeouts, so a node that is down or busy never stalls the probe for long. Nothing here
//! writes to the data set.

use std::io;
use std::net::ToSocketAddrs;
use std::thread;
use std::time::{Duration, Instant};

use handoff_protocol::follow::split_endpoint;
use handoff_protocol::{Connection, Frame};

/// How long one probe connection may take to connect or answer.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// What ROLE says a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Primary,
    /// A replica, with the primary it follows (`host:port`) and its link state.
    Replica {
        primary: String,
        state: String,
    },
    /// No answer, or an answer we do not understand.
    Unknown,
}

/// A plain connection to `endpoint` with probe timeouts.
pub fn probe_connect(endpoint: &str) -> io::Result<Connection> {
    let (host, port) = split_endpoint(endpoint).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a host:port endpoint: {endpoint:?}"),
        )
    })?;
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
    let c = Connection::connect_timeout(&addr, PROBE_TIMEOUT)?;
    c.set_read_timeout(Some(PROBE_TIMEOUT))?;
    c.set_write_timeout(Some(PROBE_TIMEOUT))?;
    Ok(c)
}

/// Reads ROLE on an open connection.
pub fn role_on(c: &mut Connection) -> io::Result<Role> {
    let reply = c.call(&["ROLE"])?;
    let items = reply.as_array().unwrap_or(&[]);
    let text = |i: usize| {
        items
            .get(i)
            .and_then(Frame::as_bytes)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    Ok(match text(0).as_deref() {
        Some("master") => Role::Primary,
        Some("slave") | Some("replica") => {
            let host = text(1).unwrap_or_default();
            let port = items.get(2).and_then(Frame::as_int).unwrap_or(0);
            Role::Replica {
                primary: format!("{host}:{port}"),
                state: text(3).unwrap_or_default(),
            }
        }
        _ => Role::Unknown,
    })
}

/// ROLE of `endpoint` over a fresh connection; `Unknown` when it cannot be asked.
pub fn role_of(endpoint: &str) -> Role {
    probe_connect(endpoint)
        .and_then(|mut c| role_on(&mut c))
        .unwrap_or(Role::Unknown)
}

/// The node that says it is primary, polling every `nodes` until `deadline`. Two nodes
/// can both say primary for a moment (a demoted node before it learns); the first in
/// the list that says so wins, as a sentinel-less application would pick.
pub fn find_primary(nodes: &[String], deadline: Instant) -> Option<String> {
    loop {
        if let Some(p) = nodes.iter().find(|n| role_of(n) == Role::Primary) {
            return Some(p.clone());
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// `field:value` from an INFO text.
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(str::trim)
}

/// INFO `section` as text.
pub fn info(c: &mut Connection, section: &str) -> io::Result<String> {
    match c.call(&["INFO", section])? {
        Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
            Ok(String::from_utf8_lossy(&b).into_owned())
        }
        other => Err(io::Error::other(format!(
            "INFO {section}: {}",
            other.to_string_lossy()
        ))),
    }
}

/// Whether `primary` says it is primary, runs no failover, and has at least one replica
/// in state `online` (what FAILOVER needs). Offsets are not compared: under load the
/// replica's acknowledged offset always trails, and catching up is FAILOVER's job.
pub fn ready_for_switchover(primary: &str) -> bool {
    let Ok(mut c) = probe_connect(primary) else {
        return false;
    };
    let Ok(text) = info(&mut c, "replication") else {
        return false;
    };
    info_field(&text, "role") == Some("master")
        && info_field(&text, "master_failover_state").is_none_or(|s| s == "no-failover")
        && text
            .lines()
            .any(|l| l.starts_with("slave") && l.contains("state=online"))
}

/// Waits until the pair has a primary that is [`ready_for_switchover`]; returns it.
pub fn wait_ready(nodes: &[String], deadline: Instant) -> Option<String> {
    loop {
        if let Some(p) = find_primary(nodes, Instant::now()) {
            if ready_for_switchover(&p) {
                return Some(p);
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Polls (about every millisecond, on kept connections) until a node other than
/// `old_primary` says primary and `old_primary` says replica. Returns the new primary,
/// or None at `deadline` (aborted or slow switchover).
pub fn wait_switched(nodes: &[String], old_primary: &str, deadline: Instant) -> Option<String> {
    let mut conns: Vec<Option<Connection>> = nodes.iter().map(|_| None).collect();
    loop {
        let mut new_primary = None;
        let mut old_demoted = false;
        for (node, slot) in nodes.iter().zip(conns.iter_mut()) {
            if slot.is_none() {
                *slot = probe_connect(node).ok();
            }
            let role = match slot.as_mut().map(role_on) {
                Some(Ok(r)) => r,
                _ => {
                    *slot = None;
                    Role::Unknown
                }
            };
            match (node == old_primary, role) {
                (false, Role::Primary) => new_primary = Some(node.clone()),
                (true, Role::Replica { .. }) => old_demoted = true,
                _ => {}
            }
        }
        if old_demoted && new_primary.is_some() {
            return new_primary;
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Splits a command line on whitespace (the switch command is given as one string).
pub fn words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}
