//! Driver lists: `poolscope::parse::drivers::parse` (reaching `parse::drivers::columns`, `parse::drivers::csv`
//! and `parse::drivers::fltmc`), on the input alone and under each kind of header, so the fuzzer starts inside
//! the rows (quoted cells, localised states, fltmc words, `<Legacy>`), then the merge of what they gave.
#![no_main]

use libfuzzer_sys::fuzz_target;
use poolscope::model::DriverInventory;
use poolscope::parse::drivers;

const HEADERS: [&str; 5] = [
    "\"Module Name\",\"Display Name\",\"Description\",\"Driver Type\",\"Start Mode\",\"State\",\"Path\"\r\n",
    "\"DeviceName\",\"InfName\",\"IsSigned\",\"Manufacturer\"\r\n",
    "#TYPE Win32_SystemDriver\r\n\"Name\",\"DisplayName\",\"PathName\",\"ServiceType\",\"State\",\"Started\"\r\n",
    "Filter Name                     Num Instances    Altitude    Frame\r\n------  -----  -----  -----\r\n",
    "Filter    Volume Name    Altitude    Instance Name    Frame    SprtFtrs\r\n---  ---  ---  ---  ---  ---\r\n",
];

fuzz_target!(|data: &[u8]| {
    let ctx = poolscope_fuzz::context("driverquery.csv");
    let text = poolscope_fuzz::decoded(data);
    let _ = drivers::looks_like(&text);
    let _ = drivers::is_unread_driverquery(&text);
    let mut lists = Vec::new();
    lists.extend(drivers::parse(&text, &ctx).0);
    for header in HEADERS {
        lists.extend(drivers::parse(&format!("{header}{text}"), &ctx).0);
    }
    let _ = DriverInventory::merge(&lists);
});
