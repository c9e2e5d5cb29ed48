"""galaxy.yml declares exactly the collections that the collection's own content calls by FQCN,
in version ranges that admit the versions collections/requirements.yml pins (the ones the
pinned `ansible` package bundles, which the tests run)."""

import re
from pathlib import Path

import yaml
from ansible.module_utils.compat.version import LooseVersion

REPO = Path(__file__).resolve().parents[2]
# The collection's content: what `ansible-galaxy collection build` ships and runs elsewhere.
CONTENT = ["roles", "playbooks", "plugins", "meta"]
FQCN = re.compile(r"\b([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b")
SELF_AND_CORE = {"mecove.platform", "ansible.builtin", "ansible.module_utils", "ansible.plugins"}


def used_collections():
    used = {}
    for folder in CONTENT:
        for path in (REPO / folder).rglob("*"):
            if path.suffix not in (".yml", ".yaml", ".py", ".j2") or not path.is_file():
                continue
            for match in FQCN.finditer(path.read_text(errors="replace")):
                name = match.group(1)
                if name.split(".")[0] in ("amazon", "community", "ansible", "kubernetes", "containers") and name not in SELF_AND_CORE:
                    used.setdefault(name, str(path.relative_to(REPO)))
    return used


def galaxy():
    return yaml.safe_load((REPO / "galaxy.yml").read_text())


def test_every_collection_the_content_calls_is_declared_and_nothing_else():
    used = used_collections()
    declared = set(galaxy()["dependencies"])
    assert set(used) == declared, f"used (first use): {used}; declared in galaxy.yml: {sorted(declared)}"


def test_the_declared_ranges_admit_the_pinned_versions():
    pins = {c["name"]: c["version"] for c in yaml.safe_load((REPO / "collections/requirements.yml").read_text())["collections"]}
    for name, spec in galaxy()["dependencies"].items():
        pinned = LooseVersion(pins[name])
        for clause in spec.split(","):
            op, version = re.match(r"^(>=|<|<=|>|==|!=)?(.+)$", clause.strip()).groups()
            wanted = LooseVersion(version)
            holds = {">=": pinned >= wanted, "<": pinned < wanted, "<=": pinned <= wanted, ">": pinned > wanted,
                     "!=": pinned != wanted}.get(op, pinned == wanted)
            assert holds, f"{name} {spec} does not admit the pinned {pins[name]}"
