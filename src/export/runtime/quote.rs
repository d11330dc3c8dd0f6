//! Shell quoting for the runtime scripts. Pure.
//!
//! The image config's strings go into shell scripts that run inside the
//! container, so every one is quoted: an Entrypoint of `it's` or `$(reboot)`
//! must reach the program as those bytes, not as shell syntax.

/// Quotes a word for POSIX sh: `'...'`, with `'\''` for each quote. Control
/// characters (a newline in an argument) stay literal inside the quotes,
/// which every POSIX shell reads back as they were; bash's `$'...'` form
/// would not survive dash or busybox's sh.
pub fn sh_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Escapes a string for the inside of a double-quoted sh string: `\`, `"`,
/// `` ` `` and `$` get a backslash (what Apptainer's `shell.Escape` does).
pub fn double_quoted_inner(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Words as `"a" "b c"`: each double-quoted and escaped, space-separated.
pub fn double_quoted_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", double_quoted_inner(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Wraps any string in single quotes for sh (`'` becomes `'"'"'`).
pub fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r#"'"'"'"#))
}

/// Whether `name` may be a shell variable name.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What sh makes of `script`, run for real.
    fn sh(script: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn words_reach_sh_as_they_were() {
        for w in [
            "plain",
            "a b",
            "it's",
            "$(false) `x` \\ \"q\"",
            "tab\there",
            "new\nline",
            "",
            "é",
        ] {
            assert_eq!(sh(&format!("printf '%s' {}", sh_word(w))), w, "{w:?}");
            let inner = double_quoted_inner(w);
            assert_eq!(sh(&format!("printf '%s' \"{inner}\"")), w, "{w:?}");
            assert_eq!(sh(&format!("printf '%s' {}", single_quoted(w))), w, "{w:?}");
        }
    }

    #[test]
    fn variable_names() {
        assert!(is_var_name("PATH") && is_var_name("_x1"));
        assert!(!is_var_name("1x") && !is_var_name("a-b") && !is_var_name(""));
    }
}
