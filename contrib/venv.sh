# Sourced by contrib/*/check.sh: a Python venv kept outside the clone, with one PyPI package in it.
#
#   ensure_venv_package VENV MODULE PACKAGE WHAT
#     Creates VENV when missing (python3 -m venv), installs PACKAGE from PyPI when `import MODULE` fails.
#     Returns 0 when MODULE imports; exits 0 with a loud SKIP banner (naming WHAT) only when PyPI cannot
#     be reached; exits 2 on any other failure (no python3, no venv module, a failed install).
ensure_venv_package() {
  local venv="$1" module="$2" package="$3" what="$4"
  command -v python3 >/dev/null || { echo "check.sh: python3 is missing (apt-get install python3 python3-venv)" >&2; exit 2; }
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
      echo "check.sh: cannot create a venv at $venv (Debian: apt-get install python3-venv)" >&2
      exit 2
    }
  fi
  "$venv/bin/python" -c "import $module" 2>/dev/null && return 0
  local log
  log="$(mktemp)"
  if ! "$venv/bin/python" -m pip install --quiet --retries 1 --timeout 30 "$package" >"$log" 2>&1; then
    cat "$log" >&2
    if grep -qiE 'NewConnectionError|Name or service not known|Temporary failure in name resolution|Network is unreachable|ConnectTimeout|ProxyError|Could not fetch URL|No route to host' "$log"; then
      echo "" >&2
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
      echo "check.sh: SKIPPED $what: no network to install $package from PyPI" >&2
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
      rm -f "$log"
      exit 0
    fi
    echo "check.sh: pip install $package failed (see above)" >&2
    rm -f "$log"
    exit 2
  fi
  rm -f "$log"
}
