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

# shellcheck source=../venv.sh
source "$here/../venv.sh"
venv="${POOLSCOPE_VENV:-$HOME/.cache/poolscope-venv}"
ensure_venv_package "$venv" duckdb duckdb "the DuckDB check"

work="$(mktemp -d "${TMPDIR:-/tmp}/poolscope-duckdb-XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$here/check.py" "$bin" "$work"
