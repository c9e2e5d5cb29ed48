"""Unit tests of mecove.platform.rds_master_user_secret with a mocked boto3 RDS client (no network)."""

import botocore.exceptions
import pytest
from ansible_collections.mecove.platform.plugins.modules import rds_master_user_secret as module_under_test

SECRET_ARN = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:rds!db-1234-AbCdEf"
DB_ARN = "arn:aws:rds:ap-south-1:123456789012:db:mecove-mvp"
BASE_ARGS = {"db_instance_identifier": "mecove-mvp", "region": "ap-south-1"}


def instance(status="available", secret_status=None):
    described = {"DBInstanceIdentifier": "mecove-mvp", "DBInstanceArn": DB_ARN, "DBInstanceStatus": status}
    if secret_status:
        described["MasterUserSecret"] = {
            "SecretArn": SECRET_ARN,
            "SecretStatus": secret_status,
            "KmsKeyId": "arn:aws:kms:ap-south-1:123456789012:key/abc",
        }
    return {"DBInstances": [described]}


def client_error(code, operation):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, operation)


@pytest.fixture
def rds(aws_client):
    return aws_client


def test_already_managed_is_unchanged_and_returns_the_arn(rds, run_module):
    rds.describe_db_instances.return_value = instance(secret_status="active")
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["changed"] is False
    assert result["secret_arn"] == SECRET_ARN
    assert result["db_instance_arn"] == DB_ARN
    assert result["master_user_secret"]["secret_status"] == "active"
    rds.modify_db_instance.assert_not_called()


def test_turns_management_on_and_waits_for_the_secret(rds, run_module):
    rds.describe_db_instances.side_effect = [
        instance(),  # before: plain password
        instance(status="modifying", secret_status="creating"),
        instance(status="available", secret_status="active"),
    ]
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["changed"] is True
    assert result["secret_arn"] == SECRET_ARN
    rds.modify_db_instance.assert_called_once()
    kwargs = rds.modify_db_instance.call_args.kwargs
    assert kwargs["DBInstanceIdentifier"] == "mecove-mvp"
    assert kwargs["ManageMasterUserPassword"] is True
    assert kwargs["ApplyImmediately"] is True
    assert "MasterUserPassword" not in kwargs


def test_waits_for_a_new_instance_to_be_available_before_modifying(rds, run_module):
    rds.describe_db_instances.side_effect = [
        instance(status="creating"),
        instance(status="backing-up"),
        instance(status="available"),
        instance(status="available", secret_status="active"),
    ]
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["changed"] is True
    assert rds.describe_db_instances.call_count == 4
    rds.modify_db_instance.assert_called_once()


def test_check_mode_reports_the_change_without_making_it(rds, run_module):
    rds.describe_db_instances.return_value = instance()
    result = run_module(module_under_test.main, {**BASE_ARGS, "_ansible_check_mode": True})
    assert result["changed"] is True
    assert result["secret_arn"] is None
    rds.modify_db_instance.assert_not_called()


def test_check_mode_tolerates_an_instance_that_does_not_exist_yet(rds, run_module):
    rds.describe_db_instances.side_effect = client_error("DBInstanceNotFound", "DescribeDBInstances")
    result = run_module(module_under_test.main, {**BASE_ARGS, "_ansible_check_mode": True})
    assert result["changed"] is True
    assert result["secret_arn"] is None
    assert "does not exist" in result["msg"]


def test_missing_instance_fails_outside_check_mode(rds, run_module):
    rds.describe_db_instances.side_effect = client_error("DBInstanceNotFound", "DescribeDBInstances")
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["failed"] is True
    assert "mecove-mvp does not exist" in result["msg"]
    rds.modify_db_instance.assert_not_called()


def test_aws_errors_fail_the_amazon_aws_way(rds, run_module):
    rds.describe_db_instances.return_value = instance()
    rds.modify_db_instance.side_effect = client_error("InvalidDBInstanceState", "ModifyDBInstance")
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to turn on the RDS-managed master password of mecove-mvp")
    # fail_json_aws adds the boto3 error details in snake case
    assert result["error"]["code"] == "InvalidDBInstanceState"


def test_describe_errors_other_than_not_found_fail(rds, run_module):
    rds.describe_db_instances.side_effect = client_error("AccessDenied", "DescribeDBInstances")
    result = run_module(module_under_test.main, BASE_ARGS)
    assert result["failed"] is True
    assert result["error"]["code"] == "AccessDenied"


def test_wait_gives_up_after_the_timeout(rds, run_module, clock):
    clock(100)
    rds.describe_db_instances.return_value = instance(status="modifying", secret_status="creating")
    result = run_module(module_under_test.main, {**BASE_ARGS, "wait_timeout": 250})
    assert result["failed"] is True
    assert "Timed out after 250s" in result["msg"]
    rds.modify_db_instance.assert_not_called()  # already managed: nothing to modify, only waiting


def test_without_apply_immediately_it_does_not_wait_for_the_secret(rds, run_module):
    rds.describe_db_instances.side_effect = [instance(), instance(status="available")]
    result = run_module(module_under_test.main, {**BASE_ARGS, "apply_immediately": False})
    assert result["changed"] is True
    assert result["secret_arn"] is None
    assert rds.modify_db_instance.call_args.kwargs["ApplyImmediately"] is False
