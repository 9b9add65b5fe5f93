//! Replication state (no I/O).
