# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run would change, attribute by attribute, for resources whose modules print no diff.

  attribute_changes(before, after)     "path: old -> new" for each attribute that differs
  security_group_changes(name, found, ingress, egress, tags)
                                        each rule a run adds, removes or redescribes in the group
                                        of that name in ec2_security_group_info's result (the run
                                        purges rules it was not given, as ours do), and its tags;
                                        "to be created" when not found; empty when in place

amazon.aws's rds_instance returns no diff, so `--check --diff` said only "changed"; and
ec2_security_group's diff is wrong (ports as text against numbers, a rule with several ports
reduced to its last one), so its rules are compared here, one source and port range at a time.
attribute_changes follows what AWS treats as the same:
  - dicts are compared key by key (a key on one side only shows as "(none)" on the other);
  - a list of IAM statements, each with a Sid, is compared statement by statement;
  - other lists are compared as sets (IAM does not order actions or resources), and a list of one
    equals its only item (IAM returns ["a"] as "a");
  - scalars are compared as text, case-insensitively for booleans (templating may turn 7 into "7").
"""

import json

from ansible.errors import AnsibleFilterError

NONE = "(none)"


def _show(value):
    return NONE if value is None else json.dumps(value, sort_keys=True, default=str)


def _canonical(value):
    if isinstance(value, dict):
        return json.dumps({k: _canonical(v) for k, v in value.items()}, sort_keys=True, default=str)
    if isinstance(value, (list, tuple)):
        items = sorted(_canonical(v) for v in value)
        return items[0] if len(items) == 1 else json.dumps(items)
    text = str(value)
    return text.lower() if text.lower() in ("true", "false") else text


def _by_sid(value):
    """The statements keyed by Sid, or None when value is not such a list."""
    if isinstance(value, list) and value and all(isinstance(s, dict) and s.get("Sid") for s in value):
        keyed = {s["Sid"]: s for s in value}
        return keyed if len(keyed) == len(value) else None
    return None


def _changes(before, after, path):
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found += _changes(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return found
    before_sids, after_sids = _by_sid(before), _by_sid(after)
    if before_sids is not None and after_sids is not None:
        return _changes(before_sids, after_sids, path)
    if before is None and after is None:
        return []
    if before is None or after is None or _canonical(before) != _canonical(after):
        return [f"{path or 'value'}: {_show(before)} -> {_show(after)}"]
    return []


def attribute_changes(before, after):
    if not isinstance(after, dict) or not isinstance(before, (dict, type(None))):
        raise AnsibleFilterError(
            f"attribute_changes compares two dicts, got {type(before).__name__} and {type(after).__name__}")
    return _changes(before or {}, after, "")


def _flat_permissions(permissions):
    """{(protocol, ports, source): description} from EC2's IpPermissions, as the info module gives them."""
    flat = {}
    for perm in permissions or []:
        protocol = "all" if str(perm.get("ip_protocol")) == "-1" else str(perm.get("ip_protocol"))
        ports = "" if protocol == "all" else _ports(perm.get("from_port"), perm.get("to_port"))
        for key, source in (("ip_ranges", "cidr_ip"), ("ipv6_ranges", "cidr_ipv6"), ("user_id_group_pairs", "group_id")):
            for entry in perm.get(key) or []:
                flat[(protocol, ports, entry[source])] = entry.get("description")
    return flat


def _ports(low, high):
    return str(low) if str(low) == str(high) else f"{low}-{high}"


def _flat_rules(rules):
    """The same from ec2_security_group's rules option (proto, ports or from_port/to_port, cidr_ip,
    cidr_ipv6 or group_id, rule_desc)."""
    flat = {}
    for rule in rules or []:
        protocol = "all" if str(rule.get("proto")) in ("all", "-1") else str(rule.get("proto"))
        if protocol == "all":
            port_ranges = [""]
        elif rule.get("ports") is not None:
            ports = rule["ports"] if isinstance(rule["ports"], list) else [rule["ports"]]
            port_ranges = [_ports(*str(p).split("-", 1)) if "-" in str(p) else str(p) for p in ports]
        else:
            port_ranges = [_ports(rule.get("from_port"), rule.get("to_port", rule.get("from_port")))]
        sources = []
        for key in ("cidr_ip", "cidr_ipv6", "group_id"):
            value = rule.get(key)
            sources += value if isinstance(value, list) else ([value] if value else [])
        for port_range in port_ranges:
            for source in sources:
                flat[(protocol, port_range, source)] = rule.get("rule_desc")
    return flat


def rule_changes(group, ingress, egress):
    if not isinstance(group, dict):
        raise AnsibleFilterError(f"rule_changes expects the security group as a dict, got {type(group).__name__}")
    found = []
    for direction, current, wanted in (("inbound", group.get("ip_permissions"), ingress),
                                       ("outbound", group.get("ip_permissions_egress"), egress)):
        before, after = _flat_permissions(current), _flat_rules(wanted)
        for key in sorted(set(before) | set(after)):
            protocol, ports, source = key
            rule = f"{direction} {protocol}{' ' + ports if ports else ''} {'to' if direction == 'outbound' else 'from'} {source}"
            if key not in after:
                found.append(f"{rule}: removed")
            elif key not in before:
                found.append(f"{rule}: added" + (f" ({_show(after[key])})" if after[key] else ""))
            elif (before[key] or None) != (after[key] or None):
                found.append(f"{rule}: description {_show(before[key])} -> {_show(after[key])}")
    return found


def security_group_changes(name, found, ingress, egress, tags):
    if not isinstance(found, dict) or not isinstance(tags, dict):
        raise AnsibleFilterError("security_group_changes expects ec2_security_group_info's result and the tags as dicts")
    groups = [g for g in found.get("security_groups") or [] if g.get("group_name") == name]
    if len(groups) > 1:
        raise AnsibleFilterError(f"{len(groups)} security groups are named {name}: the run cannot tell which is ours")
    group = groups[0] if groups else {}
    wanted_tags = dict(tags, Name=name)
    return ([] if group else ["to be created"]) + rule_changes(group, ingress, egress) + attribute_changes(
        {"tags": group.get("tags") or {}}, {"tags": wanted_tags})


class FilterModule:
    """Attribute-by-attribute change filters."""

    def filters(self):
        return {"attribute_changes": attribute_changes, "security_group_changes": security_group_changes}
