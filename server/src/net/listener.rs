//! Listening sockets: `bind` addresses (IPv4, IPv6, optional `-` entries),
//! `port 0` resolved to a free port, `tcp-backlog`, and `unixsocket`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

/// A bound listener.
pub enum Listener {
    Tcp(mio::net::TcpListener, SocketAddr),
    Unix(mio::net::UnixListener, String),
}

/// A bind address that could not be bound.
#[derive(Debug)]
pub struct BindError {
    pub addr: String,
    pub port: u16,
    pub error: io::Error,
}

/// Binds every `bind` entry on `port`. Entries prefixed with `-` are optional:
/// they are skipped when the address is unavailable (e.g. no IPv6). With port
/// 0 the first address picks a free port and the others reuse it.
pub fn bind_all(bind: &[String], port: u16, backlog: i32) -> Result<Vec<Listener>, BindError> {
    let mut out = Vec::new();
    let mut port = port;
    for entry in bind {
        let (optional, host) = match entry.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, entry.as_str()),
        };
        let ip: IpAddr = match host {
            "*" => "0.0.0.0".parse().expect("valid literal"),
            "::*" => "::".parse().expect("valid literal"),
            h => match h.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    return Err(BindError {
                        addr: host.to_string(),
                        port,
                        error: io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "Name or service not known",
                        ),
                    })
                }
            },
        };
        match bind_tcp(SocketAddr::new(ip, port), backlog) {
            Ok(l) => {
                let local = l.local_addr().map_err(|e| BindError {
                    addr: host.to_string(),
                    port,
                    error: e,
                })?;
                port = local.port();
                out.push(Listener::Tcp(l, local));
            }
            Err(e) if optional && unavailable(&e) => continue,
            Err(e) => {
                return Err(BindError {
                    addr: host.to_string(),
                    port,
                    error: e,
                })
            }
        }
    }
    Ok(out)
}

fn unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EADDRNOTAVAIL) | Some(libc::EAFNOSUPPORT) | Some(libc::EPROTONOSUPPORT)
    )
}

fn bind_tcp(addr: SocketAddr, backlog: i32) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        // Keep IPv6 separate so `0.0.0.0` and `::` can both be bound.
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// Binds the unix socket at `path` (replacing a stale file) with `perm` bits.
pub fn bind_unix(path: &str, perm: u32) -> io::Result<Listener> {
    let _ = std::fs::remove_file(path);
    let l = mio::net::UnixListener::bind(path)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    Ok(Listener::Unix(l, path.to_string()))
}
