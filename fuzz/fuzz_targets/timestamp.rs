//! Timestamps: stamp lines (`poolscope::parse::timestamp::stamp_line`), file-name stamps
//! (`parse::timestamp::stamp_in_file_name`), settling the day/month order over a file
//! (`resolve_stamps`, `StampClock`), Windows zone names and UTC offsets
//! (`parse::zones::zone`), and the event exports' local times
//! (`parse::events::localtime`). The first line is read as a file name, every line as a stamp line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::model::TimeSettings;
use poolscope::parse::events::localtime::{self, LocalClock, LocalStamp};
use poolscope::parse::timestamp::{self, StampClock};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let settings = TimeSettings::default();
    let mut diagnostics = Vec::new();
    let mut lines = text.lines();
    let mut stamps = Vec::new();
    if let Some(name) = lines.next() {
        stamps.extend(timestamp::stamp_in_file_name(name));
        let _ = timestamp::windows_zone(name);
        let _ = poolscope::parse::zones::zone(name);
    }
    let mut clock = StampClock::new(&settings, "fuzz/poolmon.log");
    let mut local = LocalClock::new(&settings);
    let mut local_stamps = Vec::new();
    for line in lines.take(512) {
        if let Some(stamp) = timestamp::stamp_line(line) {
            let _ = clock.push(&stamp, &mut diagnostics);
            stamps.push(stamp);
        }
        let _ = localtime::system_time(line);
        let _ = localtime::strip_marks(line);
        if let Some(stamp) = LocalStamp::parse(line) {
            local_stamps.push(stamp);
        }
    }
    clock.finish(&mut diagnostics);
    let _ = timestamp::resolve_stamps(&stamps, &settings, "fuzz/poolmon.log", &mut diagnostics);
    let order = timestamp::settle_name_order(&stamps, &settings, "fuzz", &mut diagnostics);
    for stamp in &stamps {
        let _ = timestamp::convert_name_stamp(stamp, order, &settings, "fuzz/name", &mut diagnostics);
    }
    local.settle(&local_stamps);
    for stamp in &local_stamps {
        let _ = local.to_utc(stamp);
    }
});
