//! What one operation's outcome was, in the classes the report counts, and the compact
//! per-operation record the workers keep (a few million of them fit in memory, and the
//! windows are computed afterwards from them, so nothing is sampled or lost).

use std::io;

use handoff_protocol::Frame;

/// Why an operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// `-READONLY`: a write reached a replica.
    Readonly,
    /// `-REDIRECT` returned because the hops were used up (or a client without the
    /// redirect code got one).
    RedirectLoop,
    /// Connection reset or aborted by the peer, or a broken pipe on write.
    Reset,
    /// Connection refused.
    Refused,
    /// The peer closed the connection while a reply was awaited.
    Eof,
    /// No reply within the operation timeout.
    Timeout,
    /// `-LOADING`: the node was loading its data set.
    Loading,
    /// `-MASTERDOWN`: a replica with `replica-serve-stale-data no` and no link.
    Masterdown,
    /// Any other error reply or I/O failure.
    Other,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 9] = [
        ErrorClass::Readonly,
        ErrorClass::RedirectLoop,
        ErrorClass::Reset,
        ErrorClass::Refused,
        ErrorClass::Eof,
        ErrorClass::Timeout,
        ErrorClass::Loading,
        ErrorClass::Masterdown,
        ErrorClass::Other,
    ];

    /// The name used in the table and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Readonly => "readonly",
            ErrorClass::RedirectLoop => "redirect_loop",
            ErrorClass::Reset => "reset",
            ErrorClass::Refused => "refused",
            ErrorClass::Eof => "eof",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Loading => "loading",
            ErrorClass::Masterdown => "masterdown",
            ErrorClass::Other => "other",
        }
    }

    /// The class of an error reply's text.
    pub fn of_reply(text: &[u8]) -> ErrorClass {
        let code = text.split(|&b| b == b' ').next().unwrap_or(&[]);
        match code {
            b"READONLY" => ErrorClass::Readonly,
            b"REDIRECT" => ErrorClass::RedirectLoop,
            b"LOADING" => ErrorClass::Loading,
            b"MASTERDOWN" => ErrorClass::Masterdown,
            _ => ErrorClass::Other,
        }
    }

    /// The class of an I/O failure.
    pub fn of_io(e: &io::Error) -> ErrorClass {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => ErrorClass::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => ErrorClass::Reset,
            io::ErrorKind::UnexpectedEof => ErrorClass::Eof,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ErrorClass::Timeout,
            _ => ErrorClass::Other,
        }
    }
}

/// An operation's outcome as the report sees it.
pub fn classify(result: &io::Result<Frame>) -> Option<ErrorClass> {
    match result {
        Ok(frame) => frame.error_text().map(ErrorClass::of_reply),
        Err(e) => Some(ErrorClass::of_io(e)),
    }
}

/// One operation: when it was sent and answered (microseconds since the run started)
/// and its error, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub start_us: u64,
    pub end_us: u64,
    pub error: Option<ErrorClass>,
}

impl Op {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    pub fn latency_us(&self) -> u64 {
        self.end_us.saturating_sub(self.start_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_replies_are_classed_by_their_code() {
        let c = ErrorClass::of_reply;
        assert_eq!(
            c(b"READONLY You can't write against a read only replica."),
            ErrorClass::Readonly
        );
        assert_eq!(c(b"REDIRECT 127.0.0.1:7001"), ErrorClass::RedirectLoop);
        assert_eq!(
            c(b"LOADING Redis is loading the dataset in memory"),
            ErrorClass::Loading
        );
        assert_eq!(
            c(b"MASTERDOWN Link with MASTER is down"),
            ErrorClass::Masterdown
        );
        assert_eq!(c(b"ERR wrong number of arguments"), ErrorClass::Other);
        assert_eq!(c(b""), ErrorClass::Other);
    }

    #[test]
    fn io_failures_are_classed_by_kind() {
        let c = |k| ErrorClass::of_io(&io::Error::new(k, "x"));
        assert_eq!(c(io::ErrorKind::ConnectionRefused), ErrorClass::Refused);
        assert_eq!(c(io::ErrorKind::ConnectionReset), ErrorClass::Reset);
        assert_eq!(c(io::ErrorKind::BrokenPipe), ErrorClass::Reset);
        assert_eq!(c(io::ErrorKind::UnexpectedEof), ErrorClass::Eof);
        assert_eq!(c(io::ErrorKind::WouldBlock), ErrorClass::Timeout);
        assert_eq!(c(io::ErrorKind::TimedOut), ErrorClass::Timeout);
    }
}
