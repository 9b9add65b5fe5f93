//! Geohash math for the GEO commands: the 52-bit interleaved cell ids that
//! are stored as sorted set scores, decoding them back to coordinates, the
//! nine-cell cover of a search shape, and great-circle distances.
//!
//! The numbers follow Redis's geo implementation so that scores, decoded
//! positions, distances and the set of scanned cells are bit-for-bit the
//! same: latitudes are limited to the Web Mercator range (+-85.05112878),
//! cells are 26 bits per axis, the Earth radius is 6372797.560856 m, and
//! the cell size for a search is estimated from the radius the same way.
//! Latitude bits take the even positions of a hash, longitude bits the odd
//! ones (so the top bit of a 52-bit score is a longitude bit, as in a
//! standard geohash).
//!
//! Nothing here knows about sorted sets or replies.

/// Latitude limits (Web Mercator).
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Bits per axis of a stored position.
pub const STEP_MAX: u8 = 26;
/// Mean Earth radius used for every distance.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
/// Half the Mercator world width, the upper bound of the step estimation.
const MERCATOR_MAX: f64 = 20037726.37;

fn deg_rad(d: f64) -> f64 {
    d * (std::f64::consts::PI / 180.0)
}

fn rad_deg(r: f64) -> f64 {
    r / (std::f64::consts::PI / 180.0)
}

/// A closed coordinate interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The coordinate ranges positions are encoded in.
pub const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A cell: `step` bits per axis, interleaved into `bits`. The all-zero
/// value (step 0) means "no cell" in a neighbour list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell aligned to 52 bits (the score range it starts).
    pub fn align52(&self) -> u64 {
        let shift = 52u32.saturating_sub(self.step as u32 * 2);
        self.bits.checked_shl(shift).unwrap_or(0)
    }

    /// The half-open score range `[min, max)` of the positions in this cell.
    pub fn score_range(&self) -> (f64, f64) {
        let min = self.align52();
        let next = Hash {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        (min as f64, next.align52() as f64)
    }
}

/// A decoded cell's extent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub hash: Hash,
    pub long: Range,
    pub lat: Range,
}

/// Spreads the low 32 bits of `v` to the even bit positions.
fn spread(v: u32) -> u64 {
    let mut out = 0u64;
    let mut v = v as u64;
    let mut pos = 0;
    while v != 0 {
        out |= (v & 1) << pos;
        v >>= 1;
        pos += 2;
    }
    out
}

/// Gathers the even bit positions of `v` into a 32-bit number.
fn gather(v: u64) -> u32 {
    let mut out = 0u32;
    for i in 0..32 {
        out |= (((v >> (2 * i)) & 1) as u32) << i;
    }
    out
}

/// Latitude index in the even bits, longitude index in the odd bits.
fn interleave(lat: u32, long: u32) -> u64 {
    spread(lat) | (spread(long) << 1)
}

/// (latitude index, longitude index) of an interleaved value.
fn deinterleave(bits: u64) -> (u32, u32) {
    (gather(bits), gather(bits >> 1))
}

/// Encodes a position with `step` bits per axis in the given ranges; None
/// when the position is outside the ranges (or outside the WGS84 limits).
pub fn encode(long_r: Range, lat_r: Range, long: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 {
        return None;
    }
    if (lat_r.min == 0.0 && lat_r.max == 0.0) || (long_r.min == 0.0 && long_r.max == 0.0) {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&long) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || long < long_r.min || long > long_r.max {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * cells;
    let long_off = (long - long_r.min) / (long_r.max - long_r.min) * cells;
    // Truncation toward zero, as a C cast to an unsigned 32-bit integer.
    Some(Hash {
        bits: interleave(lat_off as u32, long_off as u32),
        step,
    })
}

/// Encodes in the WGS84 (Mercator-limited) ranges.
pub fn encode_wgs84(long: f64, lat: f64, step: u8) -> Option<Hash> {
    encode(WGS84_LONG, WGS84_LAT, long, lat, step)
}

/// The 52-bit score of a position, or None when it is out of range.
pub fn score_of(long: f64, lat: f64) -> Option<u64> {
    encode_wgs84(long, lat, STEP_MAX).map(|h| h.align52())
}

/// The extent of a cell in the given ranges.
pub fn decode(long_r: Range, lat_r: Range, hash: Hash) -> Option<Area> {
    if hash.is_zero() || hash.step > 32 {
        return None;
    }
    let (ilat, ilong) = deinterleave(hash.bits);
    let lat_scale = lat_r.max - lat_r.min;
    let long_scale = long_r.max - long_r.min;
    let cells = (1u64 << hash.step) as f64;
    let lat_lo = ilat as f64;
    let lat_hi = (ilat as u64 + 1) as f64;
    let long_lo = ilong as f64;
    let long_hi = (ilong as u64 + 1) as f64;
    Some(Area {
        hash,
        lat: Range {
            min: lat_r.min + (lat_lo * 1.0 / cells) * lat_scale,
            max: lat_r.min + (lat_hi * 1.0 / cells) * lat_scale,
        },
        long: Range {
            min: long_r.min + (long_lo * 1.0 / cells) * long_scale,
            max: long_r.min + (long_hi * 1.0 / cells) * long_scale,
        },
    })
}

/// The centre of a cell, clamped to the WGS84 limits: `(long, lat)`.
pub fn area_center(a: &Area) -> (f64, f64) {
    let long = ((a.long.min + a.long.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (long, lat)
}

/// Decodes a stored score to `(long, lat)`.
pub fn decode_score(score: f64) -> Option<(f64, f64)> {
    let hash = Hash {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    decode(WGS84_LONG, WGS84_LAT, hash).map(|a| area_center(&a))
}

/// A C `(uint64_t)` cast of a double as x86-64 compilers emit it, so
/// scores that are not geohashes (negative, or beyond 2^52, in a plain
/// zset) decode to the same positions as in Redis: values below 2^63
/// convert through a signed conversion (negatives wrap around), larger
/// ones are offset by 2^63, and out-of-range conversions give the
/// "integer indefinite" value 2^63.
fn c_double_to_u64(x: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    const INDEFINITE: u64 = 1 << 63;
    let signed = |v: f64| {
        if (-TWO63..TWO63).contains(&v) {
            v as i64 as u64
        } else {
            INDEFINITE
        }
    };
    if x < TWO63 {
        signed(x)
    } else {
        signed(x - TWO63) ^ INDEFINITE
    }
}

/// The 11-character standard geohash of a stored score: decoded, then
/// re-encoded in the standard -180..180 / -90..90 ranges.
pub fn standard_geohash(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (long, lat) = decode_score(score)?;
    let std_long = Range {
        min: -180.0,
        max: 180.0,
    };
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(std_long, std_lat, long, lat, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    // 52 bits fill ten characters and two bits; the eleventh is "0".
    Some(out)
}

/// Moves a cell by `dlong`, `dlat` cells (each -1, 0 or 1), wrapping
/// around within its step.
fn moved(h: Hash, dlong: i64, dlat: i64) -> Hash {
    let (ilat, ilong) = deinterleave(h.bits);
    let mask = if h.step >= 32 {
        u32::MAX as u64
    } else {
        (1u64 << h.step) - 1
    };
    let lat = ((ilat as u64).wrapping_add(dlat as u64) & mask) as u32;
    let long = ((ilong as u64).wrapping_add(dlong as u64) & mask) as u32;
    Hash {
        bits: interleave(lat, long),
        step: h.step,
    }
}

/// The eight neighbours of a cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: Hash,
    pub south: Hash,
    pub east: Hash,
    pub west: Hash,
    pub north_east: Hash,
    pub north_west: Hash,
    pub south_east: Hash,
    pub south_west: Hash,
}

pub fn neighbors(h: Hash) -> Neighbors {
    Neighbors {
        north: moved(h, 0, 1),
        south: moved(h, 0, -1),
        east: moved(h, 1, 0),
        west: moved(h, -1, 0),
        north_east: moved(h, 1, 1),
        north_west: moved(h, -1, 1),
        south_east: moved(h, 1, -1),
        south_west: moved(h, -1, -1),
    }
}

/// Bits per axis for a search of `range_m` metres around latitude `lat`.
pub fn estimate_step(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut range = range_m;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if lat.abs() > 66.0 {
        step -= 1;
        if lat.abs() > 80.0 {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// A search shape: a circle of `radius` or a `width` x `height` box, in
/// the user's unit (`conversion` metres per unit), centred at (long, lat).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub long: f64,
    pub lat: f64,
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

impl Shape {
    /// `[min long, min lat, max long, max lat]` of the shape's bounding box.
    pub fn bounds(&self) -> [f64; 4] {
        let (h, w) = match self.kind {
            ShapeKind::Radius(r) => (self.conversion * r, self.conversion * r),
            ShapeKind::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = rad_deg(h / EARTH_RADIUS_M);
        let long_delta_top = rad_deg(w / EARTH_RADIUS_M / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(w / EARTH_RADIUS_M / deg_rad(self.lat - lat_delta).cos());
        // The wider edge is the one nearer the equator.
        let delta = if self.lat < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.long - delta,
            self.lat - lat_delta,
            self.long + delta,
            self.lat + lat_delta,
        ]
    }

    /// The metres from the centre the search reaches (the half diagonal for a box).
    fn reach_m(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Radius(r) => r,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }

    /// The distance in metres from the centre to (long, lat) when the
    /// point is inside the shape.
    pub fn contains(&self, long: f64, lat: f64) -> Option<f64> {
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(self.long, self.lat, long, lat);
                (d <= r * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(lat, self.lat) > h / 2.0 {
                    return None;
                }
                if distance(long, lat, self.long, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(self.long, self.lat, long, lat))
            }
        }
    }
}

/// The cells to scan for a shape: the centre cell then N S E W NE NW SE SW,
/// with zero hashes for neighbours that cannot hold a match.
pub fn search_cells(shape: &Shape) -> [Hash; 9] {
    let [min_long, min_lat, max_long, max_lat] = shape.bounds();
    let mut step = estimate_step(shape.reach_m(), shape.lat);
    let cell = |step: u8| {
        let h = encode_wgs84(shape.long, shape.lat, step).unwrap_or(Hash { bits: 0, step });
        let area = decode(WGS84_LONG, WGS84_LAT, h);
        (h, neighbors(h), area)
    };
    let (mut hash, mut n, mut area) = cell(step);
    let area_of = |h: Hash| decode(WGS84_LONG, WGS84_LAT, h);
    // Near a cell edge the estimated step can be too fine for the
    // neighbours to cover the shape: one step coarser then.
    let too_small = area_of(n.north).is_some_and(|a| a.lat.max < max_lat)
        || area_of(n.south).is_some_and(|a| a.lat.min > min_lat)
        || area_of(n.east).is_some_and(|a| a.long.max < max_long)
        || area_of(n.west).is_some_and(|a| a.long.min > min_long);
    if step > 1 && too_small {
        step -= 1;
        (hash, n, area) = cell(step);
    }
    if step >= 2 {
        if let Some(a) = area {
            let zero = Hash::default();
            if a.lat.min < min_lat {
                n.south = zero;
                n.south_west = zero;
                n.south_east = zero;
            }
            if a.lat.max > max_lat {
                n.north = zero;
                n.north_east = zero;
                n.north_west = zero;
            }
            if a.long.min < min_long {
                n.west = zero;
                n.south_west = zero;
                n.north_west = zero;
            }
            if a.long.max > max_long {
                n.east = zero;
                n.south_east = zero;
                n.north_east = zero;
            }
        }
    }
    [
        hash,
        n.north,
        n.south,
        n.east,
        n.west,
        n.north_east,
        n.north_west,
        n.south_east,
        n.south_west,
    ]
}

/// Distance along a meridian between two latitudes.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Haversine great-circle distance in metres.
pub fn distance(long1: f64, lat1: f64, long2: f64, lat2: f64) -> f64 {
    let v = ((deg_rad(long2) - deg_rad(long1)) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            assert_eq!(deinterleave(interleave(a, b)), (a, b));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn scores_match_known_redis_values() {
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(179.99999, 85.05112878), Some(7505999378950824));
        assert_eq!(score_of(-180.0, -85.05112878), Some(0));
        assert_eq!(score_of(1.0, 86.0), None);
    }

    #[test]
    fn decoding_and_geohash_strings_match_redis() {
        let (long, lat) = decode_score(3479099956230698.0).unwrap();
        assert_eq!(format!("{long:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        assert_eq!(
            &standard_geohash(3479099956230698.0).unwrap(),
            b"sqc8b49rny0"
        );
        assert_eq!(
            &standard_geohash(3479447370796909.0).unwrap(),
            b"sqdtr74hyu0"
        );
        assert_eq!(&standard_geohash(0.0).unwrap(), b"00bh0hbj200");
    }

    #[test]
    fn distances_match_redis() {
        let (a, b) = (
            decode_score(3479099956230698.0).unwrap(),
            decode_score(3479447370796909.0).unwrap(),
        );
        assert_eq!(
            format!("{:.4}", distance(a.0, a.1, b.0, b.1)),
            "166274.1516"
        );
    }

    #[test]
    fn scores_convert_like_a_c_cast_on_x86_64() {
        assert_eq!(c_double_to_u64(5.0), 5);
        assert_eq!(c_double_to_u64(-5.0), (-5i64) as u64);
        assert_eq!(c_double_to_u64(1e300), 0);
        assert_eq!(c_double_to_u64(-1e300), 1 << 63);
        assert_eq!(c_double_to_u64(1.5e19), 15_000_000_000_000_000_000);
    }

    #[test]
    fn neighbours_wrap_around_the_grid() {
        let h = Hash { bits: 0, step: 2 };
        let n = neighbors(h);
        assert_eq!(deinterleave(n.west.bits), (0, 3));
        assert_eq!(deinterleave(n.south.bits), (3, 0));
        assert_eq!(deinterleave(n.north_east.bits), (1, 1));
    }

    #[test]
    fn step_estimation_follows_the_radius_and_latitude() {
        assert_eq!(estimate_step(0.0, 0.0), 26);
        assert_eq!(estimate_step(1.0, 0.0), 24);
        assert_eq!(estimate_step(1.0, 70.0), 23);
        assert_eq!(estimate_step(1.0, -85.0), 22);
        assert_eq!(estimate_step(1e9, 0.0), 1);
        assert_eq!(estimate_step(f64::INFINITY, 0.0), 1);
    }
}
