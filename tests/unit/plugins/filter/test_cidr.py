"""Unit tests of the CIDR validation filters (plugins/filter/cidr.py)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.mecove.platform.plugins.filter import cidr


@pytest.mark.parametrize(
    "value, invalid",
    [
        (["10.0.0.0/16"], []),
        (
            ["10.0.0.0/33", "10.0.0.1/24", "10.0.0.0", "banana", "300.0.0.0/8", "2001:db8::/32"],
            ["10.0.0.0/33", "10.0.0.1/24", "10.0.0.0", "banana", "300.0.0.0/8"],
        ),
        ("10.0.0.0/16", []),
        ([None, 5], ["None", "5"]),
    ],
)
def test_cidr_invalid(value, invalid):
    assert cidr.cidr_invalid(value) == invalid


def test_cidr_overlaps():
    assert cidr.cidr_overlaps(["10.0.0.0/24", "10.0.1.0/24"]) == []
    assert cidr.cidr_overlaps(["10.0.0.0/24", "10.0.0.128/25", "10.0.1.0/24"]) == ["10.0.0.0/24 overlaps 10.0.0.128/25"]
    assert cidr.cidr_overlaps(["10.0.0.0/24", "10.0.0.0/24"]) == ["10.0.0.0/24 overlaps 10.0.0.0/24"]
    assert cidr.cidr_overlaps(["10.0.0.0/24", "bad"]) == []


def test_cidr_outside():
    assert cidr.cidr_outside(["10.0.0.0/24", "10.0.255.0/24"], "10.0.0.0/16") == []
    assert cidr.cidr_outside(["10.0.0.0/24", "10.1.0.0/24", "10.0.0.0/15"], "10.0.0.0/16") == ["10.1.0.0/24", "10.0.0.0/15"]
    assert cidr.cidr_outside(["2001:db8::/64"], "10.0.0.0/16") == ["2001:db8::/64"]
    with pytest.raises(AnsibleFilterError):
        cidr.cidr_outside(["10.0.0.0/24"], "nonsense")


def test_cidr_anywhere():
    assert cidr.cidr_anywhere(["203.0.113.7/32", "0.0.0.0/0", "::/0", "bad"]) == ["0.0.0.0/0", "::/0"]
    assert cidr.cidr_anywhere([]) == []


def test_filters_are_registered():
    assert set(cidr.FilterModule().filters()) == {"cidr_invalid", "cidr_overlaps", "cidr_outside", "cidr_anywhere"}
