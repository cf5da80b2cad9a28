# Shared set-up for ./studio.sh and ./test.sh (sourced, not run).
# Creates .venv, installs the project, and on Debian/Ubuntu installs the system
# libraries Qt's xcb platform needs (and Xvfb when there is no display) when they
# are missing and we are root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

QT_DEBS=(libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
         libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxkbcommon-x11-0 libxkbcommon0
         libegl1 libgl1 libgl1-mesa-dri libglib2.0-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core)
XVFB_DEBS=(xvfb xauth)

missing_debs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s ' "$p"
  done
}

ensure_system_packages() {
  # $1 = "headless" to also need Xvfb
  command -v dpkg-query >/dev/null 2>&1 || { say "not a Debian system: make sure Qt's xcb libraries are installed"; return 0; }
  local want=("${QT_DEBS[@]}")
  [ "${1:-}" = headless ] && want+=("${XVFB_DEBS[@]}")
  command -v python3 >/dev/null 2>&1 || want+=(python3)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || want+=(python3-venv)
  local miss
  miss="$(missing_debs "${want[@]}")"
  [ -z "$miss" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "missing system packages: $miss"
    say "install them with: sudo apt-get install -y $miss"
    return 1
  fi
  say "installing system packages: $miss"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $miss >/dev/null
}

pick_python() {
  local c
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  say "Python >= 3.11 is needed"; return 1
}

ensure_venv() {
  local py stamp want
  if [ ! -x "$VENV/bin/python" ]; then
    py="$(pick_python)"
    say "creating $VENV with $py"
    "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  stamp="$VENV/.setup-stamp"
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing neural-studio and its dependencies into $VENV (torch 2.13.0, CPU build)"
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test]" \
        > "$VENV/install.log" 2>&1; then
      tail -n 40 "$VENV/install.log" >&2
      say "installation failed; the whole log is in $VENV/install.log"
      return 1
    fi
    echo "$want" > "$stamp"
  fi
}
