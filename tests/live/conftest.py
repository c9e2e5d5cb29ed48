"""Which host the suite checks, and what it expects there.

    pytest tests/live                                   the local stand-in host (make demo)
    pytest tests/live --inventory inventories/aws       the live EC2 host, over SSH

The host comes from the inventory: a docker connection (the local stand-in) is checked through
the Docker engine; on AWS the suite reaches the host the way configure does (mecove_app_connection):
over SSH as the provisioned user with the key provisioning saved (both named in
<inventory>/group_vars/all/provision_outputs.yml), with sudo; or over SSM, where each command
goes through ansible with the inventory's aws_ssm connection (slower, but no open port).
What the suite expects (domain, TLS mode, pinned versions) is the inventory's value where it
sets one, else the role's default: the same values configure.yml applies.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import testinfra
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
from inventory import rendered  # noqa: E402  pylint: disable=wrong-import-position

REPO = Path(__file__).resolve().parents[2]
APP_HOST = "mecove-app"  # the app group's host in both inventories
PROBE = Path(__file__).with_name("https_probe.py")
PROBE_ON_HOST = "/tmp/mecove-live-https-probe.py"
CADDY_LOCAL_ROOT = "/var/lib/caddy/storage/pki/authorities/local/root.crt"


def pytest_addoption(parser):
    group = parser.getgroup("mecove live host")
    group.addoption("--inventory", default="inventories/local",
                    help="inventory of the stack to check: inventories/local (default) or inventories/aws")


@dataclass(frozen=True)
class Target:
    """The host under test and the settings configure.yml applied to it."""

    spec: str
    live: bool
    hostvars: dict

    def setting(self, name: str, role: str):
        """The inventory's value of a role variable, else the role's default."""
        value = self.hostvars.get(name)
        if value is None or (isinstance(value, str) and "{{" in value):
            defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
            value = defaults[name]
        return value

    @property
    def internal_tls(self) -> bool:
        """Caddy's own CA signs the site's certificate (caddy_tls_mode=internal: local hosts)."""
        return self.setting("caddy_tls_mode", "caddy") == "internal"

    @property
    def domain(self) -> str:
        # configure.yml: caddy_domain is mecove_domain, which it requires.
        return self.hostvars["mecove_domain"]


def inventory_hostvars(inventory: Path) -> dict:
    """The app host's variables as the inventory sets them (templates are left unrendered)."""
    result = subprocess.run(
        ["ansible-inventory", "-i", str(inventory), "--host", APP_HOST],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise pytest.UsageError(f"ansible-inventory -i {inventory} --host {APP_HOST} failed:\n{result.stderr}")
    hostvars = json.loads(result.stdout)
    outputs = inventory / "group_vars" / "all" / "provision_outputs.yml"
    if outputs.exists():
        hostvars.update(yaml.safe_load(outputs.read_text()))
    return hostvars


@pytest.fixture(scope="session")
def target(pytestconfig) -> Target:
    inventory = (REPO / pytestconfig.getoption("inventory")).resolve()
    hostvars = inventory_hostvars(inventory)
    if hostvars.get("ansible_connection") in ("docker", "community.docker.docker"):
        return Target(spec=f"docker://{hostvars['ansible_host']}", live=False, hostvars=hostvars)
    outputs = hostvars.get("mecove_aws_outputs")
    if not outputs:
        raise pytest.UsageError(f"no provisioning outputs in {inventory}/group_vars/all: run aws_provision first")
    try:
        connection = rendered(inventory, APP_HOST, "mecove_app_connection")
    except ValueError as error:
        raise pytest.UsageError(str(error)) from error
    if connection == "ssh":
        spec = f"ssh://{outputs['ssh_user']}@{outputs['elastic_ip']}?ssh_identity_file={outputs['ssh_private_key_path']}"
    else:
        spec = f"ansible://{APP_HOST}?ansible_inventory={inventory}&force_ansible=true"
    return Target(spec=spec, live=True, hostvars=hostvars)


@pytest.fixture(scope="session")
def host(target):
    """testinfra's host, as root (sudo on the live host, where the suite logs in as ec2-user)."""
    return testinfra.get_host(target.spec, sudo=target.live)


@pytest.fixture(scope="module")
def probe(host, target):
    """Run https_probe.py on the host: one request to its own Caddy, verified for the domain
    (against Caddy's local CA with caddy_tls_mode=internal, the system trust store otherwise)."""
    encoded = base64.b64encode(PROBE.read_bytes()).decode()
    copied = host.run(f"echo {encoded} | base64 -d > {PROBE_ON_HOST}")
    assert copied.rc == 0, copied.stderr
    cafile = CADDY_LOCAL_ROOT if target.internal_tls else ""

    def request(scheme, domain, path="/"):
        port = 443 if scheme == "https" else 80
        result = host.run(f"python3 {PROBE_ON_HOST} {scheme} {port} {domain} '{path}' {cafile}")
        assert result.rc == 0, result.stderr
        return json.loads(result.stdout)

    yield request
    host.run(f"rm -f {PROBE_ON_HOST}")
