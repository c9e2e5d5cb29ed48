"""Checks every scenario shares (added to each verify by .config/molecule/config.yml)."""

import os

# The harness's MECOVE_TEST_ARCH (arm64 by default) and what `uname -m` prints for it.
EXPECTED_MACHINE = {"arm64": "aarch64", "amd64": "x86_64"}[os.environ.get("MECOVE_TEST_ARCH", "arm64")]


def test_container_runs_the_requested_architecture(host):
    assert host.system_info.arch == EXPECTED_MACHINE


def test_systemd_is_running_without_failed_units(host):
    state = host.run("systemctl is-system-running --wait").stdout.strip()
    failed = host.run("systemctl list-units --failed --no-legend --plain").stdout.strip()
    assert state == "running", failed
