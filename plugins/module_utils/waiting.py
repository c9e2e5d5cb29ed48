# -*- coding: utf-8 -*-

# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Polling shared by the collection's AWS modules: look again, with a growing pause, until done."""

from __future__ import annotations

import time

# Seconds between two looks while waiting: 2, 4, 8, then every 15.
FIRST_POLL_DELAY = 2
MAX_POLL_DELAY = 15


def poll_until(look, done, timeout):
    """Call look() until done(its result) or timeout seconds have passed.

    Returns (result, True) once done, or (the last result, False) at the deadline. The first
    look is immediate; a pause never ends past the deadline by more than one look.
    """
    deadline = time.time() + timeout
    delay = FIRST_POLL_DELAY
    result = look()
    while not done(result):
        remaining = deadline - time.time()
        if remaining <= 0:
            return result, False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL_DELAY)
        result = look()
    return result, True
