//! The layers' merge rules and errors, checked through `load_settings` on files in a temp dir.

use std::{fs, path::Path, time::Duration};

use omk_agent::AgentConfig;
use omk_gates::GateConfig;
use omk_worktree::WorktreeConfig;

use super::{ConfigEnv, Layer, Override, Settings, Source, load_settings};
use crate::sections::GoalConfig;

/// A home directory with a user config and a repository root with an `omk.toml`, either
/// missing when its text is `None`.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(user: Option<&str>, repo: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config_dir = dir.path().join("home/.config/omk");
        fs::create_dir_all(&config_dir).expect("a config dir");
        fs::create_dir_all(dir.path().join("repo")).expect("a repo dir");
        if let Some(text) = user {
            fs::write(config_dir.join("config.toml"), text).expect("the user config");
        }
        if let Some(text) = repo {
            fs::write(dir.path().join("repo/omk.toml"), text).expect("omk.toml");
        }
        Self { dir }
    }

    fn env(&self) -> ConfigEnv {
        ConfigEnv {
            user_config: Some(self.dir.path().join("home/.config/omk/config.toml")),
            home: Some(self.dir.path().join("home")),
        }
    }

    fn load(&self, overrides: &[Override]) -> Result<Settings, String> {
        let root = self.dir.path().join("repo");
        load_settings(Some(&root), &self.env(), overrides)
            .map_err(|err| err.to_string().replace(&self.dir.path().display().to_string(), "[TMP]"))
    }
}

/// Checks the entries that do not come from the defaults, as `key = value  # source` lines, or
/// the error.
fn check(user: Option<&str>, repo: Option<&str>, overrides: &[Override], expect: &str) {
    let files = Files::new(user, repo);
    let actual = match files.load(overrides) {
        Ok(settings) => settings
            .entries
            .iter()
            .filter(|it| it.source != Source::Default)
            .map(|it| {
                let brackets = if it.item { "[]" } else { "" };
                format!("{}{brackets} = {}  # {}", it.key(), it.value, it.source)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Err(err) => format!("error: {err}"),
    };
    assert_eq!(actual, expect);
}

fn agent_flag(value: &str) -> Override {
    Override {
        key: "agent.default".to_owned(),
        value: value.to_owned(),
        flag: "--agent".to_owned(),
    }
}

#[test]
fn no_files_give_the_sections_defaults_each_from_the_default_layer() {
    let settings = load_settings(None, &ConfigEnv::default(), &[]).expect("the defaults load");
    assert_eq!(settings.agent, AgentConfig::default());
    assert_eq!(settings.worktree, WorktreeConfig::default());
    assert_eq!(settings.goal, GoalConfig::default());
    assert_eq!(settings.gates, GateConfig::default());
    assert!(settings.files.is_empty());
    assert!(settings.entries.iter().all(|it| it.source == Source::Default));
    let keys: Vec<String> = settings.entries.iter().map(super::Entry::key).collect();
    assert_eq!(keys[..3], ["agent.timeout_secs", "agent.idle_timeout_secs", "agent.retries"]);
}

#[test]
fn missing_files_are_empty_layers_and_are_listed_as_missing() {
    let files = Files::new(None, None);
    let settings = files.load(&[]).expect("loads");
    let listed: Vec<(Layer, &str, bool)> =
        settings.files.iter().map(|it| (it.layer, it.name.as_str(), it.exists)).collect();
    assert_eq!(
        listed,
        [(Layer::Repo, "omk.toml", false), (Layer::User, "~/.config/omk/config.toml", false)]
    );
}

#[test]
fn user_values_replace_repo_values_and_flags_replace_both() {
    let user = "[agent]\ndefault = \"kimi\"\ntimeout_secs = 5\n\n[agent.programs]\nkimi = \"/opt/kimi\"\n\n[worktree]\nauthor_name = \"Ada\"\n";
    let repo = "[agent]\ndefault = \"claude\"\n\n[agent.programs]\nclaude = \"/opt/claude\"\n";
    check(
        Some(user),
        None,
        &[],
        "agent.default = \"kimi\"  # ~/.config/omk/config.toml:2\n\
         agent.timeout_secs = 5  # ~/.config/omk/config.toml:3\n\
         agent.programs.kimi = \"/opt/kimi\"  # ~/.config/omk/config.toml:6\n\
         worktree.author_name = \"Ada\"  # ~/.config/omk/config.toml:9",
    );
    check(
        Some(user),
        Some(repo),
        &[],
        "agent.default = \"kimi\"  # ~/.config/omk/config.toml:2\n\
         agent.timeout_secs = 5  # ~/.config/omk/config.toml:3\n\
         agent.programs.claude = \"/opt/claude\"  # omk.toml:5\n\
         agent.programs.kimi = \"/opt/kimi\"  # ~/.config/omk/config.toml:6\n\
         worktree.author_name = \"Ada\"  # ~/.config/omk/config.toml:9",
    );
    check(
        Some(user),
        Some(repo),
        &[agent_flag("codex")],
        "agent.default = \"codex\"  # --agent\n\
         agent.timeout_secs = 5  # ~/.config/omk/config.toml:3\n\
         agent.programs.claude = \"/opt/claude\"  # omk.toml:5\n\
         agent.programs.kimi = \"/opt/kimi\"  # ~/.config/omk/config.toml:6\n\
         worktree.author_name = \"Ada\"  # ~/.config/omk/config.toml:9",
    );
    let files = Files::new(Some(user), Some(repo));
    let settings = files.load(&[]).expect("loads");
    assert_eq!(settings.agent.default_agent.as_deref(), Some("kimi"));
    assert_eq!(settings.agent.timeout, Duration::from_secs(5));
    assert_eq!(settings.agent.programs.len(), 2);
    assert_eq!(settings.worktree.author_name, "Ada");
}

#[test]
fn price_tables_are_replaced_whole_and_approval_rules_add_up_user_first() {
    let user = "[prices.kimi]\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\ncache_read_per_mtok = 0.1\n\n[[approvals]]\ndecision = \"deny\"\nprograms = [\"docker\"]\n";
    let repo = "[prices.kimi]\ninput_per_mtok = 3.0\noutput_per_mtok = 4.0\n\n[[approvals]]\ndecision = \"allow\"\ntools = [\"*\"]\n";
    check(
        Some(user),
        Some(repo),
        &[],
        "approvals[] = { decision = \"deny\", programs = [\"docker\"] }  # ~/.config/omk/config.toml:7\n\
         approvals[] = { decision = \"allow\", tools = [\"*\"] }  # omk.toml:6\n\
         prices.kimi = { cache_read_per_mtok = 0.1, input_per_mtok = 1.0, output_per_mtok = 2.0 }  # ~/.config/omk/config.toml:1",
    );
    let files = Files::new(Some(user), Some(repo));
    let settings = files.load(&[]).expect("loads");
    let price = settings.agent.prices["kimi"];
    assert_eq!((price.input_per_mtok, price.cache_read_per_mtok), (1.0, Some(0.1)));
    assert_eq!(settings.agent.price_files["kimi"], "~/.config/omk/config.toml");
    let sources: Vec<&str> =
        settings.agent.approvals.rules.iter().take(3).map(|it| it.source.as_str()).collect();
    assert_eq!(
        sources,
        ["~/.config/omk/config.toml [[approvals]] #1", "omk.toml [[approvals]] #1", "default"]
    );
    // A cost estimate names the file that set the price.
    let files = Files::new(None, Some(repo));
    let settings = files.load(&[]).expect("loads");
    assert_eq!(settings.agent.price_files["kimi"], "omk.toml");
}

#[test]
fn project_sections_come_from_omk_toml_only() {
    let repo = "[[gates]]\nname = \"test\"\ncommand = \"sh test.sh\"\n\n[review]\nmax_files = 3\n\n[oracle]\nfeature = [\"test\"]\n";
    let files = Files::new(Some("[agent]\ndefault = \"kimi\"\n"), Some(repo));
    let settings = files.load(&[]).expect("loads");
    assert_eq!(settings.gates.gates[0].name, "test");
    assert_eq!(settings.gates.gate_lines["test"], 2);
    assert_eq!(settings.goal.review.max_files, 3);
    let trusted =
        Files::new(None, Some("[trust]\nkeys = [\"keys/ci.pub\"]\n")).load(&[]).expect("loads");
    assert_eq!(trusted.trust.keys, ["keys/ci.pub"]);
    assert!(trusted.trust.requires_signature());
    for (user, expect) in [
        (
            "[[gates]]\nname = \"t\"\ncommand = \"true\"\n",
            "1:3: [[gates]] is the project's configuration",
        ),
        ("[review]\nmax_files = 1\n", "1:2: [review] is the project's configuration"),
        (
            "[worktree]\nsetup = [\"make\"]\n",
            "2:1: [worktree] setup is the project's configuration",
        ),
        // Whose signatures count comes with the code, never from one person's machine.
        ("[trust]\nkeys = [\"mine.pub\"]\n", "1:2: [trust] is the project's configuration"),
    ] {
        let files = Files::new(Some(user), None);
        let err = files.load(&[]).expect_err(user);
        assert!(err.starts_with(&format!("[TMP]/home/.config/omk/config.toml:{expect}")), "{err}");
        assert!(err.ends_with("which only the repository's omk.toml may set; move it there"));
    }
}

#[test]
fn unknown_keys_name_the_file_line_and_the_closest_key() {
    let user = Some("[agent]\ndefault = \"kimi\"\n");
    check(
        user,
        Some("[agnet]\ndefault = \"kimi\"\n"),
        &[],
        "error: [TMP]/repo/omk.toml:1:2: unknown key `agnet` at the top level; did you mean `agent`?",
    );
    check(
        Some("\n[agent]\ndefualt = \"kimi\"\n"),
        None,
        &[],
        "error: [TMP]/home/.config/omk/config.toml:3:1: unknown key `defualt` in [agent]; did you mean `default`?",
    );
    check(
        None,
        Some("[[approvals]]\ndecision = \"deny\"\ntool = [\"Shell\"]\n"),
        &[],
        "error: [TMP]/repo/omk.toml:3:1: unknown key `tool` in [[approvals]]; did you mean `tools`?",
    );
    check(
        None,
        Some("[prices.kimi]\ninput_per_mtok = 1.0\noutput_per_mtk = 2.0\n"),
        &[],
        "error: [TMP]/repo/omk.toml:3:1: unknown key `output_per_mtk` in [prices.kimi]; did you mean `output_per_mtok`?",
    );
    check(
        None,
        Some("[oracle]\nbugfx = []\n"),
        &[],
        "error: [TMP]/repo/omk.toml:2:1: unknown key `bugfx` in [oracle]; did you mean `bugfix`?",
    );
    check(
        None,
        Some("[[gates]]\nname = \"t\"\ncomand = \"true\"\n"),
        &[],
        "error: [TMP]/repo/omk.toml:3:1: unknown key `comand` in [[gates]]; did you mean `command`?",
    );
    check(
        None,
        Some("[worktree]\nbananas = 1\n"),
        &[],
        "error: [TMP]/repo/omk.toml:2:1: unknown key `bananas` in [worktree]; expected one of copy, \
         setup, merge, author_name, author_email",
    );
}

#[test]
fn invalid_values_and_broken_files_name_their_own_file() {
    check(
        Some("[agent]\ntimeout_secs = 0\n"),
        Some("[agent]\ntimeout_secs = 9\n"),
        &[],
        "error: [TMP]/home/.config/omk/config.toml:2:16: [agent] timeout_secs must be at least 1",
    );
    check(
        Some("[agent\ndefault = \"kimi\"\n"),
        None,
        &[],
        "error: [TMP]/home/.config/omk/config.toml:1:7: unclosed table, expected `]`",
    );
    check(
        None,
        Some("[[gates]]\nname = \"t\"\ncommand = 7\n"),
        &[],
        "error: [TMP]/repo/omk.toml:3:11: invalid type: integer `7`, expected a shell command line string or an array of strings (argv)",
    );
    check(
        None,
        Some("[review]\nmax_files = -1\n"),
        &[],
        "error: [TMP]/repo/omk.toml:2:13: [review] max_files must be a whole number, 0 or more",
    );
    check(
        None,
        None,
        &[Override {
            key: "agent.nope".to_owned(),
            value: "x".to_owned(),
            flag: "--nope".to_owned(),
        }],
        "error: the effective configuration is invalid: --nope sets \"agent.nope\", which is no config key; see `omk config show`",
    );
}

#[test]
fn a_user_config_that_is_a_directory_is_an_error_naming_it() {
    let files = Files::new(None, None);
    fs::create_dir_all(files.dir.path().join("home/.config/omk/config.toml")).expect("a dir");
    let err = files.load(&[]).expect_err("a directory is no file");
    assert_eq!(err, "read [TMP]/home/.config/omk/config.toml");
    assert!(Path::new(&files.dir.path().join("home/.config/omk/config.toml")).is_dir());
}

#[test]
fn the_defaults_written_as_an_omk_toml_are_valid_and_change_nothing() {
    let defaults = load_settings(None, &ConfigEnv::default(), &[]).expect("the defaults load");
    let mut table = toml::Table::new();
    for entry in &defaults.entries {
        super::insert(&mut table, entry);
    }
    let text = toml::to_string(&table).expect("the defaults serialize");
    let files = Files::new(None, Some(&text));
    let settings = files.load(&[]).expect("the defaults are a valid omk.toml");
    assert_eq!(settings.agent, defaults.agent);
    assert_eq!(settings.worktree, defaults.worktree);
    assert_eq!(settings.goal, defaults.goal);
    assert_eq!(settings.gates, defaults.gates);
    let keys =
        |settings: &Settings| settings.entries.iter().map(super::Entry::key).collect::<Vec<_>>();
    assert_eq!(keys(&settings), keys(&defaults));
    assert!(
        settings
            .entries
            .iter()
            .all(|it| matches!(&it.source, Source::File { name, .. } if name == "omk.toml"))
    );
}
