//! How failures reach the user: `error:` / `caused by:` / `hint:` lines on stderr,
//! and an exit code per class of failure (the table in docs/exit-codes.md).

use std::process::ExitCode;

use regpull::ErrorClass;

use crate::cli::hints;

/// Exit codes by failure class. Scripts may retry on `RateLimited` and `Network`
/// only. Usage is 2, as clap already uses for argument errors.
pub const EXIT_CODES: &[(ErrorClass, u8)] = &[
    (ErrorClass::Internal, 1),
    (ErrorClass::Usage, 2),
    (ErrorClass::Auth, 3),
    (ErrorClass::NotFound, 4),
    (ErrorClass::RateLimited, 5),
    (ErrorClass::Network, 6),
    (ErrorClass::Verification, 7),
    (ErrorClass::LocalIo, 8),
];

pub fn exit_code(class: ErrorClass) -> u8 {
    EXIT_CODES
        .iter()
        .find(|(c, _)| *c == class)
        .map_or(1, |(_, code)| *code)
}

/// Prints the error with its causes and hint, and returns its exit code.
pub fn report(err: &regpull::Error) -> ExitCode {
    eprintln!("{}", render(err));
    ExitCode::from(exit_code(err.class()))
}

pub fn render(err: &regpull::Error) -> String {
    render_parts(err, hints::for_error(err))
}

/// `error:`, one `caused by:` per cause, and the hint.
pub fn render_parts(err: &(dyn std::error::Error + 'static), hint: Option<String>) -> String {
    let mut lines = chain(err).into_iter();
    let mut out = format!("error: {}", lines.next().unwrap_or_default());
    for c in lines {
        out.push_str(&format!("\ncaused by: {c}"));
    }
    if let Some(hint) = hint {
        out.push_str(&format!("\nhint: {hint}"));
    }
    out
}

/// The error's message and its causes', outermost first.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_pinned() {
        let codes: Vec<u8> = EXIT_CODES.iter().map(|(_, c)| *c).collect();
        assert_eq!(codes, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(exit_code(ErrorClass::Usage), 2);
    }

    #[test]
    fn renders_causes_and_hint() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "no space");
        let err = regpull::Error::Layout {
            path: "/x".into(),
            source: regpull::layout::LayoutError::Write {
                path: "/x/index.json".into(),
                source: io,
            },
        };
        let text = render(&err);
        assert!(text.starts_with("error: "), "{text}");
        assert!(
            text.contains("caused by: cannot write /x/index.json"),
            "{text}"
        );
        assert!(text.contains("caused by: no space"), "{text}");
        assert!(
            text.contains("hint: the disk holding the layout is full"),
            "{text}"
        );
        assert_eq!(exit_code(err.class()), 8);
    }
}
