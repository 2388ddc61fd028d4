//! pooltag.txt and the built-in notes on kernel-object tags.
//!
//! pooltag.txt is Microsoft's list of pool tags (peers reference §2.2): one `<PoolTag> - <binary-name> -
//! <Description>` line per tag, `rem` and `//` comments, blank lines. Real copies bend that grammar, and the
//! parser here accepts what they do:
//!
//! - tags with spaces (`Key `, `Dh 0`, `BIG `) and shorter tags written without padding (`PX1 - ndproxy.sys`);
//! - wildcard tags: `?` stands for one character (`Afd?`, `CM??`), `*` for the rest (`Acp*`, `Bu*  `);
//! - binaries such as `<unknown>`, `<nvlddmkm.sys>`, `nt!se`; lines without a binary (`ATmp - AppTag mount point`);
//! - a missing space before the description (`nt!cm        -internal registry ...`), indented descriptions
//!   (`afd.sys      -     Afd EA buffer`) and descriptions that contain ` - ` themselves;
//! - duplicate tags (`Fatv` twice): every description is kept, in file order;
//! - stray lines such as `       <unknown>`: skipped with a warning diagnostic (path and line);
//! - UTF-16LE copies (decoded by [`crate::parse::text::decode`]).
//!
//! The file is Microsoft's and is not shipped with poolscope: the user points `--pooltag` at the copy in the
//! Debugging Tools' `triage` folder. What poolscope ships is [`BUILTIN_TAGS`], a short table written for this
//! project about the kernel-object tags that matter when correlating pool growth with handle counts
//! (ANALYSIS.md §5). Its `object_type` column is the one editable tag-to-object-type map, read through
//! [`object_type_for_tag`] and [`tag_for_object_type`].

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{Diagnostic, Severity};

/// Length of a pool tag in characters: the kernel keeps 4 bytes and poolmon prints them with `%4s`
/// (formats reference §1.3), so shorter tags end in spaces (`Key `, `Io  `).
pub const TAG_LEN: usize = 4;

/// Pads a tag with trailing spaces to [`TAG_LEN`] characters (`Key` becomes `Key `). Longer text is returned
/// unchanged (it is not a pool tag, and lookups will not match it exactly).
pub fn pad_tag(tag: &str) -> String {
    let len = tag.chars().count();
    let mut out = String::with_capacity(tag.len() + TAG_LEN);
    out.push_str(tag);
    for _ in len..TAG_LEN {
        out.push(' ');
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Built-in notes
// ---------------------------------------------------------------------------------------------------------

/// A built-in note on one pool tag (written for poolscope; not taken from pooltag.txt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinTag {
    /// The tag, padded to 4 characters.
    pub tag: &'static str,
    /// The component that allocates it (`nt!se` is the kernel's security component).
    pub binary: &'static str,
    /// One sentence on what the allocations are and what their growth usually means.
    pub description: &'static str,
    /// The object type name handle.exe prints for handles to these objects, when the tag is the body of a
    /// kernel object type; the correlation engine compares the tag's outstanding allocations with the
    /// handle counts of that type (ANALYSIS.md §5).
    pub object_type: Option<&'static str>,
}

const fn note(tag: &'static str, binary: &'static str, description: &'static str) -> BuiltinTag {
    BuiltinTag { tag, binary, description, object_type: None }
}

const fn object(
    tag: &'static str,
    binary: &'static str,
    object_type: &'static str,
    description: &'static str,
) -> BuiltinTag {
    BuiltinTag { tag, binary, description, object_type: Some(object_type) }
}

/// The built-in notes, sorted by tag. This is the one place to edit which tag is which kernel object type.
pub const BUILTIN_TAGS: &[BuiltinTag] = &[
    object(
        "ALPC",
        "nt!alpc",
        "ALPC Port",
        "ALPC port objects: the kernel side of local RPC connections; growth usually means a client that \
         connects and never closes.",
    ),
    note(
        "CM25",
        "nt!cm",
        "Configuration manager (registry) internal allocations; with CM31 one of the largest registry tags, \
         it grows with loaded hives and cached registry data.",
    ),
    note(
        "CM31",
        "nt!cm",
        "Configuration manager (registry) internal allocations, mostly hive storage in paged pool; steady \
         growth points at hives being loaded (user profiles) and not unloaded.",
    ),
    object(
        "Even",
        "nt!ex",
        "Event",
        "Event objects (one per CreateEvent); a leak of event handles shows up here and in the Event \
         handle count of the process that holds them.",
    ),
    note(
        "FMfn",
        "fltmgr.sys",
        "Filter Manager file name cache entries (name cache nodes); large and growing when a file-system \
         filter (antivirus, backup, DLP) queries names of many files.",
    ),
    object(
        "File",
        "nt!io",
        "File",
        "File objects: one per open of a file, directory, device, pipe or socket; grows with File handles \
         nobody closes.",
    ),
    note(
        "Irp ",
        "nt!io",
        "I/O request packets; outstanding IRPs that keep growing mean requests a driver never completes.",
    ),
    object(
        "Job ",
        "nt!ps",
        "Job",
        "Job objects, which group processes for limits and accounting (containers, services, browsers).",
    ),
    object(
        "Key ",
        "nt!cm",
        "Key",
        "Registry key objects: one per open registry key; grows with Key handles left open.",
    ),
    note("MmSa", "nt!mm", "Memory manager subsection AVL tree nodes, used to find the subsections of mapped files."),
    note(
        "MmSt",
        "nt!mm",
        "Memory manager prototype page tables for mapped files and sections; grows with the amount of file \
         data mapped or cached, and shrinks under memory pressure.",
    ),
    object("Muta", "nt!ex", "Mutant", "Mutant (mutex) objects; grows with Mutant handles left open."),
    note(
        "NtFs",
        "ntfs.sys",
        "NTFS allocations made in StrucSup.c (stream and file control blocks and their names); grows with \
         the number of files NTFS keeps open or cached.",
    ),
    note(
        "Ntff",
        "ntfs.sys",
        "NTFS file control blocks (FCB_DATA), one per file NTFS has open or cached; grows with open files and \
         with the file-system cache's working set.",
    ),
    note("ObDi", "nt!ob", "Object manager directories (the \\BaseNamedObjects-style folders named objects live in)."),
    note(
        "ObNm",
        "nt!ob",
        "Object manager name buffers for named kernel objects; grows when named objects are created and \
         kept alive.",
    ),
    note(
        "ObSq",
        "nt!ob",
        "Object manager security descriptors captured while an object's security is queried (short-lived).",
    ),
    object(
        "Proc",
        "nt!ps",
        "Process",
        "Process objects (EPROCESS): live processes plus exited ones still referenced by a handle (zombie \
         processes); a count far above the running processes means someone keeps Process handles.",
    ),
    note("Se  ", "nt!se", "General security allocations of the kernel's security reference monitor."),
    note(
        "SeAt",
        "nt!se",
        "Security attributes attached to tokens (claims, capabilities); grows together with Toke when tokens \
         leak.",
    ),
    note("SeTl", "nt!se", "Token locks: one per token object, so it grows in step with Toke when tokens leak."),
    object(
        "Sect",
        "nt!mm",
        "Section",
        "Section objects (file mappings and shared memory); grows with Section handles left open.",
    ),
    object("Sema", "nt!ex", "Semaphore", "Semaphore objects; grows with Semaphore handles left open."),
    object(
        "Thre",
        "nt!ps",
        "Thread",
        "Thread objects (ETHREAD): live threads plus exited ones still referenced by a handle; grows with \
         Thread handles nobody closes.",
    ),
    object(
        "Toke",
        "nt!se",
        "Token",
        "Token objects: access tokens made at logon, for impersonation or by duplication; a steady climb \
         usually means a service or driver that keeps Token handles (often in lsass.exe) for an account \
         that logs on repeatedly.",
    ),
    note(
        "Vad ",
        "nt!mm",
        "Virtual address descriptors, one per reserved range of a process's address space; grows with \
         VirtualAlloc/MapViewOfFile calls never undone (or with many processes).",
    ),
];

/// The built-in note for a tag (padded to 4 characters before the lookup; case-sensitive, as tags are).
pub fn builtin(tag: &str) -> Option<&'static BuiltinTag> {
    let tag = pad_tag(tag);
    BUILTIN_TAGS.iter().find(|b| b.tag == tag)
}

/// The handle.exe object type name that a pool tag is the body of (`Toke` → `Token`, `Key` → `Key`), from
/// [`BUILTIN_TAGS`]. `None` when the tag is not a kernel object type poolscope correlates.
pub fn object_type_for_tag(tag: &str) -> Option<&'static str> {
    builtin(tag).and_then(|b| b.object_type)
}

/// Tags the kernel allocates for whoever asks it for an object, besides the object types of [`BUILTIN_TAGS`]:
/// object names and the security records every token carries. Their growth names no driver by itself (the
/// pool tag is the kernel's, the caller is anyone), so the verdict names the loaded third-party drivers and
/// minifilters instead (issue 13).
pub const KERNEL_ALLOCATED_FOR_CALLERS: &[&str] = &["ObNm", "ObDi", "SeAt", "SeTl", "Se  "];

/// Whether the kernel allocates the tag on a caller's behalf: a kernel object type (`Toke`, `Proc`, `Thre`,
/// `File`, `Even`, `Muta`, `Sema`, `Key `, `Sect`, `ALPC`, `Job `) or one of [`KERNEL_ALLOCATED_FOR_CALLERS`].
/// This is the one list of such tags.
pub fn allocated_for_callers(tag: &str) -> bool {
    let padded = pad_tag(tag);
    object_type_for_tag(&padded).is_some() || KERNEL_ALLOCATED_FOR_CALLERS.contains(&padded.as_str())
}

/// The reverse of [`object_type_for_tag`]: the pool tag of a handle.exe object type name (`Token` → `Toke`).
/// Matches the type name case-insensitively (handle.exe prints `Token`, CSV exports sometimes `token`).
pub fn tag_for_object_type(object_type: &str) -> Option<&'static str> {
    BUILTIN_TAGS.iter().find(|b| b.object_type.is_some_and(|t| t.eq_ignore_ascii_case(object_type))).map(|b| b.tag)
}

// ---------------------------------------------------------------------------------------------------------
// pooltag.txt
// ---------------------------------------------------------------------------------------------------------

/// One entry line of a pooltag.txt file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PooltagEntry {
    /// The tag or wildcard pattern as written, padded to 4 characters (`Key `, `Afd?`, `Acp*`).
    pub pattern: String,
    /// The binary column (`nt!se`, `afd.sys`, `<unknown>`); `None` when the line has no binary column.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub binary: Option<String>,
    /// The description, trimmed; may be empty and may contain ` - `.
    pub description: String,
    /// 1-based line number in the file.
    pub line: u64,
}

impl PooltagEntry {
    /// Whether the pattern contains a wildcard (`?` or `*`).
    pub fn is_wildcard(&self) -> bool {
        self.pattern.contains(['?', '*'])
    }

    /// Whether this entry describes the tag (padded to 4 characters first): equal for plain entries; for
    /// wildcard entries `?` matches one character and `*` the rest of the tag.
    pub fn matches(&self, tag: &str) -> bool {
        let tag = pad_tag(tag);
        if self.is_wildcard() {
            wildcard_matches(&self.pattern, &tag)
        } else {
            self.pattern == tag
        }
    }
}

/// Matches a pooltag.txt wildcard pattern against a padded tag. Spaces after a `*` are padding (`Bu*  `).
fn wildcard_matches(pattern: &str, tag: &str) -> bool {
    let pattern: Vec<char> =
        if pattern.contains('*') { pattern.trim_end_matches(' ').chars().collect() } else { pattern.chars().collect() };
    let tag: Vec<char> = tag.chars().collect();
    glob(&pattern, &tag)
}

/// Iterative glob with one backtrack point (the classic linear algorithm): `?` one char, `*` any run.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == '*')
}

/// How a pooltag.txt entry matched a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The entry names the tag itself.
    Exact,
    /// The entry is a wildcard pattern (`Afd?`, `Acp*`) that covers the tag.
    Wildcard,
}

/// A parsed pooltag.txt file, indexed for lookups.
#[derive(Debug, Clone, Default)]
pub struct PooltagFile {
    /// Path as given (shown next to each description).
    pub path: String,
    /// Every entry, in file order (duplicates kept).
    pub entries: Vec<PooltagEntry>,
    /// Entry indices of plain tags, by padded tag, in file order.
    exact: HashMap<String, Vec<usize>>,
    /// Entry indices of wildcard patterns, most specific first (more literal characters), then file order.
    wildcards: Vec<usize>,
}

impl PooltagFile {
    fn from_entries(path: String, entries: Vec<PooltagEntry>) -> Self {
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcards = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if e.is_wildcard() {
                wildcards.push(i);
            } else {
                exact.entry(e.pattern.clone()).or_default().push(i);
            }
        }
        let literal_chars = |i: &usize| entries[*i].pattern.chars().filter(|c| !matches!(c, '?' | '*' | ' ')).count();
        wildcards.sort_by(|a, b| literal_chars(b).cmp(&literal_chars(a)).then(a.cmp(b)));
        Self { path, entries, exact, wildcards }
    }

    /// Every entry that describes the tag: exact entries first (in file order, duplicates included), then
    /// wildcard entries (most specific pattern first, then file order). The tag is padded to 4 characters.
    pub fn lookup(&self, tag: &str) -> Vec<(MatchKind, &PooltagEntry)> {
        let tag = pad_tag(tag);
        let mut out: Vec<(MatchKind, &PooltagEntry)> = Vec::new();
        if let Some(indices) = self.exact.get(&tag) {
            out.extend(indices.iter().map(|&i| (MatchKind::Exact, &self.entries[i])));
        }
        out.extend(
            self.wildcards
                .iter()
                .map(|&i| &self.entries[i])
                .filter(|e| e.matches(&tag))
                .map(|e| (MatchKind::Wildcard, e)),
        );
        out
    }

    /// Entries whose pattern equals the tag when case is ignored but differs in case (`toke` → `Toke`):
    /// suggestions for a tag that has no match, since tags are case-sensitive.
    pub fn case_insensitive_matches(&self, tag: &str) -> Vec<&PooltagEntry> {
        let tag = pad_tag(tag);
        self.entries
            .iter()
            .filter(|e| !e.is_wildcard() && e.pattern != tag && e.pattern.to_lowercase() == tag.to_lowercase())
            .collect()
    }

    /// Number of distinct tags that have more than one entry.
    pub fn duplicate_tags(&self) -> usize {
        self.exact.values().filter(|v| v.len() > 1).count()
    }
}

/// Reads a pooltag.txt file from disk. Lines that are not entries become diagnostics; only an unreadable
/// file is an error.
pub fn load(path: &Path) -> crate::Result<(PooltagFile, Vec<Diagnostic>)> {
    let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
    Ok(parse(&bytes, &path.display().to_string()))
}

/// Parses pooltag.txt bytes (UTF-8, ANSI or UTF-16LE). Never panics.
pub fn parse(bytes: &[u8], path: &str) -> (PooltagFile, Vec<Diagnostic>) {
    let text = crate::parse::text::decode(bytes);
    parse_text(&text.text, path)
}

/// Parses decoded pooltag.txt text. Never panics; every line that is neither an entry, a comment nor blank
/// becomes a warning diagnostic with its line number.
pub fn parse_text(text: &str, path: &str) -> (PooltagFile, Vec<Diagnostic>) {
    let mut entries = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index as u64 + 1;
        let line = raw.trim_start_matches('\u{feff}').trim_end();
        if line.trim().is_empty() || comment_line(line) {
            continue;
        }
        match entry_line(line) {
            Ok((pattern, binary, description)) => {
                entries.push(PooltagEntry { pattern, binary, description, line: line_no });
            }
            Err(why) => diagnostics.push(Diagnostic::at_line(path, line_no, Severity::Warning, why)),
        }
    }
    let file = PooltagFile::from_entries(path.to_owned(), entries);
    if file.entries.is_empty() {
        diagnostics.push(Diagnostic::for_file(
            path,
            Severity::Error,
            "no pooltag entries found (expected lines like `Toke - nt!se - Token objects`)",
        ));
    } else if file.duplicate_tags() > 0 {
        diagnostics.push(Diagnostic::for_file(
            path,
            Severity::Info,
            format!(
                "{} tags have more than one entry; every description is kept, in file order",
                file.duplicate_tags()
            ),
        ));
    }
    (file, diagnostics)
}

/// A comment: `rem` (any case, alone or followed by a space: `REM NTFS Specific allocation tags`) or `//`.
fn comment_line(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("//") {
        return true;
    }
    let head: String = t.chars().take(4).collect();
    let lower = head.to_ascii_lowercase();
    lower == "rem" || (lower.starts_with("rem") && lower[3..].starts_with(char::is_whitespace))
}

/// An entry: `<tag field> - <binary field> - <description>`, or `<tag field> - <description>`.
/// Returns (padded pattern, binary, description) or why the line is not an entry.
fn entry_line(line: &str) -> Result<(String, Option<String>, String), String> {
    // Entries are not indented in real copies; an indented one (`   AfdA - afd.sys - ...`) is read without
    // its indentation, since a tag never starts with a blank.
    let line = line.trim_start();
    let (pattern, rest) = tag_field(line).ok_or_else(|| {
        format!(
            "line ignored: not `<tag> - <binary> - <description>` nor a comment: {:?}",
            line.chars().take(60).collect::<String>()
        )
    })?;
    let (binary, description) = binary_and_description(rest);
    if binary.is_none() && description.is_empty() {
        return Err(format!("line ignored: entry for tag {pattern:?} has neither a binary nor a description"));
    }
    Ok((pattern, binary, description))
}

/// The tag field and what follows its separating dash.
///
/// Normally the tag is the first four characters, followed by blanks and `-` (`Key  - nt!cm`, `Dh 0 - ...`).
/// Some lines write shorter tags unpadded (`PX1 - ndproxy.sys`, `Mdp -  netio.sys`) or drop the blank
/// (`Abcd- ...`): then the tag is the text before the first `-` among the first six characters.
fn tag_field(line: &str) -> Option<(String, &str)> {
    let mut chars = line.char_indices();
    let fourth_end = chars.nth(TAG_LEN - 1).map(|(i, c)| i + c.len_utf8());
    if let Some(end) = fourth_end {
        let (tag, rest) = line.split_at(end);
        if rest.starts_with(char::is_whitespace) && !tag.starts_with(char::is_whitespace) {
            if let Some(after) = rest.trim_start().strip_prefix('-') {
                return Some((tag.to_owned(), after));
            }
        }
    }
    let dash = line.char_indices().take(6).find(|&(i, c)| c == '-' && i > 0).map(|(i, _)| i)?;
    let tag = line[..dash].trim_end();
    let len = tag.chars().count();
    if len == 0 || len > TAG_LEN || tag.starts_with(char::is_whitespace) {
        return None;
    }
    Some((pad_tag(tag), &line[dash + 1..]))
}

/// Splits what follows the tag's dash into the binary and the description.
///
/// The binary ends at the first `-` that follows a blank (`nt!cm        -internal registry`), so hyphens
/// inside the binary name and ` - ` inside the description are kept. Binary names have no blanks; when the
/// text before that dash has one, or there is no second dash, the line has no binary column
/// (`ATmp - AppTag mount point`) unless the single field looks like a binary (`<unknown>`, `foo.sys`).
fn binary_and_description(rest: &str) -> (Option<String>, String) {
    let rest = rest.trim();
    let bytes = rest.as_bytes();
    let separator = (1..bytes.len()).find(|&i| bytes[i] == b'-' && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t'));
    if let Some(dash) = separator {
        let binary = rest[..dash].trim();
        if !binary.is_empty() && !binary.contains(char::is_whitespace) {
            return (Some(binary.to_owned()), rest[dash + 1..].trim().to_owned());
        }
        if binary.is_empty() {
            return (None, rest[dash + 1..].trim().to_owned());
        }
        return (None, rest.to_owned());
    }
    let looks_like_binary = !rest.contains(char::is_whitespace)
        && (rest.starts_with('<') || rest.contains('!') || rest.contains('.'))
        && !rest.is_empty();
    if looks_like_binary {
        (Some(rest.to_owned()), String::new())
    } else {
        (None, rest.to_owned())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Built-ins and pooltag.txt together
// ---------------------------------------------------------------------------------------------------------

/// Where a description came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSource {
    /// poolscope's own notes ([`BUILTIN_TAGS`]).
    BuiltIn,
    /// The user's pooltag.txt (`--pooltag`).
    Pooltag,
}

/// What is known about a tag from one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    /// The entry's tag or wildcard pattern, padded to 4 characters.
    pub pattern: String,
    /// Whether the pattern named the tag itself or covered it with wildcards.
    pub match_kind: MatchKind,
    /// The allocating binary or component, when the source names one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub binary: Option<String>,
    /// What the allocations are.
    pub description: String,
    /// Built-in notes or pooltag.txt.
    pub source: TagSource,
    /// The pooltag.txt file, for [`TagSource::Pooltag`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// 1-based line in the pooltag.txt file, for [`TagSource::Pooltag`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    /// The handle.exe object type the tag is the body of (from the built-in table, whatever the source).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub object_type: Option<String>,
}

impl TagInfo {
    /// `description (binary)`, or the description alone; for one-line table cells. A built-in note is
    /// cut to its first clause (`Token objects`): the notes are written as `what: why it grows`.
    pub fn summary(&self) -> String {
        let description = match self.source {
            TagSource::BuiltIn => self.description.split([':', ';']).next().unwrap_or_default().trim(),
            TagSource::Pooltag => self.description.as_str(),
        };
        match (&self.binary, description.is_empty()) {
            (Some(b), false) => format!("{description} ({b})"),
            (Some(b), true) => b.clone(),
            (None, _) => description.to_owned(),
        }
    }
}

/// Tag descriptions from the built-in notes and, when given, a pooltag.txt file.
#[derive(Debug, Clone, Default)]
pub struct TagDescriptions {
    pooltag: Option<PooltagFile>,
}

impl TagDescriptions {
    /// The built-in notes only.
    pub fn builtin() -> Self {
        Self { pooltag: None }
    }

    /// The built-in notes and a pooltag.txt file.
    pub fn with_pooltag(file: PooltagFile) -> Self {
        Self { pooltag: Some(file) }
    }

    /// The pooltag.txt file, when one was given.
    pub fn pooltag(&self) -> Option<&PooltagFile> {
        self.pooltag.as_ref()
    }

    /// The best single description of a tag: an exact pooltag.txt entry (the user's copy names the binary
    /// of their Windows version; the first entry when the tag is listed twice), else the built-in note, else
    /// the most specific wildcard entry.
    pub fn describe(&self, tag: &str) -> Option<TagInfo> {
        let matches = self.pooltag_matches(tag);
        let object_type = object_type_for_tag(tag).map(str::to_owned);
        if let Some(exact) = matches.iter().find(|m| m.match_kind == MatchKind::Exact) {
            return Some(TagInfo { object_type, ..exact.clone() });
        }
        if let Some(b) = builtin(tag) {
            return Some(builtin_info(b));
        }
        matches.into_iter().next().map(|m| TagInfo { object_type, ..m })
    }

    /// Everything known about a tag: the built-in note first, then every pooltag.txt match (exact entries
    /// in file order, then wildcard entries, most specific first).
    pub fn all(&self, tag: &str) -> Vec<TagInfo> {
        let mut out: Vec<TagInfo> = builtin(tag).map(builtin_info).into_iter().collect();
        let object_type = object_type_for_tag(tag).map(str::to_owned);
        out.extend(self.pooltag_matches(tag).into_iter().map(|m| TagInfo { object_type: object_type.clone(), ..m }));
        out
    }

    fn pooltag_matches(&self, tag: &str) -> Vec<TagInfo> {
        let Some(file) = &self.pooltag else { return Vec::new() };
        file.lookup(tag)
            .into_iter()
            .map(|(kind, e)| TagInfo {
                pattern: e.pattern.clone(),
                match_kind: kind,
                binary: e.binary.clone(),
                description: e.description.clone(),
                source: TagSource::Pooltag,
                path: Some(file.path.clone()),
                line: Some(e.line),
                object_type: None,
            })
            .collect()
    }

    /// Tags that differ from the given one only in case (tags are case-sensitive): suggestions when a tag
    /// has no description. Sorted and deduplicated.
    pub fn case_suggestions(&self, tag: &str) -> Vec<String> {
        let padded = pad_tag(tag);
        let mut out: BTreeSet<String> = BTreeSet::new();
        for b in BUILTIN_TAGS {
            if b.tag != padded && b.tag.to_lowercase() == padded.to_lowercase() {
                out.insert(b.tag.to_owned());
            }
        }
        if let Some(file) = &self.pooltag {
            for e in file.case_insensitive_matches(tag) {
                out.insert(e.pattern.clone());
            }
        }
        out.into_iter().collect()
    }
}

fn builtin_info(b: &BuiltinTag) -> TagInfo {
    TagInfo {
        pattern: b.tag.to_owned(),
        match_kind: MatchKind::Exact,
        binary: Some(b.binary.to_owned()),
        description: b.description.to_owned(),
        source: TagSource::BuiltIn,
        path: None,
        line: None,
        object_type: b.object_type.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (PooltagFile, Vec<Diagnostic>) {
        parse_text(text, "pooltag.txt")
    }

    fn only_entry(text: &str) -> PooltagEntry {
        let (file, diags) = parsed(text);
        assert!(diags.iter().all(|d| d.severity == Severity::Info), "{diags:?}");
        assert_eq!(file.entries.len(), 1, "{:?}", file.entries);
        file.entries[0].clone()
    }

    #[test]
    fn entry_line_with_padded_binary_column() {
        let e = only_entry("Toke - nt!se        - Token objects\n");
        assert_eq!(e.pattern, "Toke");
        assert_eq!(e.binary.as_deref(), Some("nt!se"));
        assert_eq!(e.description, "Token objects");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn tag_with_trailing_spaces_is_kept_padded() {
        let e = only_entry("Key  - nt!cm        - Key objects");
        assert_eq!(e.pattern, "Key ");
        let e = only_entry("G    - <unknown>    -     Gdi Generic allocations");
        assert_eq!(e.pattern, "G   ");
        assert_eq!(e.description, "Gdi Generic allocations");
    }

    #[test]
    fn tag_with_inner_space() {
        let e = only_entry("Dh 0 - <unknown>    - DirectDraw/3D default object");
        assert_eq!(e.pattern, "Dh 0");
        assert_eq!(e.binary.as_deref(), Some("<unknown>"));
    }

    #[test]
    fn short_tag_written_without_padding() {
        let e = only_entry("PX1 - ndproxy.sys - PX_EVENT_TAG");
        assert_eq!(e.pattern, "PX1 ");
        assert_eq!(e.binary.as_deref(), Some("ndproxy.sys"));
        let e = only_entry("Mdp -  netio.sys    - Memory Descriptor Lists");
        assert_eq!(e.pattern, "Mdp ");
        assert_eq!(e.binary.as_deref(), Some("netio.sys"));
    }

    #[test]
    fn missing_space_before_description() {
        let e = only_entry("CMAl - nt!cm        -internal registry memory allocator pool tag");
        assert_eq!(e.binary.as_deref(), Some("nt!cm"));
        assert_eq!(e.description, "internal registry memory allocator pool tag");
    }

    #[test]
    fn description_containing_dash_separators_is_kept_whole() {
        let e = only_entry("RpcL - msrpc.sys    - debugging log data - present on checked builds only");
        assert_eq!(e.binary.as_deref(), Some("msrpc.sys"));
        assert_eq!(e.description, "debugging log data - present on checked builds only");
    }

    #[test]
    fn binary_with_hyphen_is_not_split() {
        let e = only_entry("Xmpl - my-filter.sys - Example - with dash");
        assert_eq!(e.binary.as_deref(), Some("my-filter.sys"));
        assert_eq!(e.description, "Example - with dash");
    }

    #[test]
    fn line_without_binary_column() {
        let e = only_entry("ATmp - AppTag mount point");
        assert_eq!(e.binary, None);
        assert_eq!(e.description, "AppTag mount point");
    }

    #[test]
    fn single_field_that_looks_like_a_binary() {
        let e = only_entry("Abcd - foo.sys");
        assert_eq!(e.binary.as_deref(), Some("foo.sys"));
        assert_eq!(e.description, "");
    }

    #[test]
    fn indented_entry_is_read_without_indentation() {
        let e = only_entry("     AfdA - afd.sys      -     Afd EA buffer");
        assert_eq!(e.pattern, "AfdA");
        assert_eq!(e.description, "Afd EA buffer");
    }

    #[test]
    fn rem_and_slash_comments_and_blank_lines_are_skipped() {
        let text = "//\n// Copyright\n//\nrem\nrem    Pooltag.txt\nREM NTFS Specific allocation tags\n\n   \n\
                    Toke - nt!se - Token objects\n";
        let e = only_entry(text);
        assert_eq!(e.line, 9);
    }

    #[test]
    fn a_tag_starting_with_rem_is_not_a_comment() {
        let e = only_entry("Rem1 - x.sys - remote thing");
        assert_eq!(e.pattern, "Rem1");
    }

    #[test]
    fn stray_line_is_a_warning_with_its_line() {
        let (file, diags) =
            parsed("FtV  - <unknown>    - Fault tolerance driver\n       <unknown>\nG??? - <unknown> - Gdi\n");
        assert_eq!(file.entries.len(), 2);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, Some(2));
        assert_eq!(diags[0].severity, Severity::Warning);
    }

    #[test]
    fn tag_without_binary_or_description_is_a_warning() {
        let (file, diags) = parsed("Abcd -\n");
        assert!(file.entries.is_empty());
        assert!(diags.iter().any(|d| d.line == Some(1) && d.severity == Severity::Warning));
    }

    #[test]
    fn empty_file_is_an_error() {
        let (file, diags) = parsed("rem nothing\n");
        assert!(file.entries.is_empty());
        assert!(diags.iter().any(|d| d.severity == Severity::Error && d.line.is_none()));
    }

    #[test]
    fn duplicates_keep_every_description_in_order() {
        let (file, diags) = parsed("Fatv - fastfat.sys  - Fat events\nFatv - fastfat.sys  - Fat backpocket Vpb\n");
        let found: Vec<&str> = file.lookup("Fatv").iter().map(|(_, e)| e.description.as_str()).collect();
        assert_eq!(found, ["Fat events", "Fat backpocket Vpb"]);
        assert!(diags.iter().any(|d| d.severity == Severity::Info && d.message.contains("1 tags")));
    }

    #[test]
    fn exact_match_comes_before_wildcards() {
        let (file, _) = parsed(
            "CM?? - nt!cm - Internal Configuration manager allocations\nCM31 - nt!cm - Hive storage\nC*   - x.sys - catch all\n",
        );
        let found: Vec<(MatchKind, &str)> = file.lookup("CM31").iter().map(|(k, e)| (*k, e.pattern.as_str())).collect();
        assert_eq!(found, [(MatchKind::Exact, "CM31"), (MatchKind::Wildcard, "CM??"), (MatchKind::Wildcard, "C*  ")]);
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        let (file, _) = parsed("Afd? - afd.sys - AFD objects\n");
        assert_eq!(file.lookup("AfdE").len(), 1);
        assert_eq!(file.lookup("Afd").len(), 1, "`Afd` is `Afd ` and `?` matches the space");
        assert!(file.lookup("AfeE").is_empty());
        assert!(file.lookup("AfdEx").is_empty());
    }

    #[test]
    fn star_matches_the_rest_and_ignores_its_padding() {
        let (file, _) = parsed("Acp* - acpi.sys - ACPI Pooltags\nBu*  - <unknown> - burneng.sys from adaptec\n");
        assert_eq!(file.lookup("AcpA")[0].1.pattern, "Acp*");
        assert_eq!(file.lookup("Acp").len(), 1);
        assert_eq!(file.lookup("Bu").len(), 1);
        assert_eq!(file.lookup("Burn")[0].1.description, "burneng.sys from adaptec");
        assert!(file.lookup("Ac").is_empty());
    }

    #[test]
    fn lookup_is_case_sensitive_with_suggestions() {
        let (file, _) =
            parsed("Call - nt!ex - kernel callback object signature\ncall - <unknown> - debugging call tables\n");
        assert_eq!(file.lookup("Call")[0].1.description, "kernel callback object signature");
        assert_eq!(file.lookup("call")[0].1.description, "debugging call tables");
        assert!(file.lookup("CALL").is_empty());
        let d = TagDescriptions::with_pooltag(file);
        assert_eq!(d.case_suggestions("CALL"), ["Call", "call"]);
        assert_eq!(d.case_suggestions("toke"), ["Toke"]);
    }

    #[test]
    fn utf16le_file_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "rem x\r\nToke - nt!se - Token objects\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let (file, diags) = parse(&bytes, "p.txt");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(file.entries[0].pattern, "Toke");
        assert_eq!(file.entries[0].line, 2);
    }

    #[test]
    fn crlf_and_ansi_bytes() {
        let (file, _) = parse(b"Lin\xeb - x.sys - caf\xe9 tag\r\n", "p.txt");
        assert_eq!(file.entries[0].pattern, "Lin\u{eb}");
        assert_eq!(file.entries[0].description, "caf\u{e9} tag");
    }

    #[test]
    fn builtin_table_is_sorted_unique_and_padded() {
        for pair in BUILTIN_TAGS.windows(2) {
            assert!(pair[0].tag < pair[1].tag, "{} before {}", pair[0].tag, pair[1].tag);
        }
        for b in BUILTIN_TAGS {
            assert_eq!(b.tag.chars().count(), TAG_LEN, "{:?}", b.tag);
            assert!(!b.description.is_empty());
        }
    }

    #[test]
    fn kernel_allocated_tags_are_object_types_and_their_companions() {
        for tag in ["Toke", "Proc", "Thre", "File", "Even", "Muta", "Sema", "Key", "Sect", "ObNm", "SeTl"] {
            assert!(allocated_for_callers(tag), "{tag}");
        }
        for tag in ["MmSt", "CM31", "NtFs", "Ctx1", "FMfn"] {
            assert!(!allocated_for_callers(tag), "{tag}");
        }
    }

    #[test]
    fn object_types_of_kernel_object_tags() {
        let expected = [
            ("Toke", "Token"),
            ("Proc", "Process"),
            ("Thre", "Thread"),
            ("File", "File"),
            ("Even", "Event"),
            ("Key ", "Key"),
            ("Key", "Key"),
            ("Sema", "Semaphore"),
            ("Muta", "Mutant"),
            ("Sect", "Section"),
        ];
        for (tag, ty) in expected {
            assert_eq!(object_type_for_tag(tag), Some(ty), "{tag}");
        }
        assert_eq!(object_type_for_tag("MmSt"), None);
        assert_eq!(object_type_for_tag("Nope"), None);
        assert_eq!(tag_for_object_type("Token"), Some("Toke"));
        assert_eq!(tag_for_object_type("key"), Some("Key "));
        assert_eq!(tag_for_object_type("Desktop"), None);
    }

    #[test]
    fn describe_prefers_exact_pooltag_then_builtin_then_wildcard() {
        let (file, _) = parsed("Toke - nt!se - Token objects\nMm?? - nt!mm - Mm generic\n");
        let d = TagDescriptions::with_pooltag(file);
        let toke = d.describe("Toke").unwrap();
        assert_eq!((toke.source, toke.description.as_str()), (TagSource::Pooltag, "Token objects"));
        assert_eq!(toke.object_type.as_deref(), Some("Token"), "object type comes from the built-in table");
        assert_eq!(d.describe("MmSt").unwrap().source, TagSource::BuiltIn);
        let mmxx = d.describe("MmXx").unwrap();
        assert_eq!((mmxx.source, mmxx.match_kind), (TagSource::Pooltag, MatchKind::Wildcard));
        assert!(d.describe("Zzzz").is_none());
        let builtin = TagDescriptions::builtin().describe("Toke").unwrap();
        assert_eq!(builtin.source, TagSource::BuiltIn);
        assert_eq!(builtin.summary(), "Token objects (nt!se)", "built-in notes are cut to their first clause");
        assert_eq!(toke.summary(), "Token objects (nt!se)");
    }

    #[test]
    fn all_lists_builtin_then_pooltag_matches() {
        let (file, _) = parsed("Toke - nt!se - Token objects\nTo?? - x.sys - wild\n");
        let all = TagDescriptions::with_pooltag(file).all("Toke");
        let sources: Vec<(TagSource, MatchKind)> = all.iter().map(|i| (i.source, i.match_kind)).collect();
        assert_eq!(
            sources,
            [
                (TagSource::BuiltIn, MatchKind::Exact),
                (TagSource::Pooltag, MatchKind::Exact),
                (TagSource::Pooltag, MatchKind::Wildcard)
            ]
        );
        assert_eq!(all[1].line, Some(1));
        assert_eq!(all[1].path.as_deref(), Some("pooltag.txt"));
    }

    #[test]
    fn pad_tag_pads_and_keeps_long_text() {
        assert_eq!(pad_tag("Key"), "Key ");
        assert_eq!(pad_tag(""), "    ");
        assert_eq!(pad_tag("Toke"), "Toke");
        assert_eq!(pad_tag("Tokens"), "Tokens");
    }

    #[test]
    fn glob_backtracks() {
        assert!(glob(&['*', 'a'], &['x', 'a', 'a']));
        assert!(glob(&['a', '*', 'b', '?'], &['a', 'x', 'b', 'b', 'c']));
        assert!(!glob(&['a', '*', 'c'], &['a', 'b']));
        assert!(glob(&['*'], &[]));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let (file, _diags) = parse(&bytes, "fuzz.txt");
            for e in &file.entries {
                let _ = file.lookup(&e.pattern);
            }
        }

        #[test]
        fn arbitrary_entry_like_lines_never_panic(line in "[ -~\t\u{80}-\u{10ff}]{0,40}( - [ -~]{0,20}){0,3}") {
            let (file, _diags) = parse_text(&line, "fuzz.txt");
            let _ = file.lookup("Toke");
            let _ = file.lookup("A*?");
        }
    }
}
