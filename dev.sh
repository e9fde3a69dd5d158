#!/usr/bin/env bash
# Set-up and entry points: `bash dev.sh app` starts the app, `bash dev.sh test` runs the tests.
# Each installs what it needs into .venv first (skipped when the requirements have not changed).
set -euo pipefail
cd "$(dirname "$0")"

pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
      "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return
    fi
  done
  echo "dev.sh: Python 3.11 or newer is needed; install it and run again." >&2
  exit 1
}

install() {  # $1: requirements file
  if [[ ! -x .venv/bin/python ]]; then
    "$(pick_python)" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
  fi
  local stamp=".venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$1"
  if [[ ! -f $stamp ]]; then
    .venv/bin/python -m pip install -q -r "$1"
    touch "$stamp"
  fi
}

case "${1:-}" in
  app)
    install requirements.txt
    .venv/bin/python -m core data synthetic-cars >/dev/null 2>&1 || true
    exec .venv/bin/python -m streamlit run app.py --server.address 127.0.0.1 "${@:2}"
    ;;
  test)
    install requirements-dev.txt
    exec .venv/bin/python -m pytest "${@:2}"
    ;;
  *)
    echo "usage: bash dev.sh app | test [extra arguments]" >&2
    exit 2
    ;;
esac
