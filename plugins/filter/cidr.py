# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIDR checks for validating network variables before any AWS call.

Python's ipaddress module only: ansible.utils' ipaddr filters need the netaddr library, which the
pinned toolchain does not carry. Each filter returns a list of problems (empty = fine), so that an
ansible.builtin.assert can print exactly what is wrong:

  cidr_invalid(cidrs)          entries that are not a network in CIDR form (host bits must be 0)
  cidr_overlaps(cidrs)         "A overlaps B" for each overlapping pair of valid entries
  cidr_outside(cidrs, parent)  valid entries that do not lie inside the parent network
  cidr_anywhere(cidrs)         valid entries that are the whole address space (0.0.0.0/0, ::/0)
"""

import ipaddress

from ansible.errors import AnsibleFilterError


def _as_list(cidrs):
    if isinstance(cidrs, str):
        return [cidrs]
    try:
        return list(cidrs or [])
    except TypeError as e:
        raise AnsibleFilterError(f"expected a list of CIDRs, got {cidrs!r}") from e


def _network(value):
    """The network, or None when value is not a CIDR network (bare addresses count as invalid)."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError:
        return None


def cidr_invalid(cidrs):
    return [str(c) for c in _as_list(cidrs) if _network(c) is None]


def cidr_overlaps(cidrs):
    nets = [(str(c), _network(c)) for c in _as_list(cidrs)]
    nets = [(c, n) for c, n in nets if n is not None]
    problems = []
    for i, (a, net_a) in enumerate(nets):
        for b, net_b in nets[i + 1:]:
            if net_a.version == net_b.version and net_a.overlaps(net_b):
                problems.append(f"{a} overlaps {b}")
    return problems


def cidr_outside(cidrs, parent):
    parent_net = _network(parent)
    if parent_net is None:
        raise AnsibleFilterError(f"cidr_outside: the parent {parent!r} is not a CIDR network")
    outside = []
    for c in _as_list(cidrs):
        net = _network(c)
        if net is not None and (net.version != parent_net.version or not net.subnet_of(parent_net)):
            outside.append(str(c))
    return outside


def cidr_anywhere(cidrs):
    return [str(c) for c in _as_list(cidrs) if (_network(c) is not None and _network(c).prefixlen == 0)]


class FilterModule:
    """CIDR validation filters."""

    def filters(self):
        return {
            "cidr_invalid": cidr_invalid,
            "cidr_overlaps": cidr_overlaps,
            "cidr_outside": cidr_outside,
            "cidr_anywhere": cidr_anywhere,
        }
