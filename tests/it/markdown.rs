//! Markdown as a ticket renders it: `summary.md` and `analyze --format markdown` parsed with a real
//! CommonMark + GFM parser (pulldown-cmark), asserting the structure a reader sees, not the source text.

use assert_cmd::Command;
use pulldown_cmark::{Alignment, Event, Options, Parser, Tag, TagEnd};

const DEMO: &str = "fixtures/incidents/lsass-token-leak";
/// The most columns a table may have to fit a ticket's text box.
const MAX_COLUMNS: usize = 6;

/// A rendered GFM table: alignments, header cells and body rows as the reader sees their text.
#[derive(Debug, Default)]
pub struct Rendered {
    pub align: Vec<Alignment>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// What a Markdown document renders to: its tables, its list items' text, whether it has raw HTML or
/// links, and all of its text.
#[derive(Debug, Default)]
pub struct Document {
    pub tables: Vec<Rendered>,
    pub items: Vec<String>,
    pub html: usize,
    pub links: usize,
    pub text: String,
}

/// Parses Markdown with GFM tables and collects what a reader sees.
pub fn render(md: &str) -> Document {
    let mut doc = Document::default();
    let mut cell: Option<String> = None;
    let mut row: Vec<String> = Vec::new();
    let mut in_head = false;
    let mut item_depth = 0usize;
    let mut item = String::new();
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Table(align)) => doc.tables.push(Rendered { align, ..Rendered::default() }),
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                if let Some(t) = doc.tables.last_mut() {
                    t.header = std::mem::take(&mut row);
                }
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                row.push(cell.take().unwrap_or_default());
                doc.text.push('\n');
            }
            Event::End(TagEnd::TableRow) if !in_head => {
                if let Some(t) = doc.tables.last_mut() {
                    t.rows.push(std::mem::take(&mut row));
                }
            }
            Event::Start(Tag::Item) => {
                item_depth += 1;
                item.clear();
            }
            Event::End(TagEnd::Item) => {
                doc.text.push('\n');
                item_depth -= 1;
                doc.items.push(item.trim().to_owned());
                item.clear();
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => doc.links += 1,
            Event::Html(_) | Event::InlineHtml(_) => doc.html += 1,
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
                if item_depth > 0 {
                    item.push_str(&t);
                }
                doc.text.push_str(&t);
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_)) => doc.text.push('\n'),
            _ => {}
        }
    }
    doc
}

/// Every table has at most six columns, every row as many cells as the header, and the number columns
/// that are known to hold numbers right-aligned.
pub fn assert_pasteable(doc: &Document, what: &str) {
    assert!(!doc.tables.is_empty(), "{what}: no tables rendered");
    for t in &doc.tables {
        assert!(t.header.len() <= MAX_COLUMNS, "{what}: {} columns in {:?}", t.header.len(), t.header);
        for r in &t.rows {
            assert_eq!(r.len(), t.header.len(), "{what}: row {r:?} under {:?}", t.header);
        }
        for (h, a) in t.header.iter().zip(&t.align) {
            if ["Bytes", "Per alloc", "Rate/hour", "Growth/hour", "rate", "per alloc", "Boot", "boot"]
                .contains(&h.as_str())
            {
                assert_eq!(*a, Alignment::Right, "{what}: column {h} is not right-aligned");
            }
        }
    }
    assert_eq!(doc.html, 0, "{what}: raw HTML in the Markdown");
    assert_eq!(doc.links, 0, "{what}: links in the Markdown");
}

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").unwrap()
}

#[test]
fn summary_md_renders_as_gfm_tables_a_ticket_can_hold() {
    let dir = tempfile::tempdir().unwrap();
    poolscope().args(["-q", "report", DEMO, "-o"]).arg(dir.path()).assert().success();
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let doc = render(&md);
    assert_pasteable(&doc, "summary.md");
    // The verdict block comes first, as list items a reader sees with one backslash in the account.
    assert!(doc.items.first().is_some_and(|i| i.starts_with("What leaks: Toke in paged pool")), "{:?}", doc.items);
    let who = doc.items.iter().find(|i| i.starts_with("Who:")).expect("a Who line");
    assert!(who.contains("lsass.exe (pid 528)") && who.contains("CONTOSO\\svc-scan"), "{who}");
    assert!(!md.contains("\\\\"), "summary.md carries doubled backslashes:\n{md}");
    // The attribution table names the process and the account as the reader sees them.
    let attribution = doc.tables.iter().find(|t| t.header.iter().any(|h| h == "Process")).expect("attribution");
    assert!(attribution.rows[0].iter().any(|c| c == "CONTOSO\\svc-scan (100%)"), "{:?}", attribution.rows);
    // The accounts table is the account that grows plus one row for the rest, not nine rows at 0/h.
    let accounts = doc.tables.iter().find(|t| t.header.first().is_some_and(|h| h == "Account")).expect("accounts");
    assert!(accounts.rows.len() <= 3, "{:?}", accounts.rows);
    assert_eq!(accounts.rows[0][0], "CONTOSO\\svc-scan");
}

#[test]
fn analyze_markdown_renders_as_gfm_tables_a_ticket_can_hold() {
    let out = poolscope().args(["analyze", DEMO, "--format", "markdown", "-q"]).assert().success();
    let md = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let doc = render(&md);
    assert_pasteable(&doc, "analyze --format markdown");
    let suspects = &doc.tables[0];
    assert_eq!(suspects.header[..3], ["boot", "tag", "pool"], "{:?}", suspects.header);
    assert_eq!(suspects.rows[0][1], "Toke");
    assert!(doc.text.contains("CONTOSO\\svc-scan"));
}
