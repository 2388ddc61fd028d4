#!/usr/bin/env bash
# Runs contrib/duckdb/check.py: simulates a small fleet, exports it with `poolscope export`, runs the two
# DuckDB queries and checks the hosts and tags they find against the simulator's truth.json.
#
# Usage: contrib/duckdb/check.sh [POOLSCOPE_BINARY]
#   Without a binary it builds one (`cargo build`, debug). duckdb comes from PyPI into a venv, kept outside
#   the clone at $POOLSCOPE_VENV (default ~/.cache/poolscope-venv) and reused when present.
#   Needs python3 with the venv module (Debian: apt-get install python3-venv).
#   Exits 0 with a loud SKIP only when duckdb cannot be installed for lack of a network; any other
#   failure exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

bin="${1:-}"
if [ -z "$bin" ]; then
  (cd "$repo" && cargo build --quiet --bin poolscope)
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/poolscope"
fi
[ -x "$bin" ] || { echo "check.sh: no poolscope binary at $bin" >&2; exit 2; }

command -v python3 >/dev/null || { echo "check.sh: python3 is missing (apt-get install python3 python3-venv)" >&2; exit 2; }
venv="${POOLSCOPE_VENV:-$HOME/.cache/poolscope-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || {
    echo "check.sh: cannot create a venv at $venv (Debian: apt-get install python3-venv)" >&2
    exit 2
  }
fi
if ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  log="$(mktemp)"
  if ! "$venv/bin/python" -m pip install --quiet --retries 1 --timeout 20 duckdb >"$log" 2>&1; then
    cat "$log" >&2
    if grep -qiE 'NewConnectionError|Name or service not known|Temporary failure in name resolution|Network is unreachable|ConnectTimeout|ProxyError|Could not fetch URL|No route to host' "$log"; then
      echo "" >&2
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
      echo "check.sh: SKIPPED the DuckDB check: no network to install duckdb from PyPI" >&2
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
      rm -f "$log"
      exit 0
    fi
    echo "check.sh: pip install duckdb failed (see above)" >&2
    rm -f "$log"
    exit 2
  fi
  rm -f "$log"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/poolscope-duckdb-XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$here/check.py" "$bin" "$work"
