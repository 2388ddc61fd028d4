//! A fleet of web servers collected together (one folder per host). The hosts booted at different
//! times before collection started, so their counters and uptimes differ; one of them (`WEB02`) has
//! the security product of the seed case and leaks tokens at about half its rate, with room to spare
//! (a bigger page file): no hang within the archive, but the same signature.

use super::{healthy, lsass_token_leak, utc};
use crate::simulate::scenario::{Scenario, ScenarioName, SimOptions};

/// Hosts unless `--hosts` says otherwise.
pub const DEFAULT_HOSTS: usize = 4;

/// The fleet scenario: `--hosts` hosts (default 4), 72 hours; the second host leaks.
pub fn build(opts: &SimOptions, tags: usize) -> Scenario {
    let count = opts.hosts.unwrap_or(DEFAULT_HOSTS);
    let hosts = (0..count)
        .map(|i| {
            let name = format!("WEB{:02}", i + 1);
            let mut host = if i == 1 || count == 1 {
                lsass_token_leak::host(opts, tags, &name, i, 0.5, false)
            } else {
                healthy::host(opts, tags, &name, i)
            };
            // Booted between half a day and five days before collection started.
            host.first_boot_offset_h = -12.0 - 27.0 * ((i * 7 + 3) % 5) as f64;
            host.planned_restarts_h = if i == 2 { vec![40.0] } else { Vec::new() };
            host
        })
        .collect();
    Scenario { name: ScenarioName::Fleet, start: utc(2024, 2, 12, 0, 0, 0), hours: 72.0, hosts }
}
