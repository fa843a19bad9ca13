//! Benchmarks of team runs: four scripted slices that each take 2 s of agent time (a `sleep 2`
//! tool call, then a file of their own), on a repository with one gate.
//!
//! - `team_wall/baseline_one_slice`: one goal with one such agent: the wall time a team run of
//!   slices at once should stay near (the target is 1.5x).
//! - `team_wall/team_4_slices_at_once`: the four slices with `max_agents = 4`.
//! - `team_wall/team_4_slices_one_by_one`: the same with `max_agents = 1`, as if run serially.
//! - `team_wall/team_4_slices_at_once_no_gate_cache`: at once, with the gate cache off: the
//!   proposed gates on the integrated tree run again instead of coming from the merge queue's
//!   run on the same tree.

use std::{fmt::Write as _, fs, path::Path, time::Duration};

mod common;

use common::git;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use omk_goal::{AgentSpec, TeamRequest, TeamSource};

/// The gate: a check that takes about 0.3 s, as a small test suite would.
const CHECK_SH: &str = "sleep 0.3\nfor f in *.txt; do grep -q BAD \"$f\" && exit 1; done\nexit 0\n";

/// A repository with the gate in `omk.toml`, four scenarios and a plan of four tasks outside it.
fn project(max_agents: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).expect("repo dir");
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    fs::write(repo.join("check.sh"), CHECK_SH).expect("check.sh");
    fs::write(repo.join("base.txt"), "base\n").expect("base.txt");
    fs::write(
        repo.join("omk.toml"),
        "[[gates]]\nname = \"check\"\ncommand = [\"sh\", \"check.sh\"]\n",
    )
    .expect("omk.toml");
    git(&repo, &["add", "--all"]);
    git(&repo, &["commit", "--quiet", "-m", "base"]);
    let mut plan = format!("max_agents = {max_agents}\n");
    for n in 1..=4 {
        fs::write(dir.path().join(format!("s{n}.scenario")), scenario(n)).expect("scenario");
        write!(
            plan,
            "\n[[task]]\nid = \"part-{n}\"\nprompt = \"write part {n}\"\nwrites = [\"part-{n}.txt\"]\nagent = \"script:s{n}.scenario\"\n"
        )
        .expect("write to a string");
    }
    fs::write(dir.path().join("plan.toml"), plan).expect("plan.toml");
    fs::write(dir.path().join("one.scenario"), scenario(1)).expect("scenario");
    dir
}

/// A scenario that sleeps 2 s in a tool call, then writes `part-N.txt`.
fn scenario(n: u32) -> String {
    format!(
        "text: working\n\
         tool_call: {{\"id\": \"tc-1\", \"name\": \"Shell\", \"arguments\": \"{{\\\"command\\\": \\\"sleep 2\\\"}}\"}}\n\
         tool_call: {{\"id\": \"tc-2\", \"name\": \"WriteFile\", \"arguments\": \"{{\\\"path\\\": \\\"part-{n}.txt\\\", \\\"content\\\": \\\"part {n}\\\\n\\\"}}\"}}\n\
         ---\n\
         text: wrote part {n}\n"
    )
}

fn run(dir: &Path, team: Option<TeamRequest<'_>>, reuse_cached_gates: bool) {
    let agent = AgentSpec::Script(dir.join("one.scenario"));
    let repo = dir.join("repo");
    let goal = common::Goal {
        repo: &repo,
        prompt: "write the parts",
        agent: &agent,
        team,
        reuse_cached_gates,
    };
    let outcome = common::run(goal, |_| {});
    assert!(!outcome.proof.changed_files.is_empty(), "the goal changed files");
}

fn team_wall(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("team_wall");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    let cases: [(&str, Option<u32>, bool); 4] = [
        ("baseline_one_slice", None, true),
        ("team_4_slices_at_once", Some(4), true),
        ("team_4_slices_one_by_one", Some(1), true),
        ("team_4_slices_at_once_no_gate_cache", Some(4), false),
    ];
    for (name, max_agents, cache) in cases {
        group.bench_function(name, |bencher| {
            bencher.iter_batched(
                || project(max_agents.unwrap_or(1)),
                |dir| {
                    let plan = dir.path().join("plan.toml");
                    let team = max_agents.map(|_| TeamRequest {
                        source: TeamSource::Plan(&plan),
                        max_agents: None,
                        retries: None,
                        lease_ms: None,
                    });
                    run(dir.path(), team, cache);
                    dir
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, team_wall);
criterion_main!(benches);
