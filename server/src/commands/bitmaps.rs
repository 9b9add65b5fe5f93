//! Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP
//! BITFIELD BITFIELD_RO, with Redis 7.2's replies, error texts and the order
//! in which it detects errors (BITCOUNT and BITPOS look the key up before
//! parsing their range, so a missing key answers 0 / -1 even for bad ranges).
//!
//! Bits are numbered from the most significant bit of the first byte.
//! Writes grow the string with zero bytes and leave it `raw` encoded.
//! The pure bit helpers at the end have unit tests; the handlers only parse,
//! look up and reply.

use bytes::Bytes;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use super::strings::{lookup_write, string_mut, string_ref};
use crate::errors;
use crate::keyspace::value::{itoa_buf, parse_canonical_i64};
use crate::keyspace::{RStr, Value};
use crate::pubsub::class;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, "write denyoom", "@write @bitmap @slow", keys(1, 1, 1), setbit)
        .doc("bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "O(1)"),
    CommandSpec::new("getbit", 3, "readonly fast", "@read @bitmap @fast", keys(1, 1, 1), getbit)
        .doc("bitmap", "2.2.0", "Returns a bit value by offset.", "O(1)"),
    CommandSpec::new("bitcount", -2, "readonly", "@read @bitmap @slow", keys(1, 1, 1), bitcount)
        .doc("bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string.", "O(N)"),
    CommandSpec::new("bitpos", -3, "readonly", "@read @bitmap @slow", keys(1, 1, 1), bitpos)
        .doc("bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string.", "O(N)"),
    CommandSpec::new("bitop", -4, "write denyoom", "@write @bitmap @slow", keys(2, -1, 1), bitop)
        .doc("bitmap", "2.6.0", "Performs bitwise operations on multiple strings, and stores the result.", "O(N)"),
    CommandSpec::new("bitfield", -2, "write denyoom", "@write @bitmap @slow", keys(1, 1, 1), bitfield)
        .doc("bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings.", "O(1) for each subcommand specified"),
    CommandSpec::new("bitfield_ro", -2, "readonly fast", "@read @bitmap @fast", keys(1, 1, 1), bitfield_ro)
        .doc("bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings.", "O(1) for each subcommand specified"),
];

const BIT_ARG: &str = "ERR The bit argument must be 1 or 0.";
const BITOP_NOT_ONE_KEY: &str = "ERR BITOP NOT must be called with a single source key.";
const BITFIELD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
const BITFIELD_RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// Parses a bit offset (`#n` means n * `hash_bits` when given), limited to
/// proto-max-bulk-len bytes, as Redis's getBitOffsetFromArgument.
fn parse_bit_offset(arg: &[u8], hash_bits: Option<u32>, max_bytes: u64) -> Result<u64, CmdError> {
    let err = || CmdError::from(errors::BIT_OFFSET);
    let (digits, mult) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) if bits > 0 => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let v = parse_canonical_i64(digits)
        .ok_or_else(err)?
        .checked_mul(mult)
        .ok_or_else(err)?;
    if v < 0 || (v as u64 >> 3) >= max_bytes {
        return Err(err());
    }
    Ok(v as u64)
}

/// Finds `key` for a bit write: creates it, or grows it with zero bytes, so
/// that bit `max_bit` exists; the string becomes raw. Returns the bytes and
/// whether the string was created or grown.
fn string_for_bit_write<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
    max_bit: u64,
) -> Result<(&'a mut Vec<u8>, bool), CmdError> {
    let db = ctx.db();
    let now = ctx.now_ms;
    let need = (max_bit >> 3) as usize + 1;
    let no_touch = ctx.client.no_touch;
    let ks = &mut ctx.srv.keyspace;
    let created = if lookup_write(ks, db, key, now, no_touch).is_none() {
        ks.set(db, key, Value::Str(RStr::Raw(vec![0; need].into())));
        true
    } else {
        false
    };
    let e = lookup_write(ks, db, key, now, no_touch).ok_or(CmdError::from(errors::NO_SUCH_KEY))?;
    let raw = string_mut(&mut e.value)?.make_raw();
    let grown = raw.len() < need;
    if grown {
        raw.resize(need, 0);
    }
    Ok((raw, created || grown))
}

/// Effect: `SETBIT key offset value` when the bit changed or the string was
/// created or grown; nothing otherwise (Redis does not count it as a change).
fn setbit(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let offset = parse_bit_offset(&args[2], None, ctx.srv.config.proto_max_bulk_len)?;
    let on = match parse_i64(&args[3]) {
        Ok(v @ (0 | 1)) => v == 1,
        _ => return Err(errors::BIT_VALUE.into()),
    };
    let (raw, dirty) = string_for_bit_write(ctx, &args[1], offset)?;
    let old = get_bit(raw, offset);
    let changed = dirty || old != on;
    if changed {
        set_bit(raw, offset, on);
        ctx.srv.keyspace.dirty += 1;
        ctx.notify(class::STRING, "setbit", &args[1]);
    }
    ctx.int(old as i64);
    Ok(())
}

fn getbit(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let offset = parse_bit_offset(&args[2], None, ctx.srv.config.proto_max_bulk_len)?;
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let bit = match ctx
        .srv
        .keyspace
        .lookup_read(db, &args[1], ctx.now_ms, no_touch)
    {
        None => false,
        Some(e) => {
            let mut scratch = itoa_buf::Buf::new();
            get_bit(string_ref(&e.value)?.as_bytes(&mut scratch), offset)
        }
    };
    ctx.int(bit as i64);
    Ok(())
}

/// Parses BYTE | BIT.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(errors::SYNTAX.into())
    }
}

/// Redis's index normalisation for BITCOUNT / BITPOS over `total` units:
/// negative indexes count from the end, then both are clamped into range.
/// Returns None when the range is empty.
fn normalise(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let start = if start < 0 {
        (total + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { (total + end).max(0) } else { end };
    let end = end.min(total - 1);
    if start > end {
        return None;
    }
    Some((start as u64, end as u64))
}

fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let Some(e) = ctx
        .srv
        .keyspace
        .lookup_read(db, &args[1], ctx.now_ms, no_touch)
    else {
        ctx.int(0);
        return Ok(());
    };
    let mut scratch = itoa_buf::Buf::new();
    let s = string_ref(&e.value)?.as_bytes(&mut scratch);
    let count = match args.len() {
        2 => popcount(s),
        4 | 5 => {
            let start = parse_i64(&args[2])?;
            let end = parse_i64(&args[3])?;
            let bit_unit = match args.get(4) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            if start < 0 && end < 0 && start > end {
                0
            } else {
                let total = s.len() as i64 * if bit_unit { 8 } else { 1 };
                match normalise(start, end, total) {
                    None => 0,
                    Some((a, b)) if bit_unit => count_bits(s, a, b),
                    Some((a, b)) => popcount(&s[a as usize..=b as usize]),
                }
            }
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    handoff_protocol::encode::integer(&mut ctx.client.out, count as i64);
    Ok(())
}

fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let bit = match parse_i64(&args[2])? {
        b @ (0 | 1) => b == 1,
        _ => return Err(BIT_ARG.into()),
    };
    let db = ctx.db();
    let no_touch = ctx.client.no_touch;
    let Some(e) = ctx
        .srv
        .keyspace
        .lookup_read(db, &args[1], ctx.now_ms, no_touch)
    else {
        // A missing key is an endless run of zeros.
        ctx.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let mut scratch = itoa_buf::Buf::new();
    let s = string_ref(&e.value)?.as_bytes(&mut scratch);
    let len = s.len() as i64;
    let (range, end_given) = match args.len() {
        3 => (
            normalise(0, len - 1, len).map(|(a, b)| (a * 8, b * 8 + 7)),
            false,
        ),
        4..=6 => {
            let start = parse_i64(&args[3])?;
            let bit_unit = match args.get(5) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(a) => parse_i64(a)?,
                None => len - 1,
            };
            let total = if bit_unit { len * 8 } else { len };
            let range = normalise(start, end, total);
            let range = if bit_unit {
                range
            } else {
                range.map(|(a, b)| (a * 8, b * 8 + 7))
            };
            (range, args.len() >= 5)
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match find_bit(s, first, last, bit) {
            Some(p) => p as i64,
            // Without an explicit end the string is seen as padded with zeros.
            None if !bit && !end_given => last as i64 + 1,
            None => -1,
        },
    };
    handoff_protocol::encode::integer(&mut ctx.client.out, pos);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Effect: `SET dest <result>` (TTL cleared), or `DEL dest` when every source
/// is empty or missing (and dest existed).
fn bitop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let op = match &args[1][..] {
        o if is(o, "and") => BitOp::And,
        o if is(o, "or") => BitOp::Or,
        o if is(o, "xor") => BitOp::Xor,
        o if is(o, "not") => BitOp::Not,
        _ => return Err(errors::SYNTAX.into()),
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(BITOP_NOT_ONE_KEY.into());
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let no_touch = ctx.client.no_touch;
    let mut sources: Vec<Vec<u8>> = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        match ctx.srv.keyspace.lookup_read(db, key, now, no_touch) {
            None => sources.push(Vec::new()),
            Some(e) => sources.push(string_ref(&e.value)?.to_vec()),
        }
    }
    let result = bit_operation(op, &sources);
    let ks = &mut ctx.srv.keyspace;
    let dest = &args[2];
    let len = result.len();
    if len > 0 {
        ks.store(db, dest, Value::Str(RStr::Raw(result.into())), now);
        ks.dirty += 1;
        ctx.notify(class::STRING, "set", dest);
    } else if ks.delete(db, dest, now) {
        ks.dirty += 1;
        ctx.notify(class::GENERIC, "del", dest);
    }
    ctx.int(len as i64);
    Ok(())
}

/// The result of BITOP over `sources` (shorter ones are zero padded); empty
/// when every source is empty.
fn bit_operation(op: BitOp, sources: &[Vec<u8>]) -> Vec<u8> {
    let maxlen = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    if maxlen == 0 {
        return Vec::new();
    }
    let byte = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);
    let mut out = match sources.first() {
        Some(first) => (0..maxlen).map(|i| byte(first, i)).collect::<Vec<u8>>(),
        None => return Vec::new(),
    };
    if op == BitOp::Not {
        out.iter_mut().for_each(|b| *b = !*b);
        return out;
    }
    for src in &sources[1..] {
        for (i, o) in out.iter_mut().enumerate() {
            let b = byte(src, i);
            match op {
                BitOp::And => *o &= b,
                BitOp::Or => *o |= b,
                BitOp::Xor => *o ^= b,
                BitOp::Not => {}
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// BITFIELD.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// Parses `i<bits>` (1..=64) or `u<bits>` (1..=63).
fn parse_field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || CmdError::from(BITFIELD_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let bits = parse_canonical_i64(&arg[1..]).ok_or_else(err)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

/// Parses the subcommands of BITFIELD from argument 2 on; returns the fields
/// and the highest bit a SET or INCRBY touches (None when read-only).
fn parse_fields(args: &[Bytes], max_bytes: u64) -> Result<(Vec<Field>, Option<u64>), CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = &args[j][..];
        let is_get = is(sub, "get") && remaining >= 2;
        let is_set = is(sub, "set") && remaining >= 3;
        let is_incr = is(sub, "incrby") && remaining >= 3;
        if is(sub, "overflow") && remaining >= 1 {
            let kind = &args[j + 1][..];
            overflow = if is(kind, "wrap") {
                Overflow::Wrap
            } else if is(kind, "sat") {
                Overflow::Sat
            } else if is(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(BITFIELD_OVERFLOW.into());
            };
            j += 2;
            continue;
        }
        if !(is_get || is_set || is_incr) {
            return Err(errors::SYNTAX.into());
        }
        let (signed, bits) = parse_field_type(&args[j + 1])?;
        let offset = parse_bit_offset(&args[j + 2], Some(bits), max_bytes)?;
        let op = if is_get {
            FieldOp::Get
        } else {
            let last = offset + bits as u64 - 1;
            highest = Some(highest.map_or(last, |h| h.max(last)));
            let v = parse_i64(&args[j + 3])?;
            if is_set {
                FieldOp::Set(v)
            } else {
                FieldOp::IncrBy(v)
            }
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if is_get { 3 } else { 4 };
    }
    Ok((fields, highest))
}

fn bitfield(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, true)
}

/// Effect: when some field changed (or the string was created or grown), the
/// key's new value; replicated as the BITFIELD command itself. With only
/// FAIL-ed writes the key may still be created, zero filled, as in Redis.
fn bitfield_generic(ctx: &mut Ctx, read_only_cmd: bool) -> CmdResult {
    let args = ctx.args;
    let (fields, highest) = parse_fields(args, ctx.srv.config.proto_max_bulk_len)?;
    let Some(highest) = highest else {
        let db = ctx.db();
        let no_touch = ctx.client.no_touch;
        let entry = ctx
            .srv
            .keyspace
            .lookup_read(db, &args[1], ctx.now_ms, no_touch);
        let mut scratch = itoa_buf::Buf::new();
        let s: &[u8] = match entry {
            Some(e) => string_ref(&e.value)?.as_bytes(&mut scratch),
            None => &[],
        };
        let out = &mut ctx.client.out;
        handoff_protocol::encode::array_header(out, fields.len());
        for f in &fields {
            handoff_protocol::encode::integer(out, read_field(s, f));
        }
        return Ok(());
    };
    if read_only_cmd {
        return Err(BITFIELD_RO_ONLY_GET.into());
    }
    let (raw, grown) = string_for_bit_write(ctx, &args[1], highest)?;
    let mut changes = 0u64;
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(fields.len());
    for f in &fields {
        let reply = match f.op {
            FieldOp::Get => Some(read_field(raw, f)),
            FieldOp::Set(v) | FieldOp::IncrBy(v) => {
                let incr = matches!(f.op, FieldOp::IncrBy(_));
                let old = get_bits(raw, f.offset, f.bits);
                let (reply, new) = if f.signed {
                    let old = sign_extend(old, f.bits);
                    let (value, by) = if incr { (old, v) } else { (v, 0) };
                    let ret_new = |n: i64| if incr { n } else { old };
                    match signed_overflow(value, by, f.bits, f.overflow) {
                        None => (
                            Some(ret_new(value.wrapping_add(by))),
                            Some(value.wrapping_add(by) as u64),
                        ),
                        Some(_) if f.overflow == Overflow::Fail => (None, None),
                        Some(lim) => (Some(ret_new(lim)), Some(lim as u64)),
                    }
                } else {
                    let (value, by) = if incr { (old, v) } else { (v as u64, 0) };
                    let ret_new = |n: u64| if incr { n as i64 } else { old as i64 };
                    match unsigned_overflow(value, by, f.bits, f.overflow) {
                        None => (
                            Some(ret_new(value.wrapping_add(by as u64))),
                            Some(value.wrapping_add(by as u64)),
                        ),
                        Some(_) if f.overflow == Overflow::Fail => (None, None),
                        Some(lim) => (Some(ret_new(lim)), Some(lim)),
                    }
                };
                if let Some(new) = new {
                    set_bits(raw, f.offset, f.bits, new);
                    if grown || get_bits_mask(new, f.bits) != old {
                        changes += 1;
                    }
                }
                reply
            }
        };
        replies.push(reply);
    }
    ctx.srv.keyspace.dirty += changes;
    if changes > 0 {
        ctx.notify(class::STRING, "setbit", &ctx.args[1]);
    }
    ctx.array(replies.len());
    for r in replies {
        match r {
            Some(v) => ctx.int(v),
            None => ctx.null(),
        }
    }
    Ok(())
}

/// The value of field `f` in `s` (zero past the end).
fn read_field(s: &[u8], f: &Field) -> i64 {
    let v = get_bits(s, f.offset, f.bits);
    if f.signed {
        sign_extend(v, f.bits)
    } else {
        v as i64
    }
}

// ---------------------------------------------------------------------------
// Bit helpers (no I/O, no keyspace).

fn get_bit(s: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    s.get(byte).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

fn set_bit(s: &mut [u8], offset: u64, on: bool) {
    if let Some(b) = s.get_mut((offset >> 3) as usize) {
        let mask = 0x80u8 >> (offset & 7);
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// `bits` bits from bit `offset`, most significant first; zero past the end.
fn get_bits(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        v = (v << 1) | get_bit(s, offset + i) as u64;
    }
    v
}

/// Stores the low `bits` bits of `value` at bit `offset`.
fn set_bits(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..bits as u64 {
        let on = (value >> (bits as u64 - 1 - i)) & 1 == 1;
        set_bit(s, offset + i, on);
    }
}

/// The low `bits` bits of `v` (what [`set_bits`] stores).
fn get_bits_mask(v: u64, bits: u32) -> u64 {
    if bits >= 64 {
        v
    } else {
        v & ((1u64 << bits) - 1)
    }
}

/// Two's complement value of a `bits`-wide field.
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Overflow check of `value + incr` for a signed `bits`-wide field. None when
/// it fits; otherwise the value to store (wrapped or saturated; unused for
/// FAIL). The comparisons reproduce Redis's, including its wrap-around
/// arithmetic for out-of-range SET values, so SAT picks the same side.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let high = value > max
        || (bits != 64 && incr > max_incr)
        || (value >= 0 && incr > 0 && incr > max_incr);
    let low = value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr);
    if !high && !low {
        return None;
    }
    Some(match ow {
        Overflow::Sat if high => max,
        Overflow::Sat => min,
        _ => {
            let sum = (value as u64).wrapping_add(incr as u64);
            sign_extend(get_bits_mask(sum, bits), bits)
        }
    })
}

/// Overflow check of `value + incr` for an unsigned `bits`-wide field
/// (`bits` <= 63), like [`signed_overflow`].
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max: u64 = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let high = value > max || (incr > 0 && incr > max_incr);
    let low = incr < 0 && incr < min_incr;
    if !high && !low {
        return None;
    }
    Some(match ow {
        Overflow::Sat if high => max,
        Overflow::Sat => 0,
        _ => get_bits_mask(value.wrapping_add(incr as u64), bits),
    })
}

fn popcount(s: &[u8]) -> u64 {
    s.iter().map(|b| b.count_ones() as u64).sum()
}

/// Set bits between bit `first` and bit `last`, inclusive.
fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n = popcount(&s[fb..=lb]);
    // Bits of the first byte before `first`, and of the last byte after `last`.
    let head = s[fb] & !(0xffu8 >> (first & 7));
    let tail = s[lb] & (0xffu16 >> ((last & 7) + 1)) as u8;
    n -= head.count_ones() as u64 + tail.count_ones() as u64;
    n
}

/// The first bit equal to `bit` between bits `first` and `last` (inclusive;
/// bits past the end of `s` are not searched).
fn find_bit(s: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let skip = if bit { 0x00 } else { 0xff };
    let mut pos = first;
    while pos <= last {
        let byte = *s.get((pos >> 3) as usize)?;
        if pos & 7 == 0 && pos + 7 <= last && byte == skip {
            pos += 8;
            continue;
        }
        if get_bit(s, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_fields_round_trip_at_odd_offsets() {
        let mut s = vec![0u8; 10];
        set_bits(&mut s, 5, 13, 0x1abc);
        assert_eq!(get_bits(&s, 5, 13), 0x1abc);
        set_bits(&mut s, 3, 64, u64::MAX - 5);
        assert_eq!(get_bits(&s, 3, 64), u64::MAX - 5);
        assert_eq!(sign_extend(0xff, 8), -1);
        assert_eq!(sign_extend(0x7f, 8), 127);
        assert_eq!(get_bits(b"a", 0, 8), 97);
        assert_eq!(get_bits(b"a", 4, 8), 0x10);
    }

    #[test]
    fn signed_overflow_wraps_saturates_and_keeps_redis_quirks() {
        assert_eq!(signed_overflow(100, 10, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Wrap), Some(-126));
        assert_eq!(signed_overflow(120, 10, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(-120, -10, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(
            signed_overflow(i64::MIN, -1, 64, Overflow::Sat),
            Some(i64::MIN)
        );
        assert_eq!(signed_overflow(0, 0, 64, Overflow::Sat), None);
        // SET i8 with i64::MIN saturates high in Redis (its maxincr wraps).
        assert_eq!(signed_overflow(i64::MIN, 0, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(-1000, 0, 8, Overflow::Sat), Some(-128));
    }

    #[test]
    fn unsigned_overflow_wraps_and_saturates() {
        assert_eq!(unsigned_overflow(250, 5, 8, Overflow::Wrap), None);
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Overflow::Wrap), Some(255));
    }

    #[test]
    fn bit_ranges_count_and_search() {
        let s = b"foobar";
        assert_eq!(popcount(s), 26);
        assert_eq!(count_bits(s, 5, 30), 17);
        assert_eq!(count_bits(s, 0, 47), 26);
        assert_eq!(count_bits(&[0xff], 3, 3), 1);
        assert_eq!(find_bit(&[0xff, 0xf0, 0x00], 0, 23, false), Some(12));
        assert_eq!(find_bit(&[0x00, 0x00, 0x01], 0, 23, true), Some(23));
        assert_eq!(find_bit(&[0x00, 0x00, 0x01], 0, 22, true), None);
        assert_eq!(find_bit(&[0xff], 2, 5, false), None);
    }

    #[test]
    fn offsets_parse_with_hash_multiplier_and_limit() {
        assert_eq!(parse_bit_offset(b"#3", Some(8), 1 << 20), Ok(24));
        assert_eq!(parse_bit_offset(b"17", Some(8), 1 << 20), Ok(17));
        assert!(parse_bit_offset(b"#3", None, 1 << 20).is_err());
        assert!(parse_bit_offset(b"-1", None, 1 << 20).is_err());
        assert!(parse_bit_offset(&b"8388608"[..], None, 1 << 20).is_err());
        assert_eq!(parse_bit_offset(b"8388607", None, 1 << 20), Ok(8388607));
        assert!(parse_bit_offset(b"#4611686018427387904", Some(4), 1 << 20).is_err());
    }

    #[test]
    fn bitop_pads_short_sources_with_zeros() {
        let srcs = vec![b"\xff\xff".to_vec(), b"\x0f".to_vec()];
        assert_eq!(bit_operation(BitOp::And, &srcs), vec![0x0f, 0x00]);
        assert_eq!(bit_operation(BitOp::Or, &srcs), vec![0xff, 0xff]);
        assert_eq!(bit_operation(BitOp::Xor, &srcs), vec![0xf0, 0xff]);
        assert_eq!(bit_operation(BitOp::Not, &srcs[1..]), vec![0xf0]);
        assert_eq!(
            bit_operation(BitOp::And, &[vec![], vec![]]),
            Vec::<u8>::new()
        );
    }
}
