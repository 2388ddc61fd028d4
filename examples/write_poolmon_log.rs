//! Writes a generated append-mode x64 `-n -r` poolmon log of about MB mebibytes (snapshot by snapshot, so
//! writing it holds one snapshot), for timing the command line on large inputs (`scripts/parse-export-timing.sh`).
//!
//! ```text
//! cargo run --release --example write_poolmon_log -- PATH [MB]      # default 188
//! ```

#[path = "../benches/support/poolmon_gen.rs"]
mod poolmon_gen;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: write_poolmon_log PATH [MB]");
        std::process::exit(2);
    };
    let mb: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(188);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let (written, snapshots) = poolmon_gen::write_log(&mut file, mb * 1024 * 1024)?;
    println!("{path}: {:.1} MiB, {snapshots} snapshots of {} rows", written as f64 / 1_048_576.0, poolmon_gen::TAGS);
    Ok(())
}
