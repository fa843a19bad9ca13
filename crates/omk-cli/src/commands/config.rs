//! `omk config show` and `omk config path`: the effective configuration, where each value comes
//! from, and the files omk reads.

use std::fmt::Write as _;

use omk_config::{Entry, Layer, Override, Settings};
use omk_goal::AgentSpec;

use crate::{
    args::ConfigShowArgs,
    commands::shared::{Context, SCHEMA_VERSION},
    error::{CliError, ExitCodes},
    json::{self, ConfigDocument, ConfigPathDocument},
    output,
};

/// The widest `key = value` that comments are aligned after; longer lines get two spaces.
const ALIGN: usize = 40;

pub(crate) fn run_config_show(ctx: &Context, args: &ConfigShowArgs) -> Result<u8, CliError> {
    let mut overrides = Vec::new();
    if let Some(agent) = &args.agent {
        let spec = match AgentSpec::parse(agent) {
            Ok(AgentSpec::Script(path)) => AgentSpec::Script(ctx.resolve(&path)),
            Ok(other) => other,
            Err(err) => return Err(CliError::usage(err.to_string())),
        };
        overrides.push(Override {
            key: "agent.default".to_owned(),
            value: spec.to_string(),
            flag: "--agent".to_owned(),
        });
    }
    let settings = omk_config::effective_config(&ctx.dir, &ctx.config_env, &overrides)?;
    let text = if ctx.json {
        json::to_string(&ConfigDocument::new(&settings))
    } else {
        show_text(&settings)
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_config_path(ctx: &Context) -> Result<u8, CliError> {
    let files = omk_config::config_paths(&ctx.dir, &ctx.config_env)?;
    let text = if ctx.json {
        json::to_string(&ConfigPathDocument {
            schema_version: SCHEMA_VERSION,
            files: json::config_files(&files),
        })
    } else {
        let mut text = String::new();
        for file in &files {
            let layer = match file.layer {
                Layer::User => "user",
                Layer::Repo => "repo",
            };
            let exists = if file.exists { "" } else { "  (not found)" };
            writeln!(text, "{layer}  {}{exists}", file.path.display())
                .expect("writing to a String cannot fail");
        }
        if !files.iter().any(|it| it.layer == Layer::Repo) {
            text.push_str("repo  none: not in a git repository\n");
        }
        text
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

/// Returns the effective configuration as TOML, each value followed by its source.
fn show_text(settings: &Settings) -> String {
    let mut text =
        String::from("# The effective configuration; after each value, where it comes from.\n");
    let mut layers = vec!["default".to_owned()];
    for file in &settings.files {
        let missing = if file.exists { "" } else { " (not found)" };
        layers.push(format!("{}{missing}", file.name));
    }
    if !settings.files.iter().any(|it| it.layer == Layer::Repo) {
        layers.push("no omk.toml (not in a git repository)".to_owned());
    }
    layers.push("flags".to_owned());
    writeln!(text, "# Layers, each over the ones before: {}.", layers.join(", "))
        .expect("writing to a String cannot fail");

    let mut table = None;
    let mut lines: Vec<(String, String)> = Vec::new();
    let flush = |text: &mut String, lines: &mut Vec<(String, String)>| {
        let width =
            lines.iter().map(|(line, _)| line.chars().count()).filter(|it| *it <= ALIGN).max();
        for (line, source) in lines.drain(..) {
            let pad = width.unwrap_or(0).saturating_sub(line.chars().count());
            writeln!(text, "{line}{}  # {source}", " ".repeat(pad))
                .expect("writing to a String cannot fail");
        }
    };
    for (entry_idx, entry) in settings.entries.iter().enumerate() {
        let (entry_table, name) = entry.table_and_name();
        if entry.item {
            flush(&mut text, &mut lines);
            writeln!(text, "\n[[{entry_table}]]  # {}", entry.source)
                .expect("writing to a String cannot fail");
            for (key, value) in entry.item_fields() {
                writeln!(text, "{key} = {value}").expect("writing to a String cannot fail");
            }
            if is_rule(entry) && !settings.entries.get(entry_idx + 1).is_some_and(is_rule) {
                text.push_str("# Then omk's default rules; the first rule that matches decides.\n");
            }
            table = None;
            continue;
        }
        if table.as_ref() != Some(&entry_table) {
            flush(&mut text, &mut lines);
            writeln!(text, "\n[{entry_table}]").expect("writing to a String cannot fail");
            table = Some(entry_table);
        }
        lines.push((format!("{name} = {}", entry.value), entry.source.to_string()));
    }
    flush(&mut text, &mut lines);
    text
}

fn is_rule(entry: &Entry) -> bool {
    entry.item && entry.path == ["approvals"]
}
