# Shared helpers for the harness scripts. Sourced, not run.
# shellcheck shell=bash
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HARNESS_DIR/../.." && pwd)"
# Slow-to-build things (venvs, image rootfs logs) live here, keyed by the hash of their inputs,
# so a fresh clone on a machine that already built them reuses them.
CACHE_ROOT="${MECOVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mecove-platform}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install Debian packages that are missing; a no-op (no apt-get update) when all are present.
apt_ensure() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Short sha256 over the given files (base name and content) and extra strings, so that the same
# inputs give the same key from any clone or working directory.
content_hash() {
  { for f in "$@"; do if [ -f "$f" ]; then basename "$f"; cat "$f"; else printf '%s\n' "$f"; fi; done; } \
    | sha256sum | cut -c1-16
}

# The first Python >= 3.12 on this machine (ansible 14 needs it; Debian 12's python3 is 3.11).
find_python() {
  local c
  for c in "${MECOVE_PYTHON:-}" python3.13 python3.12 "$HOME"/.pyenv/versions/3.12.*/bin/python \
           "$HOME"/.pyenv/versions/3.13.*/bin/python python3; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}
