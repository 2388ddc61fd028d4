//! `index.html`: one self-contained file in PAL's spirit (`../reference/peers.md` §2.5): a title bar,
//! the verdict first, a table of contents, then suspects, pool totals, projections with the
//! projected-against-observed check, attribution (correlations and the accounts behind Token
//! handles), a section per suspect tag (chart, statistics, description, next steps), events, boots,
//! inputs with their time sources and diagnostics, and parameters.
//!
//! Self-contained: the stylesheet is inline, charts are `data:` URIs, there is no script, and a
//! Content-Security-Policy forbids any network access. Log text is untrusted: maud escapes every
//! spliced value, and nothing from the inputs is ever passed through `PreEscaped`.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::chart::build::{main_boot, Role};
use super::series::Summary;
use super::tables::{self, Align, Table};
use super::{format, Exporter, RenderedChart, Report};
use crate::analysis::Suspect;
use crate::error::Result;

/// File name inside the report folder.
pub const FILE_NAME: &str = "index.html";

/// Most diagnostics listed in the HTML (all of them are in `analysis.json`).
const DIAGNOSTICS_SHOWN: usize = 300;

/// The inline stylesheet (the fleet page shares it).
pub(crate) const STYLE: &str = include_str!("report.css");

/// Forbids scripts, frames, fonts and every network request; allows inline style and `data:` images.
pub(crate) const CSP: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// Writes `index.html`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, report: &Report<'_>) -> Result<Vec<u8>> {
        Ok(render(report).into_string().into_bytes())
    }
}

fn table(t: &Table) -> Markup {
    html! {
        div.scroll {
            table {
                thead { tr { @for (h, a) in &t.columns { th.num[*a == Align::Right] { (h) } } } }
                tbody {
                    @for row in &t.rows {
                        tr { @for (cell, (_, a)) in row.iter().zip(&t.columns) { td.num[*a == Align::Right] { (cell) } } }
                    }
                }
            }
        }
    }
}

fn figure(chart: &RenderedChart) -> Markup {
    html! {
        figure {
            img src=(chart.data_uri()) alt=(chart.chart.alt) width="1200" height="700";
            figcaption { (chart.chart.title) ". " (chart.chart.subtitle) ". File: charts/" (chart.file_name) }
        }
    }
}

/// A suspect's section anchor: numbered, so log text never becomes an id.
fn tag_anchor(index: usize) -> String {
    format!("tag-{}", index + 1)
}

/// The suspect sections in order, with their anchors.
fn tag_sections<'a>(report: &Report<'a>) -> Vec<(String, &'a Suspect)> {
    let mut out = Vec::new();
    for host in report.hosts() {
        for s in tables::main_suspects(report, host).into_iter().take(report.max_tag_sections) {
            out.push(s);
        }
    }
    out.into_iter().enumerate().map(|(i, s)| (tag_anchor(i), s)).collect()
}

/// The whole page.
pub fn render(report: &Report<'_>) -> Markup {
    let hosts = report.hosts();
    let sections = tag_sections(report);
    let title =
        format!("Kernel pool leak report: {}", if hosts.is_empty() { "no hosts".to_owned() } else { hosts.join(", ") });
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("poolscope {}", report.version));
                title { (format::clean(&title)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.titlebar {
                    h1 { (format::clean(&title)) }
                    p {
                        "poolscope " (report.version)
                        @if let Some(at) = report.generated_at { " · generated " (format::time_short(at, report.tz)) }
                        " · " (report.inputs.len()) " input file(s) · times in " (report.tz.name())
                    }
                }
                main {
                    (verdict(report))
                    (contents(report, &sections))
                    (suspects(report))
                    (totals(report))
                    (projections(report))
                    (attribution(report))
                    (allocation_stacks(report))
                    @for (anchor, s) in &sections { (tag_section(report, anchor, s)) }
                    (events(report))
                    (boots(report))
                    (inputs(report))
                    (parameters(report))
                    footer {
                        "Written by poolscope " (report.version) " from archived poolmon, handle.exe and event-log files. "
                        "analysis.json holds every number in this report; summary.md is the ticket-ready summary; "
                        "data/ holds the normalised tables."
                    }
                }
            }
        }
    }
}

fn verdict(report: &Report<'_>) -> Markup {
    html! {
        section #verdict {
            h2 { "Verdict" }
            @if report.analysis.verdicts.is_empty() {
                div.verdict { span.flag { "no verdict" } p { "The inputs held no pool series the analysis could use; see Inputs and diagnostics." } }
            }
            @for v in &report.analysis.verdicts {
                div.verdict.leak[v.leak_found] {
                    span.flag { @if v.leak_found { "leak found" } @else { "no significant leak" } }
                    " · " (format::clean(&v.host)) ", boot " (v.boot)
                    dl.block {
                        @for (label, line) in v.block.lines() {
                            dt { (label) } dd { (format::clean(line)) }
                        }
                    }
                    p { (format::clean(&v.text)) }
                }
            }
        }
    }
}

fn contents(report: &Report<'_>, sections: &[(String, &Suspect)]) -> Markup {
    html! {
        nav #contents {
            h2 { "Contents" }
            ol {
                li { a href="#verdict" { "Verdict" } }
                li { a href="#suspects" { "Suspects" } }
                li { a href="#pool-totals" { "Pool over time" } }
                li { a href="#projections" { "Projections" } }
                li { a href="#attribution" { "Attribution: processes, handles, accounts" } }
                @if !report.analysis.allocation_stacks.is_empty() {
                    li { a href="#allocation-stacks" { "Allocation stacks" } }
                }
                @for (anchor, s) in sections {
                    li { a href=(format!("#{anchor}")) { "Tag " span.tag { (format::tag(&s.tag)) } " (" (s.pool) ") on " (format::clean(&s.host)) } }
                }
                li { a href="#events" { "Events in time order" } }
                li { a href="#boots" { "Boots" } }
                li { a href="#inputs" { "Inputs and diagnostics" } }
                li { a href="#parameters" { "Parameters" } }
            }
            @if report.hosts().is_empty() { p.note { "No host had usable records." } }
        }
    }
}

fn suspects(report: &Report<'_>) -> Markup {
    html! {
        section #suspects {
            h2 { "Suspects" }
            p.note {
                "Tags ranked by robust (Theil-Sen) growth after warm-up, kept only when the autocorrelation-corrected "
                "Mann-Kendall test passes the false-discovery-rate gate. The evidence table is the one to paste into a ticket."
            }
            @for host in report.hosts() {
                @let evidence = tables::evidence(report, host);
                @let all = tables::suspects(report, host);
                h3 { (format::clean(host)) ", boot " (main_boot(report.analysis, host)) }
                @if evidence.is_empty() {
                    p { "No pool tag grew significantly." }
                } @else {
                    (table(&evidence))
                }
                // Shown in full rather than folded: a folded <details> does not print.
                @if !all.rows.is_empty() && (all.rows.len() > evidence.rows.len() || report.source.boots(host).len() > 1) {
                    p.note { "All growing tags of every boot (" (all.rows.len()) "), with their statistics:" }
                    (table(&all))
                }
                @for c in charts_of(report, |r| matches!(r, Role::TopTags { host: h, .. } | Role::Rejected { host: h, .. } if h == host)) { (figure(c)) }
                @let undecided = tables::undecided(report, host);
                @if !undecided.is_empty() {
                    p.note { "Undecided: growth that still looks like a cache warming up (slowing, no fixed allocation size). Not suspects, not cleared:" }
                    (table(&undecided))
                }
                @for b in report.analysis.boots.iter().filter(|b| b.host == *host) {
                    @if let Some(short) = &b.too_short {
                        p.note { "Boot " (b.boot) ": capture too short to separate a leak from warm-up (" (format!("{:.1}", short.hours)) " h; need " (format!("{:.1}", short.need_hours)) " h), so no suspects and no projection." }
                    }
                }
            }
        }
    }
}

fn charts_of<'r>(report: &'r Report<'_>, keep: impl Fn(&Role) -> bool) -> Vec<&'r RenderedChart> {
    report.charts.iter().filter(|c| keep(&c.role)).collect()
}

fn totals(report: &Report<'_>) -> Markup {
    html! {
        section #pool-totals {
            h2 { "Pool over time" }
            p.note { "Paged and nonpaged pool totals with boots, logged exhaustion events (2004, 2019/2020, 6008, 41) and the limits." }
            @for c in charts_of(report, |r| matches!(r, Role::Totals { .. })) { (figure(c)) }
            @if charts_of(report, |r| matches!(r, Role::Totals { .. })).is_empty() { p { "No pool totals to draw." } }
        }
    }
}

fn projections(report: &Report<'_>) -> Markup {
    html! {
        section #projections {
            h2 { "Projections" }
            p.note {
                "Time to exhaustion from the sustained growth (suspects' robust slopes plus the residual trend), with the "
                "naive straight-line fit of the total for comparison, PAL's 60% and 80% crossings, and the model check: "
                "projected against observed exhaustion when the archive holds the hang."
            }
            @for host in report.hosts() {
                @let t = tables::projections(report, host);
                @if !t.is_empty() {
                    h3 { (format::clean(host)) }
                    (table(&t))
                }
                @for c in charts_of(report, |r| matches!(r, Role::Projection { host: h, .. } if h == host)) { (figure(c)) }
            }
            @if report.analysis.projections.is_empty() { p { "No projection: no limit was known or nothing grew." } }
        }
    }
}

fn attribution(report: &Report<'_>) -> Markup {
    html! {
        section #attribution {
            h2 { "Attribution: processes, handles, accounts" }
            p.note {
                "Who holds the leaked objects: for a tag that allocates a kernel object (Toke: Token), the process whose handles of that type grow "
                "between its handle.exe dumps, as a share of the type's system-wide growth (from handle -s summaries), and the account "
                "behind that process's Token handles. Correlations below are supporting evidence only: Spearman on per-interval increments "
                "(not levels: any two growing series correlate on levels) at the best of seven lags, kept when their Benjamini-Hochberg q "
                "over every series tested (lags counted) is below 0.05, or when the type is the tag's own object."
            }
            @for host in report.hosts() {
                @let who = tables::attributions(report, host);
                @let t = tables::correlations(report, host);
                @let accounts = tables::accounts(report, host);
                @let charts = charts_of(report, |r| matches!(r, Role::Accounts { host: h, .. } | Role::Handles { host: h, .. } if h == host));
                @if !who.is_empty() || !t.is_empty() || !accounts.is_empty() || !charts.is_empty() {
                    h3 { (format::clean(host)) }
                }
                @if !who.is_empty() { (table(&who)) }
                @if !t.is_empty() { h4 { "Correlations (supporting)" } (table(&t)) }
                @for (process, boot, accounts) in &accounts {
                    h3 { "Token handles held by " (format::clean(process)) " in boot " (boot) ", by account" }
                    p.note { "Counted from handle.exe dumps (Token handle names are DOMAIN\\user:logon-session)." }
                    (table(accounts))
                }
                @for c in &charts { (figure(c)) }
            }
            @if report.analysis.correlations.is_empty() && report.analysis.attributions.is_empty() { p { "No handle series moved with a suspect tag (or no handle.exe output was given)." } }
        }
    }
}

/// Who allocates the traced tags (WPA pool tables); absent when the archive holds none.
fn allocation_stacks(report: &Report<'_>) -> Markup {
    if report.analysis.allocation_stacks.is_empty() {
        return html! {};
    }
    html! {
        section #allocation-stacks {
            h2 { "Allocation stacks" }
            p.note {
                "From the WPA pool tables of a Pool usage trace (wpaexporter or Export to CSV). AIFO allocations were made "
                "inside the trace and were still outstanding at its end: the leak candidates. A caller is the first frame "
                "above the pool allocator and its generic layers (ExAllocatePool*, the segment heap, the object manager's "
                "object allocation). Every traced tag is listed; only a suspect's stacks are in the verdict."
            }
            @for host in report.hosts() {
                @let tags = super::stacks::tags(report.analysis, host);
                @if !tags.is_empty() {
                    h3 { (format::clean(host)) }
                    (table(&tags))
                    @let callers = super::stacks::callers(report.analysis, host);
                    @if !callers.is_empty() {
                        h4 { "Callers of the AIFO allocations" }
                        (table(&callers))
                    }
                }
            }
        }
    }
}

fn next_steps(report: &Report<'_>, s: &Suspect) -> Markup {
    let tag = format::clean(&s.tag);
    // WinDbg's pool commands take `?` for one character: a tag's trailing spaces become `?`.
    let wild = format!("{}{}", tag.trim_end(), "?".repeat(tag.len() - tag.trim_end().len()));
    let token = tables::accounts(report, &s.host);
    html! {
        ul {
            @if s.driver.is_none() && s.description.is_none() {
                li { "Find the binary that uses the tag: " code { "findstr /m /l /c:\"" (tag) "\" %SystemRoot%\\System32\\drivers\\*.sys" } ", or pass a pooltag.txt with --pooltag." }
            }
            li { "In a kernel dump or live debugger: " code { "!poolfind " (wild) } " and " code { "!poolused 4 " (wild) } " to see the allocations." }
            li { "Record who allocates: a WPR pool trace filtered by tag (" code { "<PoolTags>" (tag) "</PoolTags>" } " in a custom profile), then the stacks in WPA." }
            li { "Confirm with Driver Verifier's special pool for the suspected driver, on a test machine first." }
            @if !token.is_empty() && s.tag.starts_with("Toke") {
                li { "Token handles grow for the accounts listed under Attribution: find the service or job that logs on as the top account." }
            }
        }
    }
}

fn tag_section(report: &Report<'_>, anchor: &str, s: &Suspect) -> Markup {
    let key = (s.tag.clone(), s.pool);
    let series = report.source.tags(&s.host, s.boot, std::slice::from_ref(&key));
    let summary = series.get(&key).and_then(|p| Summary::of(&p.bytes.values));
    let role = Role::Tag { host: s.host.clone(), boot: s.boot, tag: s.tag.clone(), pool: s.pool };
    html! {
        section.tag-section id=(anchor) {
            h2 { "Tag " span.tag { (format::tag(&s.tag)) } " (" (s.pool) ") on " (format::clean(&s.host)) ", rank " (s.rank) }
            dl.facts {
                dt { "Binary" } dd { (s.driver.as_deref().map_or_else(|| "unknown".to_owned(), format::clean)) }
                dt { "What it is" } dd { (s.description.as_deref().map_or_else(|| "no description known".to_owned(), format::clean)) }
                dt { "Now" } dd { (format::bytes_exact(s.bytes_now)) " in " (format::count_u(s.outstanding_now)) " outstanding allocations" }
                dt { "Growth" } dd { (format::bytes_rate(s.bytes_per_hour)) ", " (format::percent(s.share_of_growth)) " of the pool's growth" }
            }
            @if let Some(c) = report.chart(&role) { (figure(c)) }
            h3 { "Statistics" }
            (table(&tables::tag_statistics(s, summary.as_ref())))
            h3 { "Next steps" }
            (next_steps(report, s))
        }
    }
}

fn events(report: &Report<'_>) -> Markup {
    html! {
        section #events {
            h2 { "Events in time order" }
            p.note { "Exhaustion (2004), pool empty (2019/2020), unexpected shutdowns (6008, 41, 1076), boots and shutdowns. A 6008 is placed at the shutdown time it reports." }
            @for host in report.hosts() {
                @let t = tables::events(report, host);
                @if !t.is_empty() { h3 { (format::clean(host)) } (table(&t)) }
            }
            @if report.events.is_empty() { p { "No event logs were given, or they held none of these events." } }
        }
    }
}

fn boots(report: &Report<'_>) -> Markup {
    html! {
        section #boots {
            h2 { "Boots" }
            @for host in report.hosts() {
                @let t = tables::boots(report, host);
                @if !t.is_empty() { h3 { (format::clean(host)) } (table(&t)) }
            }
            @if report.analysis.boots.is_empty() { p { "No boots were found." } }
        }
    }
}

fn inputs(report: &Report<'_>) -> Markup {
    let diagnostics = tables::diagnostics(report, DIAGNOSTICS_SHOWN);
    html! {
        section #inputs {
            h2 { "Inputs and diagnostics" }
            (table(&tables::inputs(report)))
            h3 { "Diagnostics (" (report.diagnostics.len()) ")" }
            @if diagnostics.is_empty() {
                p { "None: every line and record was read." }
            } @else {
                (table(&diagnostics))
                @if report.diagnostics.len() > DIAGNOSTICS_SHOWN {
                    p.note { (report.diagnostics.len() - DIAGNOSTICS_SHOWN) " more diagnostics are in analysis.json." }
                }
            }
        }
    }
}

fn parameters(report: &Report<'_>) -> Markup {
    html! {
        section #parameters {
            h2 { "Parameters" }
            (table(&tables::parameters(report)))
        }
    }
}
