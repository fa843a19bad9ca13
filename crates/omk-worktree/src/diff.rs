//! The content of a change: the lines each file adds and removes, and git's unified patch of it.

use std::{fmt::Write as _, ops::Range, path::Path};

use gix::diff::blob::{
    Algorithm, Diff, InternedInput,
    platform::{prepare_diff::Operation, resource::Data},
    sources,
};

use crate::{
    changes::{ChangeStatus, Prepared, TreeChange, walk_changes},
    error::Error,
    repo::{gix_open, resolve_commit},
};

/// One file that differs between two trees, with the lines it adds and removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The path in the new tree (in the old one for a deletion), with `/` separators.
    pub path: String,
    /// What happened to it.
    pub status: ChangeStatus,
    /// Whether either side is binary: it has a NUL byte in its first 8000 bytes (git's rule),
    /// is not UTF-8, or git's attributes say so. Binary files have no hunks.
    pub binary: bool,
    /// The size in bytes of the old content; 0 when the file is new.
    pub old_size: u64,
    /// The size in bytes of the new content; 0 when the file was deleted.
    pub new_size: u64,
    /// The blob id of the old content; `None` when the file is new.
    pub old_id: Option<String>,
    /// The blob id of the new content; `None` when the file was deleted.
    pub new_id: Option<String>,
    /// The old git file mode (`0o100644`, `0o100755`, `0o120000`, `0o160000`); `None` when new.
    pub old_mode: Option<u32>,
    /// The new git file mode; `None` when the file was deleted.
    pub new_mode: Option<u32>,
    /// The changed regions with three lines of context, in file order.
    pub hunks: Vec<Hunk>,
}

/// One changed region of a file, numbered as git numbers it in `@@ -a,b +c,d @@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// The first old line shown (1-based); the line before the change when `old_lines` is 0.
    pub old_start: u32,
    /// The number of old lines shown: context and removed lines.
    pub old_lines: u32,
    /// The first new line shown (1-based); the line before the change when `new_lines` is 0.
    pub new_start: u32,
    /// The number of new lines shown: context and added lines.
    pub new_lines: u32,
    /// The lines, without their `\n`.
    pub lines: Vec<DiffLine>,
    /// Whether the last old-side line of the hunk is the old file's last and has no newline.
    pub old_missing_newline: bool,
    /// Whether the last new-side line of the hunk is the new file's last and has no newline.
    pub new_missing_newline: bool,
}

/// One line of a hunk, without its `\n` (a `\r` before it stays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// A line both sides share.
    Context(String),
    /// A line only the new side has.
    Added(String),
    /// A line only the old side has.
    Removed(String),
}

impl FileDiff {
    /// Returns the lines the change adds to this file.
    pub fn added(&self) -> impl Iterator<Item = &str> {
        self.added_lines().map(|(_, line)| line)
    }

    /// Returns the lines the change removes from this file.
    pub fn removed(&self) -> impl Iterator<Item = &str> {
        self.removed_lines().map(|(_, line)| line)
    }

    /// Returns the added lines with their 1-based line numbers in the new file.
    pub fn added_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.hunks.iter().flat_map(|hunk| {
            let mut new_line = hunk.new_start.max(1);
            hunk.lines.iter().filter_map(move |line| match line {
                DiffLine::Context(_) => {
                    new_line += 1;
                    None
                }
                DiffLine::Added(text) => {
                    new_line += 1;
                    Some((new_line - 1, text.as_str()))
                }
                DiffLine::Removed(_) => None,
            })
        })
    }

    /// Returns the removed lines with their 1-based line numbers in the old file.
    pub fn removed_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.hunks.iter().flat_map(|hunk| {
            let mut old_line = hunk.old_start.max(1);
            hunk.lines.iter().filter_map(move |line| match line {
                DiffLine::Context(_) => {
                    old_line += 1;
                    None
                }
                DiffLine::Removed(text) => {
                    old_line += 1;
                    Some((old_line - 1, text.as_str()))
                }
                DiffLine::Added(_) => None,
            })
        })
    }
}

/// Lists every file that differs between the commit `base_commit` and the tree `tree_id`, both
/// in the repository of `dir`, with its hunks, sorted by path.
///
/// Statuses and renames are those of [`crate::capture_changes`]. Hunks follow `git diff`:
/// three lines of context, hunks closer than that merged, lines compared with their line
/// endings. Line counts can differ from [`crate::FileChange::lines`] for a last line that gains
/// or loses its newline: git, like this function, counts it as removed and added.
pub fn diff_trees(dir: &Path, base_commit: &str, tree_id: &str) -> Result<Vec<FileDiff>, Error> {
    let git = gix_open(dir)?;
    let base = resolve_commit(&git, base_commit)?;
    let tree = gix::ObjectId::from_hex(tree_id.as_bytes()).map_err(|err| Error::InvalidName {
        what: "tree id",
        name: tree_id.to_owned(),
        problem: err.to_string(),
    })?;
    let mut files = Vec::new();
    walk_changes(&git, dir, base, tree, &mut |change, prepared| {
        files.push(file_diff(change, prepared));
        Ok(())
    })?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Returns the unified diff of `files` as `git diff --full-index` writes it.
///
/// Each file has a `diff --git` header with git's extended lines (new, deleted and changed
/// modes, renames, full blob ids), then its hunks, or `Binary files a/x and b/x differ`.
/// Because the blob ids are full, `git apply` can apply a binary change in the repository
/// that holds the new blob.
pub fn unified_patch(files: &[FileDiff]) -> String {
    let mut patch = String::new();
    for file in files {
        write_file_patch(&mut patch, file);
    }
    patch
}

/// The lines of context around each change, as git shows by default.
const CONTEXT: u32 = 3;

/// How many leading bytes git looks at for a NUL to decide that content is binary.
const BINARY_PROBE: usize = 8000;

fn file_diff(change: TreeChange, prepared: Option<Prepared<'_>>) -> FileDiff {
    let TreeChange { path, status, old, new } = change;
    let mut file = FileDiff {
        path,
        status,
        binary: false,
        old_size: 0,
        new_size: 0,
        old_id: old.map(|(id, _)| id.to_string()),
        new_id: new.map(|(id, _)| id.to_string()),
        old_mode: old.map(|(_, mode)| u32::from(mode.value())),
        new_mode: new.map(|(_, mode)| u32::from(mode.value())),
        hunks: Vec::new(),
    };
    let Some(prepared) = prepared else {
        // A submodule: git shows the commit it points to as the file's one line.
        let subproject = |id: &Option<String>| {
            id.as_ref().map(|id| format!("Subproject commit {id}")).unwrap_or_default()
        };
        file.hunks = hunks(&subproject(&file.old_id), &subproject(&file.new_id));
        for hunk in &mut file.hunks {
            hunk.old_missing_newline = false;
            hunk.new_missing_newline = false;
        }
        return file;
    };
    let size = |data: &Data<'_>| match data {
        Data::Missing => 0,
        Data::Buffer { buf, .. } => buf.len() as u64,
        Data::Binary { size } => *size,
    };
    file.old_size = size(&prepared.old.data);
    file.new_size = size(&prepared.new.data);
    let texts = match prepared.operation {
        Operation::InternalDiff { .. } => {
            text_of(prepared.old.data).and_then(|old| Some((old, text_of(prepared.new.data)?)))
        }
        Operation::ExternalCommand { .. } | Operation::SourceOrDestinationIsBinary => None,
    };
    match texts {
        Some((old_text, new_text)) => file.hunks = hunks(old_text, new_text),
        None => file.binary = true,
    }
    file
}

/// Returns `data` as text, `""` when missing, `None` when it is binary.
fn text_of(data: Data<'_>) -> Option<&str> {
    match data {
        Data::Missing => Some(""),
        Data::Binary { .. } => None,
        Data::Buffer { buf, .. } => {
            if buf[..buf.len().min(BINARY_PROBE)].contains(&0) {
                return None;
            }
            std::str::from_utf8(buf).ok()
        }
    }
}

/// Returns the hunks that turn `old` into `new`, lines compared with their endings.
fn hunks(old: &str, new: &str) -> Vec<Hunk> {
    let input = InternedInput::new(sources::lines(old), sources::lines(new));
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    diff.postprocess_lines(&input);
    let old_tokens: Vec<&str> = input.before.iter().map(|token| input.interner[*token]).collect();
    let new_tokens: Vec<&str> = input.after.iter().map(|token| input.interner[*token]).collect();
    let n_old = old_tokens.len() as u32;
    let n_new = new_tokens.len() as u32;

    let changes: Vec<gix::diff::blob::Hunk> = diff.hunks().collect();
    let mut groups: Vec<Range<usize>> = Vec::new();
    for (change_idx, change) in changes.iter().enumerate() {
        match groups.last_mut() {
            Some(group)
                if change.before.start - changes[group.end - 1].before.end <= 2 * CONTEXT =>
            {
                group.end = change_idx + 1;
            }
            _ => groups.push(change_idx..change_idx + 1),
        }
    }

    let mut hunks = Vec::new();
    for group in groups {
        let group = &changes[group];
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_from = first.before.start.saturating_sub(CONTEXT);
        let new_from = first.after.start - (first.before.start - old_from);
        let old_to = (last.before.end + CONTEXT).min(n_old);
        let new_to = last.after.end + (old_to - last.before.end);
        let mut lines = Vec::new();
        let mut old_idx = old_from;
        for change in group {
            for token in &old_tokens[old_idx as usize..change.before.start as usize] {
                lines.push(DiffLine::Context(line_text(token)));
            }
            for token in &old_tokens[change.before.start as usize..change.before.end as usize] {
                lines.push(DiffLine::Removed(line_text(token)));
            }
            for token in &new_tokens[change.after.start as usize..change.after.end as usize] {
                lines.push(DiffLine::Added(line_text(token)));
            }
            old_idx = change.before.end;
        }
        for token in &old_tokens[old_idx as usize..old_to as usize] {
            lines.push(DiffLine::Context(line_text(token)));
        }
        let ends_without_newline = |tokens: &[&str], to: u32, n: u32| {
            to == n && n > 0 && !tokens[n as usize - 1].ends_with('\n')
        };
        let start = |from: u32, to: u32| if to > from { from + 1 } else { from };
        hunks.push(Hunk {
            old_start: start(old_from, old_to),
            old_lines: old_to - old_from,
            new_start: start(new_from, new_to),
            new_lines: new_to - new_from,
            lines,
            old_missing_newline: ends_without_newline(&old_tokens, old_to, n_old),
            new_missing_newline: ends_without_newline(&new_tokens, new_to, n_new),
        });
    }
    hunks
}

fn line_text(token: &str) -> String {
    token.strip_suffix('\n').unwrap_or(token).to_owned()
}

fn write_file_patch(patch: &mut String, file: &FileDiff) {
    let old_path = match &file.status {
        ChangeStatus::Renamed { from } => from.as_str(),
        _ => file.path.as_str(),
    };
    let new_path = file.path.as_str();
    let old_name = quote("a/", old_path);
    let new_name = quote("b/", new_path);
    let _ = writeln!(patch, "diff --git {old_name} {new_name}");
    match (file.old_mode, file.new_mode) {
        (None, Some(mode)) => {
            let _ = writeln!(patch, "new file mode {mode:06o}");
        }
        (Some(mode), None) => {
            let _ = writeln!(patch, "deleted file mode {mode:06o}");
        }
        (Some(old_mode), Some(new_mode)) if old_mode != new_mode => {
            let _ = writeln!(patch, "old mode {old_mode:06o}\nnew mode {new_mode:06o}");
        }
        _ => {}
    }
    if let ChangeStatus::Renamed { from } = &file.status {
        let _ =
            writeln!(patch, "rename from {}\nrename to {}", quote("", from), quote("", new_path));
    }
    if file.old_id != file.new_id {
        let id_len = file.old_id.as_ref().or(file.new_id.as_ref()).map_or(40, String::len);
        let zeros = "0".repeat(id_len);
        let old_id = file.old_id.as_deref().unwrap_or(&zeros);
        let new_id = file.new_id.as_deref().unwrap_or(&zeros);
        let _ = write!(patch, "index {old_id}..{new_id}");
        match (file.old_mode, file.new_mode) {
            (Some(old_mode), Some(new_mode)) if old_mode == new_mode => {
                let _ = writeln!(patch, " {new_mode:06o}");
            }
            _ => patch.push('\n'),
        }
    }
    let old_label = if file.old_mode.is_some() { old_name.as_str() } else { "/dev/null" };
    let new_label = if file.new_mode.is_some() { new_name.as_str() } else { "/dev/null" };
    if file.binary {
        let _ = writeln!(patch, "Binary files {old_label} and {new_label} differ");
        return;
    }
    if file.hunks.is_empty() {
        return;
    }
    // Git ends a name with a space with a tab, so that `git apply` finds where it ends.
    let tab = |label: &str| if label.contains(' ') { "\t" } else { "" };
    let _ = writeln!(patch, "--- {old_label}{}", tab(old_label));
    let _ = writeln!(patch, "+++ {new_label}{}", tab(new_label));
    for hunk in &file.hunks {
        write_hunk(patch, hunk);
    }
}

fn write_hunk(patch: &mut String, hunk: &Hunk) {
    let range = |start: u32, n_lines: u32| {
        if n_lines == 1 { start.to_string() } else { format!("{start},{n_lines}") }
    };
    let _ = writeln!(
        patch,
        "@@ -{} +{} @@",
        range(hunk.old_start, hunk.old_lines),
        range(hunk.new_start, hunk.new_lines)
    );
    // The marker follows the last line of each side that lacks its newline.
    let last_old_idx = hunk.lines.iter().rposition(|line| !matches!(line, DiffLine::Added(_)));
    let last_new_idx = hunk.lines.iter().rposition(|line| !matches!(line, DiffLine::Removed(_)));
    for (line_idx, line) in hunk.lines.iter().enumerate() {
        let (marker, text) = match line {
            DiffLine::Context(text) => (' ', text),
            DiffLine::Added(text) => ('+', text),
            DiffLine::Removed(text) => ('-', text),
        };
        let _ = writeln!(patch, "{marker}{text}");
        let old_ends = hunk.old_missing_newline && last_old_idx == Some(line_idx);
        let new_ends = hunk.new_missing_newline && last_new_idx == Some(line_idx);
        if old_ends || new_ends {
            patch.push_str("\\ No newline at end of file\n");
        }
    }
}

/// Returns `prefix` + `path` quoted as git quotes unusual paths (`core.quotePath`): in double
/// quotes with C escapes and octal bytes, when it has control characters, `"`, `\` or bytes
/// outside ASCII; as is otherwise.
fn quote(prefix: &str, path: &str) -> String {
    let needs_quotes =
        path.bytes().any(|byte| !(0x20..0x7f).contains(&byte) || byte == b'"' || byte == b'\\');
    if !needs_quotes {
        return format!("{prefix}{path}");
    }
    let mut quoted = String::from("\"");
    quoted.push_str(prefix);
    for byte in path.bytes() {
        match byte {
            b'"' => quoted.push_str("\\\""),
            b'\\' => quoted.push_str("\\\\"),
            b'\t' => quoted.push_str("\\t"),
            b'\n' => quoted.push_str("\\n"),
            0x20..0x7f => quoted.push(char::from(byte)),
            _ => {
                let _ = write!(quoted, "\\{byte:03o}");
            }
        }
    }
    quoted.push('"');
    quoted
}
