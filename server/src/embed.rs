//! Running a server inside another program: build from a [`Config`], start
//! the event loop on its own thread, get its address, shut it down (also on
//! drop). Integration tests use this to start real servers on port 0.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::config::Config;
use crate::net::{listener, Control, EventLoop};
use crate::server::Server as ServerState;

/// A server to start; see the crate documentation for an example.
pub struct Server {
    config: Config,
}

impl Server {
    pub fn new(config: Config) -> Self {
        Server { config }
    }

    /// Binds the listeners (errors are returned here, synchronously) and runs
    /// the event loop on a new thread.
    pub fn start(self) -> io::Result<ServerHandle> {
        let mut ev = build_event_loop(self.config)?;
        // As redis-server: the dataset in `dir/dbfilename` is loaded first.
        crate::persist::load_at_startup(&mut ev.server).map_err(io::Error::other)?;
        let addr = ev.server.listening.first().copied();
        let (tx, rx) = crossbeam_channel::unbounded();
        ev.set_control(rx);
        let waker = ev.waker();
        let thread = std::thread::Builder::new()
            .name("handoff-server".into())
            .spawn(move || {
                if let Err(e) = ev.run() {
                    log::warn!("event loop stopped: {e}");
                }
            })?;
        Ok(ServerHandle {
            addr,
            control: tx,
            waker,
            thread: Some(thread),
        })
    }
}

/// Binds the configured addresses and builds the event loop (not yet running).
pub fn build_event_loop(config: Config) -> io::Result<EventLoop> {
    let mut listeners =
        listener::bind_all(&config.bind, config.port, config.tcp_backlog).map_err(|e| {
            io::Error::new(
                e.error.kind(),
                format!(
                    "Could not create server TCP listening socket {}:{}: bind: {}",
                    e.addr, e.port, e.error
                ),
            )
        })?;
    if !config.unixsocket.is_empty() {
        listeners.push(listener::bind_unix(
            &config.unixsocket,
            config.unixsocketperm,
        )?);
    }
    EventLoop::new(ServerState::new(config), listeners)
}

/// A running server. Dropping it shuts the server down and waits for it.
pub struct ServerHandle {
    addr: Option<SocketAddr>,
    control: Sender<Control>,
    waker: Arc<mio::Waker>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The first TCP address the server listens on (port 0 resolved).
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the server has a TCP listener")
    }

    /// Stops the server and waits for its thread to finish.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.control.send(Control::Shutdown);
            let _ = self.waker.wake();
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
