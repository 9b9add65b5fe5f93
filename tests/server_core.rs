//! The event loop and protocol handling of a real server over real sockets:
//! pipelining, protocol errors, limits, hostile input, unix sockets.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use handoff::protocol::{Connection, Frame};

fn raw(server: &TestServer) -> TcpStream {
    let s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads until the server closes the connection; returns everything it sent.
fn read_to_close(mut s: TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn an_embedded_server_answers_ping_on_a_free_port() {
    let server = TestServer::start();
    assert_ne!(server.addr().port(), 0);
    let mut c = server.connect();
    assert_eq!(call(&mut c, &["PING"]), simple("PONG"));
    assert_eq!(call(&mut c, &["PING", "hi"]), bulk("hi"));
    assert_eq!(call(&mut c, &["ECHO", "x y"]), bulk("x y"));
}

#[test]
fn a_thousand_pipelined_commands_are_answered_in_order() {
    let server = TestServer::start();
    let mut c = server.connect();
    for i in 0..1000 {
        c.send(&["ECHO", &i.to_string()]).unwrap();
    }
    c.flush().unwrap();
    for i in 0..1000 {
        assert_eq!(c.read_frame().unwrap(), bulk(&i.to_string()));
    }
}

#[test]
fn inline_commands_are_understood_with_quotes() {
    let server = TestServer::start();
    let mut s = raw(&server);
    s.write_all(b"PING\r\nECHO \"a b\\x41\"\nECHO 'it''s'\r\n")
        .unwrap();
    // 'it''s' is unbalanced for Redis's splitter: a protocol error closes the connection.
    let got = read_to_close(s);
    let want: &[u8] =
        b"+PONG\r\n$4\r\na bA\r\n-ERR Protocol error: unbalanced quotes in request\r\n";
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

#[test]
fn a_malformed_multibulk_header_is_answered_at_once_and_the_connection_closed() {
    let server = TestServer::start();
    for (input, reply) in [
        (
            &b"*abc\r\n"[..],
            &b"-ERR Protocol error: invalid multibulk length\r\n"[..],
        ),
        (
            b"*1\r\n$abc\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nx\r\n",
            b"-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
    ] {
        let mut s = raw(&server);
        // Never send more than the broken header: the server must not wait.
        s.write_all(input).unwrap();
        assert_eq!(
            read_to_close(s),
            reply,
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
    // The server keeps serving others.
    assert_eq!(call(&mut server.connect(), &["PING"]), simple("PONG"));
}

#[test]
fn a_command_sent_byte_by_byte_is_executed_once_complete() {
    let server = TestServer::start();
    let mut s = raw(&server);
    s.set_nodelay(true).unwrap();
    for b in b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n" {
        s.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut buf = [0u8; 11];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"$5\r\nhello\r\n");
}

#[test]
fn a_bulk_longer_than_proto_max_bulk_len_is_refused_and_the_client_closed() {
    let server = TestServer::with(|c| c.proto_max_bulk_len = 1024 * 1024);
    let mut s = raw(&server);
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n").unwrap();
    assert_eq!(
        read_to_close(s),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn a_client_over_the_query_buffer_limit_is_disconnected() {
    let server = TestServer::with(|c| c.client_query_buffer_limit = 1024 * 1024);
    let mut s = raw(&server);
    s.write_all(b"*2\r\n$4\r\nECHO\r\n$10000000\r\n").unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut closed = false;
    for _ in 0..100 {
        if s.write_all(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        let mut b = [0u8; 16];
        closed = matches!(s.read(&mut b), Ok(0) | Err(_));
    }
    assert!(
        closed,
        "the server should close a client past client-query-buffer-limit"
    );
    let mut info = server.connect();
    assert_eq!(call(&mut info, &["PING"]), simple("PONG"));
}

#[test]
fn the_client_past_maxclients_gets_redis_error_text() {
    let server = TestServer::with(|c| c.maxclients = 2);
    let mut a = server.connect();
    let mut b = server.connect();
    assert_eq!(call(&mut a, &["PING"]), simple("PONG"));
    assert_eq!(call(&mut b, &["PING"]), simple("PONG"));
    let s = raw(&server);
    assert_eq!(read_to_close(s), b"-ERR max number of clients reached\r\n");
    drop(a);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(call(&mut server.connect(), &["PING"]), simple("PONG"));
}

#[test]
fn an_idle_client_is_closed_after_timeout_seconds() {
    let server = TestServer::with(|c| {
        c.timeout = 1;
        c.hz = 100;
    });
    let s = raw(&server);
    let started = Instant::now();
    let _ = read_to_close(s);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn a_client_that_does_not_read_its_replies_is_cut_at_the_output_hard_limit() {
    let server = TestServer::with(|c| c.client_output_buffer_limit[0].hard = 256 * 1024);
    let mut s = raw(&server);
    let big = "x".repeat(32 * 1024);
    let mut req = Vec::new();
    for _ in 0..64 {
        req.extend_from_slice(
            format!("*2\r\n$4\r\nECHO\r\n${}\r\n{}\r\n", big.len(), big).as_bytes(),
        );
    }
    // 2 MB of replies requested at once, never read until the end.
    let _ = s.write_all(&req);
    std::thread::sleep(Duration::from_millis(300));
    let got = read_to_close(s);
    assert!(
        got.len() < 2 * 1024 * 1024,
        "the server should have closed the client early"
    );
    let mut c = server.connect();
    let reply = call(&mut c, &["INFO", "stats"]);
    if let Some(text) = reply.as_bytes() {
        let text = String::from_utf8_lossy(text);
        if text.contains("client_output_buffer_limit_disconnections") {
            assert!(
                text.contains("client_output_buffer_limit_disconnections:1"),
                "{text}"
            );
        }
    }
}

#[test]
fn random_bytes_from_many_clients_never_stop_the_server() {
    let server = TestServer::start();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let prefixes: [&[u8]; 6] = [b"*", b"$", b"*3\r\n$", b"*1\r\n$3\r\n", b"\"", b"*-"];
    for round in 0..200 {
        let mut s = raw(&server);
        let mut junk = prefixes[round % prefixes.len()].to_vec();
        let len = (next() % 512) as usize;
        junk.extend((0..len).map(|_| next() as u8));
        let _ = s.write_all(&junk);
        if round % 2 == 0 {
            drop(s); // half-sent requests, then gone
        } else {
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            let mut b = [0u8; 256];
            let _ = s.read(&mut b);
        }
    }
    let mut c = server.connect();
    assert_eq!(call(&mut c, &["PING"]), simple("PONG"));
}

#[test]
fn a_unix_socket_serves_clients() {
    let path = std::env::temp_dir().join(format!("handoff-test-{}.sock", std::process::id()));
    let p = path.to_str().unwrap().to_string();
    let server = TestServer::with(|c| c.unixsocket = p.clone());
    let mut c = Connection::connect_unix(&path).unwrap();
    assert_eq!(c.call(&["PING"]).unwrap(), simple("PONG"));
    let info = c.call(&["CLIENT", "INFO"]).unwrap();
    assert!(
        info.to_string_lossy().contains(&format!("addr={p}:0")),
        "{info:?}"
    );
    drop(server);
}

#[test]
fn quit_replies_ok_and_closes_the_connection() {
    let server = TestServer::start();
    let mut s = raw(&server);
    s.write_all(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
        .unwrap();
    assert_eq!(read_to_close(s), b"+OK\r\n");
}

#[test]
fn unknown_commands_and_wrong_arity_get_redis_errors() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["NOPE", "a", "b"]),
        err("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        call(&mut c, &["ECHO"]),
        err("ERR wrong number of arguments for 'echo' command")
    );
    assert_eq!(
        call(&mut c, &["CLIENT", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.")
    );
    assert_eq!(
        call(&mut c, &["CLIENT"]),
        err("ERR wrong number of arguments for 'client' command")
    );
}

#[test]
fn requirepass_requires_auth_before_commands() {
    let server = TestServer::with(|c| c.requirepass = "s3cret".into());
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["ECHO", "x"]),
        err("NOAUTH Authentication required.")
    );
    assert_eq!(
        call(&mut c, &["AUTH", "wrong"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(call(&mut c, &["AUTH", "s3cret"]), simple("OK"));
    assert_eq!(call(&mut c, &["ECHO", "x"]), bulk("x"));
    let mut d = server.connect();
    let hello = call(
        &mut d,
        &["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "me"],
    );
    assert!(matches!(hello, Frame::Map(_)), "{hello:?}");
    assert_eq!(call(&mut d, &["CLIENT", "GETNAME"]), bulk("me"));
}

#[test]
fn hello_switches_protocol_and_rejects_unknown_versions() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["HELLO", "4"]),
        err("NOPROTO unsupported protocol version")
    );
    let Frame::Map(fields) = call(&mut c, &["HELLO", "3"]) else {
        panic!("RESP3 HELLO replies with a map")
    };
    let proto = fields
        .iter()
        .find(|(k, _)| k.as_bytes() == Some(b"proto"))
        .map(|(_, v)| v.clone());
    assert_eq!(proto, Some(Frame::Integer(3)));
    assert_eq!(call(&mut c, &["CLIENT", "GETNAME"]), Frame::Null);
    let Frame::Array(_) = call(&mut c, &["HELLO", "2"]) else {
        panic!("RESP2 HELLO replies with an array")
    };
    assert_eq!(call(&mut c, &["CLIENT", "GETNAME"]), Frame::NullBulk);
}

#[test]
fn client_reply_off_and_skip_suppress_replies() {
    let server = TestServer::start();
    let mut c = server.connect();
    c.send(&["CLIENT", "REPLY", "SKIP"]).unwrap();
    c.send(&["ECHO", "skipped"]).unwrap();
    c.send(&["ECHO", "seen"]).unwrap();
    c.send(&["CLIENT", "REPLY", "OFF"]).unwrap();
    c.send(&["ECHO", "off"]).unwrap();
    c.send(&["CLIENT", "REPLY", "ON"]).unwrap();
    c.flush().unwrap();
    assert_eq!(c.read_frame().unwrap(), bulk("seen"));
    assert_eq!(c.read_frame().unwrap(), simple("OK"));
}

#[test]
fn client_kill_by_id_closes_that_client_only() {
    let server = TestServer::start();
    let mut victim = server.connect();
    let Frame::Integer(id) = call(&mut victim, &["CLIENT", "ID"]) else {
        panic!()
    };
    let mut killer = server.connect();
    assert_eq!(
        call(&mut killer, &["CLIENT", "KILL", "ID", &id.to_string()]),
        Frame::Integer(1)
    );
    assert!(victim.call(&["PING"]).is_err());
    assert_eq!(
        call(&mut killer, &["CLIENT", "KILL", "ID", "999999"]),
        Frame::Integer(0)
    );
    assert_eq!(
        call(&mut killer, &["CLIENT", "KILL", "1.2.3.4:5"]),
        err("ERR No such client")
    );
}

#[test]
fn client_setname_validates_and_client_list_shows_it() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(&mut c, &["CLIENT", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        call(&mut c, &["CLIENT", "SETNAME", "worker-1"]),
        simple("OK")
    );
    assert_eq!(
        call(&mut c, &["CLIENT", "SETINFO", "LIB-NAME", "mylib"]),
        simple("OK")
    );
    let list =
        String::from_utf8_lossy(call(&mut c, &["CLIENT", "LIST"]).as_bytes().unwrap()).into_owned();
    assert!(list.contains(" name=worker-1 "), "{list}");
    assert!(list.contains(" lib-name=mylib "), "{list}");
    assert!(list.contains(" cmd=client|list "), "{list}");
    assert!(list.ends_with('\n'));
}

/// The first non-loopback IPv4 address of this machine, if any.
fn non_loopback_ipv4() -> Option<std::net::IpAddr> {
    // Connecting a UDP socket sends nothing; it only picks the outgoing address.
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn several_bind_addresses_share_one_port_including_ipv6() {
    let server = TestServer::with(|c| c.bind = vec!["127.0.0.1".into(), "-::1".into()]);
    let port = server.addr().port();
    let mut v4 = Connection::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(v4.call(&["PING"]).unwrap(), simple("PONG"));
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let mut v6 = Connection::connect(("::1", port)).unwrap();
        assert_eq!(v6.call(&["PING"]).unwrap(), simple("PONG"));
        let info =
            String::from_utf8_lossy(v6.call(&["CLIENT", "INFO"]).unwrap().as_bytes().unwrap())
                .into_owned();
        assert!(info.contains(&format!("laddr=[::1]:{port}")), "{info}");
    }
}

#[test]
fn protected_mode_refuses_non_loopback_clients_without_a_password() {
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!("SKIPPED: this machine has no non-loopback IPv4 address");
        return;
    };
    let server = TestServer::with(|c| c.bind = vec!["*".into()]);
    let port = server.addr().port();
    let remote = TcpStream::connect((ip, port)).unwrap();
    remote
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let got = String::from_utf8_lossy(&read_to_close(remote)).into_owned();
    assert!(
        got.starts_with("-DENIED Redis is running in protected mode"),
        "{got}"
    );
    // Loopback is still served, and a password lifts the restriction.
    assert_eq!(
        Connection::connect(("127.0.0.1", port))
            .unwrap()
            .call(&["PING"])
            .unwrap(),
        simple("PONG")
    );
    let open = TestServer::with(|c| {
        c.bind = vec!["*".into()];
        c.requirepass = "pw".into();
    });
    let mut c = Connection::connect((ip, open.addr().port())).unwrap();
    assert_eq!(c.call(&["AUTH", "pw"]).unwrap(), simple("OK"));
}
