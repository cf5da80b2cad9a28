#!/usr/bin/env bash
# Sets everything up and launches Neural Studio. Arguments go to `studio`
# (e.g. ./studio.sh --panel spiking, or --screenshot out.png).
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
cd "$ROOT"

needs_screen=1
for a in "$@"; do
  case "$a" in --version|--list-panels|-h|--help) needs_screen=0 ;; esac
done
[ "${1:-}" = serve ] && needs_screen=0
if [ "$needs_screen" = 0 ]; then
  ensure_venv
  [ "${1:-}" = serve ] && ensure_web_page
  exec "$VENV/bin/studio" "$@"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  ensure_system_packages headless
  ensure_venv
  ensure_web_page
  say "no display: running on a virtual screen (Xvfb); use --screenshot to see what it drew"
  exec env QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/studio" "$@"
fi
ensure_system_packages
ensure_venv
ensure_web_page
exec "$VENV/bin/studio" "$@"
