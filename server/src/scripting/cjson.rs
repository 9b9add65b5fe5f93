//! The `cjson` library scripts may use: `cjson.encode`, `cjson.decode` and
//! `cjson.null`, following lua-cjson 2.1's output (numbers as `%.14g`, `/`
//! escaped, sparse-array rules) and its error texts.

use mlua::{LightUserData, Lua, Table, Value};

use super::numfmt::fmt_g;

const MAX_DEPTH: usize = 1000;
/// lua-cjson's default sparse-array rule: ratio 2, always safe up to 10.
const SPARSE_RATIO: usize = 2;
const SPARSE_SAFE: usize = 10;

pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            match encode(&v, &mut out, 0) {
                Ok(()) => lua.create_string(&out),
                Err(e) => Err(mlua::Error::RuntimeError(format!(
                    "{}{e}",
                    super::sandbox::lua_where(lua)
                ))),
            }
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut p = Parser {
                lua,
                s: &bytes,
                pos: 0,
            };
            p.document().map_err(|e| {
                mlua::Error::RuntimeError(format!("{}{e}", super::sandbox::lua_where(lua)))
            })
        })?,
    )?;
    t.set(
        "null",
        Value::LightUserData(LightUserData(std::ptr::null_mut())),
    )?;
    Ok(t)
}

fn encode(v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(fmt_g(*n as f64, 14).as_bytes()),
        Value::Number(n) => {
            if !n.is_finite() {
                return Err("Cannot serialise number: must not be NaN or Inf".into());
            }
            out.extend_from_slice(fmt_g(*n, 14).as_bytes());
        }
        Value::String(s) => escape(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth + 1 > MAX_DEPTH {
                return Err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            encode_table(t, out, depth + 1)?;
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

/// The array length lua-cjson sees: Some(max index) when every key is a
/// positive integer, None for an object.
fn array_len(t: &Table) -> Result<Option<usize>, String> {
    let mut max = 0usize;
    let mut items = 0usize;
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        let idx = match k {
            Value::Integer(i) if i >= 1 => i as usize,
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 && n < 1e15 => n as usize,
            _ => return Ok(None),
        };
        max = max.max(idx);
        items += 1;
    }
    if max > SPARSE_SAFE && max > items.saturating_mul(SPARSE_RATIO) {
        return Err("Cannot serialise table: excessively sparse array".into());
    }
    Ok(Some(max))
}

fn encode_table(t: &Table, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match array_len(t)? {
        Some(len) if len > 0 => {
            out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    out.push(b',');
                }
                let v: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                encode(&v, out, depth)?;
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            let mut first = true;
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                if !first {
                    out.push(b',');
                }
                first = false;
                match &k {
                    Value::String(s) => escape(&s.as_bytes(), out),
                    Value::Integer(n) => {
                        escape(fmt_g(*n as f64, 14).as_bytes(), out);
                    }
                    Value::Number(n) => escape(fmt_g(*n, 14).as_bytes(), out),
                    _ => {
                        return Err(
                            "Cannot serialise table: table key must be a number or string".into(),
                        )
                    }
                }
                out.push(b':');
                encode(&v, out, depth)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn escape(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => {
                out.extend_from_slice(format!("\\u{:04x}", c).as_bytes());
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// A token of the JSON text, with lua-cjson's names for error messages.
#[derive(Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str(_) => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn document(&mut self) -> Result<Value, String> {
        let (tok, at) = self.next();
        let v = self.value(tok, at, 0)?;
        let (tok, at) = self.next();
        if !matches!(tok, Tok::End) {
            return Err(expected("the end", &tok, at));
        }
        Ok(v)
    }

    /// Next token and the 0-based index where it starts.
    fn next(&mut self) -> (Tok, usize) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let at = self.pos;
        let Some(&c) = self.s.get(self.pos) else {
            return (Tok::End, at);
        };
        let single = match c {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b':' => Some(Tok::Colon),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return (t, at);
        }
        if c == b'"' {
            return (self.string(), at);
        }
        if c == b'-' || c.is_ascii_digit() {
            let start = self.pos;
            while self.pos < self.s.len()
                && matches!(
                    self.s[self.pos],
                    b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                )
            {
                self.pos += 1;
            }
            let n = std::str::from_utf8(&self.s[start..self.pos])
                .ok()
                .and_then(|t| t.parse::<f64>().ok());
            return match n {
                Some(n) => (Tok::Num(n), at),
                None => (Tok::Error("invalid number"), at),
            };
        }
        for (word, tok) in [
            (&b"true"[..], Tok::Bool(true)),
            (b"false", Tok::Bool(false)),
            (b"null", Tok::Null),
        ] {
            if self.s[self.pos..].starts_with(word) {
                self.pos += word.len();
                return (tok, at);
            }
        }
        (Tok::Error("invalid token"), at)
    }

    fn string(&mut self) -> Tok {
        let mut out = Vec::new();
        self.pos += 1;
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Tok::Error("unexpected end of string");
            };
            self.pos += 1;
            match c {
                b'"' => return Tok::Str(out),
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Tok::Error("unexpected end of string");
                    };
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => match self.unicode_escape() {
                            Some(ch) => {
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            }
                            None => return Tok::Error("invalid unicode escape code"),
                        },
                        _ => return Tok::Error("invalid escape code"),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.s.get(self.pos..self.pos + 2)? != b"\\u" {
                return None;
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            return char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
        }
        char::from_u32(hi)
    }

    fn value(&mut self, tok: Tok, at: usize, depth: usize) -> Result<Value, String> {
        let lua_err = |e: mlua::Error| e.to_string();
        match tok {
            Tok::Str(s) => Ok(Value::String(self.lua.create_string(&s).map_err(lua_err)?)),
            Tok::Num(n) => Ok(Value::Number(n)),
            Tok::Bool(b) => Ok(Value::Boolean(b)),
            Tok::Null => Ok(Value::LightUserData(LightUserData(std::ptr::null_mut()))),
            Tok::ObjBegin | Tok::ArrBegin if depth + 1 > MAX_DEPTH => Err(format!(
                "Found too many nested data structures ({}) at character {}",
                depth + 1,
                at + 1
            )),
            Tok::ObjBegin => {
                let t = self.lua.create_table().map_err(lua_err)?;
                let (mut tok, mut at) = self.next();
                if matches!(tok, Tok::ObjEnd) {
                    return Ok(Value::Table(t));
                }
                loop {
                    let Tok::Str(key) = tok else {
                        return Err(expected("object key string", &tok, at));
                    };
                    let (colon, cat) = self.next();
                    if !matches!(colon, Tok::Colon) {
                        return Err(expected("colon", &colon, cat));
                    }
                    let (vt, vat) = self.next();
                    let v = self.value(vt, vat, depth + 1)?;
                    let k = self.lua.create_string(&key).map_err(lua_err)?;
                    t.raw_set(k, v).map_err(lua_err)?;
                    let (sep, sat) = self.next();
                    match sep {
                        Tok::ObjEnd => return Ok(Value::Table(t)),
                        Tok::Comma => {}
                        other => return Err(expected("comma or object end", &other, sat)),
                    }
                    (tok, at) = self.next();
                }
            }
            Tok::ArrBegin => {
                let t = self.lua.create_table().map_err(lua_err)?;
                let (mut tok, mut at) = self.next();
                if matches!(tok, Tok::ArrEnd) {
                    return Ok(Value::Table(t));
                }
                let mut i = 1i64;
                loop {
                    let v = self.value(tok, at, depth + 1)?;
                    t.raw_set(i, v).map_err(lua_err)?;
                    i += 1;
                    let (sep, sat) = self.next();
                    match sep {
                        Tok::ArrEnd => return Ok(Value::Table(t)),
                        Tok::Comma => {}
                        other => return Err(expected("comma or array end", &other, sat)),
                    }
                    (tok, at) = self.next();
                }
            }
            other => Err(expected("value", &other, at)),
        }
    }
}

fn expected(what: &str, found: &Tok, at: usize) -> String {
    format!(
        "Expected {what} but found {} at character {}",
        found.name(),
        at + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(lua: &Lua, code: &str) -> Result<String, String> {
        let v: Value = lua.load(code).eval().map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        encode(&v, &mut out, 0)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn encodes_like_lua_cjson() {
        let lua = Lua::new();
        assert_eq!(enc(&lua, "{1,2,{a=1}}").as_deref(), Ok(r#"[1,2,{"a":1}]"#));
        assert_eq!(
            enc(&lua, "{[1]=1,[5]=2}").as_deref(),
            Ok("[1,null,null,null,2]")
        );
        assert_eq!(enc(&lua, "'x\\n/'").as_deref(), Ok(r#""x\n\/""#));
        assert_eq!(enc(&lua, "0.1").as_deref(), Ok("0.1"));
        assert_eq!(enc(&lua, "1e100").as_deref(), Ok("1e+100"));
        assert_eq!(
            enc(&lua, "123456789012345678").as_deref(),
            Ok("1.2345678901235e+17")
        );
        assert_eq!(enc(&lua, "{}").as_deref(), Ok("{}"));
        assert_eq!(
            enc(&lua, "{[1]=1,[15]=2}"),
            Err("Cannot serialise table: excessively sparse array".into())
        );
        assert_eq!(
            enc(&lua, "function() end"),
            Err("Cannot serialise function: type not supported".into())
        );
    }

    #[test]
    fn decode_errors_name_the_token_and_position() {
        let lua = Lua::new();
        let dec = |s: &str| {
            let mut p = Parser {
                lua: &lua,
                s: s.as_bytes(),
                pos: 0,
            };
            p.document().map(|_| ())
        };
        assert_eq!(
            dec("{bad"),
            Err("Expected object key string but found invalid token at character 2".into())
        );
        assert_eq!(
            dec("[1,2"),
            Err("Expected comma or array end but found T_END at character 5".into())
        );
        assert!(dec(r#"{"a":[1,2,{"b":null}],"c":"\u00e9"}"#).is_ok());
    }
}
