//! The sandbox end to end: every escape an agent or a gate tries is refused by the kernel while
//! the run goes on; an unconfined run says so and only a person can merge it; real toolchains
//! work confined; and nothing of a run outlives `omk` killed with SIGKILL.

use std::{
    fs,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use crate::{TestEnv, gap_kinds, proof};

/// The summary line of a test runner omk counts, so that a test gate counts one test.
const COUNTED: &str =
    "echo 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out'";

/// A checkout whose gate `t` (a counted test) passes once `a.sh` says `x=2`, and whose gate
/// `escape` (not required) runs the escapes of `gate-escapes.sh` from the worktree.
fn checkout(env: &TestEnv) -> anyhow::Result<PathBuf> {
    let omk_toml = format!(
        "[[gates]]\nname = \"t\"\ncommand = \"grep -q x=2 a.sh && {COUNTED}\"\nkind = \"test\"\n\n\
         [[gates]]\nname = \"escape\"\ncommand = \"sh gate-escapes.sh\"\nrequired = false\n"
    );
    env.repo(
        "checkout",
        &[("a.sh", "x=1\n"), ("omk.toml", &omk_toml), ("gate-escapes.sh", "true\n")],
    )
}

/// Every place a process of a goal must not write, as seen from the goal's worktree.
struct Targets {
    checkout_file: PathBuf,
    hook: PathBuf,
    home_file: PathBuf,
    other_worktree_file: PathBuf,
    link_target: PathBuf,
}

impl Targets {
    fn new(env: &TestEnv, repo: &Path, other_worktree: &Path, who: &str) -> Self {
        Self {
            checkout_file: repo.join("a.sh"),
            hook: repo.join(".git/hooks").join(format!("pre-commit-{who}")),
            home_file: env.root().join("home").join(format!("escape-{who}.txt")),
            other_worktree_file: other_worktree.join("a.sh"),
            link_target: env.root().join(format!("through-link-{who}.txt")),
        }
    }

    /// Returns a shell script that tries every escape, each allowed to fail, then goes on.
    fn script(&self, link: &str) -> String {
        format!(
            "echo pwned >> ../../../a.sh 2>/dev/null; echo pwned >> '{checkout}' 2>/dev/null; \
             echo 'echo owned' > '{hook}' 2>/dev/null; echo hacked > \"$HOME/{home}\" 2>/dev/null; \
             echo pwned >> '{other}' 2>/dev/null; ln -s '{target}' {link} 2>/dev/null; \
             echo through > {link} 2>/dev/null; true",
            checkout = self.checkout_file.display(),
            hook = self.hook.display(),
            home = self.home_file.file_name().map(|it| it.to_string_lossy()).unwrap_or_default(),
            other = self.other_worktree_file.display(),
            target = self.link_target.display(),
        )
    }

    /// Fails unless every target is as it was: the checkout's and the other worktree's file
    /// unchanged, the hook, the file in `$HOME` and the link's target absent.
    fn assert_untouched(&self, who: &str) -> anyhow::Result<()> {
        assert_eq!(fs::read_to_string(&self.checkout_file)?, "x=1\n", "{who}: the checkout");
        assert_eq!(fs::read_to_string(&self.other_worktree_file)?, "x=3\n", "{who}: other goal");
        assert!(!self.hook.exists(), "{who}: a hook was planted");
        assert!(!self.home_file.exists(), "{who}: $HOME was written");
        assert!(!self.link_target.exists(), "{who}: a write went through the planted link");
        Ok(())
    }
}

fn only_goal_after(repo: &Path, known: &[String]) -> anyhow::Result<String> {
    let mut goals = goals(repo)?;
    goals.retain(|it| !known.contains(it));
    anyhow::ensure!(goals.len() == 1, "expected one new goal, found {goals:?}");
    Ok(goals.remove(0))
}

fn goals(repo: &Path) -> anyhow::Result<Vec<String>> {
    let dir = repo.join(".omk/goals");
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut goals: Vec<String> = fs::read_dir(dir)?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<anyhow::Result<_>>()?;
    goals.sort();
    Ok(goals)
}

#[test]
fn every_escape_of_an_agent_and_a_gate_is_refused_and_the_run_goes_on() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    // Another goal, whose worktree the second goal's processes must not touch.
    env.omk(&repo, &["run", "set x to 3", "--agent", "cmd:echo x=3 > a.sh"])?;
    let other_goal = only_goal_after(&repo, &[])?;
    let other_worktree = repo.join(".omk/worktrees").join(&other_goal);

    let by_agent = Targets::new(&env, &repo, &other_worktree, "agent");
    let by_gate = Targets::new(&env, &repo, &other_worktree, "gate");
    // The gate's escapes go into the checkout's gate script, which omk reads from the checkout
    // and the worktree holds at the base commit.
    fs::write(repo.join("gate-escapes.sh"), by_gate.script("gate-link"))?;
    env.git(&repo, &["commit", "--quiet", "-am", "gate escapes"])?;
    let agent = format!("cmd:echo x=2 > a.sh; {}", by_agent.script("agent-link"));
    let run = env.omk(&repo, &["run", "set x to 2", "--agent", &agent])?;
    let goal = only_goal_after(&repo, std::slice::from_ref(&other_goal))?;

    by_agent.assert_untouched("agent")?;
    by_gate.assert_untouched("gate")?;
    // The rest went on: the agent's edit is the change, both gates ran on it and passed, and
    // the goal waits for a person only.
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{run}\n{proof:#}");
    assert_eq!(gap_kinds(&proof), ["acceptance_missing"], "{proof:#}");
    let worktree = repo.join(".omk/worktrees").join(&goal);
    assert_eq!(fs::read_to_string(worktree.join("a.sh"))?, "x=2\n");
    let proposed: Vec<(&str, bool)> = proof["gates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|it| it["phase"] == "proposed")
        .map(|it| (it["name"].as_str().unwrap_or("?"), it["passed"] == true))
        .collect();
    assert_eq!(proposed, [("t", true), ("escape", true)], "{proof:#}");
    assert_eq!(proof["sandbox"]["mode"], "landlock", "{proof:#}");
    assert_eq!(proof["sandbox"]["writable"][0], format!(".omk/worktrees/{goal}"));
    // The refusals are the kernel's, in the agent's own words.
    let stderr =
        fs::read_to_string(repo.join(".omk/goals").join(&goal).join("artifacts/agent/stderr.log"))
            .unwrap_or_default();
    assert!(!stderr.contains("pwned"), "{stderr}");
    Ok(())
}

/// The shell that points the worktree's `.git` file at a repository of its own making.
const REWRITE_GIT_FILE: &str = "git init --quiet \"$TMPDIR/fake\"; \
                                printf 'gitdir: %s\\n' \"$TMPDIR/fake/.git\" > .git";

/// Runs a goal in which the agent (or, with `by_gate`, a gate) runs [`REWRITE_GIT_FILE`], and
/// checks that the run fails naming it, merges nothing, and leaves the `.git` file restored.
fn check_git_file_rewrite(by_gate: bool) -> anyhow::Result<()> {
    // Landlock cannot keep the worktree's `.git` file read-only inside the writable worktree, so
    // omk checks it before git reads the worktree: a `.git` file naming a repository of the
    // agent's making would make omk capture and commit there.
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    if by_gate {
        fs::write(repo.join("gate-escapes.sh"), format!("{REWRITE_GIT_FILE}\n"))?;
        env.git(&repo, &["commit", "--quiet", "-am", "a gate that rewrites .git"])?;
    }
    let main_before = env.git(&repo, &["rev-parse", "main"])?;
    let agent = if by_gate {
        "cmd:echo x=2 > a.sh".to_owned()
    } else {
        format!("cmd:echo x=2 > a.sh; {REWRITE_GIT_FILE}")
    };
    let run = env.omk(&repo, &["run", "set x to 2", "--agent", &agent, "--accept"])?;
    assert_ne!(run.code, Some(0), "{run}");
    let goal = only_goal_after(&repo, &[])?;
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["status"], "failed_infra", "{run}\n{proof:#}");
    let rendered = proof.to_string();
    assert!(rendered.contains(".git file was rewritten"), "{proof:#}");
    assert!(rendered.contains("fake/.git"), "{proof:#}");
    // Nothing merged, and the worktree names the goal's repository again.
    assert_eq!(env.git(&repo, &["rev-parse", "main"])?, main_before);
    let pointer = fs::read_to_string(repo.join(".omk/worktrees").join(&goal).join(".git"))?;
    assert!(pointer.contains(".git/worktrees/"), "{pointer}");
    Ok(())
}

#[test]
fn an_agent_that_rewrites_its_worktrees_git_file_fails_the_run_and_the_file_is_restored()
-> anyhow::Result<()> {
    check_git_file_rewrite(false)
}

#[test]
fn a_gate_that_rewrites_the_worktrees_git_file_fails_the_run_and_the_file_is_restored()
-> anyhow::Result<()> {
    check_git_file_rewrite(true)
}

#[test]
fn an_unconfined_run_warns_once_carries_a_gap_and_only_a_person_merges_it() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    let agent = "cmd:echo x=2 > a.sh; echo hacked > \"$HOME/escape.txt\"";
    let run = env.omk_with(
        &repo,
        &["run", "set x to 2", "--agent", agent, "--accept"],
        &[("OMK_TEST_NO_LANDLOCK", "1")],
    )?;
    let goal = only_goal_after(&repo, &[])?;
    // Unconfined, the write to $HOME happened: the gap is what tells.
    assert!(env.root().join("home/escape.txt").exists());
    assert_eq!(
        run.stderr.matches("warning: the agent and the gates run unconfined").count(),
        1,
        "{run}"
    );
    assert!(run.stderr.contains("OMK_TEST_NO_LANDLOCK"), "{run}");
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["sandbox"]["mode"], "unavailable", "{proof:#}");
    assert_eq!(gap_kinds(&proof), ["acceptance_missing", "unconfined"], "{proof:#}");
    assert_eq!(fs::read_to_string(repo.join("a.sh"))?, "x=1\n", "--accept did not merge");

    let accepted = env.omk(&repo, &["accept", &goal])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    assert_eq!(fs::read_to_string(repo.join("a.sh"))?, "x=2\n", "a person's accept merged");
    let proof = self::proof(&repo, &goal)?;
    assert_eq!(proof["status"], "ready", "{proof:#}");
    Ok(())
}

#[test]
fn sandbox_mode_off_is_named_in_the_gap_and_writable_paths_widen_it() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    let shared = env.root().join("shared-cache");
    fs::create_dir(&shared)?;
    let toml = fs::read_to_string(repo.join("omk.toml"))?;
    fs::write(
        repo.join("omk.toml"),
        format!("{toml}\n[sandbox]\nwritable = [\"{}\"]\nnetwork = false\n", shared.display()),
    )?;
    env.git(&repo, &["commit", "--quiet", "-am", "sandbox"])?;
    let agent = format!("cmd:echo x=2 > a.sh; echo kept > '{}/note'", shared.display());
    env.omk(&repo, &["run", "set x to 2", "--agent", &agent])?;
    let goal = only_goal_after(&repo, &[])?;
    assert_eq!(fs::read_to_string(shared.join("note"))?, "kept\n");
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["sandbox"]["network"], false);
    assert_eq!(proof["sandbox"]["network_enforced"], true);
    assert!(
        proof["sandbox"]["writable"]
            .as_array()
            .is_some_and(|it| it.iter().any(|path| path == &shared.display().to_string())),
        "{proof:#}"
    );

    let toml = fs::read_to_string(repo.join("omk.toml"))?;
    fs::write(repo.join("omk.toml"), toml.replace("[sandbox]\n", "[sandbox]\nmode = \"off\"\n"))?;
    env.git(&repo, &["commit", "--quiet", "-am", "sandbox off"])?;
    let known = goals(&repo)?;
    let run = env.omk(&repo, &["run", "set x to 2 again", "--agent", "cmd:echo x=2 > a.sh"])?;
    let goal = only_goal_after(&repo, &known)?;
    let proof = self::proof(&repo, &goal)?;
    assert_eq!(proof["sandbox"]["mode"], "off", "{run}");
    let unconfined = proof["known_gaps"]
        .as_array()
        .and_then(|gaps| gaps.iter().find(|it| it["gap"]["kind"] == "unconfined"))
        .map(|it| it["message"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(unconfined.contains("[sandbox] mode = \"off\""), "{proof:#}");
    Ok(())
}

#[test]
fn a_real_cargo_test_and_a_python_test_pass_confined() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let lib = "pub fn two() -> u32 {\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn two() {\n        assert_eq!(super::two(), 2);\n    }\n}\n";
    let python = "import tempfile, unittest\n\nimport calc\n\n\nclass Calc(unittest.TestCase):\n    def test_two(self):\n        with tempfile.NamedTemporaryFile() as scratch:\n            scratch.write(b'x')\n        self.assertEqual(calc.two(), 2)\n";
    let omk_toml = "[detect]\nenabled = false\n\n[[gates]]\nname = \"cargo\"\ncommand = [\"cargo\", \"test\", \"--offline\"]\nkind = \"test\"\nenv = { CARGO_TARGET_DIR = \"target\" }\ntimeout_secs = 600\n\n[[gates]]\nname = \"python\"\ncommand = [\"python3\", \"-m\", \"unittest\", \"-v\"]\n";
    let repo = env.repo(
        "crate",
        &[
            ("Cargo.toml", "[package]\nname = \"two\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n"),
            ("src/lib.rs", lib),
            ("calc.py", "def two():\n    return 1\n"),
            ("test_calc.py", python),
            (".gitignore", "target/\n__pycache__/\n"),
            ("omk.toml", omk_toml),
        ],
    )?;
    // The toolchain lives in the developer's real home; HOME is the test's.
    let rustup_home = std::env::var("RUSTUP_HOME")
        .unwrap_or_else(|_| format!("{}/.rustup", std::env::var("HOME").unwrap_or_default()));
    let agent = "cmd:sed -i 's/    1/    2/' src/lib.rs; sed -i 's/return 1/return 2/' calc.py";
    let run = env.omk_with(
        &repo,
        &["run", "make two return 2", "--agent", agent],
        &[("RUSTUP_HOME", &rustup_home)],
    )?;
    let goal = only_goal_after(&repo, &[])?;
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{run}\n{proof:#}");
    assert_eq!(proof["sandbox"]["mode"], "landlock");
    let cargo = proof["gates"]
        .as_array()
        .and_then(|gates| {
            gates.iter().find(|it| it["phase"] == "proposed" && it["name"] == "cargo")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(cargo["tests"]["passed"], 1, "{proof:#}");
    // Cargo's home is the repository's toolchain cache, not the developer's.
    assert!(repo.join(".omk/cache/toolchains/cargo").is_dir());
    Ok(())
}

/// Returns the processes whose working directory is beneath `dir`, with their command lines;
/// zombies (ended, not yet reaped) do not count.
pub(crate) fn processes_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|entry| {
            fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
        })
        .filter(|entry| {
            entry.file_name().to_str().and_then(|it| it.parse().ok()).is_some_and(running)
        })
        .map(|entry| {
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            format!(
                "{}: {}",
                entry.file_name().to_string_lossy(),
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            )
        })
        .collect()
}

/// Returns whether process `pid` runs: it exists and is not a zombie (ended, not yet reaped).
pub(crate) fn running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// Returns the pid of the watcher that `omk` (pid `omk`) started, if it runs.
fn watcher_of(omk: u32) -> Option<u32> {
    let entries = fs::read_dir("/proc").ok()?;
    entries.flatten().filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok()).find(
        |pid| {
            let parent = fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|it| {
                it.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok()
            });
            parent == Some(omk)
                && fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|it| it.ends_with(b"__omk-sandbox\0watch\0"))
        },
    )
}

/// Waits until `condition` holds, for a minute at most; the error names `what` it waited for.
pub(crate) fn wait_for(what: &str, mut condition: impl FnMut() -> bool) -> anyhow::Result<()> {
    let started = Instant::now();
    while !condition() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Kills `omk run` with SIGKILL once `started` exists (written by the agent or the gate that
/// is slow), checks that no process of the run remains within a second, then resumes the goal
/// and waits past the time a survivor would have written.
fn kill_and_resume(
    env: &TestEnv,
    repo: &Path,
    agent: &str,
    started: &str,
) -> anyhow::Result<String> {
    let mut run = env.spawn_omk(repo, &["run", "set x to 2", "--agent", agent])?;
    let marker = |goal: &str| repo.join(".omk/goals").join(goal).join("tmp").join(started);
    wait_for("the slow step", || {
        goals(repo)
            .ok()
            .and_then(|it| it.first().cloned())
            .is_some_and(|goal| marker(&goal).exists())
    })?;
    let goal = only_goal_after(repo, &[])?;
    let worktrees = repo.join(".omk/worktrees");
    assert!(!processes_in(&worktrees).is_empty(), "the slow step runs");
    run.kill()?;
    run.wait()?;
    let killed = Instant::now();
    wait_for("the run's processes to end", || processes_in(&worktrees).is_empty())
        .map_err(|err| err.context(format!("left: {:?}", processes_in(&worktrees))))?;
    assert!(killed.elapsed() < Duration::from_secs(1), "took {:?}", killed.elapsed());
    let resumed = env.omk(repo, &["resume", &goal])?;
    assert!(resumed.code.is_some(), "{resumed}");
    // A survivor of the first run would have written by now.
    thread::sleep(Duration::from_millis(500));
    assert!(processes_in(&worktrees).is_empty(), "{:?}", processes_in(&worktrees));
    Ok(goal)
}

#[test]
fn kill_9_during_the_agent_leaves_no_process_and_resume_writes_once() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    let agent =
        "cmd:touch \"$TMPDIR/agent-started\"; sleep 2; echo edit >> notes.txt; echo x=2 > a.sh";
    let goal = kill_and_resume(&env, &repo, agent, "agent-started")?;
    let worktree = repo.join(".omk/worktrees").join(&goal);
    assert_eq!(fs::read_to_string(worktree.join("notes.txt"))?, "edit\n");
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    Ok(())
}

#[test]
fn kill_9_during_a_gate_leaves_no_process_and_resume_writes_once() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    // Only the proposed run of the gate is slow, and it appends to the goal's temporary
    // directory, which outlives the run.
    let gate = "grep -q x=2 a.sh || exit 0; touch \"$TMPDIR/gate-started\"; sleep 2; \
                echo ran >> \"$TMPDIR/gate-writes.txt\"";
    fs::write(repo.join("gate-escapes.sh"), gate)?;
    env.git(&repo, &["commit", "--quiet", "-am", "slow gate"])?;
    let goal = kill_and_resume(&env, &repo, "cmd:echo x=2 > a.sh", "gate-started")?;
    let writes = repo.join(".omk/goals").join(&goal).join("tmp/gate-writes.txt");
    assert_eq!(fs::read_to_string(writes)?, "ran\n");
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    Ok(())
}

#[test]
fn resume_kills_the_group_a_killed_omk_and_watcher_left_by_its_record() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout(&env)?;
    // The first attempt sleeps long before it writes; the second writes at once.
    let agent = "cmd:if [ -e \"$TMPDIR/first\" ]; then echo edit >> notes.txt; else \
                 touch \"$TMPDIR/first\" \"$TMPDIR/agent-started\"; sleep 6; \
                 echo edit >> notes.txt; fi; echo x=2 > a.sh";
    let mut run = env.spawn_omk(&repo, &["run", "set x to 2", "--agent", agent])?;
    let started = Instant::now();
    let goal_dir = |goal: &str| repo.join(".omk/goals").join(goal);
    wait_for("the agent", || {
        goals(&repo)
            .ok()
            .and_then(|it| it.first().cloned())
            .is_some_and(|goal| goal_dir(&goal).join("tmp/agent-started").exists())
    })?;
    let goal = only_goal_after(&repo, &[])?;
    let worktree = repo.join(".omk/worktrees").join(&goal);
    // Killing omk's watcher first, then omk, leaves the agent behind, in its group, with nobody
    // to end it but the record.
    let watcher = watcher_of(run.id()).ok_or_else(|| anyhow::anyhow!("omk has no watcher"))?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(watcher)?),
        nix::sys::signal::Signal::SIGKILL,
    )?;
    run.kill()?;
    run.wait()?;
    let worktrees = repo.join(".omk/worktrees");
    thread::sleep(Duration::from_millis(200));
    assert!(!processes_in(&worktrees).is_empty(), "the agent survived omk and its watcher");

    let resumed = env.omk(&repo, &["resume", &goal])?;
    assert!(resumed.code.is_some(), "{resumed}");
    assert!(processes_in(&worktrees).is_empty(), "{:?}", processes_in(&worktrees));
    // The survivor would have written by now.
    thread::sleep(Duration::from_secs(7).saturating_sub(started.elapsed()));
    assert_eq!(fs::read_to_string(worktree.join("notes.txt"))?, "edit\n");
    Ok(())
}
