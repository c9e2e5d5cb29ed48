"""Bad input fails before anything changes, with a message that names the variable.

Each case runs a role (or playbook) with one invalid value, in check mode, against this
machine, and asserts the run failed, that the message names the variable, and that it failed
in the input checks: no task after them ran (the PLAY RECAP shows no change and the output has
none of the role's later tasks).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# (role, variables, text the error must contain)
ROLE_CASES = [
    ("redis", {"redis_port": 70000}, "redis_port must be a TCP port from 1 to 65535"),
    ("redis", {"redis_port": "six"}, "redis_port"),
    ("redis", {"redis_maxmemory": "lots"}, "redis_maxmemory must be a number"),
    ("redis", {"redis_maxmemory": "256 mb"}, "redis_maxmemory must be a number"),
    ("redis", {"redis_persistence": "sometimes"}, "redis_persistence must be one of"),
    ("redis", {"redis_appendfsync": "hourly"}, "redis_appendfsync must be one of"),
    ("redis", {"redis_bind": ["0.0.0.0"]}, "redis_bind must list loopback addresses only"),
    ("redis", {"redis_maxmemory_policy": "allkeys-random-ish"}, "redis_maxmemory_policy must be one of"),
    ("chromium", {"chromium_font_sets": ["klingon"]}, "value of chromium_font_sets must be one or more of"),
    ("chromium", {"chromium_font_sets": ["latin", "latin"]}, "chromium_font_sets lists a font set twice"),
    ("chromium", {"chromium_extra_font_packages": ["fonts-x; rm -rf /"]},
     "chromium_extra_font_packages must hold package names only"),
    ("caddy", {"caddy_domain": "https://api.mecove.com"}, "caddy_domain must be a hostname"),
    ("caddy", {"caddy_domain": "api mecove.com"}, "caddy_domain must be a hostname"),
    ("caddy", {"caddy_tls_mode": "selfsigned"}, "caddy_tls_mode must be one of"),
    ("caddy", {"caddy_domain": "app.mecove.test"}, "can never get a public certificate with caddy_tls_mode=acme"),
    ("caddy", {"caddy_upstream": "http://127.0.0.1:3000"}, "caddy_upstream must be host:port"),
    ("caddy", {"caddy_acme_email": "nobody"}, "caddy_acme_email must be an e-mail address"),
    ("deploy_key", {}, "Set exactly one of deploy_key_private_key"),
    ("deploy_key", {"deploy_key_private_key": "not-a-key"}, "deploy_key_private_key does not hold an OpenSSH private key"),
    ("deploy_key", {"deploy_key_private_key": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"},
     "deploy_key_private_key does not hold an OpenSSH private key"),
    ("deploy_key", {"deploy_key_private_key": "x", "deploy_key_secret_id": "mecove/deploy-key"}, "Set exactly one of"),
    ("nodejs", {"nodejs_version": "latest"}, "nodejs_version must be an exact version MAJOR.MINOR.PATCH"),
    ("nodejs", {"nodejs_version": "v22.23.3"}, "nodejs_version must be an exact version MAJOR.MINOR.PATCH"),
    ("nodejs", {"nodejs_version": "20.19.0"}, "must belong to nodejs_major"),
    ("app_user", {"app_user_home_mode": "750x"}, "app_user_home_mode and app_user_logs_mode must be quoted octal modes"),
    ("nodejs", {"nodejs_install_root": "opt/nodejs"}, "nodejs_install_root and nodejs_bin_dir must be absolute paths"),
    ("pm2_app", {"pm2_app_processes": [{"name": "api"}]}, "missing required arguments: script found in pm2_app_processes"),
    ("pm2_app", {"pm2_app_processes": [{"name": "api", "script": " "}]}, "every PM2 process needs a script"),
    ("pm2_app", {"pm2_app_api_instances": "two"}, "pm2_app_api_instances"),
    ("pm2_app", {"pm2_app_logrotate_max_size": "lots"}, "pm2_app_logrotate_max_size must be a size such as 100M"),
    ("pm2_app", {"pm2_app_logrotate_period": "yearly"}, "value of pm2_app_logrotate_period must be one of"),
    ("pm2_app", {"pm2_app_max_memory": "lots"}, "max_memory_restart must be a memory size PM2 reads"),
    ("pm2_app", {"pm2_app_max_memory": "384MB"}, "max_memory_restart must be a memory size PM2 reads"),
    ("pm2_app", {"pm2_app_heap_mb": 16}, "pm2_app_heap_mb is V8's heap limit in MiB, 64 or more"),
    ("swap", {"swap_file_size": "lots"}, "swap_file_size must be a whole number with the unit M or G"),
    ("swap", {"swap_file_size": "2GB"}, "swap_file_size must be a whole number with the unit M or G"),
    ("swap", {"swap_file_path": "/tmp/swapfile"}, "swap_file_path must be an absolute path on a disk"),
    ("app_deploy", {"app_deploy_command_heap_mb": 32, "app_deploy_repo_url": "/srv/app.git"},
     "app_deploy_command_heap_mb is V8's heap limit in MiB of install, build and migrations"),
    ("app_deploy", {"app_deploy_dependency_files": ["../shared/package.json"], "app_deploy_repo_url": "/srv/app.git"},
     "app_deploy_dependency_dir must be empty or a folder name in the release"),
    ("app_deploy", {"app_deploy_dependency_dir": "/home/mecove/node_modules", "app_deploy_repo_url": "/srv/app.git"},
     "app_deploy_dependency_dir must be empty or a folder name in the release"),
    ("app_deploy", {"app_deploy_health_path": "health", "app_deploy_repo_url": "/srv/app.git"},
     "app_deploy_health_path must be a URL path such as /health"),
    ("app_deploy", {"app_deploy_health_expect": {"status": ["ok"]}, "app_deploy_repo_url": "/srv/app.git"},
     "app_deploy_health_expect must map top-level fields of the health answer to plain values"),
    ("app_deploy", {"app_deploy_health_expect": {"version": "1"}, "app_deploy_health_version_key": "version",
                    "app_deploy_repo_url": "/srv/app.git"},
     "and not name app_deploy_health_version_key ('version')"),
    ("pm2_app", {"pm2_app_graceful_exit": "sometimes"}, "pm2_app_graceful_exit"),
    ("cloudwatch_agent", {"cloudwatch_agent_stack_name": "bad stack"}, "cloudwatch_agent_stack_name must be"),
    ("cloudwatch_agent", {"cloudwatch_agent_log_files": [{"path": "relative.log", "log_group": "/g"}]},
     "every path must be an absolute file path"),
    ("cloudwatch_agent", {"cloudwatch_agent_mode": "cloud"}, "cloudwatch_agent_mode"),
]


def run_role(role, variables, host="localhost", **env_extra):
    extra = dict(variables, bad_input_role=role)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **env_extra)
    return subprocess.run(
        ["ansible-playbook", "--check", "-i", f"{host},", "-c", "local",
         "-e", json.dumps(extra), str(REPO / "tests" / "bad_input" / "apply_role.yml")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.parametrize(
    ("role", "variables", "message"), ROLE_CASES,
    ids=[f"{role}-{'-'.join(v)}-{i}" for i, (role, v, _message) in enumerate(ROLE_CASES)],
)
def test_role_rejects_bad_input_before_any_change(role, variables, message):
    result = run_role(role, variables)
    output = " ".join((result.stdout + result.stderr).split())  # folded: messages wrap
    assert result.returncode != 0, output
    assert message in output, output
    assert "changed=0" in output
    # A rejected secret is never echoed back.
    if "deploy_key_private_key" in variables and len(variables["deploy_key_private_key"]) > 1:
        assert variables["deploy_key_private_key"] not in result.stdout + result.stderr
    # The platform preflight is the first thing after the input checks: it must not have run.
    assert "Check that the host runs Debian 12 or Amazon Linux 2023" not in output


def test_an_unsupported_os_is_refused_before_any_change(tmp_path):
    """The host's facts say CentOS 7. They are put in Ansible's fact cache (jsonfile) by Ansible
    itself (cacheable set_fact), and the play reads them as it would a gathered host's facts.
    Every role starts with the platform preflight."""
    cache = {"ANSIBLE_CACHE_PLUGIN": "jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path),
             "ANSIBLE_GATHERING": "explicit"}
    subprocess.run(["ansible", "all", "-i", "centos-box,", "-c", "local", "-m", "ansible.builtin.set_fact", "-a",
                    "ansible_distribution=CentOS ansible_distribution_major_version=7 ansible_os_family=RedHat "
                    "cacheable=true"], env=dict(os.environ, **cache), capture_output=True, check=True, timeout=120)
    result = run_role("redis", {}, host="centos-box", **cache)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert ("centos-box runs CentOS 7 (RedHat family); the mecove.platform roles support Debian 12 and Amazon "
            "Linux 2023 only") in output, output
    assert "os_base_allow_untested=true" in output
    assert "changed=0" in output


# What aws_provision writes to the outputs, as far as configure's checks read it.
AWS_OUTPUTS = {"instance_id": "i-0123456789abcdef0", "region": "ap-south-1", "elastic_ip": "198.51.100.7"}


@pytest.mark.parametrize(("variables", "message"), [
    # No outputs file: configure looks for the stack in AWS, and says why it cannot.
    ({}, "Failed to describe instances: Unable to locate credentials"),
    ({"mecove_aws_outputs": AWS_OUTPUTS}, "mecove_domain is not set: set it in"),
    ({"mecove_aws_outputs": AWS_OUTPUTS, "mecove_domain": "api.example.com"},
     "mecove_domain (api.example.com) is a placeholder"),
], ids=["no-outputs-no-credentials", "no-domain", "example-domain"])
def test_configure_on_aws_refuses_a_missing_domain_before_it_connects(variables, message):
    """inventories/aws as committed, no credentials: the checks run on the controller, so the
    run fails with the message and never reaches the host (no facts gathered). No AWS request
    leaves this machine: no credentials, and none looked for in the instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", "inventories/aws", "-e", json.dumps(variables), "playbooks/configure.yml"],
        cwd=REPO, env=dict(env, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        capture_output=True, text=True, timeout=300, check=False,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert message in output, output
    assert "Gather the host's facts" not in output and "unreachable=0" in output, output


TYPOS = {"mecove_ec2_instnce_type": "t4g.medium", "app_deploy_reff": "v1.4.0"}


@pytest.mark.parametrize("playbook", ["aws_provision", "aws_teardown", "configure", "deploy", "rollback"])
def test_every_playbook_names_a_misspelt_setting_first(playbook):
    """inventories/aws with no credentials: each playbook warns about the two typos (one of the
    inventory's namespace, one of a role's) with what they resemble, before its first check or
    AWS call fails; without typos, no such warning."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    outputs = []
    for variables in (TYPOS, {}):
        result = subprocess.run(
            ["ansible-playbook", "--check", "-i", "inventories/aws", "-e", json.dumps(variables),
             f"playbooks/{playbook}.yml"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        outputs.append(" ".join((result.stdout + result.stderr).split()))
        assert result.returncode != 0, outputs[-1]  # no credentials (teardown: no confirmation)
    with_typos, without = outputs
    assert ("WARNING: no part of mecove.platform reads app_deploy_reff (did you mean app_deploy_ref?), "
            "mecove_ec2_instnce_type (did you mean mecove_ec2_instance_type?): they have no effect.") in with_typos, \
        with_typos
    assert with_typos.index("WARNING: no part of") < with_typos.index("fatal:")
    assert "no part of mecove.platform reads" not in without, without
