//! Just enough of the POSIX shell's word splitting to find the `omk` command lines in the job
//! templates' scripts and the docs' code blocks, as the shell would pass them to omk.

/// A simple command found in a script: its words after expansion, and the script's line it
/// starts on, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) line: String,
    pub(crate) words: Vec<String>,
}

/// What an expansion whose value the caller does not know becomes: one word.
pub(crate) const UNKNOWN: &str = "VALUE";

/// Returns every simple command of `script` whose program is `program`, including those inside
/// command substitutions; `vars` gives the value of `$NAME` (else [`UNKNOWN`]).
pub(crate) fn commands_of(
    script: &str,
    program: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    let mut pending = vec![script.to_owned()];
    while let Some(source) = pending.pop() {
        let tokens = tokenize(&source, vars, &mut pending)?;
        let mut words: Vec<(String, String)> = Vec::new();
        for token in tokens.into_iter().chain([Token::Operator]) {
            match token {
                Token::Word { text, line } => words.push((text, line)),
                Token::Operator => {
                    if let Some(command) = simple_command(&words, program) {
                        found.push(command);
                    }
                    words.clear();
                }
            }
        }
    }
    Ok(found)
}

enum Token {
    /// A word after quote removal and expansion, with the source line it is on.
    Word { text: String, line: String },
    /// `|`, `||`, `&&`, `;`, `&`, `(`, `)` or a newline: the end of a simple command.
    Operator,
}

/// Shell keywords that may come before a command's first word.
const KEYWORDS: &[&str] = &["if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"];

fn simple_command(words: &[(String, String)], program: &str) -> Option<Found> {
    let mut rest = words;
    while let Some(((first, _), tail)) = rest.split_first() {
        if KEYWORDS.contains(&first.as_str()) || is_assignment(first) {
            rest = tail;
        } else {
            break;
        }
    }
    let ((first, line), _) = rest.split_first()?;
    (first == program).then(|| Found {
        line: line.clone(),
        words: rest.iter().map(|(word, _)| word.clone()).collect(),
    })
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Splits `source` into words and operators; the bodies of command substitutions go to
/// `nested`, here-documents are skipped, and redirections are dropped with their targets.
fn tokenize(
    source: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    nested: &mut Vec<String>,
) -> anyhow::Result<Vec<Token>> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut word: Option<String> = None;
    let mut skip_next_word = false;
    let mut heredocs: Vec<String> = Vec::new();
    let mut idx = 0;
    let line_at = |idx: usize| -> String {
        let start = chars[..idx].iter().rposition(|&c| c == '\n').map_or(0, |it| it + 1);
        let end = chars[idx..].iter().position(|&c| c == '\n').map_or(chars.len(), |it| idx + it);
        chars[start..end].iter().collect::<String>().trim().to_owned()
    };
    let finish = |word: &mut Option<String>, skip: &mut bool, tokens: &mut Vec<Token>, at| {
        if let Some(text) = word.take() {
            if *skip {
                *skip = false;
            } else {
                tokens.push(Token::Word { text, line: line_at(at) });
            }
        }
    };
    while idx < chars.len() {
        let c = chars[idx];
        match c {
            ' ' | '\t' => finish(&mut word, &mut skip_next_word, &mut tokens, idx),
            '\n' => {
                finish(&mut word, &mut skip_next_word, &mut tokens, idx);
                tokens.push(Token::Operator);
                for delimiter in heredocs.drain(..) {
                    idx = skip_heredoc(&chars, idx + 1, &delimiter)?;
                }
            }
            '#' if word.is_none() => {
                while idx + 1 < chars.len() && chars[idx + 1] != '\n' {
                    idx += 1;
                }
            }
            '\\' => {
                if chars.get(idx + 1) == Some(&'\n') {
                    idx += 1;
                } else if let Some(&next) = chars.get(idx + 1) {
                    word.get_or_insert_with(String::new).push(next);
                    idx += 1;
                }
            }
            '\'' => {
                let end = find(&chars, idx + 1, '\'')?;
                word.get_or_insert_with(String::new).extend(&chars[idx + 1..end]);
                idx = end;
            }
            '"' => {
                let text = word.get_or_insert_with(String::new);
                idx = double_quoted(&chars, idx + 1, text, vars, nested)?;
            }
            '$' => {
                let text = word.get_or_insert_with(String::new);
                idx = expansion(&chars, idx, text, vars, nested)?;
            }
            '|' | '&' | ';' | '(' | ')' => {
                finish(&mut word, &mut skip_next_word, &mut tokens, idx);
                tokens.push(Token::Operator);
            }
            '<' | '>' => {
                // `2>`: the digits are the redirected descriptor, not a word.
                if word.as_deref().is_some_and(|it| it.chars().all(|c| c.is_ascii_digit())) {
                    word = None;
                }
                finish(&mut word, &mut skip_next_word, &mut tokens, idx);
                if c == '<' && chars.get(idx + 1) == Some(&'<') {
                    idx = heredoc_delimiter(&chars, idx + 2, &mut heredocs);
                } else {
                    while matches!(chars.get(idx + 1), Some('>' | '&' | '|')) {
                        idx += 1;
                    }
                    skip_next_word = true;
                }
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
        idx += 1;
    }
    finish(&mut word, &mut skip_next_word, &mut tokens, chars.len().saturating_sub(1));
    Ok(tokens)
}

/// Returns the index of the first `wanted` at or after `from`.
fn find(chars: &[char], from: usize, wanted: char) -> anyhow::Result<usize> {
    chars[from..]
        .iter()
        .position(|&c| c == wanted)
        .map(|it| from + it)
        .ok_or_else(|| anyhow::anyhow!("unterminated {wanted}"))
}

/// Reads a double-quoted string's body from `from` into `text`; returns the closing quote's
/// index.
fn double_quoted(
    chars: &[char],
    from: usize,
    text: &mut String,
    vars: &dyn Fn(&str) -> Option<String>,
    nested: &mut Vec<String>,
) -> anyhow::Result<usize> {
    let mut idx = from;
    while idx < chars.len() {
        match chars[idx] {
            '"' => return Ok(idx),
            '\\' if matches!(chars.get(idx + 1), Some('"' | '\\' | '$' | '`')) => {
                text.push(chars[idx + 1]);
                idx += 1;
            }
            '$' => idx = expansion(chars, idx, text, vars, nested)?,
            c => text.push(c),
        }
        idx += 1;
    }
    anyhow::bail!("unterminated \"")
}

/// Expands the `$` at `at` into `text`; returns the index of its last character.
fn expansion(
    chars: &[char],
    at: usize,
    text: &mut String,
    vars: &dyn Fn(&str) -> Option<String>,
    nested: &mut Vec<String>,
) -> anyhow::Result<usize> {
    match chars.get(at + 1) {
        Some('(') => {
            let end = closing_paren(chars, at + 2)?;
            nested.push(chars[at + 2..end].iter().collect());
            text.push_str(UNKNOWN);
            Ok(end)
        }
        Some('{') => {
            let end = find(chars, at + 2, '}')?;
            let inner: String = chars[at + 2..end].iter().collect();
            let name: String =
                inner.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            text.push_str(&vars(&name).unwrap_or_else(|| UNKNOWN.to_owned()));
            Ok(end)
        }
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let name: String = chars[at + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            text.push_str(&vars(&name).unwrap_or_else(|| UNKNOWN.to_owned()));
            Ok(at + name.chars().count())
        }
        Some('?' | '$' | '!' | '#' | '@' | '*' | '0'..='9') => {
            text.push_str(UNKNOWN);
            Ok(at + 1)
        }
        _ => {
            text.push('$');
            Ok(at)
        }
    }
}

/// Returns the index of the `)` that closes a command substitution whose body starts at
/// `from`, skipping quoted text and nested parentheses.
fn closing_paren(chars: &[char], from: usize) -> anyhow::Result<usize> {
    let mut depth = 1;
    let mut idx = from;
    while idx < chars.len() {
        match chars[idx] {
            '\'' => idx = find(chars, idx + 1, '\'')?,
            '"' => {
                idx += 1;
                while idx < chars.len() && chars[idx] != '"' {
                    idx += if chars[idx] == '\\' { 2 } else { 1 };
                }
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(idx);
                }
            }
            _ => {}
        }
        idx += 1;
    }
    anyhow::bail!("unterminated $(")
}

/// Reads a here-document's delimiter word after `<<` (or `<<-`); returns the index of its last
/// character.
fn heredoc_delimiter(chars: &[char], from: usize, heredocs: &mut Vec<String>) -> usize {
    let mut idx = from;
    if chars.get(idx) == Some(&'-') {
        idx += 1;
    }
    while chars.get(idx) == Some(&' ') {
        idx += 1;
    }
    let mut delimiter = String::new();
    while let Some(&c) = chars.get(idx) {
        if c.is_whitespace() || ";|&<>()".contains(c) {
            break;
        }
        if c != '\'' && c != '"' {
            delimiter.push(c);
        }
        idx += 1;
    }
    heredocs.push(delimiter);
    idx - 1
}

/// Returns the index of the newline that ends a here-document's delimiter line, the body
/// starting at `from`.
fn skip_heredoc(chars: &[char], from: usize, delimiter: &str) -> anyhow::Result<usize> {
    let mut start = from;
    while start < chars.len() {
        let end =
            chars[start..].iter().position(|&c| c == '\n').map_or(chars.len(), |it| start + it);
        let line: String = chars[start..end].iter().collect();
        if line.trim_start_matches('\t') == delimiter {
            return Ok(end.min(chars.len().saturating_sub(1)));
        }
        start = end + 1;
    }
    anyhow::bail!("here-document without its delimiter {delimiter}")
}

#[test]
fn words_are_split_as_the_shell_splits_them() -> anyhow::Result<()> {
    let vars = |name: &str| (name == "BUDGET").then(|| "50m".to_owned());
    let script = "set +e\nomk run --budget-time \"$BUDGET\" 'a b' \"c $X\" # note\n\
                  goal=$(omk list --json | jq -r '.goals[-1].goal_id // empty')\n\
                  cat > f <<EOF\nomk not a command\nEOF\n\
                  if [ -n \"$K\" ]; then omk push \"$goal\" --sign-key \"$key\" 2>/dev/null; fi\n\
                  omk proof \\\n  verify x || status=1\necho \"omk no\"\n";
    let found: Vec<Vec<String>> =
        commands_of(script, "omk", &vars)?.into_iter().map(|it| it.words).collect();
    let expected: Vec<Vec<&str>> = vec![
        vec!["omk", "run", "--budget-time", "50m", "a b", "c VALUE"],
        vec!["omk", "push", "VALUE", "--sign-key", "VALUE"],
        vec!["omk", "proof", "verify", "x"],
        vec!["omk", "list", "--json"],
    ];
    assert_eq!(found, expected);
    Ok(())
}
