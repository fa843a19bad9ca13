//! Replay: the timeline of a goal folded from its events, and its text and JSON writers.
//!
//! `omk replay` and the narration of `omk run` (`progress.rs`) show a goal through
//! [`Timeline`]. The module is public for the replay benchmark (`benches/replay.rs`) only.

mod describe;
mod json;
mod text;
mod timeline;

pub use crate::replay::json::JsonWriter;
pub use crate::replay::text::{ChainCheck, TextWriter, header_time};
pub use crate::replay::timeline::{Entry, GateVerdict, Summary, Timeline};
