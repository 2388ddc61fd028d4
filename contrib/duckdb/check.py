#!/usr/bin/env python3
"""Checks the DuckDB queries of contrib/duckdb against the simulator's ground truth (issue 11).

Simulates a small fleet in three archives (`simulate fleet`: six web servers, one leaking tokens;
`simulate lsass-token-leak --hosts 2`: the seed case and a healthy peer; `simulate nonpaged-leak`: a
network driver's nonpaged leak), exports each into one dataset (three `poolscope export` runs into the
same folder, as archives arriving one by one), runs hosts_faster_than.sql and tags_on_many_hosts.sql
with DuckDB, and asserts that they find exactly the hosts and tags that leak according to the archives'
truth.json files. Prints the time of every step.

Usage: check.py POOLSCOPE_BINARY [WORK_DIR]   (run by check.sh, which sets up duckdb in a venv)
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
# Small enough for a debug build in seconds: 48 h of 5-minute snapshots, 60 background tags per host.
SIM = ["--hours", "48", "--interval", "5m", "--tags", "60"]
ARCHIVES = {
    "fleet": ["fleet", "--hosts", "6"],
    "seed": ["lsass-token-leak", "--hosts", "2"],
    "nonpaged": ["nonpaged-leak"],
}
# Thresholds (MB/h) for the Toke query; the simulated rates (13 and 26 MB/h) sit well away from them.
TOKE_THRESHOLDS = [1.0, 20.0, 100.0]
MORE_THAN_HOSTS = [0, 1, 2]

timings = []


def step(name, func):
    start = time.monotonic()
    result = func()
    timings.append((name, time.monotonic() - start))
    return result


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"check.py: {' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr}")
    return done


def fail(message):
    sys.exit(f"check.py: FAILED: {message}")


def query(con, sql_file, **variables):
    for name, value in variables.items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    return con.sql((HERE / sql_file).read_text()).fetchall()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    poolscope = sys.argv[1]
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="poolscope-duckdb-"))
    dataset = work / "dataset"
    truth_hosts = []  # (host, [(tag, pool, bytes_per_hour)])
    for name, args in ARCHIVES.items():
        archive = work / name
        step(f"simulate {args[0]}", lambda: run([poolscope, "-q", "simulate", *args, *SIM, "--force", "-o", archive]))
        truth = json.loads((archive / "truth.json").read_text())
        truth_hosts += [(h["host"], [(l["tag"], l["pool"], l["bytes_per_hour"]) for l in h["leaks"]]) for h in truth["hosts"]]
        step(f"export {name}", lambda: run([poolscope, "-q", "--no-progress", "export", archive, "-o", dataset]))
    names = [h for h, _ in truth_hosts]
    if len(set(names)) != len(names):
        fail(f"the archives share host names: {names}")

    con = duckdb.connect()
    con.execute("SET VARIABLE dataset = ?", [str(dataset)])
    checks = 0

    def toke_queries():
        nonlocal checks
        for x in TOKE_THRESHOLDS:
            rows = query(con, "hosts_faster_than.sql", min_mb_per_hour=x, tag="Toke")
            found = sorted(r[0] for r in rows)
            expected = sorted(h for h, leaks in truth_hosts if any(t == "Toke" and r > x * 1e6 for t, _, r in leaks))
            if found != expected:
                fail(f"hosts whose Toke grows faster than {x} MB/h: DuckDB found {found}, truth.json says {expected}")
            print(f"check.py: Toke faster than {x:g} MB/h: {found or 'none'} (as truth.json)")
            checks += 1

    def tag_queries():
        nonlocal checks
        per_tag = {}
        for host, leaks in truth_hosts:
            for tag, pool, _ in leaks:
                per_tag.setdefault((tag, pool), set()).add(host)
        for n in MORE_THAN_HOSTS:
            rows = query(con, "tags_on_many_hosts.sql", more_than_hosts=n)
            found = {(r[0], r[1]): sorted(r[3]) for r in rows}
            expected = {k: sorted(v) for k, v in per_tag.items() if len(v) > n}
            if found != expected:
                fail(f"tags leaking on more than {n} hosts: DuckDB found {found}, truth.json says {expected}")
            print(f"check.py: tags on more than {n} host(s): {found or 'none'} (as truth.json)")
            checks += 1

    step("hosts_faster_than.sql x3", toke_queries)
    step("tags_on_many_hosts.sql x3", tag_queries)
    total = sum(t for _, t in timings)
    print(f"check.py: {checks} checks passed over {len(names)} hosts ({work}); timings:")
    for name, seconds in timings:
        print(f"  {name:<28} {seconds:6.2f} s")
    print(f"  {'total':<28} {total:6.2f} s")


if __name__ == "__main__":
    main()
