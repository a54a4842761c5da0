//! What a link carried: the unit in which drivers that count their sockets
//! report bytes (see [`super::WriteOutcome::link`]).

/// Bytes a session's link carried, counted on its socket (the wire
/// protocol and any TLS included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkBytes {
    /// Received from the server.
    pub read: u64,
    /// Sent to the server.
    pub written: u64,
}

impl LinkBytes {
    /// What was carried since `earlier` (a reading of the same counters).
    pub fn since(self, earlier: LinkBytes) -> LinkBytes {
        LinkBytes {
            read: self.read.saturating_sub(earlier.read),
            written: self.written.saturating_sub(earlier.written),
        }
    }
}

impl std::ops::Add for LinkBytes {
    type Output = LinkBytes;

    fn add(self, other: LinkBytes) -> LinkBytes {
        LinkBytes {
            read: self.read + other.read,
            written: self.written + other.written,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_and_sums() {
        let at = |read, written| LinkBytes { read, written };
        assert_eq!(at(500, 90).since(at(120, 40)), at(380, 50));
        assert_eq!(at(5, 5).since(at(9, 1)), at(0, 4), "never below zero");
        assert_eq!(at(1, 2) + at(30, 40), at(31, 42));
    }
}
