//! Every parser module has a fuzz target (issue 14): a new module under `src/parse/` fails this test until
//! a target in `fuzz/fuzz_targets/` reaches it and names it as `parse::<module path>` (in its code or in its
//! doc comment, e.g. `parse::events::typed` for a module reached through `parse::events::parse`).

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Module paths under `src/parse/` (`poolmon`, `poolmon::grammar`, `events::csv`, `text`, ...).
fn parser_modules(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let module = if prefix.is_empty() { name.clone() } else { format!("{prefix}::{name}") };
        if path.is_dir() {
            out.push(module.clone());
            parser_modules(&path, &module, out);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
            out.push(module);
        }
    }
}

/// `(name, source)` of every fuzz target.
fn targets() -> Vec<(String, String)> {
    let dir = root().join("fuzz/fuzz_targets");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_parser_module_has_a_fuzz_target() {
    let mut modules = Vec::new();
    parser_modules(&root().join("src/parse"), "", &mut modules);
    assert!(modules.len() > 10, "{modules:?}");
    let targets = targets();
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| {
            let needle = format!("parse::{m}");
            // `parse::poolmon` must not count as `parse::poolmon::grammar`: the name ends at a non-identifier.
            !targets.iter().any(|(_, src)| {
                src.match_indices(&needle).any(|(at, _)| {
                    src[at + needle.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
                })
            })
        })
        .collect();
    assert!(missing.is_empty(), "parser modules with no fuzz target (name them as parse::<module>): {missing:?}");
}

#[test]
fn every_fuzz_target_is_declared_and_run() {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    for (name, src) in targets() {
        assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml has no [[bin]] {name}");
        assert!(manifest.contains(&format!("path = \"fuzz_targets/{name}.rs\"")), "{name}: path");
        assert!(src.contains("fuzz_target!"), "{name} is not a fuzz target");
    }
    let declared = manifest.matches("[[bin]]").count();
    assert_eq!(declared, targets().len(), "a [[bin]] in fuzz/Cargo.toml has no source");
    // The fuzz crate builds the parsers without polars.
    assert!(manifest.contains("default-features = false"));
    let script = std::fs::read_to_string(root().join(".ci/fuzz.sh")).unwrap();
    for flag in ["-max_total_time=", "-timeout=", "-rss_limit_mb="] {
        assert!(script.contains(flag), ".ci/fuzz.sh does not pass {flag}");
    }
}
