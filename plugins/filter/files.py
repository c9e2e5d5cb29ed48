# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a file on the host differs from what a task would write.

  file_outdated(read, args, content=None)
      True unless the result of mecove.platform.files_info (`read`) shows args.dest (or
      args.path) as a regular file whose SHA-1 is that of `content` (default: args.content; text,
      encoded as UTF-8, as template and copy write it) and whose owner, group and mode are those
      of args, by name or number (those args leaves out are not compared). `args` is the writing task's own
      arguments, handed over with a YAML anchor so that they are written once. For a file task with
      state=directory: True unless the path is a folder with that owner, group and mode.

A role reads all its files with one files_info run and guards each template or copy task with
this filter: an unchanged file then costs no module run at all, and a changed one is written by
the stock module, which still decides (and shows the diff). Anything this filter cannot judge
(a path not read, a skipped read, a symbolic mode such as u=rw) counts as outdated, so the
module runs: a wrong guess can cost time, never a missed change.
"""

import hashlib

from ansible.errors import AnsibleFilterError


def _octal(mode):
    """'0640', '640', 416 (YAML's 0640) -> '0640'; None for a symbolic mode."""
    if isinstance(mode, bool):
        raise AnsibleFilterError("file_outdated: mode must be octal, got %r" % mode)
    if isinstance(mode, int):
        return "%04o" % mode
    try:
        return "%04o" % int(str(mode).strip(), 8)
    except ValueError:
        return None


def file_outdated(read, args, content=None):
    """True when the task with arguments `args`, writing `content`, may change something."""
    if not isinstance(args, dict) or not (args.get("dest") or args.get("path")):
        raise AnsibleFilterError("file_outdated: args must be the writing task's arguments, with dest or path")
    folder = args.get("state") == "directory"
    content = args.get("content") if content is None else content
    if not folder and not isinstance(content, str):
        raise AnsibleFilterError("file_outdated: content must be text, got %s" % type(content).__name__)
    files = read.get("files") if isinstance(read, dict) else None
    found = (files or {}).get(args.get("dest") or args.get("path"))
    if not found or not found.get("directory" if folder else "regular"):
        return True
    if not folder and found.get("checksum") != hashlib.sha1(content.encode("utf-8"), usedforsecurity=False).hexdigest():
        return True
    for key, ident in (("owner", "uid"), ("group", "gid")):
        if args.get(key) is not None and str(args[key]) not in (found.get(key), str(found.get(ident))):
            return True
    if args.get("mode") is not None:
        wanted = _octal(args["mode"])
        if wanted is None or wanted != found.get("mode"):
            return True
    return False


class FilterModule:
    """File comparison filters."""

    def filters(self):
        return {"file_outdated": file_outdated}
