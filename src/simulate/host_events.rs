//! The System event log of a simulated host: which events a boot, a planned restart, a pool running
//! out and a hang leave behind (events reference §1), built with the event writer's constructors.
//!
//! Windows logs some boot events out of time order (Kernel-Power 41 gets a later record id than 6008
//! although its `TimeCreated` is earlier: events reference §1.3), so each event is logged at a "logged"
//! time that decides its record id, separately from its `TimeCreated`.

use chrono::{DateTime, Duration, Timelike, Utc};

use super::events::{Payload, SimEvent};
use super::rng::Rng;
use super::scenario::{HostSpec, OsSpec};
use crate::model::event::ResourceExhaustion;
use crate::model::PoolType;

/// Events of one host, collected in any order and numbered at the end.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    /// Computer name events carry (`NAME.suffix`).
    pub computer: String,
    entries: Vec<(DateTime<Utc>, u64, SimEvent)>,
}

/// Milliseconds as a duration.
fn ms(v: u64) -> Duration {
    Duration::milliseconds(v as i64)
}

impl EventLog {
    /// An empty log for a host.
    pub fn new(computer: String) -> Self {
        Self { computer, entries: Vec::new() }
    }

    /// Logs `event`; `logged` orders the record ids.
    pub fn push(&mut self, logged: DateTime<Utc>, event: SimEvent) {
        let seq = self.entries.len() as u64;
        self.entries.push((logged, seq, event));
    }

    /// Number of events logged so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was logged.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The events in logging order with record ids rising by one from `first_record_id`.
    pub fn finish(mut self, first_record_id: u64) -> Vec<SimEvent> {
        self.entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        self.entries
            .into_iter()
            .enumerate()
            .map(|(i, (_, _, mut e))| {
                e.record_id = first_record_id + i as u64;
                e
            })
            .collect()
    }

    /// The events a boot logs: Kernel-General 12, `EventLog` 6009 (OS version), 6005, a 6013 uptime
    /// report and, after a hang, 6008 (with the last time the system was known alive) and
    /// Kernel-Power 41 (bugcheck 0: the VM was reset, it did not crash), plus the reason an admin
    /// gives in the Shutdown Event Tracker (User32 1076) when they log on.
    pub fn boot(&mut self, host: &HostSpec, start: DateTime<Utc>, unclean: Option<DateTime<Utc>>, rng: &mut Rng) {
        let c = self.computer.clone();
        let kg12_at = start + ms(1_000 + rng.below(800));
        let log_started = start + ms(24_000 + rng.below(12_000));
        let mut kg12 = SimEvent::kernel_general_12(kg12_at, 0, &c, start);
        set_named(&mut kg12, &kernel_general_version(&host.os));
        self.push(log_started, kg12);
        if let Some(previous) = unclean {
            self.push(log_started + ms(5), SimEvent::unexpected_shutdown(log_started, 0, &c, previous));
            // Logged after 6008 although it happened first (events reference §1.3).
            let kp41_at = start + ms(1_900 + rng.below(600));
            self.push(log_started + ms(900), SimEvent::kernel_power_41(kp41_at, 0, &c, 0));
            let reason_at = start + Duration::seconds(300 + rng.below(900) as i64);
            self.push(reason_at, SimEvent::user32_1076(reason_at, 0, &c, "Other (Unplanned)", &admin(host)));
        }
        let mut version = SimEvent::os_version(log_started, 0, &c, host.os.build);
        version.payload = Payload::EventData(os_version_data(&host.os));
        self.push(log_started + ms(1), version);
        self.push(log_started + ms(2), SimEvent::eventlog_started(log_started, 0, &c));
        let uptime_at = start + ms(60_000 + rng.below(5_000));
        let seconds = (uptime_at - start).num_seconds().max(0) as u64;
        self.push(uptime_at, SimEvent::uptime(uptime_at, 0, &c, seconds));
    }

    /// A planned restart at `at`: User32 1074 a few seconds before, then 6006 and Kernel-General 13.
    pub fn planned_restart(&mut self, host: &HostSpec, at: DateTime<Utc>, by_updates: bool) {
        let c = self.computer.clone();
        let (process, reason, user) = if by_updates {
            (
                "C:\\Windows\\system32\\wuauclt.exe",
                "Operating System: Service pack (Planned)",
                "NT AUTHORITY\\SYSTEM".to_owned(),
            )
        } else {
            ("C:\\Windows\\system32\\shutdown.exe", "Other (Planned)", admin(host))
        };
        let initiated = at - Duration::seconds(25);
        self.push(initiated, SimEvent::user32_1074(initiated, 0, &c, process, reason, "restart", &user));
        self.push(at - Duration::seconds(2), SimEvent::eventlog_stopped(at - Duration::seconds(2), 0, &c));
        self.push(at, SimEvent::kernel_general_13(at, 0, &c));
    }

    /// 6013 uptime reports at noon every day the boot spans (Windows logs one daily).
    pub fn daily_uptime(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) {
        let c = self.computer.clone();
        let Some(mut noon) = start.with_hour(12).and_then(|t| t.with_minute(0)).and_then(|t| t.with_second(0)) else {
            return;
        };
        noon = noon.with_nanosecond(0).unwrap_or(noon);
        if noon <= start + Duration::minutes(5) {
            noon += Duration::days(1);
        }
        while noon < end {
            let seconds = (noon - start).num_seconds().max(0) as u64;
            self.push(noon, SimEvent::uptime(noon, 0, &c, seconds));
            noon += Duration::days(1);
        }
    }

    /// Srv 2019/2020: the file server could not allocate from the pool.
    pub fn pool_empty(&mut self, at: DateTime<Utc>, pool: PoolType) {
        let c = self.computer.clone();
        self.push(at, SimEvent::pool_empty(at, 0, &c, pool));
    }

    /// Resource-Exhaustion-Detector 2004 at `at`.
    pub fn exhaustion(&mut self, at: DateTime<Utc>, info: &ResourceExhaustion) {
        let c = self.computer.clone();
        self.push(at, SimEvent::resource_exhaustion(at, 0, &c, info));
    }
}

/// The domain administrator who restarts hosts and explains their crashes.
fn admin(host: &HostSpec) -> String {
    format!("{}\\administrator", host.domain)
}

/// 6009's values: `6.01.`, `7601`, `Service Pack 1`, `Multiprocessor Free`, `0`.
fn os_version_data(os: &OsSpec) -> Vec<(Option<String>, String)> {
    [
        format!("{}.{:02}.", os.major, os.minor),
        os.build.to_string(),
        os.service_pack.to_owned(),
        "Multiprocessor Free".to_owned(),
        "0".to_owned(),
    ]
    .into_iter()
    .map(|v| (None, v))
    .collect()
}

/// Kernel-General 12's version fields for the host's release.
fn kernel_general_version(os: &OsSpec) -> Vec<(&'static str, String)> {
    vec![
        ("MajorVersion", os.major.to_string()),
        ("MinorVersion", os.minor.to_string()),
        ("BuildVersion", os.build.to_string()),
        ("QfeVersion", os.qfe.to_string()),
        ("ServiceVersion", u32::from(!os.service_pack.is_empty()).to_string()),
    ]
}

/// Replaces the values of named `<Data>` elements.
fn set_named(event: &mut SimEvent, values: &[(&str, String)]) {
    if let Payload::EventData(data) | Payload::EventDataBinary { data, .. } = &mut event.payload {
        for (name, value) in values {
            if let Some(slot) = data.iter_mut().find(|(n, _)| n.as_deref() == Some(*name)) {
                slot.1.clone_from(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::simulate::scenario::{ScenarioName, SimOptions};
    use crate::simulate::scenarios;

    fn host() -> HostSpec {
        scenarios::build(&SimOptions::new(ScenarioName::LsassTokenLeak, 1)).unwrap().hosts[0].clone()
    }

    #[test]
    fn unclean_boot_logs_41_after_6008_with_an_earlier_time() {
        let host = host();
        let mut log = EventLog::new("H.contoso.local".into());
        let start = Utc.with_ymd_and_hms(2020, 5, 22, 11, 0, 0).unwrap();
        log.boot(&host, start, Some(start - Duration::minutes(50)), &mut Rng::new(1));
        let events = log.finish(100);
        let ids: Vec<u32> = events.iter().map(|e| e.event_id).collect();
        let pos = |id| ids.iter().position(|&i| i == id).unwrap();
        assert!(pos(6008) < pos(41));
        assert!(events[pos(41)].time < events[pos(6008)].time);
        assert!(events.windows(2).all(|w| w[1].record_id == w[0].record_id + 1));
        let Payload::EventData(data) = &events[pos(6009)].payload else { panic!("6009 data") };
        assert_eq!(data[0].1, "6.01.");
        assert_eq!(data[2].1, "Service Pack 1");
        let Payload::EventData(data) = &events[pos(12)].payload else { panic!("12 data") };
        assert!(data.contains(&(Some("BuildVersion".into()), "7601".into())));
    }

    #[test]
    fn daily_uptime_at_noon() {
        let mut log = EventLog::new("H".into());
        let start = Utc.with_ymd_and_hms(2020, 5, 18, 20, 0, 0).unwrap();
        log.daily_uptime(start, start + Duration::hours(60));
        let events = log.finish(1);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].time, Utc.with_ymd_and_hms(2020, 5, 19, 12, 0, 0).unwrap());
    }
}
