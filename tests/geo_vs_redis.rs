//! Differential test: one script of geo commands runs against handoff and a
//! real redis-server, in RESP2 and in RESP3, and every reply must be
//! byte-identical: GEOADD scores (checked through ZSCORE/ZRANGE), GEOPOS,
//! GEODIST, GEOHASH, GEOSEARCH/GEOSEARCHSTORE and the GEORADIUS family,
//! argument errors included. Indexes of both zset encodings are searched
//! (a generated 400-member index is a skiplist).
//!
//! Script lines: words separated by spaces, `"..."` for arguments with
//! spaces or the empty string. `{p}` becomes a key prefix per protocol.
//!
//! Left out on purpose: members at exactly equal distances (Redis orders
//! ties by qsort, handoff by a stable sort). Unsorted searches and COUNT ANY
//! are included: handoff scans the same cells in the same order as Redis,
//! so even their order (and ANY's choice of members) matches.

mod common;

use common::script::{compare_exact, in_resp2_and_resp3, lines, tokenize};
use common::ExternalServer;
use handoff::protocol::{Connection, Frame};

const SCRIPT: &str = r#"
GEOADD {p}sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD {p}sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2
GEOADD {p}sicily 13.583333 37.316667 Agrigento 14.25 37.6 Enna 15.55 38.183333 Messina
ZRANGE {p}sicily 0 -1 WITHSCORES
ZSCORE {p}sicily Palermo
GEOADD {p}sicily 13.361389 38.115556 Palermo
GEOADD {p}sicily CH 13.361389 38.115557 Palermo
GEOADD {p}sicily NX 1 1 Palermo 2 2 newone
GEOADD {p}sicily XX 3 3 newone 4 4 nothere
GEOADD {p}sicily XX CH 5 5 newone
GEOADD {p}sicily ch xx nx 1 1 x
GEOADD {p}sicily NX XX 1 1 x
GEOADD {p}sicily 1 1
GEOADD {p}sicily 1 1 a 2
GEOADD {p}sicily CH
GEOADD {p}sicily NX CH
GEOADD {p}sicily GT 1 1 a
GEOADD {p}sicily 1 100 a
GEOADD {p}sicily 200 1 a
GEOADD {p}sicily -180.5 -86 a
GEOADD {p}sicily 1e300 0 a
GEOADD {p}sicily inf 0 a
GEOADD {p}sicily x 1 a
GEOADD {p}sicily 1 y a
GEOADD {p}sicily 1 1 ok 1 91 bad
EXISTS {p}missing
GEOADD {p}missing XX 1 1 a
EXISTS {p}missing
ZREM {p}sicily newone
GEOADD {p}edges 0 0 zero -0.0000001 0 nz 179.99999 85.05112878 top -180 -85.05112878 bottom 180 0 east -180 0 west
GEOADD {p}edges 0.5 -0.5 sw 1e-10 -1e-10 tiny -0 -0 negzero
ZRANGE {p}edges 0 -1 WITHSCORES
GEOPOS {p}edges zero nz top bottom east west sw tiny negzero nope
GEOHASH {p}edges zero nz top bottom east west sw tiny negzero nope
GEODIST {p}edges top bottom
GEODIST {p}edges east west
GEODIST {p}edges zero sw km
GEODIST {p}edges zero tiny
GEODIST {p}edges zero tiny ft
GEOPOS {p}sicily Palermo Catania edge1 edge2 nope
GEOPOS {p}missing a b
GEOPOS {p}sicily
GEOHASH {p}sicily Palermo Catania Agrigento Enna Messina nope
GEOHASH {p}missing a
GEOHASH {p}sicily
GEODIST {p}sicily Palermo Catania
GEODIST {p}sicily Palermo Catania m
GEODIST {p}sicily Palermo Catania KM
GEODIST {p}sicily Palermo Catania Mi
GEODIST {p}sicily Palermo Catania ft
GEODIST {p}sicily Palermo Palermo
GEODIST {p}sicily Palermo nope
GEODIST {p}missing Palermo Catania
GEODIST {p}sicily Palermo Catania yd
GEODIST {p}sicily Palermo Catania km extra
GEODIST {p}missing Palermo Catania yd
GEODIST {p}sicily Palermo
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST WITHHASH
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHHASH DESC WITHCOORD
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST ASC COUNT 2
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 3
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 3 DESC WITHDIST
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 100 ASC
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 100 km ASC WITHDIST
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 0 km ASC WITHDIST
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 1e7 km ASC WITHDIST
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 6000 km DESC WITHDIST
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 100000 m ASC WITHDIST
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 100000 ft ASC WITHDIST
GEOSEARCH {p}sicily FROMMEMBER Palermo BYRADIUS 100 MI ASC WITHDIST
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST WITHCOORD
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 400 400 km DESC
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 400 400 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 200 100 km ASC WITHDIST
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 50 400 km ASC WITHDIST
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 0 0 km ASC
GEOSEARCH {p}sicily FROMMEMBER Catania BYBOX 300 300 mi ASC WITHHASH
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 m
GEOSEARCH {p}sicily FROMLONLAT 15 37 byradius 200 KM asc withdist count 2 withcoord
GEOSEARCH {p}missing FROMLONLAT 15 37 BYRADIUS 200 km ASC
GEOSEARCH {p}missing FROMMEMBER nope BYRADIUS 200 km ASC
GEOSEARCH {p}missing FROMMEMBER nope BYRADIUS -1 km ASC
GEOSEARCH {p}missing FROMLONLAT 15 37 BYRADIUS 200 km ASC bogus
GEOSEARCH {p}missing FROMLONLAT 15 37 BYRADIUS 200 km ANY
GEOSEARCH {p}missing FROMLONLAT 15 37 BYRADIUS -1 km
GEOSEARCH {p}sicily FROMMEMBER nope BYRADIUS 200 km ASC
GEOSEARCH {p}sicily FROMMEMBER nope BYRADIUS -1 km bogus
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT -3
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT x
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS -1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS x km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 yd
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX x 1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 1 x km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 1 -1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX -1 x km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 1 1 yd
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 1 1
GEOSEARCH {p}sicily FROMLONLAT 15 100 BYRADIUS 1 km
GEOSEARCH {p}sicily FROMLONLAT x 37 BYRADIUS 1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km
GEOSEARCH {p}sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km
GEOSEARCH {p}sicily FROMLONLAT 15 37 FROMLONLAT 14 37 BYRADIUS 300 km ASC
GEOSEARCH {p}sicily FROMMEMBER Catania FROMMEMBER Palermo BYRADIUS 300 km ASC
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 km BYRADIUS 300 km ASC
GEOSEARCH {p}sicily BYRADIUS 1 km ASC WITHDIST
GEOSEARCH {p}sicily FROMLONLAT 15 37 ASC WITHDIST
geosearch {p}sicily FROMLONLAT 15 37 asc withdist
geosearch {p}sicily byradius 1 km withdist asc
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 km ANY
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 km STORE {p}d
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 km STOREDIST
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 1 km WITHDIST WITHDIST ASC ASC
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC DESC
GEOSEARCH {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC ASC COUNT 5 COUNT 2
GEOSEARCH {p}sicily
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC
ZRANGE {p}dst 0 -1 WITHSCORES
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
ZRANGE {p}dst 0 -1 WITHSCORES
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST COUNT 2 DESC
ZRANGE {p}dst 0 -1 WITHSCORES
GEOSEARCHSTORE {p}dst {p}sicily FROMMEMBER Palermo BYRADIUS 10 mi STOREDIST
ZRANGE {p}dst 0 -1 WITHSCORES
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 0 0 BYRADIUS 1 km
EXISTS {p}dst
SET {p}dst x
GEOSEARCHSTORE {p}dst {p}missing FROMLONLAT 0 0 BYRADIUS 1 km
EXISTS {p}dst
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE {p}x
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCHSTORE {p}dst {p}sicily FROMLONLAT 15 37 BYRADIUS
GEOSEARCHSTORE {p}dst {p}sicily BYRADIUS 200 km ASC
geosearchstore {p}dst {p}sicily FROMLONLAT 15 37 ASC STOREDIST
GEORADIUS {p}sicily 15 37 200 km ASC
GEORADIUS {p}sicily 15 37 200 km DESC WITHDIST WITHCOORD WITHHASH
GEORADIUS {p}sicily 15 37 200 km
GEORADIUS {p}sicily 15 37 200 km COUNT 2
GEORADIUS {p}sicily 15 37 200 km COUNT 2 DESC
GEORADIUS {p}sicily 15 37 200 km STORE {p}r
ZRANGE {p}r 0 -1 WITHSCORES
GEORADIUS {p}sicily 15 37 200 km STOREDIST {p}r ASC COUNT 3
ZRANGE {p}r 0 -1 WITHSCORES
GEORADIUS {p}sicily 15 37 200 km STORE {p}r STOREDIST {p}r2
ZRANGE {p}r2 0 -1 WITHSCORES
GEORADIUS {p}sicily 15 37 200 km STOREDIST {p}r2 STORE {p}r3
ZRANGE {p}r3 0 -1 WITHSCORES
GEORADIUS {p}sicily 15 37 200 km WITHDIST STORE {p}r
GEORADIUS {p}sicily 15 37 200 km STORE
GEORADIUS {p}sicily 15 37 1 m STORE {p}r
EXISTS {p}r
GEORADIUS {p}missing 15 37 200 km STORE {p}r2
EXISTS {p}r2
GEORADIUS {p}missing 15 37 200 km
GEORADIUS {p}missing 15 100 200 km
GEORADIUS {p}sicily 15 100 200 km
GEORADIUS {p}sicily 15 37 -200 km
GEORADIUS {p}sicily 15 37 200 yd
GEORADIUS {p}sicily 15 37 200 km ANY
GEORADIUS {p}sicily 15 37 200 km FROMLONLAT 1 1
GEORADIUS {p}sicily 15 37 200 km BYRADIUS 1 km
GEORADIUS {p}sicily 15 37 200
GEORADIUS_RO {p}sicily 15 37 200 km ASC WITHDIST
GEORADIUS_RO {p}sicily 15 37 200 km STORE {p}r
GEORADIUS_RO {p}sicily 15 37 200 km STOREDIST {p}r
GEORADIUSBYMEMBER {p}sicily Palermo 200 km ASC WITHDIST
GEORADIUSBYMEMBER {p}sicily Palermo 200 km DESC WITHCOORD
GEORADIUSBYMEMBER {p}sicily Palermo 200 km
GEORADIUSBYMEMBER {p}sicily Palermo 200 km STOREDIST {p}bm
ZRANGE {p}bm 0 -1 WITHSCORES
GEORADIUSBYMEMBER {p}sicily nope 200 km
GEORADIUSBYMEMBER {p}sicily nope -200 km
GEORADIUSBYMEMBER {p}sicily Palermo -200 km
GEORADIUSBYMEMBER {p}sicily Palermo 200 yd
GEORADIUSBYMEMBER {p}missing nope -200 yd
GEORADIUSBYMEMBER {p}missing nope -200 yd bogus
GEORADIUSBYMEMBER {p}missing nope -200 yd ANY
GEORADIUSBYMEMBER {p}missing nope 1 km STORE {p}bm
EXISTS {p}bm
GEORADIUSBYMEMBER {p}sicily Palermo 200
GEORADIUSBYMEMBER_RO {p}sicily Palermo 200 km ASC WITHDIST WITHHASH
GEORADIUSBYMEMBER_RO {p}sicily Palermo 200 km STORE {p}x
SET {p}str v
GEOADD {p}str 1 1 a
GEOADD {p}str 1 100 a
GEOADD {p}str x 1 a
GEOPOS {p}str a
GEOHASH {p}str a
GEODIST {p}str a b
GEODIST {p}str a b yd
GEOSEARCH {p}str FROMLONLAT 1 1 BYRADIUS 1 km
GEOSEARCH {p}str FROMLONLAT 1 100 BYRADIUS 1 km
GEOSEARCHSTORE {p}d {p}str FROMLONLAT 1 1 BYRADIUS 1 km
GEOSEARCHSTORE {p}str {p}sicily FROMLONLAT 15 37 BYRADIUS 200 km
TYPE {p}str
GEORADIUS {p}str 1 1 1 km
GEORADIUS {p}str 1 100 1 km
GEORADIUSBYMEMBER {p}str a 1 km
ZADD {p}plain 1 a 4503599627370495 b 9007199254740992 c -5 d 1.5 e
GEOPOS {p}plain a b c d e
GEOHASH {p}plain a b c d e
GEODIST {p}plain a b
GEOADD {p}pole 0 85 n1 90 85 n2 180 85 n3 -90 85 n4 0 -85 s1 120 -85 s2 -120 -84.5 s3
GEOADD {p}pole 179.9 10 am1 -179.9 10 am2 179.5 10.5 am3 -179.6 9.7 am4
GEOSEARCH {p}pole FROMLONLAT 0 85 BYRADIUS 1000 km ASC WITHDIST
GEOSEARCH {p}pole FROMLONLAT 45 84 BYRADIUS 2000 km ASC WITHDIST
GEOSEARCH {p}pole FROMLONLAT 0 -85 BYBOX 3000 3000 km ASC WITHDIST
GEOSEARCH {p}pole FROMLONLAT 180 10 BYRADIUS 100 km ASC WITHDIST
GEOSEARCH {p}pole FROMLONLAT -180 10 BYRADIUS 100 km DESC WITHDIST
GEOSEARCH {p}pole FROMLONLAT 179.99 10 BYBOX 200 200 km ASC WITHDIST
GEOSEARCH {p}pole FROMLONLAT 179.99 10 BYBOX 200 200 km
GEOSEARCH {p}pole FROMLONLAT 0 0 BYRADIUS 20000 km ASC WITHDIST
GEOSEARCH {p}pole FROMLONLAT 0 0 BYRADIUS 20000 km
GEOSEARCH {p}pole FROMLONLAT 0 0 BYBOX 40000 40000 km DESC WITHDIST
"#;

/// Deterministic pseudo-random points for a large (skiplist) index, and
/// searches over it.
fn generated_lines() -> Vec<String> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut lines = Vec::new();
    for chunk in 0..4 {
        let mut line = String::from("GEOADD {p}big");
        for i in 0..100 {
            // Points around Europe, 8 fractional digits.
            let long = -10.0 + (next() % 4_000_000_000) as f64 / 1e8;
            let lat = 35.0 + (next() % 2_500_000_000) as f64 / 1e8;
            line.push_str(&format!(" {long:.8} {lat:.8} m{}", chunk * 100 + i));
        }
        lines.push(line);
    }
    lines.push("OBJECT ENCODING {p}big".into());
    lines.push("ZCARD {p}big".into());
    lines.push("ZRANGE {p}big 0 20 WITHSCORES".into());
    let centres = [
        (2.35, 48.85),
        (12.5, 41.9),
        (-3.7, 40.4),
        (13.4, 52.5),
        (0.0, 45.0),
        (15.0, 50.0),
        (-10.0, 35.0),
        (30.0, 60.0),
    ];
    for (i, (long, lat)) in centres.iter().enumerate() {
        for (r, unit) in [
            (50, "km"),
            (300, "km"),
            (700, "mi"),
            (3000, "km"),
            (20, "km"),
        ] {
            lines.push(format!(
                "GEOSEARCH {{p}}big FROMLONLAT {long} {lat} BYRADIUS {r} {unit} ASC WITHDIST WITHHASH WITHCOORD"
            ));
            lines.push(format!(
                "GEOSEARCH {{p}}big FROMLONLAT {long} {lat} BYBOX {r} {} {unit} DESC WITHDIST",
                r * (i as i32 + 1) / 3 + 1
            ));
            lines.push(format!(
                "GEORADIUS {{p}}big {long} {lat} {r} {unit} WITHDIST COUNT 7"
            ));
            lines.push(format!("GEORADIUS_RO {{p}}big {long} {lat} {r} {unit}"));
        }
        lines.push(format!(
            "GEORADIUSBYMEMBER {{p}}big m{} 400 km ASC WITHDIST",
            i * 37
        ));
        lines.push(format!(
            "GEOSEARCHSTORE {{p}}bigdst {{p}}big FROMMEMBER m{} BYBOX 500 800 km STOREDIST COUNT 20 ASC",
            i * 41
        ));
        lines.push("ZRANGE {p}bigdst 0 -1 WITHSCORES".into());
        lines.push(format!(
            "GEOSEARCHSTORE {{p}}bigdst {{p}}big FROMMEMBER m{} BYRADIUS 250 km",
            i * 43
        ));
        lines.push("ZRANGE {p}bigdst 0 -1 WITHSCORES".into());
        lines.push("OBJECT ENCODING {p}bigdst".into());
    }
    // COUNT ANY returns the first matches in scan order: the same as Redis's
    // because the same cells are scanned in the same order.
    for (long, lat) in centres {
        for n in [1, 3, 10, 50] {
            lines.push(format!(
                "GEOSEARCH {{p}}big FROMLONLAT {long} {lat} BYRADIUS 900 km COUNT {n} ANY WITHDIST"
            ));
            lines.push(format!(
                "GEOSEARCH {{p}}big FROMLONLAT {long} {lat} BYBOX 900 500 km COUNT {n} ANY DESC"
            ));
        }
    }
    lines.push("GEOPOS {p}big m0 m1 m2 m3 m399".into());
    lines.push("GEOHASH {p}big m0 m1 m2 m3 m399".into());
    lines.push("GEODIST {p}big m0 m399 km".into());
    lines
}

/// Runs the script with key prefix `prefix` on both connections; returns
/// the mismatches.
fn run_script(ours: &mut Connection, theirs: &mut Connection, prefix: &str) -> Vec<String> {
    let mut mismatches = Vec::new();
    let generated = generated_lines();
    let all: Vec<String> = lines(SCRIPT, prefix)
        .chain(generated.iter().map(|l| l.replace("{p}", prefix)))
        .collect();
    assert!(all.len() > 300, "the script has {} lines", all.len());
    for line in all {
        compare_exact(ours, theirs, &line, &tokenize(&line), &mut mismatches);
    }
    mismatches
}

#[test]
fn geo_replies_match_redis_byte_for_byte_in_resp2_and_resp3() {
    in_resp2_and_resp3(run_script);
}

/// The first seven COMMAND INFO fields (name, arity, flags, first key, last
/// key, step, ACL categories) of every geo command equal Redis's. Key specs
/// are left out: handoff derives them from the legacy triple for every
/// command alike (no access flags, no STORE keyword specs).
#[test]
fn geo_command_info_matches_redis() {
    let Some(redis) = ExternalServer::start("redis-server", &[]) else {
        return;
    };
    let server = common::TestServer::start();
    let mut ours = server.connect();
    let mut theirs = redis.connect();
    for name in [
        "geoadd",
        "geodist",
        "geohash",
        "geopos",
        "geosearch",
        "geosearchstore",
        "georadius",
        "georadius_ro",
        "georadiusbymember",
        "georadiusbymember_ro",
    ] {
        let head = |c: &mut Connection| match c.call(&["COMMAND", "INFO", name]).unwrap() {
            Frame::Array(mut v) => match v.pop() {
                Some(Frame::Array(fields)) => fields.into_iter().take(7).collect::<Vec<_>>(),
                other => panic!("{name}: {other:?}"),
            },
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(head(&mut ours), head(&mut theirs), "{name}");
    }
}
