//! A generated handle.exe v5.0 `-a` dump for throughput measurements: every process section opens with the
//! 78-dash separator and a `pid:` header, followed by a realistic mix of handle lines (File with and without
//! share flags, Key, Token, Thread, Process, Section, Event, ALPC Port, long type names). Deterministic.

use std::fmt::Write as _;

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const IMAGES: [&str; 8] = [
    "svchost.exe",
    "lsass.exe",
    "explorer.exe",
    "MsMpEng.exe",
    "Code - Insiders.exe",
    "sqlservr.exe",
    "w3wp.exe",
    "chrome.exe",
];
const OWNERS: [&str; 5] = [
    r"NT AUTHORITY\SYSTEM",
    r"NT AUTHORITY\LOCAL SERVICE",
    r"NT AUTHORITY\NETWORK SERVICE",
    r"CONTOSO\svc_backup",
    "<unable to open token>",
];

/// Appends one handle line (` %4X: ...`) of a random type.
fn handle_line(out: &mut String, rng: &mut Rng, value: u64, pid: u32) {
    let _ = match rng.below(10) {
        0 | 1 => writeln!(
            out,
            " {value:4X}: File  ({})   C:\\Windows\\System32\\DriverStore\\FileRepository\\netrndis.inf_amd64_{:08x}\\x64\\file{}.dll",
            ["RW-", "R--", "RWD", "---"][rng.below(4) as usize],
            rng.next() as u32,
            rng.below(1000)
        ),
        2 => writeln!(out, " {value:4X}: File          \\Device\\HarddiskVolume3\\Users\\alice\\AppData\\Local\\Temp\\{:x}.tmp", rng.next() as u32),
        3 => writeln!(
            out,
            " {value:4X}: Key           \\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\{:x}",
            rng.below(5000)
        ),
        4 => writeln!(out, " {value:4X}: Token         {}:{:x}", OWNERS[rng.below(4) as usize], 0x3e4 + rng.below(3_000_000)),
        5 => writeln!(out, " {value:4X}: Thread        {}({pid}): {}", IMAGES[rng.below(8) as usize], rng.below(60_000)),
        6 => writeln!(out, " {value:4X}: Section       \\Sessions\\1\\BaseNamedObjects\\windows_shell_global_counters_{:x}", rng.next() as u32),
        7 => writeln!(out, " {value:4X}: ALPC Port     \\RPC Control\\OLE{:X}", rng.next() as u32),
        8 => writeln!(out, " {value:4X}: WaitCompletionPacket "),
        _ => writeln!(out, " {value:4X}: Event         \\BaseNamedObjects\\{:x}_event", rng.next() as u32),
    };
}

/// A dump of at least `bytes` bytes: (text, processes, handles).
pub fn dump_of_size(bytes: usize) -> (String, usize, usize) {
    let mut out = String::with_capacity(bytes + 4096);
    out.push_str("Nthandle v5.0 - Handle viewer\nCopyright (C) 1997-2022 Mark Russinovich\nSysinternals - www.sysinternals.com\n\n");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut processes, mut handles) = (0usize, 0usize);
    let mut pid = 4u32;
    while out.len() < bytes {
        let image = IMAGES[rng.below(IMAGES.len() as u64) as usize];
        let owner = OWNERS[rng.below(OWNERS.len() as u64) as usize];
        let _ = writeln!(out, "{}\n{image} pid: {pid} {owner}", "-".repeat(78));
        let count = 200 + rng.below(1800);
        for i in 0..count {
            handle_line(&mut out, &mut rng, 4 * (i + 1), pid);
        }
        processes += 1;
        handles += count as usize;
        pid += 4;
    }
    (out, processes, handles)
}
