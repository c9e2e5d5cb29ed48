# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test harness callback: how long each remote command of a run took, one JSON line each.

Over SSM (amazon.aws.aws_ssm) every remote command is cut off ansible_aws_ssm_timeout seconds
after it starts. One command is one module run: a task on one host, or one loop item, or one
attempt of an `until` loop. This callback times each of them on the controller (from the
previous one's end, without the `until` delay between attempts), which slightly overstates the
remote part, and appends them to the file named by MECOVE_COMMAND_TIMINGS when the run ends.
tests/harness/run_tests.py compares the longest one with the timeout of inventories/aws.

    ANSIBLE_CALLBACK_PLUGINS=tests/harness/callback_plugins \
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.timer,command_timings \
    MECOVE_COMMAND_TIMINGS=timings.jsonl ansible-playbook ...
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: command_timings
type: aggregate
short_description: time each remote command (test harness)
description:
  - Appends one JSON line per module run (task, loop item or until attempt) to MECOVE_COMMAND_TIMINGS.
requirements:
  - enabled in callbacks_enabled
"""

# Actions that run on the controller only: no remote command to time.
CONTROLLER_ONLY = {
    "assert", "debug", "fail", "set_fact", "include_tasks", "include_role", "include_vars",
    "import_tasks", "import_role", "meta", "pause", "add_host", "group_by", "set_stats",
}


def short(action: str) -> str:
    return action.rsplit(".", 1)[-1]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "command_timings"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.path = os.environ.get("MECOVE_COMMAND_TIMINGS", "")
        self.playbook = ""
        self.marks: dict[tuple[str, str], float] = {}
        self.looped: set[tuple[str, str]] = set()
        self.records: list[dict] = []

    def v2_playbook_on_start(self, playbook) -> None:
        self.playbook = os.path.basename(playbook._file_name)  # pylint: disable=protected-access

    def v2_runner_on_start(self, host, task) -> None:
        self.marks[(host.get_name(), task._uuid)] = time.monotonic()  # pylint: disable=protected-access

    def record(self, result, kind: str, pause: float = 0.0) -> None:
        task = result._task  # pylint: disable=protected-access
        key = (result._host.get_name(), task._uuid)  # pylint: disable=protected-access
        now = time.monotonic()
        start = self.marks.get(key, now)
        self.marks[key] = now + pause  # the next attempt starts after the until delay
        if short(task.action) in CONTROLLER_ONLY or task.delegate_to:
            return
        item = result._result.get("_ansible_item_label", result._result.get("item"))  # pylint: disable=protected-access
        self.records.append({
            "playbook": self.playbook,
            "host": key[0],
            "task": task.get_name(),
            "action": task.action,
            "kind": kind,
            "item": None if item is None else str(item)[:80],
            "seconds": round(max(now - start, 0.0), 2),
        })

    def v2_runner_retry(self, result) -> None:
        self.record(result, "attempt", pause=float(result._task.delay or 0))  # pylint: disable=protected-access

    def v2_runner_item_on_ok(self, result) -> None:
        self.looped.add((result._host.get_name(), result._task._uuid))  # pylint: disable=protected-access
        self.record(result, "item")

    v2_runner_item_on_failed = v2_runner_item_on_ok

    def v2_runner_item_on_skipped(self, result) -> None:
        key = (result._host.get_name(), result._task._uuid)  # pylint: disable=protected-access
        self.looped.add(key)
        self.marks[key] = time.monotonic()

    def v2_runner_on_ok(self, result, *args, **kwargs) -> None:  # pylint: disable=unused-argument
        key = (result._host.get_name(), result._task._uuid)  # pylint: disable=protected-access
        if key not in self.looped:  # a loop's own result sums up items already timed
            self.record(result, "task")

    v2_runner_on_failed = v2_runner_on_ok  # (result, ignore_errors=False)
    v2_runner_on_unreachable = v2_runner_on_ok

    def v2_playbook_on_stats(self, stats) -> None:
        if not self.path:
            return
        with open(self.path, "a", encoding="utf-8") as out:
            for entry in self.records:
                out.write(json.dumps(entry) + "\n")
