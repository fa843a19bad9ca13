//! `--slices N`: a prompt's items dealt into N tasks.
//!
//! The items are the prompt's list lines (`- `, `* `, `+ `, `1. `, `1) `), each with the lines
//! indented under it; the text before the first item is the header, and text after the list
//! (not indented under an item, after a blank line) is the footer; both go to every slice.
//! A prompt without a list has its paragraphs as items and no header.

use omk_events::TaskSpec;

use crate::error::Error;

/// The most slices `--slices` may ask for.
pub(crate) const MAX_SLICES: u32 = 16;

/// Returns the tasks `slice-1` … `slice-N` of `prompt` split into `n` slices, each retried
/// `retries` times.
///
/// The items are dealt in order into `n` contiguous groups whose sizes differ by at most one,
/// the larger first (7 items in 3 slices are 3, 2 and 2). Each slice's prompt is the header,
/// `Your part of this goal (slice i of N):`, its items as `- item` lines, then the footer. The
/// tasks have no dependencies and no write sets. An `n` of 0 or above [`MAX_SLICES`], or fewer
/// items than `n`, is [`Error::Plan`] from `--slices`.
pub(crate) fn slices_from_prompt(
    prompt: &str,
    n: u32,
    retries: u32,
) -> Result<Vec<TaskSpec>, Error> {
    let problem = |message: String| Error::Plan {
        source_name: "from --slices".to_owned(),
        problems: vec![message],
    };
    if n == 0 {
        return Err(problem(format!(
            "--slices 0 asks for no slices; ask for 1 to {MAX_SLICES} slices"
        )));
    }
    if n > MAX_SLICES {
        return Err(problem(format!(
            "--slices {n} asks for more than {MAX_SLICES} slices; ask for at most {MAX_SLICES}, \
             or write a task plan (--plan FILE)"
        )));
    }
    let outline = Outline::parse(prompt);
    let n_slices = n as usize;
    if outline.items.len() < n_slices {
        let n_items = outline.items.len();
        let items = if n_items == 1 { "item" } else { "items" };
        return Err(problem(format!(
            "the prompt has {n_items} {items} but --slices asks for {n}; list at least {n} \
             items, one per line starting with \"- \", or write a task plan (--plan FILE)"
        )));
    }
    let (per_slice, n_larger) = (outline.items.len() / n_slices, outline.items.len() % n_slices);
    let mut items = outline.items.iter();
    let tasks = (1..=n_slices)
        .map(|slice| {
            let size = per_slice + usize::from(slice <= n_larger);
            let mut part = format!("Your part of this goal (slice {slice} of {n}):");
            for item in items.by_ref().take(size) {
                for (line_idx, line) in item.lines().enumerate() {
                    part.push_str(match (line_idx, line.is_empty()) {
                        (0, _) => "\n- ",
                        (_, true) => "\n",
                        (_, false) => "\n  ",
                    });
                    part.push_str(line);
                }
            }
            let parts = [outline.header.as_str(), part.as_str(), outline.footer.as_str()];
            let text = parts.iter().filter(|it| !it.is_empty()).copied().collect::<Vec<_>>();
            TaskSpec {
                retries,
                ..TaskSpec::new(
                    format!("slice-{slice}"),
                    text.join(
                        "

",
                    ),
                )
            }
        })
        .collect();
    Ok(tasks)
}

/// A prompt taken apart into its items and the text every slice shares.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outline {
    /// The text before the first item.
    header: String,
    /// The items, each without its marker, with its continuation lines dedented.
    items: Vec<String>,
    /// The text after the list.
    footer: String,
}

impl Outline {
    /// Takes `prompt` apart.
    fn parse(prompt: &str) -> Self {
        let lines: Vec<&str> = prompt.lines().map(str::trim_end).collect();
        let Some(first) = lines.iter().position(|it| list_marker(it).is_some()) else {
            return Self { items: paragraphs(&lines), ..Self::default() };
        };
        let base_indent = indent(lines[first]);
        let mut items: Vec<Vec<String>> = Vec::new();
        let mut footer: Vec<&str> = Vec::new();
        // The content column of the item that takes continuation lines, if one does.
        let mut open_item: Option<usize> = None;
        let mut after_blank = false;
        for line in &lines[first..] {
            if line.is_empty() {
                after_blank = true;
                if let Some(item) = items.last_mut().filter(|_| open_item.is_some()) {
                    item.push(String::new());
                }
                continue;
            }
            let line_indent = indent(line);
            let marker = list_marker(line);
            match (marker, open_item) {
                (Some(marker_len), open) if open.is_none() || line_indent <= base_indent => {
                    items.push(vec![line[line_indent + marker_len..].to_owned()]);
                    open_item = Some(line_indent + marker_len);
                }
                (_, Some(content)) if line_indent > base_indent || !after_blank => {
                    let item = items.last_mut().expect("an open item is the last item");
                    item.push(line[line_indent.min(content)..].to_owned());
                }
                _ => {
                    if after_blank && !footer.is_empty() {
                        footer.push("");
                    }
                    footer.push(line);
                    open_item = None;
                }
            }
            after_blank = false;
        }
        let items = items
            .into_iter()
            .map(|lines| lines.join("\n").trim_end().to_owned())
            .filter(|it| !it.trim().is_empty())
            .collect();
        Self {
            header: lines[..first].join("\n").trim().to_owned(),
            items,
            footer: footer.join("\n"),
        }
    }
}

/// Returns the paragraphs of `lines`: runs of non-blank lines.
fn paragraphs(lines: &[&str]) -> Vec<String> {
    lines
        .split(|it| it.trim().is_empty())
        .filter(|it| !it.is_empty())
        .map(|it| it.join("\n").trim().to_owned())
        .collect()
}

/// Returns the length of the list marker that starts `line` after its indentation, with the
/// space after it: 2 for `- `, 3 for `1. `; `None` when the line is not a list item.
fn list_marker(line: &str) -> Option<usize> {
    let rest = &line[indent(line)..];
    let digits = rest.find(|it: char| !it.is_ascii_digit()).unwrap_or(rest.len());
    let marker = if digits == 0 {
        rest.chars().next().filter(|it| matches!(it, '-' | '*' | '+')).map(char::len_utf8)?
    } else if digits <= 9 && matches!(rest[digits..].chars().next(), Some('.' | ')')) {
        digits + 1
    } else {
        return None;
    };
    rest[marker..].starts_with([' ', '\t']).then_some(marker + 1)
}

/// Returns the length of the spaces and tabs that start `line`, in bytes.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}
