//! The primary's answer to `PSYNC <replid> <offset>`: continue from the
//! backlog, or start a full synchronization (Redis's rules, see
//! replication-interop.md §2.2).

use crate::{Backlog, ReplIds};

#[derive(Debug, PartialEq, Eq)]
pub enum PsyncDecision {
    /// `+CONTINUE`: send the backlog from `from` on.
    Continue { from: i64 },
    /// `+FULLRESYNC`; `reason` is the log line Redis prints for a refused
    /// partial resync (None for `PSYNC ? -1`).
    Full { reason: Option<String> },
}

/// Decides how to serve `PSYNC id offset` (`offset` = first byte wanted).
pub fn decide(ids: &ReplIds, backlog: Option<&Backlog>, id: &str, offset: &str) -> PsyncDecision {
    if id == "?" {
        return PsyncDecision::Full { reason: None };
    }
    let Ok(requested) = offset.parse::<i64>() else {
        return PsyncDecision::Full {
            reason: Some("Partial resynchronization not accepted: invalid offset".into()),
        };
    };
    if !ids.accepts(id, requested) {
        let reason = if id != ids.replid && id != ids.replid2 {
            format!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{id}', my replication IDs are '{}' and '{}')",
                ids.replid, ids.replid2
            )
        } else {
            format!(
                "Partial resynchronization not accepted: Requested offset for second ID was {requested}, but I can reply up to {}",
                ids.second_repl_offset
            )
        };
        return PsyncDecision::Full {
            reason: Some(reason),
        };
    }
    match backlog {
        Some(b) if b.covers(requested) => PsyncDecision::Continue { from: requested },
        _ => PsyncDecision::Full {
            reason: Some(format!(
                "Unable to partial resync with replica: lack of backlog (Replica request was: {requested})."
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_id_with_covered_offset_continues() {
        let ids = ReplIds::new(1);
        let mut b = Backlog::new(1024, 0);
        b.feed(&[b'x'; 929]);
        assert_eq!(
            decide(&ids, Some(&b), &ids.replid, "930"),
            PsyncDecision::Continue { from: 930 }
        );
        assert_eq!(
            decide(&ids, Some(&b), &ids.replid, "1"),
            PsyncDecision::Continue { from: 1 }
        );
        assert!(matches!(
            decide(&ids, Some(&b), &ids.replid, "931"),
            PsyncDecision::Full { .. }
        ));
    }

    #[test]
    fn unknown_ids_question_marks_and_missing_backlogs_get_a_full_sync() {
        let ids = ReplIds::new(1);
        let b = Backlog::new(1024, 0);
        assert_eq!(
            decide(&ids, Some(&b), "?", "-1"),
            PsyncDecision::Full { reason: None }
        );
        assert!(matches!(
            decide(&ids, Some(&b), "abc", "1"),
            PsyncDecision::Full { reason: Some(_) }
        ));
        assert!(matches!(
            decide(&ids, None, &ids.replid, "1"),
            PsyncDecision::Full { reason: Some(_) }
        ));
        assert!(matches!(
            decide(&ids, Some(&b), &ids.replid, "x"),
            PsyncDecision::Full { reason: Some(_) }
        ));
    }

    #[test]
    fn the_previous_id_is_accepted_up_to_the_second_offset() {
        let mut ids = ReplIds::new(1);
        let old = ids.replid.clone();
        let mut b = Backlog::new(1024, 0);
        b.feed(&[b'x'; 100]);
        ids.shift(100, 2);
        b.feed(&[b'y'; 10]);
        assert_eq!(
            decide(&ids, Some(&b), &old, "101"),
            PsyncDecision::Continue { from: 101 }
        );
        assert!(matches!(
            decide(&ids, Some(&b), &old, "102"),
            PsyncDecision::Full { .. }
        ));
    }
}
