//! .zip archives read in place (issue 13): a zip gives what its folder gives, members are named
//! `x.zip!/dir/f.log` in every diagnostic, nesting is one level deep, and the archive limits refuse zip bombs
//! quickly, naming their flags. Nothing is ever written beside an input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use proptest::prelude::*;
use zip::write::SimpleFileOptions;

const DEMO: &str = "fixtures/incidents/lsass-token-leak";

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

/// Deflated members, dated (a fixed MS-DOS time) so that the archive's bytes do not depend on the clock.
fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::from_date_and_time(2020, 5, 23, 0, 0, 0).unwrap())
}

/// A zip of `(name, bytes)` members.
fn zip_of(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        writer.start_file(name.as_str(), options()).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The demo incident's files (hidden ones left out, as the walk leaves them), each named `prefix` + its name.
fn demo_members(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(DEMO).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| (format!("{prefix}{}", p.file_name().unwrap().to_string_lossy()), std::fs::read(&p).unwrap()))
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `poolscope <args>`: exit code, stdout, stderr.
fn run(args: &[&std::ffi::OsStr]) -> (Option<i32>, Vec<u8>, String) {
    let out = poolscope().args(args).output().unwrap();
    (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("json output")
}

/// `parse --format json` of one input.
fn parsed(input: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut args: Vec<&std::ffi::OsStr> = ["parse", "--format", "json"].iter().map(std::ffi::OsStr::new).collect();
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.push(input.as_os_str());
    let (code, stdout, stderr) = run(&args);
    let doc = if stdout.is_empty() { serde_json::Value::Null } else { json(&stdout) };
    (code, doc, stderr)
}

fn diagnostics(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["diagnostics"].as_array().cloned().unwrap_or_default()
}

#[test]
fn analyze_over_a_zip_of_the_demo_folder_gives_the_folder_s_report() {
    let dir = tempfile::tempdir().unwrap();
    // The folder zipped as Explorer's "Send to compressed folder" does: its files at the root of `<folder>.zip`.
    let archive = write(dir.path(), "lsass-token-leak.zip", &zip_of(&demo_members("")));
    let analyze = |input: &Path| {
        let (code, stdout, stderr) =
            run(&["analyze".as_ref(), "--format".as_ref(), "json".as_ref(), input.as_os_str()]);
        assert_eq!(code, Some(0), "{stderr}");
        String::from_utf8(stdout).unwrap()
    };
    let started = Instant::now();
    let folder = analyze(Path::new(DEMO));
    let folder_time = started.elapsed();
    let started = Instant::now();
    let zipped = analyze(&archive);
    eprintln!("analyze: folder {folder_time:?}, zip {:?}", started.elapsed());
    let inside = format!("{}!/", archive.display());
    let expected = folder.replace(&format!("{DEMO}/"), &inside);
    let (a, b) = (json(expected.as_bytes()), json(zipped.as_bytes()));
    assert_eq!(a["verdicts"], b["verdicts"], "same verdicts");
    assert!(!b["suspects"].as_array().unwrap().is_empty());
    assert_eq!(a["suspects"], b["suspects"], "same suspect tags, rates and hosts");
    assert_eq!(a, b, "the whole analysis, paths aside");
    assert!(zipped.contains("lsass-token-leak.zip!/poolmon.log"), "members are named inside their archive");
}

#[test]
fn a_fleet_zip_of_host_folders_gives_each_host_and_a_zip_named_after_a_host_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let poolmon = std::fs::read(format!("{DEMO}/poolmon.log")).unwrap();
    let handles = std::fs::read(format!("{DEMO}/handle-s-20200519T021858Z.txt")).unwrap();
    let fleet = zip_of(&[
        ("SRV01/poolmon/poolmon.log".into(), poolmon.clone()),
        ("SRV02/poolmon.log".into(), poolmon.clone()),
        ("SRV02/handles/handle-s-20200519T021858Z.txt".into(), handles),
    ]);
    let archive = write(dir.path(), "fleet.zip", &fleet);
    let (code, doc, stderr) = parsed(&archive, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let hosts = |records: &str| -> std::collections::BTreeSet<String> {
        doc[records].as_array().unwrap().iter().map(|s| s["host"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(hosts("pool_snapshots"), ["SRV01".to_owned(), "SRV02".to_owned()].into(), "{stderr}");
    assert_eq!(hosts("handle_snapshots"), ["SRV02".to_owned()].into());
    // A host's folder zipped on its own, named after the host, is that host as the folder would be.
    let host = write(dir.path(), "SRV03.zip", &zip_of(&[("poolmon/x.log".into(), poolmon)]));
    let (code, doc, stderr) = parsed(&host, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let snapshots = doc["pool_snapshots"].as_array().unwrap();
    assert!(!snapshots.is_empty() && snapshots.iter().all(|s| s["host"] == "SRV03"), "{stderr}");
}

#[test]
fn a_zip_inside_a_zip_is_read_and_one_deeper_is_named_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let poolmon = std::fs::read(format!("{DEMO}/poolmon.log")).unwrap();
    let deepest = zip_of(&[("poolmon.log".into(), poolmon.clone())]);
    let inner = zip_of(&[("poolmon/p.log".into(), poolmon), ("deeper.zip".into(), deepest)]);
    let archive = write(dir.path(), "outer.zip", &zip_of(&[("SRV01.zip".into(), inner)]));
    let (code, doc, stderr) = parsed(&archive, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let snapshots = doc["pool_snapshots"].as_array().unwrap();
    assert!(!snapshots.is_empty());
    let member = format!("{}!/SRV01.zip!/poolmon/p.log", archive.display());
    for s in snapshots {
        assert_eq!(s["host"], "SRV01", "the inner zip is named after the host");
        assert_eq!(s["source"]["path"], member.as_str());
    }
    let deeper = format!("{}!/SRV01.zip!/deeper.zip", archive.display());
    let warned = diagnostics(&doc).into_iter().find(|d| d["path"] == deeper.as_str()).expect("deeper zip named");
    assert_eq!(warned["severity"], "warning");
    assert!(warned["message"].as_str().unwrap().contains("one level of nesting"), "{warned}");
}

#[test]
fn line_diagnostics_of_a_member_name_the_member_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let garbled = std::fs::read("fixtures/poolmon/err_garbled_lines.log").unwrap();
    let archive = write(dir.path(), "x.zip", &zip_of(&[("poolmon/garbled.log".into(), garbled)]));
    let (_, doc, stderr) = parsed(&archive, &[]);
    let member = format!("{}!/poolmon/garbled.log", archive.display());
    assert!(stderr.contains(&format!("{member}:7: error: garbled line")), "{stderr}");
    let lined: Vec<_> = diagnostics(&doc).into_iter().filter(|d| d["path"] == member.as_str()).collect();
    assert!(lined.iter().any(|d| d["line"] == 7), "{lined:?}");
    // The same file on disk gives the same diagnostics at the same lines.
    let (_, on_disk, _) = parsed(Path::new("fixtures/poolmon/err_garbled_lines.log"), &[]);
    let lines =
        |ds: Vec<serde_json::Value>| ds.iter().map(|d| (d["line"].clone(), d["message"].clone())).collect::<Vec<_>>();
    let with_line = |ds: Vec<serde_json::Value>| lines(ds.into_iter().filter(|d| !d["line"].is_null()).collect());
    assert_eq!(with_line(lined), with_line(diagnostics(&on_disk)));
}

/// `size` bytes of a poolmon header followed by zeros, deflated as it is written (never held in memory).
fn bomb(size: u64) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("poolmon/bomb.log", options()).unwrap();
    let header = b" Tag  Type     Allocs         Frees    Diff   Bytes    Per Alloc\r\n";
    writer.write_all(header).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size - header.len() as u64;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        writer.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    writer.finish().unwrap().into_inner()
}

/// Patches the declared decompressed size of the only member, in its local and central headers.
fn declare_size(zip: &mut [u8], size: u32) {
    let find = |zip: &[u8], magic: &[u8]| zip.windows(4).position(|w| w == magic).unwrap();
    let local = find(zip, b"PK\x03\x04");
    zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    let central = find(zip, b"PK\x01\x02");
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn a_zip_bomb_is_refused_quickly_naming_the_limit_and_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let honest = bomb(1 << 30);
    assert!(honest.len() < 4 << 20, "1 GiB of zeros deflates to {} bytes", honest.len());
    let archive = write(dir.path(), "bomb.zip", &honest);
    let started = Instant::now();
    let (code, _, stderr) = parsed(&archive, &[]);
    let took = started.elapsed();
    assert_eq!(code, Some(2), "nothing usable: {stderr}");
    assert!(took < Duration::from_secs(5), "refused on its declared sizes, before decompressing: {took:?}");
    let member = format!("{}!/poolmon/bomb.log", archive.display());
    let refused = stderr
        .lines()
        .find(|l| l.contains(&format!("{member}: error: zip member poolmon/bomb.log not read")))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(refused.contains("200:1") && refused.contains("--max-compression-ratio"), "{refused}");

    // The same bomb declaring 32 MiB (about 128:1, under the limit) is stopped while it decompresses, past 1 MiB.
    let mut lying = bomb(256 << 20);
    declare_size(&mut lying, 32 << 20);
    let archive = write(dir.path(), "lying.zip", &lying);
    let started = Instant::now();
    let (_, _, stderr) = parsed(&archive, &[]);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(stderr.contains("more than 200:1 of its compressed bytes"), "{stderr}");
    assert!(stderr.contains("--max-compression-ratio"), "{stderr}");

    // Declaring less than it holds (under the ratio), it is cut at its declared size.
    let mut short = bomb(8 << 20);
    declare_size(&mut short, 100_000);
    let archive = write(dir.path(), "short.zip", &short);
    let (_, _, stderr) = parsed(&archive, &[]);
    assert!(stderr.contains("more than its declared 100000 bytes"), "{stderr}");
}

#[test]
fn archive_limits_refuse_the_whole_archive_naming_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let archive = write(dir.path(), "demo.zip", &zip_of(&demo_members("SRV01/")));
    let (code, doc, stderr) = parsed(&archive, &["--max-archive-entries", "5"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--max-archive-entries") && stderr.contains("more than 5 entries"), "{stderr}");
    assert!(doc.is_null() || doc["pool_snapshots"].as_array().is_none_or(Vec::is_empty));
    let (code, _, stderr) = parsed(&archive, &["--max-archive-size", "1M"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--max-archive-size"), "{stderr}");
    let (code, _, stderr) = parsed(&archive, &["--max-archive-entries", "500", "--max-archive-size", "1G"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_cut_zip_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let whole = zip_of(&demo_members(""));
    let archive = write(dir.path(), "cut.zip", &whole[..whole.len() * 2 / 3]);
    let (code, _, stderr) = parsed(&archive, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let shown = archive.display().to_string();
    assert!(stderr.contains(&format!("{shown}: error: cannot read the zip archive")), "{stderr}");
    // Beside a readable file, the cut zip is one error and the file is still read.
    std::fs::copy("fixtures/poolmon/x64_n_r.log", dir.path().join("x64_n_r.log")).unwrap();
    let (code, doc, stderr) = parsed(dir.path(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!doc["pool_snapshots"].as_array().unwrap().is_empty());
    let errors: Vec<_> = diagnostics(&doc).into_iter().filter(|d| d["severity"] == "error").collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["path"], shown.as_str());
}

#[test]
fn encrypted_members_are_named_and_skipped_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let poolmon = std::fs::read(format!("{DEMO}/poolmon.log")).unwrap();
    let mut bytes = zip_of(&[("a/secret.log".into(), poolmon.clone()), ("b/plain.log".into(), poolmon)]);
    // Bit 0 of the general purpose flags (local header offset 6, central header offset 8) of the first member.
    let local = bytes.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
    bytes[local + 6] |= 1;
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 8] |= 1;
    let archive = write(dir.path(), "SRV01.zip", &bytes);
    let (code, doc, stderr) = parsed(&archive, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let secret = format!("{}!/a/secret.log", archive.display());
    assert!(
        stderr.contains(&format!("{secret}: warning: zip member a/secret.log not read: it is encrypted")),
        "{stderr}"
    );
    let sources: std::collections::BTreeSet<&str> =
        doc["pool_snapshots"].as_array().unwrap().iter().map(|s| s["source"]["path"].as_str().unwrap()).collect();
    assert_eq!(sources.len(), 1);
    assert!(sources.iter().all(|p| p.ends_with("!/b/plain.log")), "{sources:?}");
}

#[test]
fn ignored_members_are_skipped_as_the_walk_skips_them() {
    let dir = tempfile::tempdir().unwrap();
    let poolmon = std::fs::read(format!("{DEMO}/poolmon.log")).unwrap();
    let archive = write(
        dir.path(),
        "SRV01.zip",
        &zip_of(&[
            ("poolmon.log".into(), poolmon.clone()),
            ("__MACOSX/._poolmon.log".into(), poolmon.clone()),
            ("truth.json".into(), b"{}".to_vec()),
            ("summary.md".into(), b"# x".to_vec()),
            ("report/index.html".into(), b"<p>".to_vec()),
            ("../escape.log".into(), poolmon),
        ]),
    );
    let (code, doc, stderr) = parsed(&archive, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let all = diagnostics(&doc);
    for skipped in ["._poolmon.log", "truth.json", "summary.md", "index.html"] {
        assert!(!all.iter().any(|d| d["path"].as_str().unwrap().ends_with(skipped)), "{skipped}: {stderr}");
    }
    assert!(
        stderr.contains("../escape.log: warning: zip member ../escape.log not read: its name leaves the archive"),
        "{stderr}"
    );
}

#[test]
fn an_input_zip_is_left_unchanged_and_nothing_is_written_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = zip_of(&demo_members("SRV01/"));
    let archive = write(dir.path(), "SRV01.zip", &bytes);
    let before = std::fs::metadata(&archive).unwrap().modified().unwrap();
    for command in ["parse", "analyze", "events", "handles"] {
        let _ = poolscope().args([command, "-q"]).arg(&archive).output().unwrap();
    }
    let listed: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(listed, vec![archive.clone()], "nothing extracted or written beside the zip");
    assert_eq!(std::fs::read(&archive).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&archive).unwrap().modified().unwrap(), before);
}

#[test]
fn member_times_stand_in_for_file_times_and_a_zip_of_copies_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    // Two poolmon screens with no time inside or in their names: their member times date them.
    let screen = std::fs::read("fixtures/poolmon/x64_n_r.log").unwrap();
    let strip = |text: &[u8]| -> Vec<u8> {
        String::from_utf8_lossy(text)
            .lines()
            .skip_while(|l| !l.contains("Memory:"))
            .collect::<Vec<_>>()
            .join("\r\n")
            .into_bytes()
    };
    let body = strip(&screen);
    let dated =
        |hour: u8| options().last_modified_time(zip::DateTime::from_date_and_time(2020, 5, 22, hour, 0, 0).unwrap());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, hour) in [("a/one.txt", 10), ("a/two.txt", 12)] {
        writer.start_file(name, dated(hour)).unwrap();
        writer.write_all(&body).unwrap();
    }
    let archive = write(dir.path(), "SRV01.zip", &writer.finish().unwrap().into_inner());
    let (code, doc, stderr) = parsed(&archive, &["--tz", "+02:00"]);
    assert_eq!(code, Some(0), "{stderr}");
    let times: Vec<(&str, &str)> = doc["pool_snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["taken_at"].as_str().unwrap_or("none"), s["time_source"].as_str().unwrap()))
        .collect();
    assert_eq!(times.len(), 2, "{stderr}");
    assert!(times.iter().any(|(t, _)| t.starts_with("2020-05-22T08:00:00")), "DOS times read in --tz: {times:?}");
    assert!(times.iter().all(|(_, s)| *s == "file_modified"), "{times:?}");
    // Zipped after a copy (both members modified in the same second): no time, said once, as for files.
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in ["a/one.txt", "a/two.txt"] {
        writer.start_file(name, dated(10)).unwrap();
        writer.write_all(&body).unwrap();
    }
    let archive = write(dir.path(), "SRV02.zip", &writer.finish().unwrap().into_inner());
    let (_, doc, stderr) = parsed(&archive, &[]);
    assert!(stderr.contains("modified within"), "{stderr}");
    assert!(doc["pool_snapshots"].as_array().unwrap().iter().all(|s| s["taken_at"].is_null()), "{stderr}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Listing and reading arbitrary bytes, or a real zip damaged at random, never panics or hangs.
    #[test]
    fn listing_hostile_bytes_never_panics(
        junk in proptest::collection::vec(any::<u8>(), 0..2048),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut real = zip_of(&[("a/p.log".into(), b" Tag  Type  Allocs\r\n".repeat(40)), ("b.zip".into(), zip_of(&[("c.txt".into(), b"x".to_vec())]))]);
        for (at, byte) in &flips {
            let i = at.index(real.len());
            real[i] ^= byte;
        }
        real.truncate(cut.index(real.len() + 1).max(1));
        let limits = poolscope::parse::ReadLimits::default();
        for (name, bytes) in [("junk.zip", &junk), ("real.zip", &real)] {
            let path = write(dir.path(), name, bytes);
            let started = Instant::now();
            let mut said = Vec::new();
            for member in poolscope::parse::archive::list(&path, &limits, &mut said) {
                let _ = poolscope::parse::archive::with_member(&member, &limits, |r, _| std::io::copy(r, &mut std::io::sink()));
            }
            prop_assert!(started.elapsed() < Duration::from_secs(5));
        }
    }
}

/// `fixtures/zip/poolmon_and_nested.zip`: the fuzz target's seed (`.ci/fuzz.sh`) and a zip written by another
/// writer's layout than the tests' own. `UPDATE_ZIP_FIXTURE=1` writes it again from the members below.
#[test]
fn the_zip_fixture_lists_its_members_and_nested_one() {
    let fixture = Path::new("fixtures/zip/poolmon_and_nested.zip");
    let screen = std::fs::read("fixtures/poolmon/x64_n_r.log").unwrap();
    if std::env::var_os("UPDATE_ZIP_FIXTURE").is_some() {
        let inner = zip_of(&[(
            "handles/h.txt".into(),
            b"Handle type summary:\r\n  File : 10\r\nTotal handles: 10\r\n".to_vec(),
        )]);
        let bytes = zip_of(&[("SRV01/poolmon/x64_n_r.log".into(), screen.clone()), ("SRV02.zip".into(), inner)]);
        std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
        std::fs::write(fixture, bytes).unwrap();
    }
    let mut said = Vec::new();
    let members = poolscope::parse::archive::list(fixture, &poolscope::parse::ReadLimits::default(), &mut said);
    let names: Vec<String> = members.iter().map(|m| m.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "fixtures/zip/poolmon_and_nested.zip!/SRV01/poolmon/x64_n_r.log",
            "fixtures/zip/poolmon_and_nested.zip!/SRV02.zip!/handles/h.txt"
        ],
        "{said:?}"
    );
    assert!(said.is_empty(), "{said:?}");
    let read =
        poolscope::parse::archive::with_member(&members[0], &poolscope::parse::ReadLimits::default(), |r, size| {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).map(|_| (bytes, size))
        });
    let (bytes, size) = read.unwrap().unwrap();
    assert_eq!((bytes.len() as u64, bytes), (size, screen));
}
