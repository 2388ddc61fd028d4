//! Peak memory of `poolscope parse` over large generated inputs (issue 14: memory independent of file size).
//! Ignored by default: it writes about 550 MB of inputs and runs the binary six times; `.ci/run` runs it
//! (`cargo test --test it memory -- --ignored`). Peak RSS comes from GNU time (`/usr/bin/time -f %M`), per run.
//!
//! * A poolmon log streams snapshot by snapshot and `parse --format csv` writes the pool table as it reads: the
//!   peak for a 256 MiB log is bounded (at most 128 MiB) and within 1.5x of that for a log 4x smaller.
//! * A handle.exe dump and an event XML export stream too (a line, or a piece cut at `</Event>`, at a time), but
//!   every command keeps their records (the analyses need all of them), so the peak grows with the records. The
//!   text must not count: a 25 MiB file and the same records padded with blank lines to 100 MiB peak alike
//!   (within a quarter of the 75 MiB added; holding the text would add all of it).

#[path = "../../benches/support/handle_gen.rs"]
mod handle_gen;
#[path = "../../benches/support/poolmon_gen.rs"]
mod poolmon_gen;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// GNU time, which reports a child's peak RSS.
const TIME: &str = "/usr/bin/time";

/// What one run of the binary cost.
#[derive(Debug, Clone, Copy)]
struct Cost {
    peak: u64,
    wall: Duration,
}

/// Runs `poolscope parse FILE --format csv [--table T] -o OUT` under GNU time (`out` is a folder other than the
/// input's: poolscope refuses to write into the evidence).
fn parse_cost(out: &Path, input: &Path, table: Option<&str>) -> Cost {
    assert!(Path::new(TIME).exists(), "{TIME} (GNU time) is needed: apt-get install time");
    let report = out.join("time.txt");
    let mut cmd = Command::new(TIME);
    // POOLSCOPE_BIN measures another build (an older one, for a before/after figure) with the same inputs.
    let bin = std::env::var_os("POOLSCOPE_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_poolscope").into());
    cmd.arg("-f").arg("%M").arg("-o").arg(&report).arg(bin);
    cmd.arg("parse").arg(input).args(["--format", "csv", "--color", "never", "-q", "-o"]).arg(out.join("out.csv"));
    if let Some(table) = table {
        cmd.args(["--table", table]);
    }
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let wall = start.elapsed();
    assert!(out.status.success(), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
    let kib: u64 = std::fs::read_to_string(&report).unwrap().trim().lines().last().unwrap().parse().unwrap();
    Cost { peak: kib * 1024, wall }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn say(what: &str, path: &Path, cost: Cost) {
    eprintln!(
        "memory: {what}: {:.0} MiB file, peak RSS {:.1} MiB, {:.1} s",
        size(path) as f64 / MIB as f64,
        cost.peak as f64 / MIB as f64,
        cost.wall.as_secs_f64()
    );
}

fn poolmon_log(dir: &Path, name: &str, bytes: u64) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    poolmon_gen::write_log(&mut file, bytes as usize).unwrap();
    file.flush().unwrap();
    path
}

/// `text` with blank (space-only) lines after each of its lines, to `total` bytes: the same records, 4x the
/// text (a parser that holds the text shows it; one that holds only records does not).
fn padded(text: &str, total: u64) -> String {
    let lines = text.split_inclusive('\n').count().max(1);
    let per_line = (total.saturating_sub(text.len() as u64) / lines as u64).saturating_sub(2) as usize;
    let blank = format!("{}\r\n", " ".repeat(per_line));
    let mut out = String::with_capacity(total as usize + 4096);
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        out.push_str(&blank);
    }
    out
}

/// A generated v5.0 `-a` dump of at least `bytes` bytes (the bench's).
fn handle_dump(bytes: u64) -> String {
    handle_gen::dump_of_size(bytes as usize).0
}

/// A `wevtutil qe System /f:RenderedXml` export of at least `bytes` bytes: one event per line, service state
/// events with their message, and a resource-exhaustion event now and then.
fn event_xml(bytes: u64) -> String {
    let mut out = String::with_capacity(bytes as usize + 4096);
    let mut id = 0u64;
    while (out.len() as u64) < bytes {
        let (event_id, provider) = if id % 50 == 0 {
            (2004, "Microsoft-Windows-Resource-Exhaustion-Detector")
        } else {
            (7036, "Service Control Manager")
        };
        let (day, second) = (1 + id / 86_400 % 28, id % 86_400);
        let _ = write!(
            out,
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{provider}'/>\
             <EventID Qualifiers='16384'>{event_id}</EventID><Level>4</Level><Task>0</Task>\
             <TimeCreated SystemTime='2024-02-{day:02}T{:02}:{:02}:{:02}.{:07}Z'/><EventRecordID>{id}</EventRecordID>\
             <Channel>System</Channel><Computer>SRV-{:02}.contoso.com</Computer></System><EventData>\
             <Data Name='param1'>Windows Update {id}</Data><Data Name='param2'>running</Data></EventData>\
             <RenderingInfo Culture='en-US'><Message>The Windows Update {id} service entered the running state.</Message>\
             <Level>Information</Level><Provider>{provider}</Provider></RenderingInfo></Event>\r\n",
            second / 3600,
            second / 60 % 60,
            second % 60,
            id % 10_000_000,
            id % 7
        );
        id += 1;
    }
    out
}

#[test]
#[ignore = "writes ~500 MB and runs the binary six times (.ci/run runs it)"]
fn memory_of_parse_is_independent_of_the_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    let small = poolmon_log(dir.path(), "small.log", 64 * MIB);
    let small_cost = parse_cost(out.path(), &small, None);
    say("poolmon 1/4", &small, small_cost);
    std::fs::remove_file(&small).unwrap();
    let big = poolmon_log(dir.path(), "big.log", 256 * MIB);
    let big_cost = parse_cost(out.path(), &big, None);
    say("poolmon", &big, big_cost);
    std::fs::remove_file(&big).unwrap();
    assert!(big_cost.peak <= 128 * MIB, "poolmon: peak {} MiB for a 256 MiB log", big_cost.peak / MIB);
    assert!(
        big_cost.peak * 2 <= small_cost.peak * 3,
        "poolmon: peak {} MiB for 256 MiB, {} MiB for 64 MiB: it grows with the file",
        big_cost.peak / MIB,
        small_cost.peak / MIB
    );

    for (what, table, text) in
        [("handle.exe dump", "handles", handle_dump(25 * MIB)), ("event XML", "events", event_xml(25 * MIB))]
    {
        let small = dir.path().join("small.txt");
        std::fs::write(&small, &text).unwrap();
        let small_cost = parse_cost(out.path(), &small, Some(table));
        say(what, &small, small_cost);
        let big = dir.path().join("big.txt");
        std::fs::write(&big, padded(&text, 100 * MIB)).unwrap();
        drop(text);
        let big_cost = parse_cost(out.path(), &big, Some(table));
        say(&format!("{what}, padded to 4x"), &big, big_cost);
        // Holding the text would add the 75 MiB of padding; a line buffer and a decoded piece add next to nothing.
        let added = big_cost.peak.saturating_sub(small_cost.peak);
        assert!(
            added * 4 < size(&big) - size(&small),
            "{what}: peak {} MiB with 4x the text, {} MiB without: the text is held",
            big_cost.peak / MIB,
            small_cost.peak / MIB
        );
        std::fs::remove_file(&small).unwrap();
        std::fs::remove_file(&big).unwrap();
    }
}
