#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: files_info
short_description: Read the checksum, owner, group and mode of several files in one round trip
version_added: 1.0.0
description:
  - Reads, for each path, whether it exists, whether it is a regular file or a folder, its SHA-1 checksum (the
    one M(ansible.builtin.stat) and M(ansible.builtin.copy) compare), its owner, group and mode.
  - Why this module exists - a role that writes several files checks each one with its own
    M(ansible.builtin.template) or M(ansible.builtin.copy) task, which costs two module runs per
    file even when nothing changes (a read, then M(ansible.builtin.file) for the attributes). Over
    a connection without pipelining (SSM) each run costs seconds. One read of all the files lets a
    role run only the tasks whose file differs (filter P(mecove.platform.file_outdated#filter)).
    M(ansible.builtin.stat) reads one path per run.
options:
  paths:
    description:
      - Absolute paths of the files to read. A missing path is reported, not an error.
    required: true
    type: list
    elements: path
notes:
  - Supports check mode; the module changes nothing.
  - A path that is a link is followed, as M(ansible.builtin.copy) does for its destination.
author:
  - meCove platform team (@mecove)
"""

EXAMPLES = r"""
- name: Read the files this role writes
  mecove.platform.files_info:
    paths:
      - /etc/redis/redis.conf
      - /etc/systemd/system/redis-server.service.d/override.conf
  register: redis_files

# The anchor hands the task's own arguments to the comparison.
- name: Write the Redis configuration when it differs
  ansible.builtin.template: &redis_config
    src: redis.conf.j2
    dest: /etc/redis/redis.conf
    owner: root
    group: redis
    mode: "0640"
  vars:
    redis_file: *redis_config
  when: redis_files | mecove.platform.file_outdated(redis_file, lookup('ansible.builtin.template', redis_file.src))
"""

RETURN = r"""
files:
  description: One entry per path, keyed by the path as given.
  returned: always
  type: dict
  sample:
    /etc/redis/redis.conf:
      exists: true
      regular: true
      directory: false
      checksum: 3974f98b21f3708a18f7d7249250103f2f420bcd
      owner: root
      group: redis
      uid: 0
      gid: 997
      mode: "0640"
  contains:
    exists:
      description: Whether the path exists.
      returned: always
      type: bool
    regular:
      description: Whether it is a regular file (after following links).
      returned: always
      type: bool
    directory:
      description: Whether it is a folder (after following links).
      returned: always
      type: bool
    checksum:
      description: The SHA-1 of the content; V(null) unless a readable regular file.
      returned: always
      type: str
    owner:
      description: The owner's name (the uid when it has no name); V(null) when missing.
      returned: always
      type: str
    group:
      description: The group's name (the gid when it has no name); V(null) when missing.
      returned: always
      type: str
    uid:
      description: The owner's numeric id; V(null) when missing.
      returned: always
      type: int
    gid:
      description: The group's numeric id; V(null) when missing.
      returned: always
      type: int
    mode:
      description: The permission bits, four octal digits; V(null) when missing.
      returned: always
      type: str
"""

import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def read(path):
    """What one path holds, as the module returns it."""
    state = {"exists": False, "regular": False, "directory": False, "checksum": None, "owner": None, "group": None, "uid": None, "gid": None, "mode": None}
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return state
    state.update(
        exists=True,
        regular=stat.S_ISREG(info.st_mode),
        directory=stat.S_ISDIR(info.st_mode),
        owner=_name(pwd.getpwuid, info.st_uid),
        group=_name(grp.getgrgid, info.st_gid),
        uid=info.st_uid,
        gid=info.st_gid,
        mode="%04o" % stat.S_IMODE(info.st_mode),
    )
    if state["regular"]:
        digest = hashlib.sha1(usedforsecurity=False)
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
        state["checksum"] = digest.hexdigest()
    return state


def main():
    module = AnsibleModule(
        argument_spec={"paths": {"type": "list", "elements": "path", "required": True}},
        supports_check_mode=True,
    )
    files = {}
    for path in module.params["paths"]:
        if not os.path.isabs(path):
            module.fail_json(msg="paths must be absolute; got %r" % path)
        try:
            files[path] = read(path)
        except OSError as error:
            module.fail_json(msg="could not read %s: %s" % (path, error))
    module.exit_json(changed=False, files=files)


if __name__ == "__main__":
    main()
