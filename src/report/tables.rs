//! The report's tables as plain text cells, shared by the Markdown and HTML exporters (hyperfine's
//! `MarkupExporter` idea: one table model, per-format rendering and escaping).

use chrono::{DateTime, Utc};

use super::chart::build::{correlations_of, main_boot, resource_of};
use super::format;
use super::inputs::time_source_words;
use super::series::{Summary, SYSTEM_PROCESS};
use super::Report;
use crate::analysis::{Projection, Resource, Suspect};
use crate::model::Severity;

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table of plain-text cells (unescaped: each exporter escapes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column headings and alignment.
    pub columns: Vec<(&'static str, Align)>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&'static str, Align)]) -> Self {
        Self { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

use Align::{Left as L, Right as R};

/// Most suspects in the evidence table (the rest are in `analysis.json`).
pub const EVIDENCE_ROWS: usize = 10;

/// Boot numbers as words: "boot 0", "boots 1, 2", "-" for none (a bare "0" reads as "zero boots").
pub fn boots_words(boots: &[u32]) -> String {
    match boots {
        [] => "-".to_owned(),
        [one] => format!("boot {one}"),
        many => format!("boots {}", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// Words for a resource.
pub fn resource_words(resource: Resource) -> &'static str {
    match resource {
        Resource::Paged => "paged pool",
        Resource::Nonpaged => "nonpaged pool",
        Resource::Commit => "commit charge",
    }
}

/// `exhausted 2020-05-22 22:40 CEST (range 21:10 to 23:55)`, or why there is no projection.
pub fn projection_words(p: &Projection, report: &Report<'_>) -> String {
    let tz = report.tz;
    match (p.exhaustion_at, p.bytes_per_hour > 0.0) {
        (Some(at), _) => {
            let range = p.exhaustion_range.map_or_else(String::new, |[a, b]| {
                let (a, b) = (format::time_near(a, at, tz), format::time_near(b, at, tz));
                // A range that rounds to one minute says nothing more than the time itself.
                if a == b {
                    String::new()
                } else {
                    format!(" (range {a} to {b})")
                }
            });
            format!("limit {} reached {}{range}", format::bytes(p.limit_bytes as f64), format::time_short(at, tz))
        }
        (None, true) => {
            format!("growing {} toward {}", format::bytes_rate(p.bytes_per_hour), format::bytes(p.limit_bytes as f64))
        }
        (None, false) => "not growing".to_owned(),
    }
}

/// The model check: projected against observed exhaustion. A projection inside its range, or off
/// by at most 5% of the boot's length, counts as consistent.
pub fn projection_check(p: &Projection, report: &Report<'_>) -> String {
    let Some(observed) = p.observed_exhaustion_at else {
        return "no exhaustion in the archive".to_owned();
    };
    let evidence = p.observed_evidence.as_deref().map_or_else(String::new, |e| format!(" ({})", format::clean(e)));
    let Some(projected) = p.exhaustion_at else {
        return format!("observed {}{evidence}; no projection", format::time_short(observed, report.tz));
    };
    let diff = format::hours_between(observed, projected);
    let within = p.exhaustion_range.is_some_and(|[a, b]| observed >= a && observed <= b);
    let boot_hours = report.source.boot(&p.host, p.boot).map_or(0.0, |b| format::hours_between(b.start, observed));
    let close = diff.abs() <= 0.05 * boot_hours;
    let side = if diff >= 0.0 { "after" } else { "before" };
    let verdict = if within {
        "consistent: inside the projected range".to_owned()
    } else if close {
        format!("consistent: within 5% of the {} boot", format::hours(boot_hours))
    } else {
        "outside the projected range".to_owned()
    };
    format!(
        "observed {}{evidence}; projection {} {side} it, {verdict}",
        format::time_short(observed, report.tz),
        format::hours(diff.abs())
    )
}

/// Binary and description of a tag, as known.
pub fn tag_words(s: &Suspect) -> String {
    match (&s.driver, &s.description) {
        (Some(d), Some(text)) if !d.contains(text.as_str()) => format!("{}: {}", format::clean(d), format::clean(text)),
        (Some(d), _) => format::clean(d),
        (None, Some(text)) => format::clean(text),
        (None, None) => "unknown tag (search the driver files for it, see the section below)".to_owned(),
    }
}

/// The suspects of a host's main boot, best first.
pub fn main_suspects<'a>(report: &Report<'a>, host: &str) -> Vec<&'a Suspect> {
    let boot = main_boot(report.analysis, host);
    let mut out: Vec<&Suspect> = report.analysis.suspects.iter().filter(|s| s.host == host && s.boot == boot).collect();
    out.sort_by_key(|s| s.rank);
    out
}

fn projection_for<'a>(report: &Report<'a>, s: &Suspect) -> Option<&'a Projection> {
    let resource = resource_of(s.pool);
    report.analysis.projections.iter().find(|p| p.host == s.host && p.boot == s.boot && p.pool == resource)
}

/// The evidence table investigators paste into tickets (peers.md §5.12).
pub fn evidence(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Tag", L),
        ("Pool", L),
        ("Bytes", R),
        ("Outstanding", R),
        ("Per alloc", R),
        ("Rate/hour", R),
        ("Outstanding/hour", R),
        ("Alloc:free", R),
        ("Binary and description", L),
        ("Projection", L),
    ]);
    for s in main_suspects(report, host).into_iter().take(EVIDENCE_ROWS) {
        let projection =
            projection_for(report, s).map_or_else(|| "no limit known".to_owned(), |p| projection_words(p, report));
        t.rows.push(vec![
            format::tag(&s.tag),
            s.pool.to_string(),
            format::bytes_exact(s.bytes_now),
            format::count_u(s.outstanding_now),
            format::bytes(s.per_alloc_bytes),
            format::bytes_rate(s.bytes_per_hour),
            format::count_rate(s.outstanding_per_hour),
            format::ratio(s.alloc_free_ratio),
            tag_words(s),
            projection,
        ]);
    }
    t
}

/// Every suspect of a host (all boots) with its statistics.
pub fn suspects(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Boot", R),
        ("Rank", R),
        ("Tag", L),
        ("Pool", L),
        ("Bytes/hour (95% CI)", R),
        ("Share of growth", R),
        ("R²", R),
        ("q", R),
        ("Bytes now", R),
        ("Per alloc", R),
        ("Also leaks in", L),
    ]);
    let mut list: Vec<&Suspect> = report.analysis.suspects.iter().filter(|s| s.host == host).collect();
    list.sort_by_key(|s| (std::cmp::Reverse(s.boot), s.rank));
    for s in list {
        let stable = if s.per_alloc_stable { " (stable)" } else { "" };
        t.rows.push(vec![
            s.boot.to_string(),
            s.rank.to_string(),
            format::tag(&s.tag),
            s.pool.to_string(),
            format!(
                "{} ({} to {})",
                format::bytes_rate(s.bytes_per_hour),
                format::bytes_rate(s.bytes_per_hour_ci[0]),
                format::bytes_rate(s.bytes_per_hour_ci[1])
            ),
            format::percent(s.share_of_growth),
            format!("{:.3}", s.r_squared),
            format::p_value(s.trend_q),
            format::bytes(s.bytes_now as f64),
            format!("{}{stable}", format::bytes(s.per_alloc_bytes)),
            boots_words(&s.repeats_in_boots),
        ]);
    }
    t
}

/// Projections of a host with the projected-against-observed check.
pub fn projections(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Boot", R),
        ("Resource", L),
        ("Now", R),
        ("Limit (source)", L),
        ("Sustained rate", L),
        ("Projected exhaustion", L),
        ("Naive fit", L),
        ("60% / 80% crossed", L),
        ("Projected vs observed", L),
    ]);
    let mut list: Vec<&Projection> = report.analysis.projections.iter().filter(|p| p.host == host).collect();
    // The boot the post-mortem is about first, then the others, latest first.
    let main = main_boot(report.analysis, host);
    list.sort_by_key(|p| (p.boot != main, std::cmp::Reverse(p.boot), p.pool));
    for p in list {
        let when =
            |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| format::time_near(t, p.now_at, report.tz));
        let share = if p.limit_bytes > 0 { p.now_bytes as f64 / p.limit_bytes as f64 } else { f64::NAN };
        t.rows.push(vec![
            p.boot.to_string(),
            resource_words(p.pool).to_owned(),
            format!("{} ({})", format::bytes(p.now_bytes as f64), format::percent(share)),
            format!("{} ({})", format::bytes(p.limit_bytes as f64), format::clean(&p.limit_source)),
            format!("{} from {}", format::bytes_rate(p.bytes_per_hour), format::clean(&p.rate_source)),
            projection_words(p, report),
            when(p.naive_exhaustion_at),
            format!("{} / {}", when(p.warning_at), when(p.critical_at)),
            projection_check(p, report),
        ]);
    }
    t
}

/// Tags that grew like a cache still warming up (decelerating, no fixed allocation size): neither suspects nor
/// cleared, with what would decide them.
pub fn undecided(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Boot", R),
        ("Tag", L),
        ("Pool", L),
        ("Rate/hour (early, late half)", R),
        ("Per alloc", R),
        ("What would decide it", L),
    ]);
    for u in report.analysis.undecided.iter().filter(|u| u.host == host) {
        t.rows.push(vec![
            u.boot.to_string(),
            format::tag(&u.tag),
            u.pool.as_str().to_owned(),
            format!(
                "{} ({}, {})",
                format::bytes_rate(u.bytes_per_hour),
                format::bytes_rate(u.early_bytes_per_hour),
                format::bytes_rate(u.late_bytes_per_hour)
            ),
            format::bytes(u.per_alloc_bytes),
            format::clean(&u.decide),
        ]);
    }
    t
}

/// Who holds the leaked objects (ANALYSIS.md §5): per boot of the host, the main boot first, the process whose
/// handles of the tag's object type grow, its share of the type's growth, the account behind it, and how
/// strong the evidence is.
pub fn attributions(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Boot", R),
        ("Tag (object)", L),
        ("Process", L),
        ("Share of the type's growth", R),
        ("Account (share)", L),
        ("Evidence", L),
    ]);
    let main = main_boot(report.analysis, host);
    let mut rows: Vec<_> = report.analysis.attributions.iter().filter(|a| a.host == host).collect();
    rows.sort_by_key(|a| (a.boot != main, std::cmp::Reverse(a.boot)));
    for a in rows {
        let process = match a.pid {
            Some(pid) => format!("{} (pid {pid})", format::clean(&a.process)),
            None => format::clean(&a.process),
        };
        let share = match (a.share_of_growth, a.handles_per_hour, a.held_share) {
            (Some(share), Some(rate), _) => format!("{} ({})", format::percent(share), format::count_rate(rate)),
            (None, Some(rate), _) => format!("unknown ({}; {})", format::count_rate(rate), format::clean(&a.share_of)),
            (_, None, Some(held)) if a.dumps == 0 => {
                format!("held {} of the handles event 2004 lists", format::percent(held))
            }
            (_, None, Some(held)) => format!("held {} at one dump", format::percent(held)),
            _ => "-".to_owned(),
        };
        let account = match (&a.account, a.account_share) {
            (Some(account), Some(share)) => format!("{} ({})", format::clean(account), format::percent(share)),
            _ => "-".to_owned(),
        };
        let evidence = if a.dumps > 1 {
            format!(
                "{}; {} to {}",
                format::clean(&a.strength),
                format::time_short(a.from, report.tz),
                format::time_short(a.to, report.tz)
            )
        } else {
            format!("{}; {}", format::clean(&a.strength), format::time_short(a.to, report.tz))
        };
        t.rows.push(vec![
            a.boot.to_string(),
            format!("{} ({})", format::tag(&a.tag), format::clean(&a.object_type)),
            process,
            share,
            account,
            evidence,
        ]);
    }
    t
}

/// Tag-to-handle correlations of a host.
pub fn correlations(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Boot", R),
        ("Tag", L),
        ("Process", L),
        ("Handle type", L),
        ("Account", L),
        ("Spearman (increments)", R),
        ("Lag (samples)", R),
        ("Samples", R),
        ("Handles/hour", R),
        ("Kernel object of the tag", L),
    ]);
    let boot = main_boot(report.analysis, host);
    for s in main_suspects(report, host) {
        for c in correlations_of(report.analysis, s) {
            t.rows.push(vec![
                c.boot.to_string(),
                format::tag(&c.tag),
                if c.process == SYSTEM_PROCESS { "all processes".to_owned() } else { format::clean(&c.process) },
                format::clean(&c.handle_type),
                c.account.as_deref().map_or_else(|| "-".to_owned(), format::clean),
                format!("{:.2}", c.coefficient),
                c.lag.to_string(),
                format::count(c.samples as i64),
                format::count_rate(c.handles_per_hour),
                if c.invariant { "yes".to_owned() } else { "no".to_owned() },
            ]);
        }
    }
    // Correlations of tags that are not suspects of the main boot (other boots) follow.
    let mut rest: Vec<_> = report.analysis.correlations.iter().filter(|c| c.host == host && c.boot != boot).collect();
    rest.sort_by(|a, b| b.boot.cmp(&a.boot).then(a.tag.cmp(&b.tag)));
    for c in rest {
        t.rows.push(vec![
            c.boot.to_string(),
            format::tag(&c.tag),
            if c.process == SYSTEM_PROCESS { "all processes".to_owned() } else { format::clean(&c.process) },
            format::clean(&c.handle_type),
            c.account.as_deref().map_or_else(|| "-".to_owned(), format::clean),
            format!("{:.2}", c.coefficient),
            c.lag.to_string(),
            format::count(c.samples as i64),
            format::count_rate(c.handles_per_hour),
            if c.invariant { "yes".to_owned() } else { "no".to_owned() },
        ]);
    }
    t
}

/// Token handles by account (analysis §5: the account whose logons leak), for each process whose
/// Token handles moved with a tag in any boot (else the process holding the most handles), from the
/// dumps of the main boot, or of the latest boot that has dumps of it. Returns (process, boot, table).
pub fn accounts(report: &Report<'_>, host: &str) -> Vec<(String, u32, Table)> {
    let main = main_boot(report.analysis, host);
    // The attributed processes of the main boot first, then those of other boots, then correlated ones.
    let mut attributed: Vec<&crate::analysis::attribution::Attribution> = report
        .analysis
        .attributions
        .iter()
        .filter(|a| a.host == host && a.object_type.eq_ignore_ascii_case("Token") && a.process != SYSTEM_PROCESS)
        .collect();
    attributed.sort_by_key(|a| (a.boot != main, std::cmp::Reverse(a.boot)));
    let mut processes: Vec<String> = attributed.iter().map(|a| a.process.clone()).collect();
    let mut correlated: Vec<String> = report
        .analysis
        .correlations
        .iter()
        .filter(|c| c.host == host && c.handle_type.eq_ignore_ascii_case("Token") && c.process != SYSTEM_PROCESS)
        .map(|c| c.process.clone())
        .collect();
    correlated.sort();
    processes.extend(correlated);
    let mut seen = std::collections::BTreeSet::new();
    processes.retain(|p| seen.insert(p.clone()));
    if processes.is_empty() {
        processes.extend(report.source.busiest_processes(host, main).into_iter().take(1).map(|(name, _)| name));
    }
    let mut boots: Vec<u32> = report.source.boots(host).iter().map(|b| b.boot).filter(|&b| b != main).collect();
    boots.sort_unstable_by(|a, b| b.cmp(a));
    boots.insert(0, main);
    let mut out = Vec::new();
    for process in processes {
        let Some((boot, rows)) = boots
            .iter()
            .map(|&b| (b, report.source.token_accounts(host, b, &process)))
            .find(|(_, rows)| !rows.is_empty())
        else {
            continue;
        };
        let mut t = Table::new(&[("Account", L), ("First dump", R), ("Last dump", R), ("Growth/hour", R)]);
        // The accounts that carry the growth (at least 1% of it, at most 5), then the rest as one row: nine
        // accounts at 0/h under the one that leaks read as noise in a ticket.
        let growth: f64 = rows.iter().map(|a| a.per_hour.max(0.0)).sum();
        let carries = |a: &super::series::AccountHandles| growth > 0.0 && a.per_hour >= 0.01 * growth;
        let (mut shown, mut rest): (Vec<_>, Vec<_>) =
            rows.iter().enumerate().partition(|(i, a)| *i < 5 && (carries(a) || (growth <= 0.0 && *i < 3)));
        if rest.len() == 1 {
            shown.append(&mut rest);
        }
        for (_, a) in &shown {
            t.rows.push(vec![
                format::clean(&a.account),
                format::count_u(a.first),
                format::count_u(a.last),
                format::count_rate(a.per_hour),
            ]);
        }
        if !rest.is_empty() {
            let sum = |f: fn(&super::series::AccountHandles) -> u64| rest.iter().map(|(_, a)| f(a)).sum::<u64>();
            t.rows.push(vec![
                format!("{} other accounts", rest.len()),
                format::count_u(sum(|a| a.first)),
                format::count_u(sum(|a| a.last)),
                format::count_rate(rest.iter().map(|(_, a)| a.per_hour).sum()),
            ]);
        }
        out.push((process, boot, t));
    }
    out
}

/// Key statistics of one suspect, as (name, value) rows.
pub fn tag_statistics(s: &Suspect, bytes: Option<&Summary>) -> Table {
    let mut t = Table::new(&[("Statistic", L), ("Value", R)]);
    let mut row = |k: &str, v: String| t.rows.push(vec![k.to_owned(), v]);
    row(
        "Theil-Sen slope (95% CI)",
        format!(
            "{} ({} to {})",
            format::bytes_rate(s.bytes_per_hour),
            format::bytes_rate(s.bytes_per_hour_ci[0]),
            format::bytes_rate(s.bytes_per_hour_ci[1])
        ),
    );
    row("OLS slope, R²", format!("{}, {:.3}", format::bytes_rate(s.ols_bytes_per_hour), s.r_squared));
    row(
        "Outstanding allocations",
        format!("{} now, {}", format::count_u(s.outstanding_now), format::count_rate(s.outstanding_per_hour)),
    );
    row(
        "Bytes per allocation",
        format!(
            "{}{}",
            format::bytes(s.per_alloc_bytes),
            if s.per_alloc_stable { " (stable: a fixed-size object leaks)" } else { " (varies)" }
        ),
    );
    row("Allocations per free", format::ratio(s.alloc_free_ratio));
    row("Positive steps", format::percent(s.positive_step_share));
    row("Share of the pool's growth", format::percent(s.share_of_growth));
    row("Mann-Kendall p / BH q", format!("{} / {}", format::p_value(s.trend_p), format::p_value(s.trend_q)));
    row("End-point delta (last - first)", format::bytes(s.end_point_delta_bytes as f64));
    if let Some(b) = bytes {
        row(
            "Bytes min / avg / max / p90",
            format!(
                "{} / {} / {} / {}",
                format::bytes(b.min),
                format::bytes(b.mean),
                format::bytes(b.max),
                format::bytes(b.p90)
            ),
        );
        row("Samples", format::count(b.samples as i64));
    }
    if !s.repeats_in_boots.is_empty() {
        row("Grew at a similar rate in", boots_words(&s.repeats_in_boots));
    }
    t
}

/// Boots of a host.
pub fn boots(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[
        ("Boot", R),
        ("Start", L),
        ("End", L),
        ("Length", R),
        ("Pool samples", R),
        ("Fit from", L),
        ("Start evidence", L),
        ("End evidence", L),
    ]);
    for b in report.source.boots(host) {
        t.rows.push(vec![
            b.boot.to_string(),
            format::time_short(b.start, report.tz),
            format::time_short(b.end, report.tz),
            format::hours(format::hours_between(b.start, b.end)),
            format::count(b.pool_samples as i64),
            format::time_short(b.fit_start, report.tz),
            format::clean(&b.start_evidence),
            format::clean(&b.end_evidence),
        ]);
    }
    t
}

/// Exhaustion, crash and boot events of a host in time order.
pub fn events(report: &Report<'_>, host: &str) -> Table {
    let mut t = Table::new(&[("Time", L), ("Event", L), ("Meaning", L), ("Details", L), ("Source", L)]);
    for e in report.events.iter().filter(|e| e.host == host) {
        let logged = if e.logged_at == e.at {
            String::new()
        } else {
            format!(" (logged {})", format::time_short(e.logged_at, report.tz))
        };
        t.rows.push(vec![
            format!("{}{logged}", format::time(e.at, report.tz)),
            format!("{} {}", e.event_id, format::clean(&e.provider)),
            e.meaning.clone(),
            format::clean(&e.details),
            format::clean(&location(&e.source)),
        ]);
    }
    t
}

fn location(source: &crate::model::SourceRef) -> String {
    match (source.line, source.offset) {
        (Some(line), _) => format!("{}:{line}", source.path),
        (None, Some(offset)) => format!("{}@0x{offset:08x}", source.path),
        (None, None) => source.path.clone(),
    }
}

/// Input files with their time sources.
pub fn inputs(report: &Report<'_>) -> Table {
    let mut t = Table::new(&[
        ("File", L),
        ("Host", L),
        ("Records", L),
        ("Times from", L),
        ("First", L),
        ("Last", L),
        ("Errors", R),
        ("Warnings", R),
    ]);
    for f in &report.inputs {
        let mut sources: Vec<String> = f.time_sources.iter().map(|s| time_source_words(*s).to_owned()).collect();
        if f.untimed > 0 {
            sources.push(format!("{} without a time", format::count(f.untimed as i64)));
        }
        let when = |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| format::time_short(t, report.tz));
        t.rows.push(vec![
            format::clean(&f.path),
            f.hosts.iter().map(|h| format::clean(h)).collect::<Vec<_>>().join(", "),
            f.contents(),
            sources.join("; "),
            when(f.first),
            when(f.last),
            format::count(f.errors as i64),
            format::count(f.warnings as i64),
        ]);
    }
    t
}

/// Diagnostics, errors first, at most `limit` rows.
pub fn diagnostics(report: &Report<'_>, limit: usize) -> Table {
    let mut t = Table::new(&[("Severity", L), ("Where", L), ("What", L)]);
    let mut list: Vec<_> = report.diagnostics.iter().collect();
    list.sort_by_key(|d| d.severity);
    for d in list.into_iter().take(limit) {
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        t.rows.push(vec![
            severity.to_owned(),
            if d.path.is_empty() { "(run)".to_owned() } else { format::clean(&d.location()) },
            format::clean(&d.message),
        ]);
    }
    t
}

/// The parameters the analysis ran with.
pub fn parameters(report: &Report<'_>) -> Table {
    let p = &report.analysis.parameters;
    let mut t = Table::new(&[("Parameter", L), ("Value", L)]);
    let mut row = |k: &str, v: String| t.rows.push(vec![k.to_owned(), v]);
    row(
        "Warm-up excluded",
        p.warmup_hours
            .map_or_else(|| "default: 10% of the boot or 1 hour, whichever is shorter".to_owned(), format::hours),
    );
    let limit = |l: Option<u64>| l.map_or_else(|| "from the archive".to_owned(), format::bytes_exact);
    row("Paged pool limit", limit(p.limit_paged));
    row("Nonpaged pool limit", limit(p.limit_nonpaged));
    row("False-discovery rate", format!("{}", p.fdr));
    row("Time zone", format::clean(&p.tz));
    row("Analysis schema version", report.analysis.schema_version.to_string());
    row("poolscope", report.version.to_owned());
    t
}
