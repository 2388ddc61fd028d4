//! Aligned text tables that fit the terminal.
//!
//! Every command prints its tables through [`TextTable`], so they all follow one rule: a table is printed at
//! its natural width when that fits; otherwise free-text columns fold onto several lines, then the least
//! important columns are left out (and the table says which, and that `--wide` shows them); when even the
//! essential columns do not fit, each row becomes a block of `label  value` lines. The same model renders
//! GitHub-flavoured Markdown (at most [`MARKDOWN_COLUMNS`] columns) and CSV. The command line decides the
//! width (`--wide`, `COLUMNS`, the terminal, else 100 columns).

use std::fmt::Write as _;

use crate::report::format::clean as sanitize;

/// A folded column keeps at least this many characters per line (or its header's width).
const MIN_FOLDED: usize = 12;
/// Words up to this long are kept whole when a column folds.
const MAX_WHOLE_WORD: usize = 24;
/// Folding below this width makes tall, hard-to-read cells: optional columns are left out first.
const COMFORTABLE_FOLD: usize = 30;
/// Space between columns.
const GAP: usize = 2;
/// Most columns of a Markdown table: wider tables do not fit a ticket's text box or a phone screen.
pub const MARKDOWN_COLUMNS: usize = 6;

/// Where a column's text sits in its cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: flush left.
    Left,
    /// Numbers: flush right, so digits line up.
    Right,
}

/// One column of a [`TextTable`].
#[derive(Debug, Clone)]
pub struct Column {
    /// The header line's text.
    pub header: String,
    /// Alignment of the cells.
    pub align: Align,
    /// Whether long cells may fold onto several lines (free text such as evidence or descriptions).
    pub fold: bool,
    /// 0: always shown; higher numbers are left out first when the table is too wide.
    pub drop_order: u8,
}

impl Column {
    /// A left-aligned column that is always shown and never folds.
    pub fn new(header: &str) -> Self {
        Self { header: header.to_owned(), align: Align::Left, fold: false, drop_order: 0 }
    }

    /// Right-aligned (numbers).
    #[must_use]
    pub fn right(mut self) -> Self {
        self.align = Align::Right;
        self
    }

    /// May fold onto several lines.
    #[must_use]
    pub fn fold(mut self) -> Self {
        self.fold = true;
        self
    }

    /// Left out when the table does not fit; higher `order`s go first.
    #[must_use]
    pub fn optional(mut self, order: u8) -> Self {
        self.drop_order = order;
        self
    }
}

/// A table of plain-text cells (log text is sanitised when rendered).
#[derive(Debug, Clone)]
pub struct TextTable {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows; each has one cell per column (missing cells render empty).
    pub rows: Vec<Vec<String>>,
}

/// Columns from compact specs `header` or `header@flags`: `r` right-aligned, `f` folds, a digit the drop
/// order (`"rate@r"`, `"evidence@f"`, `"q@r3"`). Keeps long column lists readable at the call site.
pub fn columns(specs: &[&str]) -> Vec<Column> {
    specs
        .iter()
        .map(|spec| {
            let (header, flags) = spec.rsplit_once('@').unwrap_or((spec, ""));
            let mut c = Column::new(header);
            for f in flags.chars() {
                match f {
                    'r' => c = c.right(),
                    'f' => c = c.fold(),
                    d if d.is_ascii_digit() => c = c.optional(d as u8 - b'0'),
                    _ => {}
                }
            }
            c
        })
        .collect()
}

impl TextTable {
    /// A table with these columns and no rows.
    pub fn new(columns: Vec<Column>) -> Self {
        Self { columns, rows: Vec::new() }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Renders the table, each line after `indent`, fitted to `width` (see the module documentation).
    pub fn render(&self, indent: &str, width: Option<usize>) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| (0..self.columns.len()).map(|i| r.get(i).map_or_else(String::new, |c| sanitize(c))).collect())
            .collect();
        let natural: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                cells.iter().map(|r| r[i].chars().count()).chain([c.header.chars().count()]).max().unwrap_or(0)
            })
            .collect();
        // Folding never cuts a word shorter than this (a cut "PhysicalMemorySize" reads worse than a
        // column two characters wider).
        let longest_word: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                cells
                    .iter()
                    .flat_map(|r| r[i].split(' '))
                    .map(|w| w.chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(MAX_WHOLE_WORD)
            })
            .collect();
        let Some(width) = width else {
            let shown: Vec<usize> = (0..self.columns.len()).collect();
            return self.grid(indent, &cells, &shown, &natural);
        };
        let room = width.saturating_sub(indent.chars().count());
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        loop {
            let droppable = shown.iter().any(|&c| self.columns[c].drop_order > 0);
            let narrowest = if droppable { COMFORTABLE_FOLD } else { MIN_FOLDED };
            if let Some(widths) = self.fit(&shown, &natural, &longest_word, room, narrowest) {
                let mut out = self.grid(indent, &cells, &shown, &widths);
                let hidden: Vec<&str> = (0..self.columns.len())
                    .filter(|i| !shown.contains(i))
                    .map(|i| self.columns[i].header.as_str())
                    .collect();
                if !hidden.is_empty() {
                    // A long list (one column per series) is named by its first few.
                    let named = if hidden.len() > 6 {
                        format!("{} and {} more", hidden[..3].join(", "), hidden.len() - 3)
                    } else {
                        hidden.join(", ")
                    };
                    let note = format!("(not shown at {width} columns: {named}; --wide shows them)");
                    out.push_str(&wrap(&note, Some(width), indent, indent));
                }
                return out;
            }
            match self.least_important(&shown) {
                Some(pos) => {
                    shown.remove(pos);
                }
                None => return self.records(indent, &cells, room),
            }
        }
    }

    /// The position in `shown` of the column that matters least: the rightmost of the highest drop order;
    /// `None` when only essential columns are left.
    fn least_important(&self, shown: &[usize]) -> Option<usize> {
        shown
            .iter()
            .enumerate()
            .filter(|(_, &c)| self.columns[c].drop_order > 0)
            .max_by_key(|(pos, &c)| (self.columns[c].drop_order, *pos))
            .map(|(pos, _)| pos)
    }

    /// Column widths for `shown` within `room`, folding foldable columns down to `narrowest` characters (or
    /// their header) at most; `None` if even that is too wide.
    fn fit(
        &self,
        shown: &[usize],
        natural: &[usize],
        longest_word: &[usize],
        room: usize,
        narrowest: usize,
    ) -> Option<Vec<usize>> {
        let mut widths: Vec<usize> = natural.to_vec();
        let total = |w: &[usize]| shown.iter().map(|&i| w[i]).sum::<usize>() + GAP * shown.len().saturating_sub(1);
        while total(&widths) > room {
            // Narrow the widest foldable column that can still give.
            let candidate = shown
                .iter()
                .copied()
                .filter(|&i| {
                    // Words stay whole while columns can still be left out; after that, fitting wins.
                    let whole = if narrowest > MIN_FOLDED { longest_word[i] } else { 0 };
                    self.columns[i].fold && widths[i] > self.min_folded(i, narrowest).max(whole)
                })
                .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)))?;
            widths[candidate] -= 1;
        }
        Some(widths)
    }

    fn min_folded(&self, column: usize, narrowest: usize) -> usize {
        self.columns[column].header.chars().count().max(narrowest)
    }

    /// The aligned grid of the shown columns; cells wider than their column fold at word boundaries.
    fn grid(&self, indent: &str, cells: &[Vec<String>], shown: &[usize], widths: &[usize]) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| c.header.clone()).collect();
        for row in std::iter::once(&header).chain(cells) {
            let folded: Vec<Vec<String>> = shown.iter().map(|&i| fold(&row[i], widths[i])).collect();
            let height = folded.iter().map(Vec::len).max().unwrap_or(1).max(1);
            for line_no in 0..height {
                let mut line = String::from(indent);
                for (pos, (&i, lines)) in shown.iter().zip(&folded).enumerate() {
                    if pos > 0 {
                        line.push_str(&" ".repeat(GAP));
                    }
                    let text = lines.get(line_no).map_or("", String::as_str);
                    let pad = widths[i].saturating_sub(text.chars().count());
                    match self.columns[i].align {
                        Align::Left => {
                            line.push_str(text);
                            line.push_str(&" ".repeat(pad));
                        }
                        Align::Right => {
                            line.push_str(&" ".repeat(pad));
                            line.push_str(text);
                        }
                    }
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        out
    }

    /// One block per row: the always-shown cells as its heading, then `label  value` lines for the rest
    /// (values folded to the room left; empty and "-" cells left out).
    fn records(&self, indent: &str, cells: &[Vec<String>], room: usize) -> String {
        let mut out = String::new();
        let label_width = self.columns.iter().map(|c| c.header.chars().count()).max().unwrap_or(0);
        let value_room = room.saturating_sub(label_width + GAP).max(MIN_FOLDED);
        for (n, row) in cells.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            for (column, cell) in self.columns.iter().zip(row) {
                if cell.is_empty() || cell == "-" {
                    continue;
                }
                for (k, piece) in fold(cell, value_room).iter().enumerate() {
                    let label = if k == 0 { column.header.as_str() } else { "" };
                    let _ = writeln!(out, "{indent}{label:<label_width$}{}{piece}", " ".repeat(GAP));
                }
            }
        }
        out
    }
}

impl TextTable {
    /// Renders GitHub-flavoured Markdown: at most [`MARKDOWN_COLUMNS`] columns (optional columns are left
    /// out first, most optional first; a table with more essential columns continues in a second table that
    /// repeats the first column), numbers right-aligned, cells escaped only as GFM needs
    /// ([`markdown_cell`]). Says which columns were left out.
    pub fn render_markdown(&self) -> String {
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        while shown.len() > MARKDOWN_COLUMNS {
            match self.least_important(&shown) {
                Some(pos) => {
                    shown.remove(pos);
                }
                None => break,
            }
        }
        let mut out = String::new();
        let mut parts: Vec<Vec<usize>> = Vec::new();
        if shown.len() <= MARKDOWN_COLUMNS {
            parts.push(shown.clone());
        } else {
            let (key, rest) = shown.split_first().map_or((0, &[][..]), |(k, r)| (*k, r));
            for chunk in rest.chunks(MARKDOWN_COLUMNS - 1) {
                parts.push(std::iter::once(key).chain(chunk.iter().copied()).collect());
            }
        }
        for (n, part) in parts.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            let head: Vec<String> = part.iter().map(|&i| markdown_cell(&self.columns[i].header)).collect();
            let _ = writeln!(out, "| {} |", head.join(" | "));
            let rule: Vec<&str> =
                part.iter().map(|&i| if self.columns[i].align == Align::Right { "---:" } else { "---" }).collect();
            let _ = writeln!(out, "| {} |", rule.join(" | "));
            for row in &self.rows {
                let cells: Vec<String> =
                    part.iter().map(|&i| row.get(i).map_or_else(String::new, |c| markdown_cell(c))).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
        }
        let hidden: Vec<&str> =
            (0..self.columns.len()).filter(|i| !shown.contains(i)).map(|i| self.columns[i].header.as_str()).collect();
        if !hidden.is_empty() {
            let _ = writeln!(out, "\nLeft out here: {}.", markdown_cell(&hidden.join(", ")));
        }
        out
    }

    /// Renders CSV (RFC 4180 quoting): the header row, then every row with every column.
    pub fn render_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(self.columns.iter().map(|c| c.header.as_str()));
        for row in &self.rows {
            let _ = writer.write_record((0..self.columns.len()).map(|i| row.get(i).map_or("", String::as_str)));
        }
        writer.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

/// Escapes log text for GitHub-flavoured Markdown, only as far as GFM needs, so the text still reads as
/// itself in a viewer that shows the source: `|` (a new cell), `*`, `` ` ``, `[`, `]`, `~` (markup), `_`
/// at a word edge (emphasis; inside a word GFM leaves it alone), a backslash only before punctuation (where
/// it would escape it: `CONTOSO\svc-scan` stays as it is), `<`, `>`, `&` as entities (no raw HTML), control
/// characters as `?`.
pub fn markdown_cell(text: &str) -> String {
    let chars: Vec<char> = sanitize(text).chars().collect();
    let mut out = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let after = chars.get(i + 1).copied();
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' | '*' | '`' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !(before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphanumeric)) => {
                out.push_str("\\_");
            }
            '\\' if after.is_none_or(|a| a.is_ascii_punctuation()) => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out
}

/// Units that never start a line: a figure and its unit (`1.35 GiB`, `+23.2 MiB/h`) stay together.
const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB", "B/h", "KiB/h", "MiB/h", "GiB/h", "TiB/h", "h", "%", "UTC"];

/// The words of a text, each unit joined to the figure before it.
fn words<'a>(pieces: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in pieces.filter(|w| !w.is_empty()) {
        let unit = UNITS.contains(&piece.trim_end_matches([',', ';', '.', ')', ':']));
        match out.last_mut() {
            Some(last) if unit && last.ends_with(|c: char| c.is_ascii_digit()) => {
                last.push(' ');
                last.push_str(piece);
            }
            _ => out.push(piece.to_owned()),
        }
    }
    out
}

/// Folds text into lines of at most `width` characters at spaces; a word longer than a line is cut.
pub fn fold(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    if text.chars().count() <= width {
        return vec![text.to_owned()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words(text.split(' ')) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let sep = usize::from(used > 0);
            if used + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word wider than the whole line: cut it.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Wraps text at word boundaries to `width` columns (unlimited when `None`): the first line after `first`, the
/// rest after `rest`. A word longer than a line stays whole.
pub fn wrap(text: &str, width: Option<usize>, first: &str, rest: &str) -> String {
    let width = width.unwrap_or(usize::MAX);
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in words(text.split_whitespace()) {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            rest.clone_into(&mut line);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_and_its_unit_stay_on_one_line() {
        assert_eq!(
            wrap("commit 4.25 GiB of 4.25 GiB; processes 1.35 GiB", Some(30), "", ""),
            "commit 4.25 GiB of 4.25 GiB;\nprocesses 1.35 GiB\n"
        );
        assert_eq!(fold("grows +23.2 MiB/h since boot", 13), ["grows", "+23.2 MiB/h", "since boot"]);
        // A unit after a word is a word.
        assert_eq!(fold("B side of the tape", 6), ["B side", "of the", "tape"]);
    }

    fn sample() -> TextTable {
        let mut t = TextTable::new(vec![
            Column::new("tag"),
            Column::new("rate").right(),
            Column::new("range").optional(2),
            Column::new("q").right().optional(1),
            Column::new("evidence").fold(),
        ]);
        t.push(vec![
            "Toke".into(),
            "24.8 MiB/h".into(),
            "2020-05-22 13:51 .. 2020-05-22 13:52".into(),
            "3.5e-9".into(),
            "event 2004 PagedPoolUsage (paged pool when commit ran out)".into(),
        ]);
        t.push(vec!["MmSt".into(), "1.2 KiB/h".into(), "-".into(), "0.4".into(), "-".into()]);
        t
    }

    fn widest(text: &str) -> usize {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    #[test]
    fn natural_width_when_it_fits_or_wide() {
        let t = sample();
        let wide = t.render("  ", None);
        assert_eq!(wide, t.render("  ", Some(500)));
        assert!(wide.lines().next().unwrap().starts_with("  tag   "));
        assert_eq!(wide.lines().count(), 3);
        assert!(widest(&wide) > 100);
        // Numbers are flush right under their header.
        let lines: Vec<&str> = wide.lines().collect();
        let end = lines[1].find("MiB/h").unwrap() + 5;
        assert_eq!(lines[2].find("KiB/h").unwrap() + 5, end);
    }

    #[test]
    fn narrow_folds_then_drops_columns_and_says_so() {
        let t = sample();
        let at80 = t.render("  ", Some(80));
        assert!(widest(&at80) <= 80, "{at80}");
        assert!(at80.contains("(not shown at 80 columns: range; --wide shows them)"), "{at80}");
        assert!(at80.contains("3.5e-9"));
        // Evidence folded, not cut: every word is still there.
        for word in ["PagedPoolUsage", "(paged", "commit", "out)"] {
            assert!(at80.contains(word), "{word} missing in\n{at80}");
        }
        let at60 = t.render("  ", Some(60));
        assert!(widest(&at60) <= 60, "{at60}");
        assert!(at60.contains("(not shown at 60 columns: range; --wide shows them)"), "{at60}");
        // With no optional column left, free text folds below the comfortable width.
        let at44 = t.render("  ", Some(44));
        assert!(widest(&at44) <= 44, "{at44}");
        assert!(at44.contains("not shown at 44 columns: range, q;"), "{at44}");
        assert!(at44.contains("PagedPoolUsage"), "{at44}");
    }

    #[test]
    fn too_narrow_for_the_essentials_becomes_records() {
        let mut t = TextTable::new(vec![Column::new("host"), Column::new("a long header one"), Column::new("two")]);
        t.push(vec!["SRV-APP01".into(), "x".repeat(30), "-".into()]);
        t.push(vec!["SRV-APP02".into(), "y".into(), "z".into()]);
        let out = t.render("", Some(40));
        assert!(widest(&out) <= 40, "{out}");
        assert!(out.starts_with("host               SRV-APP01\na long header one  xxxxxxxxxxxxxxxxxxxx"), "{out}");
        // "-" is left out of a record; the second record follows a blank line.
        assert!(!out.contains("two                -"), "{out}");
        assert!(out.contains("\n\nhost               SRV-APP02\n"), "{out}");
    }

    #[test]
    fn log_text_is_sanitised() {
        let mut t = TextTable::new(vec![Column::new("name")]);
        t.push(vec!["evil\u{1b}[31mred".into()]);
        let out = t.render("", None);
        assert!(!out.contains('\u{1b}'), "{out:?}");
    }

    #[test]
    fn markdown_keeps_six_columns_and_says_what_it_left_out() {
        let mut t = TextTable::new(vec![
            Column::new("a"),
            Column::new("b").right(),
            Column::new("c").optional(1),
            Column::new("d"),
            Column::new("e").optional(3),
            Column::new("f"),
            Column::new("g"),
            Column::new("h").optional(2),
        ]);
        t.push((1..=8).map(|i| i.to_string()).collect());
        let md = t.render_markdown();
        assert!(
            md.starts_with(
                "| a | b | c | d | f | g |\n| --- | ---: | --- | --- | --- | --- |\n| 1 | 2 | 3 | 4 | 6 | 7 |\n"
            ),
            "{md}"
        );
        assert!(md.ends_with("\nLeft out here: e, h.\n"), "{md}");
        // More essential columns than fit: a second table repeats the first column.
        let wide = TextTable::new((0..8).map(|i| Column::new(&format!("c{i}"))).collect());
        let md = wide.render_markdown();
        assert!(md.contains("| c0 | c1 | c2 | c3 | c4 | c5 |\n"), "{md}");
        assert!(md.contains("| c0 | c6 | c7 |\n"), "{md}");
    }

    #[test]
    fn markdown_escapes_only_what_gfm_needs() {
        assert_eq!(markdown_cell("CONTOSO\\svc-scan"), "CONTOSO\\svc-scan");
        assert_eq!(markdown_cell("svc_scan"), "svc_scan");
        assert_eq!(markdown_cell("_x_"), "\\_x\\_");
        assert_eq!(markdown_cell("a|b"), "a\\|b");
        assert_eq!(markdown_cell("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(markdown_cell("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(markdown_cell("C:\\*"), "C:\\\\\\*");
        assert_eq!(markdown_cell("end\\"), "end\\\\");
        assert_eq!(markdown_cell("a\u{1b}b"), r"a\x1bb");
    }

    #[test]
    fn csv_has_every_column() {
        let csv = sample().render_csv();
        assert!(
            csv.starts_with("tag,rate,range,q,evidence\nToke,24.8 MiB/h,2020-05-22 13:51 .. 2020-05-22 13:52,3.5e-9,"),
            "{csv}"
        );
        assert_eq!(csv.lines().count(), 3);
    }

    #[test]
    fn column_specs() {
        let c = columns(&["host", "rate@r", "evidence@f2", "95% CI@3"]);
        assert_eq!(c[0].header, "host");
        assert_eq!((c[1].align, c[1].fold, c[1].drop_order), (Align::Right, false, 0));
        assert_eq!((c[2].align, c[2].fold, c[2].drop_order), (Align::Left, true, 2));
        assert_eq!((c[3].header.as_str(), c[3].drop_order), ("95% CI", 3));
    }

    #[test]
    fn fold_keeps_every_character() {
        assert_eq!(fold("abc def ghi", 7), vec!["abc def", "ghi"]);
        assert_eq!(fold("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(fold("short", 10), vec!["short"]);
        assert_eq!(fold("", 3), vec![""]);
    }

    #[test]
    fn wrap_hangs_under_the_first_line() {
        let out = wrap("one two three four", Some(12), "- ", "  ");
        assert_eq!(out, "- one two\n  three four\n");
        assert_eq!(wrap("one two", None, "", ""), "one two\n");
    }
}
