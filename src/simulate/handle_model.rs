//! Handle counts of one host within one boot: the system-wide `handle -s` summary and the lsass.exe
//! handle table that `handle -a -p lsass.exe` dumps.
//!
//! Leaked Token handles belong to one account, each with its own logon session (LUID), and grow with
//! the host's activity, like the pool leak they accompany: their increments correlate with the `Toke`
//! tag's, which is what attribution looks for (ANALYSIS.md §5).

use super::handle_writer::HandleLine;
use super::math;
use super::rng::{self, Rng};
use super::scenario::{HandleSpec, HostSpec};

/// System-wide handle types of a Server 2008 R2-era host and their shares of the handle count (before
/// any leak), sorted as handle.exe prints them (by name, ignoring case).
const TYPE_SHARES: [(&str, f64); 27] = [
    ("ALPC Port", 0.045),
    ("Desktop", 0.003),
    ("Directory", 0.006),
    ("EtwConsumer", 0.0004),
    ("EtwRegistration", 0.10),
    ("Event", 0.30),
    ("File", 0.12),
    ("FilterCommunicationPort", 0.0005),
    ("FilterConnectionPort", 0.0008),
    ("IoCompletion", 0.011),
    ("IoCompletionReserve", 0.002),
    ("Job", 0.001),
    ("Key", 0.085),
    ("KeyedEvent", 0.002),
    ("Mutant", 0.025),
    ("Process", 0.025),
    ("Section", 0.027),
    ("Semaphore", 0.05),
    ("Session", 0.0001),
    ("SymbolicLink", 0.002),
    ("Thread", 0.065),
    ("Timer", 0.013),
    ("Token", 0.028),
    ("TpWorkerFactory", 0.009),
    ("UserApcReserve", 0.003),
    ("WindowStation", 0.003),
    ("WmiGuid", 0.001),
];

/// Types of lsass.exe's own handles and their weights.
const LSASS_TYPES: [(&str, f64); 13] = [
    ("Event", 0.35),
    ("ALPC Port", 0.12),
    ("Thread", 0.10),
    ("Token", 0.10),
    ("Key", 0.10),
    ("File", 0.08),
    ("Semaphore", 0.05),
    ("Process", 0.03),
    ("Mutant", 0.02),
    ("Timer", 0.02),
    ("IoCompletion", 0.01),
    ("TpWorkerFactory", 0.01),
    ("Section", 0.01),
];

const LSASS_KEYS: [&str; 8] = [
    "HKLM\\SYSTEM\\ControlSet001\\Control\\Lsa",
    "HKLM\\SECURITY",
    "HKLM\\SAM\\SAM",
    "HKLM\\SYSTEM\\ControlSet001\\Services\\Netlogon\\Parameters",
    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
    "HKLM\\SYSTEM\\ControlSet001\\Control\\SecurityProviders\\SCHANNEL",
    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography",
    "HKLM\\SYSTEM\\ControlSet001\\Services\\Kdc",
];

const LSASS_FILES: [(&str, [u8; 3]); 6] = [
    ("\\Device\\KsecDD", *b"RW-"),
    ("C:\\Windows\\System32", *b"RW-"),
    ("\\Device\\NamedPipe\\lsass", *b"RW-"),
    ("\\Device\\Afd", *b"RW-"),
    ("C:\\Windows\\System32\\en-US\\msprivs.dll.mui", *b"R--"),
    ("\\Device\\CNG", *b"RW-"),
];

const LSASS_PORTS: [&str; 4] =
    ["\\RPC Control\\lsasspirpc", "\\RPC Control\\LSARPC_ENDPOINT", "\\RPC Control\\protected_storage", ""];

/// Well-known logon sessions every host has.
const SYSTEM_TOKENS: [&str; 4] = [
    "NT AUTHORITY\\SYSTEM:3e7",
    "NT AUTHORITY\\NETWORK SERVICE:3e4",
    "NT AUTHORITY\\LOCAL SERVICE:3e5",
    "NT AUTHORITY\\ANONYMOUS LOGON:3e6",
];

/// Handle state of one boot.
#[derive(Debug, Clone)]
pub struct HandleState {
    rng: Rng,
    seed: u64,
    noise: f64,
    leaked: u64,
    /// lsass.exe's process id this boot.
    pub lsass_pid: u32,
    base: Vec<HandleLine>,
    top: u64,
    luid_base: u64,
}

/// Warm-up of the system handle count after boot (services start, caches fill).
fn warm(t_h: f64) -> f64 {
    0.8 + 0.2 * (1.0 - math::exp(-t_h.max(0.0) / 1.0))
}

impl HandleState {
    /// The state right after boot; `seed` makes leaked handles' LUIDs stable functions of their index.
    pub fn new(host: &HostSpec, mut rng: Rng, seed: u64) -> Self {
        let lsass_pid = 4 * (120 + rng.below(40) as u32);
        let (base, top) = lsass_table(host, &mut rng, lsass_pid);
        let luid_base = 0x0010_0000 + rng.below(0x0040_0000);
        Self { noise: rng.normal(), rng, seed, leaked: 0, lsass_pid, base, top, luid_base }
    }

    /// Advances by `dt_h` hours to uptime `t_h`.
    pub fn step(&mut self, spec: &HandleSpec, t_h: f64, dt_h: f64, activity: f64) {
        if dt_h <= 0.0 {
            return;
        }
        let phi = math::exp(-dt_h / 1.0);
        self.noise = phi * self.noise + (1.0 - phi * phi).sqrt() * self.rng.normal();
        if let Some(leak) = &spec.leak {
            let active = (t_h - leak.starts_after_h).clamp(0.0, dt_h);
            if active > 0.0 {
                self.leaked += self.rng.poisson(leak.handles_per_hour * active * activity);
            }
        }
    }

    /// Leaked handles so far this boot.
    pub fn leaked(&self) -> u64 {
        self.leaked
    }

    /// Handles lsass.exe holds now.
    pub fn lsass_count(&self) -> u64 {
        self.base.len() as u64 + self.leaked
    }

    /// Handles of every process together at uptime `t_h` (perfmon's `Process(_Total)\Handle Count`), without
    /// drawing from the random stream (so writing counters changes nothing else of the run).
    pub fn system_total(&self, spec: &HandleSpec, t_h: f64) -> u64 {
        (spec.system_handles * warm(t_h) * (1.0 + 0.01 * self.noise)).max(0.0).round() as u64 + self.leaked
    }

    /// `handle -s` counts by type at uptime `t_h` (sorted as handle.exe prints them).
    pub fn summary(&mut self, spec: &HandleSpec, t_h: f64) -> Vec<(&'static str, u64)> {
        let sum: f64 = TYPE_SHARES.iter().map(|(_, s)| s).sum();
        let total = spec.system_handles * warm(t_h) * (1.0 + 0.01 * self.noise);
        TYPE_SHARES
            .iter()
            .map(|&(kind, share)| {
                let jitter = 1.0 + 0.02 * self.rng.normal();
                let mut count = (total * share / sum * jitter).max(0.0).round() as u64;
                if kind == "Token" {
                    count += self.leaked;
                }
                (kind, count.max(1))
            })
            .collect()
    }

    /// lsass.exe's handles now, in handle-table order: the boot's base table, the leaked Token
    /// handles of the leaking account and a few short-lived handles between them.
    pub fn lsass_dump(&mut self, host: &HostSpec) -> Vec<HandleLine> {
        let mut lines = self.base.clone();
        if let Some(leak) = &host.handles.leak {
            lines.reserve(self.leaked as usize);
            for i in 0..self.leaked {
                // Each leaked token is a separate network logon: its own LUID, rising.
                let luid = self.luid_base + i * 23 + rng::hash(self.seed, "luid", i) % 17;
                lines.push(HandleLine {
                    value: self.top + 8 * (i + 1),
                    kind: "Token",
                    share: None,
                    name: format!("{}:{luid:x}", leak.account),
                });
            }
        }
        let transient = self.rng.poisson(40.0);
        let mut slots: Vec<u64> = (0..transient).map(|_| self.rng.below(self.leaked + 200)).collect();
        slots.sort_unstable();
        slots.dedup();
        for j in slots {
            let (kind, name) = match self.rng.below(4) {
                0 => ("Event", String::new()),
                1 => ("Thread", format!("lsass.exe({}): {}", self.lsass_pid, 4 * (300 + self.rng.below(2000)))),
                2 => {
                    let account = pick(&host.handles.accounts, &mut self.rng).unwrap_or("NT AUTHORITY\\SYSTEM");
                    ("Token", format!("{account}:{:x}", self.luid_base / 2 + self.rng.below(0x8_0000)))
                }
                _ => ("ALPC Port", String::new()),
            };
            lines.push(HandleLine { value: self.top + 8 * j + 4, kind, share: None, name });
        }
        lines.sort_by_key(|h| h.value);
        lines
    }
}

fn pick<'a>(items: &'a [String], rng: &mut Rng) -> Option<&'a str> {
    if items.is_empty() {
        None
    } else {
        Some(items[rng.below(items.len() as u64) as usize].as_str())
    }
}

/// lsass.exe's handle table at boot: `lsass_handles` handles with ascending values (small gaps where
/// handles were closed), named by their type's convention (formats reference §2.2).
fn lsass_table(host: &HostSpec, rng: &mut Rng, pid: u32) -> (Vec<HandleLine>, u64) {
    let weights: f64 = LSASS_TYPES.iter().map(|(_, w)| w).sum();
    let mut lines = Vec::with_capacity(host.handles.lsass_handles as usize);
    let mut value = 0u64;
    for i in 0..host.handles.lsass_handles {
        value += 4 * (1 + u64::from(rng.chance(0.15)) * (1 + rng.below(3)));
        let mut x = rng.uniform() * weights;
        let mut kind = LSASS_TYPES[0].0;
        for (k, w) in LSASS_TYPES {
            if x < w {
                kind = k;
                break;
            }
            x -= w;
        }
        let (share, name) = match kind {
            "Token" => {
                let name = if i < 8 || host.handles.accounts.is_empty() || rng.chance(0.5) {
                    SYSTEM_TOKENS[rng.below(SYSTEM_TOKENS.len() as u64) as usize].to_owned()
                } else {
                    let account = pick(&host.handles.accounts, rng).unwrap_or("NT AUTHORITY\\SYSTEM");
                    format!("{account}:{:x}", 0x2_0000 + rng.below(0x10_0000))
                };
                (None, name)
            }
            "Key" => (None, LSASS_KEYS[rng.below(LSASS_KEYS.len() as u64) as usize].to_owned()),
            "File" => {
                let (path, flags) = LSASS_FILES[rng.below(LSASS_FILES.len() as u64) as usize];
                (Some(flags), path.to_owned())
            }
            "ALPC Port" => (None, LSASS_PORTS[rng.below(LSASS_PORTS.len() as u64) as usize].to_owned()),
            "Thread" => (None, format!("lsass.exe({pid}): {}", 4 * (100 + rng.below(2000)))),
            "Process" => {
                let image = ["services.exe", "svchost.exe", "winlogon.exe", "wininit.exe"][rng.below(4) as usize];
                (None, format!("{image}({})", 4 * (100 + rng.below(900))))
            }
            "Section" => (None, "\\BaseNamedObjects\\LsaPerformance".to_owned()),
            _ => (None, String::new()),
        };
        lines.push(HandleLine { value, kind, share, name });
    }
    (lines, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::scenario::{ScenarioName, SimOptions};
    use crate::simulate::scenarios;

    fn host() -> HostSpec {
        let scn = scenarios::build(&SimOptions::new(ScenarioName::LsassTokenLeak, 1)).unwrap();
        scn.hosts[0].clone()
    }

    #[test]
    fn leaked_tokens_show_in_summary_and_dump() {
        let host = host();
        let mut h = HandleState::new(&host, Rng::new(1), 1);
        let mut t = 0.0;
        for _ in 0..240 {
            t += 0.25;
            h.step(&host.handles, t, 0.25, 1.0);
        }
        assert!(h.leaked() > 20_000, "{}", h.leaked());
        let summary = h.summary(&host.handles, t);
        let tokens = summary.iter().find(|(k, _)| *k == "Token").unwrap().1;
        assert!(tokens > h.leaked());
        let dump = h.lsass_dump(&host);
        assert!(dump.windows(2).all(|w| w[0].value < w[1].value), "ascending, distinct handle values");
        let account = &host.handles.leak.as_ref().unwrap().account;
        let leaked = dump.iter().filter(|l| l.kind == "Token" && l.name.starts_with(account.as_str())).count();
        assert!(leaked as u64 >= h.leaked());
    }

    #[test]
    fn summary_is_sorted_like_handle_exe() {
        let names: Vec<String> = TYPE_SHARES.iter().map(|(k, _)| k.to_lowercase()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
