#!/usr/bin/env bash
# Runs both Spark jobs of fleet_postmortem.py with local[2] on a simulated fleet and checks them against the
# simulator's truth.json: the analyze job's table must find exactly the leaking hosts, and the Spark SQL
# over `poolscope export` of the same fleet the same hosts and tags. Run by .ci/run.
#
# Usage: contrib/spark/check.sh [POOLSCOPE_BINARY]
#   Needs Java 17+ (Debian: openjdk-17-jre-headless) and python3 with venv; pyspark comes from PyPI into
#   $POOLSCOPE_SPARK_VENV (default ~/.cache/poolscope-spark-venv, reused when present).
#   HOSTS (default 20), HOURS (48), INTERVAL (5m), TAGS (60) size the simulated fleet.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${1:-}"
if [ -z "$bin" ]; then
  (cd "$repo" && cargo build --quiet --bin poolscope)
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/poolscope"
fi
[ -x "$bin" ] || { echo "check.sh: no poolscope binary at $bin" >&2; exit 2; }
command -v java >/dev/null || { echo "check.sh: java is missing (apt-get install openjdk-17-jre-headless)" >&2; exit 2; }
# shellcheck source=../venv.sh
source "$here/../venv.sh"
venv="${POOLSCOPE_SPARK_VENV:-$HOME/.cache/poolscope-spark-venv}"
ensure_venv_package "$venv" pyspark pyspark "the Spark check"
py="$venv/bin/python"

work="$(mktemp -d "${TMPDIR:-/tmp}/poolscope-spark-XXXXXX")"
trap 'rm -rf "$work"' EXIT
t0=$(date +%s%N)
lap() { local now; now=$(date +%s%N); printf '  %-34s %6d ms\n' "$1" $(((now - t0) / 1000000)); t0=$now; }
echo "check.sh: timings"
"$bin" -q simulate fleet --hosts "${HOSTS:-20}" --hours "${HOURS:-48}" --interval "${INTERVAL:-5m}" \
  --tags "${TAGS:-60}" -o "$work/fleet"
"$bin" -q simulate nonpaged-leak --hours "${HOURS:-48}" --interval "${INTERVAL:-5m}" --tags "${TAGS:-60}" \
  -o "$work/nonpaged"
lap "simulate ($((${HOSTS:-20} + 1)) hosts)"
"$py" "$here/fleet_postmortem.py" --master 'local[2]' --json analyze --poolscope "$bin" \
  --out "$work/postmortem.parquet" "$work/fleet/*/" "$work/nonpaged" 2>"$work/analyze.log" >"$work/analyze.json" \
  || { cat "$work/analyze.log" >&2; exit 1; }
lap "spark analyze job (local[2])"
"$bin" -q --no-progress export "$work/fleet" -o "$work/dataset"
"$bin" -q --no-progress export "$work/nonpaged" -o "$work/dataset"
lap "poolscope export"
"$py" "$here/fleet_postmortem.py" --master 'local[2]' --json sql --dataset "$work/dataset" \
  --min-mb-per-hour 1 --more-than-hosts 0 2>"$work/sql.log" >"$work/sql.json" || { cat "$work/sql.log" >&2; exit 1; }
lap "spark sql job (local[2])"

"$py" - "$work" <<'PY'
import json, sys
from pathlib import Path
work = Path(sys.argv[1])
truth = []
for t in ("fleet", "nonpaged"):
    truth += json.loads((work / t / "truth.json").read_text())["hosts"]
leaking = sorted(h["host"] for h in truth if h["leaks"])
toke = sorted(h["host"] for h in truth if any(l["tag"] == "Toke" and l["bytes_per_hour"] > 1e6 for l in h["leaks"]))
tags = {}
for h in truth:
    for l in h["leaks"]:
        tags.setdefault(f"{l['tag']}/{l['pool']}", []).append(h["host"])
tags = {k: sorted(v) for k, v in tags.items()}
analyze = json.loads((work / "analyze.json").read_text())
sql = json.loads((work / "sql.json").read_text())
problems = []
if analyze["errors"]:
    problems.append(f"archives poolscope could not read: {analyze['errors']}")
if analyze["hosts_with_leak"] != leaking:
    problems.append(f"analyze job found {analyze['hosts_with_leak']}, truth.json says {leaking}")
if sorted(sql["hosts_faster_than"]) != toke:
    problems.append(f"Spark SQL: Toke faster than 1 MB/h on {sql['hosts_faster_than']}, truth.json says {toke}")
if sql["tags_on_many_hosts"] != tags:
    problems.append(f"Spark SQL: tags on more than 0 hosts {sql['tags_on_many_hosts']}, truth.json says {tags}")
if problems:
    sys.exit("check.sh: FAILED:\n  " + "\n  ".join(problems))
print(f"check.sh: the Spark jobs agree with truth.json over {len(truth)} hosts: leaking {leaking}, tags {tags}")
PY
