"""Unit tests of the attribute-by-attribute change filter (plugins/filter/changes.py)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.mecove.platform.plugins.filter.changes import attribute_changes, rule_changes, security_group_changes

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ["arn:a", "arn:b"]},
        {"Sid": "Write", "Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": ["arn:c"]},
    ],
}


def test_equal_settings_show_no_change_whatever_the_types_and_order():
    assert attribute_changes({"retention": 7, "multi_az": False, "window": "03:00-04:00"},
                             {"retention": "7", "multi_az": "False", "window": "03:00-04:00"}) == []
    # As IAM returns it: statements reordered, one-item lists as strings, actions reordered.
    returned = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Write", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:c"},
        {"Sid": "Read", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": ["arn:b", "arn:a"]},
    ]}
    assert attribute_changes(returned, POLICY) == []


def test_each_changed_attribute_is_named_with_its_old_and_new_value():
    assert attribute_changes({"backup_retention_period": 0, "multi_az": False, "tags": {"Owner": "x", "Stack": "s"}},
                             {"backup_retention_period": 7, "multi_az": False, "tags": {"Stack": "s"}}) == [
        "backup_retention_period: 0 -> 7",
        'tags.Owner: "x" -> (none)',
    ]


def test_an_iam_policy_is_compared_statement_by_statement():
    drifted = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "secretsmanager:*", "Resource": ["arn:a", "arn:b"]},
        POLICY["Statement"][1],
        {"Sid": "Extra", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    ]}
    assert attribute_changes(drifted, POLICY) == [
        'Statement.Extra: {"Action": "s3:*", "Effect": "Allow", "Resource": "*", "Sid": "Extra"} -> (none)',
        'Statement.Read.Action: "secretsmanager:*" -> ["secretsmanager:GetSecretValue"]',
    ]


def test_a_missing_resource_compares_as_empty():
    assert attribute_changes(None, {"a": 1}) == ["a: (none) -> 1"]


@pytest.mark.parametrize("before, after", [({}, [1]), ([1], {}), ("a", {})])
def test_anything_but_two_dicts_is_refused(before, after):
    with pytest.raises(AnsibleFilterError, match="compares two dicts"):
        attribute_changes(before, after)


GROUP = {
    "ip_permissions": [
        {"ip_protocol": "tcp", "from_port": 80, "to_port": 80,
         "ip_ranges": [{"cidr_ip": "0.0.0.0/0", "description": "web"}], "ipv6_ranges": [], "user_id_group_pairs": []},
        {"ip_protocol": "tcp", "from_port": 443, "to_port": 443,
         "ip_ranges": [{"cidr_ip": "0.0.0.0/0", "description": "web"}], "ipv6_ranges": [], "user_id_group_pairs": []},
        {"ip_protocol": "tcp", "from_port": 8080, "to_port": 8080, "ip_ranges": [{"cidr_ip": "198.51.100.0/24"}]},
        {"ip_protocol": "tcp", "from_port": 5432, "to_port": 5432,
         "user_id_group_pairs": [{"group_id": "sg-1", "user_id": "123456789012", "description": "db"}]},
    ],
    "ip_permissions_egress": [{"ip_protocol": "-1", "ip_ranges": [{"cidr_ip": "0.0.0.0/0", "description": "out"}]}],
}
EGRESS = [{"proto": "all", "cidr_ip": "0.0.0.0/0", "rule_desc": "out"}]


def test_rules_as_the_module_takes_them_match_the_group_as_ec2_returns_it():
    ingress = [{"proto": "tcp", "ports": ["443", 80], "cidr_ip": ["0.0.0.0/0"], "rule_desc": "web"},
               {"proto": "tcp", "from_port": 8080, "to_port": 8080, "cidr_ip": "198.51.100.0/24"},
               {"proto": "tcp", "ports": 5432, "group_id": "sg-1", "rule_desc": "db"}]
    assert rule_changes(GROUP, ingress, EGRESS) == []


def test_only_the_rules_that_change_are_named():
    ingress = [{"proto": "tcp", "ports": [80, 443], "cidr_ip": "0.0.0.0/0", "rule_desc": "web"},
               {"proto": "tcp", "ports": ["22"], "cidr_ipv6": "2001:db8::/32", "rule_desc": "ssh"},
               {"proto": "tcp", "ports": ["5000-5010"], "group_id": "sg-1", "rule_desc": "db"}]
    assert rule_changes(GROUP, ingress, [{"proto": -1, "cidr_ip": "0.0.0.0/0"}]) == [
        'inbound tcp 22 from 2001:db8::/32: added ("ssh")',
        'inbound tcp 5000-5010 from sg-1: added ("db")',
        "inbound tcp 5432 from sg-1: removed",
        "inbound tcp 8080 from 198.51.100.0/24: removed",
        'outbound all to 0.0.0.0/0: description "out" -> (none)',
    ]


def test_a_group_that_does_not_exist_yet_gains_every_rule():
    assert rule_changes({}, [], EGRESS) == ['outbound all to 0.0.0.0/0: added ("out")']
    with pytest.raises(AnsibleFilterError, match="security group as a dict"):
        rule_changes([], [], [])


INGRESS = [{"proto": "tcp", "ports": [80, 443], "cidr_ip": "0.0.0.0/0", "rule_desc": "web"},
           {"proto": "tcp", "ports": [8080], "cidr_ip": "198.51.100.0/24"},
           {"proto": "tcp", "ports": [5432], "group_id": "sg-1", "rule_desc": "db"}]


def found(*groups):
    """ec2_security_group_info's result holding these groups."""
    return {"changed": False, "security_groups": list(groups)}


def test_a_group_as_it_should_be_needs_no_run():
    group = dict(GROUP, group_name="app", tags={"Stack": "s", "Name": "app"})
    other = {"group_name": "db", "ip_permissions": [], "tags": {}}
    assert security_group_changes("app", found(other, group), INGRESS, EGRESS, {"Stack": "s"}) == []


def test_a_stray_tag_or_rule_is_named_for_the_group_of_that_name_only():
    group = dict(GROUP, group_name="app", tags={"Stack": "s", "Name": "app", "Owner": "x"})
    assert security_group_changes("app", found(group), INGRESS[:2], EGRESS, {"Stack": "s"}) == [
        "inbound tcp 5432 from sg-1: removed",
        'tags.Owner: "x" -> (none)',
    ]


def test_a_group_not_found_or_not_read_is_to_be_created():
    # Not read: in check mode on a fresh account there is no VPC to look in.
    for result in (found(), {"changed": False, "skipped": True}):
        assert security_group_changes("app", result, [], EGRESS, {"Stack": "s"}) == [
            "to be created", 'outbound all to 0.0.0.0/0: added ("out")', 'tags.Name: (none) -> "app"',
            'tags.Stack: (none) -> "s"']


def test_two_groups_of_one_name_are_refused():
    group = dict(GROUP, group_name="app")
    with pytest.raises(AnsibleFilterError, match="2 security groups are named app"):
        security_group_changes("app", found(group, group), [], EGRESS, {})
