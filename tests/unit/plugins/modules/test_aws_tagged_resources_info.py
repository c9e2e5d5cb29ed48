"""Unit tests of mecove.platform.aws_tagged_resources_info with a mocked boto3 client (no network)."""

import botocore.exceptions
import pytest
from ansible_collections.mecove.platform.plugins.modules import aws_tagged_resources_info as module_under_test

TAGS = {"Project": "mecove-mvp", "ManagedBy": "ansible-mecove-platform"}


@pytest.fixture
def tagging(aws_client):
    return aws_client


def test_lists_matching_resources_sorted_with_their_tags(tagging, run_module):
    paginate = tagging.get_paginator.return_value.paginate
    paginate.return_value.build_full_result.return_value = {
        "ResourceTagMappingList": [
            {"ResourceARN": "arn:aws:secretsmanager:ap-south-1:1:secret:b", "Tags": [{"Key": "Project", "Value": "mecove-mvp"}]},
            {"ResourceARN": "arn:aws:logs:ap-south-1:1:log-group:/a", "Tags": []},
        ]
    }
    result = run_module(module_under_test.main, {"tags": TAGS, "resource_types": ["logs", "secretsmanager"], "region": "ap-south-1"})
    assert result["changed"] is False
    assert result["arns"] == ["arn:aws:logs:ap-south-1:1:log-group:/a", "arn:aws:secretsmanager:ap-south-1:1:secret:b"]
    assert result["resources"][1]["tags"] == {"Project": "mecove-mvp"}
    tagging.get_paginator.assert_called_once_with("get_resources")
    kwargs = paginate.call_args.kwargs
    assert kwargs["TagFilters"] == [
        {"Key": "ManagedBy", "Values": ["ansible-mecove-platform"]},
        {"Key": "Project", "Values": ["mecove-mvp"]},
    ]
    assert kwargs["ResourceTypeFilters"] == ["logs", "secretsmanager"]


def test_no_type_filter_by_default(tagging, run_module):
    tagging.get_paginator.return_value.paginate.return_value.build_full_result.return_value = {}
    result = run_module(module_under_test.main, {"tags": TAGS, "region": "ap-south-1"})
    assert result["arns"] == []
    assert "ResourceTypeFilters" not in tagging.get_paginator.return_value.paginate.call_args.kwargs


def test_refuses_an_empty_tag_set(tagging, run_module):
    result = run_module(module_under_test.main, {"tags": {}, "region": "ap-south-1"})
    assert result["failed"] is True
    tagging.get_paginator.assert_not_called()


def test_aws_errors_fail_the_amazon_aws_way(tagging, run_module):
    error = botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetResources")
    tagging.get_paginator.return_value.paginate.return_value.build_full_result.side_effect = error
    result = run_module(module_under_test.main, {"tags": TAGS, "region": "ap-south-1"})
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to list the tagged resources")
    assert result["error"]["code"] == "AccessDenied"
