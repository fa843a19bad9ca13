//! The JSON of a replay: [`crate::json::ReplayDocument`], streamed as the log is read.

use std::io::{self, Write};

use omk_events::Event;

use crate::{
    json::{ReplayChain, ReplayEntry, ReplaySummary, SCHEMA_VERSION},
    replay::{
        text::ChainCheck,
        timeline::{Entry, Summary},
    },
};

/// Writes a timeline as one JSON document, streamed: `{"schema_version", "goal_id",
/// "entries": [...], "summary", "chain"}`, each entry on a line of its own.
#[derive(Debug)]
pub struct JsonWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonWriter<W> {
    /// Starts the document for `goal_id`.
    pub fn new(mut out: W, goal_id: &str) -> io::Result<Self> {
        write!(out, "{{\"schema_version\":{SCHEMA_VERSION},\"goal_id\":")?;
        serde_json::to_writer(&mut out, goal_id)?;
        out.write_all(b",\"entries\":[")?;
        Ok(Self { out, first: true })
    }

    /// Writes `entry` with the event it describes.
    pub fn entry(&mut self, entry: &Entry, event: &Event) -> io::Result<()> {
        let event = event_json(event)?;
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, &ReplayEntry::new(entry, event))?;
        Ok(())
    }

    /// Flushes what was written so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Ends the document with the summary and the chain check.
    pub fn finish(mut self, summary: &Summary, check: &ChainCheck) -> io::Result<W> {
        self.out.write_all(b"\n],\"summary\":")?;
        serde_json::to_writer(&mut self.out, &ReplaySummary::new(summary))?;
        self.out.write_all(b",\"chain\":")?;
        serde_json::to_writer(&mut self.out, &ReplayChain::new(check))?;
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Returns `event` as the log holds it: a kind from a newer omk as written.
fn event_json(event: &Event) -> serde_json::Result<serde_json::Value> {
    match event {
        Event::Unknown(unknown) => Ok(unknown.to_json()),
        known => serde_json::to_value(known),
    }
}

#[cfg(test)]
mod tests {
    use omk_events::{
        Envelope, GateFinished, GateKind, GatePhase, Seq, TestCounts, TornTail, UnknownEvent,
    };

    use super::*;
    use crate::{
        fixtures::{envelopes, team_events},
        json::ReplayDocument,
        replay::Timeline,
    };

    #[test]
    fn the_streamed_document_is_the_replay_document_with_a_line_per_entry() -> io::Result<()> {
        let mut events = team_events();
        events.push(Event::GateFinished(GateFinished {
            name: "test".into(),
            gate_kind: GateKind::Test,
            command: vec!["cargo".into(), "test".into()],
            required: true,
            phase: GatePhase::Proposed,
            tree_id: Some("2".repeat(40)),
            allow_no_tests: false,
            exit_code: Some(0),
            signal: None,
            timed_out: false,
            spawn_error: None,
            duration_ms: 12_345,
            output: None,
            tests: Some(TestCounts { passed: 140, failed: 0, skipped: 2 }),
            cached_from: None,
            tests_by_exit_code: false,
            flaky_with: None,
            junit: None,
        }));
        let mut fields = serde_json::Map::new();
        fields.insert("says".to_owned(), "\"hi\"\n".into());
        let mut envelopes = envelopes(events);
        // A log does not write a kind it does not know: a newer omk wrote this one.
        let last = envelopes.last().expect("the fixture has events");
        let unknown = Event::Unknown(UnknownEvent { kind: "from_the_future".to_owned(), fields });
        envelopes.push(Envelope::new(Seq(last.seq.0 + 1), last.at, last.goal_id.clone(), unknown));
        let goal_id = envelopes[0].goal_id.as_str();
        let mut timeline = Timeline::new();
        let mut writer = JsonWriter::new(Vec::new(), goal_id)?;
        let mut entries = Vec::new();
        for envelope in &envelopes {
            let entry = timeline.entry(envelope);
            writer.entry(&entry, &envelope.event)?;
            entries.push(entry);
        }
        let check = ChainCheck {
            head: envelopes.last().and_then(|it| it.hash),
            torn_tail: Some(TornTail { line: 19, offset: 4096, bytes: 22 }),
        };
        let streamed = writer.finish(timeline.summary(), &check)?;
        let streamed = String::from_utf8(streamed).expect("JSON is UTF-8");

        let document = ReplayDocument {
            schema_version: SCHEMA_VERSION,
            goal_id,
            entries: entries
                .iter()
                .zip(&envelopes)
                .map(|(entry, envelope)| Ok(ReplayEntry::new(entry, event_json(&envelope.event)?)))
                .collect::<serde_json::Result<_>>()?,
            summary: ReplaySummary::new(timeline.summary()),
            chain: ReplayChain::new(&check),
        };
        // Newlines inside JSON strings are escaped: every raw one is the writer's.
        assert_eq!(streamed.replace('\n', ""), serde_json::to_string(&document)?);
        assert_eq!(streamed.lines().count(), envelopes.len() + 2);
        assert!(streamed.ends_with("}\n"), "{streamed}");
        Ok(())
    }
}
