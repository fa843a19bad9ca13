//! [`TakeOutReason`], declared once in omk-events, inside the proof's [`SliceMerge`].
//!
//! The event names a reason's kind under `why`; the proof names it under the enum's own tag
//! (`"result": "conflict"`), beside `landed`. So the proof reads and writes the reason through
//! its event serialization with the tag renamed, and its schema is the event's, retagged: the
//! proof's JSON keeps its shape and a new reason needs no second declaration.

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::Error as _,
    ser::{Error as _, SerializeMap as _, SerializeStruct as _},
};
use serde_json::{Map, Value};

use omk_events::TakeOutReason;

use super::SliceMerge;

/// The tag the event names a reason's kind under.
const EVENT_TAG: &str = "why";

/// The tag of [`SliceMerge`].
const MERGE_TAG: &str = "result";

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
        let mut fields = Map::deserialize(deserializer)?;
        let kind = fields.remove(MERGE_TAG).ok_or_else(|| D::Error::missing_field(MERGE_TAG))?;
        if kind == "landed" {
            let Landed { commit, tree_id } =
                Landed::deserialize(Value::Object(fields)).map_err(D::Error::custom)?;
            return Ok(Self::Landed { commit, tree_id });
        }
        fields.insert(EVENT_TAG.to_owned(), kind);
        TakeOutReason::deserialize(Value::Object(fields))
            .map(Self::TakenOut)
            .map_err(D::Error::custom)
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

/// Adds the event's schema of each reason to the schema of [`SliceMerge`], tagged `result`.
#[cfg(feature = "schema")]
pub(super) fn merge_schema(schema: &mut schemars::Schema) {
    let reasons = schemars::schema_for!(TakeOutReason);
    let reasons = reasons.get("oneOf").and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else { return };
    variants.extend(reasons.into_iter().map(|reason| retag(reason, MERGE_TAG)));
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

    #[test]
    fn a_merge_is_written_with_its_kind_under_result_and_reads_back() {
        let merges = [
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
        ];
        for (merge, json) in merges {
            assert_eq!(serde_json::to_string(&merge).expect("a merge serializes"), json);
            let read: SliceMerge = serde_json::from_str(json).expect("a merge deserializes");
            assert_eq!(read, merge);
        }
        let unknown = serde_json::from_str::<SliceMerge>(r#"{"result":"lost"}"#);
        assert!(unknown.is_err(), "{unknown:?}");
    }
}
