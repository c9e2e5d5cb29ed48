#!/usr/bin/env bash
# Create the project's Python environment and link it at ./.venv; `venv.sh scan` creates the
# security scanners' one (checkov, bandit: their pins conflict with moto's) at ./.venv-scan.
# A venv lives in the cache under the hash of its requirements file and the interpreter version,
# so re-running is a no-op and a fresh clone on the same machine reuses it. Needs Python >= 3.12
# (ansible 14 and its bundled amazon.aws 11 need it; Debian 12's python3 is 3.11).
source "$(dirname "$0")/lib.sh"

python="$(find_python)" || die "no Python >= 3.12 found. Install one (pyenv, or Debian trixie's python3) \
or point MECOVE_PYTHON at it, then re-run."
pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
name="${1:-}"
requirements="$REPO_ROOT/requirements${name:+-$name}.txt"
link="$REPO_ROOT/.venv${name:+-$name}"
[ -f "$requirements" ] || die "no $requirements"
key="$(content_hash "$requirements" "python=$pyver")"
venv="$CACHE_ROOT/venv${name:+-$name}-$key"

if [ ! -f "$venv/.complete" ]; then
  log "creating $venv with Python $pyver (first time only: a few minutes)"
  rm -rf "$venv"
  mkdir -p "$CACHE_ROOT"
  "$python" -m venv "$venv"
  pip_log="$CACHE_ROOT/pip-$key.log"
  { "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
    "$venv/bin/python" -m pip install --disable-pip-version-check -r "$requirements"
  } >"$pip_log" 2>&1 || { tail -n 30 "$pip_log" >&2; die "pip install failed (full log: $pip_log)"; }
  touch "$venv/.complete"
fi
if [ "$(readlink "$link" 2>/dev/null)" != "$venv" ]; then
  rm -rf "$link"
  ln -s "$venv" "$link"
fi
