#!/usr/bin/env bash
# Re-resolve requirements.in into the fully pinned requirements.txt, in a throw-away venv.
source "$(dirname "$0")/lib.sh"
python="$(find_python)" || die "no Python >= 3.12 found (set MECOVE_PYTHON)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO_ROOT/requirements.in"
{
  echo "# Generated from requirements.in by 'make lock' (pip freeze in a clean Python 3.12 venv). Do not edit by hand."
  "$tmp/venv/bin/python" -m pip freeze --all | grep -vE '^(pip|setuptools|wheel)=='
} >"$REPO_ROOT/requirements.txt"
log "requirements.txt updated; run 'make setup' to build the matching venv"
