"""Verify the redis role on the converged container (testinfra, run by molecule verify)."""

import re

import pytest

# Names the role uses per platform (roles/redis/vars/<os family>.yml).
NAMES = {
    "debian": {"service": "redis-server", "cli": "redis-cli"},
    "amzn": {"service": "redis6", "cli": "redis6-cli"},
}


@pytest.fixture(scope="module")
def names(host):
    return NAMES[host.system_info.distribution]


def cli(host, names, *args):
    result = host.run(" ".join([names["cli"], "-p", "6379", *args]))
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def test_service_enabled_and_running(host, names):
    service = host.service(names["service"])
    assert service.is_enabled
    assert service.is_running


def test_listens_on_6379_on_loopback_only(host):
    listeners = host.run("ss -Hltn 'sport = :6379'").stdout.split("\n")
    addresses = {re.split(r"\s+", line)[3].rsplit(":", 1)[0] for line in listeners if line.strip()}
    expected = {"127.0.0.1"}
    if "inet6 ::1/128" in host.run("ip -6 addr show dev lo").stdout:
        expected.add("[::1]")  # IPv6 is optional in the role's bind line; used where present.
    assert addresses == expected


def test_ping_answers_pong(host, names):
    assert cli(host, names, "ping") == "PONG"


def test_maxmemory_policy_is_noeviction(host, names):
    assert cli(host, names, "CONFIG", "GET", "maxmemory-policy").split() == [
        "maxmemory-policy",
        "noeviction",
    ]


def test_maxmemory_comes_from_the_role(host, names):
    # molecule.yml sets redis_maxmemory: 128mb
    assert cli(host, names, "CONFIG", "GET", "maxmemory").split() == ["maxmemory", str(128 * 1024**2)]


def test_append_only_file_is_on(host, names):
    assert cli(host, names, "CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]
    assert cli(host, names, "CONFIG", "GET", "appendfsync").split() == ["appendfsync", "everysec"]


def test_config_file_is_not_world_readable(host):
    config = host.file("/etc/redis/redis.conf")
    assert config.user == "root"
    assert config.group == "redis"
    assert config.mode == 0o640


def test_key_survives_a_restart(host, names):
    cli(host, names, "SET", "molecule:persisted", "still-here")
    # With appendfsync everysec a write is on disk within about a second; a clean restart
    # (SIGTERM) also flushes the AOF, so this asserts persistence, not luck.
    assert host.run(f"systemctl restart {names['service']}").rc == 0
    for _attempt in range(30):
        if host.run(f"{names['cli']} -p 6379 ping").stdout.strip() == "PONG":
            break
        host.run("sleep 1")
    assert cli(host, names, "GET", "molecule:persisted") == "still-here"
    cli(host, names, "DEL", "molecule:persisted")


def test_the_kernel_may_overcommit_for_the_rewrite_fork(host):
    # Applied on a real host; in this container (read-only /proc/sys) the file is what there is.
    setting = host.file("/etc/sysctl.d/60-mecove-redis.conf")
    assert setting.user == "root"
    assert re.search(r"^vm\.overcommit_memory\s*=\s*1$", setting.content_string, re.M)
