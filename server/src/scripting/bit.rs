//! The `bit` library scripts may use (LuaBitOp's API): 32-bit operations
//! on Lua numbers, results as signed 32-bit integers.

use mlua::{Lua, Table, Variadic};

/// Converts a Lua number to int32 the way LuaBitOp does: modulo 2^32.
fn tobit(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    let m = x.round_ties_even() % 4_294_967_296.0;
    (m as i64) as u32 as i32
}

fn fold(args: &Variadic<f64>, init: i32, f: fn(i32, i32) -> i32) -> f64 {
    args.iter().fold(init, |acc, &v| f(acc, tobit(v))) as f64
}

pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "tobit",
        lua.create_function(|_, x: f64| Ok(tobit(x) as f64))?,
    )?;
    t.set(
        "bnot",
        lua.create_function(|_, x: f64| Ok(!tobit(x) as f64))?,
    )?;
    t.set(
        "band",
        lua.create_function(|_, a: Variadic<f64>| Ok(fold(&a, -1, |x, y| x & y)))?,
    )?;
    t.set(
        "bor",
        lua.create_function(|_, a: Variadic<f64>| Ok(fold(&a, 0, |x, y| x | y)))?,
    )?;
    t.set(
        "bxor",
        lua.create_function(|_, a: Variadic<f64>| Ok(fold(&a, 0, |x, y| x ^ y)))?,
    )?;
    type Shift = fn(i32, u32) -> i32;
    let shifts: [(&str, Shift); 5] = [
        ("lshift", |x, n| ((x as u32) << n) as i32),
        ("rshift", |x, n| ((x as u32) >> n) as i32),
        ("arshift", |x, n| x >> n),
        ("rol", |x, n| (x as u32).rotate_left(n) as i32),
        ("ror", |x, n| (x as u32).rotate_right(n) as i32),
    ];
    for (name, f) in shifts {
        t.set(
            name,
            lua.create_function(move |_, (x, n): (f64, f64)| {
                Ok(f(tobit(x), (tobit(n) & 31) as u32) as f64)
            })?,
        )?;
    }
    t.set(
        "bswap",
        lua.create_function(|_, x: f64| Ok(tobit(x).swap_bytes() as f64))?,
    )?;
    t.set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| {
            let n = n.map(tobit).unwrap_or(8);
            let upper = n < 0;
            let digits = (n.unsigned_abs()).clamp(1, 8) as usize;
            let v = tobit(x) as u32;
            let s = if upper {
                format!("{v:08X}")
            } else {
                format!("{v:08x}")
            };
            Ok(s[8 - digits..].to_string())
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::tobit;

    #[test]
    fn numbers_wrap_to_int32() {
        assert_eq!(tobit(4294967301.0), 5);
        assert_eq!(tobit(2147483648.0), -2147483648);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(f64::NAN), 0);
    }
}
