//! The configuration's layers end to end: the user config under a temporary
//! `XDG_CONFIG_HOME`, `omk.toml`, flags, `omk config show` and `omk config path`.

use std::fs;

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv};

/// A scenario that changes nothing.
const NOOP: &str = "text: Nothing to do.\n";

/// The user config of the tests: a default agent relative to the config's directory, a
/// timeout, a price and an approval rule.
const USER_CONFIG: &str = "[agent]\n\
default = \"script:user-fix.scenario\"\n\
timeout_secs = 120\n\
\n\
[prices.kimi]\n\
input_per_mtok = 0.6\n\
output_per_mtok = 2.5\n\
\n\
[[approvals]]\n\
decision = \"deny\"\n\
programs = [\"docker\"]\n";

/// Returns the agent the proof of `output`'s run names.
fn agent_of(output: &crate::env::Output) -> anyhow::Result<String> {
    let document: Value = serde_json::from_str(&output.stdout)?;
    Ok(document["proof"]["agent"]["agent"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn the_user_default_agent_wins_over_omk_toml_and_a_flag_over_both() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH)])?;

    // No user config: omk.toml's default, its scenario relative to the repository.
    fs::write(
        repo.join("omk.toml"),
        format!("{OMK_TOML}[agent]\ndefault = \"script:noop.scenario\"\n"),
    )?;
    fs::write(repo.join("noop.scenario"), NOOP)?;
    let output = env.omk(&repo, &["run", "fix add", "--json"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert_eq!(agent_of(&output)?, format!("script:{}", repo.join("noop.scenario").display()));

    // The user's default wins over omk.toml's; its scenario is relative to the user config.
    let config_dir = env.user_config(USER_CONFIG)?;
    fs::write(config_dir.join("user-fix.scenario"), FIX_ADD)?;
    let output = env.omk(&repo, &["run", "fix add", "--json"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let user_scenario = config_dir.join("user-fix.scenario");
    assert_eq!(agent_of(&output)?, format!("script:{}", user_scenario.display()));

    // --agent wins over both.
    let flag = format!("script:{}", repo.join("noop.scenario").display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &flag, "--json"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert_eq!(agent_of(&output)?, flag);
    Ok(())
}

#[test]
fn config_show_prints_every_value_with_its_source() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    env.user_config(USER_CONFIG)?;
    let omk_toml = "[[gates]]\nname = \"test\"\ncommand = \"sh test.sh\"\nkind = \"test\"\n\n\
                    [agent]\ntimeout_secs = 900\n\n[agent.programs]\nkimi = \"/opt/kimi/bin/kimi\"\n\n\
                    [[approvals]]\ndecision = \"allow\"\ntools = [\"Shell\"]\n\n\
                    [review]\nmax_files = 20\n";
    let repo = env.repo("repo", &[("lib.sh", LIB_SH), ("omk.toml", omk_toml)])?;

    let output = env.omk(&repo, &["config", "show", "--agent", "claude"])?;
    assert_eq!(output.code, Some(0), "{output}");
    env.insta_settings().bind(|| insta::assert_snapshot!("config_show", output));

    let output = env.omk(&repo, &["config", "show", "--json"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let document: Value = serde_json::from_str(&output.stdout)?;
    assert_eq!(document["schema_version"], 1);
    env.insta_settings().bind(|| insta::assert_snapshot!("config_show_json", output.stdout));
    Ok(())
}

#[test]
fn config_path_lists_the_files_in_layer_order_found_or_not() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let output = env.omk(&repo, &["config", "path"])?;
    env.insta_settings().bind(|| {
        insta::assert_snapshot!(output, @r"
        repo  [TMP]/repo/omk.toml  (not found)
        user  [TMP]/home/.config/omk/config.toml  (not found)
        [EOF]
        --- stderr ---
        [EOF]
        --- exit: Some(0)
        ");
    });

    // Outside a repository there is no omk.toml; an XDG_CONFIG_HOME elsewhere is followed.
    let xdg = env.root().join("xdg");
    fs::create_dir_all(xdg.join("omk"))?;
    fs::write(xdg.join("omk/config.toml"), "[agent]\ndefault = \"kimi\"\n")?;
    let xdg_text = xdg.display().to_string();
    let output =
        env.omk_with(env.root(), &["config", "path", "--json"], &[("XDG_CONFIG_HOME", &xdg_text)])?;
    let document: Value = serde_json::from_str(&output.stdout)?;
    assert_eq!(document["files"].as_array().map(Vec::len), Some(1), "{output}");
    assert_eq!(document["files"][0]["exists"], true);
    assert_eq!(document["files"][0]["path"], format!("{xdg_text}/omk/config.toml"));
    let output =
        env.omk_with(env.root(), &["config", "show"], &[("XDG_CONFIG_HOME", &xdg_text)])?;
    let line = output.stdout.lines().find(|it| it.starts_with("default = ")).unwrap_or_default();
    assert!(line.ends_with(&format!("  # {xdg_text}/omk/config.toml:2")), "{output}");
    assert!(output.stdout.contains("no omk.toml (not in a git repository)"), "{output}");
    Ok(())
}

#[test]
fn unknown_keys_are_errors_naming_the_file_line_and_the_closest_key() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("omk.toml", "[agent]\ndefualt = \"kimi\"\n")])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent, "--gate", "true"])?;
    env.insta_settings().bind(|| {
        insta::assert_snapshot!(output, @r"
        [EOF]
        --- stderr ---
        error: [TMP]/repo/omk.toml:2:1: unknown key `defualt` in [agent]; did you mean `default`?
        [EOF]
        --- exit: Some(2)
        ");
    });
    // Bad input creates nothing.
    assert!(!repo.join(".omk/goals").exists());

    fs::write(repo.join("omk.toml"), "")?;
    env.user_config(
        "# mine\n[agent]\ndefault = \"kimi\"\n\n[pricez.kimi]\ninput_per_mtok = 1.0\n",
    )?;
    let output = env.omk(&repo, &["config", "show"])?;
    env.insta_settings().bind(|| {
        insta::assert_snapshot!(output, @r"
        [EOF]
        --- stderr ---
        error: [TMP]/home/.config/omk/config.toml:5:2: unknown key `pricez` at the top level; did you mean `prices`?
        [EOF]
        --- exit: Some(2)
        ");
    });

    // Gates are the project's: the user config may not set them.
    env.user_config("[[gates]]\nname = \"mine\"\ncommand = \"true\"\n")?;
    let output = env.omk(&repo, &["gates", "list"])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(
        output.stderr.starts_with(
            "error: [TMP]/home/.config/omk/config.toml:1:3: [[gates]] is the project's configuration"
                .replace("[TMP]", &env.root().display().to_string())
                .as_str()
        ),
        "{output}"
    );
    Ok(())
}

#[test]
fn a_malformed_user_config_is_an_error_naming_it_and_is_left_as_it_was() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let text = "[agent\ndefault = \"kimi\"\n";
    let config_dir = env.user_config(text)?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let output = env.omk(&repo, &["config", "show"])?;
    env.insta_settings().bind(|| {
        insta::assert_snapshot!(output, @r"
        [EOF]
        --- stderr ---
        error: [TMP]/home/.config/omk/config.toml:1:7: unclosed table, expected `]`
        [EOF]
        --- exit: Some(2)
        ");
    });
    // Every command that reads the configuration stops at the same error.
    for args in [&["gates", "list"][..], &["run", "fix add", "--agent", &agent, "--gate", "true"]] {
        assert_eq!(env.omk(&repo, args)?.to_string(), output.to_string(), "{args:?}");
    }
    assert_eq!(fs::read_to_string(config_dir.join("config.toml"))?, text);
    assert!(!repo.join(".omk/goals").exists());
    Ok(())
}
