//! The top of the report: the goal's header and the verdict card, with the status, the
//! readiness rung, why, the next command, and the whole readiness ladder.

use std::fmt::Write as _;

use omk_events::short_id;

use crate::{
    model::Proof,
    next::next_command,
    readiness::{ProofStatus, Readiness},
};

use super::markup::{badge, code, escape, push_escaped};

/// Returns the page's title line: the goal and its prompt.
pub(crate) fn header(proof: &Proof) -> String {
    format!(
        "<header class=\"card\">\n<h1>omk proof <span class=\"dim\">· goal</span> {}</h1>\n<p class=\"prompt\">{}</p>\n</header>\n",
        code(proof.goal_id.as_str()),
        escape(&proof.task.prompt).replace('\n', "<br>")
    )
}

/// Returns where the change lives and what ran it, as rows of a `<dl>`.
fn facts(proof: &Proof) -> String {
    let mut out = String::new();
    let mut fact = |name: &str, html: String| {
        let _ = writeln!(out, "<dt>{name}</dt><dd>{html}</dd>");
    };
    let base = proof.git.base_branch.as_deref().unwrap_or("(detached HEAD)");
    let branch = proof.git.branch.as_deref().map_or_else(
        || "no worktree yet".to_owned(),
        |branch| format!("{} from {}", code(branch), code(base)),
    );
    fact("branch", format!("{branch} at {}", code(short_id(&proof.git.base_commit))));
    if let Some(tree) = &proof.git.tree_id {
        let commit = proof
            .git
            .head_commit
            .as_deref()
            .map(|it| format!(", commit {}", code(short_id(it))))
            .unwrap_or_default();
        fact("tree", format!("{}{commit}", code(short_id(tree))));
    }
    let kind = proof.task.goal_kind.map(|it| format!(" · {it} goal")).unwrap_or_default();
    fact("agent", format!("{}{}", code(&proof.task.agent), escape(&kind)));
    fact(
        "events",
        format!(
            "{} over {}, the last at {}",
            proof.task.events,
            super::markup::duration(proof.task.elapsed_ms),
            proof.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
    );
    out
}

/// Returns the verdict card: the status and rung, why, the next command, and the ladder.
pub(crate) fn verdict(proof: &Proof) -> String {
    let class = status_class(proof);
    let mut out = String::from("<section class=\"verdict-card\" id=\"verdict\">\n");
    out.push_str("<div class=\"verdict\">\n<div>\n");
    let _ = writeln!(
        out,
        "<div class=\"status {class}\"><span class=\"dot\"></span><span class=\"word\">{}</span>{}</div>",
        proof.status.word(),
        badge("", proof.readiness.as_str())
    );
    let _ = writeln!(out, "<p>{}</p>", escape(&proof.summary));
    out.push_str("<dl class=\"facts\">\n");
    match proof.known_gaps.first() {
        Some(gap) if proof.status != ProofStatus::Ready => {
            let _ = writeln!(out, "<dt>why</dt><dd>{}</dd>", escape(&gap.message));
            let _ = writeln!(out, "<dt>hint</dt><dd>{}</dd>", escape(&gap.next_step));
            if proof.known_gaps.len() > 1 {
                let _ = writeln!(
                    out,
                    "<dt>and</dt><dd><a href=\"#gaps\">{} more</a></dd>",
                    proof.known_gaps.len() - 1
                );
            }
        }
        _ => {
            let _ = writeln!(out, "<dt>why</dt><dd>{}</dd>", escape(proof.readiness_sentence()));
        }
    }
    if let Some(next) = next_command(proof) {
        let _ = writeln!(out, "<dt>next</dt><dd class=\"next\">{}</dd>", code(&next));
    }
    out.push_str(&facts(proof));
    out.push_str("</dl>\n</div>\n");
    out.push_str(&ladder(proof));
    out.push_str("</div>\n</section>\n");
    out
}

/// Returns the readiness ladder, highest rung first: the rungs below the proof's hold, the
/// rungs with a gap fail, and the rungs above the lowest unmet one show whether a gap of
/// theirs is recorded.
fn ladder(proof: &Proof) -> String {
    let mut out = String::from(
        "<div>\n<h2>Readiness ladder</h2>\n<ol class=\"ladder\" reversed aria-label=\"readiness ladder, highest rung first\">\n",
    );
    for rung in Readiness::LADDER.iter().rev().copied() {
        let gaps: Vec<&str> = proof
            .known_gaps
            .iter()
            .filter(|it| it.gap.rung() == Some(rung))
            .map(|it| it.message.as_str())
            .collect();
        let holds = if rung == Readiness::Ready {
            proof.status == ProofStatus::Ready
        } else {
            rung < proof.readiness
        };
        let (class, mark, state) = if holds {
            ("holds", "✓", "holds")
        } else if rung == proof.readiness && rung == Readiness::AwaitingAcceptance {
            ("waits lowest", "…", "the lowest rung not met: it waits for a person to accept")
        } else if rung == proof.readiness {
            ("fails lowest", "✗", "the lowest rung not met")
        } else if !gaps.is_empty() {
            ("fails", "✗", "not met")
        } else {
            ("above", "·", "above the lowest unmet rung; no gap of its own recorded")
        };
        let mut title = format!("{}: {state}", rung.as_str());
        for gap in &gaps {
            title.push_str(" — ");
            title.push_str(gap);
        }
        let _ = write!(out, "<li class=\"{class}\" title=\"");
        push_escaped(&mut out, &title);
        // The sentence only where the reader must act: a rung that holds needs its name alone.
        let sentence = if holds || class == "above" {
            String::new()
        } else {
            format!(" <span class=\"dim\">{}</span>", escape(rung.sentence()))
        };
        let _ = writeln!(
            out,
            "\"><span class=\"mark\">{mark}</span><span><code>{}</code>{sentence}</span></li>",
            rung.as_str(),
        );
    }
    out.push_str("</ol>\n</div>\n");
    out
}

/// Returns the color class of the proof's status: good when ready, waiting when it waits on
/// a person or on more budget, bad otherwise.
pub(crate) fn status_class(proof: &Proof) -> &'static str {
    match proof.status {
        ProofStatus::Ready => "good",
        ProofStatus::NotReady if proof.readiness == Readiness::AwaitingAcceptance => "wait",
        ProofStatus::NotReady | ProofStatus::FailedInfra | ProofStatus::Cancelled => "bad",
        ProofStatus::BlockedOnHuman
        | ProofStatus::BlockedOnExternal
        | ProofStatus::NeedsMoreBudget
        | ProofStatus::Paused => "wait",
    }
}
