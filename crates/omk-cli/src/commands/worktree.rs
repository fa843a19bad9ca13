//! `omk worktree list` and `omk worktree gc`: the worktrees omk runs agents in.

use std::{fmt::Write, path::Path};

use omk_goal::{GcEntry, GcVerdict, WorktreeInfo};

use crate::{
    args::WorktreeGcArgs,
    commands::shared::{Context, SCHEMA_VERSION},
    error::{CliError, ExitCodes},
    json::{self, GcItem, WorktreeEntry, WorktreeGcDocument, WorktreeListDocument},
    output,
};

pub(crate) fn run_worktree_list(ctx: &Context) -> Result<u8, CliError> {
    let (root, worktrees) = omk_goal::list_worktrees(&ctx.dir)?;
    let text = if ctx.json {
        let worktrees = worktrees.iter().map(|info| list_json(&root, info)).collect();
        json::to_string(&WorktreeListDocument { schema_version: SCHEMA_VERSION, worktrees })
    } else if worktrees.is_empty() {
        "no linked worktrees\n".to_owned()
    } else {
        let mut text = String::new();
        for info in &worktrees {
            let head = info.head.as_deref().map_or("-", omk_events::short_id);
            let branch = info.branch.as_deref().unwrap_or("(detached)");
            let mut line = format!("{}  {branch}  {head}", relative(&root, &info.path));
            if let Some(reason) = &info.lock {
                let _ = write!(line, "  locked: {reason}");
            }
            if info.prunable {
                line.push_str("  prunable: its directory is gone");
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_worktree_gc(ctx: &Context, args: &WorktreeGcArgs) -> Result<u8, CliError> {
    let (root, entries) = omk_goal::gc_worktrees(&ctx.dir, args.dry_run)?;
    let text = if ctx.json {
        let worktrees = entries.iter().map(|entry| gc_json(&root, entry)).collect();
        json::to_string(&WorktreeGcDocument {
            schema_version: SCHEMA_VERSION,
            dry_run: args.dry_run,
            worktrees,
        })
    } else if entries.is_empty() {
        "no omk worktrees\n".to_owned()
    } else {
        let mut text = String::new();
        for entry in &entries {
            let verdict = match &entry.verdict {
                GcVerdict::Removed => "removed".to_owned(),
                GcVerdict::WouldRemove => "would remove".to_owned(),
                GcVerdict::Kept(reason) => format!("kept: {reason}"),
            };
            let _ = writeln!(text, "{}  {verdict}", relative(&root, &entry.path));
        }
        text
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

fn list_json(root: &Path, info: &WorktreeInfo) -> WorktreeEntry {
    WorktreeEntry {
        path: relative(root, &info.path),
        branch: info.branch.clone(),
        head: info.head.clone(),
        lock: info.lock.clone(),
        prunable: info.prunable,
    }
}

fn gc_json(root: &Path, entry: &GcEntry) -> GcItem {
    let (action, reason) = match &entry.verdict {
        GcVerdict::Removed => ("removed", None),
        GcVerdict::WouldRemove => ("would_remove", None),
        GcVerdict::Kept(reason) => ("kept", Some(reason.to_string())),
    };
    GcItem {
        path: relative(root, &entry.path),
        goal: entry.goal.clone(),
        branch: entry.branch.clone(),
        action,
        reason,
    }
}

/// Returns `path` relative to the repository root when it is inside it.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}
