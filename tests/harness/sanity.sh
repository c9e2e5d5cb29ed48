#!/usr/bin/env bash
# ansible-test sanity on the collection. ansible-test must run from a path that ends in
# ansible_collections/<namespace>/<name>, and it resolves symlinks, so this copies the files git
# would commit (tracked, and untracked but not ignored) to such a path in a temp dir first.
# Extra arguments go to ansible-test (e.g. --test validate-modules).
source "$(dirname "$0")/lib.sh"

# Sanity tests we skip, each with the reason (printed): keep this list short and explained.
declare -A SKIPPED=(
  [shellcheck]="needs the shellcheck binary; our harness scripts are not part of the collection's content"
)

# ansible-test downloads a pip bootstrap script from a host we cannot reach: give it ours.
pip_version="$(python3 -c 'import ansible_test._internal.python_requirements as r, types
print(r.get_venv_packages(types.SimpleNamespace(version="3.12"))["pip"])')"
get_pip_cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$get_pip_cache")"
cp "$HARNESS_DIR/ansible_test_get_pip.py" "$get_pip_cache"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/mecove/platform"
mkdir -p "$dest"
(cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^collections/ansible_collections/' \
  | xargs -0 -I{} cp --parents -P {} "$dest/")
# Our modules build on amazon.aws: ansible-test finds collections beside ours, so link the ones
# the pinned ansible package bundles.
bundled="$(python3 -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])')"
for namespace in amazon community ansible; do
  ln -s "$bundled/$namespace" "$work/ansible_collections/$namespace"
done
cd "$dest"
git init -q && git add -A >/dev/null   # ansible-test lists a collection's files through git

skip_args=()
for name in "${!SKIPPED[@]}"; do
  echo "sanity: skipping '$name': ${SKIPPED[$name]}"
  skip_args+=(--skip-test "$name")
done
ansible-test sanity --color no --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --requirements "${skip_args[@]}" "$@"
