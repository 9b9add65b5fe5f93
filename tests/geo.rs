//! Integration tests for the geo commands: indexes are sorted sets with
//! geohash scores, searches find exactly the members inside the shape,
//! COUNT ANY, the STORE variants, type errors and both zset encodings.

mod common;

use common::{bulk, call, err, TestServer};
use handoff::protocol::{Connection, Frame};

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn strings(f: &Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items
            .iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                Frame::Array(inner) => match inner.first() {
                    Some(Frame::Bulk(b)) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("unexpected item {other:?}"),
                },
                other => panic!("unexpected item {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn number(f: &Frame) -> f64 {
    match f {
        Frame::Bulk(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
        Frame::Double(d) => std::str::from_utf8(d).unwrap().parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

/// A deterministic cloud of `n` points around (lon, lat) +- spread degrees.
fn add_cloud(c: &mut Connection, key: &str, n: usize, lon: f64, lat: f64, spread: f64) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut args: Vec<String> = vec!["GEOADD".into(), key.into()];
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let dx = (x % 2_000_001) as f64 / 1_000_000.0 - 1.0;
        let dy = ((x >> 24) % 2_000_001) as f64 / 1_000_000.0 - 1.0;
        args.push(format!("{:.7}", lon + dx * spread));
        args.push(format!("{:.7}", lat + dy * spread));
        args.push(format!("p{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(call(c, &refs), int(n as i64));
}

#[test]
fn geoadd_stores_members_as_a_sorted_set_with_geohash_scores() {
    let server = TestServer::start();
    let mut c = server.connect();
    assert_eq!(
        call(
            &mut c,
            &["GEOADD", "g", "13.361389", "38.115556", "Palermo"]
        ),
        int(1)
    );
    assert_eq!(call(&mut c, &["TYPE", "g"]), Frame::Simple("zset".into()));
    assert_eq!(
        call(&mut c, &["ZSCORE", "g", "Palermo"]),
        bulk("3479099956230698")
    );
    assert_eq!(
        call(&mut c, &["GEOHASH", "g", "Palermo"]),
        Frame::Array(vec![bulk("sqc8b49rny0")])
    );
    // Same position: nothing changes, even with CH.
    assert_eq!(
        call(
            &mut c,
            &["GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"]
        ),
        int(0)
    );
    assert_eq!(
        call(
            &mut c,
            &["GEOADD", "g", "CH", "XX", "13.5", "38", "Palermo", "1", "1", "new"]
        ),
        int(1)
    );
    assert_eq!(call(&mut c, &["ZCARD", "g"]), int(1));
    assert_eq!(
        call(&mut c, &["GEOADD", "g", "1", "90", "x"]),
        err("ERR invalid longitude,latitude pair 1.000000,90.000000")
    );
}

#[test]
fn radius_searches_return_exactly_the_members_within_the_radius() {
    let server = TestServer::start();
    let mut c = server.connect();
    add_cloud(&mut c, "cloud", 300, 2.35, 48.85, 1.5);
    for (centre, radius) in [
        ("p0", "40"),
        ("p17", "75"),
        ("p123", "12.5"),
        ("p250", "150"),
    ] {
        let found = call(
            &mut c,
            &[
                "GEOSEARCH",
                "cloud",
                "FROMMEMBER",
                centre,
                "BYRADIUS",
                radius,
                "km",
                "ASC",
                "WITHDIST",
            ],
        );
        let mut got = strings(&found);
        let r: f64 = radius.parse().unwrap();
        // Brute force with GEODIST (4 decimals: skip the boundary).
        let mut want = Vec::new();
        for i in 0..300 {
            let m = format!("p{i}");
            let d = number(&call(&mut c, &["GEODIST", "cloud", centre, &m, "km"]));
            assert!((d - r).abs() > 1e-3, "a member sits on the boundary");
            if d <= r {
                want.push(m);
            }
        }
        assert!(!want.is_empty());
        // Ascending distances.
        if let Frame::Array(items) = &found {
            let dists: Vec<f64> = items
                .iter()
                .map(|i| match i {
                    Frame::Array(p) => number(&p[1]),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert!(dists.windows(2).all(|w| w[0] <= w[1]));
        }
        got.sort();
        want.sort();
        assert_eq!(got, want, "centre {centre} radius {radius}");
    }
}

#[test]
fn box_searches_return_the_members_inside_the_box() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(
        &mut c,
        &[
            "GEOADD", "b", "0", "0", "origin", "0.5", "0", "east", "0", "0.5", "north", "2", "2",
            "far",
        ],
    );
    // 120 km wide, 40 km high: "east" (55.6 km away) is inside, "north" is not.
    let r = call(
        &mut c,
        &[
            "GEOSEARCH",
            "b",
            "FROMLONLAT",
            "0",
            "0",
            "BYBOX",
            "120",
            "40",
            "km",
            "ASC",
        ],
    );
    assert_eq!(strings(&r), vec!["origin", "east"]);
    let r = call(
        &mut c,
        &[
            "GEOSEARCH",
            "b",
            "FROMLONLAT",
            "0",
            "0",
            "BYBOX",
            "40",
            "120",
            "km",
            "DESC",
        ],
    );
    assert_eq!(strings(&r), vec!["north", "origin"]);
}

#[test]
fn count_any_stops_after_enough_matches() {
    let server = TestServer::start();
    let mut c = server.connect();
    add_cloud(&mut c, "cloud", 200, 10.0, 45.0, 0.5);
    let all = call(
        &mut c,
        &[
            "GEOSEARCH",
            "cloud",
            "FROMLONLAT",
            "10",
            "45",
            "BYRADIUS",
            "500",
            "km",
        ],
    );
    assert_eq!(strings(&all).len(), 200);
    let any = call(
        &mut c,
        &[
            "GEOSEARCH",
            "cloud",
            "FROMLONLAT",
            "10",
            "45",
            "BYRADIUS",
            "500",
            "km",
            "COUNT",
            "5",
            "ANY",
        ],
    );
    let any = strings(&any);
    assert_eq!(any.len(), 5);
    // ANY takes the first matches in scan order, unsorted.
    assert_eq!(any, strings(&all)[..5].to_vec());
    let nearest = call(
        &mut c,
        &[
            "GEOSEARCH",
            "cloud",
            "FROMLONLAT",
            "10",
            "45",
            "BYRADIUS",
            "500",
            "km",
            "COUNT",
            "5",
        ],
    );
    assert_eq!(strings(&nearest).len(), 5);
    assert_eq!(
        call(
            &mut c,
            &[
                "GEOSEARCH",
                "cloud",
                "FROMLONLAT",
                "10",
                "45",
                "BYRADIUS",
                "5",
                "km",
                "ANY"
            ]
        ),
        err("ERR the ANY argument requires COUNT argument")
    );
}

#[test]
fn store_variants_replace_the_destination_or_delete_it() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(
        &mut c,
        &[
            "GEOADD",
            "g",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
    );
    call(&mut c, &["SET", "dst", "old", "EX", "100"]);
    assert_eq!(
        call(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "dst",
                "g",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "STOREDIST"
            ]
        ),
        int(2)
    );
    assert_eq!(call(&mut c, &["TTL", "dst"]), int(-1));
    assert_eq!(
        call(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        Frame::Array(vec![
            bulk("Catania"),
            bulk("56.441257870158204"),
            bulk("Palermo"),
            bulk("190.44242984775784"),
        ])
    );
    assert_eq!(
        call(
            &mut c,
            &["GEORADIUS", "g", "15", "37", "100", "km", "STORE", "dst"]
        ),
        int(1)
    );
    assert_eq!(
        call(&mut c, &["ZSCORE", "dst", "Catania"]),
        bulk("3479447370796909")
    );
    assert_eq!(
        call(
            &mut c,
            &[
                "GEORADIUSBYMEMBER",
                "g",
                "Palermo",
                "1",
                "m",
                "STORE",
                "dst"
            ]
        ),
        int(1)
    );
    assert_eq!(
        call(
            &mut c,
            &["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "dst"]
        ),
        int(0)
    );
    assert_eq!(call(&mut c, &["EXISTS", "dst"]), int(0));
    assert_eq!(
        call(
            &mut c,
            &["GEORADIUS_RO", "g", "0", "0", "1", "km", "STORE", "dst"]
        ),
        err("ERR syntax error")
    );
}

#[test]
fn geo_commands_reject_keys_of_other_types() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["SET", "s", "v"]);
    let wrong = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        vec!["GEOADD", "s", "1", "1", "a"],
        vec!["GEOPOS", "s", "a"],
        vec!["GEOHASH", "s", "a"],
        vec!["GEODIST", "s", "a", "b"],
        vec![
            "GEOSEARCH",
            "s",
            "FROMLONLAT",
            "1",
            "1",
            "BYRADIUS",
            "1",
            "km",
        ],
        vec![
            "GEOSEARCHSTORE",
            "d",
            "s",
            "FROMLONLAT",
            "1",
            "1",
            "BYRADIUS",
            "1",
            "km",
        ],
        vec!["GEORADIUS", "s", "1", "1", "1", "km"],
        vec!["GEORADIUSBYMEMBER_RO", "s", "a", "1", "km"],
    ] {
        assert_eq!(call(&mut c, &cmd), wrong, "{cmd:?}");
    }
}

#[test]
fn skiplist_and_listpack_indexes_answer_the_same() {
    let small = TestServer::with(|c| c.zset_max_listpack_entries = 4096);
    let big = TestServer::with(|c| c.zset_max_listpack_entries = 0);
    let mut a = small.connect();
    let mut b = big.connect();
    add_cloud(&mut a, "cloud", 250, -73.98, 40.75, 0.8);
    add_cloud(&mut b, "cloud", 250, -73.98, 40.75, 0.8);
    assert_eq!(
        call(&mut a, &["OBJECT", "ENCODING", "cloud"]),
        bulk("listpack")
    );
    assert_eq!(
        call(&mut b, &["OBJECT", "ENCODING", "cloud"]),
        bulk("skiplist")
    );
    for cmd in [
        vec![
            "GEOSEARCH",
            "cloud",
            "FROMMEMBER",
            "p5",
            "BYRADIUS",
            "30",
            "km",
            "WITHDIST",
            "WITHCOORD",
            "WITHHASH",
        ],
        vec![
            "GEOSEARCH",
            "cloud",
            "FROMLONLAT",
            "-74",
            "40.7",
            "BYBOX",
            "50",
            "20",
            "km",
            "DESC",
        ],
        vec![
            "GEOSEARCH",
            "cloud",
            "FROMLONLAT",
            "-74",
            "40.7",
            "BYRADIUS",
            "20",
            "mi",
            "COUNT",
            "7",
            "ANY",
        ],
        vec![
            "GEORADIUS",
            "cloud",
            "-73.9",
            "40.8",
            "15",
            "km",
            "WITHDIST",
        ],
        vec!["GEOPOS", "cloud", "p1", "p2", "p249"],
    ] {
        assert_eq!(call(&mut a, &cmd), call(&mut b, &cmd), "{cmd:?}");
    }
}

#[test]
fn resp3_coordinates_are_doubles_and_distances_stay_bulk_strings() {
    let server = TestServer::start();
    let mut c = server.connect();
    call(&mut c, &["HELLO", "3"]);
    call(
        &mut c,
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
    );
    match call(&mut c, &["GEOPOS", "g", "Palermo", "nope"]) {
        Frame::Array(items) => {
            assert!(matches!(&items[0], Frame::Array(p) if matches!(p[0], Frame::Double(_))));
            assert_eq!(items[1], Frame::Null);
        }
        other => panic!("{other:?}"),
    }
    call(
        &mut c,
        &["GEOADD", "g", "15.087269", "37.502669", "Catania"],
    );
    assert_eq!(
        call(&mut c, &["GEODIST", "g", "Palermo", "Catania", "km"]),
        bulk("166.2742")
    );
}

#[test]
fn extreme_radii_and_boxes_never_break_the_server() {
    let server = TestServer::start();
    let mut c = server.connect();
    add_cloud(&mut c, "cloud", 50, 0.0, 0.0, 10.0);
    call(
        &mut c,
        &[
            "ZADD", "plain", "-1e300", "a", "1e300", "b", "inf", "c", "-inf", "d",
        ],
    );
    for r in ["inf", "1e308", "1e-320", "0", "-0", "+inf"] {
        for key in ["cloud", "plain"] {
            for lat in ["85.05112878", "-85.05112878", "0", "66.5", "-80.5"] {
                let _ = call(
                    &mut c,
                    &[
                        "GEOSEARCH",
                        key,
                        "FROMLONLAT",
                        "180",
                        lat,
                        "BYRADIUS",
                        r,
                        "km",
                        "WITHDIST",
                        "WITHCOORD",
                    ],
                );
                let _ = call(
                    &mut c,
                    &[
                        "GEOSEARCH",
                        key,
                        "FROMLONLAT",
                        "-180",
                        lat,
                        "BYBOX",
                        r,
                        r,
                        "mi",
                        "ASC",
                        "WITHHASH",
                    ],
                );
                let _ = call(
                    &mut c,
                    &["GEORADIUS", key, "0", lat, r, "ft", "COUNT", "3", "ANY"],
                );
            }
            let _ = call(
                &mut c,
                &["GEORADIUSBYMEMBER", key, "a", r, "m", "STOREDIST", "out"],
            );
        }
    }
    for m in ["a", "b", "c", "d"] {
        let _ = call(&mut c, &["GEOPOS", "plain", m]);
        let _ = call(&mut c, &["GEOHASH", "plain", m]);
        let _ = call(&mut c, &["GEODIST", "plain", m, "a"]);
    }
    assert_eq!(call(&mut c, &["PING"]), Frame::Simple("PONG".into()));
}
