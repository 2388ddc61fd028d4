#!/usr/bin/env bash
# Times `poolscope parse --format table|csv|json|parquet` on a generated x64 poolmon series, for one or two
# binaries in the same run (so a ratio against an older build is measured on the same shared machine), with
# wall time, MB/s and peak memory (GNU time's maximum resident set size).
#
#   scripts/parse-export-timing.sh [MB] [BINARY...]     # default 188 MB and target/release/poolscope
#
# The input is written by `cargo run --release --example write_poolmon_log`.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-188}"
shift || true
bins=("$@")
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"
[ ${#bins[@]} -gt 0 ] || bins=("$target/release/poolscope")
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/out"
cargo run -q --release --example write_poolmon_log -- "$work/in/series.log" "$mb"
size=$(stat -c %s "$work/in/series.log")
printf '%-44s %-8s %8s %9s %10s\n' binary format "wall s" "MB/s" "peak MiB"
for bin in "${bins[@]}"; do
  for format in table csv json parquet; do
    if ! /usr/bin/time -f '%e %M' -o "$work/time" "$bin" parse "$work/in/series.log" --format "$format" -q \
      -o "$work/out/out.$format" >/dev/null; then
      echo "$bin parse --format $format failed" >&2
      exit 1
    fi
    read -r wall kib <"$work/time"
    awk -v b="$bin" -v f="$format" -v w="$wall" -v k="$kib" -v s="$size" \
      'BEGIN { printf "%-44s %-8s %8.2f %9.0f %10.0f\n", b, f, w, (w > 0 ? s / 1e6 / w : 0), k / 1024 }'
  done
done
