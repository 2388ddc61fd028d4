#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (fuzz/, issue 14): each cargo-fuzz target runs for a fixed budget,
# seeded with the fixtures, and any crash, hang (-timeout) or out-of-memory (-rss_limit_mb) fails the run with
# the input saved under fuzz/artifacts/<target>/ (turn it into a fixture named after what it shows, with a
# regression test, and fix it).
#
# Needs a nightly toolchain (cargo-fuzz builds with -Zsanitizer and coverage instrumentation); without one it
# says so and exits 0. Installs cargo-fuzz when missing. Budgets (seconds), all overridable:
#   FUZZ_SECONDS        run time per target (default 15; 21 targets, about 6.0 minutes in all with start-up)
#   FUZZ_BUILD_TIMEOUT  cap on the (cold) build of the targets (default 1200; measured 205 s cold on 2 cores)
#   FUZZ_TARGETS        space-separated subset of targets (default: all of `cargo fuzz list`)
# The corpora live in fuzz/corpus/<target>/ (not checked in) and grow across local runs; the fixtures are
# copied in at every run, so a new fixture seeds the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

per_target=${FUZZ_SECONDS:-15}
build_cap=${FUZZ_BUILD_TIMEOUT:-1200}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "== fuzz: SKIPPED: no nightly toolchain (\`rustup toolchain install nightly\` enables .ci/fuzz.sh)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# The fuzz crate is its own workspace with its own target dir: the nightly, instrumented artifacts must not
# mix with the stable ones a warm CARGO_TARGET_DIR holds.
unset CARGO_TARGET_DIR
export CARGO_TERM_COLOR=never

echo "== fuzz: building the targets (nightly, cap ${build_cap}s)"
start=$(date +%s)
set +e
timeout "$build_cap" cargo +nightly fuzz build
status=$?
set -e
build_secs=$(($(date +%s) - start))
if [ "$status" -eq 124 ]; then
  echo "== fuzz: SKIPPED: the build took longer than ${build_cap}s (FUZZ_BUILD_TIMEOUT raises the cap)"
  exit 0
elif [ "$status" -ne 0 ]; then
  echo "== fuzz: the fuzz targets do not build (exit $status)"
  exit "$status"
fi
echo "== fuzz: built in ${build_secs}s"

# Seeds: which fixtures each target starts from.
seeds() {
  case "$1" in
    poolmon_text | poolmon_stream) echo fixtures/poolmon/* fixtures/diff/* fixtures/incidents/*/poolmon*.log ;;
    handle | handle_*) echo fixtures/handle/* fixtures/incidents/lsass-token-leak/handle-lsass-20200520T021922Z.txt \
      fixtures/incidents/lsass-token-leak/handle-s-20200521T072039Z.txt ;;
    lines) echo fixtures/handle/* fixtures/events/*.txt fixtures/events/*.csv fixtures/perfmon/utf16_bom_relog.csv \
      fixtures/poolmon/x64_n_r.log ;;
    event_xml) echo fixtures/events/*.xml fixtures/hostile/*.xml ;;
    event_csv) echo fixtures/events/*.csv ;;
    event_text) echo fixtures/events/*.txt ;;
    evtx) echo fixtures/incidents/*/*.evtx ;;
    pooltag) echo fixtures/pooltag/* ;;
    pool_csv) echo fixtures/pool_csv/* ;;
    debugger) echo fixtures/debugger/* ;;
    perfmon) echo fixtures/perfmon/* ;;
    wpa) echo fixtures/wpa/* fixtures/incidents/*/wpa-*.csv ;;
    zip) echo fixtures/zip/* ;;
    drivers) echo fixtures/drivers/* fixtures/incidents/*/driverquery*.csv fixtures/incidents/*/fltmc.txt ;;
    detect | file) echo fixtures/poolmon/x64_n_r.log fixtures/handle/v5.0_vt_tab.tsv fixtures/events/*.csv \
      fixtures/events/wevtutil_qe_f_xml_2004.xml fixtures/pooltag/quirks.txt fixtures/pool_csv/* fixtures/debugger/* fixtures/wpa/* fixtures/drivers/* fixtures/incidents/*/*.evtx ;;
    *) ;;
  esac
}

# The timestamp target reads its first line as a file name and the rest as stamp lines: each seed is a
# fixture's name followed by its first lines.
seed_timestamps() {
  local dir=$1 f i=0
  for f in fixtures/poolmon/* fixtures/diff/* fixtures/handle/loop_* fixtures/events/*.txt fixtures/events/*.csv \
    fixtures/incidents/lsass-token-leak/handle-s-2020052*; do
    i=$((i + 1))
    { basename "$f"; head -c 4096 "$f"; } >"$dir/seed-$i"
  done
}

max_len() {
  case "$1" in
    evtx) echo 262144 ;; # a file header and a few 64 KiB chunks
    detect | file) echo 131072 ;;
    *) echo 65536 ;;
  esac
}

targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
summary=()
failed=()
for t in $targets; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  if [ "$t" = timestamp ]; then
    seed_timestamps "$corpus"
  else
    for f in $(seeds "$t"); do
      [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
    done
  fi
  log="fuzz/target/$t.log"
  echo "== fuzz: $t for ${per_target}s ($(find "$corpus" -type f | wc -l) inputs in the corpus)"
  set +e
  cargo +nightly fuzz run "$t" "$corpus" -- -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/cov \1, ft \2/')
  corp=$(find "$corpus" -type f | wc -l)
  line=$(printf '%-16s execs %-9s %-20s corpus %s' "$t" "${execs:-?}" "${cov:-cov ?}" "$corp")
  if [ "$status" -ne 0 ]; then
    line="$line  FAILED (exit $status): $(ls fuzz/artifacts/"$t"/ 2>/dev/null | tr '\n' ' ')"
    failed+=("$t")
    grep -E '^(==[0-9]+== ?ERROR|thread .* panicked|SUMMARY|ALARM|Test unit written)' "$log" | head -5 || true
  fi
  summary+=("$line")
  echo "   $line"
done

echo "== fuzz summary (${per_target}s per target; build ${build_secs}s)"
printf '   %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "== fuzz: ${#failed[@]} target(s) found a crash, hang or OOM: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/target/<target>.log)"
  exit 1
fi
echo "== fuzz: no crash, hang or out-of-memory"
