//! `poolscope tags`: what pool tags are, from the built-in notes and the user's pooltag.txt.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::model::Severity;
use crate::parse::pooltag::{self, MatchKind, TagDescriptions, TagInfo, TagSource, TAG_LEN};
use crate::table::{Column, TextTable};

/// Version of the JSON layout of `poolscope tags --format json`.
pub const TAGS_SCHEMA_VERSION: u32 = 1;

/// Arguments of `poolscope tags`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Pool tags are 4 characters and case-sensitive. Shorter tags end in spaces, so
`Key` is looked up as `Key ` (quote a tag with a space: 'Dh 1').

Descriptions come from poolscope's built-in notes on kernel-object tags (Toke,
Proc, File, Key, ...) and, when given, from pooltag.txt. pooltag.txt ships with
the Debugging Tools for Windows, e.g.
  C:\\Program Files (x86)\\Windows Kits\\10\\Debuggers\\x64\\triage\\pooltag.txt
Wildcard entries (`Afd?`, `Acp*`) are listed after exact ones, with the
pattern that matched.")]
pub struct TagsArgs {
    /// Pool tags to describe, such as `Toke`, `Key` or `MmSt`.
    #[arg(required = true, value_name = "TAG")]
    pub tags: Vec<String>,
    /// A pooltag.txt file to take descriptions from (UTF-8, ANSI or UTF-16).
    #[arg(long, value_name = "FILE", env = "POOLSCOPE_POOLTAG")]
    pub pooltag: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TagsFormat::Text, value_name = "FORMAT")]
    pub format: TagsFormat,
}

/// `poolscope tags --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagsFormat {
    /// Readable text.
    #[value(alias = "table")]
    Text,
    /// JSON with a `schema_version`.
    Json,
    /// Markdown table.
    Markdown,
}

/// Loads the built-in notes plus `--pooltag FILE` when given. An unreadable file, or one without a single
/// entry, is an error; lines that are not entries are counted in one warning (listed with `-v`).
pub fn load_descriptions(path: Option<&Path>, printer: &Printer) -> Result<TagDescriptions> {
    let Some(path) = path else { return Ok(TagDescriptions::builtin()) };
    let (file, diagnostics) = pooltag::load(path).with_context(|| format!("--pooltag {}", path.display()))?;
    if file.entries.is_empty() {
        printer.diagnostics(&diagnostics);
        anyhow::bail!(
            "--pooltag {}: no pooltag entries found (expected lines like `Toke - nt!se - Token objects`)",
            path.display()
        );
    }
    if printer.verbose {
        printer.diagnostics(&diagnostics);
    } else {
        let skipped = diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
        if skipped > 0 {
            let what = if skipped == 1 { "line is not a pooltag entry" } else { "lines are not pooltag entries" };
            printer.warn(&format!("{}: {skipped} {what}; skipped (-v lists them)", path.display()));
        }
    }
    printer.info(&format!("{}: {} pooltag entries", path.display(), file.entries.len()));
    Ok(TagDescriptions::with_pooltag(file))
}

/// What `tags` found for one tag (one element of the JSON `tags` array).
#[derive(Debug, Clone, Serialize)]
pub struct TagReport {
    /// The tag as looked up: padded to 4 characters.
    pub tag: String,
    /// The tag as given on the command line.
    pub given: String,
    /// Whether spaces were added to reach 4 characters.
    pub padded: bool,
    /// The handle.exe object type the tag is the body of, when it is one (from the built-in table).
    pub object_type: Option<String>,
    /// Built-in note first, then pooltag.txt entries: exact ones in file order, then wildcard ones.
    pub matches: Vec<TagInfo>,
    /// Tags that differ only in case, when nothing matched (tags are case-sensitive).
    pub case_suggestions: Vec<String>,
}

#[derive(Serialize)]
struct TagsJson<'a> {
    schema_version: u32,
    pooltag: Option<PooltagJson<'a>>,
    tags: &'a [TagReport],
}

#[derive(Serialize)]
struct PooltagJson<'a> {
    path: &'a str,
    entries: usize,
}

/// Looks up each tag.
pub fn reports(tags: &[String], descriptions: &TagDescriptions) -> Vec<TagReport> {
    tags.iter()
        .map(|given| {
            let tag = pooltag::pad_tag(given);
            let matches = descriptions.all(&tag);
            let case_suggestions = if matches.is_empty() { descriptions.case_suggestions(&tag) } else { Vec::new() };
            TagReport {
                padded: tag != *given,
                object_type: pooltag::object_type_for_tag(&tag).map(str::to_owned),
                tag,
                given: given.clone(),
                matches,
                case_suggestions,
            }
        })
        .collect()
}

/// Runs `poolscope tags`.
pub fn run(args: &TagsArgs, printer: &Printer) -> Result<ExitStatus> {
    let mut valid = Vec::new();
    for tag in &args.tags {
        let len = tag.chars().count();
        if len == 0 || len > TAG_LEN {
            printer.warn(&format!("{tag:?} is not a pool tag: tags are 1 to 4 characters"));
        } else {
            valid.push(tag.clone());
        }
    }
    if valid.is_empty() {
        anyhow::bail!("no pool tag to look up: tags are 1 to 4 characters, e.g. `poolscope tags Toke`");
    }
    let descriptions = load_descriptions(args.pooltag.as_deref(), printer)?;
    let reports = reports(&valid, &descriptions);
    let out = match args.format {
        TagsFormat::Text => render_text(&reports, &descriptions, printer.width),
        TagsFormat::Markdown => render_markdown(&reports, &descriptions),
        TagsFormat::Json => {
            let json = TagsJson {
                schema_version: TAGS_SCHEMA_VERSION,
                pooltag: descriptions.pooltag().map(|f| PooltagJson { path: &f.path, entries: f.entries.len() }),
                tags: &reports,
            };
            let mut s = crate::untrusted::to_json_pretty_string(&json)?;
            s.push('\n');
            s
        }
    };
    super::emit(None, out.as_bytes())?;
    Ok(ExitStatus::Success)
}

fn source_label(info: &TagInfo) -> String {
    match (info.source, &info.path, info.line) {
        (TagSource::BuiltIn, _, _) => "built-in".to_owned(),
        (TagSource::Pooltag, Some(path), Some(line)) => format!("{}:{line}", file_name(path)),
        (TagSource::Pooltag, _, _) => "pooltag.txt".to_owned(),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The hint for a tag nobody describes: the usual next step is searching driver files for it (peers §2.2).
fn unknown_hint(tag: &str, descriptions: &TagDescriptions) -> String {
    let mut s = String::from("unknown: not in the built-in notes");
    match descriptions.pooltag() {
        Some(f) => {
            let _ = write!(s, " nor in {}", f.path);
        }
        None => s.push_str("; no pooltag.txt given (--pooltag FILE)"),
    }
    let _ = write!(
        s,
        "\n  to find the driver, search driver files for the tag: findstr /m /l /s \"{}\" %SystemRoot%\\System32\\drivers\\*.sys",
        tag.trim_end()
    );
    s
}

/// Readable text: one block per tag.
pub fn render_text(reports: &[TagReport], descriptions: &TagDescriptions, width: Option<usize>) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{}", sanitize(&r.tag));
        if r.padded {
            let _ =
                write!(out, "  (given as {:?}; pool tags are 4 characters, so it was padded to {:?})", r.given, r.tag);
        }
        out.push('\n');
        if let Some(ty) = &r.object_type {
            let line = format!("kernel object type: {ty} (poolscope compares this tag with {ty} handle counts)");
            out.push_str(&crate::table::wrap(&line, width, "  ", "    "));
        }
        if r.matches.is_empty() {
            for line in unknown_hint(&r.tag, descriptions).lines() {
                let _ = writeln!(out, "  {}", sanitize(line.trim_start()));
            }
            if !r.case_suggestions.is_empty() {
                let list: Vec<String> = r.case_suggestions.iter().map(|t| format!("{t:?}")).collect();
                let _ = writeln!(out, "  tags are case-sensitive; did you mean {}?", list.join(" or "));
            }
            continue;
        }
        // One table per tag, fitted to the terminal: the description folds, source and binary stay whole.
        let mut table =
            TextTable::new(vec![Column::new("source"), Column::new("binary"), Column::new("description").fold()]);
        for m in &r.matches {
            let mut description = m.description.clone();
            if m.match_kind == MatchKind::Wildcard {
                let _ = write!(description, "  (wildcard entry {:?})", m.pattern);
            }
            table.push(vec![source_label(m), m.binary.clone().unwrap_or_else(|| "-".to_owned()), description]);
        }
        out.push_str(&table.render("  ", width));
    }
    out
}

/// A Markdown table: one row per match.
pub fn render_markdown(reports: &[TagReport], descriptions: &TagDescriptions) -> String {
    let mut table =
        TextTable::new(crate::table::columns(&["Tag", "Source", "Pattern", "Binary", "Description", "Object type"]));
    for r in reports {
        let ty = r.object_type.clone().unwrap_or_default();
        if r.matches.is_empty() {
            let what = match descriptions.pooltag() {
                Some(_) => "unknown (not in the built-in notes nor in pooltag.txt)",
                None => "unknown (not in the built-in notes; no pooltag.txt given)",
            };
            table.push(vec![r.tag.clone(), "-".into(), "-".into(), "-".into(), what.into(), ty]);
            continue;
        }
        for m in &r.matches {
            let wildcard = if m.match_kind == MatchKind::Wildcard { " (wildcard)" } else { "" };
            table.push(vec![
                r.tag.clone(),
                source_label(m),
                format!("{}{wildcard}", m.pattern),
                m.binary.clone().unwrap_or_else(|| "-".to_owned()),
                m.description.clone(),
                ty.clone(),
            ]);
        }
    }
    table.render_markdown()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> TagDescriptions {
        TagDescriptions::with_pooltag(pooltag::parse_text(text, "/x/pooltag.txt").0)
    }

    #[test]
    fn short_tag_is_padded_and_says_so() {
        let d = with_file("Key  - nt!cm - Key objects\n");
        let r = reports(&["Key".to_owned()], &d);
        assert_eq!(r[0].tag, "Key ");
        assert!(r[0].padded);
        assert_eq!(r[0].object_type.as_deref(), Some("Key"));
        let text = render_text(&r, &d, None);
        assert!(text.contains("padded to \"Key \""), "{text}");
        assert!(text.contains("pooltag.txt:1"), "{text}");
        assert!(text.contains("built-in"), "{text}");
    }

    #[test]
    fn wildcard_match_names_its_pattern() {
        let d = with_file("Afd? - afd.sys - AFD objects\n");
        let text = render_text(&reports(&["AfdE".to_owned()], &d), &d, None);
        assert!(text.contains("wildcard entry \"Afd?\""), "{text}");
    }

    #[test]
    fn unknown_tag_gives_the_findstr_hint_and_case_suggestions() {
        let d = TagDescriptions::builtin();
        let text = render_text(&reports(&["toke".to_owned()], &d), &d, None);
        assert!(text.contains("no pooltag.txt given"), "{text}");
        assert!(text.contains("findstr /m /l /s \"toke\""), "{text}");
        assert!(text.contains("did you mean \"Toke\""), "{text}");
    }

    #[test]
    fn markdown_escapes_pipes_and_marks_wildcards() {
        let d = with_file("Ab?? - a.sys - one | two\n");
        let md = render_markdown(&reports(&["AbCd".to_owned()], &d), &d);
        assert!(md.contains("one \\| two"), "{md}");
        assert!(md.contains("Ab?? (wildcard)"), "{md}");
    }
}
