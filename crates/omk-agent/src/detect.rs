//! Finding the agent programs installed on the machine, and telling the two `kimi`s apart.

use std::{
    io::Read,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use serde_json::Value;

use crate::agent::{AgentEnvironment, find_program};

/// How long one probe (`--version`, `info --json`) may take; kimi needs seconds to start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The version of each agent program that omk's end-to-end tests run for real (`omk-tests`'
/// `real_kimi.rs` and `real_agents.rs`, installed by `scripts/install-*.sh`); `omk agents`
/// compares the installed version with it.
pub const TESTED_VERSIONS: [(&str, &str); 3] =
    [("kimi", "1.51.0"), ("claude", "2.1.332"), ("codex", "0.171.0")];

/// One agent program and what omk can do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedAgent {
    /// The program's name: `kimi`, `claude` or `codex`.
    pub program: String,
    /// Where it is; `None` when it is not installed.
    pub path: Option<PathBuf>,
    /// The version it reports.
    pub version: Option<String>,
    /// The version omk's tests run against the real program ([`TESTED_VERSIONS`]).
    pub tested_version: Option<String>,
    /// Whether omk can drive it.
    pub status: Detection,
    /// The `--agent` values that use it.
    pub agents: Vec<String>,
    /// One sentence for the user.
    pub note: String,
}

/// Whether omk can drive a detected program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// Installed and supported.
    Supported,
    /// Installed, but omk cannot drive it; the note says why and what to do.
    Unsupported,
    /// Not on `PATH`.
    Missing,
}

impl Detection {
    /// Returns the status as one lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Supported => "supported",
            Self::Unsupported => "unsupported",
            Self::Missing => "missing",
        }
    }
}

/// Detects `kimi`, `claude` and `codex` on the `PATH` of `environment`.
///
/// Never starts a bare `kimi`: the kimi-cli 1.52 stub runs a remote install script then.
pub fn detect_agents(environment: &AgentEnvironment) -> Vec<DetectedAgent> {
    ["kimi", "claude", "codex"]
        .into_iter()
        .map(|program| compare_with_tested(detect_one(program, environment)))
        .collect()
}

fn detect_one(program: &str, environment: &AgentEnvironment) -> DetectedAgent {
    match find_program(program, environment) {
        Ok(path) => match program {
            "kimi" => detect_kimi(&path),
            "claude" => simple(
                program,
                &path,
                &["claude"],
                "Claude Code: -p --output-format stream-json --verbose; reports cost and its permission decisions",
            ),
            _ => simple(
                program,
                &path,
                &["codex"],
                "Codex: exec --json; inside omk's Landlock sandbox instead of its own",
            ),
        },
        Err(_) => DetectedAgent {
            program: program.to_owned(),
            path: None,
            version: None,
            tested_version: None,
            status: Detection::Missing,
            agents: Vec::new(),
            note: "not found on PATH".to_owned(),
        },
    }
}

/// Fills in the tested version and says in the note when the installed one differs.
fn compare_with_tested(mut detected: DetectedAgent) -> DetectedAgent {
    let tested = TESTED_VERSIONS.iter().find(|(program, _)| *program == detected.program);
    detected.tested_version = tested.map(|(_, version)| (*version).to_owned());
    if let (Some(tested), Some(version), Detection::Supported) =
        (&detected.tested_version, &detected.version, detected.status)
        && tested != version
    {
        let note = format!("; omk is tested with {} {tested}, this is {version}", detected.program);
        detected.note.push_str(&note);
    }
    detected
}

/// Returns the version number in a `--version` line (`2.1.332 (Claude Code)`, `codex-cli
/// 0.171.0`), else the line itself.
fn version_number(line: &str) -> String {
    line.split(|c: char| c.is_whitespace() || c == ',')
        .find(|word| {
            word.split('.').count() >= 2
                && word
                    .split('.')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or(line)
        .to_owned()
}

fn simple(program: &str, path: &Path, agents: &[&str], note: &str) -> DetectedAgent {
    let version = probe(path, &["--version"])
        .map(|out| version_number(out.trim().lines().next().unwrap_or_default()));
    DetectedAgent {
        program: program.to_owned(),
        path: Some(path.to_owned()),
        status: if version.is_some() { Detection::Supported } else { Detection::Unsupported },
        note: if version.is_some() {
            note.to_owned()
        } else {
            format!("`{program} --version` failed")
        },
        version,
        tested_version: None,
        agents: agents.iter().map(|&it| it.to_owned()).collect(),
    }
}

/// Classifies a `kimi`: the Python kimi-cli, its 1.52 deprecation stub, or the TypeScript
/// Kimi Code CLI.
pub(crate) fn detect_kimi(path: &Path) -> DetectedAgent {
    let mut detected = DetectedAgent {
        program: "kimi".to_owned(),
        path: Some(path.to_owned()),
        version: None,
        tested_version: None,
        status: Detection::Unsupported,
        agents: Vec::new(),
        note: String::new(),
    };
    let Some(version_out) = probe(path, &["--version"]) else {
        detected.note = "`kimi --version` failed or timed out".to_owned();
        return detected;
    };
    let first = version_out.trim().lines().next().unwrap_or_default().trim();
    if let Some(version) = first.strip_prefix("kimi, version ") {
        detected.version = Some(version.to_owned());
        // The stub answers every argument with a notice; only the real CLI prints JSON here.
        let info = probe(path, &["info", "--json"])
            .and_then(|out| serde_json::from_str::<Value>(out.trim()).ok());
        match info
            .as_ref()
            .and_then(|info| info.get("wire_protocol_version"))
            .and_then(Value::as_str)
        {
            Some(wire) => {
                detected.status = Detection::Supported;
                detected.agents = vec!["kimi".to_owned(), "kimi-print".to_owned()];
                detected.note = format!("Python Kimi CLI, Wire protocol {wire}");
            }
            None => {
                detected.note = format!(
                    "kimi-cli {version} is the deprecation stub (`kimi info --json` is not JSON); \
                     install kimi-cli==1.51.0 (scripts/install-kimi.sh) or point [agent.programs] kimi at it"
                );
            }
        }
    } else if first.split('.').count() == 3
        && first.split('.').all(|part| part.chars().all(|c| c.is_ascii_digit()))
    {
        detected.version = Some(first.to_owned());
        detected.note = "TypeScript Kimi Code CLI: it has no Wire or print mode for omk to drive; \
                         use cmd:'kimi -p \"$(cat \"$OMK_PROMPT_FILE\")\" --output-format stream-json' or install the Python kimi-cli 1.51.0"
            .to_owned();
    } else {
        detected.version = Some(first.to_owned());
        detected.note = format!("unrecognized `kimi --version` output {first:?}");
    }
    detected
}

/// Runs `program args` with stdin closed in its own process group; returns stdout on exit 0.
fn probe(program: &Path, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("KIMI_CLI_NO_AUTO_UPDATE", "1")
        .process_group(0)
        .spawn()
        .ok()?;
    let pgid = i32::try_from(child.id()).ok().map(Pid::from_raw);
    let mut stdout = child.stdout.take()?;
    let reader = thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).ok();
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < PROBE_TIMEOUT => {
                thread::sleep(Duration::from_millis(20));
            }
            _ => break None,
        }
    };
    if let Some(pgid) = pgid {
        killpg(pgid, Signal::SIGKILL).ok();
    }
    if status.is_none() {
        child.wait().ok();
    }
    let text = reader.join().ok()?;
    status.filter(|status| status.success()).map(|_| text)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{DetectedAgent, Detection, compare_with_tested, version_number};

    #[test]
    fn version_numbers_come_out_of_version_lines() {
        assert_eq!(version_number("2.1.332 (Claude Code)"), "2.1.332");
        assert_eq!(version_number("codex-cli 0.171.0"), "0.171.0");
        assert_eq!(version_number("kimi, version 1.51.0"), "1.51.0");
        assert_eq!(version_number("nightly build"), "nightly build");
    }

    #[test]
    fn another_version_than_the_tested_one_is_named() {
        let detected = |version: &str| DetectedAgent {
            program: "codex".to_owned(),
            path: Some(PathBuf::from("/bin/codex")),
            version: Some(version.to_owned()),
            tested_version: None,
            status: Detection::Supported,
            agents: vec!["codex".to_owned()],
            note: "Codex".to_owned(),
        };
        let same = compare_with_tested(detected("0.171.0"));
        assert_eq!(
            (same.tested_version.as_deref(), same.note.as_str()),
            (Some("0.171.0"), "Codex")
        );
        let newer = compare_with_tested(detected("0.172.0"));
        assert_eq!(newer.note, "Codex; omk is tested with codex 0.171.0, this is 0.172.0");
    }
}
