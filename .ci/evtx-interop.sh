#!/usr/bin/env bash
# Interop check of the simulated .evtx writer against python-evtx, a reader independent of the
# evtx crate (writer spec reference/evtx-writer-spec.md §12). The Rust side (tests/it/evtx_writer.rs)
# checks the evtx crate; this script checks python-evtx on the same kind of file, so both readers
# are shown to read every record identically.
#
# Self-contained and idempotent: installs python-evtx from PyPI into a venv under the target dir
# (reused when the pinned version is already there), writes a fresh sample with the example
# program, and runs tests/interop/evtx_readers.py on it. Any failure exits non-zero with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_EVTX_VERSION="0.8.1"   # the version the writer spec was verified against
RECORDS="${EVTX_INTEROP_RECORDS:-3000}"
target="${CARGO_TARGET_DIR:-target}"
venv="$target/evtx-interop-venv"
out="$target/evtx-interop"

fail() { echo "evtx-interop: $*" >&2; exit 1; }

command -v python3 >/dev/null || fail "python3 is required (apt-get install python3 python3-venv)"

installed=""
if [ -x "$venv/bin/python" ]; then
  installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("python-evtx"))' 2>/dev/null || true)"
fi
if [ "$installed" != "$PYTHON_EVTX_VERSION" ]; then
  echo "evtx-interop: installing python-evtx $PYTHON_EVTX_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || fail "could not create a venv at $venv (on Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet "python-evtx==$PYTHON_EVTX_VERSION" \
    || fail "pip could not install python-evtx==$PYTHON_EVTX_VERSION from PyPI"
fi
"$venv/bin/python" -c 'import Evtx.Evtx' || fail "python-evtx is installed but does not import"

rm -rf "$out"
mkdir -p "$out"
echo "evtx-interop: writing $RECORDS simulated events to $out"
cargo run --quiet --example write_sample_evtx -- "$out" "$RECORDS" || fail "the sample writer failed"
for f in sample.evtx sample.xml sample.json; do
  [ -s "$out/$f" ] || fail "the sample writer did not write $out/$f"
done

# libyal's evtxexport (Debian: libevtx-utils) is a third reader, used when it is installed; it is
# stricter about element sizes than the other two (writer spec P11), but it is not required.
libevtx=()
if command -v evtxexport >/dev/null; then
  evtxexport -f xml "$out/sample.evtx" > "$out/libevtx.xml" || fail "evtxexport could not read $out/sample.evtx"
  libevtx=("$out/libevtx.xml")
else
  echo "evtx-interop: evtxexport not installed, skipping the optional libevtx check"
fi

"$venv/bin/python" tests/interop/evtx_readers.py "$out/sample.evtx" "$out/sample.xml" "$out/sample.json" "${libevtx[@]}" \
  || fail "the simulated .evtx is not read back as written (see above)"
echo "evtx-interop: ok"
