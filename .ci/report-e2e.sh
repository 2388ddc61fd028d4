#!/usr/bin/env bash
# End-to-end check of `poolscope report` in a real browser (issue 7): a simulated incident and a
# report full of hostile log text are opened in headless Chromium, which must show no console error,
# make no network request, run no script, decode every chart and print to PDF.
# Self-contained and idempotent: installs Chromium from Debian when missing; fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
command -v python3 >/dev/null 2>&1 || { echo "report-e2e: python3 is required" >&2; exit 1; }

target="${CARGO_TARGET_DIR:-target}"
out="$target/e2e"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

echo "== build"
cargo build --quiet --bin poolscope
bin="$target/debug/poolscope"

echo "== simulated incident -> report"
"$bin" -q simulate lsass-token-leak -o "$work/incident" --hours 60 --interval 5m
"$bin" -q report "$work/incident" -o "$work/report"
python3 tests/e2e/check_report.py "$work/report" --screenshot "$out/report.png" --print-screenshot "$out/report-print.png"

echo "== simulated fleet -> fleet index and per-host pages"
"$bin" -q simulate fleet -o "$work/fleet" --hours 8
"$bin" -q report "$work/fleet" -o "$work/fleet-report"
python3 tests/e2e/check_report.py "$work/fleet-report" --screenshot "$out/fleet.png"
for page in "$work/fleet-report"/hosts/*.html; do
  python3 tests/e2e/check_report.py "$page"
done

echo "== hostile log text -> report"
POOLSCOPE_KEEP_REPORT="$work/hostile" cargo test --quiet --test it report::hostile_log_text_is_shown_as_escaped_text
python3 tests/e2e/check_report.py "$work/hostile" --screenshot "$out/hostile.png"

echo "== report e2e passed (screenshots in $out)"
