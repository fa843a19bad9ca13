//! The format of a log's lines: its version, how one line is checked on its own, and the torn
//! tail a crash leaves.
//!
//! The reader (`read.rs`), its batches (`batch.rs`) and the writer (`log.rs`) all build on it.

use std::{borrow::Cow, path::Path};

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::{
    error::Error,
    event::{Envelope, parse_event},
    hash::EventHash,
    ids::{GoalId, Seq},
};

/// The log format version this build writes and reads, `major.minor`.
///
/// A reader accepts any minor of its major and refuses every other major. Format 1.1 added
/// the hash chain (`prev` and `hash`); logs of format 1.0 are read without it. Format 1.2 added
/// the events of team runs (`task_graph_planned`, `slice`, `queue_merged`, ...).
pub const FORMAT_VERSION: &str = "1.2";

/// `,"hash":"` + 64 hex digits + `"}`: how every chained line ends.
pub(crate) const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;

/// Bytes after the last newline of a log: a line a crash cut short.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TornTail {
    /// The 1-based number the line would have had.
    pub line: u64,
    /// Where it starts in the file.
    pub offset: u64,
    /// How many bytes of it there are.
    pub bytes: u64,
}

/// Checks one line on its own: its JSON, its format and, when chained, its hash.
pub(crate) fn check_alone(
    path: &Path,
    line_no: u64,
    text: &[u8],
    goal_hint: Option<&GoalId>,
) -> Result<Envelope, Error> {
    let envelope = match parse_envelope(text, goal_hint) {
        Ok(envelope) => envelope,
        // A newer major version's line may not parse at all: say that, not a parse error.
        Err(source) => {
            check_format(path, line_no, format_of(text).as_deref().unwrap_or(FORMAT_VERSION))?;
            return Err(Error::Parse { path: path.to_owned(), line: line_no, source });
        }
    };
    check_format(path, line_no, &envelope.format)?;
    match (envelope.prev, envelope.hash) {
        (None, None) => {}
        (Some(_), Some(hash)) => {
            if body_hash(text) != Some(hash) {
                return Err(Error::Tampered { path: path.to_owned(), line: line_no });
            }
        }
        _ => return Err(Error::MixedChain { path: path.to_owned(), line: line_no }),
    }
    Ok(envelope)
}

/// Parses one line: the writer's layout directly, any other with the general parser.
fn parse_envelope(text: &[u8], goal_id: Option<&GoalId>) -> Result<Envelope, serde_json::Error> {
    match parse_written(text, goal_id) {
        Some(envelope) => Ok(envelope),
        None => parse_general(text, goal_id),
    }
}

/// Parses one line of any layout, borrowing from it where it can: the event's text is
/// dispatched on its kind without a copy, and a goal id equal to `goal_id` is not validated
/// again.
pub(crate) fn parse_general(
    text: &[u8],
    goal_id: Option<&GoalId>,
) -> Result<Envelope, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        format: Cow<'a, str>,
        seq: Seq,
        #[serde(borrow)]
        at: Cow<'a, str>,
        #[serde(borrow)]
        goal_id: Cow<'a, str>,
        #[serde(borrow)]
        event: &'a RawValue,
        #[serde(default)]
        prev: Option<EventHash>,
        #[serde(default)]
        hash: Option<EventHash>,
    }
    let line: Line<'_> = serde_json::from_slice(text)?;
    let goal_id = match goal_id {
        Some(known) if known.as_str() == line.goal_id => known.clone(),
        _ => GoalId::parse(&line.goal_id).map_err(serde::de::Error::custom)?,
    };
    Ok(Envelope {
        format: line.format.into_owned(),
        seq: line.seq,
        at: crate::timestamp::parse(&line.at).map_err(serde::de::Error::custom)?,
        goal_id,
        event: parse_event(line.event.get())?,
        prev: line.prev,
        hash: line.hash,
    })
}

/// Parses a line laid out exactly as [`crate::EventLog`] writes it, without a general JSON
/// parser for the envelope; `None` for any other layout or any value it does not take, and
/// then the general parser decides, errors included.
///
/// It takes what the general parser would take, with the same result: the members in the
/// writer's order, with no whitespace, escapes or control characters in the strings, the
/// current format, a plain number, a valid goal id and time, an event object that parses on
/// its own and a `prev` and `hash` of 64 lowercase hex digits each.
pub(crate) fn parse_written(text: &[u8], goal_id: Option<&GoalId>) -> Option<Envelope> {
    /// `,"prev":"` + 64 hex digits + `","hash":"` + 64 hex digits + `"}`.
    const CHAIN_LEN: usize = 9 + 64 + 10 + 64 + 2;
    /// Brackets an event may open and still be read here.
    const MAX_OPENINGS: usize = 100;
    let rest = text.strip_prefix(b"{\"format\":\"")?;
    let rest = rest.strip_prefix(FORMAT_VERSION.as_bytes())?;
    let rest = rest.strip_prefix(b"\",\"seq\":")?;
    let digits = rest.iter().position(|c| !c.is_ascii_digit())?;
    let (number, rest) = rest.split_at(digits);
    let seq = plain_number(number)?;
    let rest = rest.strip_prefix(b",\"at\":\"")?;
    let (at, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(b",\"goal_id\":\"")?;
    let (goal, rest) = plain_string(rest)?;
    let rest = rest.strip_prefix(b",\"event\":")?;
    let cut = rest.len().checked_sub(CHAIN_LEN)?;
    let (event, chain) = rest.split_at(cut);
    let chain = chain.strip_prefix(b",\"prev\":\"")?.strip_suffix(b"\"}")?;
    let (prev, hash) = chain.split_at(64);
    let hash = hash.strip_prefix(b"\",\"hash\":\"")?;
    // No whitespace around the event object: its text is exactly what the general parser's
    // raw value would be.
    if event.first() != Some(&b'{') || event.last() != Some(&b'}') {
        return None;
    }
    // Far from the general parser's nesting limit, where the envelope's extra level could
    // make it refuse what the event's own parser takes. Each level takes two bytes, so only
    // a long event can be deep.
    if event.len() > 2 * MAX_OPENINGS
        && event.iter().filter(|&&c| c == b'{' || c == b'[').count() > MAX_OPENINGS
    {
        return None;
    }
    let goal_id = match goal_id {
        Some(known) if known.as_str() == goal => known.clone(),
        _ => GoalId::parse(goal).ok()?,
    };
    Some(Envelope {
        format: FORMAT_VERSION.to_owned(),
        seq: Seq(seq),
        at: crate::timestamp::parse(at).ok()?,
        goal_id,
        event: parse_event(std::str::from_utf8(event).ok()?).ok()?,
        prev: Some(EventHash::from_hex(prev)?),
        hash: Some(EventHash::from_hex(hash)?),
    })
}

/// Reads a JSON number as the general parser reads a `u64`: digits without a leading zero.
fn plain_number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &c| acc.checked_mul(10)?.checked_add(u64::from(c - b'0')))
}

/// Splits off a string's content up to its closing quote when it is printable ASCII without
/// escapes, so that it means what it says; `None` otherwise.
fn plain_string(text: &[u8]) -> Option<(&str, &[u8])> {
    let end = text.iter().position(|&c| c == b'"')?;
    let content = &text[..end];
    // Looks at every byte rather than stopping at the first bad one, so it runs a block at a
    // time.
    if !content.iter().fold(true, |plain, &c| plain & (c != b'\\') & (b' '..=b'~').contains(&c)) {
        return None;
    }
    let content = std::str::from_utf8(content).ok()?;
    Some((content, &text[end + 1..]))
}

/// Returns the hash of a chained line's body: the line without `,"hash":"…"`; `None` when the
/// line does not end with a hash member in the form the writer writes.
fn body_hash(line: &[u8]) -> Option<EventHash> {
    let cut = line.len().checked_sub(HASH_SUFFIX_LEN)?;
    let (body, suffix) = line.split_at(cut);
    let hex = suffix.strip_prefix(b",\"hash\":\"")?.strip_suffix(b"\"}")?;
    // 64 lowercase hex digits, as `EventHash::from_hex` takes, without decoding them.
    if !hex.iter().fold(true, |ok, c| ok & matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(body);
    hasher.update(b"}");
    Some(EventHash(hasher.finalize().into()))
}

fn check_format(path: &Path, line: u64, format: &str) -> Result<(), Error> {
    if format == FORMAT_VERSION {
        return Ok(());
    }
    let major = |version: &str| version.split('.').next().map(str::to_owned);
    if major(format) != major(FORMAT_VERSION) {
        return Err(Error::UnsupportedFormat {
            path: path.to_owned(),
            line,
            found: format.to_owned(),
            supported: FORMAT_VERSION,
        });
    }
    Ok(())
}

/// Reads just the `format` member of a line that did not parse as an envelope.
fn format_of(text: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Header {
        format: String,
    }
    serde_json::from_slice::<Header>(text).ok().map(|header| header.format)
}
