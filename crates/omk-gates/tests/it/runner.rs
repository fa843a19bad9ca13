//! The runner's evidence: redaction, test counts, the tail, the environment, events, cancel and
//! the cache.

use std::{fs, time::Duration};

use omk_events::{GateKind, TestCounts};
use omk_gates::{
    CacheOptions, GateEvent, GateSpec, RunOptions, TreeListing, gate_passed, tree_files,
};

use crate::{TestResult, git, log_of, options, run_with, shell};

fn test_gate(name: &str, line: &str) -> GateSpec {
    GateSpec { kind: GateKind::Test, ..shell(name, line, Duration::from_secs(60)) }
}

#[test]
fn secrets_are_masked_before_the_output_is_stored() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let mut options = options(dir.path(), 1);
    options.env.push(("DEPLOY_TOKEN".to_owned(), "s3cr3t-value-1234".to_owned()));
    let line = "echo \"token=$DEPLOY_TOKEN\"; echo 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz' >&2; \
                printf -- '-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----\\ndone\\n'";
    let runs = run_with(&[shell("leaky", line, Duration::from_secs(60))], &options);
    let log = log_of(dir.path(), &runs[0].result);
    assert_eq!(
        log,
        "token=[REDACTED:DEPLOY_TOKEN]\nAuthorization: Bearer [REDACTED]\n[REDACTED PRIVATE KEY]\n\
         [REDACTED PRIVATE KEY]\n[REDACTED PRIVATE KEY]\ndone\n"
    );
    assert_eq!(runs[0].tail, log, "the tail is redacted too");
    let output = runs[0].result.output.as_ref().expect("an artifact");
    assert_eq!(
        output.sha256,
        omk_events::sha256_hex(log.as_bytes()),
        "the digest is of what is stored"
    );
    Ok(())
}

#[test]
fn gates_get_exactly_the_given_environment_plus_their_own() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let mut spec =
        shell("env", "env | grep -v '^PWD=\\|^SHLVL=\\|^_=' | sort", Duration::from_secs(60));
    spec.env.insert("GATE_ONLY".to_owned(), "1".to_owned());
    let mut options = options(dir.path(), 1);
    options.env = vec![("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    let runs = run_with(&[spec], &options);
    assert_eq!(log_of(dir.path(), &runs[0].result), "GATE_ONLY=1\nPATH=/usr/bin:/bin\n");
    Ok(())
}

#[test]
fn test_counts_are_parsed_and_a_test_gate_that_ran_none_fails() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let cargo_none =
        "echo 'test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out'";
    let specs = [
        test_gate("pytest-like", "echo '==== 2 passed, 1 skipped in 0.01s ===='"),
        test_gate("none", cargo_none),
        GateSpec { allow_no_tests: true, ..test_gate("none-allowed", cargo_none) },
        test_gate("unknown", "echo all good"),
        GateSpec { kind: GateKind::Lint, ..test_gate("lint-none", cargo_none) },
    ];
    let runs = run_with(&specs, &options(dir.path(), 2));
    let verdicts: Vec<String> = runs
        .iter()
        .map(|run| {
            let tests = run.result.tests.map(|it: TestCounts| (it.passed, it.failed, it.skipped));
            let reason = omk_gates::failure_reason(&run.result).unwrap_or_else(|| "passed".into());
            format!("{} {tests:?} {reason}", run.result.name)
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "pytest-like Some((2, 0, 1)) passed",
            "none Some((0, 0, 0)) ran no tests (set allow_no_tests = true if that is fine)",
            "none-allowed Some((0, 0, 0)) passed",
            "unknown None passed",
            "lint-none Some((0, 0, 0)) passed",
        ]
    );
    assert!(runs[2].result.allow_no_tests, "the result records allow_no_tests");
    Ok(())
}

#[test]
fn the_tail_is_bounded_and_starts_at_a_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let line = "i=0; while [ $i -lt 5000 ]; do echo \"line $i\"; i=$((i+1)); done";
    let runs = run_with(&[shell("long", line, Duration::from_secs(60))], &options(dir.path(), 1));
    let tail = &runs[0].tail;
    assert!(tail.len() <= omk_gates::TAIL_BYTES, "{}", tail.len());
    assert!(tail.starts_with("line ") && tail.ends_with("line 4999\n"), "{tail:?}");
    Ok(())
}

#[test]
fn starts_are_reported_as_they_happen_and_results_in_spec_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let specs = [
        shell("slow", "sleep 0.3", Duration::from_secs(60)),
        shell("fast", "true", Duration::from_secs(60)),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut seen = Vec::new();
    let mut observer = |event: GateEvent<'_>| match event {
        GateEvent::Started(started) => seen.push(format!("started {}", started.name)),
        GateEvent::Finished(run) => seen.push(format!("finished {}", run.result.name)),
    };
    runtime.block_on(omk_gates::run_gates(&specs, &options(dir.path(), 2), &mut observer));
    assert_eq!(seen, ["started slow", "started fast", "finished slow", "finished fast"]);
    Ok(())
}

#[test]
fn cancel_stops_running_gates_and_skips_the_rest() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let options = RunOptions { cancel: Some(cancelled), ..options(dir.path(), 1) };
    let specs = [
        shell("running", "sleep 30", Duration::from_secs(60)),
        shell("waiting", "true", Duration::from_secs(60)),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let started = std::time::Instant::now();
    let runs = runtime.block_on(async {
        let mut noop = |_: GateEvent<'_>| {};
        let run = omk_gates::run_gates(&specs, &options, &mut noop);
        let trigger = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.send(true).ok();
        };
        tokio::join!(run, trigger).0
    });
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!((runs[0].result.signal, runs[0].result.timed_out), (Some(15), false));
    assert_eq!(
        runs[1].result.spawn_error.as_deref(),
        Some("the run was cancelled before the gate started")
    );
    Ok(())
}

#[test]
fn a_passed_gate_is_reused_on_an_unchanged_tree_and_rerun_after_a_change() -> TestResult {
    let dir = tempfile::tempdir()?;
    let wt = dir.path().join("wt");
    fs::create_dir(&wt)?;
    git(&wt, &["init", "-q"]);
    fs::write(wt.join(".gitignore"), "ignored.txt\n")?;
    fs::write(wt.join("a.txt"), "a\n")?;
    fs::create_dir(wt.join("docs"))?;
    fs::write(wt.join("docs/d.md"), "d\n")?;
    let cache_options = |run_id: &str, read: bool| CacheOptions {
        dir: dir.path().join("cache"),
        run_id: run_id.to_owned(),
        env_names: vec!["PATH".to_owned(), "CI".to_owned()],
        read,
        state_dir: Some(".omk/".to_owned()),
        listing: None,
    };
    let run = |run_id: &str, read: bool| {
        let options = RunOptions {
            cache: Some(cache_options(run_id, read)),
            artifact_root: dir.path().join(run_id),
            ..options(dir.path(), 2)
        };
        let specs = [
            shell("all", "cat a.txt", Duration::from_secs(60)),
            GateSpec {
                inputs: vec!["docs".to_owned()],
                ..shell("docs", "cat docs/d.md", Duration::from_secs(60))
            },
            shell("failing", "exit 1", Duration::from_secs(60)),
        ];
        run_with(&specs, &options)
            .into_iter()
            .map(|it| it.result.cached_from.unwrap_or_else(|| "ran".to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run("r1", true), ["ran", "ran", "ran"]);
    // Unchanged tree: passed gates come from r1; failures always run again.
    assert_eq!(run("r2", true), ["r1", "r1", "ran"]);
    let cached_log = fs::read_to_string(dir.path().join("r2/artifacts/gates/all.log"))?;
    assert_eq!(cached_log, "a\n", "the cached log is copied into the run's artifacts");
    // An ignored file does not count; an untracked one does, but only for gates whose inputs
    // include it.
    fs::write(wt.join("ignored.txt"), "x\n")?;
    assert_eq!(run("r3", true), ["r1", "r1", "ran"]);
    fs::write(wt.join("new.txt"), "x\n")?;
    assert_eq!(run("r4", true), ["ran", "r1", "ran"]);
    // --no-cache runs everything but still stores the results.
    assert_eq!(run("r5", false), ["ran", "ran", "ran"]);
    assert_eq!(run("r6", true), ["r5", "r5", "ran"]);
    // The caller's state directory never counts, even when git would list it.
    fs::create_dir(wt.join(".omk"))?;
    fs::write(wt.join(".omk/state.json"), "{}\n")?;
    assert_eq!(run("r7", true), ["r5", "r5", "ran"]);
    // Entries are not synced, so a crash of the machine may leave one whose log was cut short
    // or emptied: its log no longer matches the digest the entry records, and the gate runs.
    let cache = dir.path().join("cache");
    for entry in fs::read_dir(&cache)? {
        let path = entry?.path();
        if path.extension().is_some_and(|it| it == "log") {
            fs::write(&path, "")?;
        }
    }
    assert_eq!(run("r8", true), ["ran", "ran", "ran"]);
    // A torn entry is a miss too, never an error.
    for entry in fs::read_dir(&cache)? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(".json")
            && !path.to_string_lossy().ends_with(".failed.json")
        {
            let text = fs::read(&path)?;
            fs::write(&path, &text[..text.len() / 2])?;
        }
    }
    assert_eq!(run("r9", true), ["ran", "ran", "ran"]);
    assert_eq!(run("r10", true), ["r9", "r9", "ran"]);
    // Entries are written over in place, so a write cut short mixes a new entry with the old
    // one: one that parses, with a field of another run, fails its digest and is a miss.
    let mut mixed = 0;
    for entry in fs::read_dir(&cache)? {
        let path = entry?.path();
        let text = fs::read_to_string(&path)?;
        if !path.to_string_lossy().ends_with(".failed.json") && text.contains("\"run_id\": \"r9\"")
        {
            fs::write(&path, text.replace("\"run_id\": \"r9\"", "\"run_id\": \"r0\""))?;
            mixed += 1;
        }
    }
    assert_eq!(mixed, 2, "the entries r10 was served");
    assert_eq!(run("r11", true), ["ran", "ran", "ran"]);
    assert_eq!(run("r12", true), ["r11", "r11", "ran"]);
    Ok(())
}

/// A cache file written over in place is cut to its new content: a shorter log of a later run
/// leaves nothing of the longer one behind, and is the log served.
#[test]
fn a_cache_log_written_over_a_longer_one_is_cut_to_its_length() -> TestResult {
    let (dir, _) = git_worktree()?;
    // The gate prints a file outside the worktree, so its output changes and its key does not.
    let outside = dir.path().join("outside.txt");
    let run = |run_id: &str, read: bool| {
        let options = cached_run(dir.path(), run_id, cache_in(dir.path(), run_id, read, &[]));
        let gate = shell("print", &format!("cat {}", outside.display()), Duration::from_secs(60));
        run_with(&[gate], &options).remove(0).result
    };
    fs::write(&outside, "a long line of output from the first run\n".repeat(200))?;
    run("r1", false);
    fs::write(&outside, "short\n")?;
    run("r2", false);
    let served = run("r3", true);
    assert_eq!(served.cached_from.as_deref(), Some("r2"));
    assert_eq!(fs::read_to_string(dir.path().join("r3/artifacts/gates/print.log"))?, "short\n");
    let mut logs = Vec::new();
    for entry in fs::read_dir(dir.path().join("cache"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|it| it == "log") {
            logs.push(fs::read_to_string(&path)?);
        }
    }
    assert_eq!(logs, ["short\n"]);
    Ok(())
}

/// omk writes the cache unconfined, while a gate of `omk gates run` may write anywhere in the
/// checkout, the cache included: a symbolic or hard link it leaves at a cache file's name is
/// replaced, and never written through.
#[test]
fn the_cache_never_writes_through_a_link_left_at_its_files() -> TestResult {
    let (dir, _) = git_worktree()?;
    let cache = dir.path().join("cache");
    let run = |run_id: &str| {
        let options = cached_run(dir.path(), run_id, cache_in(dir.path(), run_id, false, &[]));
        run_with(&[shell("all", "echo gate output", Duration::from_secs(60))], &options)
    };
    run("r1");
    let mut names: Vec<_> =
        fs::read_dir(&cache)?.map(|it| it.map(|it| it.path())).collect::<Result<_, _>>()?;
    names.sort();
    let [entry, log] = &names[..] else { return Err(format!("cache files: {names:?}").into()) };
    // The user's files, which a gate points the cache's names at.
    let bashrc = dir.path().join("bashrc");
    let notes = dir.path().join("notes");
    fs::write(&bashrc, "user's own\n")?;
    fs::write(&notes, "user's notes\n")?;
    fs::remove_file(log)?;
    std::os::unix::fs::symlink(&bashrc, log)?;
    fs::remove_file(entry)?;
    fs::hard_link(&notes, entry)?;
    run("r2");
    assert_eq!(fs::read_to_string(&bashrc)?, "user's own\n");
    assert_eq!(fs::read_to_string(&notes)?, "user's notes\n");
    assert!(!fs::symlink_metadata(log)?.file_type().is_symlink());
    assert_eq!(fs::read_to_string(log)?, "gate output\n");
    assert!(fs::read_to_string(entry)?.contains("\"run_id\": \"r2\""));
    Ok(())
}

/// A gate that fails, then passes, on the same files: its pass is marked flaky and never served
/// from the cache, so no later run takes the pass for granted.
#[test]
fn a_gate_whose_result_differs_on_the_same_files_is_flaky_and_never_served() -> TestResult {
    let (dir, _) = git_worktree()?;
    // The gate flips a file outside the worktree: fails on odd runs, passes on even ones.
    let flip = dir.path().join("flip");
    let line = format!(
        "if [ -e {0} ]; then rm {0}; echo '1 passed, 0 failed'; else touch {0}; echo '0 passed, 1 failed'; exit 1; fi",
        flip.display()
    );
    let run = |run_id: &str| {
        let options = cached_run(dir.path(), run_id, cache_in(dir.path(), run_id, true, &["PATH"]));
        let run = run_with(&[test_gate("flaky", &line)], &options).remove(0).result;
        (gate_passed(&run), run.cached_from, run.flaky_with)
    };
    assert_eq!(run("r1"), (false, None, None));
    // The same files pass now: the pass is fresh and says which run failed.
    assert_eq!(run("r2"), (true, None, Some("r1".to_owned())));
    // A pass is stored, but the recorded failure keeps it from being served: the gate runs.
    assert_eq!(run("r3"), (false, None, Some("r2".to_owned())));
    assert_eq!(run("r4"), (true, None, Some("r3".to_owned())));
    Ok(())
}

#[test]
fn outside_a_git_repository_the_cache_is_not_used_and_says_why() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let options =
        RunOptions { cache: Some(cache_in(dir.path(), "r1", true, &[])), ..options(dir.path(), 1) };
    let runs = run_with(&[shell("t", "true", Duration::from_secs(60))], &options);
    assert!(runs[0].result.passed());
    let note = runs[0].cache_note.as_deref().unwrap_or_default();
    assert!(note.starts_with("cache not used: list the files of"), "{note}");
    Ok(())
}

/// A listing of the files started ahead of the run (`omk gates run` starts it while it reads the
/// configuration) is the listing the run would take itself: it keys the cache the same way, so
/// a result stored with it is served to a run that lists the files itself, and the reverse.
#[test]
fn a_listing_started_ahead_keys_the_cache_as_the_run_would() -> TestResult {
    let (dir, wt) = git_worktree()?;
    fs::write(wt.join("b.txt"), "b\n")?;
    let base = options(dir.path(), 1);
    let state_dir = Some(".omk/");
    let listing = TreeListing::start(&base.worktree, &base.env, state_dir);
    let listed = listing.wait()?;
    assert_eq!(listed, tree_files(&base.worktree, &base.env, state_dir)?);
    let paths: Vec<&str> = listed.files.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(paths, ["a.txt", "b.txt"]);
    // Waited for twice, it lists again: a later change is seen.
    fs::write(wt.join("c.txt"), "c\n")?;
    assert_eq!(listing.wait()?.files.len(), 3);
    let run = |run_id: &str, read: bool, ahead: bool| {
        let listing = ahead
            .then(|| std::sync::Arc::new(TreeListing::start(&base.worktree, &base.env, state_dir)));
        let cache = CacheOptions {
            state_dir: state_dir.map(ToOwned::to_owned),
            listing,
            ..cache_in(dir.path(), run_id, read, &["PATH"])
        };
        let options = cached_run(dir.path(), run_id, cache);
        let result = run_with(&[shell("all", "cat a.txt", Duration::from_secs(60))], &options)
            .remove(0)
            .result;
        result.cached_from.unwrap_or_else(|| "ran".to_owned())
    };
    assert_eq!(run("r1", false, true), "ran");
    assert_eq!(run("r2", true, false), "r1");
    assert_eq!(run("r3", false, false), "ran");
    assert_eq!(run("r4", true, true), "r3");
    // A changed file makes a listing started ahead key the gate anew.
    fs::write(wt.join("a.txt"), "changed\n")?;
    assert_eq!(run("r5", true, true), "ran");
    Ok(())
}

/// A gate cache in `dir/cache`, for run `run_id`, keyed by the variables `env_names`.
fn cache_in(dir: &std::path::Path, run_id: &str, read: bool, env_names: &[&str]) -> CacheOptions {
    CacheOptions {
        dir: dir.join("cache"),
        run_id: run_id.to_owned(),
        env_names: env_names.iter().map(|it| (*it).to_owned()).collect(),
        read,
        state_dir: None,
        listing: None,
    }
}

/// The options of run `run_id` in `dir`, one gate at a time, with its logs in `dir/<run_id>`.
fn cached_run(dir: &std::path::Path, run_id: &str, cache: CacheOptions) -> RunOptions {
    RunOptions { cache: Some(cache), artifact_root: dir.join(run_id), ..options(dir, 1) }
}

/// A temporary directory with a git worktree `wt` in it that holds `a.txt`.
fn git_worktree() -> Result<(tempfile::TempDir, std::path::PathBuf), std::io::Error> {
    let dir = tempfile::tempdir()?;
    let wt = dir.path().join("wt");
    fs::create_dir(&wt)?;
    git(&wt, &["init", "-q"]);
    fs::write(wt.join("a.txt"), "a\n")?;
    Ok((dir, wt))
}
