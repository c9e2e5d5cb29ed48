"""Unit tests of mecove.platform.ssm_agent_info with a mocked boto3 SSM client (no network)."""

import botocore.exceptions
import pytest
from ansible_collections.mecove.platform.plugins.modules import ssm_agent_info as module_under_test

INSTANCE = "i-0123456789abcdef0"
BASE_ARGS = {"instance_id": INSTANCE, "region": "ap-south-1"}


def listing(*statuses):
    """DescribeInstanceInformation answers: one per status, None for 'not registered yet'."""
    return [
        {"InstanceInformationList": [] if status is None else [
            {"InstanceId": INSTANCE, "PingStatus": status, "AgentVersion": "3.3.1142.0", "PlatformName": "Amazon Linux"}
        ]}
        for status in statuses
    ]


@pytest.fixture
def ssm(aws_client):
    return aws_client


def test_without_wait_it_reports_once(ssm, run_module):
    ssm.describe_instance_information.side_effect = listing(None)
    result = run_module(module_under_test.main, BASE_ARGS)
    assert (result["changed"], result["registered"], result["online"], result["ping_status"]) == (False, False, False, None)
    assert ssm.describe_instance_information.call_count == 1
    kwargs = ssm.describe_instance_information.call_args.kwargs
    assert kwargs["Filters"] == [{"Key": "InstanceIds", "Values": [INSTANCE]}]


def test_an_online_agent_is_reported_with_its_details(ssm, run_module):
    ssm.describe_instance_information.side_effect = listing("Online")
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait": True})
    assert (result["registered"], result["online"], result["ping_status"]) == (True, True, "Online")
    assert result["instance_information"]["agent_version"] == "3.3.1142.0"
    assert result["waited"] == 0


def test_wait_looks_again_until_the_agent_registers_and_is_online(ssm, run_module):
    ssm.describe_instance_information.side_effect = listing(None, None, "ConnectionLost", "Online")
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait": True})
    assert result["online"] is True
    assert ssm.describe_instance_information.call_count == 4


def test_wait_gives_up_at_the_deadline_naming_the_last_status(ssm, run_module, clock):
    clock(100)
    ssm.describe_instance_information.side_effect = listing(*["ConnectionLost"] * 20)
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait": True, "wait_timeout": 250})
    assert result["failed"] is True
    assert result["msg"] == f"The SSM agent of {INSTANCE} is not Online in Systems Manager after 250 s (last seen: ConnectionLost)"
    assert result["ping_status"] == "ConnectionLost"
    assert ssm.describe_instance_information.call_count < 20


def test_an_instance_that_never_registers_is_named_so(ssm, run_module, clock):
    clock(100)
    ssm.describe_instance_information.side_effect = listing(*[None] * 20)
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait": True, "wait_timeout": 250})
    assert result["failed"] is True
    assert result["msg"].endswith("(last seen: not registered)")
    assert result["registered"] is False


def test_another_instance_in_the_answer_is_not_taken_for_this_one(ssm, run_module):
    ssm.describe_instance_information.return_value = {
        "InstanceInformationList": [{"InstanceId": "i-other", "PingStatus": "Online"}]
    }
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["registered"] is False


def test_a_negative_timeout_is_refused(ssm, run_module):
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait": True, "wait_timeout": -1})
    assert result["failed"] is True
    assert "wait_timeout must be 0 or more" in result["msg"]
    ssm.describe_instance_information.assert_not_called()


def test_api_errors_fail_with_the_aws_error(ssm, run_module):
    ssm.describe_instance_information.side_effect = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeInstanceInformation"
    )
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["failed"] is True
    assert result["error"]["code"] == "AccessDeniedException"
    assert INSTANCE in result["msg"]


def test_check_mode_reads_like_a_normal_run(ssm, run_module):
    ssm.describe_instance_information.side_effect = listing("Online")
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait": True, "_ansible_check_mode": True})
    assert (result["changed"], result["online"]) == (False, True)
