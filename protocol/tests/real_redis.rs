//! Differential tests against a real `redis-server` (skipped when it is not installed):
//! the client against a real peer, our double formatting against Redis's replies, and
//! the inline request splitter against Redis's on random input.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use handoff_protocol::encode::format_double_like_redis;
use handoff_protocol::{cmd, Connection, Frame, Limits, Parsed, RequestParser};

struct Redis {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts redis-server on a private Unix socket, or returns None if it is not installed.
fn start_redis(name: &str) -> Option<Redis> {
    let dir =
        std::env::temp_dir().join(format!("handoff-protocol-{}-{}", name, std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let socket = dir.join("redis.sock");
    let child = Command::new("redis-server")
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&socket)
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let redis = Redis { child, socket, dir };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if UnixStream::connect(&redis.socket).is_ok() {
            return Some(redis);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn the_client_talks_resp2_and_resp3_to_real_redis_and_frames_reencode_exactly() {
    let Some(redis) = start_redis("client") else {
        eprintln!("redis-server not installed; skipping");
        return;
    };
    let mut c = Connection::connect_unix(&redis.socket).unwrap();
    assert_eq!(
        c.call(&cmd(&["SET", "k", "v"])).unwrap(),
        Frame::Simple("OK".into())
    );
    assert_eq!(c.call(&["GET", "k"]).unwrap(), Frame::Bulk("v".into()));
    assert_eq!(c.call(&["GET", "missing"]).unwrap(), Frame::NullBulk);
    assert!(c.call(&["NOSUCH"]).unwrap().is_error());
    c.call(&["HELLO", "3"]).unwrap();
    assert_eq!(c.call(&["GET", "missing"]).unwrap(), Frame::Null);
    for v in [
        1.5,
        0.1,
        1e300,
        3.0,
        1e-7,
        1.2345678901234568e17,
        1e22,
        1e16,
        -2.75,
        0.00001,
    ] {
        let text = format!("{v:e}");
        c.call(&["ZADD", "z", &text, "m"]).unwrap();
        let score = c.call(&["ZSCORE", "z", "m"]).unwrap();
        assert_eq!(
            score,
            Frame::Double(format_double_like_redis(v).into()),
            "{text}"
        );
    }
    c.send(&["HGETALL", "nohash"]).unwrap();
    c.send(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]).unwrap();
    c.send(&["HSET", "h", "a", "1"]).unwrap();
    c.send(&["HGETALL", "h"]).unwrap();
    c.send(&["SMEMBERS", "nosuch"]).unwrap();
    c.flush().unwrap();
    for _ in 0..5 {
        let (frame, raw) = c.read_raw_frame().unwrap();
        assert_eq!(frame.to_bytes(), raw);
    }
}

/// What Redis answers to one `ECHO ...` inline line given our parse of it.
fn expected_echo_reply(line: &[u8]) -> Vec<u8> {
    let mut buf = BytesMut::from(line);
    let mut args = Vec::new();
    let mut out = BytesMut::new();
    match RequestParser::new().parse(&mut buf, &Limits::default(), &mut args) {
        Ok(Parsed::Command) if args.len() == 2 => {
            handoff_protocol::encode::bulk(&mut out, &args[1])
        }
        Ok(Parsed::Command) => {
            out.extend_from_slice(b"-ERR wrong number of arguments for 'echo' command\r\n")
        }
        Ok(Parsed::Incomplete) => panic!("line {:?} did not parse", line),
        Err(e) => {
            out.extend_from_slice(b"-ERR ");
            out.extend_from_slice(&e.message_bytes());
            out.extend_from_slice(b"\r\n");
            return out.to_vec();
        }
    }
    out.extend_from_slice(b"+PONG\r\n");
    out.to_vec()
}

#[test]
fn inline_splitting_matches_real_redis_on_random_lines() {
    let Some(redis) = start_redis("inline") else {
        eprintln!("redis-server not installed; skipping");
        return;
    };
    let alphabet = b"ab \t\"'\\xF1\r\x0b";
    let mut x: u64 = 0x1234_5678_9abc_def1;
    for _ in 0..2000 {
        let mut line = b"ECHO ".to_vec();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 1 + (x % 12) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            line.push(alphabet[(x >> 16) as usize % alphabet.len()]);
        }
        line.extend_from_slice(b"\r\n");
        let expected = expected_echo_reply(&line);
        let mut s = UnixStream::connect(&redis.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        // One write: after a protocol error Redis closes, and a second write could fail.
        let mut request = line.clone();
        request.extend_from_slice(b"PING\r\n");
        let _ = s.write_all(&request);
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        while !got.ends_with(b"+PONG\r\n") {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "line {:?}",
            String::from_utf8_lossy(&line)
        );
    }
}

#[test]
fn multibulk_protocol_errors_match_real_redis_text() {
    let Some(redis) = start_redis("multibulk") else {
        eprintln!("redis-server not installed; skipping");
        return;
    };
    let cases: &[&[u8]] = &[
        b"*1\r\n$-1\r\n",
        b"*3000000000\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"*-0\r\n",
        b"*1\r\n\r\n",
        b"*1\r\n\x01\r\n",
        b"*1\r\n\xff\r\n",
        b"*1\r\n\n\r\n",
        b"*1\r\n$04\r\n",
        b"*1\r\n$536870913\r\n",
        b"*2\r\n$4\r\nECHO\r\n:1\r\n",
        b"ECHO \"a\"b\r\n",
    ];
    for &case in cases {
        let mut buf = BytesMut::from(case);
        let err = RequestParser::new()
            .parse(&mut buf, &Limits::default(), &mut Vec::new())
            .expect_err("case must be an error");
        let mut expected = b"-ERR ".to_vec();
        expected.extend_from_slice(&err.message_bytes());
        expected.extend_from_slice(b"\r\n");
        let mut s = UnixStream::connect(&redis.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = s.write_all(case);
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        assert_eq!(got, expected, "case {:?}", String::from_utf8_lossy(case));
    }
}
