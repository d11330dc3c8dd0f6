//! The classes of failure that decide exit codes (docs/exit-codes.md).
//!
//! A leaf: it imports nothing from the crate, so every module can say which class
//! its errors are without depending on the library's top `Error`, which gathers
//! them all.

/// Broad kinds of failure; `cli::report` maps each to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The input (arguments, reference, platform, file) is wrong: fix it, don't retry.
    Usage,
    /// Credentials were missing, wrong or refused.
    Auth,
    /// The repository, tag or digest does not exist.
    NotFound,
    /// The registry asked us to slow down.
    RateLimited,
    /// The network or the registry failed in a way that may pass.
    Network,
    /// Content did not match its digest or size.
    Verification,
    /// Reading or writing local files failed (including a full disk).
    LocalIo,
    /// A bug in regpull.
    Internal,
}

impl ErrorClass {
    /// The class as JSON output names it (`not_found`, `rate_limited`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Usage => "usage",
            ErrorClass::Auth => "auth",
            ErrorClass::NotFound => "not_found",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Network => "network",
            ErrorClass::Verification => "verification",
            ErrorClass::LocalIo => "local_io",
            ErrorClass::Internal => "internal",
        }
    }

    /// Whether running the same command again later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorClass::RateLimited | ErrorClass::Network)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorClass::*;

    #[test]
    fn only_rate_limits_and_network_failures_are_transient() {
        let all = [
            Usage,
            Auth,
            NotFound,
            RateLimited,
            Network,
            Verification,
            LocalIo,
            Internal,
        ];
        let transient: Vec<_> = all.into_iter().filter(|c| c.is_transient()).collect();
        assert_eq!(transient, [RateLimited, Network]);
    }

    #[test]
    fn json_names_are_snake_case() {
        assert_eq!(NotFound.name(), "not_found");
        assert_eq!(RateLimited.name(), "rate_limited");
        assert_eq!(LocalIo.name(), "local_io");
    }
}
