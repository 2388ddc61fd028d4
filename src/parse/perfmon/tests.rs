//! One test per quirk, over the fixtures in `fixtures/perfmon/`.

use super::*;
use crate::model::TimeSettings;

fn read(name: &str, time: TimeSettings) -> (Vec<PerfSeries>, Vec<Diagnostic>) {
    let path = format!("{}/fixtures/perfmon/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let ctx = FileContext { path: name.to_owned(), time, ..FileContext::default() };
    let parsed = crate::parse::parse_bytes(&bytes, None, &ctx);
    (parsed.perf_series, parsed.diagnostics)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn utf16_bom_relog_reads_memory_counters_in_the_header_zone() {
    let (series, diags) = read("utf16_bom_relog.csv", TimeSettings::default());
    assert_eq!(series.len(), 1);
    let s = &series[0];
    assert_eq!(s.host.as_deref(), Some("WEB01"));
    assert_eq!(s.samples.len(), 3);
    // W. Europe in January is UTC+1.
    assert_eq!(s.samples[0].time, utc("2024-01-15T09:00:00Z"));
    assert_eq!(s.samples[2].pool_paged_bytes, Some(102_000_000));
    assert_eq!(s.samples[0].commit_limit, Some(8_589_934_592));
    assert_eq!(s.samples[0].line, 2);
    // Only the ignored processor counter is said.
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].severity == Severity::Info && diags[0].message.starts_with("1 perfmon counter"));
}

#[test]
fn tsv_de_localized_reads_german_names_and_the_daylight_zone() {
    let (series, diags) = read("tsv_de_localized.tsv", TimeSettings::default());
    assert!(diags.is_empty(), "{diags:?}");
    let s = &series[0];
    assert_eq!(s.host.as_deref(), Some("SRV-DE"));
    assert_eq!(s.samples.len(), 2);
    assert_eq!(s.samples[0].time, utc("2024-07-01T10:00:00Z"));
    assert_eq!(s.samples[1].total_handles, Some(40_010));
    let lsass = &s.samples[1].processes[0];
    assert_eq!((lsass.name.as_str(), lsass.pid, lsass.handle_count), ("lsass", Some(640), Some(1510)));
    assert_eq!(s.samples[0].pool_nonpaged_bytes, Some(60_000_000));
}

#[test]
fn two_hosts_give_two_series_and_blank_cells_are_missing_samples() {
    let (series, diags) = read("two_hosts.csv", TimeSettings::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].host.as_deref(), Some("APP01"));
    assert_eq!(series[0].samples.len(), 2, "the row with a blank cell for APP01 is no APP01 sample");
    assert_eq!(series[1].host.as_deref(), Some("APP02"));
    assert_eq!(series[1].samples.len(), 3);
    assert_eq!(series[1].samples[1].pool_paged_bytes, None);
    assert_eq!(series[1].samples[2].time, utc("2024-03-10T00:02:00Z"));
}

#[test]
fn instance_hash_suffix_is_reidentified_by_id_process() {
    let (series, _) = read("instance_hash_suffix.csv", TimeSettings::default());
    let s = &series[0];
    // Pacific in February is UTC-8.
    assert_eq!(s.samples[0].time, utc("2024-02-01T16:00:00Z"));
    let find = |i: usize, pid: u32| s.samples[i].processes.iter().find(|p| p.pid == Some(pid)).cloned();
    assert_eq!(find(0, 200).unwrap().handle_count, Some(900));
    // pid 100 exited: svchost#1 (pid 200) is now instance `svchost`, and is still the same process.
    let later = find(1, 200).unwrap();
    assert_eq!((later.name.as_str(), later.handle_count), ("svchost", Some(910)));
    assert!(find(1, 100).is_none());
    // Without ID Process the instance keeps its suffix.
    assert!(s.samples[1].processes.iter().any(|p| p.name == "notepad#1" && p.pid.is_none()));
}

#[test]
fn blank_cells_bad_numbers_and_bad_times_are_reported_with_lines() {
    let (series, diags) = read("blank_cells.csv", TimeSettings::default());
    let s = &series[0];
    // Rows 2, 4 and 6 have values; row 3 is all blank, row 5 has no time.
    assert_eq!(s.samples.iter().map(|x| x.line).collect::<Vec<_>>(), vec![2, 4, 6]);
    assert_eq!(s.samples[0].pool_paged_bytes, None);
    assert_eq!(s.samples[1].pool_nonpaged_bytes, Some(5100));
    assert_eq!(s.samples[2].time, utc("2024-01-02T05:03:00Z"));
    let errors: Vec<String> =
        diags.iter().filter(|d| d.severity == Severity::Error).map(|d| d.location()).collect();
    assert_eq!(errors, vec!["blank_cells.csv:4", "blank_cells.csv:5"]);
    assert!(diags.iter().any(|d| d.severity == Severity::Info && d.message.contains("System\\Processes")));
}

#[test]
fn unknown_zone_name_falls_back_to_the_bias_and_says_so() {
    let (series, diags) = read("unknown_zone_bias.csv", TimeSettings::default());
    assert_eq!(series[0].samples[0].time, utc("2024-12-01T08:00:00Z"));
    assert_eq!(series[0].samples[0].commit_limit, Some(8_589_934_592));
    assert!(diags.iter().any(|d| d.severity == Severity::Warning && d.message.contains("bias")), "{diags:?}");
}

#[test]
fn tz_given_wins_over_the_header() {
    let time = TimeSettings { tz: chrono_tz::Asia::Tokyo, tz_given: true, ..TimeSettings::default() };
    let (series, diags) = read("utf16_bom_relog.csv", time);
    assert_eq!(series[0].samples[0].time, utc("2024-01-15T01:00:00Z"));
    assert!(diags.iter().any(|d| d.message.contains("--tz")), "{diags:?}");
}

#[test]
fn not_a_pdh_header_and_garbage_do_not_panic() {
    let ctx = FileContext { path: "g".into(), ..FileContext::default() };
    let (series, diags) = parse("hello,world\n", &ctx);
    assert!(series.is_empty() && diags[0].severity == Severity::Error);
    let (series, _) = parse("\"(PDH-CSV 4.0)\",\"\\\\H\\Memory\\Pool Paged Bytes\"\n\"x\n", &ctx);
    assert!(series.is_empty());
    let (series, _) = parse("", &ctx);
    assert!(series.is_empty());
}
