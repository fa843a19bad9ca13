//! in-toto attestations of a proof: Statement v1 with SLSA provenance, one test-result per
//! gate and a SLSA verification summary, and the DSSE envelope they are signed in.
//!
//! Everything here is pure: signing happens outside this crate, over
//! [`DsseEnvelope::signing_input`], and the signature is added with
//! [`DsseEnvelope::add_signature`].

use std::collections::BTreeMap;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE},
};
use omk_events::sha256_hex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    gap::Gap,
    model::{IntegrationDecision, Proof, ProofGate},
    readiness::{ProofStatus, Readiness},
};

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The DSSE `payloadType` of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The predicate type of SLSA provenance v1.
pub const PROVENANCE_PREDICATE: &str = "https://slsa.dev/provenance/v1";
/// The predicate type of an in-toto test result v0.1.
pub const TEST_RESULT_PREDICATE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// The predicate type of a SLSA verification summary v1.
pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";
/// The `buildType` of an omk run: what ran and what its parameters mean.
pub const BUILD_TYPE: &str = "https://github.com/omk-dev/omk/blob/main/docs/proof.md#omk-run-v1";
/// The policy a verification summary applies: the readiness rules.
pub const POLICY_URI: &str = "https://github.com/omk-dev/omk/blob/main/docs/proof.md#readiness";
/// The member of the verification summary's predicate that holds the digest of the goal's log:
/// `{"goal_id", "events", "head"}`, the event count and the hash of the last event.
pub const LOG_DIGEST_KEY: &str = "omk_log";
/// The builder and verifier id used when [`ExportOptions`] names none.
pub const DEFAULT_BUILDER_ID: &str = "https://github.com/omk-dev/omk";

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about, matched by digest.
    pub subject: Vec<ResourceDescriptor>,
    /// The predicate's type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    pub predicate: Value,
}

impl Statement {
    /// Returns the statement as compact JSON bytes with sorted object keys: the DSSE payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a statement serializes: it is plain JSON data")
    }

    /// Returns the SHA-256 of [`Statement::to_bytes`], lowercase hex.
    pub fn sha256(&self) -> String {
        sha256_hex(&self.to_bytes())
    }
}

/// An in-toto ResourceDescriptor: a named thing and its digests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// A name, unique within its list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URI for the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests by algorithm (`sha256`, `gitCommit`, `gitTree`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// The resource's content, base64, for small resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The media type of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Extra facts about the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

/// Who the attestations name as builder and verifier, and what repository they are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The URI of the omk installation that built and verified the run.
    pub builder_id: String,
    /// The repository, as a URI such as `git+https://github.com/org/repo`; the verification
    /// summary falls back to an `urn:omk:goal:` URN.
    pub resource_uri: Option<String>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self { builder_id: DEFAULT_BUILDER_ID.to_owned(), resource_uri: None }
    }
}

/// Returned when a proof cannot be attested or an envelope cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The proof names no proposed tree, so there is no subject.
    #[error(
        "export proof: goal {goal_id} has no proposed tree, so there is nothing to attest; run the goal until its changes are captured"
    )]
    NoSubject {
        /// The goal.
        goal_id: String,
    },
    /// The envelope's payload is not base64.
    #[error("read DSSE envelope: the payload is not base64 (standard or URL-safe)")]
    InvalidPayload,
}

/// Returns every statement of a proof: provenance, a test result per proposed gate, and the
/// verification summary last (it names the others by digest).
pub fn statements(proof: &Proof, options: &ExportOptions) -> Result<Vec<Statement>, ExportError> {
    let mut statements = vec![provenance(proof, options)?];
    statements.extend(test_results(proof)?);
    let summary = verification_summary(proof, options, &statements)?;
    statements.push(summary);
    Ok(statements)
}

/// Returns the subject of every statement: the proposed tree, and its commit once committed.
pub fn subject(proof: &Proof) -> Result<ResourceDescriptor, ExportError> {
    let Some(tree_id) = &proof.git.tree_id else {
        return Err(ExportError::NoSubject { goal_id: proof.goal_id.to_string() });
    };
    let mut digest = BTreeMap::from([("gitTree".to_owned(), tree_id.clone())]);
    if let Some(commit) = proof.git.head_commit.as_ref().filter(|_| proof.git.dirty == Some(false))
    {
        digest.insert("gitCommit".to_owned(), commit.clone());
    }
    Ok(ResourceDescriptor {
        name: Some(proof.git.branch.clone().unwrap_or_else(|| "_".to_owned())),
        digest,
        ..ResourceDescriptor::default()
    })
}

/// Returns the SLSA provenance of the run: what omk ran, with which inputs, producing what.
pub fn provenance(proof: &Proof, options: &ExportOptions) -> Result<Statement, ExportError> {
    let gates: Vec<Value> = proof
        .proposed_gates()
        .map(
            |gate| json!({ "name": gate.name, "command": gate.command, "required": gate.required }),
        )
        .collect();
    let byproducts: Vec<ResourceDescriptor> = proof
        .artifacts
        .iter()
        .map(|artifact| ResourceDescriptor {
            name: Some(artifact.path.clone()),
            digest: BTreeMap::from([("sha256".to_owned(), artifact.sha256.clone())]),
            ..ResourceDescriptor::default()
        })
        .collect();
    let base = ResourceDescriptor {
        name: Some("base".to_owned()),
        digest: BTreeMap::from([("gitCommit".to_owned(), proof.git.base_commit.clone())]),
        annotations: proof.git.base_branch.as_ref().map(|branch| json!({ "branch": branch })),
        ..ResourceDescriptor::default()
    };
    let predicate = json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "promptSha256": sha256_hex(proof.task.prompt.as_bytes()),
                "agent": proof.task.agent,
                "goalKind": proof.task.goal_kind,
                "gates": gates,
            },
            "internalParameters": { "budget": proof.budget.limits },
            "resolvedDependencies": [base],
        },
        "runDetails": {
            "builder": { "id": options.builder_id, "version": { "omk": proof.task.omk_version } },
            "metadata": {
                "invocationId": proof.goal_id,
                "startedOn": rfc3339(proof.task.started_at),
                "finishedOn": rfc3339(proof.generated_at),
            },
            "byproducts": byproducts,
        },
    });
    Ok(statement(subject(proof)?, PROVENANCE_PREDICATE, predicate))
}

/// Returns one test-result statement per proposed gate, in the proof's order.
pub fn test_results(proof: &Proof) -> Result<Vec<Statement>, ExportError> {
    let subject = subject(proof)?;
    Ok(proof
        .proposed_gates()
        .map(|gate| statement(subject.clone(), TEST_RESULT_PREDICATE, test_result(gate)))
        .collect())
}

fn test_result(gate: &ProofGate) -> Value {
    let command = serde_json::to_vec(&gate.command).expect("a list of strings serializes");
    let configuration = ResourceDescriptor {
        name: Some(format!("gate:{}", gate.name)),
        content: Some(STANDARD.encode(command)),
        media_type: Some("application/json".to_owned()),
        ..ResourceDescriptor::default()
    };
    json!({
        "result": if gate.passed { "PASSED" } else { "FAILED" },
        "configuration": [configuration],
        "passedTests": [],
        "warnedTests": [],
        "failedTests": [],
        "omk_gate": gate.name,
        "omk_kind": gate.kind,
        "omk_required": gate.required,
        "omk_command": gate.command,
        "omk_exitCode": gate.exit_code,
        "omk_signal": gate.signal,
        "omk_timedOut": gate.timed_out,
        "omk_durationMs": gate.duration_ms,
        "omk_tests": gate.tests,
        "omk_treeId": gate.tree_id,
        "omk_afterLastMutation": gate.after_last_mutation,
        "omk_output": gate.output,
    })
}

/// Returns the verification summary: the verdict, naming `inputs` by digest.
///
/// `verificationResult` is `PASSED` exactly when the proof's status is `ready`;
/// `verifiedLevels` lists the `ORG_SOURCE_OMK_*` properties that hold.
pub fn verification_summary(
    proof: &Proof,
    options: &ExportOptions,
    inputs: &[Statement],
) -> Result<Statement, ExportError> {
    let mut subject = subject(proof)?;
    if let Some(branch) = &proof.git.branch {
        subject.annotations = Some(json!({ "sourceRefs": [format!("refs/heads/{branch}")] }));
    }
    let rungs: Vec<Readiness> = proof.known_gaps.iter().filter_map(|it| it.gap.rung()).collect();
    let gates_passed = !rungs.iter().any(|rung| {
        matches!(
            rung,
            Readiness::GatesFailing
                | Readiness::NoTestsRan
                | Readiness::NotRerunAfterChange
                | Readiness::GatesOnDifferentTree
        )
    });
    let review_passed = !rungs
        .iter()
        .any(|rung| matches!(rung, Readiness::ReviewMissing | Readiness::ReviewFailed));
    let surface_kept = !proof
        .known_gaps
        .iter()
        .any(|it| matches!(it.gap, Gap::GateSurfaceChanged { .. } | Gap::GateSurfaceNotChecked));
    let accepted = proof.integration.as_ref().is_some_and(|it| {
        it.decision == IntegrationDecision::Accepted
            && Some(&it.tree_id) == proof.git.tree_id.as_ref()
    });
    let levels: Vec<&str> = [
        (gates_passed, "ORG_SOURCE_OMK_GATES_PASSED"),
        (review_passed, "ORG_SOURCE_OMK_REVIEW_PASSED"),
        (surface_kept, "ORG_SOURCE_OMK_GATE_SURFACE_KEPT"),
        (accepted, "ORG_SOURCE_OMK_ACCEPTED"),
    ]
    .into_iter()
    .filter_map(|(holds, level)| holds.then_some(level))
    .collect();
    let input_attestations: Vec<ResourceDescriptor> = inputs
        .iter()
        .enumerate()
        .map(|(idx, input)| ResourceDescriptor {
            name: Some(format!("{idx}:{}", input.predicate_type)),
            digest: BTreeMap::from([("sha256".to_owned(), input.sha256())]),
            ..ResourceDescriptor::default()
        })
        .collect();
    let resource_uri =
        options.resource_uri.clone().unwrap_or_else(|| format!("urn:omk:goal:{}", proof.goal_id));
    let predicate = json!({
        "verifier": { "id": options.builder_id, "version": { "omk": proof.task.omk_version } },
        "timeVerified": rfc3339(proof.generated_at),
        "resourceUri": resource_uri,
        "policy": { "uri": POLICY_URI },
        "inputAttestations": input_attestations,
        "verificationResult": if proof.status == ProofStatus::Ready { "PASSED" } else { "FAILED" },
        "verifiedLevels": levels,
        "slsaVersion": "1.0",
        "omk_status": proof.status,
        "omk_readiness": proof.readiness,
    });
    let mut predicate = predicate;
    // The log's digest binds the verdict to the whole log it was folded from, so a log cut
    // short afterwards no longer matches the signed bundle.
    if let (Some(head), Some(fields)) = (&proof.task.log_head, predicate.as_object_mut()) {
        fields.insert(
            LOG_DIGEST_KEY.to_owned(),
            json!({ "goal_id": proof.goal_id, "events": proof.task.events, "head": head }),
        );
    }
    Ok(statement(subject, VSA_PREDICATE, predicate))
}

fn statement(subject: ResourceDescriptor, predicate_type: &str, predicate: Value) -> Statement {
    Statement {
        statement_type: STATEMENT_TYPE.to_owned(),
        subject: vec![subject],
        predicate_type: predicate_type.to_owned(),
        predicate,
    }
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Returns the DSSE pre-authentication encoding of a payload: the bytes a signature covers.
///
/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII
/// decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out =
        format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope carrying an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseEnvelope {
    /// The payload's type, [`PAYLOAD_TYPE`] for statements.
    pub payload_type: String,
    /// The payload, standard base64.
    pub payload: String,
    /// The signatures, possibly none.
    pub signatures: Vec<DsseSignature>,
}

/// One signature of a [`DsseEnvelope`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsseSignature {
    /// An unauthenticated hint of the key that signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// The signature, standard base64.
    pub sig: String,
}

impl DsseEnvelope {
    /// Returns an unsigned envelope of `statement`.
    pub fn new(statement: &Statement) -> Self {
        Self {
            payload_type: PAYLOAD_TYPE.to_owned(),
            payload: STANDARD.encode(statement.to_bytes()),
            signatures: Vec::new(),
        }
    }

    /// Returns the decoded payload, accepting standard and URL-safe base64.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, ExportError> {
        STANDARD
            .decode(&self.payload)
            .or_else(|_| URL_SAFE.decode(&self.payload))
            .map_err(|_| ExportError::InvalidPayload)
    }

    /// Returns the bytes to sign or verify: the PAE of the payload type and decoded payload.
    pub fn signing_input(&self) -> Result<Vec<u8>, ExportError> {
        Ok(pae(&self.payload_type, &self.payload_bytes()?))
    }

    /// Adds a signature made over [`DsseEnvelope::signing_input`].
    pub fn add_signature(&mut self, keyid: Option<String>, signature: &[u8]) {
        self.signatures.push(DsseSignature { keyid, sig: STANDARD.encode(signature) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_vector() {
        let encoded = pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(encoded, b"DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    }

    #[test]
    fn envelopes_accept_url_safe_payloads() {
        let mut envelope = DsseEnvelope {
            payload_type: "t".to_owned(),
            payload: URL_SAFE.encode([0xfb, 0xff]),
            signatures: Vec::new(),
        };
        assert_eq!(envelope.payload_bytes(), Ok(vec![0xfb, 0xff]));
        assert_eq!(envelope.signing_input(), Ok(b"DSSEv1 1 t 2 \xfb\xff".to_vec()));
        envelope.payload = "not base64!".to_owned();
        assert_eq!(envelope.payload_bytes(), Err(ExportError::InvalidPayload));
    }
}
