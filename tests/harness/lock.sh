#!/usr/bin/env bash
# Re-resolve requirements.in into the fully pinned requirements.txt (and requirements-scan.in
# into requirements-scan.txt), each in a throw-away venv.
source "$(dirname "$0")/lib.sh"
python="$(find_python)" || die "no Python >= 3.12 found (set MECOVE_PYTHON)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for name in "" -scan; do
  rm -rf "$tmp/venv"
  "$python" -m venv "$tmp/venv"
  "$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO_ROOT/requirements$name.in"
  {
    echo "# Generated from requirements$name.in by 'make lock' (pip freeze in a clean Python 3.12 venv). Do not edit by hand."
    "$tmp/venv/bin/python" -m pip freeze --all | grep -vE '^(pip|setuptools|wheel)=='
  } >"$REPO_ROOT/requirements$name.txt"
done
log "requirements.txt and requirements-scan.txt updated; run 'make setup' to build the matching venv"
