//! Every `--json` document, as real commands print it on a real repository, against the JSON
//! Schema that `cargo xtask codegen` publishes under `docs/reference/json/`, with a real
//! validator (nested data included, and no member a schema does not name).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, TEST_SH, TestEnv};

/// A test gate whose runner summary omk counts, after the real check.
pub(crate) const COUNTED_TEST_GATE: &str = "[[gates]]\nname = \"test\"\nkind = \"test\"\ncommand = \"sh test.sh && echo 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out'\"\n";

/// Returns the directory of the published `--json` schemas.
fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reference/json")
}

/// Returns the generated JSON Schema of the `--json` document `name`.
pub(crate) fn schema(name: &str) -> anyhow::Result<Value> {
    let path = schema_dir().join(format!("{name}.schema.json"));
    let text = fs::read_to_string(&path)
        .map_err(|err| anyhow::anyhow!("read {}: {err}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// Validates `document` against the published schema `name` and fails with every violation,
/// each with its place in the document.
///
/// The schema is closed first: an object schema that lists its properties and says nothing
/// of others admits no others, so a member the schema does not document fails too.
pub(crate) fn check_shape(document: &Value, name: &str) -> anyhow::Result<()> {
    let mut schema = schema(name)?;
    close_objects(&mut schema);
    let validator = jsonschema::validator_for(&schema)
        .map_err(|err| anyhow::anyhow!("{name}.schema.json is not a valid JSON Schema: {err}"))?;
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    anyhow::ensure!(
        errors.is_empty(),
        "{name}: the document does not match its schema:\n{}\n{document:#}",
        errors.join("\n")
    );
    Ok(())
}

/// Closes every object schema that lists `properties` and does not say whether others are
/// allowed, so a member the schema does not document fails.
///
/// A variant of an internally tagged enum is its tag's `properties` beside a `$ref` to the
/// payload's definition: it gets `"unevaluatedProperties": false`, which counts the members the
/// `$ref` evaluates, and the payload's definition is left open, as it does not know the tag.
/// Every other object schema gets `"additionalProperties": false`.
fn close_objects(schema: &mut Value) {
    let mut tagged = BTreeSet::new();
    collect_tagged_payloads(schema, &mut tagged);
    close(schema, &tagged, None);
}

/// Collects the `$ref` targets of tagged variants, as `#/$defs/<name>` strings.
fn collect_tagged_payloads(schema: &Value, tagged: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let (true, Some(target)) =
                (map.contains_key("properties"), map.get("$ref").and_then(Value::as_str))
            {
                tagged.insert(target.to_owned());
            }
            map.values().for_each(|it| collect_tagged_payloads(it, tagged));
        }
        Value::Array(items) => items.iter().for_each(|it| collect_tagged_payloads(it, tagged)),
        _ => {}
    }
}

/// Closes `schema` and its subschemas; `path` is its `#/$defs/<name>` when it is a definition.
fn close(schema: &mut Value, tagged: &BTreeSet<String>, path: Option<String>) {
    match schema {
        Value::Object(map) => {
            let open = path.as_ref().is_some_and(|it| tagged.contains(it));
            let says = map.contains_key("additionalProperties")
                || map.contains_key("unevaluatedProperties");
            if map.contains_key("properties") && !says && !open {
                let key = if map.contains_key("$ref") {
                    "unevaluatedProperties"
                } else {
                    "additionalProperties"
                };
                map.insert(key.to_owned(), Value::Bool(false));
            }
            for (key, value) in map.iter_mut() {
                if key == "$defs" {
                    if let Value::Object(defs) = value {
                        for (name, def) in defs.iter_mut() {
                            close(def, tagged, Some(format!("#/$defs/{name}")));
                        }
                    }
                } else {
                    close(value, tagged, None);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|it| close(it, tagged, None)),
        _ => {}
    }
}

/// Runs `omk args` (which must print one JSON document), validates the document against the
/// schema `name`, records `name` as covered and returns the document.
fn validated(
    env: &TestEnv,
    repo: &Path,
    covered: &mut BTreeSet<String>,
    args: &[&str],
    name: &str,
) -> anyhow::Result<Value> {
    let output = env.omk(repo, args)?;
    let document: Value = serde_json::from_str(&output.stdout).map_err(|err| {
        anyhow::anyhow!("omk {args:?} printed no JSON document ({err}): {output}")
    })?;
    anyhow::ensure!(document["schema_version"] == 1, "omk {args:?}: no schema_version: {output}");
    check_shape(&document, name).map_err(|err| anyhow::anyhow!("omk {args:?}: {err}"))?;
    covered.insert(name.to_owned());
    Ok(document)
}

#[test]
fn every_json_document_of_real_commands_validates_against_its_published_schema()
-> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo(
        "repo",
        &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", COUNTED_TEST_GATE)],
    )?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let covered = &mut BTreeSet::new();

    // A goal from start to acceptance, and every command that reads it.
    let run =
        validated(&env, &repo, covered, &["run", "fix add", "--agent", &agent, "--json"], "run")?;
    let goal = run["goal_id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!goal.is_empty(), "no goal id in {run}");
    for (args, name) in [
        (&["status", "--json"][..], "status"),
        (&["list", "--json"], "list"),
        (&["show", "--json"], "show"),
        (&["proof", "show", "--json"], "proof-show"),
        (&["proof", "show", "--since", "run-1", "--json"], "proof-diff"),
        (&["proof", "rebuild", "--json"], "proof-rebuild"),
        (&["proof", "verify", "--json"], "proof-verify"),
        (&["proof", "export", "--format", "in-toto", "--json"], "proof-export"),
        (&["replay", "--json"], "replay"),
        (&["budget", "add", "--tokens", "500", "--json"], "budget"),
        (&["agents", "--json"], "agents"),
        (&["gates", "list", "--json"], "gates-list"),
        (&["gates", "run", "--json"], "gates-run"),
        (&["worktree", "list", "--json"], "worktree-list"),
        (&["config", "show", "--json"], "config-show"),
        (&["config", "path", "--json"], "config-path"),
    ] {
        validated(&env, &repo, covered, args, name)?;
    }
    let keys = env.root().join("keys/signing").display().to_string();
    validated(&env, &repo, covered, &["key", "generate", &keys, "--json"], "key-generate")?;
    let public = format!("{keys}.pub");
    let bundle = repo.join(".omk/goals").join(&goal).join("proof.intoto.jsonl");
    let bundle = bundle.display().to_string();
    let args = ["proof", "export", "--format", "in-toto", "--sign-key", &keys, "--json"];
    validated(&env, &repo, covered, &args, "proof-export")?;
    let args = ["proof", "verify", "--bundle", &bundle, "--key", &public, "--json"];
    validated(&env, &repo, covered, &args, "proof-verify")?;
    let accepted = validated(&env, &repo, covered, &["accept", &goal, "--json"], "run")?;
    let decision = &accepted["proof"]["integration"]["decision"];
    anyhow::ensure!(decision == "accepted", "{accepted}");
    validated(&env, &repo, covered, &["proof", "verify", "--json"], "proof-verify")?;
    env.git(env.root(), &["init", "--quiet", "--bare", "remote.git"])?;
    env.git(&repo, &["remote", "add", "origin", "../remote.git"])?;
    validated(&env, &repo, covered, &["push", &goal, "--json"], "push")?;
    validated(&env, &repo, covered, &["fetch", "--json"], "fetch")?;

    // A second goal, rejected and cancelled; then the finished worktrees are collected.
    let args = ["run", "fix add again", "--agent", &agent, "--json"];
    let second = validated(&env, &repo, covered, &args, "run")?;
    let second = second["goal_id"].as_str().unwrap_or_default().to_owned();
    validated(&env, &repo, covered, &["reject", &second, "--reason", "keep it", "--json"], "run")?;
    validated(&env, &repo, covered, &["cancel", &second, "--json"], "stop")?;
    validated(&env, &repo, covered, &["worktree", "gc", "--dry-run", "--json"], "worktree-gc")?;
    validated(&env, &repo, covered, &["worktree", "gc", "--json"], "worktree-gc")?;

    // Every published schema was met by a real document, so a new document cannot go
    // unvalidated; and every one of them carries `schema_version`.
    let mut published = BTreeSet::new();
    for entry in fs::read_dir(schema_dir())? {
        let file = entry?.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".schema.json") {
            let required = schema(name)?["required"].clone();
            let versioned =
                required.as_array().is_some_and(|it| it.contains(&Value::from("schema_version")));
            anyhow::ensure!(versioned, "{file} does not require schema_version");
            published.insert(name.to_owned());
        }
    }
    let missing: Vec<&String> = published.difference(covered).collect();
    anyhow::ensure!(missing.is_empty(), "no real document was validated against {missing:?}");
    Ok(())
}

#[test]
fn the_validator_refuses_a_document_that_breaks_its_schema_deep_inside() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo(
        "repo",
        &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", COUNTED_TEST_GATE)],
    )?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    env.omk(&repo, &["run", "fix add", "--agent", &agent, "-q"])?;
    let shown: Value = serde_json::from_str(&env.omk(&repo, &["proof", "show", "--json"])?.stdout)?;
    check_shape(&shown, "proof-show")?;
    // A wrong type three levels down, an undocumented member, and a missing required member
    // are each refused, which a check of the top-level keys alone would let through.
    let mut wrong_type = shown.clone();
    wrong_type["gates"][0]["passed"] = Value::from("yes");
    let mut extra = shown.clone();
    extra["task"]["secret"] = Value::from(1);
    let mut missing = shown.clone();
    if let Some(task) = missing["task"].as_object_mut() {
        task.remove("prompt");
    }
    for (document, expected) in
        [(wrong_type, "/gates/0/passed"), (extra, "secret"), (missing, "prompt")]
    {
        let err = check_shape(&document, "proof-show").err().map(|it| it.to_string());
        assert!(err.as_deref().is_some_and(|it| it.contains(expected)), "{expected}: {err:?}");
    }
    Ok(())
}
