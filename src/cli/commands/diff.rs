//! `poolscope diff`: compare two poolmon snapshots tag by tag (ANALYSIS.md §6).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use crate::analysis::diff::{self as snapdiff, DiffOptions, DiffRow, DiffSort, RowStatus, SnapshotDiff, SnapshotInfo};
use crate::cli::args::{OutputArgs, TimeArgs};
use crate::cli::printer::sanitize;
use crate::cli::{ExitStatus, Printer};
use crate::model::{PoolSnapshot, PoolType, TimeSettings, TimeSource};
use crate::parse::{FileContext, Format, ReadLimits};
use crate::table::wrap;
use crate::table::{Column, TextTable};

/// Rows shown by text and Markdown output when `--top` is not given.
const DEFAULT_TEXT_ROWS: usize = 40;

/// Arguments of `poolscope diff`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Selecting snapshots:
  FILE       a snapshot file. When it holds several snapshots (a collection loop
             appending to one file), A is its first snapshot and B its last.
  FILE@N     the Nth snapshot of FILE, counted from 1 (@1 is the first).
             Negative counts from the end: @-1 is the last, @-2 the one before.
  FILE@TIME  the snapshot taken nearest to TIME (RFC 3339, or
             \"YYYY-MM-DD HH:MM[:SS]\" in --tz). Ties go to the earlier snapshot;
             snapshots without a time are not candidates.
  Paths may contain '@': only the text after the last '@' is a selector, and
  only when it reads as a number or a time. An existing file whose name
  contains '@' is always taken as it is.
  Without B, B is A's file: `poolscope diff series.log` compares its first and
  last snapshots.

Rows are (tag, pool type) pairs ranked by the absolute change of --sort.
Allocs and Frees are 32-bit kernel counters: a counter that went down within
one boot is read as a wrap and 2^32 is added (the row says so).")]
pub struct DiffArgs {
    /// The earlier snapshot: FILE, FILE@N (N from 1; @-1 is the last) or FILE@TIME.
    #[arg(value_name = "A")]
    pub before: String,
    /// The later snapshot: FILE, FILE@N or FILE@TIME (default: the last snapshot of A's file).
    #[arg(value_name = "B")]
    pub after: Option<String>,
    /// Rank rows by the absolute change of this column.
    #[arg(long, value_enum, default_value_t = SortArg::Bytes, value_name = "COLUMN")]
    pub sort: SortArg,
    /// Show only the first N rows, 0 for all (default: all; text and Markdown show 40).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Compare only this pool type.
    #[arg(long, value_enum, default_value_t = PoolArg::All, value_name = "POOL")]
    pub pool: PoolArg,
    /// Also list tags whose counters did not change.
    #[arg(long)]
    pub unchanged: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text, value_name = "FORMAT")]
    pub format: DiffFormat,
    /// Output file.
    #[command(flatten)]
    pub output: OutputArgs,
    /// A pooltag.txt file to describe tags with (the built-in notes are always used).
    #[arg(long, value_name = "FILE", env = "POOLSCOPE_POOLTAG")]
    pub pooltag: Option<PathBuf>,
    /// Time options.
    #[command(flatten)]
    pub time: TimeArgs,
}

/// `--sort` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Change in Bytes.
    Bytes,
    /// Change in Diff (outstanding allocations).
    Diff,
    /// Change in Allocs.
    Allocs,
    /// Change in Frees.
    Frees,
}

/// `--pool` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolArg {
    /// Paged pool only.
    Paged,
    /// Nonpaged pool only.
    Nonpaged,
    /// Both.
    All,
}

/// `poolscope diff --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// An aligned table.
    #[value(alias = "table")]
    Text,
    /// JSON with a `schema_version`.
    Json,
    /// CSV, one row per (tag, pool type).
    Csv,
    /// Markdown tables, for tickets.
    Markdown,
}

/// Which snapshot of a file an argument asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// No selector: the first snapshot for A, the last for B.
    Default,
    /// `@N`: 1-based; negative counts from the end.
    Index(i64),
    /// `@TIME`: the nearest snapshot in time.
    Time(DateTime<Utc>),
}

/// A snapshot argument split into its path and selector.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotSpec {
    /// The file.
    pub path: PathBuf,
    /// Which snapshot of it.
    pub selector: Selector,
}

/// Splits `FILE[@N|@TIME]`. The text after the last `@` is a selector only when it reads as an integer or a
/// time and the whole argument is not an existing file; otherwise the `@` belongs to the path.
pub fn parse_spec(text: &str, tz: chrono_tz::Tz) -> SnapshotSpec {
    let whole = SnapshotSpec { path: PathBuf::from(text), selector: Selector::Default };
    if Path::new(text).exists() {
        return whole;
    }
    let Some((path, selector)) = text.rsplit_once('@') else { return whole };
    if path.is_empty() {
        return whole;
    }
    if let Ok(n) = selector.trim().parse::<i64>() {
        return SnapshotSpec { path: PathBuf::from(path), selector: Selector::Index(n) };
    }
    match super::parse_time_arg(selector.trim(), tz) {
        Ok(t) => SnapshotSpec { path: PathBuf::from(path), selector: Selector::Time(t) },
        Err(_) => whole,
    }
}

/// Which side of the diff an argument is (decides what "no selector" means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A: the first snapshot by default.
    Before,
    /// B: the last snapshot by default.
    After,
}

/// Picks a snapshot of a file; returns its 0-based position and a sentence on how it was chosen when that
/// needs saying. Errors say how many snapshots the file has.
pub fn select(
    snapshots: &[PoolSnapshot],
    selector: &Selector,
    side: Side,
    path: &Path,
) -> Result<(usize, Option<String>)> {
    let count = snapshots.len();
    let name = path.display();
    if count == 0 {
        anyhow::bail!("{name}: no poolmon snapshot found");
    }
    match selector {
        Selector::Default => Ok((if side == Side::Before { 0 } else { count - 1 }, None)),
        Selector::Index(0) => anyhow::bail!(
            "{name}@0: snapshots are numbered from 1 (@1 is the first, @-1 the last); the file has {count}"
        ),
        Selector::Index(n) => {
            let index = if *n > 0 { n - 1 } else { i64::try_from(count).unwrap_or(i64::MAX) + n };
            match usize::try_from(index).ok().filter(|&i| i < count) {
                Some(i) => Ok((i, None)),
                None => anyhow::bail!(
                    "{name}@{n}: out of range: the file has {count} snapshot{} (use @1 to @{count}, or @-1 to @-{count})",
                    if count == 1 { "" } else { "s" }
                ),
            }
        }
        Selector::Time(t) => {
            let best = snapshots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.taken_at.map(|at| (i, at, (at - *t).num_milliseconds().unsigned_abs())))
                .min_by_key(|&(i, _, distance)| (distance, i));
            let Some((i, at, _)) = best else {
                anyhow::bail!(
                    "{name}@{}: none of its {count} snapshots has a time; select one by number (@1 to @{count}) \
                     or give the time with --time",
                    t.format("%Y-%m-%dT%H:%M:%SZ")
                )
            };
            let minutes = (at - *t).num_seconds() as f64 / 60.0;
            let how = if minutes.abs() < 1.0 / 60.0 {
                format!("the snapshot taken at {}", t.format("%Y-%m-%d %H:%M:%S UTC"))
            } else {
                format!(
                    "the snapshot nearest to {} (taken {:.1} min {})",
                    t.format("%Y-%m-%d %H:%M:%S UTC"),
                    minutes.abs(),
                    if minutes < 0.0 { "before" } else { "after" }
                )
            };
            Ok((i, Some(how)))
        }
    }
}

/// One selected side, with how it was chosen.
struct Selected {
    snapshot: PoolSnapshot,
    index: usize,
    count: usize,
    how: Option<String>,
}

fn read_snapshots(
    path: &Path,
    time: &TimeSettings,
    host: Option<&str>,
    limits: ReadLimits,
    printer: &Printer,
    cache: &mut HashMap<PathBuf, Vec<PoolSnapshot>>,
) -> Result<Vec<PoolSnapshot>> {
    if let Some(snaps) = cache.get(path) {
        return Ok(snaps.clone());
    }
    if !path.exists() && !crate::parse::archive::is_member(path) {
        let hint = if path.to_string_lossy().contains('@') {
            " (a selector after the last '@' must be a snapshot number or a time)"
        } else {
            ""
        };
        anyhow::bail!("{}: no such file{hint}", path.display());
    }
    let head =
        crate::parse::head_of(path, &limits).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    // A file of another kind gets one clear sentence, not that parser's diagnostics. Undetected text is
    // still given to the poolmon parser: a pasted screen may have lost its header line.
    let detected = Format::detect(&head);
    let other = match detected {
        Some(format) if format.has_pool_snapshots() => None,
        None => None,
        Some(Format::Pooltag) => Some("a pooltag.txt file (give it with --pooltag)".to_owned()),
        Some(Format::Evtx | Format::EventXml | Format::EventCsv | Format::EventText) => Some("an event log".to_owned()),
        Some(other) => Some(other.describe().to_owned()),
    };
    if let Some(kind) = other {
        anyhow::bail!("{}: this is {kind}, not a pool snapshot", path.display());
    }
    // A pool CSV or a !poolused table is read with its own parser; the rest as poolmon.
    let format = detected.filter(|f| f.has_pool_snapshots()).unwrap_or(Format::Poolmon);
    let mut ctx = FileContext::for_path(path, time.clone(), host.map(str::to_owned));
    ctx.limits = limits;
    let parsed = crate::parse::parse_file_in(path, Some(format), &ctx);
    printer.diagnostics(&parsed.diagnostics);
    if parsed.pool_snapshots.is_empty() {
        anyhow::bail!(
            "{}: no poolmon snapshot found (expected `poolmon -n` output: a ` Tag  Type  Allocs ...` header and rows)",
            path.display()
        );
    }
    cache.insert(path.to_owned(), parsed.pool_snapshots.clone());
    Ok(parsed.pool_snapshots)
}

fn pick(
    spec: &SnapshotSpec,
    side: Side,
    time: &TimeSettings,
    host: Option<&str>,
    limits: ReadLimits,
    printer: &Printer,
    cache: &mut HashMap<PathBuf, Vec<PoolSnapshot>>,
) -> Result<Selected> {
    let snaps = read_snapshots(&spec.path, time, host, limits, printer, cache)?;
    let (index, how) = select(&snaps, &spec.selector, side, &spec.path)?;
    let count = snaps.len();
    let snapshot = snaps.into_iter().nth(index).ok_or_else(|| anyhow::anyhow!("snapshot {index} vanished"))?;
    Ok(Selected { snapshot, index, count, how })
}

/// Runs `poolscope diff`.
pub fn run(args: &DiffArgs, printer: &Printer) -> Result<ExitStatus> {
    let time = super::time_settings(&args.time)?;
    let host = args.time.host.as_deref();
    let limits = args.time.limits.read_limits();
    let before_spec = parse_spec(&args.before, time.tz);
    let after_spec = match &args.after {
        Some(text) => parse_spec(text, time.tz),
        None => SnapshotSpec { path: before_spec.path.clone(), selector: Selector::Default },
    };
    super::check_output(&args.output, &[before_spec.path.clone(), after_spec.path.clone()])?;
    let mut cache = HashMap::new();
    let before = pick(&before_spec, Side::Before, &time, host, limits, printer, &mut cache)?;
    let after = pick(&after_spec, Side::After, &time, host, limits, printer, &mut cache)?;
    if before_spec.path == after_spec.path && before.index == after.index {
        printer.warn(&format!(
            "A and B are the same snapshot ({} @{} of {}): every change is zero",
            before_spec.path.display(),
            before.index + 1,
            before.count
        ));
    }
    if let (Some(a), Some(b)) = (&before.snapshot.host, &after.snapshot.host) {
        if a != b {
            printer.warn(&format!("A is from host {a} and B from host {b}"));
        }
    }
    let descriptions = super::tags::load_descriptions(args.pooltag.as_deref(), printer)?;

    let human = matches!(args.format, DiffFormat::Text | DiffFormat::Markdown);
    let top = match args.top {
        Some(0) => None,
        Some(n) => Some(n),
        None if human => Some(DEFAULT_TEXT_ROWS),
        None => None,
    };
    let options = DiffOptions {
        sort: match args.sort {
            SortArg::Bytes => DiffSort::Bytes,
            SortArg::Diff => DiffSort::Diff,
            SortArg::Allocs => DiffSort::Allocs,
            SortArg::Frees => DiffSort::Frees,
        },
        top,
        pool: match args.pool {
            PoolArg::Paged => Some(PoolType::Paged),
            PoolArg::Nonpaged => Some(PoolType::Nonpaged),
            PoolArg::All => None,
        },
        include_unchanged: args.unchanged,
        reboot_between: if before_spec.path == after_spec.path {
            // The snapshots of the file from A to B, in time order: a reboot may lie between them.
            let snaps = cache.get(&before_spec.path).map_or(&[][..], Vec::as_slice);
            let (lo, hi) = (before.index.min(after.index), before.index.max(after.index));
            snaps.get(lo..=hi).and_then(snapdiff::reboot_between)
        } else {
            None
        },
    };
    let mut result = snapdiff::diff(&before.snapshot, &after.snapshot, &options);
    result.before.index = Some(before.index + 1);
    result.before.count = Some(before.count);
    result.after.index = Some(after.index + 1);
    result.after.count = Some(after.count);
    for (side, sel) in [("A", &before), ("B", &after)] {
        if let Some(how) = &sel.how {
            result.notes.insert(0, format!("{side}: {how}"));
        }
    }
    result.describe_rows(|tag| descriptions.describe(tag).map(|i| i.summary()));

    let bytes = match args.format {
        DiffFormat::Json => {
            let mut s = crate::untrusted::to_json_pretty(&result)?;
            s.push(b'\n');
            s
        }
        DiffFormat::Csv => render_csv(&result)?,
        DiffFormat::Text => render_text(&result, args.top.is_none(), printer.width).into_bytes(),
        DiffFormat::Markdown => render_markdown(&result, args.top.is_none()).into_bytes(),
    };
    super::emit(args.output.output.as_deref(), &bytes)?;
    if let Some(path) = &args.output.output {
        printer.info(&format!("wrote {}", path.display()));
    }
    Ok(ExitStatus::Success)
}

// ---------------------------------------------------------------------------------------------------------
// Number formatting
// ---------------------------------------------------------------------------------------------------------

/// Bytes in binary units: `512 B`, `1.39 GiB`, `42.5 MiB`, `512 KiB` ([`crate::units::bytes`]).
pub fn fmt_bytes(value: f64) -> String {
    crate::units::bytes(value.abs())
}

/// Signed bytes: `+1.39 GiB`, `-512 B`, `0 B` ([`crate::units::signed_bytes`]).
pub fn fmt_signed_bytes(value: f64) -> String {
    crate::units::signed_bytes(value)
}

/// A count with thousands separators: `1,394,724`.
pub fn fmt_count(value: u64) -> String {
    crate::units::thousands(value)
}

/// A signed count: `+4,000`, `-12`, `0`.
pub fn fmt_signed_count(value: i64) -> String {
    match value.signum() {
        1 => format!("+{}", fmt_count(value.unsigned_abs())),
        -1 => format!("-{}", fmt_count(value.unsigned_abs())),
        _ => "0".to_owned(),
    }
}

fn fmt_rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{}/h", fmt_signed_bytes(r)))
}

fn time_source_words(source: TimeSource) -> &'static str {
    match source {
        TimeSource::Record => "from the record",
        TimeSource::TimestampLine => "from a timestamp line",
        TimeSource::FileName => "from the file name",
        TimeSource::FolderName => "from the folder name",
        TimeSource::FileModified => "from the file's modification time",
        TimeSource::Override => "from --time",
        TimeSource::Unknown => "time unknown",
    }
}

fn describe_side(info: &SnapshotInfo) -> String {
    let mut s = sanitize(&info.source.path);
    if let (Some(i), Some(n)) = (info.index, info.count) {
        let _ = write!(s, ", snapshot {i} of {n}");
    }
    if let Some(line) = info.source.line {
        let _ = write!(s, " (line {line})");
    }
    match info.taken_at {
        Some(t) => {
            let _ =
                write!(s, ", taken {} ({})", t.format("%Y-%m-%d %H:%M:%S UTC"), time_source_words(info.time_source));
        }
        None => s.push_str(", time unknown"),
    }
    if let Some(host) = &info.host {
        let _ = write!(s, ", host {}", sanitize(host));
    }
    s
}

fn sort_words(sort: DiffSort) -> &'static str {
    match sort {
        DiffSort::Bytes => "change in bytes",
        DiffSort::Diff => "change in outstanding allocations (Diff)",
        DiffSort::Allocs => "change in Allocs",
        DiffSort::Frees => "change in Frees",
    }
}

fn status_word(status: RowStatus) -> &'static str {
    match status {
        RowStatus::Present => "",
        RowStatus::Appeared => "new",
        RowStatus::Disappeared => "gone",
    }
}

fn per_alloc_cell(row: &DiffRow) -> String {
    // Bytes per allocation are small and exact (`1,664 B`, the size of one leaked object): no binary units.
    row.per_alloc.map_or_else(|| "-".to_owned(), |p| format!("{} B", fmt_count(p.round().abs() as u64)))
}

fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(3)).collect();
        s.push_str("...");
        s
    }
}

/// Right-aligned columns except those marked left, fitted to `width` (the one table renderer): `optional`
/// gives the columns left out first when it is too narrow, as (index, drop order).
fn table(
    header: &[&str],
    rows: &[Vec<String>],
    left: &[usize],
    optional: &[(usize, u8)],
    width: Option<usize>,
) -> String {
    let columns = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut c = Column::new(h);
            if !left.contains(&i) {
                c = c.right();
            } else if i + 1 == header.len() {
                // The last text column (descriptions) folds rather than pushing the table off the screen.
                c = c.fold();
            }
            if let Some((_, order)) = optional.iter().find(|(j, _)| *j == i) {
                c = c.optional(*order);
            }
            c
        })
        .collect();
    TextTable { columns, rows: rows.to_vec() }.render("", width)
}

fn list_tags(items: &[snapdiff::TagPool]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items.iter().map(|t| format!("{} ({})", sanitize(&t.tag), t.pool)).collect::<Vec<_>>().join(", ")
}

/// The aligned text report: both snapshots, totals, the ranked rows, appeared/disappeared tags and notes.
pub fn render_text(d: &SnapshotDiff, top_defaulted: bool, width: Option<usize>) -> String {
    let mut out = String::new();
    out.push_str(&wrap(&format!("A: {}", describe_side(&d.before)), width, "", "   "));
    out.push_str(&wrap(&format!("B: {}", describe_side(&d.after)), width, "", "   "));
    match d.hours {
        Some(h) => {
            let _ = writeln!(out, "Interval: {h:.2} hours");
        }
        None => out.push_str("Interval: unknown (no rates per hour)\n"),
    }
    out.push('\n');

    let header =
        ["Totals", "Bytes A", "Bytes B", "Change", "Per hour", "Diff A", "Diff B", "Change", "Tags A", "Tags B"];
    let rows: Vec<Vec<String>> = d
        .totals
        .iter()
        .map(|t| {
            vec![
                t.pool.as_str().to_owned(),
                fmt_bytes(t.bytes_before as f64),
                fmt_bytes(t.bytes_after as f64),
                fmt_signed_bytes(t.delta_bytes as f64),
                fmt_rate(t.bytes_per_hour),
                fmt_count(t.diff_before),
                fmt_count(t.diff_after),
                fmt_signed_count(t.delta_diff),
                fmt_count(t.tags_before as u64),
                fmt_count(t.tags_after as u64),
            ]
        })
        .collect();
    out.push_str(&table(&header, &rows, &[0], &[], width));
    out.push('\n');

    let _ = writeln!(
        out,
        "Tags by {}{}: {} of {} changed rows",
        sort_words(d.sort),
        d.pool_filter.map(|p| format!(", {p} pool only")).unwrap_or_default(),
        d.rows.len(),
        d.rows_total
    );
    if d.rows.is_empty() {
        out.push_str("  (no tag changed)\n");
    } else {
        let header = [
            "Tag",
            "Pool",
            "",
            "Bytes A",
            "Bytes B",
            "Change",
            "Per hour",
            "Diff A",
            "Diff B",
            "Change",
            "Allocs",
            "Frees",
            "Per alloc",
            "What",
        ];
        let rows: Vec<Vec<String>> = d
            .rows
            .iter()
            .map(|r| {
                let mut what = truncate_chars(&sanitize(r.description.as_deref().unwrap_or("")), 60);
                if !r.notes.is_empty() {
                    what = format!("[see notes] {what}");
                }
                vec![
                    sanitize(&r.tag),
                    r.pool.as_str().to_owned(),
                    status_word(r.status).to_owned(),
                    fmt_bytes(r.bytes_before as f64),
                    fmt_bytes(r.bytes_after as f64),
                    fmt_signed_bytes(r.delta_bytes as f64),
                    fmt_rate(r.bytes_per_hour),
                    fmt_count(r.diff_before),
                    fmt_count(r.diff_after),
                    fmt_signed_count(r.delta_diff),
                    fmt_signed_count(r.delta_allocs),
                    fmt_signed_count(r.delta_frees),
                    per_alloc_cell(r),
                    what,
                ]
            })
            .collect();
        out.push_str(&table(
            &header,
            &rows,
            &[0, 1, 2, 13],
            &[(3, 1), (7, 3), (8, 3), (9, 3), (10, 2), (11, 2)],
            width,
        ));
    }
    if d.rows.len() < d.rows_total {
        let _ = writeln!(
            out,
            "... {} more rows ({}--top N shows N rows, --top 0 all of them)",
            d.rows_total - d.rows.len(),
            if top_defaulted { "text shows 40 by default; " } else { "" }
        );
    }
    out.push('\n');
    let appeared = format!("Appeared in B ({}): {}", d.appeared.len(), list_tags(&d.appeared));
    out.push_str(&wrap(&appeared, width, "", "  "));
    let disappeared = format!("Disappeared from A ({}): {}", d.disappeared.len(), list_tags(&d.disappeared));
    out.push_str(&wrap(&disappeared, width, "", "  "));

    // A row's note starts with its tag as printed, own spaces included (`Irp `): only the text after it wraps.
    let row_notes: Vec<(String, &String)> = d
        .rows
        .iter()
        .flat_map(|r| r.notes.iter().map(move |n| (format!("  - {} ({}): ", sanitize(&r.tag), r.pool), n)))
        .collect();
    if !d.notes.is_empty() || !row_notes.is_empty() {
        out.push_str("\nNotes:\n");
        for n in &d.notes {
            out.push_str(&wrap(&sanitize(n), width, "  - ", "    "));
        }
        for (head, n) in &row_notes {
            out.push_str(&wrap(&sanitize(n), width, head, "    "));
        }
    }
    out.trim_end().to_owned() + "\n"
}

fn md(text: &str) -> String {
    sanitize(text).replace('|', "\\|")
}

/// Markdown for tickets: the two snapshots, totals, ranked rows with descriptions, appeared/disappeared tags.
pub fn render_markdown(d: &SnapshotDiff, top_defaulted: bool) -> String {
    let mut out = String::from("## Pool diff\n\n| | Snapshot | Taken |\n|---|---|---|\n");
    for (side, info) in [("A", &d.before), ("B", &d.after)] {
        let mut snap = format!("`{}`", md(&info.source.path));
        if let (Some(i), Some(n)) = (info.index, info.count) {
            let _ = write!(snap, " snapshot {i} of {n}");
        }
        let taken = info.taken_at.map_or_else(
            || "unknown".to_owned(),
            |t| format!("{} ({})", t.format("%Y-%m-%d %H:%M:%S UTC"), time_source_words(info.time_source)),
        );
        let _ = writeln!(out, "| {side} | {snap} | {taken} |");
    }
    match d.hours {
        Some(h) => {
            let _ = writeln!(out, "\nInterval: {h:.2} hours.");
        }
        None => out.push_str("\nInterval: unknown (no rates per hour).\n"),
    }
    out.push_str("\n### Totals\n\n| Pool | Bytes A | Bytes B | Change | Per hour | Diff A | Diff B | Change |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for t in &d.totals {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            t.pool.as_str(),
            fmt_bytes(t.bytes_before as f64),
            fmt_bytes(t.bytes_after as f64),
            fmt_signed_bytes(t.delta_bytes as f64),
            fmt_rate(t.bytes_per_hour),
            fmt_count(t.diff_before),
            fmt_count(t.diff_after),
            fmt_signed_count(t.delta_diff),
        );
    }
    let _ = writeln!(out, "\n### Tags by {} ({} of {} changed rows)\n", sort_words(d.sort), d.rows.len(), d.rows_total);
    out.push_str("| Tag | Pool | Status | Bytes A | Bytes B | Change | Per hour | Diff A | Diff B | Change | Per alloc | What |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for r in &d.rows {
        let mut what = md(r.description.as_deref().unwrap_or(""));
        for n in &r.notes {
            let _ = write!(what, " *{}*", md(n));
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&r.tag),
            r.pool,
            status_word(r.status),
            fmt_bytes(r.bytes_before as f64),
            fmt_bytes(r.bytes_after as f64),
            fmt_signed_bytes(r.delta_bytes as f64),
            fmt_rate(r.bytes_per_hour),
            fmt_count(r.diff_before),
            fmt_count(r.diff_after),
            fmt_signed_count(r.delta_diff),
            per_alloc_cell(r),
            what.trim(),
        );
    }
    if d.rows.len() < d.rows_total {
        let _ = writeln!(
            out,
            "\n{} more rows not shown{}.",
            d.rows_total - d.rows.len(),
            if top_defaulted { " (40 by default; `--top 0` shows all)" } else { "" }
        );
    }
    let tags_md = |items: &[snapdiff::TagPool]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.iter().map(|t| format!("`{}` ({})", md(&t.tag), t.pool)).collect::<Vec<_>>().join(", ")
        }
    };
    let _ =
        writeln!(out, "\nAppeared in B: {}.\n\nDisappeared from A: {}.", tags_md(&d.appeared), tags_md(&d.disappeared));
    if !d.notes.is_empty() {
        out.push_str("\n### Notes\n\n");
        for n in &d.notes {
            let _ = writeln!(out, "- {}", md(n));
        }
    }
    out
}

/// CSV: one record per row, every counter raw (no units), notes joined with `; `.
pub fn render_csv(d: &SnapshotDiff) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "tag",
        "pool",
        "status",
        "bytes_before",
        "bytes_after",
        "delta_bytes",
        "bytes_per_hour",
        "diff_before",
        "diff_after",
        "delta_diff",
        "diff_per_hour",
        "allocs_before",
        "allocs_after",
        "delta_allocs",
        "frees_before",
        "frees_after",
        "delta_frees",
        "per_alloc_before",
        "per_alloc_after",
        "per_alloc",
        "description",
        "notes",
    ])?;
    let opt_f = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let opt_u = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in &d.rows {
        let status = match r.status {
            RowStatus::Present => "present",
            RowStatus::Appeared => "appeared",
            RowStatus::Disappeared => "disappeared",
        };
        w.write_record([
            r.tag.clone(),
            r.pool.to_string(),
            status.to_owned(),
            r.bytes_before.to_string(),
            r.bytes_after.to_string(),
            r.delta_bytes.to_string(),
            opt_f(r.bytes_per_hour),
            r.diff_before.to_string(),
            r.diff_after.to_string(),
            r.delta_diff.to_string(),
            opt_f(r.diff_per_hour),
            r.allocs_before.to_string(),
            r.allocs_after.to_string(),
            r.delta_allocs.to_string(),
            r.frees_before.to_string(),
            r.frees_after.to_string(),
            r.delta_frees.to_string(),
            opt_u(r.per_alloc_before),
            opt_u(r.per_alloc_after),
            opt_f(r.per_alloc),
            r.description.clone().unwrap_or_default(),
            r.notes.join("; "),
        ])?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::{PoolHeader, PoolRow, SourceRef};

    fn snap(hour: Option<u32>) -> PoolSnapshot {
        PoolSnapshot {
            source: SourceRef::line("s.log", 1),
            host: None,
            taken_at: hour.map(|h| Utc.with_ymd_and_hms(2020, 5, 22, h, 0, 0).unwrap()),
            time_source: TimeSource::TimestampLine,
            header: PoolHeader::default(),
            rows: vec![PoolRow {
                tag: "Toke".into(),
                pool: PoolType::Paged,
                allocs: 10,
                frees: 0,
                diff: 10,
                bytes: 16640,
                per_alloc: 1664,
                driver: None,
            }],
        }
    }

    #[test]
    fn spec_selector_after_the_last_at_sign() {
        let tz = chrono_tz::UTC;
        assert_eq!(parse_spec("a.log@3", tz).selector, Selector::Index(3));
        assert_eq!(parse_spec("a.log@-1", tz).selector, Selector::Index(-1));
        let spec = parse_spec("logs/user@host/a.log@2", tz);
        assert_eq!((spec.path, spec.selector), (PathBuf::from("logs/user@host/a.log"), Selector::Index(2)));
        let spec = parse_spec("logs/user@host/a.log", tz);
        assert_eq!((spec.path, spec.selector), (PathBuf::from("logs/user@host/a.log"), Selector::Default));
        let spec = parse_spec("a.log@2020-05-22 10:30", tz);
        assert_eq!(spec.selector, Selector::Time(Utc.with_ymd_and_hms(2020, 5, 22, 10, 30, 0).unwrap()));
        assert_eq!(parse_spec("a.log@", tz).path, PathBuf::from("a.log@"));
        assert_eq!(parse_spec("@3", tz).path, PathBuf::from("@3"));
    }

    #[test]
    fn existing_file_with_at_sign_is_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("snap@2");
        std::fs::write(&file, "x").unwrap();
        let text = file.display().to_string();
        assert_eq!(parse_spec(&text, chrono_tz::UTC).selector, Selector::Default);
    }

    #[test]
    fn index_selection_is_one_based_with_negative_from_the_end() {
        let snaps = vec![snap(Some(1)), snap(Some(2)), snap(Some(3))];
        let p = Path::new("s.log");
        assert_eq!(select(&snaps, &Selector::Index(1), Side::Before, p).unwrap().0, 0);
        assert_eq!(select(&snaps, &Selector::Index(3), Side::Before, p).unwrap().0, 2);
        assert_eq!(select(&snaps, &Selector::Index(-1), Side::Before, p).unwrap().0, 2);
        assert_eq!(select(&snaps, &Selector::Index(-3), Side::Before, p).unwrap().0, 0);
        assert_eq!(select(&snaps, &Selector::Default, Side::Before, p).unwrap().0, 0);
        assert_eq!(select(&snaps, &Selector::Default, Side::After, p).unwrap().0, 2);
        let err = select(&snaps, &Selector::Index(4), Side::Before, p).unwrap_err().to_string();
        assert!(err.contains("has 3 snapshots"), "{err}");
        let err = select(&snaps, &Selector::Index(-4), Side::Before, p).unwrap_err().to_string();
        assert!(err.contains("has 3 snapshots"), "{err}");
        let err = select(&snaps, &Selector::Index(0), Side::Before, p).unwrap_err().to_string();
        assert!(err.contains("numbered from 1"), "{err}");
    }

    #[test]
    fn time_selection_takes_the_nearest_and_ties_go_earlier() {
        let snaps = vec![snap(Some(1)), snap(None), snap(Some(3))];
        let p = Path::new("s.log");
        let at = |h, m| Selector::Time(Utc.with_ymd_and_hms(2020, 5, 22, h, m, 0).unwrap());
        assert_eq!(select(&snaps, &at(2, 50), Side::Before, p).unwrap().0, 2);
        assert_eq!(select(&snaps, &at(2, 0), Side::Before, p).unwrap().0, 0, "tie goes to the earlier");
        let (i, how) = select(&snaps, &at(3, 0), Side::Before, p).unwrap();
        assert_eq!(i, 2);
        assert!(how.unwrap().contains("taken at"));
        let (_, how) = select(&snaps, &at(0, 30), Side::Before, p).unwrap();
        assert_eq!(how.unwrap(), "the snapshot nearest to 2020-05-22 00:30:00 UTC (taken 30.0 min after)");
        let untimed = vec![snap(None)];
        let err = select(&untimed, &at(1, 0), Side::Before, p).unwrap_err().to_string();
        assert!(err.contains("none of its 1 snapshots has a time"), "{err}");
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_bytes(0.0), "0 B");
        assert_eq!(fmt_bytes(1023.0), "1,023 B");
        assert_eq!(fmt_bytes(1536.0), "1.50 KiB");
        assert_eq!(fmt_bytes(1_495_080_176.0), "1.39 GiB");
        assert_eq!(fmt_bytes(44_564_480.0), "42.5 MiB");
        assert_eq!(fmt_bytes(524_288.0), "512 KiB");
        assert_eq!(fmt_signed_bytes(-512.0), "-512 B");
        assert_eq!(fmt_signed_bytes(2048.0), "+2.00 KiB");
        assert_eq!(fmt_count(1_394_724), "1,394,724");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_signed_count(-1000), "-1,000");
        assert_eq!(fmt_signed_count(0), "0");
    }

    #[test]
    fn text_lists_sides_totals_rows_and_notes() {
        let a = snap(Some(10));
        let mut b = snap(Some(12));
        b.rows[0].allocs = 110;
        b.rows[0].diff = 110;
        b.rows[0].bytes = 110 * 1664;
        let mut d = snapdiff::diff(&a, &b, &DiffOptions::default());
        d.describe_rows(|_| Some("Token objects (nt!se)".to_owned()));
        let text = render_text(&d, true, None);
        assert!(text.starts_with("A: s.log (line 1), taken 2020-05-22 10:00:00 UTC (from a timestamp line)"), "{text}");
        assert!(text.contains("Interval: 2.00 hours"), "{text}");
        assert!(text.contains("+162 KiB"), "{text}");
        assert!(text.contains("1,664 B"), "{text}");
        assert!(text.contains("Appeared in B (0): none"), "{text}");
        assert!(text.contains("+81.2 KiB/h"), "{text}");
        assert!(text.contains("Token objects (nt!se)"), "{text}");
        let csv = String::from_utf8(render_csv(&d).unwrap()).unwrap();
        assert!(csv.lines().nth(1).unwrap().starts_with("Toke,paged,present,16640,183040,166400,83200,"), "{csv}");
        let md = render_markdown(&d, true);
        assert!(md.contains("| `Toke` | paged |"), "{md}");
    }
}
