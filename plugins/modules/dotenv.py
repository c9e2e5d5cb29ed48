#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dotenv
short_description: Write an environment file for Node.js C(--env-file) without leaking its values
version_added: 1.0.0
description:
  - Writes a whole environment file, one C(KEY=value) line per entry of O(env), in the syntax that the parser
    built into Node.js (C(node --env-file=...), C(process.loadEnvFile), C(util.parseEnv)) reads back as
    exactly the given values.
  - The file holds only the keys of O(env), sorted, after a header comment line. Every other line of an existing
    file (keys, comments) is replaced, so the content is deterministic and the module is idempotent.
  - The values are secrets. The module never returns them, never puts them in error messages, and shows only
    key names in C(--diff) output.
  - The new content is written to a temporary file that only its owner can read, in the same folder, and moved
    over O(path) in one rename. An existing file gets its owner, group and mode fixed before the new content
    replaces it, so new values are never readable by more users than O(mode) allows.
  - 'Values are quoted by the first of these rules that fits, so that Node''s parser returns them unchanged.
    (1) The empty string is written as C('''').
    (2) A value made only of letters, digits and C(_ . / : @ % + , = -) is written as it is.
    (3) A value without a single quote and without a line break is put in single quotes, which Node reads
    literally (spaces, C(#), C($), C("), backticks and backslashes included).
    (4) A value without a double quote and without a backslash followed by C(n) is put in double quotes,
    each line break written as C(\n); inside double quotes Node turns C(\n) into a line break and changes nothing else.
    (5) A value without a backtick and without a line break is put in backticks, which Node reads literally.'
  - The module fails, naming the key but never showing the value, for a value no rule fits. That is a value with
    a line break and either a double quote or a backslash followed by C(n); a value with a single quote, a
    backtick, and either a double quote or a backslash followed by C(n); and a value holding a carriage return
    (Node drops every carriage return of the file) or a NUL character (an environment variable cannot hold one).
    Encode such a value (for example in base64) and decode it in the application.
options:
  path:
    description:
      - Path of the environment file on the target.
      - Its folder must exist. A symbolic link at O(path) is replaced by a regular file.
    type: path
    required: true
  env:
    description:
      - Variables to write, as a mapping of names to values.
      - Names must match C(^[A-Za-z_][A-Za-z0-9_]*$).
      - Values are strings. Integers and floats are written as their decimal text, booleans as V(true) or
        V(false). Null values, lists and mappings are rejected; convert them yourself (for example with
        P(ansible.builtin.to_json#filter) or V('')).
      - See the description for how values are quoted and which ones cannot be written.
      - Required when O(state=present); ignored when O(state=absent).
    type: dict
  state:
    description:
      - V(present) writes the file with exactly the variables of O(env).
      - V(absent) removes the file (a symbolic link at O(path) itself, not its target).
    type: str
    choices: [present, absent]
    default: present
  mode:
    description:
      - The permissions of the file, as for M(ansible.builtin.file). Quote octal numbers, for example V('0640').
      - The default keeps the file readable by its owner only. With V(null) the mode of an existing file is
        kept, and a new file is created readable by its owner only.
    type: raw
    default: '0600'
  backup:
    type: bool
    default: false
    description:
      - When the content changes, keep a copy of the existing file beside it, with its owner, group and mode (after
        they are set as asked), named in RV(backup_file). A deploy puts it back if the new values fail.
      - Nothing is kept for a new file, a symbolic link at O(path), a change of owner, group or mode alone, or in
        check mode.
notes:
  - Supports check mode and diff mode. The diff shows one line per key, with V(<hidden>) in place of every value,
    V(<hidden, old value>) and V(<hidden, new value>) for a value that changes, and lines for the file's owner,
    group and mode when they change.
  - To name the keys that were added, removed or changed, the module reads the existing file with the same rules
    as Node's parser (best effort for a file it did not write). Whether the file changes is decided by comparing
    its content with what the module would write.
  - The first line of the file is a comment saying that Ansible manages it; Node's parser skips it.
  - As for any option marked C(no_log), Ansible masks every occurrence of a value of O(env) in the task's output,
    so a very short value (such as V(1)) may mask parts of key names or paths in the results.
author:
  - meCove platform team (@mecove)
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
"""

EXAMPLES = r"""
- name: Write the application's environment file from its secrets
  mecove.platform.dotenv:
    path: /home/mecove/app/shared/.env
    owner: mecove
    group: mecove
    mode: '0600'
    env:
      NODE_ENV: production
      PORT: 3000
      DATABASE_URL: "postgresql://mecove:{{ db_password | urlencode }}@{{ db_host }}:5432/mecove"
      JWT_SECRET: "{{ app_secrets.JWT_SECRET }}"
  become: true

- name: Write every key of a Secrets Manager JSON secret
  mecove.platform.dotenv:
    path: /home/mecove/app/shared/.env
    owner: mecove
    group: mecove
    env: "{{ lookup('amazon.aws.aws_secret', 'mecove/app', region='ap-south-1') | from_json }}"
  become: true

- name: Remove the environment file
  mecove.platform.dotenv:
    path: /home/mecove/app/shared/.env
    state: absent
  become: true
"""

RETURN = r"""
path:
  description: Path of the environment file.
  returned: always
  type: str
  sample: /home/mecove/app/shared/.env
env_keys:
  description: Names of the variables the file holds (would hold, in check mode), sorted. Empty for O(state=absent).
  returned: always
  type: list
  elements: str
  sample: ["DATABASE_URL", "JWT_SECRET", "NODE_ENV", "PORT"]
added:
  description: Names of the variables that were not in the file before, sorted.
  returned: always
  type: list
  elements: str
  sample: ["JWT_SECRET"]
removed:
  description: Names of the variables the file held before and no longer holds (all of them for O(state=absent)), sorted.
  returned: always
  type: list
  elements: str
  sample: ["OLD_API_KEY"]
changed_keys:
  description: Names of the variables in the file before and after whose value changed, sorted. Never the values.
  returned: always
  type: list
  elements: str
  sample: ["DATABASE_URL"]
backup_file:
  description: The copy of the previous file, kept with O(backup=true) when the content changed.
  returned: changed and backup made
  type: str
  sample: /home/mecove/app/shared/.env.4182.2026-12-04@17:52:03~
"""

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

HEADER = "# Managed by Ansible (mecove.platform.dotenv): keys sorted; do not edit by hand."
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Values written without quotes: nothing Node's parser trims, cuts at (#) or takes for a quote.
PLAIN_VALUE_RE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]+$")
QUOTES = ("'", '"', "`")
HIDDEN = "<hidden>"
HIDDEN_OLD = "<hidden, old value>"
HIDDEN_NEW = "<hidden, new value>"
LAYOUT_NOTE = "# (the file's comments, order or quoting differ from what this module writes)"


class DotenvError(Exception):
    """A problem the module reports with fail_json; its message never holds a value."""


def value_text(key, value):
    """The string to write for one value of env; rejects what has no sensible text form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        raise DotenvError("env.%s is null; give '' for an empty value" % key)
    if isinstance(value, dict):
        raise DotenvError("env.%s is a mapping; values must be strings (serialize it, for example with to_json)" % key)
    if isinstance(value, (list, tuple)):
        raise DotenvError("env.%s is a list; values must be strings (serialize it, for example with to_json)" % key)
    raise DotenvError("env.%s is of type %s; values must be strings" % (key, type(value).__name__))


def quote_value(key, value):
    """The text after `KEY=` that Node's env-file parser reads back as exactly value."""
    if "\x00" in value:
        raise DotenvError("the value of %s holds a NUL character, which an environment variable cannot hold" % key)
    if "\r" in value:
        raise DotenvError(
            "the value of %s holds a carriage return, which Node's env-file parser drops; encode the value" % key
        )
    if value == "":
        return "''"
    if PLAIN_VALUE_RE.match(value):
        return value
    multiline = "\n" in value
    if not multiline and "'" not in value:
        return "'%s'" % value
    if '"' not in value and "\\n" not in value:
        return '"%s"' % value.replace("\n", "\\n")
    if not multiline and "`" not in value:
        return "`%s`" % value
    if multiline:
        clash = "a double quote" if '"' in value else "a backslash followed by n"
        raise DotenvError(
            "the value of %s holds a line break and %s: Node's env-file parser reads line breaks only as \\n in "
            "double quotes, which cannot hold that; encode the value (for example in base64)" % (key, clash)
        )
    raise DotenvError(
        "the value of %s holds a single quote, a backtick, and a double quote or a backslash followed by n: no quoting "
        "of Node's env-file parser can hold all of them; encode the value (for example in base64)" % key
    )


def normalize(env):
    """{key: value as str}, checking every key and value."""
    if not isinstance(env, dict):
        raise DotenvError("env must be a mapping of variable names to values")
    values = {}
    for key in sorted(env, key=str):
        name = str(key)
        if not KEY_RE.match(name):
            raise DotenvError("invalid variable name %r in env: names must match ^[A-Za-z_][A-Za-z0-9_]*$" % name)
        values[name] = value_text(name, env[key])
    return values


def render(values):
    """The file content (text) for {key: str value}: header line, then one line per key, sorted."""
    lines = [HEADER]
    for key in sorted(values):
        lines.append("%s=%s" % (key, quote_value(key, values[key])))
    return "\n".join(lines) + "\n"


def encode(values, text):
    """UTF-8 bytes of the rendered text; names the key of a value that cannot be encoded."""
    for key in sorted(values):
        try:
            values[key].encode("utf-8")
        except UnicodeEncodeError:
            raise DotenvError("the value of %s is not valid Unicode text (it holds a lone surrogate)" % key)
    return text.encode("utf-8")


def parse(text):
    """{key: value} of an env file's text, read with the rules of Node's parser (src/node_dotenv.cc).

    Used only to name the keys that change; for content this module wrote, it returns exactly the values written.
    """
    text = text.replace("\r", "")
    values = {}
    pos, size = 0, len(text)
    while pos < size:
        while pos < size and text[pos] in " \t\n":
            pos += 1
        if pos >= size:
            break
        line_end = text.find("\n", pos)
        if line_end < 0:
            line_end = size
        equal = text.find("=", pos, line_end)
        if text[pos] == "#" or equal < 0:
            pos = line_end + 1
            continue
        key = text[pos:equal].strip(" \t")
        if key.startswith("export "):
            key = key[len("export "):].strip(" \t")
        pos = equal + 1
        while pos < line_end and text[pos] in " \t":
            pos += 1
        quote = text[pos] if pos < line_end and text[pos] in QUOTES else None
        closing = text.find(quote, pos + 1) if quote else -1
        if closing >= 0:
            value = text[pos + 1:closing]
            if quote == '"':
                value = value.replace("\\n", "\n")
            line_end = text.find("\n", closing + 1)
            if line_end < 0:
                line_end = size
        elif quote:
            value = text[pos:line_end]
        else:
            value = text[pos:line_end].split("#", 1)[0].strip(" \t")
        if key:
            values[key] = value
        pos = line_end + 1
    return values


def compare(before, after):
    """(added, removed, changed) key names between two {key: value} mappings, each sorted."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(key for key in set(before) & set(after) if before[key] != after[key])
    return added, removed, changed


def diff_lines(values, changed, marker):
    return ["%s=%s" % (key, marker if key in changed else HIDDEN) for key in sorted(values)]


def attribute_lines(attr_diff, side):
    return ["# %s: %s" % (name, attr_diff[side][name]) for name in sorted(attr_diff.get(side) or {})]


def read_existing(path):
    """The bytes of the file at path, None when there is none; fails on anything but a regular file or link."""
    if not os.path.lexists(path):
        return None
    if os.path.islink(path):
        if not os.path.isfile(path):
            return None
    elif not os.path.isfile(path):
        raise DotenvError("%s exists and is not a regular file" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise DotenvError("cannot read %s: %s" % (path, to_native(exc.strerror or exc)))


def write_atomically(module, path, data):
    """Write data to a private temporary file next to path, then rename it over path."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DotenvError("the folder of %s does not exist" % path)
    try:
        # mkstemp creates the file with mode 0600, whatever the umask.
        handle, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DotenvError("cannot create a temporary file in %s: %s" % (folder, to_native(exc.strerror or exc)))
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        # atomic_move gives a file it creates the mode 0666 minus the umask: keep that private too.
        # Over an existing file it copies that file's owner and mode (already fixed by the caller), but not
        # a symbolic link's target's: the link is replaced.
        previous_umask = os.umask(0o077)
        try:
            module.atomic_move(
                tmp_path, path, unsafe_writes=module.params["unsafe_writes"], keep_dest_attrs=not os.path.islink(path)
            )
        finally:
            os.umask(previous_umask)
    finally:
        if os.path.lexists(tmp_path):
            os.unlink(tmp_path)


def run_present(module, path, result, diff):
    values = normalize(module.params["env"])
    data = encode(values, render(values))
    old_data = read_existing(path)
    old_values = parse(old_data.decode("utf-8", errors="replace")) if old_data is not None else {}
    added, removed, changed_keys = compare(old_values, values)
    content_changed = old_data != data or os.path.islink(path)
    result.update(env_keys=sorted(values), added=added, removed=removed, changed_keys=changed_keys)

    file_args = module.load_file_common_arguments(module.params, path=path)
    attr_diff = {"before": {}, "after": {}}
    changed = content_changed
    exists = old_data is not None and not os.path.islink(path)
    if exists:
        # Before new values land: tighten the existing file (atomic_move copies its owner and mode).
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
    if content_changed and not module.check_mode:
        if module.params["backup"] and exists:
            result["backup_file"] = module.backup_local(path)
        write_atomically(module, path, data)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
    result["changed"] = changed

    before = attribute_lines(attr_diff, "before")
    after = attribute_lines(attr_diff, "after")
    if old_data is not None:
        before += diff_lines(old_values, changed_keys, HIDDEN_OLD)
        if content_changed and not (added or removed or changed_keys):
            before.append(LAYOUT_NOTE)
    after += diff_lines(values, changed_keys, HIDDEN_NEW)
    diff.update(before="".join(line + "\n" for line in before), after="".join(line + "\n" for line in after))


def run_absent(module, path, result, diff):
    if os.path.isdir(path) and not os.path.islink(path):
        raise DotenvError("%s is a folder, not an environment file" % path)
    old_data = read_existing(path) if os.path.exists(path) else None
    old_values = parse(old_data.decode("utf-8", errors="replace")) if old_data is not None else {}
    result.update(env_keys=[], added=[], removed=sorted(old_values), changed_keys=[])
    if os.path.lexists(path):
        result["changed"] = True
        if not module.check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                raise DotenvError("cannot remove %s: %s" % (path, to_native(exc.strerror or exc)))
    diff.update(before="".join(line + "\n" for line in diff_lines(old_values, (), HIDDEN)), after="")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            env=dict(type="dict", no_log=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            mode=dict(type="raw", default="0600"),
            backup=dict(type="bool", default=False),
        ),
        required_if=[["state", "present", ["env"]]],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    result = dict(changed=False, path=path)
    diff = dict(before_header="%s (values hidden)" % path, after_header="%s (values hidden)" % path)
    try:
        if module.params["state"] == "present":
            if os.path.isdir(path) and not os.path.islink(path):
                raise DotenvError("%s is a folder, not an environment file" % path)
            run_present(module, path, result, diff)
        else:
            run_absent(module, path, result, diff)
    except DotenvError as exc:
        module.fail_json(msg=str(exc), path=path)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
