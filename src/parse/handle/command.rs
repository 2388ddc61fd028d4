//! Echoed command lines in front of a run: `PS C:\> handle64 -accepteula C:\src\obj\` (a pasted console),
//! `C:\tools>handle.exe -s -p lsass.exe` (cmd), or a bare `handle -s -p 768` written by a collection
//! script. handle.exe's own output never says which `-p` filter or search name it ran with; the echoed
//! command does (formats reference §2.2, §3: the dotnet-docker-lock-issue sample interleaves prompts).

/// What an echoed handle.exe command line says about the run that follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandEcho<'a> {
    /// `-p <name-prefix|pid>`.
    pub process_filter: Option<&'a str>,
    /// `-s`.
    pub summary: bool,
    /// `-a`.
    pub all_types: bool,
    /// `-c <handle>`: a close, not a listing.
    pub close: bool,
    /// The search name, when one was given.
    pub search: Option<&'a str>,
}

/// What a run keeps of the command line echoed before it: owned, since the run outlives the line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Echoed {
    /// `-p <name-prefix|pid>`.
    pub process_filter: Option<String>,
}

impl From<CommandEcho<'_>> for Echoed {
    fn from(echo: CommandEcho<'_>) -> Self {
        Self { process_filter: echo.process_filter.map(str::to_owned) }
    }
}

/// Program names that are handle.exe (lowercased, without the directory).
const PROGRAMS: [&str; 6] = ["handle", "handle.exe", "handle64", "handle64.exe", "handle64a.exe", "nthandle.exe"];

/// Switches that take a value.
const WITH_VALUE: [&str; 2] = ["p", "c"];

/// Strips a console prompt: `PS C:\dir> ` (PowerShell) or `C:\dir>` (cmd).
fn strip_prompt(line: &str) -> &str {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("PS ") {
        if let Some(gt) = rest.find("> ") {
            return rest[gt + 2..].trim_start();
        }
    }
    let bytes = line.as_bytes();
    if bytes.len() > 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'\\' {
        if let Some(gt) = line.find('>') {
            return line[gt + 1..].trim_start();
        }
    }
    line
}

/// Splits a command line into words, honouring double quotes (without unescaping), up to a pipe or a
/// redirection.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (word, next) = if let Some(quoted) = rest.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if word == "|" || word.starts_with('>') || word.starts_with("2>") || word.starts_with("1>") {
            break;
        }
        out.push(word);
        rest = next.trim_start();
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// Reads an echoed command line that runs handle.exe.
pub fn command_echo(line: &str) -> Option<CommandEcho<'_>> {
    let command = strip_prompt(line);
    let prompted = command.len() != line.trim().len();
    let command = command.strip_prefix("& ").unwrap_or(command);
    let words = words(command);
    let (program, args) = words.split_first()?;
    let base = program.rsplit(['\\', '/']).next().unwrap_or(program);
    let lower = base.to_ascii_lowercase();
    if !PROGRAMS.contains(&lower.as_str()) {
        return None;
    }
    // Without a prompt, a capitalised bare `Handle` starts an English sentence, not a command.
    let typed = prompted
        || lower.rsplit_once('.').is_some_and(|(_, ext)| ext == "exe")
        || base.len() != program.len()
        || lower == base;
    if !typed {
        return None;
    }
    let mut echo = CommandEcho::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let switch = arg.strip_prefix('-').or_else(|| arg.strip_prefix('/')).map(str::to_ascii_lowercase);
        match switch.as_deref() {
            Some(s) if WITH_VALUE.contains(&s) => {
                let value = args.next().copied();
                if s == "p" {
                    echo.process_filter = value;
                } else {
                    echo.close = true;
                }
            }
            Some("s") => echo.summary = true,
            Some("a") => echo.all_types = true,
            Some(_) => {}
            None => echo.search = echo.search.or(Some(arg)),
        }
    }
    Some(echo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powershell_prompt_with_search_name() {
        let echo = command_echo(r"PS C:\> handle64 -accepteula C:\src\obj\").unwrap();
        assert_eq!(echo.search, Some(r"C:\src\obj\"));
        assert_eq!(echo.process_filter, None);
        assert!(!echo.summary);
    }

    #[test]
    fn cmd_prompt_with_summary_and_filter() {
        let echo = command_echo(r"C:\tools>handle.exe -accepteula -s -p lsass.exe > out.txt").unwrap();
        assert!(echo.summary);
        assert_eq!(echo.process_filter, Some("lsass.exe"));
        assert_eq!(echo.search, None);
    }

    #[test]
    fn bare_command_with_slash_switches_and_quotes() {
        let echo = command_echo(r#""C:\Program Files\Sysinternals\handle64.exe" /accepteula -a -p 768"#).unwrap();
        assert!(echo.all_types);
        assert_eq!(echo.process_filter, Some("768"));
        let echo = command_echo(r#"& "C:\x\handle.exe" -a | Out-File -Append Handle_Start_.txt"#).unwrap();
        assert!(echo.all_types);
        assert_eq!(echo.search, None);
    }

    #[test]
    fn close_command() {
        assert!(command_echo("handle -c D04 -p 5996 -y").unwrap().close);
    }

    #[test]
    fn other_commands_are_not_echoes() {
        assert_eq!(command_echo("PS C:\\> Get-Date"), None);
        assert_eq!(command_echo("dir"), None);
        assert_eq!(command_echo(""), None);
        assert_eq!(command_echo("Handle type summary:"), None);
        assert_eq!(command_echo("Handle closed."), None);
        assert!(command_echo("Handle.exe -s").is_some());
    }
}
