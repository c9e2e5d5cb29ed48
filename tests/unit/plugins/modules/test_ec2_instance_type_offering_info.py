"""Unit tests of mecove.platform.ec2_instance_type_offering_info.

The offerings come from moto in-process, whose tables are AWS's own answers per region and zone
(t4g.small is offered in five of us-east-1's six zones, not in us-east-1e); the error path uses
a mocked client."""

import botocore.exceptions
import moto
import pytest
from ansible_collections.mecove.platform.plugins.modules import ec2_instance_type_offering_info as module_under_test


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        yield


def test_each_type_gets_the_zones_that_offer_it(aws, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, {"instance_types": ["t4g.small", "c4.large"], "region": "us-east-1"})
    assert result["changed"] is False
    assert result["offerings"]["t4g.small"] == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
    assert "us-east-1e" in result["offerings"]["c4.large"]


def test_a_type_that_does_not_exist_is_offered_nowhere(aws, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, {"instance_types": ["t4g.smal"], "region": "ap-south-1"})
    assert result["offerings"] == {"t4g.smal": []}


def test_the_region_itself_can_be_the_location(aws, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, {"instance_types": ["t4g.small"], "region": "ap-south-1",
                                                 "location_type": "region"})
    assert result["offerings"] == {"t4g.small": ["ap-south-1"]}


def test_it_asks_for_the_types_only_and_reads_every_page(aws_client, run_module):
    paginator = aws_client.get_paginator.return_value
    paginator.paginate.return_value = [
        {"InstanceTypeOfferings": [{"InstanceType": "t4g.small", "Location": "b"}]},
        {"InstanceTypeOfferings": [{"InstanceType": "t4g.small", "Location": "a"}, {"InstanceType": "x", "Location": "c"}]},
    ]
    result = run_module(module_under_test.main, {"instance_types": ["t4g.small"], "region": "ap-south-1"})
    assert result["offerings"] == {"t4g.small": ["a", "b"]}
    aws_client.get_paginator.assert_called_once_with("describe_instance_type_offerings")
    paginator.paginate.assert_called_once_with(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": ["t4g.small"]}]
    )


def test_an_aws_error_fails_naming_the_types(aws_client, run_module):
    error = botocore.exceptions.ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}},
                                            "DescribeInstanceTypeOfferings")
    aws_client.get_paginator.return_value.paginate.side_effect = error
    result = run_module(module_under_test.main, {"instance_types": ["t4g.small"], "region": "ap-south-1"})
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to read where t4g.small are offered")


def test_an_empty_list_is_refused(aws_client, run_module):
    result = run_module(module_under_test.main, {"instance_types": [], "region": "ap-south-1"})
    assert result["failed"] is True
    assert result["msg"] == "instance_types must name at least one instance type"
    aws_client.get_paginator.assert_not_called()
