#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (Xvfb when there is no display).
# Extra arguments go to pytest, e.g. ./test.sh -k runner
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
cd "$ROOT"

# -rs: every skipped test says why (e.g. the JavaScript interop test where node is absent)
if [ -n "${DISPLAY:-}" ] && [ -z "${CI:-}" ]; then
  ensure_system_packages test
  ensure_venv
  ensure_node_modules
  ensure_web_page
  exec env QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-xcb}" "$VENV/bin/python" -m pytest -rs "$@"
fi
ensure_system_packages headless test
ensure_venv
ensure_node_modules
ensure_web_page
say "running the tests under Xvfb"
exec env QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/python" -m pytest -rs "$@"
