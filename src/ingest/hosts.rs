//! Which host each input file belongs to.
//!
//! Users keep archives in many layouts: everything flat in one folder, `HOST/KIND/` (a folder per tool
//! under a host folder), `KIND/HOST_*` (a folder per tool, the host in the file names), `ROOT/HOST/KIND/`
//! (a fleet), or files whose host is named only by the event records inside them. The host of a file is
//! decided from, strongest first:
//!
//! 1. `--host`;
//! 2. what the records say (the event `Computer`);
//! 3. a host-like part of the file name (`WEB01_poolmon.log`, `poolmon-SRV-SQL-03-20240311.log`);
//! 4. the folder structure: the nearest folder below the walked root whose name is not a kind of evidence
//!    (`poolmon`, `handles`, `evtx`, `logs`, `collect*`, dates, ...), else the walked folder's own name when it
//!    looks like a computer name. A weak name (`h`, `pm`, `logs2`) under a folder that is a host is a folder per
//!    tool (see [`settle_tool_folders`]).
//!
//! Files are grouped by their folder (item 4); a group whose files name exactly one host by records or file
//! names gives that host to its files that name none (the demo's `poolmon.log` beside the `System.evtx` of
//! `SRV-APP01`). A host folder whose folder and file names carry one label (`SRV01/handle/SRV01_handle.log`)
//! while its event log names another computer (`SRV-APP01`) is one machine under its computer name. Names are compared case-insensitively on their first DNS label, so `WEB01`, `web01` and
//! `WEB01.contoso.com` are one host. Each host gets one diagnostic that says where its name came from.

use crate::parse::archive::folder_name;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::model::{Diagnostic, Severity};
use crate::parse::Parsed;

/// Folder and file-name words that name a kind of evidence, a tool or a collection, never a host.
const KIND_WORDS: &[&str] = &[
    "poolmon",
    "pool",
    "pools",
    "poolsnap",
    "poolsnaps",
    "poolmonviz",
    "poolmonscript",
    "memsnap",
    "handle",
    "handles",
    "handleexe",
    "nthandle",
    "event",
    "events",
    "evtx",
    "eventlog",
    "eventlogs",
    "evt",
    "log",
    "logs",
    "perfmon",
    "perf",
    "blg",
    "wpr",
    "wpa",
    "etl",
    "xperf",
    "tss",
    "sdp",
    "pssdp",
    "data",
    "output",
    "outputs",
    "out",
    "archive",
    "archives",
    "export",
    "exports",
    "system",
    "application",
    "security",
    "setup",
    "snapshot",
    "snapshots",
    "snap",
    "snaps",
    "dump",
    "dumps",
    "memory",
    "kd",
    "windbg",
    "debugger",
    "drivers",
    "driver",
    "inventory",
    "driverquery",
    "fltmc",
    "counters",
    "relog",
    "summary",
    "summaries",
    "raw",
    "files",
    "results",
    "traces",
    "trace",
    "capture",
    "captures",
    "sysinternals",
    "tools",
    "windows",
    "winevt",
    "share",
    "incoming",
    "upload",
    "uploads",
    "tmp",
    "temp",
];

/// File-name words that are not hosts either: processes, handle.exe modes, formats, architectures and the
/// usual words of collection scripts.
const NOT_HOST_WORDS: &[&str] = &[
    "lsass",
    "svchost",
    "services",
    "csrss",
    "winlogon",
    "explorer",
    "w3wp",
    "sqlservr",
    "smss",
    "wininit",
    "spoolsv",
    "msmpeng",
    "dwm",
    "all",
    "type",
    "types",
    "by",
    "account",
    "accounts",
    "user",
    "users",
    "token",
    "tokens",
    "paged",
    "nonpaged",
    "nonp",
    "commit",
    "run",
    "loop",
    "before",
    "after",
    "baseline",
    "start",
    "end",
    "final",
    "pre",
    "post",
    "hang",
    "crash",
    "leak",
    "leaks",
    "full",
    "copy",
    "new",
    "old",
    "test",
    "txt",
    "csv",
    "tsv",
    "xml",
    "json",
    "x64",
    "x86",
    "amd64",
    "arm64",
    "utf8",
    "utf16",
    "utf16le",
    "utf16be",
    "unicode",
    "ansi",
    "part",
    "iter",
    "pass",
    "save",
    "saved",
    "as",
    "the",
    "and",
    "of",
    "for",
    "from",
    "to",
    "with",
    "first",
    "last",
    "latest",
    "daily",
    "hourly",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "sorted",
    "rendered",
    "renderedxml",
    "wevtutil",
    "get",
    "winevent",
    "viewer",
    "eventviewer",
    "tag",
    "tags",
    "driver",
    "drivers",
    "report",
    "host",
    "hosts",
    "server",
    "computer",
    "machine",
    "node",
    "utc",
    "local",
    "gmt",
    "cest",
    "cet",
    "pst",
    "est",
];

/// Prefixes of folder names that name a collection or a case, never a host (`collect_20240311`, `case-123`).
const COLLECTION_PREFIXES: &[&str] = &["collect", "capture", "case", "incident", "ticket", "sr"];

/// What a file's path says about its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathClues {
    /// Files with the same key sit in the same host-or-root folder (see the module doc, item 4).
    pub group: String,
    /// The nearest folder below the walked root that could be a host, when there is one.
    pub folder: Option<String>,
    /// The walked folder's own name, when it looks like a computer name (used when nothing else names a host).
    pub root: Option<String>,
    /// A host-like part of the file name.
    pub file_name: Option<String>,
    /// Whether `folder` is a weak host name (`h`, `pm`, `logs2`, `webserver`: not a computer name on its own),
    /// which may be a tool folder under the real host folder (see [`settle_tool_folders`]).
    pub weak_folder: bool,
    /// Folders above `folder` that could be hosts, nearest first, as (group key, name, whether the name looks
    /// like a computer name on its own).
    pub outer_folders: Vec<(String, String, bool)>,
}

/// Reads the host clues of `file`, found by walking `root` (`None` for a file given on the command line).
pub fn path_clues(root: Option<&Path>, file: &Path) -> PathClues {
    let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).and_then(|n| host_in_file_name(&n));
    let Some(root) = root else {
        // A file named on the command line: its folder groups it with files named from the same folder.
        let parent = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let root_name =
            parent.file_name().map(|n| folder_name(&n.to_string_lossy()).to_owned()).filter(|n| is_host_like_strict(n));
        return PathClues {
            group: parent.display().to_string(),
            folder: None,
            root: root_name,
            file_name,
            weak_folder: false,
            outer_folders: Vec::new(),
        };
    };
    let rel = file.strip_prefix(root).unwrap_or(file);
    let folders: Vec<String> = rel
        .parent()
        .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    // The nearest folder that can be a host, walking up from the file (a zip's inside is a folder of its name).
    let host_folder = folders.iter().enumerate().rev().find(|(_, name)| is_host_folder(folder_name(name)));
    let group_of = |i: usize| root.join(folders[..=i].iter().collect::<PathBuf>()).display().to_string();
    let (group, folder, weak_folder, outer_folders) = match host_folder {
        Some((i, name)) => {
            let name = folder_name(name);
            let outer = (0..i)
                .rev()
                .map(|j| (j, folder_name(&folders[j])))
                .filter(|(_, n)| is_host_folder(n))
                .map(|(j, n)| (group_of(j), n.to_owned(), is_host_like_strict(n)))
                .collect();
            (group_of(i), Some(name.to_owned()), !is_host_like_strict(name), outer)
        }
        None => (root.display().to_string(), None, false, Vec::new()),
    };
    let root_name = absolute_name(root).filter(|n| is_host_like_strict(n));
    PathClues { group, folder, root: root_name, file_name, weak_folder, outer_folders }
}

/// Moves files out of tool folders that only look like hosts: a weak folder name (`h`, `pm`, `logs2`) under a
/// folder that is a host is a folder per tool, whatever its name (`case 4711/SRV-APP01/{pool,logs,h}/`). The
/// outer folder is a host when other files sit in it or in its kind folders (`SRV-APP01/pool/`), or when it
/// looks like a computer name and the inner name looks like a tool's (at most 3 characters, or only known
/// non-host words: `pm`, `logs2`, `data-old`). A weak name under a folder that is not a host stays a host
/// (`SITE1/webserver/`, `SITE1/mailhost/` are two hosts).
pub fn settle_tool_folders<'a>(clues: impl IntoIterator<Item = &'a mut PathClues>) {
    let mut clues: Vec<&mut PathClues> = clues.into_iter().collect();
    let hosts: BTreeSet<String> = clues.iter().filter(|c| c.folder.is_some()).map(|c| c.group.clone()).collect();
    for c in &mut clues {
        let Some(folder) = c.folder.as_deref().filter(|_| c.weak_folder) else { continue };
        let tool_like = is_tool_like(folder);
        let outer = c.outer_folders.iter().find(|(group, _, strict)| hosts.contains(group) || (*strict && tool_like));
        if let Some((group, name, strict)) = outer.cloned() {
            c.group = group;
            c.folder = Some(name);
            c.weak_folder = !strict;
            c.outer_folders.clear();
        }
    }
}

/// A folder name that reads as a tool's or a copy's rather than a machine's: at most 3 characters (`h`, `pm`,
/// `hd`), or only known non-host words, with or without numbers (`logs2`, `data-old`, `run1`).
fn is_tool_like(name: &str) -> bool {
    let name = name.trim();
    name.len() <= 3
        || name
            .split(['-', '_', '.', ' '])
            .filter(|w| !w.is_empty())
            .all(|w| is_not_host_word(w) || w.chars().all(|c| c.is_ascii_digit()) || is_kind_word(w))
}

/// The last component of a path, resolving `.` and `..` (`poolscope analyze .` inside `WEB01/`).
fn absolute_name(path: &Path) -> Option<String> {
    let name = path.file_name().map(|n| folder_name(&n.to_string_lossy()).to_owned());
    name.or_else(|| {
        let canonical = std::fs::canonicalize(path).ok()?;
        canonical.file_name().map(|n| n.to_string_lossy().into_owned())
    })
}

/// Whether a word names a kind of evidence, a tool or a collection (case-insensitive): a kind word, alone or
/// followed by a separator (`poolmon_old`) or, for the longer words, a number (`poolmon2`); or a collection prefix
/// (`collect_20240311`, `Collection-2`, `case-1234`).
fn is_kind_word(word: &str) -> bool {
    let lower = word.trim().to_ascii_lowercase();
    let separated = |rest: &str| rest.is_empty() || rest.starts_with(['_', '-', '.', ' ']);
    let kind = KIND_WORDS.iter().any(|k| {
        lower
            .strip_prefix(k)
            .is_some_and(|rest| separated(rest) || (k.len() >= 5 && rest.chars().all(|c| c.is_ascii_digit())))
    });
    let collection = COLLECTION_PREFIXES.iter().any(|p| {
        lower.strip_prefix(p).is_some_and(|rest| {
            separated(rest) || rest.chars().all(|c| c.is_ascii_digit()) || matches!(*p, "collect" | "capture")
        })
    });
    kind || collection
}

/// Whether a folder name can be a host: not a kind of evidence, not a date or stamp, a plausible DNS name.
fn is_host_folder(name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() || name.len() > 63 || name.starts_with('.') || is_kind_word(name) {
        return false;
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return false;
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    // Dates and stamps (`2024-03-11`, `20240311_1014`) and bare numbers are collection folders.
    if crate::parse::timestamp::stamp_in_file_name(name).is_some() || !name.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    true
}

/// Whether a name looks like a computer name on its own (for a walked folder's own name and file-name parts):
/// a NetBIOS-length name with a digit or in capitals (`WEB01`, `srv-sql-03`, `CONTOSODC`), not a known word.
fn is_host_like_strict(name: &str) -> bool {
    let short = short_name(name);
    if short.len() < 3 || short.len() > 15 || !is_host_folder(name) {
        return false;
    }
    if !short.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    if !short.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return false;
    }
    let letters: String = short.chars().filter(char::is_ascii_alphabetic).collect();
    let has_digit = short.chars().any(|c| c.is_ascii_digit());
    let capitals = letters.len() >= 3 && letters.chars().all(|c| c.is_ascii_uppercase());
    if !(has_digit || capitals) {
        return false;
    }
    // Every hyphen-separated word a known non-host word (with or without digits: `run1`, `v5`) is not a host.
    !short.split('-').all(|w| is_not_host_word(w) || w.chars().all(|c| c.is_ascii_digit()))
}

/// A known non-host word, also with a number after it (`run1`, `part02`, `v5`).
fn is_not_host_word(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    let known = |w: &str| NOT_HOST_WORDS.contains(&w) || KIND_WORDS.contains(&w);
    known(&lower) || (stem.len() < lower.len() && (stem.len() <= 1 || known(stem)))
}

/// A host-like part of a file name (`WEB01_poolmon.log` gives `WEB01`, `poolmon-SRV-SQL-03-20240311.log` gives
/// `SRV-SQL-03`), or `None`.
pub fn host_in_file_name(name: &str) -> Option<String> {
    // Without its extension(s); `.` also separates words (`WEB01.poolmon.log`).
    let mut candidates = Vec::new();
    for chunk in name.split(['_', '.', ' ', '@', '(', ')', '[', ']', '+', ',']) {
        // Runs of hyphen-separated words that are not kind words or stamps: `SRV-SQL-03` in `poolmon-SRV-SQL-03-...`.
        let mut run: Vec<&str> = Vec::new();
        for word in chunk.split('-').chain(std::iter::once("")) {
            let stop = word.is_empty()
                || is_kind_word(word)
                || (run.is_empty() && !word.starts_with(|c: char| c.is_ascii_alphabetic()))
                || (word.len() >= 6 && word.chars().all(|c| c.is_ascii_digit()))
                || crate::parse::timestamp::stamp_in_file_name(word).is_some();
            if stop {
                if !run.is_empty() {
                    candidates.push(run.join("-"));
                    run.clear();
                }
            } else {
                run.push(word);
            }
        }
    }
    // Trailing all-digit words belong to stamps or pids (`WEB01-1234` is a pid more often than a host).
    let trimmed = candidates.into_iter().map(|c| {
        let mut words: Vec<&str> = c.split('-').collect();
        while words.len() > 1 && words.last().is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()) && w.len() >= 4) {
            words.pop();
        }
        words.join("-")
    });
    trimmed.into_iter().find(|c| is_host_like_strict(c))
}

/// The first DNS label of a name (`WEB01.contoso.com` gives `WEB01`); an IP address stays whole.
pub fn short_name(name: &str) -> &str {
    let name = name.trim();
    if name.split('.').all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_digit())) {
        return name;
    }
    name.split('.').next().unwrap_or(name)
}

/// The key hosts are compared by: the first DNS label, lowercase.
fn host_key(name: &str) -> String {
    short_name(name).to_ascii_lowercase()
}

/// Where a host's name was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Records,
    FileName,
    Folder,
    Root,
}

impl Source {
    fn words(self) -> &'static str {
        match self {
            Source::Records => "event records",
            Source::FileName => "file names",
            Source::Folder => "folder names",
            Source::Root => "the walked folder's name",
        }
    }
}

/// The host decided for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHost {
    /// The host for the file's snapshots and for its events that name no computer.
    pub host: String,
    /// When the file's events name several computers (a forwarded-events log), each event keeps its own: the
    /// host for each computer key (see [`FileHost::event_host`]); empty otherwise.
    pub event_hosts: BTreeMap<String, String>,
}

impl FileHost {
    /// The host of one of the file's events.
    pub fn event_host(&self, computer: Option<&str>) -> &str {
        computer.and_then(|c| self.event_hosts.get(&host_key(c))).map_or(self.host.as_str(), String::as_str)
    }
}

/// What is known about one host while deciding.
#[derive(Debug, Default)]
struct HostNotes {
    /// Spellings seen, by source (the display name is the first spelling of the strongest source).
    spellings: BTreeMap<Source, BTreeSet<String>>,
    /// Files that got the host because their group named it.
    joined: usize,
    /// Folder names that disagreed with the host the records gave their group.
    overridden_folders: BTreeSet<String>,
    /// Files in all (those that joined included).
    files: usize,
    /// Other names the host's own folder and file names give it (see [`group_aliases`]).
    aliases: BTreeSet<String>,
}

/// Decides the host of every file. `files[i]` is the clues of file `i` and its parsed records; the result is
/// aligned with it, plus one diagnostic per host (and one when no host could be told).
pub fn decide(files: &[(PathClues, Parsed)], forced: Option<&str>) -> (Vec<FileHost>, Vec<Diagnostic>) {
    if let Some(host) = forced {
        let hosts = files.iter().map(|_| FileHost { host: host.to_owned(), event_hosts: BTreeMap::new() }).collect();
        return (hosts, Vec::new());
    }
    let mut notes: BTreeMap<String, HostNotes> = BTreeMap::new();
    let mut claims: Vec<Option<(String, Source)>> = Vec::with_capacity(files.len());
    let mut per_event: Vec<BTreeSet<String>> = vec![BTreeSet::new(); files.len()];
    for (i, (clues, parsed)) in files.iter().enumerate() {
        let computers: BTreeSet<String> = parsed
            .events
            .iter()
            .filter_map(|e| e.computer.as_deref())
            .chain(parsed.perf_series.iter().filter_map(|s| s.host.as_deref()))
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("localhost") && *c != "-")
            .map(str::to_owned)
            .collect();
        let keys: BTreeSet<String> = computers.iter().map(|c| host_key(c)).collect();
        if keys.len() > 1 {
            per_event[i].clone_from(&keys);
            for c in &computers {
                let n = notes.entry(host_key(c)).or_default();
                n.spellings.entry(Source::Records).or_default().insert(short_name(c).to_owned());
            }
        }
        let claim = if keys.len() == 1 {
            computers.iter().next().map(|c| (c.clone(), Source::Records))
        } else {
            clues.file_name.clone().map(|n| (n, Source::FileName))
        };
        claims.push(claim);
    }
    // Per group: the hosts its files claim.
    let mut group_claims: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for ((clues, _), claim) in files.iter().zip(&claims) {
        let set = group_claims.entry(clues.group.as_str()).or_default();
        if let Some((name, _)) = claim {
            set.insert(host_key(name));
        }
    }
    let aliases = group_aliases(files, &claims);
    let mut hosts: Vec<Option<String>> = Vec::with_capacity(files.len());
    for ((clues, _), claim) in files.iter().zip(&claims) {
        let key = match claim {
            Some((name, source)) => {
                let mut key = host_key(name);
                let aliased = aliases.get(&(clues.group.as_str(), key.clone()));
                if let Some(real) = aliased {
                    key.clone_from(real);
                }
                let n = notes.entry(key.clone()).or_default();
                let spellings =
                    if aliased.is_some() { &mut n.aliases } else { n.spellings.entry(*source).or_default() };
                spellings.insert(short_name(name).to_owned());
                if let Some(folder) = &clues.folder {
                    if host_key(folder) == key {
                        n.spellings.entry(Source::Folder).or_default().insert(short_name(folder).to_owned());
                    } else if *source == Source::Records && !n.aliases.iter().any(|a| host_key(a) == host_key(folder)) {
                        n.overridden_folders.insert(folder.clone());
                    }
                }
                Some(key)
            }
            None => {
                let claimed = &group_claims[clues.group.as_str()];
                let claimed: BTreeSet<String> = claimed
                    .iter()
                    .map(|k| aliases.get(&(clues.group.as_str(), k.clone())).unwrap_or(k).clone())
                    .collect();
                if claimed.len() == 1 {
                    let key = claimed.iter().next().cloned();
                    if let Some(k) = &key {
                        notes.entry(k.clone()).or_default().joined += 1;
                    }
                    key
                } else if let Some(folder) = &clues.folder {
                    let key = host_key(folder);
                    let n = notes.entry(key.clone()).or_default();
                    n.spellings.entry(Source::Folder).or_default().insert(short_name(folder).to_owned());
                    Some(key)
                } else if let Some(root) = clues.root.as_ref().filter(|_| claimed.is_empty()) {
                    let key = host_key(root);
                    let n = notes.entry(key.clone()).or_default();
                    n.spellings.entry(Source::Root).or_default().insert(short_name(root).to_owned());
                    Some(key)
                } else {
                    None
                }
            }
        };
        if let Some(k) = &key {
            notes.entry(k.clone()).or_default().files += 1;
        }
        hosts.push(key);
    }
    let mut diagnostics = Vec::new();
    // Files no clue placed: with exactly one host in the run they belong to it (poolmon files given beside that
    // host's event log); else they are `unknown`, said once.
    // A file whose records each name their own host (a forwarded-events log, a perfmon log of several machines)
    // is placed by them.
    let unplaced = hosts.iter().zip(&per_event).filter(|(h, p)| h.is_none() && p.is_empty()).count();
    let named: Vec<String> = notes.keys().cloned().collect();
    let fallback = if named.len() == 1 { Some(named[0].clone()) } else { None };
    if unplaced > 0 {
        match &fallback {
            Some(k) => {
                let n = notes.entry(k.clone()).or_default();
                n.joined += unplaced;
                n.files += unplaced;
            }
            // Nothing names any host: one machine's files, told apart from nothing, so an Info (shown with -v and
            // in the report) rather than a warning on every single-file command.
            None => diagnostics.push(Diagnostic::for_file(
                "",
                if named.is_empty() { Severity::Info } else { Severity::Warning },
                if named.is_empty() {
                    format!(
                        "no input names its host ({}: no event Computer, no host in file or folder \
                         names): analysed as host \"unknown\"; pass --host NAME to name it",
                        files_word(unplaced)
                    )
                } else {
                    format!(
                        "{} name no host and sit beside files of several hosts ({}): analysed as host \
                         \"unknown\"; put each host's files in a folder named after it, or pass --host",
                        files_word(unplaced),
                        named.iter().map(|k| display_name(&notes[k], k)).collect::<Vec<_>>().join(", ")
                    )
                },
            )),
        }
    }
    let display: BTreeMap<String, String> = notes.iter().map(|(k, n)| (k.clone(), display_name(n, k))).collect();
    for (key, n) in &notes {
        diagnostics.push(host_diagnostic(n, key));
    }
    let out = hosts
        .into_iter()
        .zip(per_event)
        .map(|(key, per_event)| {
            let host = key.or_else(|| fallback.clone()).map_or_else(|| "unknown".to_owned(), |k| display[&k].clone());
            let event_hosts = per_event.into_iter().map(|k| (k.clone(), display[&k].clone())).collect();
            FileHost { host, event_hosts }
        })
        .collect();
    (out, diagnostics)
}

/// Names that are another name of the host the records give, per group: `(group, alias key) → records key`.
///
/// A host folder `SRV01/` whose files are named `SRV01_handle-*.log` and whose event log says the computer is
/// `SRV-APP01` holds one machine under two names (the admin's label and the computer name). That is assumed only
/// when the group's records name exactly one computer, its file names exactly one other name, and the folder
/// (or the walked folder) carries that same name; a flat folder whose file names and records disagree stays two
/// hosts, since nothing says they are one machine.
fn group_aliases<'a>(
    files: &'a [(PathClues, Parsed)],
    claims: &[Option<(String, Source)>],
) -> BTreeMap<(&'a str, String), String> {
    let mut by_group: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for ((clues, _), claim) in files.iter().zip(claims) {
        let (records, names, folders) = by_group.entry(clues.group.as_str()).or_default();
        match claim {
            Some((name, Source::Records)) => {
                records.insert(host_key(name));
            }
            Some((name, _)) => {
                names.insert(host_key(name));
            }
            None => {}
        }
        folders.extend(clues.folder.iter().chain(&clues.root).map(|f| host_key(f)));
    }
    let mut aliases = BTreeMap::new();
    for (group, (records, names, folders)) in by_group {
        if let ([real], [alias]) = (&records.iter().collect::<Vec<_>>()[..], &names.iter().collect::<Vec<_>>()[..]) {
            if real != alias && folders.contains(*alias) {
                aliases.insert((group, (*alias).clone()), (*real).clone());
            }
        }
    }
    aliases
}

/// The name a host is shown by: the first spelling from the strongest source.
fn display_name(notes: &HostNotes, key: &str) -> String {
    notes.spellings.values().find_map(|s| s.iter().next().cloned()).unwrap_or_else(|| key.to_owned())
}

/// "1 input file", "3 input files".
fn files_word(n: usize) -> String {
    if n == 1 {
        "1 input file".to_owned()
    } else {
        format!("{n} input files")
    }
}

/// One line per host: where its name came from and what joined it.
fn host_diagnostic(notes: &HostNotes, key: &str) -> Diagnostic {
    let name = display_name(notes, key);
    let mut parts: Vec<String> = notes
        .spellings
        .iter()
        .map(|(source, spellings)| {
            let list: Vec<&str> = spellings.iter().map(String::as_str).collect();
            format!("{} ({})", source.words(), list.join(", "))
        })
        .collect();
    if notes.joined > 0 {
        parts.push(format!("{} that name no host joined it", files_word(notes.joined)));
    }
    if !notes.aliases.is_empty() {
        let list: Vec<&str> = notes.aliases.iter().map(String::as_str).collect();
        parts.push(format!(
            "its folder and file names call it {} (one machine's files: its event records name it {name})",
            list.join(", ")
        ));
    }
    let mut message = format!("host {name}: {}; named by {}", files_word(notes.files), parts.join("; "));
    let severity = if notes.overridden_folders.is_empty() {
        Severity::Info
    } else {
        let folders: Vec<&str> = notes.overridden_folders.iter().map(String::as_str).collect();
        message.push_str(&format!(
            "; folder {} holds event records of {name}, so its files are analysed as {name}",
            folders.join(", ")
        ));
        Severity::Warning
    };
    Diagnostic::for_file("", severity, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parts_of_file_names() {
        let cases = [
            ("WEB01_poolmon.log", Some("WEB01")),
            ("poolmon-WEB01-20240311-1014.log", Some("WEB01")),
            ("poolmon-SRV-SQL-03-20240311.log", Some("SRV-SQL-03")),
            ("web01.poolmon.log", Some("web01")),
            ("CONTOSODC_System.evtx", Some("CONTOSODC")),
            ("handle-lsass-20200518T201918Z.txt", None),
            ("handle-s-20200518T201848Z.txt", None),
            ("poolmon-20200522T223555Z-1234.txt", None),
            ("poolmon_2020-05-22_22-35-55.log", None),
            ("poolmon.2020-22-05-22-35-55.log", None),
            ("System.evtx", None),
            ("poolmon.log", None),
            ("x64_n_g_mapped_driver.log", None),
            ("utf16le_bom_crlf.log", None),
            ("v4.22_summary_s.txt", None),
            ("lsass_20240311-1014.txt", None),
            ("run1_poolmon.log", None),
            ("TSS_poolmon.txt", None),
        ];
        for (name, want) in cases {
            assert_eq!(host_in_file_name(name).as_deref(), want, "{name}");
        }
    }

    #[test]
    fn kind_folders_are_never_hosts() {
        for name in [
            "poolmon",
            "Handles",
            "evtx",
            "EventLogs",
            "logs",
            "perfmon",
            "wpr",
            "collect_20240311",
            "2024-03-11",
            "20240311",
        ] {
            assert!(!is_host_folder(name), "{name}");
        }
        for name in ["WEB01", "web-prod-3", "SRV-APP01.contoso.local", "db"] {
            assert!(is_host_folder(name), "{name}");
        }
    }

    #[test]
    fn names_compare_by_first_label() {
        assert_eq!(host_key("WEB01.contoso.com"), host_key("web01"));
        assert_eq!(short_name("10.0.0.5"), "10.0.0.5");
    }
}
