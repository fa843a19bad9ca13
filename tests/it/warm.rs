//! Warm builds end to end, with real cargo: a goal's gates start from what the user's checkout
//! built (the dependencies are fresh, only the crate itself compiles), read the user's cargo
//! registry, never write the user's target directory, and still judge the agent's change, even
//! one whose file time was set back; `OMK_SHARED_BUILDS=0` turns it off.

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::Command,
};

use crate::TestEnv;

/// A crate whose test wants `two() == 2` while it returns 1, with a path dependency outside the
/// checkout and, with `registry`, a registry dependency (`itoa`, which this workspace's own
/// build has put in the developer's cargo registry).
struct Fixture {
    env: TestEnv,
    repo: PathBuf,
    /// The developer's cargo home (read-only to the gates) and rustup home.
    vars: Vec<(String, String)>,
}

impl Fixture {
    fn new(registry: bool) -> anyhow::Result<Self> {
        let env = TestEnv::new()?;
        let real_home = std::env::var("HOME").unwrap_or_default();
        let cargo_home =
            std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo"));
        let rustup_home =
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup"));
        let vars =
            vec![("CARGO_HOME".to_owned(), cargo_home), ("RUSTUP_HOME".to_owned(), rustup_home)];
        let dep = env.root().join("dep");
        fs::create_dir_all(dep.join("src"))?;
        fs::write(
            dep.join("Cargo.toml"),
            "[package]\nname = \"dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )?;
        fs::write(dep.join("src/lib.rs"), "pub fn one() -> u32 {\n    1\n}\n")?;
        // A user's path dependency was written long before a goal starts; a file written in the
        // same second as the goal's worktree would be newer than the seed, and rebuilt.
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for file in ["Cargo.toml", "src/lib.rs"] {
            fs::File::options().write(true).open(dep.join(file))?.set_modified(long_ago)?;
        }
        let manifest = format!(
            "[package]\nname = \"two\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{}dep = {{ path = {:?} }}\n\n[workspace]\n",
            if registry { "itoa = \"1\"\n" } else { "" },
            dep.display().to_string()
        );
        let check = if registry {
            "let mut buffer = itoa::Buffer::new();\n        assert_eq!(buffer.format(super::two()), \"2\");"
        } else {
            "assert_eq!(super::two(), 2);"
        };
        let lib = format!(
            "pub fn two() -> u32 {{\n    dep::one()\n}}\n\n#[cfg(test)]\nmod tests {{\n    #[test]\n    fn two() {{\n        {check}\n    }}\n}}\n"
        );
        let omk_toml = "[detect]\nenabled = false\n\n[[gates]]\nname = \"test\"\ncommand = \"cargo test --offline\"\ntimeout_secs = 600\n";
        let repo = env.repo(
            "crate",
            &[
                ("Cargo.toml", &manifest),
                ("src/lib.rs", &lib),
                (".gitignore", "target/\n"),
                ("omk.toml", omk_toml),
            ],
        )?;
        let fixture = Self { env, repo, vars };
        fixture.cargo(&["generate-lockfile", "--offline"])?;
        fixture.env.git(&fixture.repo, &["add", "Cargo.lock"])?;
        fixture.env.git(&fixture.repo, &["commit", "--quiet", "-m", "lock"])?;
        Ok(fixture)
    }

    /// Runs cargo with `args` in the checkout, as the user would; returns its stderr.
    fn cargo(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("cargo")
            .args(args)
            .current_dir(&self.repo)
            .env("HOME", self.env.root().join("home"))
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR")
            .output()?;
        let stderr = String::from_utf8(output.stderr)?;
        // The test fails on the checkout (two() is 1): only a build failure is an error.
        anyhow::ensure!(!stderr.contains("error: could not compile"), "cargo {args:?}: {stderr}");
        Ok(stderr)
    }

    /// Runs `omk run --json` with `agent` and the extra `vars`; returns the goal id and proof.
    fn run(
        &self,
        agent: &str,
        vars: &[(&str, &str)],
    ) -> anyhow::Result<(String, serde_json::Value)> {
        let mut all: Vec<(&str, &str)> =
            self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend_from_slice(vars);
        let output = self.env.omk_with(
            &self.repo,
            &["run", "make two return 2", "--agent", agent, "--json"],
            &all,
        )?;
        let document: serde_json::Value = serde_json::from_str(&output.stdout)
            .map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
        let goal = document["goal_id"].as_str().unwrap_or_default().to_owned();
        anyhow::ensure!(!goal.is_empty(), "no goal id: {output}");
        let proof = crate::proof(&self.repo, &goal)?;
        Ok((goal, proof))
    }

    /// Returns the log of the gate `test` of `phase`.
    fn gate_log(
        &self,
        goal: &str,
        proof: &serde_json::Value,
        phase: &str,
    ) -> anyhow::Result<String> {
        let gate = gate(proof, phase);
        let path = gate["output"]["path"].as_str().unwrap_or_default();
        anyhow::ensure!(!path.is_empty(), "no {phase} log: {proof:#}");
        Ok(fs::read_to_string(self.repo.join(".omk/goals").join(goal).join(path))?)
    }
}

fn gate<'a>(proof: &'a serde_json::Value, phase: &str) -> &'a serde_json::Value {
    proof["gates"]
        .as_array()
        .and_then(|gates| gates.iter().find(|it| it["phase"] == phase && it["name"] == "test"))
        .unwrap_or(&serde_json::Value::Null)
}

/// A file's size, modification time (seconds and nanoseconds) and content.
type FileState = (u64, i64, i64, Vec<u8>);

/// Every file beneath `dir` with its size, modification time and content.
fn snapshot(dir: &Path) -> anyhow::Result<BTreeMap<PathBuf, FileState>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let content = if meta.is_file() { fs::read(entry.path())? } else { Vec::new() };
                files.insert(entry.path(), (meta.len(), meta.mtime(), meta.mtime_nsec(), content));
            }
        }
    }
    Ok(files)
}

#[test]
fn a_goal_builds_from_the_checkout_target_and_judges_a_change_set_back_in_time()
-> anyhow::Result<()> {
    let fixture = Fixture::new(true)?;
    fixture.cargo(&["test", "--offline", "--no-run"])?;
    let target = fixture.repo.join("target");
    let before = snapshot(&target)?;
    // The agent's change gets a file time before every build: only a fresh look at the
    // worktree's file times keeps cargo from taking the baseline's build for fresh.
    let agent =
        "cmd:sed -i 's/dep::one()/dep::one() + 1/' src/lib.rs && touch -d 2001-01-01 src/lib.rs";

    let (goal, proof) = fixture.run(agent, &[])?;

    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    let baseline = fixture.gate_log(&goal, &proof, "baseline")?;
    assert_eq!(gate(&proof, "baseline")["tests"]["failed"], 1, "the base fails: {baseline}");
    assert_eq!(gate(&proof, "proposed")["tests"]["passed"], 1, "the change passes: {proof:#}");
    assert!(baseline.contains("Compiling two"), "{baseline}");
    for dependency in ["Compiling itoa", "Compiling dep"] {
        assert!(!baseline.contains(dependency), "the seed is fresh for {dependency}: {baseline}");
    }
    let proposed = fixture.gate_log(&goal, &proof, "proposed")?;
    assert!(proposed.contains("Compiling two"), "the change is rebuilt: {proposed}");
    assert!(!proposed.contains("Compiling itoa"), "{proposed}");
    let dir = format!(".omk/cache/build/cargo/worktrees+{goal}");
    assert_eq!(proof["sandbox"]["gate_writable"], serde_json::json!([dir]), "{proof:#}");
    assert!(fixture.repo.join(&dir).join("debug/deps").is_dir());
    assert!(!fixture.repo.join(".omk/worktrees").join(&goal).join("target").exists());
    // The user's target directory is as it was, byte for byte and time for time.
    assert!(before == snapshot(&target)?, "the user's target directory changed");
    Ok(())
}

#[test]
fn shared_builds_off_builds_the_worktree_from_nothing() -> anyhow::Result<()> {
    // No registry dependency: without warm builds the gates' cargo home is the repository's
    // toolchain cache, which an offline build cannot fill.
    let fixture = Fixture::new(false)?;
    fixture.cargo(&["test", "--offline", "--no-run"])?;
    let agent = "cmd:sed -i 's/dep::one()/dep::one() + 1/' src/lib.rs";

    let (goal, proof) = fixture.run(agent, &[("OMK_SHARED_BUILDS", "0")])?;

    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert!(proof["sandbox"].get("gate_writable").is_none(), "{proof:#}");
    assert!(!fixture.repo.join(".omk/cache/build").exists());
    let baseline = fixture.gate_log(&goal, &proof, "baseline")?;
    assert!(baseline.contains("Compiling dep"), "built from nothing: {baseline}");
    Ok(())
}
