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
BROWSER_DEBS=(chromium chromium-driver)

missing_debs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s ' "$p"
  done
}

ensure_system_packages() {
  # arguments: "headless" to also need Xvfb; "test" to also want Chromium and its WebDriver (the
  # browser-page tests: installed when missing and we are root, else those tests are skipped and say why)
  command -v dpkg-query >/dev/null 2>&1 || { say "not a Debian system: make sure Qt's xcb libraries are installed"; return 0; }
  local want=("${QT_DEBS[@]}") a optional=""
  for a in "$@"; do
    [ "$a" = headless ] && want+=("${XVFB_DEBS[@]}")
    [ "$a" = test ] && optional="$(missing_debs "${BROWSER_DEBS[@]}")"
  done
  command -v python3 >/dev/null 2>&1 || want+=(python3)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || want+=(python3-venv)
  local miss
  miss="$(missing_debs "${want[@]}")"
  [ -z "$miss$optional" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    [ -n "$optional" ] && say "not installed: $optional(the browser-page tests will be skipped)"
    [ -z "$miss" ] && return 0
    say "missing system packages: $miss"
    say "install them with: sudo apt-get install -y $miss"
    return 1
  fi
  say "installing system packages: $miss$optional"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  if [ -n "$miss" ]; then
    apt-get install -y -qq --no-install-recommends $miss >/dev/null
  fi
  # shellcheck disable=SC2086
  if [ -n "$optional" ] && ! apt-get install -y -qq --no-install-recommends $optional >/dev/null; then
    say "could not install $optional: the browser-page tests will be skipped"
  fi
  return 0
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
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test,lkh]" \
        > "$VENV/install.log" 2>&1; then
      tail -n 40 "$VENV/install.log" >&2
      say "installation failed; the whole log is in $VENV/install.log"
      return 1
    fi
    echo "$want" > "$stamp"
  fi
}

JS_DIR="$ROOT/tests/engines/collab/js"
WEB_DIR="$ROOT/web"

node_modules_dir() {
  # the folder (outside the repo) holding the npm packages of a committed lock file; a new lock, a new folder
  # $1 = the folder of package.json + package-lock.json (default: the interop test's)
  local lock_hash
  lock_hash="$(sha256sum "${1:-$JS_DIR}/package-lock.json" | cut -c1-16)"
  echo "${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/neural-studio/node-$lock_hash"
}

npm_ci_cached() {
  # $1 = folder of package.json + package-lock.json, $2 = what they are for (messages).
  # `npm ci` into node_modules_dir when not there yet, a whole install or none; prints the folder.
  # Returns 1 (having said why) where npm cannot install them.
  local src="$1" what="$2" dir tmp log limit=()
  dir="$(node_modules_dir "$src")"
  if [ ! -f "$dir/.complete" ]; then
    say "installing the npm packages of $what into $dir"
    tmp="$dir.tmp.$$"
    log="$dir.install.log"
    if ! { mkdir -p "$(dirname "$dir")" && rm -rf "$tmp" && mkdir "$tmp" \
        && cp "$src/package.json" "$src/package-lock.json" "$tmp/"; }; then
      say "cannot write $(dirname "$dir"): $what skipped"
      return 1
    fi
    command -v timeout >/dev/null 2>&1 && limit=(timeout 300)
    # a whole install or none: into a temporary folder, moved into place once complete
    if ${limit[@]+"${limit[@]}"} npm ci --prefix "$tmp" --no-audit --no-fund --loglevel=error --fetch-retries=1 \
        --fetch-timeout=60000 > "$log" 2>&1 && touch "$tmp/.complete" && rm -rf "$dir" && mv "$tmp" "$dir"; then
      rm -f "$log"
    else
      rm -rf "$tmp"
      say "npm could not install them (registry out of reach? log: $log): $what skipped"
      return 1
    fi
  fi
  echo "$dir/node_modules"
}

ensure_node_modules() {
  # yjs, y-websocket and ws for the JavaScript interop test, installed with `npm ci` from
  # tests/engines/collab/js/package-lock.json when missing; exports COLLAB_NODE_MODULES.
  # Never fails: without node or npm, or with the registry out of reach, the test is skipped and we say why.
  local dir
  if [ -n "${COLLAB_NODE_MODULES:-}" ]; then
    return 0  # the caller's own
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "node/npm not found: the JavaScript y-websocket interop test will be skipped"
    return 0
  fi
  dir="$(npm_ci_cached "$JS_DIR" "the JavaScript interop test")" || return 0
  export COLLAB_NODE_MODULES="$dir"
}

ensure_web_page() {
  # The browser page of painting rooms (web/: yjs, y-websocket, esbuild): npm ci of web/package-lock.json
  # into the cache, then esbuild bundles web/src into web/dist (git-ignored) when its sources changed.
  # Needs the venv (ensure_venv first). Never fails: without node or npm the studio works as before and
  # the page tells its visitors how to enable it.
  local mods
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "node/npm not found: the painting rooms' browser page is not built (install node and npm, rerun this set-up)"
    return 0
  fi
  mods="$(npm_ci_cached "$WEB_DIR" "the painting rooms' browser page")" || return 0
  if ! "$VENV/bin/python" -m engines.collab.web build --node-modules "$mods" >/dev/null; then
    say "the painting rooms' browser page could not be built (see above): the page says so to its visitors"
  fi
}
