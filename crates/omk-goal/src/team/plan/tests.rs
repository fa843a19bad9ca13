//! Tests of the task graph: plan files, validation, graph queries, slices and proposals, each
//! on the text a user or an agent writes.

use std::path::Path;

use insta::assert_snapshot;
use omk_events::{BudgetLimits, TaskSpec};

use super::{
    Plan, ProposalPolicy, decide_proposal, depends_transitively, format_duration_ms,
    parse_duration_ms, parse_plan, parse_proposals, path_in_write_set, proposals::ProposedTask,
    slices_from_prompt, validate, write_overlap,
};

/// The plan file every test reads from.
const PLAN_PATH: &str = "plans/team.toml";

/// Returns the plan of `text`, or its error as the user sees it.
fn plan(text: &str) -> Result<Plan, String> {
    parse_plan(Path::new(PLAN_PATH), text).map_err(|err| err.to_string())
}

/// Returns the error of the plan `text`, which must not parse.
fn plan_error(text: &str) -> String {
    match plan(text) {
        Ok(plan) => panic!("expected an error, got {plan:?}"),
        Err(err) => err,
    }
}

/// Returns the problems `validate` finds in the plan `text`, which must be valid TOML.
fn problems(text: &str) -> Vec<String> {
    match plan(text) {
        Ok(_) => Vec::new(),
        Err(err) => {
            let (head, rest) = err.split_once('\n').unwrap_or((&err, ""));
            assert_eq!(head, format!("the task plan {PLAN_PATH} is invalid:"), "{err}");
            rest.lines().map(|it| it.trim_start_matches("  - ").to_owned()).collect()
        }
    }
}

/// Returns a task with the id, dependencies and writes given.
fn task(id: &str, depends_on: &[&str], writes: &[&str]) -> TaskSpec {
    TaskSpec {
        depends_on: depends_on.iter().map(|it| (*it).to_owned()).collect(),
        writes: writes.iter().map(|it| (*it).to_owned()).collect(),
        retries: 1,
        ..TaskSpec::new(id, format!("Do {id}"))
    }
}

/// Returns the errors of the plans `texts`, which must not parse, one a line.
fn errors_of(texts: &[&str]) -> String {
    texts.iter().map(|text| plan_error(text)).collect::<Vec<_>>().join("\n")
}

/// Returns the problems `validate` finds in `tasks`, which must be invalid, one a line.
fn problems_of(tasks: &[TaskSpec]) -> String {
    validate(tasks).expect_err("the tasks are invalid").join("\n")
}

/// Returns `items` as owned strings.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|it| (*it).to_owned()).collect()
}

// Plan files.

const FULL_PLAN: &str = r#"
max_agents = 3
retries = 2

[[task]]
id = "core"
prompt = "Add the Health type to the core crate"
writes = ["src/core/"]

[[task]]
id = "api"
prompt = "Add the /health endpoint"
depends_on = ["core"]
reads = ["src/lib.rs"]
writes = ["src/api/", "tests/api.rs"]
agent = "script:api.scenario"
retries = 0

[task.budget]
time = "1h30m"
tokens = 50000
usd = 1.5
turns = 20

[[task]]
id = "cli"
prompt = "Add omk health"
depends_on = ["core"]
writes = ["./src/cli/*.rs"]
agent = "kimi"

[task.budget]
usd = 2
"#;

#[test]
fn a_full_plan_parses_with_its_defaults_and_budgets() {
    let plan = plan(FULL_PLAN).expect("the plan is valid");
    assert_eq!(plan.max_agents, Some(3));
    assert_eq!(plan.retries, Some(2));
    let [core, api, cli] = plan.tasks.as_slice() else { panic!("three tasks: {plan:?}") };
    assert_eq!(
        *core,
        TaskSpec {
            id: "core".to_owned(),
            prompt: "Add the Health type to the core crate".to_owned(),
            depends_on: Vec::new(),
            reads: Vec::new(),
            writes: strings(&["src/core/"]),
            agent: None,
            budget: BudgetLimits::default(),
            retries: 2,
            proposed_by: None,
            depth: 0,
        }
    );
    assert_eq!(api.depends_on, strings(&["core"]));
    assert_eq!(api.reads, strings(&["src/lib.rs"]));
    assert_eq!(api.writes, strings(&["src/api/", "tests/api.rs"]));
    assert_eq!(api.agent.as_deref(), Some("script:plans/api.scenario"));
    assert_eq!(api.retries, 0);
    assert_eq!(
        api.budget,
        BudgetLimits {
            wall_ms: Some(5_400_000),
            tokens: Some(50_000),
            usd: Some(1.5),
            turns: Some(20)
        }
    );
    assert_eq!(cli.agent.as_deref(), Some("kimi"));
    assert_eq!(cli.budget, BudgetLimits { usd: Some(2.0), ..BudgetLimits::default() });
    assert_eq!(cli.retries, 2);
}

#[test]
fn the_example_plan_in_the_docs_is_valid() {
    let docs = include_str!("../../../../../docs/teams.md");
    let (_, after) = docs.split_once("```toml\n").expect("docs/teams.md has a TOML example");
    let (example, _) = after.split_once("```").expect("the example ends");
    let plan = parse_plan(Path::new("plans/health.toml"), example).expect("the example is valid");
    let ids: Vec<&str> = plan.tasks.iter().map(|it| it.id.as_str()).collect();
    assert_eq!(ids, ["core", "api", "cli", "docs"]);
    assert_eq!(plan.tasks[1].agent.as_deref(), Some("script:plans/api.scenario"));
}

#[test]
fn tasks_are_retried_once_when_the_plan_does_not_say() {
    let plan = plan("[[task]]\nid = \"a\"\nprompt = \"Do a\"\n").expect("valid");
    assert_eq!(plan.tasks[0].retries, 1);
    assert_eq!((plan.max_agents, plan.retries), (None, None));
}

#[test]
fn script_agents_are_relative_to_the_plan_files_directory() {
    let text = "[[task]]\nid = \"a\"\nprompt = \"Do a\"\nagent = \"script:s/a.scenario\"\n";
    let agent = |path: &str| {
        let plan = parse_plan(Path::new(path), text).expect("valid");
        plan.tasks[0].agent.clone().expect("an agent")
    };
    assert_eq!(agent("plans/team.toml"), "script:plans/s/a.scenario");
    assert_eq!(agent("team.toml"), "script:s/a.scenario");
    assert_eq!(agent("/abs/team.toml"), "script:/abs/s/a.scenario");
    let absolute = text.replace("s/a.scenario", "/x/a.scenario");
    let plan = parse_plan(Path::new("plans/team.toml"), &absolute).expect("valid");
    assert_eq!(plan.tasks[0].agent.as_deref(), Some("script:/x/a.scenario"));
}

#[test]
fn unknown_keys_name_the_place_and_the_closest_key() {
    let errors = errors_of(&[
        "max_agent = 3\n",
        "[[task]]\nid = \"a\"\nprompt = \"p\"\ndepend_on = [\"b\"]\n",
        "[[task]]\nid = \"a\"\nprompt = \"p\"\n[task.budget]\ntoken = 5\n",
        "[[task]]\nid = \"a\"\nprompt = \"p\"\nbananas = 1\n",
    ]);
    assert_snapshot!(errors, @r"
    plans/team.toml:1:1: unknown key `max_agent` at the top level; did you mean `max_agents`?
    plans/team.toml:4:1: unknown key `depend_on` in [[task]]; did you mean `depends_on`?
    plans/team.toml:5:1: unknown key `token` in [task.budget]; did you mean `tokens`?
    plans/team.toml:4:1: unknown key `bananas` in [[task]]; expected one of id, prompt, depends_on, reads, writes, agent, retries, budget
    ");
}

#[test]
fn toml_syntax_errors_name_the_file_line_and_column() {
    let errors = errors_of(&[
        "[[task]]\nid = \"a\nprompt = \"p\"\n",
        "[[task]]\nid = \"a\"\nid = \"b\"\nprompt = \"p\"\n",
        "[task]\nid = \"a\"\n",
    ]);
    assert_snapshot!(errors, @r#"
    plans/team.toml:2:8: invalid basic string, expected `"`
    plans/team.toml:3:1: duplicate key
    plans/team.toml:1:1: task must be a list of tables; write each task under a [[task]] header
    "#);
}

#[test]
fn values_of_the_wrong_form_say_the_expected_form() {
    let task = "[[task]]\nid = \"a\"\nprompt = \"p\"\n";
    let errors = errors_of(&[
        "max_agents = 0\n",
        "retries = -1\n",
        "retries = 5000000000\n",
        "task = 3\n",
        "[[task]]\nid = 7\nprompt = \"p\"\n",
        &format!("{task}writes = \"src/\"\n"),
        &format!("{task}retries = \"two\"\n"),
        &format!("{task}agent = \" \"\n"),
        &format!("{task}budget = 5\n"),
        &format!("{task}[task.budget]\ntime = \"ten minutes\"\n"),
        &format!("{task}[task.budget]\nusd = -1.0\n"),
        &format!("{task}[task.budget]\ntokens = 1.5\n"),
    ]);
    assert_snapshot!(errors, @r#"
    plans/team.toml:1:14: max_agents must be a whole number, 1 or more
    plans/team.toml:1:11: retries must be a whole number, 0 or more
    plans/team.toml:1:11: retries must be a whole number from 0 to 4294967295
    plans/team.toml:1:8: task must be a list of tables; write each task under a [[task]] header
    plans/team.toml:2:6: [[task]] id must be a string
    plans/team.toml:4:10: [[task]] writes must be an array of strings
    plans/team.toml:4:11: [[task]] retries must be a whole number, 0 or more
    plans/team.toml:4:9: [[task]] agent is empty; name an agent such as kimi or script:FILE, or leave agent out to run the goal's agent
    plans/team.toml:4:10: [[task]] budget must be a table: write [task.budget] with time, tokens, usd or turns
    plans/team.toml:5:8: [task.budget] time: "ten minutes" is not a duration; write it like 90s, 10m, 1h30m or 500ms
    plans/team.toml:5:7: [task.budget] usd must be a number of US dollars, 0 or more
    plans/team.toml:5:10: [task.budget] tokens must be a whole number, 0 or more
    "#);
}

#[test]
fn a_task_without_an_id_or_a_prompt_is_an_error_at_its_header() {
    let errors = errors_of(&[
        "[[task]]\nid = \"a\"\nprompt = \"p\"\n\n[[task]]\nprompt = \"Do b\"\n",
        "[[task]]\nid = \"a\"\n",
    ]);
    assert_snapshot!(errors, @r#"
    plans/team.toml:5:1: [[task]] has no id; give the task one, such as id = "api"
    plans/team.toml:1:1: [[task]] "a" has no prompt; say what its agent should do, such as prompt = "..."
    "#);
}

#[test]
fn an_invalid_graph_lists_every_problem_under_the_plan_files_name() {
    let text = r#"
[[task]]
id = "api"
prompt = " "
depends_on = ["api", "cor"]

[[task]]
id = "core"
prompt = "Do core"
writes = ["/etc/passwd"]
"#;
    assert_snapshot!(plan_error(text), @r#"
    the task plan plans/team.toml is invalid:
      - task "api" has an empty prompt; say what its agent should do
      - task "api" depends on itself; remove "api" from its depends_on
      - task "api" depends on "cor", which no task defines; did you mean "core"?
      - task "core" writes "/etc/passwd": paths are relative to the repository root
    "#);
}

#[test]
fn a_plan_without_tasks_is_invalid() {
    assert_eq!(
        problems("max_agents = 2\n"),
        ["there are no tasks; add at least one [[task]] with an id and a prompt"]
    );
    assert_eq!(
        validate(&[]),
        Err(strings(&["there are no tasks; add at least one [[task]] with an id and a prompt"]))
    );
}

// Validation.

#[test]
fn ids_must_be_present_valid_and_unique() {
    let mut tasks = vec![
        task("", &[], &[]),
        task("a b", &[], &[]),
        task(&"x".repeat(41), &[], &[]),
        task("api", &[], &[]),
        task("ok_id-2", &[], &[]),
        task("api", &[], &[]),
        task("dup", &[], &["src/"]),
        task("dup", &[], &["src/"]),
        task("dup", &[], &[]),
    ];
    tasks[0].prompt = "Do something".to_owned();
    assert_snapshot!(problems_of(&tasks), @r#"
    task 1 has no id; give it an id of letters, digits, "-" and "_"
    task "a b" has an invalid id; use only letters, digits, "-" and "_", at most 40 characters
    task "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" has an invalid id; use only letters, digits, "-" and "_", at most 40 characters
    task "api" is defined twice (tasks 4 and 6); give each task its own id
    task "dup" is defined 3 times (tasks 7, 8 and 9); give each task its own id
    "#);
    assert_eq!(validate(&[task(&"x".repeat(40), &[], &[])]), Ok(()));
}

#[test]
fn missing_dependencies_suggest_a_close_id() {
    let tasks = [task("core", &[], &[]), task("api", &["cor"], &[]), task("cli", &["zzzzzz"], &[])];
    assert_snapshot!(problems_of(&tasks), @r#"
    task "api" depends on "cor", which no task defines; did you mean "core"?
    task "cli" depends on "zzzzzz", which no task defines; remove it from depends_on or add a task with that id
    "#);
}

#[test]
fn cycles_are_named_in_dependency_order_from_their_first_task() {
    let text = r#"
[[task]]
id = "a"
prompt = "Do a"
depends_on = ["b"]

[[task]]
id = "c"
prompt = "Do c"
depends_on = ["a"]

[[task]]
id = "b"
prompt = "Do b"
depends_on = ["c"]

[[task]]
id = "d"
prompt = "Do d"
depends_on = ["e"]

[[task]]
id = "e"
prompt = "Do e"
depends_on = ["d"]

[[task]]
id = "f"
prompt = "Do f"
depends_on = ["a"]
"#;
    assert_snapshot!(problems(text).join("\n"), @r"
    tasks depend on each other in a cycle: a -> b -> c -> a; remove one of these dependencies
    tasks depend on each other in a cycle: d -> e -> d; remove one of these dependencies
    ");
}

#[test]
fn a_cycle_through_a_larger_group_names_one_simple_cycle() {
    // a needs b and c; b needs a; c needs b: one group, reported once.
    let tasks = [task("a", &["b", "c"], &[]), task("b", &["a"], &[]), task("c", &["b"], &[])];
    assert_eq!(
        validate(&tasks),
        Err(strings(&[
            "tasks depend on each other in a cycle: a -> b -> a; remove one of these dependencies"
        ]))
    );
}

#[test]
fn unordered_tasks_may_not_write_overlapping_paths() {
    let text = r#"
[[task]]
id = "api"
prompt = "Do api"
writes = ["src/api/", "src/shared/"]

[[task]]
id = "cli"
prompt = "Do cli"
writes = ["src/cli/", "src/shared/mod.rs"]
"#;
    assert_snapshot!(problems(text).join("\n"), @r#"tasks "api" and "cli" both write src/shared/ (api writes "src/shared/", cli writes "src/shared/mod.rs") but neither depends on the other; add depends_on or split the paths"#);
}

#[test]
fn overlaps_are_found_between_files_directories_and_globs() {
    let pairs: [(&[&str], &[&str]); 16] = [
        (&["src/lib.rs"], &["src/lib.rs"]),
        (&["./src/lib.rs"], &["src//lib.rs"]),
        (&["src/lib.rs"], &["src/main.rs"]),
        (&["src/api/mod.rs"], &["src/"]),
        (&["src/api"], &["src/api/mod.rs"]),
        (&["src/api/"], &["src/apis/"]),
        (&["src/*.rs"], &["src/lib.rs"]),
        (&["src/*.rs"], &["src/api/lib.rs"]),
        (&["src/*.rs"], &["src/lib.md"]),
        (&["src/**/*.rs"], &["src/api/deep/x.rs"]),
        (&["**/Cargo.toml"], &["crates/omk/Cargo.toml"]),
        // A glob that matches something under a directory overlaps it.
        (&["src/api/*.rs"], &["src/"]),
        (&["crates/*/src/"], &["crates/omk/src/lib.rs"]),
        (&["src/*.rs"], &["tests/"]),
        // Two globs overlap when their literal prefixes are prefix-related.
        (&["src/*.rs"], &["src/api/*.rs"]),
        (&["src/*.rs"], &["tests/*.rs"]),
    ];
    let verdicts = pairs.map(|(a, b)| match validate(&[task("a", &[], a), task("b", &[], b)]) {
        Ok(()) => format!("{a:?} and {b:?}: ok"),
        Err(problems) => problems.join("\n"),
    });
    assert_snapshot!(verdicts.join("\n"), @r#"
    tasks "a" and "b" both write src/lib.rs (a writes "src/lib.rs", b writes "src/lib.rs") but neither depends on the other; add depends_on or split the paths
    tasks "a" and "b" both write src/lib.rs (a writes "./src/lib.rs", b writes "src//lib.rs") but neither depends on the other; add depends_on or split the paths
    ["src/lib.rs"] and ["src/main.rs"]: ok
    tasks "a" and "b" both write src/ (a writes "src/api/mod.rs", b writes "src/") but neither depends on the other; add depends_on or split the paths
    tasks "a" and "b" both write src/api (a writes "src/api", b writes "src/api/mod.rs") but neither depends on the other; add depends_on or split the paths
    ["src/api/"] and ["src/apis/"]: ok
    tasks "a" and "b" both write src/lib.rs (a writes "src/*.rs", b writes "src/lib.rs") but neither depends on the other; add depends_on or split the paths
    ["src/*.rs"] and ["src/api/lib.rs"]: ok
    ["src/*.rs"] and ["src/lib.md"]: ok
    tasks "a" and "b" both write src/api/deep/x.rs (a writes "src/**/*.rs", b writes "src/api/deep/x.rs") but neither depends on the other; add depends_on or split the paths
    tasks "a" and "b" both write crates/omk/Cargo.toml (a writes "**/Cargo.toml", b writes "crates/omk/Cargo.toml") but neither depends on the other; add depends_on or split the paths
    tasks "a" and "b" both write src/api/*.rs (a writes "src/api/*.rs", b writes "src/") but neither depends on the other; add depends_on or split the paths
    tasks "a" and "b" both write crates/omk/src/lib.rs (a writes "crates/*/src/", b writes "crates/omk/src/lib.rs") but neither depends on the other; add depends_on or split the paths
    ["src/*.rs"] and ["tests/"]: ok
    tasks "a" and "b" both write src/*.rs (a writes "src/*.rs", b writes "src/api/*.rs") but neither depends on the other; add depends_on or split the paths
    ["src/*.rs"] and ["tests/*.rs"]: ok
    "#);
}

#[test]
fn ordered_tasks_and_undeclared_tasks_may_write_anything() {
    let tasks = [
        task("core", &[], &["src/"]),
        task("api", &["core"], &["src/api/"]),
        task("api-tests", &["api"], &["src/api/tests.rs"]),
        task("free", &[], &[]),
    ];
    assert_eq!(validate(&tasks), Ok(()));
}

#[test]
fn read_and_write_paths_stay_inside_the_repository() {
    let mut tasks = [task("x", &[], &["/etc/passwd", "../other/", "./", "src/ok.rs"])];
    tasks[0].reads = strings(&["a/../../b", ""]);
    assert_snapshot!(problems_of(&tasks), @r#"
    task "x" reads "a/../../b": paths may not leave the repository; remove the ".." components
    task "x" reads "": name a file, a directory (ending in /) or a glob under the repository root
    task "x" writes "/etc/passwd": paths are relative to the repository root
    task "x" writes "../other/": paths may not leave the repository; remove the ".." components
    task "x" writes "./": name a file, a directory (ending in /) or a glob under the repository root
    "#);
}

// Graph queries.

#[test]
fn dependencies_are_followed_through_chains() {
    let tasks =
        [task("a", &[], &[]), task("b", &["a"], &[]), task("c", &["b"], &[]), task("d", &[], &[])];
    assert!(depends_transitively(&tasks, "c", "a"));
    assert!(depends_transitively(&tasks, "b", "a"));
    assert!(!depends_transitively(&tasks, "a", "c"));
    assert!(!depends_transitively(&tasks, "c", "d"));
    assert!(!depends_transitively(&tasks, "c", "c"));
    assert!(!depends_transitively(&tasks, "c", "nope"));
}

#[test]
fn write_overlap_returns_the_first_overlapping_pair_as_written() {
    let a = strings(&["docs/", "./src/api/"]);
    let b = strings(&["src/api/x.rs", "docs/a.md"]);
    assert_eq!(write_overlap(&a, &b), Some(("docs/".to_owned(), "docs/a.md".to_owned())));
    assert_eq!(
        write_overlap(&a[1..], &b),
        Some(("./src/api/".to_owned(), "src/api/x.rs".to_owned()))
    );
    assert_eq!(write_overlap(&a, &strings(&["tests/"])), None);
    assert_eq!(write_overlap(&strings(&["/abs"]), &strings(&["/abs"])), None);
}

#[test]
fn changed_paths_are_checked_against_the_write_set() {
    let writes = strings(&["src/api/", "tests/api.rs", "src/*.rs", "docs/**/*.md", "crates/*/"]);
    for inside in [
        "src/api/mod.rs",
        "./src/api/deep/x.rs",
        "tests/api.rs",
        "src/lib.rs",
        "docs/a/b/c.md",
        "docs/c.md",
        "crates/omk/Cargo.toml",
    ] {
        assert!(path_in_write_set(inside, &writes), "{inside}");
    }
    for outside in [
        "src/cli/mod.rs",
        "tests/cli.rs",
        "src/lib.md",
        "docs/a.txt",
        "crates",
        "README.md",
        "../src/lib.rs",
        "/src/lib.rs",
    ] {
        assert!(!path_in_write_set(outside, &writes), "{outside}");
    }
    assert!(!path_in_write_set("src/lib.rs", &[]));
}

#[test]
fn durations_read_and_write_the_budget_time_syntax() {
    assert_eq!(parse_duration_ms("90s"), Ok(90_000));
    assert_eq!(parse_duration_ms("10m"), Ok(600_000));
    assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
    assert_eq!(parse_duration_ms("500ms"), Ok(500));
    assert_eq!(parse_duration_ms("45"), Ok(45_000));
    for bad in ["", "m", "10x", "1h30", "99999999999999999999s"] {
        assert!(parse_duration_ms(bad).is_err(), "{bad}");
    }
    assert_eq!(format_duration_ms(5_400_000), "1h30m");
    assert_eq!(format_duration_ms(90_000), "1m30s");
    assert_eq!(format_duration_ms(500), "500ms");
    assert_eq!(format_duration_ms(0), "0s");
}

// Slices.

/// Returns the slices of `prompt` as `id: prompt` blocks, or the error.
fn slices(prompt: &str, n: u32) -> String {
    match slices_from_prompt(prompt, n, 1) {
        Ok(tasks) => tasks
            .iter()
            .map(|it| format!("{}:\n{}", it.id, it.prompt))
            .collect::<Vec<_>>()
            .join("\n---\n"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn seven_items_in_three_slices_are_three_two_and_two() {
    let prompt = "Clean up the CLI:\n\n- one\n- two\n- three\n- four\n- five\n- six\n- seven\n";
    assert_snapshot!(slices(prompt, 3), @r"
    slice-1:
    Clean up the CLI:

    Your part of this goal (slice 1 of 3):
    - one
    - two
    - three
    ---
    slice-2:
    Clean up the CLI:

    Your part of this goal (slice 2 of 3):
    - four
    - five
    ---
    slice-3:
    Clean up the CLI:

    Your part of this goal (slice 3 of 3):
    - six
    - seven
    ");
}

#[test]
fn slices_are_plain_tasks_with_the_retries_given() {
    let tasks = slices_from_prompt("- a\n- b\n", 2, 3).expect("two items");
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks[1],
        TaskSpec {
            id: "slice-2".to_owned(),
            prompt: "Your part of this goal (slice 2 of 2):\n- b".to_owned(),
            depends_on: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            agent: None,
            budget: BudgetLimits::default(),
            retries: 3,
            proposed_by: None,
            depth: 0,
        }
    );
    assert_eq!(validate(&tasks), Ok(()));
}

#[test]
fn every_list_marker_starts_an_item_and_indented_lines_belong_to_it() {
    let prompt = "Fix the docs.\n\
                  1. config.md\n   mentions a removed key\n\
                  2) gates.md\n   - the timeout\n   - the cwd\n\n   and an example\n\
                  * review.md\n\
                  + proof.md\n\
                  - events.md lazily\ncontinued\n\
                  \n\
                  Run the doc tests when done.\n";
    assert_snapshot!(slices(prompt, 2), @r"
    slice-1:
    Fix the docs.

    Your part of this goal (slice 1 of 2):
    - config.md
      mentions a removed key
    - gates.md
      - the timeout
      - the cwd

      and an example
    - review.md

    Run the doc tests when done.
    ---
    slice-2:
    Fix the docs.

    Your part of this goal (slice 2 of 2):
    - proof.md
    - events.md lazily
      continued

    Run the doc tests when done.
    ");
}

#[test]
fn a_prompt_without_a_list_is_split_into_paragraphs() {
    let prompt =
        "Speed up the parser.\n\nCache the lookups\nin the resolver.\n\n\nAdd a benchmark.\n";
    assert_snapshot!(slices(prompt, 3), @r"
    slice-1:
    Your part of this goal (slice 1 of 3):
    - Speed up the parser.
    ---
    slice-2:
    Your part of this goal (slice 2 of 3):
    - Cache the lookups
      in the resolver.
    ---
    slice-3:
    Your part of this goal (slice 3 of 3):
    - Add a benchmark.
    ");
}

#[test]
fn numbers_and_dashes_inside_words_are_not_list_markers() {
    let prompt = "1.5 million rows\n-5 degrees\n*emphasis*\n\n- real item\n";
    assert_snapshot!(slices(prompt, 1), @r"
    slice-1:
    1.5 million rows
    -5 degrees
    *emphasis*

    Your part of this goal (slice 1 of 1):
    - real item
    ");
}

#[test]
fn the_slice_count_must_fit_the_prompt() {
    let errors = [slices("Do:\n- a\n- b\n", 4), slices("Just one thing", 2)];
    assert_snapshot!(errors.join("\n"), @r#"
    the task plan from --slices is invalid:
      - the prompt has 2 items but --slices asks for 4; list at least 4 items, one per line starting with "- ", or write a task plan (--plan FILE)
    the task plan from --slices is invalid:
      - the prompt has 1 item but --slices asks for 2; list at least 2 items, one per line starting with "- ", or write a task plan (--plan FILE)
    "#);
    assert_snapshot!([slices("- a", 0), slices("- a", 17)].join("\n"), @r"
    the task plan from --slices is invalid:
      - --slices 0 asks for no slices; ask for 1 to 16 slices
    the task plan from --slices is invalid:
      - --slices 17 asks for more than 16 slices; ask for at most 16, or write a task plan (--plan FILE)
    ");
    let sixteen: String = (1..=16).map(|it| format!("- item {it}\n")).collect();
    assert_eq!(slices_from_prompt(&sixteen, 16, 1).map(|it| it.len()).ok(), Some(16));
}

// Proposals.

#[test]
fn proposal_lines_are_read_from_the_final_message() {
    let message = "Done with the API.\n\
                   omk-task: {\"id\": \"api-docs\", \"prompt\": \"Document /health\", \"writes\": [\"docs/api.md\"], \"reads\": [\"src/api/\"], \"depends_on\": [\"core\"], \"budget\": {\"tokens\": 1000, \"usd\": 0.5, \"turns\": 5, \"time\": \"5m\"}}\n\
                   \x20 omk-task: {\"id\": \"min\", \"prompt\": \"Small\"}\n\
                   Not a proposal: omk-task: {\"id\": \"x\"}\n\
                   omk-task: {\"id\": \"bad\"}\n\
                   omk-task: not json\n\
                   omk-task: {\"id\": \"a\", \"prompt\": \"p\", \"agent\": \"cmd:rm\"}\n\
                   omk-task: {\"id\": \"a\", \"prompt\": \"p\", \"budget\": {\"time\": \"soon\"}}\n";
    let results = parse_proposals(message);
    assert_eq!(results.len(), 6);
    assert_eq!(
        results[0],
        Ok(ProposedTask {
            id: "api-docs".to_owned(),
            prompt: "Document /health".to_owned(),
            writes: strings(&["docs/api.md"]),
            reads: strings(&["src/api/"]),
            depends_on: strings(&["core"]),
            budget: BudgetLimits {
                wall_ms: Some(300_000),
                tokens: Some(1000),
                usd: Some(0.5),
                turns: Some(5)
            },
        })
    );
    assert_eq!(
        results[1],
        Ok(ProposedTask {
            id: "min".to_owned(),
            prompt: "Small".to_owned(),
            writes: Vec::new(),
            reads: Vec::new(),
            depends_on: Vec::new(),
            budget: BudgetLimits::default(),
        })
    );
    let errors: Vec<String> =
        results[2..].iter().map(|it| it.clone().expect_err("invalid")).collect();
    assert_snapshot!(errors.join("\n"), @r#"
    line 5 of the final message is not a task proposal: missing field `prompt` at column 13 of the JSON; write omk-task: {"id": "...", "prompt": "...", "writes": ["..."]}
    line 6 of the final message is not a task proposal: expected ident at column 2 of the JSON; write omk-task: {"id": "...", "prompt": "...", "writes": ["..."]}
    line 7 of the final message is not a task proposal: unknown field `agent`, expected one of `id`, `prompt`, `writes`, `reads`, `depends_on`, `budget` at column 34 of the JSON; write omk-task: {"id": "...", "prompt": "...", "writes": ["..."]}
    line 8 of the final message is not a task proposal: "soon" is not a duration; write it like 90s, 10m, 1h30m or 500ms
    "#);
    assert_eq!(parse_proposals("All done, nothing to add."), []);
    let negative =
        parse_proposals("omk-task: {\"id\": \"a\", \"prompt\": \"p\", \"budget\": {\"usd\": -1}}");
    assert_snapshot!(format!("{negative:?}"), @r#"[Err("line 1 of the final message is not a task proposal: budget usd is -1, not a number of US dollars, 0 or more")]"#);
}

/// The graph proposals are decided against: `api` and `cli` after `core`, each in its scope.
fn graph() -> Vec<TaskSpec> {
    vec![
        task("core", &[], &["src/core/"]),
        task("api", &["core"], &["src/api/", "docs/api/"]),
        task("cli", &["core"], &["src/cli/"]),
        task("docs", &["api"], &["docs/"]),
    ]
}

/// A proposal of `id` that writes `writes`.
fn proposal(id: &str, writes: &[&str]) -> ProposedTask {
    ProposedTask {
        id: id.to_owned(),
        prompt: format!("Do {id}"),
        writes: strings(writes),
        reads: Vec::new(),
        depends_on: Vec::new(),
        budget: BudgetLimits::default(),
    }
}

/// A policy with room for 3 levels, 10 tasks and 10000 tokens.
fn policy() -> ProposalPolicy {
    ProposalPolicy {
        max_depth: 2,
        max_tasks: 10,
        budget_left: BudgetLimits { tokens: Some(10_000), ..BudgetLimits::default() },
    }
}

/// Returns the verdict on `proposal` by the graph's task `proposer`.
fn decide(
    proposer: &str,
    proposal: ProposedTask,
    policy: &ProposalPolicy,
) -> Result<String, String> {
    let graph = graph();
    let proposer = graph.iter().find(|it| it.id == proposer).expect("a task of the graph");
    decide_proposal(&graph, proposer, proposal, policy).1
}

#[test]
fn an_accepted_proposal_joins_after_its_proposer() {
    let graph = graph();
    let mut proposer = graph[1].clone();
    proposer.retries = 4;
    proposer.depth = 1;
    proposer.agent = Some("script:api.scenario".to_owned());
    let mut proposed = proposal("api-extra", &["src/api/extra.rs"]);
    proposed.depends_on = strings(&["core"]);
    proposed.budget.tokens = Some(10_000);
    let (task, verdict) = decide_proposal(&graph, &proposer, proposed, &policy());
    assert_eq!(
        task,
        TaskSpec {
            id: "api-extra".to_owned(),
            prompt: "Do api-extra".to_owned(),
            depends_on: strings(&["core", "api"]),
            reads: Vec::new(),
            writes: strings(&["src/api/extra.rs"]),
            agent: None,
            budget: BudgetLimits { tokens: Some(10_000), ..BudgetLimits::default() },
            retries: 4,
            proposed_by: Some("api".to_owned()),
            depth: 2,
        }
    );
    assert_snapshot!(verdict.expect("accepted"), @r#"task "api-extra" proposed by "api" joins the graph after "core", "api" (depth 2 of at most 2, task 5 of at most 10)"#);
}

#[test]
fn a_proposal_may_write_what_tasks_before_it_write() {
    // `docs` runs after `api` and writes docs/; a follow-up of `docs` after `api` may write
    // into docs/api/ too, as it comes after both.
    let mut proposed = proposal("docs-api", &["docs/api/health.md"]);
    proposed.depends_on = strings(&["api"]);
    assert!(decide("docs", proposed, &policy()).is_ok());
}

#[test]
fn a_proposal_is_rejected_for_the_first_limit_it_breaks() {
    let with = |change: &dyn Fn(&mut ProposedTask)| {
        let mut proposed = proposal("extra", &["src/api/extra.rs"]);
        change(&mut proposed);
        proposed
    };
    let cases = [
        ("api", with(&|it| it.id = "has space".to_owned())),
        ("api", with(&|it| it.id = "cli".to_owned())),
        ("api", with(&|it| it.prompt = "\n".to_owned())),
        ("api", with(&|it| it.writes.clear())),
        ("api", with(&|it| it.writes = strings(&["/src/api/x.rs"]))),
        ("api", with(&|it| it.reads = strings(&["../secrets"]))),
        ("api", with(&|it| it.depends_on = strings(&["clii"]))),
        ("api", with(&|it| it.writes = strings(&["src/cli/extra.rs"]))),
        ("api", with(&|it| it.writes = strings(&["docs/api/extra.md"]))),
        ("core", with(&|it| it.writes = strings(&["src/core/x.rs", "src/core/"]))),
        ("api", with(&|it| it.budget.tokens = Some(10_001))),
    ];
    let verdicts: Vec<String> = cases
        .into_iter()
        .map(|(proposer, proposed)| match decide(proposer, proposed, &policy()) {
            Ok(_) => "ok".to_owned(),
            Err(reason) => reason,
        })
        .collect();
    assert_snapshot!(verdicts.join("\n"), @r#"
    task "has space" has an invalid id; use only letters, digits, "-" and "_", at most 40 characters
    task "cli" is already in the graph; propose the follow-up under an id no task has
    task "extra" has an empty prompt; say what its agent should do
    task "extra" declares no writes; a proposed task must declare its writes
    task "extra" writes "/src/api/x.rs": paths are relative to the repository root
    task "extra" reads "../secrets": paths may not leave the repository; remove the ".." components
    task "extra" depends on "clii", which no task defines; did you mean "cli"?
    task "extra" writes "src/cli/extra.rs", outside the write set of "api", which proposed it (src/api/, docs/api/); a slice may only hand on work inside its own scope
    tasks "extra" and "docs" both write docs/ (extra writes "docs/api/extra.md", docs writes "docs/") but neither depends on the other; add depends_on or split the paths
    ok
    task "extra" asks for 10001 tokens, but the goal has 10000 left
    "#);
}

#[test]
fn proposals_are_limited_in_depth_and_number() {
    let graph = graph();
    let mut proposer = graph[1].clone();
    proposer.depth = 2;
    let (task, verdict) =
        decide_proposal(&graph, &proposer, proposal("deep", &["src/api/x.rs"]), &policy());
    assert_eq!(task.depth, 3);
    assert_snapshot!(verdict.expect_err("too deep"), @r#"task "deep" proposed by "api" would be 3 proposals deep, more than the limit of 2"#);
    let full = ProposalPolicy { max_tasks: 4, ..policy() };
    let verdict = decide("api", proposal("more", &["src/api/x.rs"]), &full);
    assert_snapshot!(verdict.expect_err("the graph is full"), @r#"task "more" cannot join: the graph has 4 tasks, the most it may grow to (limit 4)"#);
}

#[test]
fn a_proposals_budget_must_fit_in_what_the_goal_has_left() {
    let left =
        BudgetLimits { wall_ms: Some(300_000), tokens: Some(100), usd: Some(1.0), turns: Some(3) };
    let tight = ProposalPolicy { budget_left: left, ..policy() };
    let asking = |budget: BudgetLimits| {
        let mut proposed = proposal("extra", &["src/api/x.rs"]);
        proposed.budget = budget;
        decide("api", proposed, &tight)
    };
    let none = BudgetLimits::default();
    assert!(asking(none).is_ok());
    assert!(asking(left).is_ok());
    let too_much = [
        BudgetLimits { wall_ms: Some(600_000), ..none },
        BudgetLimits { usd: Some(2.5), ..none },
        BudgetLimits { turns: Some(4), ..none },
    ];
    let reasons = too_much.map(|budget| asking(budget).expect_err("more than is left"));
    assert_snapshot!(reasons.join("\n"), @r#"
    task "extra" asks for 10m of wall time, but the goal has 5m left
    task "extra" asks for $2.50, but the goal has $1.00 left
    task "extra" asks for 4 turns, but the goal has 3 left
    "#);
    let unlimited = ProposalPolicy { budget_left: none, ..policy() };
    let mut big = proposal("big", &["src/api/x.rs"]);
    big.budget = BudgetLimits { tokens: Some(u64::MAX), ..none };
    assert!(decide("api", big, &unlimited).is_ok());
}

#[test]
fn a_proposer_without_writes_may_hand_on_any_path_nobody_else_writes() {
    let mut graph = graph();
    graph.push(task("free", &[], &[]));
    let proposer = graph[4].clone();
    let (_, verdict) =
        decide_proposal(&graph, &proposer, proposal("tests", &["tests/new.rs"]), &policy());
    assert!(verdict.is_ok(), "{verdict:?}");
    let (_, verdict) =
        decide_proposal(&graph, &proposer, proposal("cli2", &["src/cli/x.rs"]), &policy());
    assert_snapshot!(verdict.expect_err("cli writes src/cli/"), @r#"tasks "cli2" and "cli" both write src/cli/ (cli2 writes "src/cli/x.rs", cli writes "src/cli/") but neither depends on the other; add depends_on or split the paths"#);
}
