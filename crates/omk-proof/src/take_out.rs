//! [`TakeOutReason`], declared once in omk-events, inside the proof's [`SliceMerge`] and
//! [`NotLanded`].
//!
//! The event names a reason's kind under `why`; the proof names it under the embedding enum's
//! own tag, beside that enum's other variants: `"result": "conflict"` in a slice's merge,
//! `"kind": "conflict"` in a gap's `why`. So the proof reads and writes the reason through its
//! event serialization with the tag renamed, and its schema is the event's, retagged: the
//! proof's JSON keeps its shape and a new reason needs no second declaration.

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::Error as _,
    ser::{Error as _, SerializeMap as _, SerializeStruct as _},
};
use serde_json::{Map, Value};

use omk_events::{FailureCause, TakeOutReason};

use crate::{gap::NotLanded, model::SliceMerge};

/// The tag the event names a reason's kind under.
const EVENT_TAG: &str = "why";

/// The tag of [`SliceMerge`].
const MERGE_TAG: &str = "result";

/// The tag of [`NotLanded`].
const NOT_LANDED_TAG: &str = "kind";

impl Serialize for SliceMerge {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Landed { commit, tree_id } => {
                let mut state = serializer.serialize_struct("SliceMerge", 3)?;
                state.serialize_field(MERGE_TAG, "landed")?;
                state.serialize_field("commit", commit)?;
                state.serialize_field("tree_id", tree_id)?;
                state.end()
            }
            Self::TakenOut(reason) => serialize_reason(reason, MERGE_TAG, serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SliceMerge {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Landed {
            commit: String,
            tree_id: String,
        }
        let (kind, fields) = split_tag::<D>(deserializer, MERGE_TAG)?;
        if kind == "landed" {
            let Landed { commit, tree_id } =
                Landed::deserialize(Value::Object(fields)).map_err(D::Error::custom)?;
            return Ok(Self::Landed { commit, tree_id });
        }
        reason_from(kind, fields).map(Self::TakenOut)
    }
}

impl Serialize for NotLanded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Failed { cause, reason } => {
                let mut state = serializer.serialize_struct("NotLanded", 3)?;
                state.serialize_field(NOT_LANDED_TAG, "failed")?;
                state.serialize_field("cause", cause)?;
                state.serialize_field("reason", reason)?;
                state.end()
            }
            Self::TakenOut(reason) => serialize_reason(reason, NOT_LANDED_TAG, serializer),
        }
    }
}

impl<'de> Deserialize<'de> for NotLanded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Failed {
            cause: FailureCause,
            reason: String,
        }
        let (kind, fields) = split_tag::<D>(deserializer, NOT_LANDED_TAG)?;
        if kind == "failed" {
            let Failed { cause, reason } =
                Failed::deserialize(Value::Object(fields)).map_err(D::Error::custom)?;
            return Ok(Self::Failed { cause, reason });
        }
        reason_from(kind, fields).map(Self::TakenOut)
    }
}

/// Writes `reason` as an object: its kind under `tag`, then its fields.
fn serialize_reason<S: Serializer>(
    reason: &TakeOutReason,
    tag: &'static str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let Value::Object(fields) = serde_json::to_value(reason).map_err(S::Error::custom)? else {
        return Err(S::Error::custom("a take-out reason serializes as an object"));
    };
    let mut map = serializer.serialize_map(Some(fields.len()))?;
    map.serialize_entry(tag, &fields.get(EVENT_TAG))?;
    // The fields follow in the map's order: by name, which for every reason is also the order
    // they are declared in, so the bytes are those a derived serialization would write.
    for (key, value) in fields.iter().filter(|(key, _)| *key != EVENT_TAG) {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// Reads an object and takes its kind out from under `tag`: returns the kind and the other
/// fields.
fn split_tag<'de, D: Deserializer<'de>>(
    deserializer: D,
    tag: &'static str,
) -> Result<(Value, Map<String, Value>), D::Error> {
    let mut fields = Map::deserialize(deserializer)?;
    let kind = fields.remove(tag).ok_or_else(|| D::Error::missing_field(tag))?;
    Ok((kind, fields))
}

/// Reads the reason of kind `kind` from its other fields, through the event's serialization.
fn reason_from<E: serde::de::Error>(
    kind: Value,
    mut fields: Map<String, Value>,
) -> Result<TakeOutReason, E> {
    fields.insert(EVENT_TAG.to_owned(), kind);
    TakeOutReason::deserialize(Value::Object(fields)).map_err(E::custom)
}

/// Adds the event's schema of each reason to the schema of [`SliceMerge`], tagged `result`.
#[cfg(feature = "schema")]
pub(crate) fn merge_schema(schema: &mut schemars::Schema) {
    add_reasons(schema, MERGE_TAG);
}

/// Adds the event's schema of each reason to the schema of [`NotLanded`], tagged `kind`.
#[cfg(feature = "schema")]
pub(crate) fn not_landed_schema(schema: &mut schemars::Schema) {
    add_reasons(schema, NOT_LANDED_TAG);
}

/// Appends the event's schema of each reason, tagged `tag`, to the variants of `schema`.
#[cfg(feature = "schema")]
fn add_reasons(schema: &mut schemars::Schema, tag: &str) {
    let reasons = schemars::schema_for!(TakeOutReason);
    let reasons = reasons.get("oneOf").and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else { return };
    variants.extend(reasons.into_iter().map(|reason| retag(reason, tag)));
}

/// Returns the schema of one reason with its kind under `tag` instead of the event's `why`.
#[cfg(feature = "schema")]
fn retag(mut reason: Value, tag: &str) -> Value {
    if let Some(properties) = reason.get_mut("properties").and_then(Value::as_object_mut)
        && let Some(kind) = properties.remove(EVENT_TAG)
    {
        properties.insert(tag.to_owned(), kind);
    }
    if let Some(required) = reason.get_mut("required").and_then(Value::as_array_mut) {
        for name in required.iter_mut().filter(|name| *name == EVENT_TAG) {
            *name = Value::from(tag);
        }
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that each value is written as its JSON and reads back as itself.
    fn round_trips<T>(cases: impl IntoIterator<Item = (T, &'static str)>)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        for (value, json) in cases {
            assert_eq!(serde_json::to_string(&value).expect("it serializes"), json);
            let read: T = serde_json::from_str(json).expect("it deserializes");
            assert_eq!(read, value);
        }
    }

    #[test]
    fn a_merge_is_written_with_its_kind_under_result_and_reads_back() {
        round_trips([
            (
                SliceMerge::Landed { commit: "c1".into(), tree_id: "t1".into() },
                r#"{"result":"landed","commit":"c1","tree_id":"t1"}"#,
            ),
            (
                SliceMerge::TakenOut(TakeOutReason::Conflict { paths: vec!["a".into()] }),
                r#"{"result":"conflict","paths":["a"]}"#,
            ),
            (
                SliceMerge::TakenOut(TakeOutReason::BrokeGates {
                    gates: vec!["test".into()],
                    tree_id: "t2".into(),
                }),
                r#"{"result":"broke_gates","gates":["test"],"tree_id":"t2"}"#,
            ),
            (
                SliceMerge::TakenOut(TakeOutReason::Dependency { task: "docs".into() }),
                r#"{"result":"dependency","task":"docs"}"#,
            ),
        ]);
        let unknown = serde_json::from_str::<SliceMerge>(r#"{"result":"lost"}"#);
        assert!(unknown.is_err(), "{unknown:?}");
    }

    #[test]
    fn a_slice_not_landed_is_written_with_its_kind_under_kind_and_reads_back() {
        round_trips([
            (
                NotLanded::Failed { cause: FailureCause::Budget, reason: "out of budget".into() },
                r#"{"kind":"failed","cause":"budget","reason":"out of budget"}"#,
            ),
            (
                NotLanded::TakenOut(TakeOutReason::Conflict { paths: vec!["a".into()] }),
                r#"{"kind":"conflict","paths":["a"]}"#,
            ),
            (
                NotLanded::TakenOut(TakeOutReason::BrokeGates {
                    gates: vec!["test".into()],
                    tree_id: "t2".into(),
                }),
                r#"{"kind":"broke_gates","gates":["test"],"tree_id":"t2"}"#,
            ),
            (
                NotLanded::TakenOut(TakeOutReason::Dependency { task: "docs".into() }),
                r#"{"kind":"dependency","task":"docs"}"#,
            ),
        ]);
        for json in [r#"{"kind":"lost"}"#, r#"{"kind":"failed","cause":"budget"}"#, "{}"] {
            let read = serde_json::from_str::<NotLanded>(json);
            assert!(read.is_err(), "{json}: {read:?}");
        }
    }
}
