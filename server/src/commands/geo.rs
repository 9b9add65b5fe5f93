//! Geo commands: GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE and
//! the legacy GEORADIUS GEORADIUSBYMEMBER GEORADIUS_RO GEORADIUSBYMEMBER_RO.
//!
//! A geo index is a plain sorted set whose scores are 52-bit geohashes
//! ([`crate::geohash`]), so ZSCORE/ZRANGE of a geo key equal Redis's. This
//! module parses, looks keys up, scans the nine cells covering a search
//! shape through the zset's public range methods, and replies with Redis
//! 7.2's texts and shapes: distances as `%.4f` bulks, coordinates as
//! Redis's "human" long doubles (`%.17Lf` without trailing zeros; bulks in
//! RESP2, doubles in RESP3), hashes as integers.
//!
//! Unsorted search results come in Redis's scan order (centre cell, then
//! N S E W NE NW SE SW, ascending score inside a cell); ASC/DESC sort by
//! distance with a stable sort, so only members at exactly equal distances
//! may be ordered differently from Redis's qsort.
//!
//! Each handler notes its "Effect:" on the keyspace for replication.

use bytes::BytesMut;
use handoff_protocol::encode;

use super::ctx::{is, parse_i64, CmdError, CmdResult, Ctx};
use super::spec::{keys, CommandSpec};
use super::zsets::{limits, parse_score};
use crate::errors;
use crate::geohash::{self, Shape, ShapeKind};
use crate::keyspace::{Keyspace, Value};
use crate::pubsub::class;
use crate::types::zset::{cmp_pair, AddFlags, AddOutcome, ZSet};

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, "write denyoom", "@write @geo @slow", keys(1, 1, 1), geoadd_notified)
        .doc("geo", "3.2.0", "Adds one or more members to a geospatial index. The key is created if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    CommandSpec::new("geodist", -4, "readonly", "@read @geo @slow", keys(1, 1, 1), geodist)
        .doc("geo", "3.2.0", "Returns the distance between two members of a geospatial index.", "O(log(N))"),
    CommandSpec::new("geohash", -2, "readonly", "@read @geo @slow", keys(1, 1, 1), geohash_cmd)
        .doc("geo", "3.2.0", "Returns members from a geospatial index as geohash strings.", "O(log(N)) for each member requested, where N is the number of elements in the sorted set."),
    CommandSpec::new("geopos", -2, "readonly", "@read @geo @slow", keys(1, 1, 1), geopos)
        .doc("geo", "3.2.0", "Returns the longitude and latitude of members from a geospatial index.", "O(N) where N is the number of members requested."),
    CommandSpec::new("georadius", -6, "write denyoom movablekeys", "@write @geo @slow", keys(1, 1, 1), georadius)
        .doc("geo", "3.2.0", "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.", RADIUS_COMPLEXITY),
    CommandSpec::new("georadius_ro", -6, "readonly", "@read @geo @slow", keys(1, 1, 1), georadius_ro)
        .doc("geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a coordinate.", RADIUS_COMPLEXITY),
    CommandSpec::new("georadiusbymember", -5, "write denyoom movablekeys", "@write @geo @slow", keys(1, 1, 1), georadiusbymember)
        .doc("geo", "3.2.0", "Queries a geospatial index for members within a distance from a member, optionally stores the result.", RADIUS_COMPLEXITY),
    CommandSpec::new("georadiusbymember_ro", -5, "readonly", "@read @geo @slow", keys(1, 1, 1), georadiusbymember_ro)
        .doc("geo", "3.2.10", "Returns members from a geospatial index that are within a distance from a member.", RADIUS_COMPLEXITY),
    CommandSpec::new("geosearch", -7, "readonly", "@read @geo @slow", keys(1, 1, 1), geosearch)
        .doc("geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle.", SEARCH_COMPLEXITY),
    CommandSpec::new("geosearchstore", -8, "write denyoom", "@write @geo @slow", keys(1, 2, 1), geosearchstore_notified)
        .doc("geo", "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.", SEARCH_COMPLEXITY),
];

const UNKNOWN_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const NO_MEMBER: &str = "ERR could not decode requested zset member";

// ---------------------------------------------------------------------------
// Helpers.

fn as_zset(v: &Value) -> Result<&ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(errors::WRONGTYPE.into()),
    }
}

/// Looks the zset at `args[i]` up for a read (counting a hit or miss once);
/// true when it exists, WRONGTYPE for another type.
fn lookup(ctx: &mut Ctx, i: usize) -> Result<bool, CmdError> {
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    match ctx.srv.keyspace.lookup_read(db, &ctx.args[i], now, nt) {
        Some(e) => as_zset(&e.value).map(|_| true),
        None => Ok(false),
    }
}

/// The zset at `key` after [`lookup`] found it (no statistics, no expiry).
fn peek<'a>(ks: &'a Keyspace, db: usize, key: &[u8]) -> Option<&'a ZSet> {
    match &ks.dbs.get(db)?.get_raw(key)?.value {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

/// A coordinate or distance argument as getDoubleFromObject reads it.
fn arg_f64(b: &[u8], err: &'static str) -> Result<f64, CmdError> {
    parse_score(b).ok_or_else(|| err.into())
}

/// `(long, lat)` from two arguments, checked against the index limits.
fn long_lat(long: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let x = arg_f64(long, errors::NOT_FLOAT)?;
    let y = arg_f64(lat, errors::NOT_FLOAT)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y)
    {
        return Err(format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}").into());
    }
    Ok((x, y))
}

/// Metres per unit (`m`, `km`, `ft`, `mi`, any case).
fn unit(b: &[u8]) -> Result<f64, CmdError> {
    if is(b, "m") {
        Ok(1.0)
    } else if is(b, "km") {
        Ok(1000.0)
    } else if is(b, "ft") {
        Ok(0.3048)
    } else if is(b, "mi") {
        Ok(1609.34)
    } else {
        Err(UNKNOWN_UNIT.into())
    }
}

/// `radius unit` -> (radius in units, metres per unit).
fn radius_arg(r: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let radius = arg_f64(r, "ERR need numeric radius")?;
    if radius < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((radius, unit(u)?))
}

/// `width height unit` -> (width, height, metres per unit).
fn box_arg(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let width = arg_f64(w, "ERR need numeric width")?;
    let height = arg_f64(h, "ERR need numeric height")?;
    if height < 0.0 || width < 0.0 {
        return Err("ERR height or width cannot be negative".into());
    }
    Ok((width, height, unit(u)?))
}

/// The position of `member`, when it is in the set.
fn member_pos(z: &ZSet, member: &[u8]) -> Option<(f64, f64)> {
    geohash::decode_score(z.score(member)?)
}

/// Redis's "human" long double text: `%.17Lf` with trailing zeros (and a
/// bare dot) removed, `-0` as `0`.
fn human_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// Writes a coordinate: a bulk in RESP2, a double in RESP3.
fn write_coord(out: &mut BytesMut, r3: bool, v: f64) {
    let s = human_double(v);
    if r3 {
        out.extend_from_slice(b",");
        out.extend_from_slice(s.as_bytes());
        out.extend_from_slice(b"\r\n");
    } else {
        encode::bulk(out, s.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// GEOADD

/// Effect: ZADD key [NX|XX] [CH] score member... with the computed scores.
fn geoadd(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut first = 2;
    while first < args.len() {
        let a = &args[first];
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        first += 1;
    }
    let rest = args.len() - first;
    if !rest.is_multiple_of(3) || (nx && xx) || rest == 0 {
        return Err(errors::SYNTAX.into());
    }
    let mut scores = Vec::with_capacity(rest / 3);
    for t in args[first..].chunks_exact(3) {
        let (x, y) = long_lat(&t[0], &t[1])?;
        let bits = geohash::score_of(x, y).unwrap_or(0);
        scores.push(bits as f64);
    }

    let lim = limits(ctx);
    let db = ctx.db();
    let now = ctx.now_ms;
    let nt = ctx.client.no_touch;
    let key = &args[1];
    let ks = &mut ctx.srv.keyspace;
    let exists = match super::strings::lookup_write(ks, db, key, now, nt) {
        Some(e) => {
            as_zset(&e.value)?;
            true
        }
        None => false,
    };
    let (mut added, mut updated) = (0i64, 0i64);
    if exists || !xx {
        if !exists {
            let max_len = args[first..]
                .chunks_exact(3)
                .map(|t| t[2].len())
                .max()
                .unwrap_or(0);
            ks.set(
                db,
                key,
                Value::ZSet(ZSet::with_hint(scores.len(), max_len, lim)),
            );
        }
        let Some(Value::ZSet(z)) = ks.dbs[db].get_raw_mut(key).map(|e| &mut e.value) else {
            return Err(errors::WRONGTYPE.into());
        };
        let f = AddFlags {
            nx,
            xx,
            ..Default::default()
        };
        for (t, &score) in args[first..].chunks_exact(3).zip(&scores) {
            match z.add(&t[2], score, f, lim) {
                AddOutcome::Added(_) => added += 1,
                AddOutcome::Updated(_) => updated += 1,
                _ => {}
            }
        }
        let empty = z.is_empty();
        ks.dirty += (added + updated) as u64;
        if empty {
            ks.delete(db, key, now);
        }
    }
    if ctx.replicating() {
        // As Redis 7.0 rewrites it before running ZADD: a lower-case `zadd`,
        // the options as given, each score as its integer geohash.
        let mut v = Vec::with_capacity(first + rest / 3 * 2);
        v.push(bytes::Bytes::from_static(b"zadd"));
        v.extend(args[1..first].iter().cloned());
        for (t, &score) in args[first..].chunks_exact(3).zip(&scores) {
            v.push(super::num_arg(score as i64));
            v.push(t[2].clone());
        }
        ctx.propagate_as(v);
    }
    ctx.int(if ch { added + updated } else { added });
    Ok(())
}

// ---------------------------------------------------------------------------
// GEODIST GEOHASH GEOPOS

fn geodist(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let to_meter = match args.len() {
        4 => 1.0,
        5 => unit(&args[4])?,
        _ => return Err(errors::SYNTAX.into()),
    };
    if !lookup(ctx, 1)? {
        ctx.null();
        return Ok(());
    }
    let db = ctx.db();
    let d = peek(&ctx.srv.keyspace, db, &args[1]).and_then(|z| {
        let a = member_pos(z, &args[2])?;
        let b = member_pos(z, &args[3])?;
        Some(geohash::distance(a.0, a.1, b.0, b.1))
    });
    match d {
        Some(d) => ctx.bulk(format!("{:.4}", d / to_meter).as_bytes()),
        None => ctx.null(),
    }
    Ok(())
}

/// The scores of `args[2..]` (None for missing members or key).
fn member_scores(ctx: &mut Ctx) -> Result<Vec<Option<f64>>, CmdError> {
    let args = ctx.args;
    let exists = lookup(ctx, 1)?;
    let db = ctx.db();
    let z = if exists {
        peek(&ctx.srv.keyspace, db, &args[1])
    } else {
        None
    };
    Ok(args[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)))
        .collect())
}

fn geohash_cmd(ctx: &mut Ctx) -> CmdResult {
    let scores = member_scores(ctx)?;
    ctx.array(scores.len());
    for s in scores {
        match s.and_then(geohash::standard_geohash) {
            Some(h) => ctx.bulk(&h),
            None => ctx.null(),
        }
    }
    Ok(())
}

fn geopos(ctx: &mut Ctx) -> CmdResult {
    let scores = member_scores(ctx)?;
    let r3 = ctx.resp3();
    ctx.array(scores.len());
    for s in scores {
        match s.and_then(geohash::decode_score) {
            Some((x, y)) => {
                ctx.array(2);
                write_coord(&mut ctx.client.out, r3, x);
                write_coord(&mut ctx.client.out, r3, y);
            }
            None => ctx.null_array(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The search family.

/// Which command of the search family runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS / GEORADIUS_RO (`ro`: no STORE options).
    Coords { ro: bool },
    /// GEORADIUSBYMEMBER / GEORADIUSBYMEMBER_RO.
    Member { ro: bool },
    /// GEOSEARCH, or GEOSEARCHSTORE when `store`.
    Search { store: bool },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One match.
struct Point {
    member: Vec<u8>,
    long: f64,
    lat: f64,
    /// Metres until the reply converts it to the user's unit.
    dist: f64,
    score: f64,
}

/// Collects the members inside `shape`, scanning the covering cells in
/// Redis's order; with `limit` > 0 (COUNT ANY) stops after that many.
fn scan(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = geohash::search_cells(shape);
    let mut found = Vec::new();
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii make neighbours coincide: skip a repeat of the last cell.
        if let Some(l) = last.filter(|&l| l > 0) {
            if cells[l] == *cell {
                continue;
            }
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        let (min, max) = cell.score_range();
        let start = z.count_while(|s, _| s < min);
        for (m, s) in z.iter_from(start, false) {
            if s >= max {
                break;
            }
            if let Some((long, lat)) = geohash::decode_score(s) {
                if let Some(dist) = shape.contains(long, lat) {
                    found.push(Point {
                        member: m.to_vec(),
                        long,
                        lat,
                        dist,
                        score: s,
                    });
                }
            }
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
        last = Some(i);
    }
    found
}

fn georadius(ctx: &mut Ctx) -> CmdResult {
    search_generic(ctx, 1, Variant::Coords { ro: false })
}
fn georadius_ro(ctx: &mut Ctx) -> CmdResult {
    search_generic(ctx, 1, Variant::Coords { ro: true })
}
fn georadiusbymember(ctx: &mut Ctx) -> CmdResult {
    search_generic(ctx, 1, Variant::Member { ro: false })
}
fn georadiusbymember_ro(ctx: &mut Ctx) -> CmdResult {
    search_generic(ctx, 1, Variant::Member { ro: true })
}
fn geosearch(ctx: &mut Ctx) -> CmdResult {
    search_generic(ctx, 1, Variant::Search { store: false })
}
/// Effect: the destination as stored (or DEL when nothing matched).
fn geosearchstore(ctx: &mut Ctx) -> CmdResult {
    search_generic(ctx, 2, Variant::Search { store: true })
}

/// GEORADIUS* and GEOSEARCH*: parse, find, sort, reply or store.
/// Effect (with a destination): the destination zset as stored, or DEL.
fn search_generic(ctx: &mut Ctx, src: usize, v: Variant) -> CmdResult {
    let args = ctx.args;
    let exists = lookup(ctx, src)?;
    let db = ctx.db();
    let mut center: Option<(f64, f64)> = None;
    let mut kind: Option<ShapeKind> = None;
    let mut conversion = 1.0;
    let mut store_key: Option<&[u8]> = None;
    let mut storedist = false;
    let search = matches!(v, Variant::Search { .. });
    let no_store = matches!(
        v,
        Variant::Coords { ro: true } | Variant::Member { ro: true }
    );

    let base = match v {
        Variant::Coords { .. } => {
            center = Some(long_lat(&args[2], &args[3])?);
            let (r, c) = radius_arg(&args[4], &args[5])?;
            kind = Some(ShapeKind::Radius(r));
            conversion = c;
            6
        }
        Variant::Member { .. } => {
            if exists {
                let z = peek(&ctx.srv.keyspace, db, &args[src]);
                center = Some(z.and_then(|z| member_pos(z, &args[2])).ok_or(NO_MEMBER)?);
                let (r, c) = radius_arg(&args[3], &args[4])?;
                kind = Some(ShapeKind::Radius(r));
                conversion = c;
            }
            5
        }
        Variant::Search { store } => {
            if store {
                store_key = Some(&args[1]);
                3
            } else {
                2
            }
        }
    };

    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let opts = &args[base.min(args.len())..];
    let remaining = opts.len();
    let mut i = 0;
    while i < remaining {
        let a = &opts[i];
        if is(a, "withdist") {
            withdist = true;
        } else if is(a, "withhash") {
            withhash = true;
        } else if is(a, "withcoord") {
            withcoord = true;
        } else if is(a, "any") {
            any = true;
        } else if is(a, "asc") {
            sort = Sort::Asc;
        } else if is(a, "desc") {
            sort = Sort::Desc;
        } else if is(a, "count") && i + 1 < remaining {
            count = parse_i64(&opts[i + 1])?;
            if count <= 0 {
                return Err("ERR COUNT must be > 0".into());
            }
            i += 1;
        } else if (is(a, "store") || is(a, "storedist"))
            && i + 1 < remaining
            && !no_store
            && !search
        {
            store_key = Some(&opts[i + 1]);
            storedist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && v == (Variant::Search { store: true }) {
            storedist = true;
        } else if is(a, "frommember") && i + 1 < remaining && search && !fromloc {
            if exists {
                let z = peek(&ctx.srv.keyspace, db, &args[src]);
                center = Some(
                    z.and_then(|z| member_pos(z, &opts[i + 1]))
                        .ok_or(NO_MEMBER)?,
                );
            }
            frommember = true;
            i += 1;
        } else if is(a, "fromlonlat") && i + 2 < remaining && search && !frommember {
            center = Some(long_lat(&opts[i + 1], &opts[i + 2])?);
            fromloc = true;
            i += 2;
        } else if is(a, "byradius") && i + 2 < remaining && search && !bybox {
            let (r, c) = radius_arg(&opts[i + 1], &opts[i + 2])?;
            kind = Some(ShapeKind::Radius(r));
            conversion = c;
            byradius = true;
            i += 2;
        } else if is(a, "bybox") && i + 3 < remaining && search && !byradius {
            let (w, h, c) = box_arg(&opts[i + 1], &opts[i + 2], &opts[i + 3])?;
            kind = Some(ShapeKind::Box {
                width: w,
                height: h,
            });
            conversion = c;
            bybox = true;
            i += 3;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }

    if store_key.is_some() && (withdist || withhash || withcoord) {
        let who = if v == (Variant::Search { store: true }) {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(format!(
            "ERR {who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )
        .into());
    }
    let name = String::from_utf8_lossy(&args[0]);
    if search && !(frommember || fromloc) {
        return Err(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )
        .into());
    }
    if search && !(byradius || bybox) {
        return Err(
            format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}").into(),
        );
    }
    if any && count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }

    let points = match (exists, center, kind) {
        (true, Some((long, lat)), Some(kind)) => {
            if count != 0 && sort == Sort::None && !any {
                sort = Sort::Asc;
            }
            let shape = Shape {
                long,
                lat,
                conversion,
                kind,
            };
            let limit = if any {
                usize::try_from(count).unwrap_or(usize::MAX)
            } else {
                0
            };
            let mut pts = match peek(&ctx.srv.keyspace, db, &args[src]) {
                Some(z) => scan(z, &shape, limit),
                None => Vec::new(),
            };
            match sort {
                Sort::None => {}
                Sort::Asc => pts.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
                Sort::Desc => pts.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
            }
            let keep = if count > 0 {
                usize::try_from(count).unwrap_or(usize::MAX).min(pts.len())
            } else {
                pts.len()
            };
            pts.truncate(keep);
            for p in &mut pts {
                p.dist /= conversion;
            }
            pts
        }
        // A missing source: nothing matches.
        _ => Vec::new(),
    };

    match store_key {
        None => {
            let r3 = ctx.resp3();
            let extra = usize::from(withdist) + usize::from(withhash) + usize::from(withcoord);
            let out = &mut ctx.client.out;
            encode::array_header(out, points.len());
            for p in &points {
                if extra > 0 {
                    encode::array_header(out, extra + 1);
                }
                encode::bulk(out, &p.member);
                if withdist {
                    encode::bulk(out, format!("{:.4}", p.dist).as_bytes());
                }
                if withhash {
                    encode::integer(out, p.score as i64);
                }
                if withcoord {
                    encode::array_header(out, 2);
                    write_coord(out, r3, p.long);
                    write_coord(out, r3, p.lat);
                }
            }
        }
        Some(dst) => {
            let n = store(ctx, dst, points, storedist);
            ctx.int(n as i64);
        }
    }
    Ok(())
}

/// Stores the matches at `dst` (scores: geohashes, or distances with
/// STOREDIST), deleting `dst` when there are none; returns the count.
fn store(ctx: &mut Ctx, dst: &[u8], points: Vec<Point>, storedist: bool) -> usize {
    let lim = limits(ctx);
    let db = ctx.db();
    let now = ctx.now_ms;
    let mut seen = hashbrown::HashSet::with_capacity(points.len());
    let mut pairs: Vec<(f64, Vec<u8>)> = Vec::with_capacity(points.len());
    for p in points {
        if seen.insert(p.member.clone()) {
            pairs.push((if storedist { p.dist } else { p.score }, p.member));
        }
    }
    pairs.sort_by(|a, b| cmp_pair(a.0, &a.1, b.0, &b.1));
    let ks = &mut ctx.srv.keyspace;
    let n = pairs.len();
    if n > 0 {
        ks.store(db, dst, Value::ZSet(ZSet::from_sorted(&pairs, lim)), now);
        ks.dirty += n as u64;
    } else if ks.delete(db, dst, now) {
        ks.dirty += 1;
    }
    n
}

// ---------------------------------------------------------------------------
// Keyspace notifications: each write raises its event when it changed
// something (and `del` when the key is gone).

fn geoadd_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(geoadd, class::ZSET, "zadd", false)
}

fn geosearchstore_notified(ctx: &mut Ctx) -> CmdResult {
    ctx.run_notified(geosearchstore, class::ZSET, "geosearchstore", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_doubles_print_like_redis() {
        assert_eq!(human_double(13.361389338970184), "13.36138933897018433");
        assert_eq!(human_double(85.05112878), "85.0511287799999991");
        assert_eq!(human_double(0.0), "0");
        assert_eq!(human_double(-0.0), "0");
        assert_eq!(human_double(2.0), "2");
        assert_eq!(human_double(-0.5), "-0.5");
    }

    #[test]
    fn units_are_case_insensitive() {
        assert_eq!(unit(b"KM").ok(), Some(1000.0));
        assert_eq!(unit(b"Mi").ok(), Some(1609.34));
        assert!(unit(b"yd").is_err());
    }
}
