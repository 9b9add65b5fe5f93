//! Conversions between replies and Lua values, with Redis's rules:
//! command replies become Lua values according to the script's protocol
//! (redis.setresp), and a script's return value becomes a reply according
//! to the script's protocol and the caller's.

use bytes::BytesMut;
use handoff_protocol::encode;
use handoff_protocol::frame::Frame;
use mlua::{Lua, Table, Value};

/// Deepest table nesting converted into a reply.
const MAX_DEPTH: usize = 1000;

/// A command's reply as the Lua value `redis.call` returns.
pub fn frame_to_lua(lua: &Lua, f: &Frame) -> mlua::Result<Value> {
    Ok(match f {
        Frame::Simple(s) => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(s)?)?;
            Value::Table(t)
        }
        Frame::Error(s) | Frame::BlobError(s) => {
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(s)?)?;
            Value::Table(t)
        }
        Frame::Integer(n) => Value::Number(*n as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(b)?),
        Frame::NullBulk | Frame::NullArray => Value::Boolean(false),
        Frame::Null => Value::Nil,
        Frame::Array(items) | Frame::Push(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
        Frame::Map(pairs) => {
            let inner = lua.create_table()?;
            for (k, v) in pairs {
                inner.raw_set(frame_to_lua(lua, k)?, frame_to_lua(lua, v)?)?;
            }
            wrap(lua, "map", Value::Table(inner))?
        }
        Frame::Set(items) => {
            let inner = lua.create_table()?;
            for item in items {
                inner.raw_set(frame_to_lua(lua, item)?, true)?;
            }
            wrap(lua, "set", Value::Table(inner))?
        }
        Frame::Double(text) => {
            let d = std::str::from_utf8(text)
                .ok()
                .and_then(|s| match s {
                    "inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    "nan" => Some(f64::NAN),
                    s => s.parse().ok(),
                })
                .unwrap_or(0.0);
            wrap(lua, "double", Value::Number(d))?
        }
        Frame::Boolean(b) => Value::Boolean(*b),
        Frame::BigNumber(s) => wrap(lua, "big_number", Value::String(lua.create_string(s)?))?,
        Frame::Verbatim { format, text } => {
            let inner = lua.create_table()?;
            inner.raw_set("format", lua.create_string(format)?)?;
            inner.raw_set("string", lua.create_string(text)?)?;
            wrap(lua, "verbatim_string", Value::Table(inner))?
        }
        Frame::Attribute(_) => Value::Nil,
    })
}

fn wrap(lua: &Lua, key: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(key, v)?;
    Ok(Value::Table(t))
}

/// Protocols in play when a script's value becomes a reply.
#[derive(Clone, Copy)]
pub struct ReplyProto {
    /// The script's redis.setresp (2 or 3): decides how booleans convert.
    pub script_resp: u8,
    /// The calling client speaks RESP3.
    pub client_resp3: bool,
}

/// Writes the reply for a script's return value.
pub fn lua_to_reply(v: &Value, p: ReplyProto, out: &mut BytesMut) {
    write_value(v, p, out, 0);
}

fn null(p: ReplyProto, out: &mut BytesMut) {
    encode::null_bulk(out, p.client_resp3);
}

/// Lua numbers become integers by truncation; values C cannot represent
/// (NaN, out of range) become i64::MIN as the C cast does on x86.
pub fn lua_number_to_i64(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// Status and error texts cannot carry CR or LF.
fn single_line(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

fn write_value(v: &Value, p: ReplyProto, out: &mut BytesMut, depth: usize) {
    match v {
        Value::String(s) => encode::bulk(out, &s.as_bytes()),
        Value::Boolean(b) => {
            if p.script_resp == 2 {
                if *b {
                    encode::integer(out, 1);
                } else {
                    null(p, out);
                }
            } else if p.client_resp3 {
                encode::boolean(out, *b);
            } else {
                encode::integer(out, *b as i64);
            }
        }
        Value::Integer(n) => encode::integer(out, *n),
        Value::Number(n) => encode::integer(out, lua_number_to_i64(*n)),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                encode::error(out, b"ERR reached lua stack limit");
                return;
            }
            write_table(t, p, out, depth + 1);
        }
        _ => null(p, out),
    }
}

fn write_table(t: &Table, p: ReplyProto, out: &mut BytesMut, depth: usize) {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        encode::error(out, &single_line(&e.as_bytes()));
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        encode::simple(out, &single_line(&s.as_bytes()));
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return double(d, p, out),
        Ok(Value::Integer(d)) => return double(d as f64, p, out),
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        let digits = single_line(&s.as_bytes());
        if p.client_resp3 {
            encode::big_number(out, &digits);
        } else {
            encode::bulk(out, &digits);
        }
        return;
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().filter_map(Result::ok).collect();
        if p.client_resp3 {
            encode::map_header(out, pairs.len());
        } else {
            encode::array_header(out, pairs.len() * 2);
        }
        for (k, v) in &pairs {
            write_value(k, p, out, depth);
            write_value(v, p, out, depth);
        }
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| k)
            .collect();
        if p.client_resp3 {
            encode::set_header(out, keys.len());
        } else {
            encode::array_header(out, keys.len());
        }
        for k in &keys {
            write_value(k, p, out, depth);
        }
        return;
    }
    if let Ok(Value::Table(vt)) = t.raw_get::<Value>("verbatim_string") {
        let format = vt.raw_get::<Value>("format");
        let text = vt.raw_get::<Value>("string");
        if let (Ok(Value::String(f)), Ok(Value::String(s))) = (format, text) {
            let f = f.as_bytes();
            if p.client_resp3 && f.len() == 3 {
                let fmt = [f[0], f[1], f[2]];
                encode::verbatim(out, &fmt, &s.as_bytes());
            } else {
                encode::bulk(out, &s.as_bytes());
            }
            return;
        }
    }
    // An array: elements 1, 2, ... up to the first nil.
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    encode::array_header(out, items.len());
    for v in &items {
        write_value(v, p, out, depth);
    }
}

fn double(d: f64, p: ReplyProto, out: &mut BytesMut) {
    if p.client_resp3 {
        encode::double(out, d);
    } else {
        encode::bulk(out, encode::format_double_like_redis(d).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: &str, script_resp: u8, client_resp3: bool) -> Vec<u8> {
        let lua = Lua::new();
        let v: Value = lua.load(code).eval().expect("valid test code");
        let mut out = BytesMut::new();
        lua_to_reply(
            &v,
            ReplyProto {
                script_resp,
                client_resp3,
            },
            &mut out,
        );
        out.to_vec()
    }

    #[test]
    fn script_values_become_redis_replies() {
        assert_eq!(reply("3.99", 2, false), b":3\r\n");
        assert_eq!(reply("-3.99", 2, false), b":-3\r\n");
        assert_eq!(reply("1e100", 2, false), b":-9223372036854775808\r\n");
        assert_eq!(reply("false", 2, false), b"$-1\r\n");
        assert_eq!(reply("false", 2, true), b"_\r\n");
        assert_eq!(reply("false", 3, true), b"#f\r\n");
        assert_eq!(reply("false", 3, false), b":0\r\n");
        assert_eq!(reply("{1,nil,3}", 2, false), b"*1\r\n:1\r\n");
        assert_eq!(reply("{err='x\\r\\ny'}", 2, false), b"-x  y\r\n");
        assert_eq!(reply("{double=3.5}", 2, false), b"$3\r\n3.5\r\n");
        assert_eq!(reply("{double=3.5}", 2, true), b",3.5\r\n");
        assert_eq!(reply("{map={a=1}}", 2, true), b"%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(
            reply("{verbatim_string={format='txt',string='hi'}}", 2, true),
            b"=6\r\ntxt:hi\r\n"
        );
    }
}
