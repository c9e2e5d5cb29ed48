# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: unknown_settings
author:
  - meCove platform team (@mecove)
version_added: "1.0.0"
short_description: Settings in the collection's namespaces that no part of the collection reads
description:
  - Returns the names of the play's variables that start with C(mecove_) or with the name of one of
    the collection's roles followed by C(_) (C(app_deploy_), C(redis_), ...) and that the
    collection's playbooks, roles and plugins never mention. Such a variable has no effect; most
    often a misspelt setting, whose default is then used without a word.
  - Each name comes with the closest name the collection knows, when one is close.
  - What the collection knows is read from its own files at run time, so the list cannot fall
    behind the code.
notes:
  - Names that another collection's roles read under the same prefixes would be reported too; the
    collection's playbooks run only its own roles.
"""

EXAMPLES = r"""
- name: Warn about settings that no part of the collection reads
  ansible.builtin.debug:
    msg: "WARNING: no part of mecove.platform reads {{ unknown | join(', ') }}"
  vars:
    unknown: "{{ query('mecove.platform.unknown_settings') }}"
  when: unknown | length > 0
"""

RETURN = r"""
_raw:
  description:
    - One entry per unknown variable, sorted, for example
      C(mecove_ec2_instnce_type (did you mean mecove_ec2_instance_type?)).
  type: list
  elements: str
"""

import difflib
import functools
import re
from pathlib import Path

from ansible.plugins.lookup import LookupBase

# This file is plugins/lookup/ in the collection's root.
COLLECTION_ROOT = Path(__file__).resolve().parents[2]
# Where the collection reads variables; inventories and tests only set them. Documentation
# (a role's README may name a variable long gone) and this file's examples are left out.
READERS = ("playbooks", "roles", "plugins")
NOT_CODE = (".md", ".pyc")
THIS_FILE = Path(__file__).resolve()


def prefixes(root=COLLECTION_ROOT):
    """mecove_ and each role's own prefix (a role's variables start with its name)."""
    roles = root / "roles"
    return ("mecove_",) + tuple(sorted(f"{role.name}_" for role in roles.iterdir() if role.is_dir()))


@functools.lru_cache(maxsize=4)
def known_names(root=COLLECTION_ROOT, names_prefixes=None):
    """Every name under the prefixes that a file of the collection's readers mentions."""
    pattern = name_pattern(names_prefixes or prefixes(root))
    known = set()
    for folder in READERS:
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix not in NOT_CODE and path.resolve() != THIS_FILE:
                known.update(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(known)


def name_pattern(names_prefixes):
    # Word boundary first: mecove_redis_x is not a redis_ name, mecove.platform is no name.
    return re.compile(r"\b(?:%s)[A-Za-z0-9_]*[A-Za-z0-9]" % "|".join(map(re.escape, names_prefixes)))


def unknown_settings(variable_names, known, names_prefixes):
    pattern = name_pattern(names_prefixes)
    candidates = sorted(known)
    found = []
    for name in sorted(str(n) for n in variable_names):
        if pattern.fullmatch(name) and name not in known:
            close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
            found.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return found


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        names_prefixes = prefixes()
        return unknown_settings((variables or {}).keys(), known_names(COLLECTION_ROOT, names_prefixes), names_prefixes)
