//! perfmon fills the gaps of the poolmon series (issue 13): poolmon files lost for hours, perfmon kept running. The
//! pool totals (and so the projection and the totals chart) run through the gap and up to the hang on perfmon's
//! samples; the tag series, the suspects and the boots stay poolmon's.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use poolscope::analysis::{analyze, Analysis, AnalyzeOptions, Projection, Resource, Suspect};
use poolscope::ingest::{ingest, IngestOptions};
use poolscope::model::Dataset;
use poolscope::simulate::{simulate, ScenarioName, SimOptions, StampStyle, Truth};

/// The seed case with one poolmon file per snapshot (so a stretch of them can be deleted) and perfmon sampled with
/// each snapshot.
fn seed_case() -> (tempfile::TempDir, Truth) {
    let mut opts = SimOptions::new(ScenarioName::LsassTokenLeak, 5);
    opts.tags = Some(25);
    opts.interval_secs = 15 * 60;
    opts.hours = Some(100.0);
    opts.stamps = StampStyle::FileName;
    opts.extras.perfmon = true;
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate(&opts, dir.path()).unwrap();
    (dir, truth)
}

/// The time in a `poolmon-<yyyyMMddTHHmmssZ>.txt` name.
fn stamp(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix("poolmon-")?.strip_suffix(".txt")?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok().map(|t| t.and_utc())
}

/// Deletes the poolmon files stamped in `[from, to)`; returns how many.
fn delete_poolmon(dir: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> usize {
    let mut deleted = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if stamp(&name).is_some_and(|t| t >= from && t < to) {
            std::fs::remove_file(&path).unwrap();
            deleted += 1;
        }
    }
    deleted
}

fn read(dir: &Path) -> (Dataset, Analysis) {
    let dataset = ingest(&[dir.to_path_buf()], &IngestOptions::default(), &|_| {});
    let analysis = analyze(&dataset, &AnalyzeOptions::default());
    (dataset, analysis)
}

fn projection(analysis: &Analysis, boot: u32, pool: Resource) -> &Projection {
    analysis.projections.iter().find(|p| p.boot == boot && p.pool == pool).unwrap_or_else(|| panic!("no {pool:?}"))
}

fn top_suspect(analysis: &Analysis, boot: u32) -> &Suspect {
    analysis.suspects.iter().find(|s| s.boot == boot).expect("a suspect")
}

fn totals<'a>(analysis: &'a Analysis, boot: u32, name: &str) -> &'a [DateTime<Utc>] {
    let s = analysis.series.iter().find(|s| s.boot == boot && s.name == name).unwrap_or_else(|| panic!("no {name}"));
    &s.times
}

fn fill_diagnostic(analysis: &Analysis) -> Option<&str> {
    analysis.diagnostics.iter().map(|d| d.message.as_str()).find(|m| m.contains("perfmon filled"))
}

/// The suspect and its rate, as the full poolmon series gives them (the tag series never see a perfmon point).
fn same_suspect(full: &Analysis, cut: &Analysis, boot: u32) {
    let (a, b) = (top_suspect(full, boot), top_suspect(cut, boot));
    assert_eq!((a.tag.as_str(), b.tag.as_str()), ("Toke", "Toke"));
    assert!((b.bytes_per_hour / a.bytes_per_hour - 1.0).abs() < 0.05, "{} vs {}", b.bytes_per_hour, a.bytes_per_hour);
    assert_eq!(full.boots.len(), cut.boots.len(), "{:#?}", cut.boots);
}

#[test]
fn the_hung_servers_last_hours_only_in_perfmon_carry_the_totals_to_the_hang() {
    let (dir, truth) = seed_case();
    let (_, full) = read(dir.path());
    let hung = &truth.hosts[0].boots[0];
    let hang = hung.hang_at.expect("the seed case hangs");
    let cut_from = hang - chrono::Duration::hours(12);
    assert!(delete_poolmon(dir.path(), cut_from, hung.end) >= 40);
    let (dataset, cut) = read(dir.path());
    let died = cut.boots.iter().find(|b| b.died).expect("a boot that died").boot;
    assert_eq!(died, 0);
    // The last perfmon sample of the hung boot is where the totals and the projections now end.
    let last_perf = dataset.hosts["SRV-APP01"]
        .perf_series
        .iter()
        .flat_map(|s| &s.samples)
        .map(|x| x.time)
        .filter(|t| *t <= hung.end)
        .max()
        .unwrap();
    assert!(last_perf > cut.boots[0].end + chrono::Duration::hours(11), "{last_perf} vs {}", cut.boots[0].end);
    for name in ["paged_total", "nonpaged_total", "commit"] {
        let times = totals(&cut, died, name);
        assert_eq!(times.last(), Some(&last_perf), "{name}");
        assert!(times.iter().filter(|t| **t > cut_from).count() >= 40, "{name}: no points in the gap");
    }
    for pool in [Resource::Paged, Resource::Commit] {
        let (a, b) = (projection(&full, died, pool), projection(&cut, died, pool));
        assert_eq!(b.now_at, last_perf, "{pool:?}");
        assert!((b.now_at - a.now_at).num_seconds().abs() < 60, "{pool:?}: {} vs {}", b.now_at, a.now_at);
        assert!((b.now_bytes as f64 / a.now_bytes as f64 - 1.0).abs() < 0.01, "{b:#?} vs {a:#?}");
        // Projected from the last perfmon sample, the exhaustion is within the hour of the hang.
        let at = b.exhaustion_at.expect("an exhaustion date");
        assert!((at - hang).num_minutes().abs() < 60, "{pool:?}: {at} vs the hang at {hang}");
    }
    same_suspect(&full, &cut, died);
    let said = fill_diagnostic(&cut).expect("a fill diagnostic");
    assert!(
        said.starts_with("SRV-APP01: perfmon filled ") && said.ends_with(" in 1 gap of the poolmon series"),
        "{said}"
    );
    // The full poolmon series has no gap to fill.
    assert_eq!(fill_diagnostic(&full), None);
}

#[test]
fn a_lost_middle_stretch_is_filled_from_counters_in_another_folder_under_another_name() {
    let (dir, truth) = seed_case();
    let (_, full) = read(dir.path());
    let boot = &truth.hosts[0].boots[0];
    let (from, to) = (boot.start + chrono::Duration::hours(40), boot.start + chrono::Duration::hours(60));
    let deleted = delete_poolmon(dir.path(), from, to);
    assert!(deleted >= 70, "{deleted}");
    // The counters were copied off the server by hand: another folder, another name, another extension.
    let elsewhere = dir.path().join("copied from SRV-APP01").join("exports");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for (i, entry) in std::fs::read_dir(dir.path()).unwrap().enumerate() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("perfmon-") {
            std::fs::rename(&path, elsewhere.join(format!("counters_{i}.txt"))).unwrap();
        }
    }
    let (_, cut) = read(dir.path());
    let times = totals(&cut, 0, "paged_total");
    let in_gap = times.iter().filter(|t| **t >= from && **t < to).count();
    // Every perfmon sample in the gap but the ones within 1.5 intervals of its two ends.
    assert!(in_gap + 4 >= deleted && in_gap < deleted, "{in_gap} points for {deleted} snapshots");
    // The tag's series keeps its gap.
    let toke = cut.series.iter().find(|s| s.boot == 0 && s.name == "tag:Toke:paged").expect("Toke's series");
    assert!(!toke.times.iter().any(|t| *t >= from && *t < to));
    same_suspect(&full, &cut, 0);
    let said = fill_diagnostic(&cut).expect("a fill diagnostic");
    assert_eq!(said, format!("SRV-APP01: perfmon filled {in_gap} pool-total points in 1 gap of the poolmon series"));
    // The hang's projection is poolmon's as before (its last snapshots are there).
    let (a, b) = (projection(&full, 0, Resource::Commit), projection(&cut, 0, Resource::Commit));
    assert_eq!(a.now_at, b.now_at);
}
