//! Replication ids: the current history id (`replid`), the previous one
//! (`replid2`) with the offset up to which it is still valid
//! (`second_repl_offset`), as INFO replication reports them.

/// 40 zeros: "no secondary id" (Redis prints this for an unset replid2).
pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

/// The ids of this node's replication history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplIds {
    pub replid: String,
    pub replid2: String,
    /// -1 when replid2 is unset.
    pub second_repl_offset: i64,
}

impl ReplIds {
    /// Fresh ids from `seed` bytes (any source of randomness).
    pub fn new(seed: u64) -> Self {
        ReplIds {
            replid: random_replid(seed),
            replid2: NO_REPLID.to_string(),
            second_repl_offset: -1,
        }
    }

    /// A new history starts (backlog created, or promotion without a
    /// previous one): a new id, no secondary.
    pub fn reset(&mut self, seed: u64) {
        self.replid = random_replid(seed);
        self.clear_secondary();
    }

    pub fn clear_secondary(&mut self) {
        self.replid2 = NO_REPLID.to_string();
        self.second_repl_offset = -1;
    }

    /// Promotion (REPLICAOF NO ONE, FAILOVER target): the old id stays valid
    /// up to `offset` (the current master_repl_offset) so former siblings
    /// and the old primary can continue; a new id starts.
    pub fn shift(&mut self, offset: i64, seed: u64) {
        self.replid2 = std::mem::replace(&mut self.replid, random_replid(seed));
        self.second_repl_offset = offset + 1;
    }

    /// `+CONTINUE <new id>` from a primary whose id changed: its old id (ours)
    /// becomes the secondary, valid up to our `offset`.
    pub fn adopt(&mut self, new_replid: &str, offset: i64) {
        self.replid2 = std::mem::replace(&mut self.replid, new_replid.to_string());
        self.second_repl_offset = offset + 1;
    }

    /// True if `id` names history this node holds up to `requested` (the
    /// first byte a replica asks for).
    pub fn accepts(&self, id: &str, requested: i64) -> bool {
        id == self.replid || (id == self.replid2 && requested <= self.second_repl_offset)
    }
}

/// A 40-character lowercase hex id mixed from `seed`, the clock and the pid
/// (ids only have to differ between histories, not be secret).
pub fn random_replid(seed: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = seed ^ nanos ^ ((std::process::id() as u64) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.push_str(&format!("{z:016x}"));
    }
    out.truncate(40);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_forty_lowercase_hex_characters_and_differ() {
        let a = random_replid(1);
        let b = random_replid(1);
        assert_eq!(a.len(), 40);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn a_promotion_keeps_the_old_id_valid_up_to_the_next_byte() {
        let mut ids = ReplIds::new(7);
        let old = ids.replid.clone();
        ids.shift(1147, 8);
        assert_eq!(ids.replid2, old);
        assert_eq!(ids.second_repl_offset, 1148);
        assert!(ids.accepts(&old, 1148));
        assert!(!ids.accepts(&old, 1149));
        assert!(ids.accepts(&ids.replid.clone(), 5000));
        assert!(!ids.accepts("?", 1));
    }
}
