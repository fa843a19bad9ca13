//! The hash chain: each line of a log carries the SHA-256 of its own content and of the line
//! before it.
//!
//! The hash of an event covers the exact bytes of its line with the trailing `,"hash":"…"`
//! member removed, so it is checked on the bytes as stored, never on a re-encoding, and an
//! event of a kind this build does not know verifies like any other. The body includes the
//! `prev` member, the hash of the previous line ([`EventHash::GENESIS`] for the first), which
//! chains the lines: changing, removing or reordering any line breaks the chain.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The SHA-256 of one event line, shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventHash(pub [u8; 32]);

impl EventHash {
    /// The `prev` of the first event of a log: 32 zero bytes.
    pub const GENESIS: Self = Self([0; 32]);

    /// Returns the hash of a line's body: the line without its `hash` member and newline.
    pub fn of_body(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }

    /// Writes the 64 hex digits of the hash into `out`.
    pub(crate) fn write_hex(&self, out: &mut Vec<u8>) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for byte in self.0 {
            out.push(DIGITS[usize::from(byte >> 4)]);
            out.push(DIGITS[usize::from(byte & 0xf)]);
        }
    }

    /// Parses 64 lowercase hex digits.
    pub(crate) fn from_hex(hex: &[u8]) -> Option<Self> {
        /// The value of each lowercase hex digit; 0xff for every other byte.
        const VALUES: [u8; 256] = {
            let mut values = [0xff; 256];
            let mut c = 0;
            while c < 10 {
                values[b'0' as usize + c] = c as u8;
                c += 1;
            }
            let mut c = 0;
            while c < 6 {
                values[b'a' as usize + c] = 10 + c as u8;
                c += 1;
            }
            values
        };
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0; 32];
        let mut bad = 0u8;
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let (high, low) = (VALUES[usize::from(pair[0])], VALUES[usize::from(pair[1])]);
            // A bad digit sets the high bit; checked once at the end.
            bad |= high | low;
            *byte = (high << 4) | (low & 0xf);
        }
        (bad & 0x80 == 0).then_some(Self(bytes))
    }

    /// Returns the first 12 hex digits, enough to name a hash to a person.
    pub fn short(&self) -> String {
        let mut hex = self.to_string();
        hex.truncate(12);
        hex
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hex = Vec::with_capacity(64);
        self.write_hex(&mut hex);
        // The digits are ASCII, so this never fails.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventHash({self})")
    }
}

/// Returned when a string is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event hash {0:?}: expected 64 lowercase hex digits")]
pub struct InvalidEventHash(pub String);

impl FromStr for EventHash {
    type Err = InvalidEventHash;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_hex(text.as_bytes()).ok_or_else(|| InvalidEventHash(text.to_owned()))
    }
}

impl Serialize for EventHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <&str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for EventHash {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EventHash".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[0-9a-f]{64}$" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_bad_digits() {
        let hash = EventHash::of_body(b"abc");
        assert_eq!(
            hash.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash.to_string().parse::<EventHash>(), Ok(hash));
        assert_eq!(hash.short(), "ba7816bf8f01");
        assert!(
            "BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
                .parse::<EventHash>()
                .is_err()
        );
        assert!("ba78".parse::<EventHash>().is_err());
        assert_eq!(EventHash::GENESIS.to_string(), "0".repeat(64));
    }
}
