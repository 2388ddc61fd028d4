//! A synthetic append-mode poolmon log for benchmarks: x64 `-n -r` snapshots, each after an `echo %DATE% %TIME%`
//! line, as a one-minute collection loop writes them (formats reference §1.3, §1.4). Deterministic.

// Shared by the bench and the example, which each use part of it.
#![allow(dead_code)]
use std::fmt::Write as _;

/// Tags per snapshot (a busy server lists 1,500-3,000).
pub const TAGS: usize = 1_500;

/// The 4-character tag of tag number `k`; some hold spaces like `Io  ` and `Dh 1`.
fn tag(k: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let c = |n: usize| CHARS[n % CHARS.len()] as char;
    let mut t: String = [c(k), c(k / 7 + 3), c(k / 49 + 11), c(k / 343 + 5)].iter().collect();
    if k % 97 == 0 {
        t.replace_range(2.., "  ");
    } else if k % 89 == 0 {
        t.replace_range(2..3, " ");
    }
    t
}

/// Appends snapshot number `n` (with its timestamp line) to `out`.
pub fn write_snapshot(out: &mut String, n: usize) {
    let minutes = n;
    let (day, hour, minute) = (1 + minutes / 1440 % 28, minutes / 60 % 24, minutes % 60);
    let _ = write!(out, "Fri 05/{day:02}/2020 {hour:2}:{minute:02}:07.31 \r\n\r\n");
    let _ = write!(
        out,
        " Memory:49371552K Avail:{:8}K  PageFlts:{:6}   InRam Krnl:76500K P:4130272K\r\n",
        26_121_028 - n * 10,
        901_597_864 + n * 1000
    );
    let _ = write!(
        out,
        " Commit:{:7}K Limit:64575904K Peak:43634092K            Pool N:{:5}K P:{:5}K\r\n\r\n",
        35_762_700 + n,
        2_275_124 + n,
        4_427_892 + n * 3
    );
    out.push_str(
        " Tag  Type     Allocs            Frees               Diff            Bytes                 Per Alloc\r\n\r\n",
    );
    for k in 0..TAGS {
        let pool = if k % 3 == 0 { "Nonp " } else { "Paged" };
        let frees = (k * 7919 % 1_000_000 + n * (k % 13)) as u64;
        let diff = (k * 31 % 5000 + n * (k % 5)) as u64;
        let per_alloc = (16 + k % 4096) as u64;
        let _ = write!(
            out,
            " {} {pool} {:18} {frees:18}  {diff:16} {:14}     {per_alloc:12}        \r\n",
            tag(k),
            frees + diff,
            diff * per_alloc
        );
    }
}

/// A log of at least `bytes` bytes, and how many snapshots it holds.
pub fn log_of_size(bytes: usize) -> (String, usize) {
    let mut out = String::with_capacity(bytes + 256 * 1024);
    let mut n = 0;
    while out.len() < bytes {
        write_snapshot(&mut out, n);
        n += 1;
    }
    (out, n)
}

/// Writes a log of at least `bytes` bytes to `out` snapshot by snapshot (one snapshot held at a time); returns
/// the bytes written and the snapshots.
pub fn write_log(out: &mut impl std::io::Write, bytes: usize) -> std::io::Result<(usize, usize)> {
    let (mut written, mut snapshots, mut chunk) = (0usize, 0usize, String::new());
    while written < bytes {
        chunk.clear();
        write_snapshot(&mut chunk, snapshots);
        out.write_all(chunk.as_bytes())?;
        written += chunk.len();
        snapshots += 1;
    }
    out.flush()?;
    Ok((written, snapshots))
}
