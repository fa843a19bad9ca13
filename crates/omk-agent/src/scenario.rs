//! Scenario files of the scripted agent, in the Kimi CLI's `_scripted_echo` DSL.

use std::{fs, path::Path};

use serde::Deserialize;
use serde_json::Value;

use omk_events::TokenUsage;

use crate::error::Error;

/// A scripted agent's scenario: one step per model response, in order, and the steps of each
/// repair round.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The steps of the goal's first run.
    pub steps: Vec<ScenarioStep>,
    /// The steps of each repair round, from round 1: the parts after each `===` line.
    pub rounds: Vec<Vec<ScenarioStep>>,
}

impl Scenario {
    /// Returns the steps of repair round `round` (0 is the first run), `None` past the last.
    pub fn round(&self, round: u32) -> Option<&[ScenarioStep]> {
        match round {
            0 => Some(&self.steps),
            round => self.rounds.get(usize::try_from(round - 1).ok()?).map(Vec::as_slice),
        }
    }
}

/// One model response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioStep {
    /// The response id (`id:`).
    pub id: Option<String>,
    /// Token usage of the response (`usage:`).
    pub usage: Option<TokenUsage>,
    /// Thinking parts (`think:`).
    pub think: Vec<String>,
    /// Text parts (`text:`), joined with newlines into the message.
    pub text: Vec<String>,
    /// Tool calls (`tool_call:`), executed in order.
    pub tool_calls: Vec<ToolCall>,
    /// A provider error that fails the turn (`error:`).
    pub error: Option<String>,
}

/// A tool call of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The call id.
    pub id: String,
    /// The tool's name, such as `WriteFile`.
    pub name: String,
    /// The arguments, decoded from the call's JSON string.
    pub arguments: Value,
}

/// Reads and parses the scenario file at `path`.
pub(crate) fn load(path: &Path) -> Result<Scenario, Error> {
    let text = fs::read_to_string(path)
        .map_err(|source| Error::ReadScenario { path: path.to_owned(), source })?;
    parse_scenario(&text).map_err(|(step, problem)| Error::BadScenario {
        path: path.to_owned(),
        step,
        problem,
    })
}

/// Parses a scenario: a JSON array of step strings, or steps separated by lines `---`, with a
/// line `===` before the steps of each repair round (text form only).
///
/// Returns the 1-based step (counted through the whole file) and the problem on error.
pub fn parse_scenario(text: &str) -> Result<Scenario, (usize, String)> {
    let parts: Vec<Vec<String>> = if text.trim_start().starts_with('[') {
        let chunks = serde_json::from_str(text)
            .map_err(|err| (1, format!("not a JSON array of strings: {err}")))?;
        vec![chunks]
    } else {
        let normalized = text.replace("\r\n", "\n");
        let mut rounds = vec![String::new()];
        for line in normalized.split_inclusive('\n') {
            if line.trim_end() == "===" {
                rounds.push(String::new());
            } else if let Some(round) = rounds.last_mut() {
                round.push_str(line);
            }
        }
        rounds
            .iter()
            .map(|round| {
                let round = format!("\n{round}\n");
                round.split("\n---\n").map(str::to_owned).collect()
            })
            .collect()
    };
    let mut numbered = 0;
    let mut rounds = Vec::with_capacity(parts.len());
    for (round, chunks) in parts.iter().enumerate() {
        let mut steps = Vec::new();
        for chunk in chunks.iter().filter(|chunk| !chunk.trim().is_empty()) {
            numbered += 1;
            steps.push(parse_step(chunk).map_err(|problem| (numbered, problem))?);
        }
        if steps.is_empty() {
            let problem = match round {
                0 => "the scenario has no steps; write at least one `text:` line".to_owned(),
                round => format!(
                    "repair round {round} (after `===` number {round}) has no steps; write at \
                     least one `text:` line"
                ),
            };
            return Err((numbered + 1, problem));
        }
        rounds.push(steps);
    }
    let mut rounds = rounds.into_iter();
    let steps = rounds.next().unwrap_or_default();
    Ok(Scenario { steps, rounds: rounds.collect() })
}

fn parse_step(chunk: &str) -> Result<ScenarioStep, String> {
    let mut step = ScenarioStep::default();
    for line in chunk.lines().filter(|line| !line.trim().is_empty()) {
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("line {line:?} is not `directive: value`"));
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        match key.trim() {
            "id" => step.id = Some(value.to_owned()),
            "usage" => step.usage = Some(parse_usage(value)?),
            "think" => step.think.push(value.to_owned()),
            "text" => step.text.push(value.to_owned()),
            "tool_call" => step.tool_calls.push(parse_tool_call(value)?),
            "error" => step.error = Some(value.to_owned()),
            other => {
                return Err(format!(
                    "unknown directive {other:?}; expected id, usage, think, text, tool_call or error"
                ));
            }
        }
    }
    Ok(step)
}

fn parse_usage(value: &str) -> Result<TokenUsage, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawUsage {
        #[serde(default)]
        input_other: u64,
        #[serde(default)]
        input_cache_read: u64,
        #[serde(default)]
        input_cache_creation: u64,
        #[serde(default)]
        output: u64,
    }
    let raw: RawUsage = serde_json::from_str(value).map_err(|err| {
        format!("usage {value:?}: {err}; expected {{\"input_other\": N, \"output\": N, \"input_cache_read\": N, \"input_cache_creation\": N}}")
    })?;
    Ok(TokenUsage {
        input_uncached: raw.input_other,
        input_cache_read: raw.input_cache_read,
        input_cache_write: raw.input_cache_creation,
        output: raw.output,
    })
}

fn parse_tool_call(value: &str) -> Result<ToolCall, String> {
    #[derive(Deserialize)]
    struct RawCall {
        id: String,
        name: String,
        arguments: String,
    }
    let raw: RawCall = serde_json::from_str(value).map_err(|err| {
        format!("tool_call {value:?}: {err}; expected {{\"id\": \"tc-1\", \"name\": \"WriteFile\", \"arguments\": \"<JSON object as a string>\"}}")
    })?;
    let arguments: Value = serde_json::from_str(&raw.arguments)
        .map_err(|err| format!("tool_call {}: arguments are not JSON: {err}", raw.id))?;
    if !arguments.is_object() {
        return Err(format!("tool_call {}: arguments must be a JSON object", raw.id));
    }
    Ok(ToolCall { id: raw.id, name: raw.name, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_forms_parse_the_same() {
        let text = "id: s1\nusage: {\"input_other\": 18, \"output\": 3}\nthink: first\ntext: I'll fix it.\ntool_call: {\"id\":\"tc-1\",\"name\":\"WriteFile\",\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\",\\\"content\\\":\\\"x\\\"}\"}\n---\ntext: Done.\n";
        let steps: Vec<&str> = text.split("\n---\n").collect();
        let json = serde_json::to_string(&steps).expect("strings serialize");
        let from_text = parse_scenario(text).expect("text form parses");
        assert_eq!(parse_scenario(&json), Ok(from_text.clone()));
        let first = &from_text.steps[0];
        assert_eq!(first.id.as_deref(), Some("s1"));
        assert_eq!(first.usage.map(|it| it.total()), Some(21));
        assert_eq!(first.tool_calls[0].arguments["path"], "a.txt");
        assert_eq!(from_text.steps[1].text, ["Done."]);
    }

    #[test]
    fn rounds_follow_lines_of_three_equals_signs() {
        let text = "text: first\n---\ntext: done\n===\ntext: round one\n===\r\ntext: two\n";
        let scenario = parse_scenario(text).expect("rounds parse");
        assert_eq!(scenario.steps.len(), 2);
        assert_eq!(scenario.round(1).map(|it| it[0].text.clone()), Some(vec!["round one".into()]));
        assert_eq!(scenario.round(2).map(|it| it[0].text.clone()), Some(vec!["two".into()]));
        assert_eq!(scenario.round(3), None);
        assert_eq!(parse_scenario("text: only\n").map(|it| it.rounds.len()), Ok(0));
    }

    #[test]
    fn bad_scenarios_name_the_step_and_the_fix() {
        let check = |text: &str, expect: &str| {
            let (step, problem) = parse_scenario(text).expect_err("the scenario is invalid");
            assert_eq!(format!("step {step}: {problem}"), expect);
        };
        check("", "step 1: the scenario has no steps; write at least one `text:` line");
        check(
            "text: a\n---\nsay: b",
            "step 2: unknown directive \"say\"; expected id, usage, think, text, tool_call or error",
        );
        check("hello", "step 1: line \"hello\" is not `directive: value`");
        check(
            "text: a\n===\n",
            "step 2: repair round 1 (after `===` number 1) has no steps; write at least one \
             `text:` line",
        );
        check(
            "tool_call: {\"id\":\"t\",\"name\":\"WriteFile\",\"arguments\":\"{nope\"}",
            "step 1: tool_call t: arguments are not JSON: key must be a string at line 1 column 2",
        );
    }
}
