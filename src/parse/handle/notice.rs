//! Non-data output: errors, the EULA on first run, empty results and `-c` closes (formats reference
//! §2.2e and §2.3). Each becomes a diagnostic; none is a crash or an empty success.

/// A recognised non-data line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice<'a> {
    /// `No matching handles found.` (also printed by unelevated runs that could not see the handles).
    NoMatches,
    /// `Initialization error:` (v3.5), with whatever follows on the line.
    InitializationError(&'a str),
    /// `Make sure that you are an administrator.`, the hint after an initialization error.
    AdministratorHint,
    /// `Error obtaining handle information: Access denied` (or `Insufficient system resources`).
    HandleInformationError(&'a str),
    /// `Error loading driver: ...` (v3.5).
    DriverError(&'a str),
    /// `Handle requires Windows XP or higher.`
    NeedsWindowsXp,
    /// `Unable to extract x64 image. Run Handle from a writeable directory.` (the 32-bit wrapper).
    ExtractError,
    /// `This is the first run of this program. You must accept EULA to continue.`
    EulaFirstRun,
    /// `Use -accepteula to accept EULA.` or v3.5's `You can also use the /accepteula ...`.
    EulaSwitchHint,
    /// The console prompt `Accept Eula (Y/N)?`, with the answer when it was echoed on the line.
    EulaPrompt(Option<bool>),
    /// The first line of the licence text (`SYSINTERNALS SOFTWARE LICENSE TERMS`).
    LicenseStart,
    /// `Press any key to exit...`
    PressAnyKey,
    /// `Close handle %X in %s (PID %d)? (y/n)` of `-c`.
    ClosePrompt,
    /// `Handle closed.`, `Handle close aborted.` or `Error closing handle: ...`.
    CloseResult,
}

impl Notice<'_> {
    /// Whether the notice means the run failed to produce data.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Notice::InitializationError(_)
                | Notice::HandleInformationError(_)
                | Notice::DriverError(_)
                | Notice::NeedsWindowsXp
                | Notice::ExtractError
                | Notice::EulaFirstRun
        )
    }
}

/// Recognises a non-data line of handle.exe.
pub fn notice(line: &str) -> Option<Notice<'_>> {
    let line = line.trim();
    let after = |prefix: &str| line.strip_prefix(prefix).map(str::trim);
    if line == "No matching handles found." {
        return Some(Notice::NoMatches);
    }
    if let Some(rest) = after("Initialization error") {
        return Some(Notice::InitializationError(rest.trim_start_matches(':').trim()));
    }
    if line.starts_with("Make sure that you are an administrator") {
        return Some(Notice::AdministratorHint);
    }
    if let Some(rest) = after("Error obtaining handle information") {
        return Some(Notice::HandleInformationError(rest.trim_start_matches(':').trim()));
    }
    if let Some(rest) = after("Error loading driver") {
        return Some(Notice::DriverError(rest.trim_start_matches(':').trim()));
    }
    if line.starts_with("Handle requires Windows XP") {
        return Some(Notice::NeedsWindowsXp);
    }
    if line.starts_with("Unable to extract x64 image") {
        return Some(Notice::ExtractError);
    }
    if line.starts_with("This is the first run of this program") {
        return Some(Notice::EulaFirstRun);
    }
    if line.starts_with("Use -accepteula to accept EULA") || line.starts_with("You can also use the /accepteula") {
        return Some(Notice::EulaSwitchHint);
    }
    if let Some(answer) = after("Accept Eula (Y/N)?") {
        let answer = match answer.chars().next() {
            Some('y' | 'Y') => Some(true),
            Some('n' | 'N') => Some(false),
            _ => None,
        };
        return Some(Notice::EulaPrompt(answer));
    }
    if line.contains("SOFTWARE LICENSE TERMS") {
        return Some(Notice::LicenseStart);
    }
    if line.starts_with("Press any key to exit") {
        return Some(Notice::PressAnyKey);
    }
    if line.starts_with("Close handle ") && line.contains("(PID ") {
        return Some(Notice::ClosePrompt);
    }
    if line == "Handle closed." || line == "Handle close aborted." || line.starts_with("Error closing handle") {
        return Some(Notice::CloseResult);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_of_section_2_3() {
        assert_eq!(notice("No matching handles found."), Some(Notice::NoMatches));
        assert_eq!(notice("Initialization error:"), Some(Notice::InitializationError("")));
        assert_eq!(notice("Initialization error: x"), Some(Notice::InitializationError("x")));
        assert_eq!(notice("Make sure that you are an administrator."), Some(Notice::AdministratorHint));
        assert_eq!(
            notice("Error obtaining handle information: Access denied"),
            Some(Notice::HandleInformationError("Access denied"))
        );
        assert_eq!(notice("Error loading driver: Access is denied."), Some(Notice::DriverError("Access is denied.")));
        assert_eq!(notice("Handle requires Windows XP or higher."), Some(Notice::NeedsWindowsXp));
        assert_eq!(
            notice("Unable to extract x64 image. Run Handle from a writeable directory."),
            Some(Notice::ExtractError)
        );
    }

    #[test]
    fn eula_notices() {
        assert_eq!(
            notice("This is the first run of this program. You must accept EULA to continue."),
            Some(Notice::EulaFirstRun)
        );
        assert_eq!(notice("Use -accepteula to accept EULA."), Some(Notice::EulaSwitchHint));
        assert_eq!(
            notice("You can also use the /accepteula command-line switch to accept the EULA."),
            Some(Notice::EulaSwitchHint)
        );
        assert_eq!(notice("Accept Eula (Y/N)?"), Some(Notice::EulaPrompt(None)));
        assert_eq!(notice("Accept Eula (Y/N)?y"), Some(Notice::EulaPrompt(Some(true))));
        assert_eq!(notice("Accept Eula (Y/N)? N"), Some(Notice::EulaPrompt(Some(false))));
        assert_eq!(notice("SYSINTERNALS SOFTWARE LICENSE TERMS"), Some(Notice::LicenseStart));
        assert_eq!(notice("\tPress any key to exit..."), Some(Notice::PressAnyKey));
    }

    #[test]
    fn close_notices() {
        assert_eq!(notice("Close handle D04 in WINWORD.EXE (PID 5996)? (y/n) "), Some(Notice::ClosePrompt));
        assert_eq!(notice("Handle closed."), Some(Notice::CloseResult));
        assert_eq!(notice("Handle close aborted."), Some(Notice::CloseResult));
        assert_eq!(notice("Error closing handle: The handle is invalid."), Some(Notice::CloseResult));
        assert_eq!(notice("   C4: File  (RW-)   C:\\x"), None);
    }

    #[test]
    fn failures() {
        assert!(Notice::ExtractError.is_failure());
        assert!(Notice::EulaFirstRun.is_failure());
        assert!(!Notice::NoMatches.is_failure());
        assert!(!Notice::EulaPrompt(Some(true)).is_failure());
    }
}
