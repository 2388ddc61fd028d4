//! `poolscope kit`: the collection scripts that leave on a server exactly what poolscope reads best (issue 13).
//!
//! Everything goes under `<Root>\<COMPUTERNAME>\<kind>\` ([`folder`]), the layout `poolscope simulate --layout kit`
//! writes too, so the analysis of what the scripts collect is tested end to end:
//!
//! * `poolmon\poolmon.log`: `poolmon -b -n` every interval, each snapshot preceded by a `Get-Date -Format o` line
//!   (local time with its UTC offset: no zone guessing, no day/month ambiguity);
//! * `handle\handle-s-<yyyyMMddTHHmmssZ>.txt` (`handle -s`) and `handle\handle-<process>-<stamp>.txt`
//!   (`handle -a -p <process>`), redirected by `Start-Process` so the files keep handle.exe's own text (not PowerShell's UTF-16);
//! * `perfmon\counters-<stamp>.csv`: a `logman` counter collection of the pool, commit and per-process handle
//!   counters, a new file at every boot;
//! * `eventlog\System.evtx` (`wevtutil epl System`) and `drivers\` (`driverquery /v /fo csv`, `driverquery /si
//!   /fo csv`, `fltmc`, `fltmc instances`), written by `collect.ps1` when the archive is taken.
//!
//! The scripts are plain PowerShell 5.1 (every supported Windows Server has it), with CRLF line ends.

/// The folders under `<Root>\<COMPUTERNAME>\`, one per kind of record.
pub mod folder {
    /// poolmon snapshots.
    pub const POOLMON: &str = "poolmon";
    /// handle.exe output.
    pub const HANDLE: &str = "handle";
    /// perfmon counters.
    pub const PERFMON: &str = "perfmon";
    /// Event logs.
    pub const EVENTLOG: &str = "eventlog";
    /// Driver and minifilter inventory.
    pub const DRIVERS: &str = "drivers";
}

/// The perfmon counters the kit collects (and poolscope reads; `Process(*)` includes `_Total`).
pub const COUNTERS: [&str; 8] = [
    r"\Memory\Pool Paged Bytes",
    r"\Memory\Pool Nonpaged Bytes",
    r"\Memory\Committed Bytes",
    r"\Memory\Commit Limit",
    r"\Process(*)\Handle Count",
    r"\Process(*)\ID Process",
    r"\Process(*)\Pool Paged Bytes",
    r"\Process(*)\Pool Nonpaged Bytes",
];

/// What the kit is set to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitOptions {
    /// Where the records go on the server (`C:\poolscope`); each host writes into its own folder below it.
    pub root: String,
    /// Seconds between poolmon snapshots and between perfmon samples.
    pub interval_secs: u32,
    /// Seconds between `handle -s` summaries.
    pub handle_interval_secs: u32,
    /// Seconds between `handle -a -p` dumps of each process.
    pub dump_interval_secs: u32,
    /// Processes dumped with `handle -a -p` (`lsass.exe` first by default).
    pub processes: Vec<String>,
}

impl Default for KitOptions {
    fn default() -> Self {
        Self {
            root: r"C:\poolscope".to_owned(),
            interval_secs: 60,
            handle_interval_secs: 3600,
            dump_interval_secs: 6 * 3600,
            processes: vec!["lsass.exe".to_owned()],
        }
    }
}

/// One file of the kit: its name and its text (CRLF line ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitFile {
    /// File name in the kit's folder.
    pub name: &'static str,
    /// Contents.
    pub text: String,
}

/// Single-quoted PowerShell string literal (`'` doubled).
fn ps_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The kit's files for `options`.
pub fn kit_files(options: &KitOptions) -> Vec<KitFile> {
    let root = ps_quote(&options.root);
    let processes = options.processes.iter().map(|p| ps_quote(p)).collect::<Vec<_>>().join(", ");
    let counters = COUNTERS.iter().map(|c| ps_quote(c)).collect::<Vec<_>>().join(",\n    ");
    let fill = |template: &str| {
        template
            .replace("{ROOT}", &root)
            .replace("{INTERVAL}", &options.interval_secs.to_string())
            .replace("{HANDLE_INTERVAL}", &options.handle_interval_secs.to_string())
            .replace("{DUMP_INTERVAL}", &options.dump_interval_secs.to_string())
            .replace("{PROCESSES}", &processes)
            .replace("{COUNTERS}", &counters)
            .replace("{POOLMON}", folder::POOLMON)
            .replace("{HANDLE}", folder::HANDLE)
            .replace("{PERFMON}", folder::PERFMON)
            .replace("{EVENTLOG}", folder::EVENTLOG)
            .replace("{DRIVERS}", folder::DRIVERS)
            .replace("{PROCESS_LIST}", &options.processes.join(", "))
            .replace('\n', "\r\n")
    };
    vec![
        KitFile { name: "README.txt", text: fill(README) },
        KitFile { name: "install.ps1", text: fill(INSTALL) },
        KitFile { name: "poolmon-loop.ps1", text: fill(POOLMON_LOOP) },
        KitFile { name: "handle-loop.ps1", text: fill(HANDLE_LOOP) },
        KitFile { name: "perfmon-start.ps1", text: fill(PERFMON_START) },
        KitFile { name: "collect.ps1", text: fill(COLLECT) },
        KitFile { name: "uninstall.ps1", text: fill(UNINSTALL) },
    ]
}

const README: &str = r"poolscope collection kit
========================

What it does
------------
Records, until you remove it, what a post-mortem of a kernel pool leak needs, in the form
poolscope reads best. Everything goes to {ROOT}\<COMPUTERNAME>\ (change it with -Root):

  {POOLMON}\poolmon.log          poolmon -b -n every {INTERVAL} s, each snapshot after a time stamp line
  {HANDLE}\handle-s-<time>.txt    handle -s (handle counts by type) every {HANDLE_INTERVAL} s
  {HANDLE}\handle-<proc>-<time>.txt  handle -a -p <proc> every {DUMP_INTERVAL} s for: {PROCESS_LIST}
  {PERFMON}\counters-<time>.csv  perfmon (logman): pool, commit and per-process handle counters
                                 every {INTERVAL} s; a new file at every boot
  {EVENTLOG}\System.evtx         the System event log, exported by collect.ps1
  {DRIVERS}\*                    driverquery /v, driverquery /si, fltmc, fltmc instances (collect.ps1)

<time> is UTC, as yyyyMMddTHHmmssZ. The collection survives reboots: install.ps1 registers three
scheduled tasks that start at boot, as SYSTEM.

Before you start
----------------
Copy into this folder:
  poolmon.exe    from the Windows Driver Kit (Tools\x64), same architecture as the server
  handle64.exe   (or handle.exe) from Sysinternals: https://learn.microsoft.com/sysinternals/downloads/handle
Pool tagging is always on from Windows Server 2003 on; nothing else to enable.

Steps (elevated PowerShell, in this folder)
-------------------------------------------
  1. powershell -ExecutionPolicy Bypass -File .\install.ps1
     Starts the collection now and at every boot.
  2. Wait for the leak (or the hang). After a hang and its reboot the collection starts again.
  3. powershell -ExecutionPolicy Bypass -File .\collect.ps1 -Zip
     Exports the System log and the driver inventory, then zips {ROOT}\<COMPUTERNAME> into
     {ROOT}\<COMPUTERNAME>-<time>.zip. Send that zip.
  4. powershell -ExecutionPolicy Bypass -File .\uninstall.ps1   (when you are done)

What it costs
-------------
  poolmon   under a second of one core per snapshot; 50-150 KB per snapshot, so about 70-200 MB
            a day at one a minute (it compresses about 10:1)
  handle -s a second or two per run; a few KB per file
  handle -a -p lsass.exe  a few seconds; 0.1-30 MB per file (more while Token handles leak)
  perfmon   negligible CPU; about 5-20 MB a day with every process's counters
Check the free space of the drive holding {ROOT} against a week of records.

Reading it
----------
  poolscope report <COMPUTERNAME>-<time>.zip -o report    (or the unzipped folder)
poolscope reads the stamps, the zones and the layout on its own; nothing needs renaming.
";

const INSTALL: &str = r#"#Requires -RunAsAdministrator
# poolscope kit: registers the collection tasks (at boot, as SYSTEM) and starts them now.
param([string]$Root = {ROOT})

$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
if (-not (Test-Path -LiteralPath (Join-Path $here 'poolmon.exe'))) {
    Write-Warning 'poolmon.exe is not in this folder: copy it from the WDK (Tools\x64) first.'
}
if (-not ((Test-Path -LiteralPath (Join-Path $here 'handle64.exe')) -or (Test-Path -LiteralPath (Join-Path $here 'handle.exe')))) {
    Write-Warning 'handle64.exe (or handle.exe) is not in this folder: copy it from Sysinternals first.'
}
New-Item -ItemType Directory -Force -Path (Join-Path $Root $env:COMPUTERNAME) | Out-Null

function Register-Collector([string]$Name, [string]$Script) {
    $arguments = '-NoProfile -ExecutionPolicy Bypass -File "{0}" -Root "{1}"' -f (Join-Path $here $Script), $Root
    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $arguments -WorkingDirectory $here
    $trigger = New-ScheduledTaskTrigger -AtStartup
    # No time limit: the loops run until the machine stops.
    $settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
    Register-ScheduledTask -TaskName $Name -Action $action -Trigger $trigger -Settings $settings -User 'SYSTEM' -RunLevel Highest -Force | Out-Null
    Start-ScheduledTask -TaskName $Name
    Write-Host ('{0}: registered and started' -f $Name)
}

Register-Collector 'poolscope-poolmon' 'poolmon-loop.ps1'
Register-Collector 'poolscope-handle' 'handle-loop.ps1'
Register-Collector 'poolscope-perfmon' 'perfmon-start.ps1'
Write-Host ('Records go to {0}' -f (Join-Path $Root $env:COMPUTERNAME))
"#;

const POOLMON_LOOP: &str = r"# poolscope kit: one poolmon snapshot every interval, each after a time stamp line, in one growing log.
param(
    [string]$Root = {ROOT},
    [int]$IntervalSeconds = {INTERVAL}
)

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$poolmon = Join-Path $here 'poolmon.exe'
$dir = Join-Path (Join-Path $Root $env:COMPUTERNAME) '{POOLMON}'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$log = Join-Path $dir 'poolmon.log'
$tmp = Join-Path $env:TEMP 'poolscope-poolmon.txt'

while ($true) {
    $started = Get-Date
    # -b: sorted by bytes; -n FILE: write one snapshot to FILE and exit.
    & $poolmon -b -n $tmp | Out-Null
    if (Test-Path -LiteralPath $tmp) {
        # Local time with its UTC offset (2020-05-22T22:35:55.5300000+02:00): the snapshot's time, unambiguous.
        Add-Content -LiteralPath $log -Value (Get-Date -Date $started -Format o) -Encoding Ascii
        Get-Content -LiteralPath $tmp | Add-Content -LiteralPath $log -Encoding Ascii
        Remove-Item -LiteralPath $tmp -Force
    }
    $elapsed = [int]((Get-Date) - $started).TotalSeconds
    Start-Sleep -Seconds ([Math]::Max(1, $IntervalSeconds - $elapsed))
}
";

const HANDLE_LOOP: &str = r"# poolscope kit: handle -s every summary interval, handle -a -p PROCESS every dump interval.
param(
    [string]$Root = {ROOT},
    [int]$SummarySeconds = {HANDLE_INTERVAL},
    [int]$DumpSeconds = {DUMP_INTERVAL},
    [string[]]$Processes = @({PROCESSES})
)

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$handle = Join-Path $here 'handle64.exe'
if (-not (Test-Path -LiteralPath $handle)) { $handle = Join-Path $here 'handle.exe' }
$dir = Join-Path (Join-Path $Root $env:COMPUTERNAME) '{HANDLE}'
New-Item -ItemType Directory -Force -Path $dir | Out-Null

function Get-Stamp { (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ') }

function Invoke-Handle([string[]]$Arguments, [string]$File) {
    # Redirected by the process itself, not by PowerShell's > (which would re-encode the text as UTF-16).
    Start-Process -FilePath $handle -ArgumentList (@('-accepteula') + $Arguments) -RedirectStandardOutput $File -NoNewWindow -Wait
}

$nextSummary = Get-Date
$nextDump = Get-Date
while ($true) {
    $now = Get-Date
    if ($now -ge $nextSummary) {
        Invoke-Handle @('-s') (Join-Path $dir ('handle-s-{0}.txt' -f (Get-Stamp)))
        $nextSummary = $now.AddSeconds($SummarySeconds)
    }
    if ($now -ge $nextDump) {
        foreach ($process in $Processes) {
            $name = [IO.Path]::GetFileNameWithoutExtension($process)
            Invoke-Handle @('-a', '-p', $process) (Join-Path $dir ('handle-{0}-{1}.txt' -f $name, (Get-Stamp)))
        }
        $nextDump = $now.AddSeconds($DumpSeconds)
    }
    $next = if ($nextSummary -lt $nextDump) { $nextSummary } else { $nextDump }
    Start-Sleep -Seconds ([Math]::Max(1, [int]($next - (Get-Date)).TotalSeconds))
}
";

const PERFMON_START: &str = r"# poolscope kit: (re)starts the perfmon counter collection at boot, into a new CSV file.
param(
    [string]$Root = {ROOT},
    [int]$IntervalSeconds = {INTERVAL}
)

$dir = Join-Path (Join-Path $Root $env:COMPUTERNAME) '{PERFMON}'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')
$name = 'poolscope-counters'
$counters = @(
    {COUNTERS}
)
& logman.exe stop $name 2>$null | Out-Null
& logman.exe delete $name 2>$null | Out-Null
& logman.exe create counter $name -f csv -si $IntervalSeconds -o (Join-Path $dir ('counters-{0}.csv' -f $stamp)) -c $counters
& logman.exe start $name
";

const COLLECT: &str = r"#Requires -RunAsAdministrator
# poolscope kit: adds the System event log and the driver inventory to the records, and zips them (-Zip).
param(
    [string]$Root = {ROOT},
    [switch]$Zip
)

$hostDir = Join-Path $Root $env:COMPUTERNAME
$events = Join-Path $hostDir '{EVENTLOG}'
$drivers = Join-Path $hostDir '{DRIVERS}'
New-Item -ItemType Directory -Force -Path $events, $drivers | Out-Null

# Stopping the counters flushes their file; they start again below, into a new file.
& logman.exe stop poolscope-counters 2>$null | Out-Null
& wevtutil.exe epl System (Join-Path $events 'System.evtx') /ow:true
function Save-Output([string]$Tool, [string[]]$Arguments, [string]$Name) {
    $redirect = @{ FilePath = $Tool; RedirectStandardOutput = (Join-Path $drivers $Name); NoNewWindow = $true; Wait = $true }
    # Start-Process refuses an empty -ArgumentList.
    if ($Arguments.Count -gt 0) { $redirect.ArgumentList = $Arguments }
    Start-Process @redirect
}
Save-Output 'driverquery.exe' @('/v', '/fo', 'csv') 'driverquery.csv'
Save-Output 'driverquery.exe' @('/si', '/fo', 'csv') 'driverquery-si.csv'
Save-Output 'fltmc.exe' @() 'fltmc.txt'
Save-Output 'fltmc.exe' @('instances') 'fltmc-instances.txt'
& (Join-Path (Split-Path -Parent $MyInvocation.MyCommand.Path) 'perfmon-start.ps1') -Root $Root

if ($Zip) {
    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')
    $archive = Join-Path $Root ('{0}-{1}.zip' -f $env:COMPUTERNAME, $stamp)
    # poolmon.log is still being appended to: zip a copy of the folder.
    $copy = Join-Path $env:TEMP ('poolscope-{0}' -f $stamp)
    Copy-Item -LiteralPath $hostDir -Destination (Join-Path $copy $env:COMPUTERNAME) -Recurse
    Compress-Archive -Path (Join-Path $copy $env:COMPUTERNAME) -DestinationPath $archive -CompressionLevel Optimal
    Remove-Item -LiteralPath $copy -Recurse -Force
    Write-Host ('Send {0}' -f $archive)
} else {
    Write-Host ('Records are in {0}' -f $hostDir)
}
";

const UNINSTALL: &str = r"#Requires -RunAsAdministrator
# poolscope kit: stops the collection and removes its tasks (the records stay).
foreach ($name in 'poolscope-poolmon', 'poolscope-handle', 'poolscope-perfmon') {
    Stop-ScheduledTask -TaskName $name -ErrorAction SilentlyContinue
    Unregister-ScheduledTask -TaskName $name -Confirm:$false -ErrorAction SilentlyContinue
}
& logman.exe stop poolscope-counters 2>$null | Out-Null
& logman.exe delete poolscope-counters 2>$null | Out-Null
Write-Host 'poolscope collection removed; the records are kept.'
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_reach_the_scripts_quoted_and_with_crlf() {
        let options = KitOptions {
            root: r"D:\it's here".to_owned(),
            interval_secs: 30,
            handle_interval_secs: 900,
            dump_interval_secs: 7200,
            processes: vec!["lsass.exe".into(), "svchost.exe".into()],
        };
        let files = kit_files(&options);
        let by_name = |n: &str| &files.iter().find(|f| f.name == n).unwrap().text;
        assert!(by_name("poolmon-loop.ps1").contains(r"[string]$Root = 'D:\it''s here',"));
        assert!(by_name("poolmon-loop.ps1").contains("[int]$IntervalSeconds = 30\r\n"));
        assert!(by_name("handle-loop.ps1").contains("@('lsass.exe', 'svchost.exe')"));
        assert!(by_name("handle-loop.ps1").contains("[int]$DumpSeconds = 7200,"));
        assert!(by_name("perfmon-start.ps1").contains(r"'\Process(*)\Handle Count',"));
        for f in &files {
            assert!(f.name != "README.txt" || !f.text.contains('{'), "README placeholder left");
            assert!(!f.text.contains("{ROOT}") && !f.text.contains("{INTERVAL}"), "{}: placeholder left", f.name);
            assert!(!f.text.replace("\r\n", "").contains('\n'), "{}: bare LF", f.name);
        }
    }
}
