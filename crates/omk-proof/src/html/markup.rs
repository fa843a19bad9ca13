//! The markup helpers of the HTML report: escaping, and the small formatters every section
//! shares (durations, short ids, counts).

use std::fmt::Write as _;

/// Returns `text` with the five characters HTML gives meaning to (`&`, `<`, `>`, `"`, `'`)
/// written as character references, so that no text of a proof, a log or an artifact can open
/// a tag, end an attribute or start an entity; control characters other than tab and newline
/// become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_escaped(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped as [`escape`] does.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// Returns a duration in milliseconds the way a person reads it: `850 ms`, `4.2 s`, `3 min 5 s`,
/// `2 h 10 min`.
pub(crate) fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{}.{} s", ms / 1000, (ms % 1000) / 100),
        60_000..=3_599_999 => {
            let secs = ms / 1000;
            format!("{} min {} s", secs / 60, secs % 60)
        }
        _ => {
            let mins = ms / 60_000;
            format!("{} h {} min", mins / 60, mins % 60)
        }
    }
}

/// Returns `count` with its noun, plural unless it is one.
pub(crate) fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Returns `n` with a thin space between groups of three digits: `1 234 567`.
pub(crate) fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (idx, c) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// Returns a one-cell badge: `<span class="badge CLASS">TEXT</span>`, the text escaped.
pub(crate) fn badge(class: &str, text: &str) -> String {
    let mut out = String::new();
    let _ = write!(out, "<span class=\"badge {class}\">");
    push_escaped(&mut out, text);
    out.push_str("</span>");
    out
}

/// Returns `<code>TEXT</code>`, the text escaped.
pub(crate) fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

/// Returns an element id made of `prefix` and `name`: letters, digits, `-` and `_` are kept,
/// every other character becomes `_` followed by its code point, so two names never share one.
pub(crate) fn anchor(prefix: &str, name: &str) -> String {
    let mut out = String::from(prefix);
    out.push('-');
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}", u32::from(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        let text = "</script><img src=x onerror=\"alert('x')\">&amp;\u{7}";
        assert_eq!(
            escape(text),
            "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;amp;\u{fffd}"
        );
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(4_250), "4.2 s");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(duration(7_800_000), "2 h 10 min");
    }

    #[test]
    fn anchors_are_unique_per_name() {
        assert_eq!(anchor("gate", "cargo test"), "gate-cargo_20test");
        assert_ne!(anchor("f", "a_b"), anchor("f", "a/b"));
        assert_eq!(number(1_234_567), "1\u{2009}234\u{2009}567");
    }
}
