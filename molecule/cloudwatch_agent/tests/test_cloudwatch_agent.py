"""Verify the cloudwatch_agent role (testinfra, run by molecule verify).

The agent itself is NOT installed in this scenario (see molecule.yml): these tests check the
configuration the role rendered, the file permissions, the agent account's read access, and how
the role wires the service and the configuration reload, against stand-ins for the package.
"""

import json

import pytest

CONFIG = "/etc/amazon-cloudwatch-agent/mecove-logs.json"
CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
CTL_CALLS = "/var/log/cwagent-ctl-standin.log"  # written by the stand-in control script
STACK = "mecove-mvp"
EXPECTED_FILES = {
    "/home/mecove/logs/api-out.log": f"/ec2/{STACK}/api",
    "/home/mecove/logs/api-error.log": f"/ec2/{STACK}/api",
    "/home/mecove/logs/worker-out.log": f"/ec2/{STACK}/worker",
    "/home/mecove/logs/worker-error.log": f"/ec2/{STACK}/worker",
    "/var/log/caddy/access.log": f"/ec2/{STACK}/caddy",
}


@pytest.fixture(scope="module")
def config(host):
    return json.loads(host.file(CONFIG).content_string)


def test_config_ships_each_file_to_its_group_exactly(config):
    collect = config["logs"]["logs_collected"]["files"]["collect_list"]
    assert {entry["file_path"]: entry["log_group_name"] for entry in collect} == EXPECTED_FILES
    assert len(collect) == len(EXPECTED_FILES)  # no file twice


def test_every_stream_is_named_after_the_instance(config):
    collect = config["logs"]["logs_collected"]["files"]["collect_list"]
    assert {entry["log_stream_name"] for entry in collect} == {"{instance_id}"}


def test_config_runs_the_agent_as_cwagent_and_sets_no_retention_or_metrics(config):
    assert config["agent"] == {"run_as_user": "cwagent"}
    assert set(config) == {"agent", "logs"}  # no metrics: the instance role may write logs only
    assert "retention_in_days" not in json.dumps(config)  # provisioning owns the retention


def test_config_file_is_root_owned_and_outside_the_agent_folder(host):
    config = host.file(CONFIG)
    assert (config.user, config.group, config.mode) == ("root", "root", 0o644)
    # The agent's fetch-config deletes etc/amazon-cloudwatch-agent.json; ours must not be there.
    assert not host.file("/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json").exists


def test_agent_account_is_a_locked_system_account_in_no_other_group(host):
    cwagent = host.user("cwagent")
    assert cwagent.exists
    assert cwagent.uid < 1000
    assert cwagent.group == "cwagent"
    assert set(cwagent.groups) == {"cwagent"}  # read access must not depend on groups
    assert cwagent.shell in ("/sbin/nologin", "/usr/sbin/nologin")


def read_as_agent(host, path):
    """Read a file as the agent's account with no supplementary groups at all: the agent applies
    them to one thread only (aws/amazon-cloudwatch-agent issues 943 and 1140)."""
    return host.run(f"setpriv --reuid=cwagent --regid=cwagent --clear-groups head -c 1 {path}")


def owner_of(path):
    return "caddy" if path.startswith("/var/log/caddy/") else "mecove"


def test_agent_account_reads_every_shipped_file_without_groups_and_others_do_not(host):
    # PM2 creates its log files as the app user with umask 022; create them the same way.
    for path in EXPECTED_FILES:
        if owner_of(path) == "mecove":
            assert host.run(f"sudo -u mecove sh -c 'umask 022; echo probe >> {path}'").rc == 0
    for path in EXPECTED_FILES:
        read = read_as_agent(host, path)
        assert read.rc == 0, f"cwagent without groups cannot read {path}: {read.stderr}"
        # The 0750 folders keep an unprivileged account out.
        assert host.run(f"sudo -u nobody head -c 1 {path}").rc != 0, f"{path} is readable by anyone"


def test_agent_account_reads_a_log_created_after_a_rotation(host):
    # A rotation that moves the file away and lets the writer create a new one: PM2 with umask
    # 022, Caddy's roll with its 0640 mode. The new files get the agent's access from the folder.
    umask = {"mecove": "022", "caddy": "027"}
    for path in EXPECTED_FILES:
        owner = owner_of(path)
        rotated = host.run(f"sudo -u {owner} sh -c 'umask {umask[owner]}; mv {path} {path}.1 && echo new >> {path}'")
        assert rotated.rc == 0, rotated.stderr
        read = read_as_agent(host, path)
        assert read.rc == 0, f"cwagent cannot read {path} after a rotation: {read.stderr}"
        assert read_as_agent(host, f"{path}.1").rc == 0
        assert host.run(f"sudo -u nobody head -c 1 {path}").rc != 0


def test_service_is_enabled_at_boot(host):
    # The unit is the scenario's stand-in (same name as the package's); enabling it is the role's work.
    assert host.service("amazon-cloudwatch-agent").is_enabled


def test_configuration_was_loaded_once_with_fetch_config(host):
    # Converge changed the configuration once; idempotence and check runs must not reload it.
    calls = host.file(CTL_CALLS).content_string.splitlines()
    assert calls == [f"-a fetch-config -m ec2 -s -c file:{CONFIG}"]
