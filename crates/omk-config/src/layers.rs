//! The layered configuration (the order is the crate doc's): merging the layers, where every
//! value comes from, and the parsed sections a run works with.
//!
//! Merge rules (`docs/config.md` says why):
//! - tables merge key by key, and a later layer's value replaces an earlier one's whole (an
//!   array too);
//! - `[agent.programs]`, `[prices]` and `[oracle]` merge name by name; a `[prices.<agent>]`
//!   table is replaced whole;
//! - `[[approvals]]` rules add up: the user's first, then the repository's, then the defaults,
//!   and the first rule that matches decides;
//! - the project's sections (`[[gates]]`, `[detect]`, `[cache]`, `[review]`, `[oracle]`, and
//!   `copy`, `setup` and `merge` of `[worktree]`) may only be set in `omk.toml`.
//!
//! Each file is checked on its own first (unknown keys, then each section's parser), so an
//! error names the file, line and column that has the problem.

use std::{
    fmt, fs, io,
    path::{Path, PathBuf},
};

use toml::de::{DeTable, DeValue};

use omk_agent::AgentConfig;
use omk_gates::GateConfig;
use omk_worktree::{MergeStrategy, WorktreeConfig};

use crate::{
    error::Error,
    keys::{self, Key, SECTIONS, Shape},
    sandbox::{SandboxConfig, parse_sandbox_config},
    sections::{GoalConfig, parse_goal_config},
    trust::{TrustConfig, parse_trust_config},
};

/// Where the configuration files are, as omk-cli found them in the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigEnv {
    /// The user config (`$XDG_CONFIG_HOME/omk/config.toml`, else `~/.config/omk/config.toml`);
    /// `None` reads none.
    pub user_config: Option<PathBuf>,
    /// The home directory, so that paths under it are shown as `~/…`.
    pub home: Option<PathBuf>,
}

/// A flag's value for a config key: the last layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The key as a dotted path, such as `agent.default`; it must name a string key of a table.
    pub key: String,
    /// The flag's value.
    pub value: String,
    /// The flag, as sources name it: `--agent`.
    pub flag: String,
}

/// The config files, in the order their layers apply: the user config over `omk.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// `omk.toml` at the repository root.
    Repo,
    /// The user config, for every repository.
    User,
}

/// A config file omk consults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// Its layer.
    pub layer: Layer,
    /// Its path.
    pub path: PathBuf,
    /// How sources name it: `omk.toml`, `~/.config/omk/config.toml`.
    pub name: String,
    /// Whether it exists; a missing file is an empty layer.
    pub exists: bool,
}

/// Where a value of the effective configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// omk's built-in default.
    Default,
    /// A config file.
    File {
        /// The file.
        path: PathBuf,
        /// How it is named: `omk.toml`, `~/.config/omk/config.toml`.
        name: String,
        /// The 1-based line of the key.
        line: usize,
    },
    /// A command-line flag.
    Flag {
        /// The flag: `--agent`.
        flag: String,
    },
}

/// One value of the effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key's path: `["agent", "default"]`, `["agent", "programs", "kimi"]`,
    /// `["prices", "kimi"]`, or `["approvals"]` for each item of an array of tables.
    pub path: Vec<String>,
    /// Whether the value is one item of an array of tables (`[[gates]]`, `[[approvals]]`).
    pub item: bool,
    /// The value.
    pub value: toml::Value,
    /// Where it comes from.
    pub source: Source,
}

/// The effective configuration: every value with its source, and the parsed sections.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The files consulted, in the order their layers apply.
    pub files: Vec<ConfigFile>,
    /// Every value that is set, in the order of the sections, with its source.
    pub entries: Vec<Entry>,
    /// The gate sections (only `omk.toml` sets them).
    pub gates: GateConfig,
    /// `[agent]`, `[[approvals]]` and `[prices]`.
    pub agent: AgentConfig,
    /// `[worktree]`.
    pub worktree: WorktreeConfig,
    /// `[review]` and `[oracle]`.
    pub goal: GoalConfig,
    /// `[sandbox]`.
    pub sandbox: SandboxConfig,
    /// `[trust]` (only `omk.toml` sets it).
    pub trust: TrustConfig,
}

impl Settings {
    /// Returns the entry of the key at `path` (not an array item), if it is set.
    pub fn entry(&self, path: &[&str]) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|it| !it.item && it.path.iter().map(String::as_str).eq(path.iter().copied()))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File { name, line, .. } => write!(f, "{name}:{line}"),
            Self::Flag { flag } => f.write_str(flag),
        }
    }
}

impl Entry {
    /// Returns the key as TOML writes it: `agent.programs.kimi`, `prices."gpt-4.1"`.
    pub fn key(&self) -> String {
        self.path.iter().map(|it| toml_key(it)).collect::<Vec<_>>().join(".")
    }

    /// Returns the table the entry is in, as a TOML header names it (`agent.programs`), and its
    /// name in that table (`kimi`); an item's table is its array's name and its name is empty.
    pub fn table_and_name(&self) -> (String, String) {
        let quoted: Vec<String> = self.path.iter().map(|it| toml_key(it)).collect();
        if self.item {
            return (quoted.join("."), String::new());
        }
        match quoted.split_last() {
            Some((name, table)) => (table.join("."), name.clone()),
            None => (String::new(), String::new()),
        }
    }

    /// Returns an item's keys and values in the order its section documents them (`name`
    /// first for a gate); other entries have none.
    pub fn item_fields(&self) -> Vec<(&str, &toml::Value)> {
        let (true, Some(table)) = (self.item, self.value.as_table()) else { return Vec::new() };
        let known = SECTIONS
            .iter()
            .find(|it| Some(&it.name.to_owned()) == self.path.first())
            .and_then(|it| match it.shape {
                Shape::Items(keys) => Some(keys),
                _ => None,
            })
            .unwrap_or_default();
        let mut fields: Vec<(&str, &toml::Value)> =
            table.iter().map(|(key, value)| (key.as_str(), value)).collect();
        fields.sort_by_key(|(key, _)| known.iter().position(|it| it == key));
        fields
    }
}

/// Returns the effective configuration of the repository containing `dir` (or only the
/// defaults, the user config and the flags outside a repository).
pub fn effective_config(
    dir: &Path,
    env: &ConfigEnv,
    overrides: &[Override],
) -> Result<Settings, Error> {
    load_settings(repo_root_of(dir)?.as_deref(), env, overrides)
}

/// Returns the config files of the repository containing `dir` (none outside a repository)
/// and of `env`, in the order their layers apply, whether they exist or not; reads none.
pub fn config_paths(dir: &Path, env: &ConfigEnv) -> Result<Vec<ConfigFile>, Error> {
    let mut files = config_files(repo_root_of(dir)?.as_deref(), env);
    for file in &mut files {
        file.exists = file.path.is_file();
    }
    Ok(files)
}

/// Reads the layers — defaults, `omk.toml` at `repo_root`, the user config of `env`, then
/// `overrides` — checks each file on its own and returns the merged configuration.
pub fn load_settings(
    repo_root: Option<&Path>,
    env: &ConfigEnv,
    overrides: &[Override],
) -> Result<Settings, Error> {
    let mut leaves = default_leaves();
    let mut consulted = Vec::new();
    let mut gates = GateConfig::default();
    for mut file in config_files(repo_root, env) {
        let text = match fs::read_to_string(&file.path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(Error::ReadConfig { path: file.path, source }),
        };
        file.exists = text.is_some();
        if let Some(text) = text {
            let layer_leaves = read_layer(&text, &file)?;
            let parsed_gates = check_sections(&text, &file)?;
            if file.layer == Layer::Repo {
                gates = parsed_gates;
            }
            // The user's approval rules go before the repository's: the first match decides.
            let items_first = file.layer == Layer::User;
            for leaf in layer_leaves {
                merge_leaf(&mut leaves, leaf, items_first);
            }
        }
        consulted.push(file);
    }
    for flag in overrides {
        merge_leaf(&mut leaves, override_leaf(flag)?, false);
    }
    leaves.sort_by_key(|leaf| order_of(&leaf.entry.path));

    let mut merged = toml::Table::new();
    for leaf in &leaves {
        insert(&mut merged, &leaf.entry);
    }
    let text = toml::to_string(&merged)
        .map_err(|err| Error::EffectiveConfig { message: err.to_string() })?;
    let effective = |message: String| Error::EffectiveConfig { message };
    let mut agent = omk_agent::parse_config(&text).map_err(|err| effective(err.to_string()))?;
    let worktree = omk_worktree::parse_config(&text).map_err(|err| effective(err.to_string()))?;
    let goal = parse_goal_config(&text).map_err(|problem| effective(problem.message))?;
    let sandbox = parse_sandbox_config(&text).map_err(|problem| effective(problem.message))?;
    let trust = parse_trust_config(&text).map_err(|problem| effective(problem.message))?;
    // The merged document numbers the rules across files; each rule is named by its own file.
    let rule_sources = leaves.iter().filter(|it| it.entry.item && it.entry.path == ["approvals"]);
    for (rule, leaf) in agent.approvals.rules.iter_mut().zip(rule_sources) {
        if let Source::File { name, .. } = &leaf.entry.source {
            rule.source = format!("{name} [[approvals]] #{}", leaf.item_idx + 1);
        }
    }
    for leaf in &leaves {
        if let ([section, agent_name], Source::File { name, .. }) =
            (leaf.entry.path.as_slice(), &leaf.entry.source)
            && section == "prices"
        {
            agent.price_files.insert(agent_name.clone(), name.clone());
        }
    }
    Ok(Settings {
        files: consulted,
        entries: leaves.into_iter().map(|it| it.entry).collect(),
        gates,
        agent,
        worktree,
        goal,
        sandbox,
        trust,
    })
}

/// Returns the root of the repository containing `dir`, or `None` outside one.
fn repo_root_of(dir: &Path) -> Result<Option<PathBuf>, Error> {
    match omk_worktree::open(dir) {
        Ok(repo) => Ok(Some(repo.root)),
        Err(omk_worktree::Error::NotARepository { .. }) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Returns the config files, in layer order, marked as not existing.
fn config_files(repo_root: Option<&Path>, env: &ConfigEnv) -> Vec<ConfigFile> {
    let mut files = Vec::new();
    if let Some(root) = repo_root {
        let path = root.join("omk.toml");
        files.push(ConfigFile {
            layer: Layer::Repo,
            path,
            name: "omk.toml".to_owned(),
            exists: false,
        });
    }
    if let Some(path) = &env.user_config {
        let name = match env.home.as_deref().and_then(|home| path.strip_prefix(home).ok()) {
            Some(rest) => format!("~/{}", rest.display()),
            None => path.display().to_string(),
        };
        files.push(ConfigFile { layer: Layer::User, path: path.clone(), name, exists: false });
    }
    files
}

/// An entry while the layers merge, with its number among its file's items.
struct Leaf {
    entry: Entry,
    item_idx: usize,
}

/// Puts `leaf` over the leaves of earlier layers: a value replaces the one at its path, an item
/// of an array of tables comes after the earlier ones, or before them with `items_first`.
fn merge_leaf(leaves: &mut Vec<Leaf>, leaf: Leaf, items_first: bool) {
    if !leaf.entry.item
        && let Some(existing) =
            leaves.iter_mut().find(|it| !it.entry.item && it.entry.path == leaf.entry.path)
    {
        *existing = leaf;
        return;
    }
    if leaf.entry.item
        && items_first
        && let Some(idx) =
            leaves.iter().position(|it| it.entry.item && it.entry.path == leaf.entry.path)
    {
        leaves.insert(idx, leaf);
        return;
    }
    leaves.push(leaf);
}

/// Checks every key of the file's `text` against [`SECTIONS`] and returns its values as leaves.
fn read_layer(text: &str, file: &ConfigFile) -> Result<Vec<Leaf>, Error> {
    let located = |offset: usize, message: String| located(text, file, offset, message);
    let toml_error = |err: toml::de::Error| {
        located(err.span().map_or(0, |span| span.start), err.message().to_owned())
    };
    let spans = DeTable::parse(text).map_err(toml_error)?;
    let values: toml::Table = toml::from_str(text).map_err(toml_error)?;
    let user = file.layer == Layer::User;
    let section_names: Vec<&str> = SECTIONS.iter().map(|it| it.name).collect();
    let mut leaves = Vec::new();
    let mut leaf = |path: Vec<&str>, item: Option<usize>, value: &toml::Value, offset: usize| {
        let (line, _) = keys::line_column(text, offset);
        leaves.push(Leaf {
            entry: Entry {
                path: path.into_iter().map(str::to_owned).collect(),
                item: item.is_some(),
                value: value.clone(),
                source: Source::File { path: file.path.clone(), name: file.name.clone(), line },
            },
            item_idx: item.unwrap_or(0),
        });
    };
    for (key, spanned) in spans.get_ref() {
        let name: &str = key.get_ref();
        let Some(section) = SECTIONS.iter().find(|it| it.name == name) else {
            let message = keys::unknown_key("at the top level", name, &section_names);
            return Err(located(key.span().start, message));
        };
        if user && !section.user {
            return Err(located(key.span().start, project_only(&header(section))));
        }
        let Some(value) = values.get(name) else { continue };
        // A value of the wrong form is left to the section's parser, which says what it expects.
        match section.shape {
            Shape::Table(table_keys) => {
                let (DeValue::Table(spans), Some(table)) = (spanned.get_ref(), value.as_table())
                else {
                    continue;
                };
                for (sub_key, sub_spanned) in spans {
                    let sub_name: &str = sub_key.get_ref();
                    let Some(sub) = table_keys.iter().find(|it| it.name == sub_name) else {
                        let known: Vec<&str> = table_keys.iter().map(|it| it.name).collect();
                        let message = keys::unknown_key(&format!("in [{name}]"), sub_name, &known);
                        return Err(located(sub_key.span().start, message));
                    };
                    if user && !sub.user {
                        let what = format!("[{name}] {sub_name}");
                        return Err(located(sub_key.span().start, project_only(&what)));
                    }
                    let Some(sub_value) = table.get(sub_name) else { continue };
                    if let Shape::Map { .. } = sub.shape {
                        let (DeValue::Table(entry_spans), Some(entries)) =
                            (sub_spanned.get_ref(), sub_value.as_table())
                        else {
                            continue;
                        };
                        for (entry_key, _) in entry_spans {
                            let entry_name: &str = entry_key.get_ref();
                            if let Some(entry_value) = entries.get(entry_name) {
                                leaf(
                                    vec![name, sub_name, entry_name],
                                    None,
                                    entry_value,
                                    entry_key.span().start,
                                );
                            }
                        }
                    } else {
                        leaf(vec![name, sub_name], None, sub_value, sub_key.span().start);
                    }
                }
            }
            Shape::Map { names, entry } => {
                let (DeValue::Table(spans), Some(table)) = (spanned.get_ref(), value.as_table())
                else {
                    continue;
                };
                for (entry_key, entry_spanned) in spans {
                    let entry_name: &str = entry_key.get_ref();
                    if let Some(names) = names
                        && !names.contains(&entry_name)
                    {
                        let message = keys::unknown_key(&format!("in [{name}]"), entry_name, names);
                        return Err(located(entry_key.span().start, message));
                    }
                    if let (Some(entry_keys), DeValue::Table(inner)) =
                        (entry, entry_spanned.get_ref())
                    {
                        let place = format!("in [{name}.{}]", toml_key(entry_name));
                        check_keys(inner, entry_keys, &place, &located)?;
                    }
                    if let Some(entry_value) = table.get(entry_name) {
                        leaf(vec![name, entry_name], None, entry_value, entry_key.span().start);
                    }
                }
            }
            Shape::Items(item_keys) => {
                let (DeValue::Array(spans), Some(items)) = (spanned.get_ref(), value.as_array())
                else {
                    continue;
                };
                for (item_idx, (item_spanned, item)) in spans.iter().zip(items).enumerate() {
                    let DeValue::Table(inner) = item_spanned.get_ref() else { continue };
                    check_keys(inner, item_keys, &format!("in [[{name}]]"), &located)?;
                    // The item's line is that of its first key, which is right below its header.
                    let at = inner
                        .keys()
                        .map(|it| it.span().start)
                        .min()
                        .unwrap_or(item_spanned.span().start);
                    leaf(vec![name], Some(item_idx), item, at);
                }
            }
            Shape::Value => leaf(vec![name], None, value, key.span().start),
        }
    }
    Ok(leaves)
}

/// Checks that every key of `table` is one of `known`.
fn check_keys(
    table: &DeTable<'_>,
    known: &[&str],
    place: &str,
    located: &dyn Fn(usize, String) -> Error,
) -> Result<(), Error> {
    for key in table.keys() {
        let name: &str = key.get_ref();
        if !known.contains(&name) {
            return Err(located(key.span().start, keys::unknown_key(place, name, known)));
        }
    }
    Ok(())
}

/// Runs every section's parser on the file's `text`; returns its gate sections.
fn check_sections(text: &str, file: &ConfigFile) -> Result<GateConfig, Error> {
    let located = |offset: usize, message: String| located(text, file, offset, message);
    let gates = omk_gates::parse_config(text).map_err(|err| located(err.offset, err.message))?;
    omk_agent::parse_config(text).map_err(|err| match err {
        omk_agent::Error::Config { offset, message } => located(offset, message),
        other => Error::Agent(other),
    })?;
    omk_worktree::parse_config(text).map_err(|err| match err {
        omk_worktree::Error::Config { offset, message } => located(offset, message),
        other => Error::Repo(other),
    })?;
    parse_goal_config(text).map_err(|problem| located(problem.offset, problem.message))?;
    parse_sandbox_config(text).map_err(|problem| located(problem.offset, problem.message))?;
    parse_trust_config(text).map_err(|problem| located(problem.offset, problem.message))?;
    Ok(gates)
}

/// Returns the error at byte `offset` of the file's `text`: the one place config errors get
/// their file, line and column.
fn located(text: &str, file: &ConfigFile, offset: usize, message: String) -> Error {
    let (line, column) = keys::line_column(text, offset);
    Error::Config { path: file.path.clone(), line, column, message }
}

/// Returns the message for a project key set in the user config.
fn project_only(what: &str) -> String {
    format!(
        "{what} is the project's configuration, which only the repository's omk.toml may set; \
         move it there"
    )
}

/// Returns how a section is written: `[agent]`, `[[gates]]`.
fn header(section: &Key) -> String {
    match section.shape {
        Shape::Items(_) => format!("[[{}]]", section.name),
        _ => format!("[{}]", section.name),
    }
}

/// Returns the leaf of a flag, checking that its key is a value of a table.
fn override_leaf(flag: &Override) -> Result<Leaf, Error> {
    let path: Vec<&str> = flag.key.split('.').collect();
    let known = match path.as_slice() {
        [section, key] => SECTIONS.iter().any(|it| {
            it.name == *section
                && matches!(it.shape, Shape::Table(keys) if keys.iter().any(|it| it.name == *key && matches!(it.shape, Shape::Value)))
        }),
        _ => false,
    };
    if !known {
        return Err(Error::EffectiveConfig {
            message: format!("{} sets {:?}, which is no config key", flag.flag, flag.key),
        });
    }
    Ok(Leaf {
        entry: Entry {
            path: path.into_iter().map(str::to_owned).collect(),
            item: false,
            value: toml::Value::String(flag.value.clone()),
            source: Source::Flag { flag: flag.flag.clone() },
        },
        item_idx: 0,
    })
}

/// Returns the built-in defaults as leaves, read from the sections' own defaults.
fn default_leaves() -> Vec<Leaf> {
    let agent = AgentConfig::default();
    let gates = GateConfig::default();
    let worktree = WorktreeConfig::default();
    let goal = GoalConfig::default();
    let sandbox = SandboxConfig::default();
    let int = |it: u64| toml::Value::Integer(i64::try_from(it).unwrap_or(i64::MAX));
    let text = |it: &str| toml::Value::String(it.to_owned());
    let list = |it: &[String]| toml::Value::Array(it.iter().map(|it| text(it)).collect());
    let merge = match worktree.merge {
        MergeStrategy::Merge => "merge",
        MergeStrategy::Squash => "squash",
    };
    let values = [
        ("agent", "timeout_secs", int(agent.timeout.as_secs())),
        ("agent", "idle_timeout_secs", int(agent.idle_timeout.as_secs())),
        ("worktree", "copy", list(&worktree.copy)),
        ("worktree", "setup", list(&worktree.setup)),
        ("worktree", "merge", text(merge)),
        ("worktree", "author_name", text(&worktree.author_name)),
        ("worktree", "author_email", text(&worktree.author_email)),
        ("detect", "enabled", toml::Value::Boolean(gates.detect)),
        ("detect", "exclude", list(&gates.detect_exclude)),
        ("cache", "env", list(&gates.cache_env)),
        ("cache", "shared_builds", toml::Value::Boolean(gates.shared_builds)),
        ("review", "max_files", int(goal.review.max_files)),
        ("review", "max_lines", int(goal.review.max_lines)),
        ("review", "max_binary_bytes", int(goal.review.max_binary_bytes)),
        ("review", "allow_binary", toml::Value::Boolean(goal.review.allow_binary)),
        ("review", "forbidden_paths", list(&goal.review.forbidden_paths)),
        ("review", "secrets_allow", list(&goal.review.secrets_allow)),
        ("run", "repair_rounds", int(goal.run.repair_rounds.into())),
        ("sandbox", "mode", text(sandbox.mode.as_str())),
        ("sandbox", "writable", list(&sandbox.writable)),
        ("sandbox", "network", toml::Value::Boolean(sandbox.network)),
        ("trust", "keys", list(&TrustConfig::default().keys)),
        ("agent", "retries", int(agent.retries.into())),
        (
            "agent",
            "retry_backoff_ms",
            int(agent.retry_backoff.as_millis().try_into().unwrap_or(u64::MAX)),
        ),
        ("agent", "mcp", toml::Value::Boolean(agent.mcp)),
    ];
    values
        .into_iter()
        .map(|(section, key, value)| Leaf {
            entry: Entry {
                path: vec![section.to_owned(), key.to_owned()],
                item: false,
                value,
                source: Source::Default,
            },
            item_idx: 0,
        })
        .collect()
}

/// Returns where the entry at `path` goes among the sections: the section's place, the key's
/// place in it, then the name (items keep their order, as the sort is stable).
fn order_of(path: &[String]) -> (usize, usize, String) {
    let Some((section_idx, section)) =
        SECTIONS.iter().enumerate().find(|(_, it)| Some(&it.name.to_owned()) == path.first())
    else {
        return (SECTIONS.len(), 0, String::new());
    };
    match (section.shape, path.get(1)) {
        (Shape::Table(keys), Some(key)) => {
            let key_idx = keys.iter().position(|it| it.name == key).unwrap_or(keys.len());
            (section_idx, key_idx, path.get(2).cloned().unwrap_or_default())
        }
        (_, name) => (section_idx, 0, name.cloned().unwrap_or_default()),
    }
}

/// Puts the entry's value into `table` at its path.
fn insert(table: &mut toml::Table, entry: &Entry) {
    let Some((last, parents)) = entry.path.split_last() else { return };
    let mut table = table;
    for parent in parents {
        let child =
            table.entry(parent.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(child) = child else { return };
        table = child;
    }
    if entry.item {
        let array = table.entry(last.clone()).or_insert_with(|| toml::Value::Array(Vec::new()));
        if let toml::Value::Array(items) = array {
            items.push(entry.value.clone());
        }
    } else {
        table.insert(last.clone(), entry.value.clone());
    }
}

/// Returns `key` as TOML writes it: bare when it can be, else quoted.
fn toml_key(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests;
