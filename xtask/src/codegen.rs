//! `cargo xtask codegen`: writes the files generated from code, or checks they are fresh.
//!
//! Today that is `docs/proof.schema.json`, the JSON Schema of omk-proof's `Proof`, generated
//! from the types themselves (feature `schema`), so the schema cannot drift from the code.

use std::{fs, path::Path};

use anyhow::{Context, Result, bail};

/// A file generated from code: its path relative to the workspace root and its contents.
struct Generated {
    path: String,
    contents: String,
}

fn generated() -> Result<Vec<Generated>> {
    let schema = schemars::schema_for!(omk_proof::Proof);
    let mut json = serde_json::to_string_pretty(&schema).context("encode the proof schema")?;
    json.push('\n');
    let mut files = vec![Generated { path: "docs/proof.schema.json".to_owned(), contents: json }];
    for (name, schema) in omk_cli::json_schemas() {
        let mut json = serde_json::to_string_pretty(&schema)
            .with_context(|| format!("encode the schema of `--json` document {name}"))?;
        json.push('\n');
        files.push(Generated {
            path: format!("docs/reference/json/{name}.schema.json"),
            contents: json,
        });
    }
    Ok(files)
}

/// Writes every generated file, or with `check`, fails when one differs from what it should be.
pub(crate) fn run(root: &Path, check: bool) -> Result<()> {
    let mut stale = Vec::new();
    for file in generated()? {
        let path = root.join(&file.path);
        let current = fs::read_to_string(&path).unwrap_or_default();
        if current == file.contents {
            continue;
        }
        if check {
            stale.push(file.path);
        } else {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("create {}", parent.display()))?;
            }
            let tmp = path.with_extension("json.tmp");
            fs::write(&tmp, &file.contents).with_context(|| format!("write {}", tmp.display()))?;
            fs::rename(&tmp, &path).with_context(|| format!("replace {}", path.display()))?;
            println!("wrote {}", file.path);
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated files are stale: {}; run `cargo xtask codegen` and commit the result",
            stale.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed generated files match the code.
    #[test]
    fn generated_files_are_fresh() {
        let root = crate::project_root().expect("xtask lives in the workspace");
        run(&root, true).expect("run `cargo xtask codegen`");
    }

    #[test]
    fn a_stale_file_is_reported_with_the_fix() {
        let dir = tempfile::tempdir().expect("a temp dir");
        fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
        fs::write(dir.path().join("docs/proof.schema.json"), "{}").expect("write");
        let err = run(dir.path(), true).expect_err("stale");
        assert!(err.to_string().contains("run `cargo xtask codegen`"), "{err}");
        run(dir.path(), false).expect("write");
        run(dir.path(), true).expect("fresh after writing");
    }
}
