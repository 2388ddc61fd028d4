//! `fltmc` output: the loaded minifilters, and with `instances` where each is attached.
//!
//! ```text
//! Filter Name                     Num Instances    Altitude    Frame
//! ------------------------------  -------------  ------------  -----
//! WdFilter                               10       328010         0
//! ```
//!
//! ```text
//! Filter                Volume Name                              Altitude        Instance Name       Frame   SprtFtrs  VlStatus
//! --------------------  -------------------------------------  ------------  ----------------------  -----   --------  --------
//! WdFilter              C:                                        328010     WdFilter Instance          0     0000000f
//! ```
//!
//! A table is a header line starting with `Filter` (`Filtre`, `Filtername`) over a line of dash runs: 4 runs
//! for the filters table, 5 or more for the instances table. Rows are read by their words, not by the dash
//! columns, because a long volume or instance name pushes the cells after it to the right. A filter name
//! has no spaces; the altitude is the first number after it (`385201.5` too); in an instances row the frame
//! and the hexadecimal feature and status words follow the instance name. A legacy filter shows `<Legacy>`
//! instead of its numbers. A row that cannot be read is a warning with its line.

use crate::model::drivers::{Driver, DriverListing, ListingKind, Minifilter};
use crate::model::{Diagnostic, Severity, SourceRef};
use crate::parse::FileContext;

/// Bad rows of a file reported one by one.
const ROW_DIAGNOSTICS_SHOWN: usize = 20;

/// Where a table starts: (0-based index of its header line, filters or instances).
fn table_start(lines: &[&str]) -> Option<(usize, ListingKind)> {
    let mut nonempty = lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty());
    while let Some((i, line)) = nonempty.next() {
        let Some((_, next)) = nonempty.clone().next() else { break };
        let first = line.trim_start_matches('\u{feff}').trim_start().to_lowercase();
        if !(first.starts_with("filter") || first.starts_with("filtre")) {
            continue;
        }
        if let Some(runs) = dash_runs(next) {
            match runs {
                4 => return Some((i, ListingKind::FltmcFilters)),
                5.. => return Some((i, ListingKind::FltmcInstances)),
                _ => {}
            }
        }
    }
    None
}

/// The number of dash runs when the line is nothing but dashes and spaces.
fn dash_runs(line: &str) -> Option<usize> {
    let line = line.trim();
    if line.is_empty() || !line.chars().all(|c| c == '-' || c == ' ' || c == '\t') {
        return None;
    }
    Some(line.split_whitespace().count())
}

/// Whether the text holds a `fltmc` table, and which.
pub fn looks_like(text: &str) -> Option<ListingKind> {
    let lines: Vec<&str> = text.lines().take(200).collect();
    table_start(&lines).map(|(_, kind)| kind)
}

/// An altitude: digits with at most one `.` (`328010`, `385201.5`).
fn is_altitude(word: &str) -> bool {
    let mut dots = 0;
    !word.is_empty()
        && word.chars().next().is_some_and(|c| c.is_ascii_digit())
        && word.chars().all(|c| {
            dots += usize::from(c == '.');
            c.is_ascii_digit() || c == '.'
        })
        && dots <= 1
}

/// Parses decoded `fltmc` or `fltmc instances` output.
pub fn parse(text: &str, ctx: &FileContext) -> (Option<DriverListing>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let Some((header, kind)) = table_start(&lines) else {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Error,
            "no fltmc table (a Filter header over dashes)",
        ));
        return (None, diagnostics);
    };
    let mut listing = DriverListing {
        source: SourceRef::line(&ctx.path, header as u64 + 1),
        kind,
        host: ctx.host.clone(),
        system_name: None,
        drivers: Vec::new(),
        devices: Vec::new(),
    };
    let mut bad = 0usize;
    let last = lines.len().saturating_sub(1);
    let cut_at_end = !text.ends_with('\n');
    // The row after the header is the dash line; rows follow until the end (a blank line may separate tables
    // pasted together; a second header is skipped).
    let body = lines.iter().enumerate().skip(header + 1).filter(|(_, l)| !l.trim().is_empty()).skip(1);
    for (i, raw) in body {
        let line_no = i as u64 + 1;
        let words: Vec<&str> = raw.split_whitespace().collect();
        if dash_runs(raw).is_some() || words.first().is_some_and(|w| w.to_lowercase().starts_with("filt")) {
            continue;
        }
        let read = match kind {
            ListingKind::FltmcInstances => instance_row(&words),
            _ => filter_row(&words),
        };
        match read {
            Some((name, mini)) => {
                let source = SourceRef::line(&ctx.path, line_no);
                add(&mut listing, name, mini, source);
            }
            None => {
                bad += 1;
                if bad <= ROW_DIAGNOSTICS_SHOWN {
                    let cut = if i == last && cut_at_end { " (the file ends inside it: cut short?)" } else { "" };
                    diagnostics.push(Diagnostic::at_line(
                        &ctx.path,
                        line_no,
                        Severity::Warning,
                        format!("not a {} row{cut}; skipped", kind.command()),
                    ));
                }
            }
        }
    }
    if bad > ROW_DIAGNOSTICS_SHOWN {
        diagnostics.push(Diagnostic::for_file(
            &ctx.path,
            Severity::Warning,
            format!("{} more fltmc rows were skipped", bad - ROW_DIAGNOSTICS_SHOWN),
        ));
    }
    (Some(listing), diagnostics)
}

/// Adds a row: a new filter, or one more instance (volume) of a known one.
fn add(listing: &mut DriverListing, name: &str, mini: Minifilter, source: SourceRef) {
    if let Some(known) = listing.drivers.iter_mut().find(|d| d.name.eq_ignore_ascii_case(name)) {
        if let Some(m) = &mut known.minifilter {
            for v in mini.volumes {
                if !m.volumes.contains(&v) {
                    m.volumes.push(v);
                }
            }
            if listing.kind == ListingKind::FltmcInstances {
                m.instances = Some(m.instances.unwrap_or(0).saturating_add(1));
            }
        }
        known.sources.push(source);
        return;
    }
    let mut mini = mini;
    if listing.kind == ListingKind::FltmcInstances {
        mini.instances = Some(1);
    }
    listing.drivers.push(Driver {
        name: name.to_owned(),
        loaded: Some(true),
        minifilter: Some(mini),
        sources: vec![source],
        ..Driver::default()
    });
}

/// `WdFilter  10  328010  0`, or `SomeFlt  <Legacy>`.
fn filter_row<'a>(words: &[&'a str]) -> Option<(&'a str, Minifilter)> {
    let (name, rest) = words.split_first()?;
    if rest.iter().any(|w| w.eq_ignore_ascii_case("<legacy>")) {
        return Some((name, Minifilter { legacy: true, ..Minifilter::default() }));
    }
    let [instances, altitude, frame] = rest else { return None };
    let instances = instances.parse().ok()?;
    if !is_altitude(altitude) {
        return None;
    }
    Some((
        name,
        Minifilter {
            altitude: Some((*altitude).to_owned()),
            instances: Some(instances),
            frame: frame.parse().ok(),
            ..Minifilter::default()
        },
    ))
}

/// `WdFilter  C:  328010  WdFilter Instance  0  0000000f`: the volume is what lies between the filter name
/// and the altitude; the instance name, frame and feature words follow.
fn instance_row<'a>(words: &[&'a str]) -> Option<(&'a str, Minifilter)> {
    let (name, rest) = words.split_first()?;
    if rest.iter().any(|w| w.eq_ignore_ascii_case("<legacy>")) {
        return Some((name, Minifilter { legacy: true, ..Minifilter::default() }));
    }
    // The altitude: the first number after a volume (volume names such as `C:` or `\Device\Mup` are not numbers).
    let at = rest.iter().enumerate().skip(1).find(|(_, w)| is_altitude(w)).map(|(i, _)| i)?;
    let volume = rest[..at].join(" ");
    let after = &rest[at + 1..];
    // From the end: the hexadecimal SprtFtrs/VlStatus words, then the frame.
    let hex = |w: &str| w.len() == 8 && w.chars().all(|c| c.is_ascii_hexdigit());
    let mut end = after.len();
    while end > 0 && hex(after[end - 1]) {
        end -= 1;
    }
    let frame = end.checked_sub(1).and_then(|i| after[i].parse::<u32>().ok().map(|f| (i, f)));
    let instance_words = frame.map_or(end, |(i, _)| i);
    if instance_words == 0 {
        return None;
    }
    Some((
        name,
        Minifilter {
            altitude: Some(rest[at].to_owned()),
            frame: frame.map(|(_, f)| f),
            volumes: vec![volume],
            ..Minifilter::default()
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (DriverListing, Vec<Diagnostic>) {
        let (l, d) = parse(text, &FileContext { path: "fltmc.txt".into(), ..FileContext::default() });
        (l.expect("a listing"), d)
    }

    const FILTERS: &str = "\r\nFilter Name                     Num Instances    Altitude    Frame\r\n\
        ------------------------------  -------------  ------------  -----\r\n\
        bindflt                                 1       409800         0\r\n\
        UCPD                                   10       385250.5       0\r\n\
        WdFilter                               10       328010         0\r\n\
        OldFlt                                          <Legacy>\r\n";

    #[test]
    fn filters_table_gives_altitudes_instances_and_legacy_filters() {
        assert_eq!(looks_like(FILTERS), Some(ListingKind::FltmcFilters));
        let (l, diags) = read(FILTERS);
        assert!(diags.is_empty(), "{diags:?}");
        let names: Vec<&str> = l.drivers.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["bindflt", "UCPD", "WdFilter", "OldFlt"]);
        let ucpd = l.drivers[1].minifilter.as_ref().unwrap();
        assert_eq!((ucpd.altitude.as_deref(), ucpd.instances, ucpd.frame), (Some("385250.5"), Some(10), Some(0)));
        assert!(l.drivers[3].minifilter.as_ref().unwrap().legacy);
        assert_eq!(l.drivers[2].sources[0].line, Some(6));
    }

    #[test]
    fn instances_rows_count_per_filter_and_keep_volumes() {
        let text = "Filter                Volume Name                              Altitude        Instance Name       Frame   SprtFtrs  VlStatus\n\
            --------------------  -------------------------------------  ------------  ----------------------  -----   --------  --------\n\
            WdFilter              C:                                        328010     WdFilter Instance          0     0000000f\n\
            WdFilter              \\Device\\Mup                               328010     WdFilter Instance          0     0000000f\n\
            ctxscan               \\Device\\HarddiskVolume1                  329420     ctxscan                    0     00000003  00000000\n";
        assert_eq!(looks_like(text), Some(ListingKind::FltmcInstances));
        let (l, diags) = read(text);
        assert!(diags.is_empty(), "{diags:?}");
        let wd = l.drivers[0].minifilter.as_ref().unwrap();
        assert_eq!((wd.instances, wd.volumes.len()), (Some(2), 2));
        let ctx = l.drivers[1].minifilter.as_ref().unwrap();
        assert_eq!((ctx.altitude.as_deref(), ctx.frame), (Some("329420"), Some(0)));
        assert_eq!(ctx.volumes, [r"\Device\HarddiskVolume1"]);
    }

    #[test]
    fn a_garbled_row_is_a_warning_and_a_cut_last_row_says_so() {
        let text = "Filter Name      Num Instances    Altitude    Frame\n-----  -----  -----  -----\nWdFilter 10 32801";
        let (l, diags) = read(text);
        assert!(l.is_empty());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("cut short"), "{diags:?}");
        assert_eq!(diags[0].line, Some(3));
    }

    #[test]
    fn no_table_is_not_fltmc() {
        assert_eq!(looks_like("Filter Name\nnothing"), None);
        assert_eq!(looks_like(""), None);
        assert!(parse("junk", &FileContext::default()).0.is_none());
    }
}
