//! Every user-visible error text, byte-identical to Redis 7 / Valkey.
//!
//! Texts are stored without the leading '-' of the wire format; the reply
//! writer adds it. Formatted errors have a function building the text.

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NO_PASSWORD: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in 'set' command";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const CLIENT_NO_SUCH: &str = "ERR No such client";
pub const STRING_EXCEEDS: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// A script with declared flags but without `allow-oom` (or `no-writes`), out of memory.
pub const OOM_ALLOW_OOM: &str =
    "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";
/// What SHUTDOWN callers get when the shutdown fails or is aborted.
pub const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";
pub const NO_SHUTDOWN: &str = "ERR No shutdown in progress.";

/// Redis's text for a connection refused by protected mode.
pub const DENIED_PROTECTED: &str = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

/// `ERR wrong number of arguments for 'get' command`
pub fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

/// `ERR unknown command 'foo', with args beginning with: 'a' 'b' `
pub fn unknown_command(name: &[u8], args: &[bytes::Bytes]) -> String {
    let mut listed = String::new();
    for a in args {
        if listed.len() >= 128 {
            break;
        }
        let room = 128usize.saturating_sub(listed.len());
        listed.push_str(&format!("'{}' ", truncated(a, room)));
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {listed}",
        truncated(name, 128)
    )
}

/// `ERR unknown subcommand 'foo'. Try CONFIG HELP.`
pub fn unknown_subcommand(sub: &[u8], container: &str) -> String {
    format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        truncated(sub, 128),
        container.to_ascii_uppercase()
    )
}

/// Bytes shown in an error message: at most `max` bytes, with spaces and
/// newlines kept out of the one-line error reply as Redis does.
pub fn truncated(b: &[u8], max: usize) -> String {
    let b = &b[..b.len().min(max)];
    String::from_utf8_lossy(b)
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

/// A write sent to a read-only replica.
pub const READONLY: &str = "READONLY You can't write against a read only replica.";
/// A write on a primary with fewer good replicas than min-replicas-to-write.
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
/// A command without the `loading` flag while a snapshot loads.
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";
/// A command without the `stale` flag on a replica whose link is down
/// and `replica-serve-stale-data no`.
pub const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/// A command other than those flagged `allow_busy` while an EVAL script runs
/// past busy-reply-threshold (Redis's `slowevalerr`).
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// The same while a function runs (Redis's `slowscripterr`).
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
/// SCRIPT KILL / FUNCTION KILL with nothing running.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
/// SCRIPT KILL / FUNCTION KILL after the script ran a write command.
pub const UNKILLABLE_WROTE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// SCRIPT KILL / FUNCTION KILL of a script our primary sent.
pub const UNKILLABLE_PRIMARY: &str = "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.";
/// What the caller of a killed script gets (before Redis's " script: <name>, on <chunk>:<line>.").
pub const SCRIPT_KILLED: &str = "ERR Script killed by user with SCRIPT KILL...";
