//! handle.exe parsing: one test per fixture (each states how many snapshots, processes, handles and
//! diagnostics it yields), the real samples in ../shared/samples/handle when present, and a proptest that
//! no input panics.

use std::path::PathBuf;

use poolscope::model::handles::HandleMode;
use poolscope::model::{Diagnostic, HandleSnapshot, ObjectIdentity, Severity, TimeSettings, TimeSource};
use poolscope::parse::{handle, text, FileContext};
use proptest::prelude::*;

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/handle").join(name)
}

/// Decodes and parses bytes as the file `name`, as `parse_bytes` does for a handle.exe file.
fn parse_named(name: &str, bytes: &[u8]) -> (Vec<HandleSnapshot>, Vec<Diagnostic>) {
    // As for a file on disk: a modification time, the weakest time a run can get.
    let modified = chrono::DateTime::parse_from_rfc3339("2020-05-22T22:35:55Z").ok().map(|t| t.to_utc());
    let ctx = FileContext { path: name.to_owned(), modified, ..FileContext::default() };
    let decoded = text::decode(bytes);
    handle::parse(&decoded.text, &ctx)
}

fn fixture(name: &str) -> (Vec<HandleSnapshot>, Vec<Diagnostic>) {
    let bytes = std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    parse_named(name, &bytes)
}

fn handles(snap: &HandleSnapshot) -> usize {
    snap.processes.iter().map(|p| p.handles.len()).sum()
}

fn count(diags: &[Diagnostic], severity: Severity) -> usize {
    diags.iter().filter(|d| d.severity == severity).count()
}

fn process<'a>(snap: &'a HandleSnapshot, name: &str) -> &'a poolscope::model::ProcessHandles {
    snap.processes.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no process {name}"))
}

fn accounts(snap: &HandleSnapshot, name: &str) -> Vec<(String, usize)> {
    let mut by: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for h in &process(snap, name).handles {
        if let Some(ObjectIdentity::Token { account, .. }) = &h.identity {
            *by.entry(account.clone()).or_default() += 1;
        }
    }
    by.into_iter().collect()
}

#[test]
fn v3_5_dump_default() {
    let (snaps, diags) = fixture("v3.5_dump_default.txt");
    assert_eq!(snaps.len(), 1, "{diags:?}");
    assert!(diags.is_empty(), "{diags:?}");
    let snap = &snaps[0];
    assert_eq!(snap.mode, HandleMode::Dump);
    assert_eq!(snap.tool_version.as_deref(), Some("3.5"));
    assert_eq!(snap.source.line, Some(1));
    assert_eq!(snap.processes.len(), 8);
    assert_eq!(handles(snap), 14);
    let system = process(snap, "System");
    assert_eq!((system.pid, system.owner.as_deref()), (4, Some("<unable to open process>")));
    assert_eq!(system.handles.len(), 4);
    assert_eq!(system.handles[3].share.as_deref(), Some("-W-"));
    assert!(process(snap, "<Non-existant Process>").handles.is_empty());
    assert_eq!(process(snap, "dwm.exe").owner.as_deref(), Some(r"Window Manager\DWM-1"));
    let sections = snap.processes.iter().flat_map(|p| &p.handles).filter(|h| h.handle_type == "Section").count();
    assert_eq!(sections, 4);
    assert_eq!(process(snap, "csrss.exe").handles[1].name, "C:?\u{1}");
}

#[test]
fn v5_0_dump_a_tokens() {
    let (snaps, diags) = fixture("v5.0_dump_a_tokens.txt");
    assert_eq!(snaps.len(), 1);
    assert!(diags.is_empty(), "{diags:?}");
    let snap = &snaps[0];
    assert_eq!(snap.tool_version.as_deref(), Some("5.0"));
    assert_eq!(snap.processes.len(), 5);
    assert_eq!(handles(snap), 27);
    let lsass = process(snap, "lsass.exe");
    assert_eq!(lsass.handles.len(), 17);
    assert_eq!(
        accounts(snap, "lsass.exe"),
        vec![
            (r"CONTOSO\alice".to_owned(), 1),
            (r"CONTOSO\svc_backup".to_owned(), 6),
            (r"NT AUTHORITY\NETWORK SERVICE".to_owned(), 1),
            (r"NT AUTHORITY\SYSTEM".to_owned(), 2)
        ]
    );
    let types: Vec<&str> = lsass.handles.iter().take(7).map(|h| h.handle_type.as_str()).collect();
    assert_eq!(types, ["Event", "ALPC Port", "WaitCompletionPacket", "<Unknown type>", "Process", "Thread", "Key"]);
    assert_eq!(lsass.handles[4].identity, Some(ObjectIdentity::Process { name: "services.exe".into(), pid: 700 }));
    assert_eq!(
        lsass.handles[5].identity,
        Some(ObjectIdentity::Thread { name: "lsass.exe".into(), pid: 768, tid: 812 })
    );
    let system = process(snap, "System");
    assert_eq!(system.handles[3].share, None, "v5.0 File line without flags");
    assert_eq!(system.handles[4].share.as_deref(), Some("RW-"));
    assert_eq!(
        system.handles[2].identity,
        Some(ObjectIdentity::Key { path: r"\REGISTRY\MACHINE\SYSTEM\ControlSet001\Control\Lsa".into() })
    );
    let gone = process(snap, "<Nonexistent process>");
    assert_eq!((gone.pid, gone.owner.as_deref(), gone.handles.len()), (7040, Some("<unable to open token>"), 0));
    let code = process(snap, "Code - Insiders.exe");
    assert_eq!(code.handles[1].name, r"C:\Users\alice\My Documents\notes, draft.txt");
}

#[test]
fn v4_22_summary_s() {
    let (snaps, diags) = fixture("v4.22_summary_s.txt");
    assert_eq!(snaps.len(), 1);
    assert!(diags.is_empty(), "{diags:?}");
    let snap = &snaps[0];
    assert_eq!(snap.mode, HandleMode::Summary);
    assert_eq!(snap.type_counts.len(), 18);
    assert_eq!(snap.total_handles, Some(2070));
    assert_eq!(snap.type_counts["Token"], 1530);
    assert_eq!(snap.type_counts["WaitCompletionPacket"], 25);
    assert_eq!(snap.type_counts["<Unknown type>"], 1);
    assert_eq!(snap.process_filter, None);
    assert!(snap.processes.is_empty());
}

#[test]
fn v3_42_summary_duplicates_are_summed() {
    let (snaps, diags) = fixture("v3.42_summary_duplicates.txt");
    assert_eq!(snaps.len(), 1);
    let snap = &snaps[0];
    assert_eq!(snap.type_counts.len(), 6);
    assert_eq!(snap.type_counts["Process"], 41);
    assert_eq!(snap.type_counts["<Unknown type>"], 5);
    assert_eq!(snap.total_handles, Some(222));
    assert_eq!(count(&diags, Severity::Info), 2, "{diags:?}");
    assert_eq!(diags.len(), 2);
}

#[test]
fn v5_0_search_u_08x_bug() {
    let (snaps, diags) = fixture("v5.0_search_u_08X_bug.txt");
    assert_eq!(snaps.len(), 1);
    let snap = &snaps[0];
    assert_eq!(snap.mode, HandleMode::Search);
    assert_eq!(snap.processes.len(), 2);
    let explorer = process(snap, "explorer.exe");
    assert_eq!(explorer.owner.as_deref(), Some(r"CLNTNAME\Alias1"));
    let values: Vec<u64> = explorer.handles.iter().map(|h| h.value).collect();
    assert_eq!(values, [0x1dd34, 0x1ea0c]);
    assert_eq!(explorer.handles[1].name, r"E:\Users\Alias1\Downloads\3rd_Pty\PDFforge.org\setup.exe");
    assert_eq!(process(snap, "SearchIndexer.exe").handles[0].value, 0x9b4);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Info);
    assert!(diags[0].message.contains("#792"));
}

#[test]
fn v4_22_search_u_user_column() {
    let (snaps, diags) = fixture("v4.22_search_u_user_column.txt");
    assert!(diags.is_empty(), "{diags:?}");
    let snap = &snaps[0];
    assert_eq!(snap.processes.len(), 3);
    assert_eq!(handles(snap), 4);
    assert_eq!(accounts(snap, "lsass.exe"), vec![(r"CONTOSO\svc_backup".to_owned(), 2)]);
    assert_eq!(process(snap, "lsass.exe").owner.as_deref(), Some(r"NT AUTHORITY\SYSTEM"));
    let app = process(snap, "My App (x86).exe");
    assert_eq!((app.handles[0].handle_type.as_str(), app.handles[0].value), ("ALPC Port", 0x2C));
}

#[test]
fn v5_0_csv_v_u_header_mismatch_is_read_by_the_rows() {
    let (snaps, diags) = fixture("v5.0_csv_v_u_header_mismatch.csv");
    assert_eq!(snaps.len(), 1);
    let snap = &snaps[0];
    assert_eq!(snap.mode, HandleMode::Csv);
    assert_eq!(snap.processes.len(), 3);
    assert_eq!(handles(snap), 5);
    let sihost = process(snap, "sihost.exe");
    assert_eq!(sihost.owner.as_deref(), Some(r"PcName\UserName"));
    assert_eq!((sihost.handles[0].handle_type.as_str(), sihost.handles[0].value), ("File", 0x50));
    assert_eq!(sihost.handles[0].name, r"C:\Windows\System32");
    assert_eq!(process(snap, "svchost.exe").handles[1].name, r"C:\Users\x\a, b.txt");
    assert!(process(snap, "ipf_helper.exe").handles[0].name.ends_with("ipf_cpu.inf_amd64_e"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(diags[0].message.contains("#735") && diags[0].message.contains("5 row(s)"), "{}", diags[0].message);
}

#[test]
fn v5_0_vt_tab() {
    let (snaps, diags) = fixture("v5.0_vt_tab.tsv");
    assert!(diags.is_empty(), "{diags:?}");
    let snap = &snaps[0];
    assert_eq!((snap.mode, snap.tool_version.as_deref()), (HandleMode::Csv, None));
    assert_eq!(snap.processes.len(), 3);
    assert_eq!(handles(snap), 5);
    assert_eq!(
        accounts(snap, "lsass.exe"),
        vec![(r"CONTOSO\svc_backup".to_owned(), 2), (r"NT AUTHORITY\SYSTEM".to_owned(), 1)]
    );
    assert_eq!(process(snap, "winlogon.exe").handles[0].share.as_deref(), Some("RW-"));
    assert_eq!(process(snap, "pwsh.exe").handles[0].share, None);
}

#[test]
fn v5_0_csv_v_dump_comma_name() {
    let (snaps, diags) = fixture("v5.0_csv_v_dump_comma_name.csv");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps[0].processes.len(), 3);
    assert_eq!(process(&snaps[0], "pwsh.exe").handles[0].name, r"D:\repo\notes, draft.txt");
    assert_eq!(process(&snaps[0], "pwsh.exe").owner.as_deref(), Some(r"EXAMPLE-PC\user"));
}

#[test]
fn two_runs_s_then_a() {
    let (snaps, diags) = fixture("two_runs_s_then_a.txt");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps.len(), 2);
    assert_eq!((snaps[0].mode, snaps[0].source.line), (HandleMode::Summary, Some(1)));
    assert_eq!(snaps[0].type_counts.len(), 3);
    assert_eq!(snaps[0].total_handles, Some(12));
    assert_eq!((snaps[1].mode, snaps[1].source.line), (HandleMode::Dump, Some(11)));
    assert_eq!(snaps[1].processes.len(), 2);
    assert_eq!(handles(&snaps[1]), 6);
}

#[test]
fn utf16le_out_file() {
    let bytes = std::fs::read(fixture_path("utf16le_out_file.txt")).unwrap();
    assert_eq!(&bytes[..2], b"\xFF\xFE", "the fixture is UTF-16LE with BOM");
    let (snaps, diags) = parse_named("utf16le_out_file.txt", &bytes);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].processes.len(), 1);
    assert_eq!(handles(&snaps[0]), 4);
    assert_eq!(accounts(&snaps[0], "lsass.exe"), vec![(r"CONTOSO\svc_backup".to_owned(), 2)]);
    assert_eq!(process(&snaps[0], "lsass.exe").handles[3].share.as_deref(), Some("R-D"));
}

/// Runs a fixture that holds only an error: no snapshot, and the expected diagnostic.
fn error_only(name: &str, severity: Severity, needle: &str, line: u64) {
    let (snaps, diags) = fixture(name);
    assert!(snaps.is_empty(), "{name}: {snaps:?}");
    assert_eq!(diags.len(), 1, "{name}: {diags:?}");
    assert_eq!(diags[0].severity, severity, "{name}");
    assert_eq!(diags[0].line, Some(line), "{name}");
    assert!(diags[0].message.contains(needle), "{name}: {}", diags[0].message);
}

#[test]
fn err_no_matching_handles() {
    error_only("err_no_matching_handles.txt", Severity::Warning, "no matching handles", 5);
}

#[test]
fn err_access_denied() {
    error_only("err_access_denied.txt", Severity::Error, "Access denied", 5);
}

#[test]
fn err_initialization_admin() {
    error_only("err_initialization_admin.txt", Severity::Error, "make sure that you are an administrator", 5);
}

#[test]
fn err_extract_x64() {
    error_only("err_extract_x64.txt", Severity::Error, "x64 image", 5);
}

#[test]
fn eula_first_run() {
    error_only("eula_first_run.txt", Severity::Error, "-accepteula", 5);
}

#[test]
fn eula_licence_accepted_then_data() {
    let (snaps, diags) = fixture("eula_licence_accepted_then_data.txt");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].type_counts["Token"], 9);
    assert_eq!(snaps[0].source.line, Some(7));
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Info));
    assert!(diags.iter().any(|d| d.message.contains("licence text skipped (lines 1-5)")), "{diags:?}");
}

#[test]
fn names_with_spaces() {
    let (snaps, diags) = fixture("names_with_spaces.txt");
    assert!(diags.is_empty(), "{diags:?}");
    let snap = &snaps[0];
    assert_eq!(snap.processes.len(), 4);
    assert_eq!(handles(snap), 8);
    let code = process(snap, "VS Code @ FB.exe");
    assert_eq!((code.pid, code.owner.as_deref()), (4242, Some(r"CONTOSO\John Smith")));
    assert_eq!(code.handles[1].handle_type, "ALPC Port");
    assert_eq!(code.handles[2].name, r"C:\Users\John Smith\My Documents\a b.txt");
    assert!(process(snap, "System Idle Process").handles.is_empty());
    let svchost = process(snap, "svchost.exe");
    assert!(svchost.handles[1].name.ends_with("Image File Execution Options"));
    assert_eq!(svchost.handles[2].handle_type, "<Unknown type>");
    let long = process(snap, "Some Very Long Process Name Indeed.exe");
    assert_eq!(long.owner.as_deref(), Some("<unknown owner>"));
    assert_eq!(long.handles[0].handle_type, "DxgkSharedSwapChainObject");
    assert_eq!(long.handles[1].name, r"\Sessions\1\BaseNamedObjects\Global event with spaces");
}

#[test]
fn v4_22_search_prompts_and_no_match() {
    let (snaps, diags) = fixture("v4.22_search_prompts_and_no_match.txt");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].mode, HandleMode::Search);
    assert_eq!(snaps[0].processes.len(), 2);
    assert_eq!(handles(&snaps[0]), 3);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!((diags[0].severity, diags[0].line), (Severity::Warning, Some(7)));
}

#[test]
fn v5_0_summary_s_p_takes_the_echoed_filter() {
    let (snaps, diags) = fixture("v5.0_summary_s_p_echoed_command.txt");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].process_filter.as_deref(), Some("lsass.exe"));
    assert_eq!(snaps[0].type_counts["Token"], 41230);
    assert_eq!(snaps[0].total_handles, Some(41570));
}

#[test]
fn close_c_is_not_a_snapshot() {
    let (snaps, diags) = fixture("close_c_not_a_snapshot.txt");
    assert!(snaps.is_empty());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Warning);
}

#[test]
fn v5_0_dump_without_header_keeps_handles_under_the_echoed_pid() {
    let (snaps, diags) = fixture("v5.0_dump_no_header_trimmed.txt");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].processes.len(), 1);
    assert_eq!((snaps[0].processes[0].name.as_str(), snaps[0].processes[0].pid), ("<unknown process>", 5996));
    assert_eq!(handles(&snaps[0]), 2);
    assert_eq!(snaps[0].process_filter.as_deref(), Some("5996"));
    assert_eq!(count(&diags, Severity::Warning), 1, "{diags:?}");
}

#[test]
fn nobanner_summaries_split_and_junk_is_reported() {
    let (snaps, diags) = fixture("nobanner_two_summaries_and_junk.txt");
    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps[0].type_counts["Token"], 100);
    assert_eq!(snaps[1].type_counts["Token"], 130);
    assert_eq!(snaps[1].source.line, Some(7));
    // The junk line, and the first run's missing time: the modification time dates only the last run of a loop.
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert_eq!((diags[0].severity, diags[0].line), (Severity::Warning, Some(6)));
    assert!(diags[1].message.contains("1 of 2 runs"), "{}", diags[1].message);
    assert_eq!((snaps[0].taken_at, snaps[1].time_source), (None, TimeSource::FileModified));
}

#[test]
fn crlf_and_lf_parse_the_same() {
    let lf = std::fs::read_to_string(fixture_path("v5.0_dump_a_tokens.txt")).unwrap();
    let crlf = lf.replace('\n', "\r\n");
    let (a, _) = parse_named("x", lf.as_bytes());
    let (b, _) = parse_named("x", crlf.as_bytes());
    assert_eq!(a, b);
}

#[test]
fn truncated_dump_keeps_what_was_read() {
    let full = std::fs::read_to_string(fixture_path("v5.0_dump_a_tokens.txt")).unwrap();
    // Cut inside a line, as a copy from a hung server ends: the half line is kept and flagged.
    let cut = &full[..full.find("  10C: Token").unwrap() + 9];
    let (snaps, diags) = parse_named("cut", cut.as_bytes());
    assert_eq!(snaps.len(), 1);
    let lsass = process(&snaps[0], "lsass.exe");
    assert_eq!(lsass.handles.len(), 11);
    assert_eq!((lsass.handles[10].value, lsass.handles[10].handle_type.as_str()), (0x10C, "To"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!((diags[0].severity, diags[0].line), (Severity::Info, Some(cut.lines().count() as u64)));
}

fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[test]
fn loop_stamped_summaries_take_their_timestamp_lines() {
    let (snaps, diags) = fixture("loop_stamped_summaries_cmd_date.txt");
    assert_eq!(snaps.len(), 4);
    let times: Vec<_> = snaps.iter().map(|s| (s.taken_at, s.time_source)).collect();
    assert_eq!(times[0], (Some(utc("2020-05-22T22:00:00.15Z")), TimeSource::TimestampLine));
    assert_eq!(times[3], (Some(utc("2020-05-23T01:00:00.93Z")), TimeSource::TimestampLine));
    let tokens: Vec<u64> = snaps.iter().map(|s| s.type_counts["Token"]).collect();
    assert_eq!(tokens, [1000, 1600, 2200, 2800]);
    // Local times without --tz: one warning that UTC was assumed.
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].message.contains("--tz"));
}

#[test]
fn loop_nobanner_dumps_split_at_timestamp_lines() {
    let bytes = std::fs::read(fixture_path("loop_nobanner_dumps_getdate.txt")).unwrap();
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let time = TimeSettings { tz, tz_given: true, ..TimeSettings::default() };
    let ctx = FileContext { path: "loop".into(), time, ..FileContext::default() };
    let (snaps, diags) = handle::parse(&text::decode(&bytes).text, &ctx);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps.len(), 3);
    assert_eq!(snaps[0].taken_at, Some(utc("2020-05-22T20:00:00Z")), "22:00 in Berlin (CEST)");
    assert_eq!(snaps[2].taken_at, Some(utc("2020-05-22T22:00:00Z")));
    let counts: Vec<usize> = snaps.iter().map(|s| accounts(s, "lsass.exe")[0].1).collect();
    assert_eq!(counts, [3, 5, 7]);
}

#[test]
fn time_from_file_name_then_time_override() {
    let bytes = std::fs::read(fixture_path("v4.22_summary_s.txt")).unwrap();
    let decoded = text::decode(&bytes);
    let ctx = FileContext { path: "logs/handle-20200522T223555Z.txt".into(), ..FileContext::default() };
    let (snaps, diags) = handle::parse(&decoded.text, &ctx);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!((snaps[0].taken_at, snaps[0].time_source), (Some(utc("2020-05-22T22:35:55Z")), TimeSource::FileName));
    let time = TimeSettings { time_override: Some(utc("2021-01-01T00:00:00Z")), ..TimeSettings::default() };
    let ctx = FileContext { path: "handle.txt".into(), time, ..FileContext::default() };
    let (snaps, _) = handle::parse(&decoded.text, &ctx);
    assert_eq!(snaps[0].time_source, TimeSource::Override);
    let ctx = FileContext { path: "handle.txt".into(), ..FileContext::default() };
    let (snaps, diags) = handle::parse(&decoded.text, &ctx);
    assert_eq!((snaps[0].taken_at, snaps[0].time_source), (None, TimeSource::Unknown));
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("--time"));
}

/// The real outputs in ../shared/samples/handle (read-only, not part of the repository).
fn sample(name: &str) -> Option<(Vec<HandleSnapshot>, Vec<Diagnostic>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/handle");
    if !dir.is_dir() {
        eprintln!("note: {} is absent; real-sample test skipped", dir.display());
        return None;
    }
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(parse_named(name, &bytes))
}

#[test]
fn real_sample_v3_5_default_dump() {
    // Counted independently with grep/awk: 130 `pid:` headers, 2,644 handle lines (2,036 File, 608 Section),
    // System has 140 handles, devenv.exe 1528 has 236.
    let Some((snaps, diags)) = sample("samuelabj_EpisodeTracker_HandleHelperFacts_v3.5_default_dump.txt") else {
        return;
    };
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps.len(), 1);
    let snap = &snaps[0];
    assert_eq!(snap.tool_version.as_deref(), Some("3.5"));
    assert_eq!(snap.processes.len(), 130);
    assert_eq!(handles(snap), 2644);
    let files = snap.processes.iter().flat_map(|p| &p.handles).filter(|h| h.handle_type == "File").count();
    assert_eq!(files, 2036);
    let with_share = snap.processes.iter().flat_map(|p| &p.handles).filter(|h| h.share.is_some()).count();
    assert_eq!(with_share, 2036);
    assert_eq!(process(snap, "System").handles.len(), 140);
    assert_eq!(snap.processes.iter().find(|p| p.pid == 1528).map(|p| p.handles.len()), Some(236));
    let sam = snap.processes.iter().filter(|p| p.owner.as_deref() == Some(r"BLACK-BEAUTY\Sam")).count();
    assert_eq!(sam, 77);
    let unopened = snap.processes.iter().filter(|p| p.owner.as_deref() == Some("<unable to open process>")).count();
    assert_eq!(unopened, 2);
}

#[test]
fn real_sample_rabbitmq_s_p_summaries() {
    let Some((snaps, diags)) =
        sample("rabbitmq_rabbitmq-server_rabbit_mgmt_external_stats_comment_s_p_v3.42_v4.22.txt")
    else {
        return;
    };
    assert_eq!(snaps.len(), 2);
    assert_eq!((snaps[0].tool_version.as_deref(), snaps[0].total_handles), (Some("3.42"), Some(238)));
    assert_eq!(snaps[0].type_counts["Process"], 41);
    assert_eq!(snaps[0].type_counts.len(), 14);
    assert_eq!((snaps[1].tool_version.as_deref(), snaps[1].total_handles), (Some("4.22"), Some(706)));
    assert_eq!(snaps[1].type_counts["<Unknown type>"], 167);
    assert_eq!(snaps[1].type_counts["WaitCompletionPacket"], 25);
    // Two duplicate-type notes and no mismatch between the type lines and the totals; two summaries in one
    // file read as a loop, so only the last is dated by the modification time.
    assert_eq!(diags.len(), 3, "{diags:?}");
    assert_eq!(count(&diags, Severity::Info), 2);
    assert!(diags[2].message.contains("1 of 2 runs"));
}

#[test]
fn real_sample_v5_0_csv_header_mismatch() {
    let Some((snaps, diags)) = sample("MicrosoftDocs_sysinternals_issue735_v5.0_v_u_csv_header_mismatch.txt") else {
        return;
    };
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].processes.len(), 3);
    assert_eq!(handles(&snaps[0]), 7);
    assert_eq!(process(&snaps[0], "sihost.exe").handles.len(), 4);
    assert!(snaps[0].processes.iter().flat_map(|p| &p.handles).all(|h| h.handle_type == "File"));
    assert_eq!(count(&diags, Severity::Warning), 1, "{diags:?}");
}

#[test]
fn real_sample_v5_0_08x_bug() {
    let Some((snaps, diags)) = sample("MicrosoftDocs_sysinternals_issue792_v5.0_u_search_08X_bug.txt") else { return };
    assert_eq!(snaps.len(), 1);
    let values: Vec<u64> = snaps[0].processes[0].handles.iter().map(|h| h.value).collect();
    assert_eq!(values, [0x1dd34, 0x1ea0c]);
    assert_eq!(count(&diags, Severity::Info), 1);
}

#[test]
fn real_sample_v4_22_search_mode_with_prompts() {
    let Some((snaps, diags)) = sample("nickwesselman_dotnet-docker-lock-issue_README_v4.22_search_mode.txt") else {
        return;
    };
    assert_eq!(snaps.len(), 2);
    assert_eq!(handles(&snaps[0]), 1);
    assert_eq!(handles(&snaps[1]), 3);
    assert_eq!(snaps[1].processes[0].pid, 17640);
    // Two `No matching handles found.` runs, nothing unrecognised (the prompts are echoed commands), and the
    // first search run has no time of its own.
    assert_eq!(diags.len(), 3, "{diags:?}");
    assert_eq!(diags.iter().filter(|d| d.message.contains("no matching")).count(), 2);
    assert_eq!(snaps[0].time_source, TimeSource::Unknown);
}

#[test]
fn real_sample_worktree_sweep_csvs() {
    let Some((snaps, diags)) = sample("leftos_worktree-sweep_tests_fixtures_handle-sample.csv") else { return };
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps[0].processes.len(), 1);
    assert_eq!(handles(&snaps[0]), 2);
    assert_eq!(snaps[0].processes[0].handles[0].name, r"D:\worktree-sweep\.tmp\lockprobe");
    let Some((snaps, diags)) = sample("leftos_worktree-sweep_tests_fixtures_handle-dump-sample.csv") else { return };
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(snaps[0].processes.len(), 4);
    assert_eq!(handles(&snaps[0]), 5);
    let pwsh = snaps[0].processes.iter().find(|p| p.pid == 35952).unwrap();
    assert_eq!(pwsh.handles[1].name, r"D:\example\repo.wt\feature\notes, draft.txt");
}

/// Lines shaped like handle.exe output, to push the proptest past the first rule.
fn handle_like_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Nthandle v5.0 - Handle viewer".to_owned()),
        Just("Handle type summary:".to_owned()),
        Just("-".repeat(78)),
        Just("Process,PID,User,Handle,Type,Share Flags,Name,Access".to_owned()),
        Just("Accept Eula (Y/N)?".to_owned()),
        Just("SYSINTERNALS SOFTWARE LICENSE TERMS".to_owned()),
        "[ -~]{0,40}",
        "[ -~]{0,12} pid: [0-9]{1,12} [ -~]{0,20}",
        "[ -~]{0,10} pid: [0-9]{1,6} +type: [ -~]{0,30}",
        " {0,4}[0-9A-Fa-f]{1,20}: [ -~]{0,30}",
        "  [ -~]{0,20}: [0-9]{0,25}",
        "[ -~]{0,8},[0-9]{1,11},[ -~]{0,8},(0x)?[0-9A-F]{0,9},[ -~,]{0,20}",
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_named("fuzz", &bytes);
    }

    #[test]
    fn handle_like_lines_never_panic(lines in proptest::collection::vec(handle_like_line(), 0..40)) {
        let text = lines.join("\n");
        let (snaps, diags) = parse_named("fuzz", text.as_bytes());
        for d in &diags {
            prop_assert!(d.line.is_none_or(|l| l as usize <= lines.len().max(1)));
        }
        for s in &snaps {
            prop_assert!(s.source.line.is_some());
        }
    }
}
