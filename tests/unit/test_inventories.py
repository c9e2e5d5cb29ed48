"""Static checks over inventories/aws, for what cannot run here (no AWS): how the app host is
reached over SSM and SSH. Values are read as Ansible renders them for the host."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "harness"))
from inventory import rendered  # noqa: E402  pylint: disable=wrong-import-position


def test_ssm_commands_may_run_for_as_long_as_the_stack_says():
    # amazon.aws.aws_ssm cuts every command off after 60 s by default: far shorter than a build.
    assert rendered("inventories/aws", "mecove-app", "ansible_aws_ssm_timeout") == 1200


def test_ssh_accepts_a_new_host_key_for_the_app_host_only_and_never_a_changed_one():
    assert "StrictHostKeyChecking=accept-new" in rendered("inventories/aws", "mecove-app", "ansible_ssh_common_args")
    assert "is undefined" in str(rendered("inventories/aws", "localhost", "ansible_ssh_common_args"))
    for path in [REPO / "ansible.cfg", *(REPO / "inventories").rglob("*.yml")]:
        assert "StrictHostKeyChecking=no" not in path.read_text(), path


@pytest.mark.parametrize("inventory", ["inventories/aws", "inventories/local"])
def test_the_app_host_is_reached_as_a_user_that_becomes_root_as_over_ssm(inventory):
    assert rendered(inventory, "mecove-app", "ansible_connection") in (
        "amazon.aws.aws_ssm", "community.docker.docker")
    if inventory == "inventories/local":
        # The stand-in host: as ssm-user, the account the SSM agent creates on EC2.
        assert rendered(inventory, "mecove-app", "ansible_user") == "ssm-user"
