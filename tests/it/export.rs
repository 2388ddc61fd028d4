//! `poolscope export` (issue 11): a hive-partitioned Parquet dataset whose columns are those SCHEMA.md
//! documents, with the schema version in every file, and whose partitions are replaced per host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use polars::prelude::*;
use poolscope::export::{self, EXPORT_SCHEMA_VERSION, META_HOST, META_SCHEMA_VERSION, META_TABLE, TABLES};

fn poolscope() -> Command {
    Command::cargo_bin("poolscope").expect("binary built")
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn export_to(inputs: &[&Path], out: &Path) {
    poolscope().args(["-q", "--no-progress", "export"]).args(inputs).arg("-o").arg(out).assert().success();
}

/// Every `part-*.parquet` under `dir`, sorted.
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

/// The demo incidents under fixtures/incidents/.
fn incidents() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo("fixtures/incidents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    dirs
}

#[test]
fn export_of_each_demo_incident_has_every_table_with_the_schema_version() {
    for incident in incidents() {
        let out = tempfile::tempdir().unwrap();
        export_to(&[&incident], out.path());
        assert_eq!(std::fs::read_to_string(out.path().join("SCHEMA.md")).unwrap(), export::SCHEMA_DOC);
        for table in TABLES {
            let files = parquet_files(&out.path().join(format!("table={table}")));
            assert!(!files.is_empty(), "{}: no {table} files", incident.display());
            let rows: usize = files.iter().map(|f| read(f).height()).sum();
            // The demos are leaks with handle dumps and event logs: every table has rows.
            assert!(rows > 0, "{}: {table} is empty", incident.display());
            for file in &files {
                let meta = export::read_metadata(file).unwrap();
                assert_eq!(meta.get(META_SCHEMA_VERSION), Some(&EXPORT_SCHEMA_VERSION.to_string()), "{file:?}");
                assert_eq!(meta.get(META_TABLE).map(String::as_str), Some(table));
                let host = meta.get(META_HOST).unwrap();
                let rel = file.strip_prefix(out.path()).unwrap().to_string_lossy().into_owned();
                assert!(rel.contains(&format!("/host={}/", export::partition::escape_value(Some(host)))), "{rel}");
                let df = read(file);
                let hosts = df.column("host").unwrap().str().unwrap();
                assert!(hosts.iter().all(|h| h == Some(host.as_str())), "{rel}: rows of another host");
            }
        }
    }
}

/// The tables of SCHEMA.md: table name → [(column, type)], and the schema version it states.
fn schema_doc() -> (u32, BTreeMap<String, Vec<(String, String)>>) {
    let text = std::fs::read_to_string(repo("SCHEMA.md")).unwrap();
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("Schema version: **"))
        .and_then(|v| v.strip_suffix("**"))
        .and_then(|v| v.parse().ok())
        .expect("a `Schema version: **N**` line");
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### `").and_then(|l| l.strip_suffix('`')) {
            current = Some(name.to_owned());
            tables.insert(name.to_owned(), Vec::new());
        } else if line.starts_with("## ") {
            current = None;
        } else if let (Some(table), Some(row)) = (&current, line.strip_prefix("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            let column = cells[0].trim_end_matches('`').to_owned();
            tables.get_mut(table).unwrap().push((column, cells[1].trim().to_owned()));
        }
    }
    (version, tables)
}

fn type_name(dtype: &DataType) -> String {
    match dtype {
        DataType::String => "string".into(),
        DataType::Int64 => "int64".into(),
        DataType::Float64 => "float64".into(),
        DataType::Boolean => "bool".into(),
        DataType::Datetime(TimeUnit::Milliseconds, None) => "timestamp[ms]".into(),
        DataType::List(inner) => format!("list<{}>", type_name(inner)),
        other => format!("undocumented type {other}"),
    }
}

#[test]
fn schema_md_matches_the_columns_and_types_written() {
    let (version, doc) = schema_doc();
    assert_eq!(version, EXPORT_SCHEMA_VERSION, "SCHEMA.md states another version than the code writes");
    assert_eq!(doc.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut t = TABLES.to_vec();
        t.sort_unstable();
        t
    });
    let out = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = incidents();
    export_to(&inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>(), out.path());
    for table in TABLES {
        let files = parquet_files(&out.path().join(format!("table={table}")));
        assert!(!files.is_empty());
        // Every file, the empty ones of the analysis tables too, has exactly the documented columns.
        for file in files {
            let df = read(&file);
            let written: Vec<(String, String)> =
                df.columns().iter().map(|c| (c.name().to_string(), type_name(c.dtype()))).collect();
            assert_eq!(written, doc[table], "{table}: SCHEMA.md and {} differ", file.display());
        }
    }
}

/// Modification time and bytes of every file under `dir`, by path relative to `dir`.
fn snapshot(dir: &Path) -> BTreeMap<String, (SystemTime, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for file in parquet_files(dir) {
        let rel = file.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        out.insert(rel, (std::fs::metadata(&file).unwrap().modified().unwrap(), std::fs::read(&file).unwrap()));
    }
    out
}

#[test]
fn reexporting_one_host_replaces_only_its_partitions() {
    let work = tempfile::tempdir().unwrap();
    let fleet = work.path().join("fleet");
    poolscope()
        .args(["-q", "simulate", "fleet", "--hosts", "2", "--hours", "30", "--interval", "10m", "--tags", "20"])
        .arg("-o")
        .arg(&fleet)
        .assert()
        .success();
    let out = work.path().join("dataset");
    export_to(&[&fleet], &out);
    let before = snapshot(&out);
    let of = |host: &str, files: &BTreeMap<String, (SystemTime, Vec<u8>)>| -> BTreeMap<String, (SystemTime, Vec<u8>)> {
        files
            .iter()
            .filter(|(k, _)| k.contains(&format!("/host={host}/")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (a_before, b_before) = (of("WEB01", &before), of("WEB02", &before));
    assert!(!a_before.is_empty() && !b_before.is_empty(), "{:?}", before.keys().collect::<Vec<_>>());
    assert_eq!(a_before.len() + b_before.len(), before.len());

    // A boot of WEB01 that the next export will not have, and a stray file in one of its partitions.
    let stale = out.join("table=pool_samples/host=WEB01/boot=99");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::copy(out.join(a_before.keys().next().unwrap()), stale.join("part-0.parquet")).unwrap();
    let first_a = out.join(a_before.keys().next().unwrap());
    let stray = first_a.with_file_name("part-1.parquet");
    std::fs::copy(&first_a, &stray).unwrap();
    std::thread::sleep(Duration::from_millis(50));

    export_to(&[&fleet.join("WEB01")], &out);
    let after = snapshot(&out);
    assert_eq!(of("WEB02", &after), b_before, "WEB02's files were touched by an export of WEB01 only");
    let a_after = of("WEB01", &after);
    assert_eq!(a_after.keys().collect::<Vec<_>>(), a_before.keys().collect::<Vec<_>>(), "stale boots are removed");
    assert!(!stale.exists() && !stray.exists());
    for (path, (mtime, bytes)) in &a_after {
        let (old_mtime, old_bytes) = &a_before[path];
        assert!(mtime > old_mtime, "{path} was not rewritten");
        assert_eq!(bytes, old_bytes, "{path}: the same input exports the same bytes");
    }
}

#[test]
fn export_refuses_a_dataset_inside_the_evidence() {
    let work = tempfile::tempdir().unwrap();
    let evidence = work.path().join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    for f in std::fs::read_dir(&incidents()[0]).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, evidence.join(f.file_name().unwrap())).unwrap();
    }
    poolscope().args(["-q", "export"]).arg(&evidence).arg("-o").arg(evidence.join("out")).assert().code(2);
    assert!(!evidence.join("out").exists());
}

/// A host name from the logs (here `--host`) that would climb out of the dataset, or name a Windows device,
/// becomes one escaped folder inside it; the files keep the name as it was.
#[test]
fn hostile_host_names_stay_one_folder_inside_the_dataset() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("dataset");
    let hostile = "../../evil/CON:\u{1b}[2J";
    poolscope()
        .args(["-q", "--no-progress", "export", "--host", hostile])
        .arg(&incidents()[0])
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let escaped = export::partition::escape_value(Some(hostile));
    assert!(!escaped.contains('/') && !escaped.starts_with('.'), "{escaped}");
    // Nothing was written outside the dataset.
    let outside: Vec<_> = std::fs::read_dir(work.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("dataset")]);
    for table in TABLES {
        let hosts: Vec<_> = std::fs::read_dir(out.join(format!("table={table}")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(hosts, vec![format!("host={escaped}")], "{table}");
        for file in parquet_files(&out.join(format!("table={table}"))) {
            assert_eq!(export::read_metadata(&file).unwrap().get(META_HOST).map(String::as_str), Some(hostile));
        }
    }
}
