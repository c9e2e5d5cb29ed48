"""What configure.yml promises about the app host, checked on the host itself.

Runs unchanged against the local stand-in host and the live EC2 host (see conftest.py). Checks
that only mean something on the live host are skipped elsewhere, with the reason shown.
"""

from __future__ import annotations

import base64
import json
import platform
import re

import pytest

LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|\[?::1\]?|\[::ffff:127\.\d+\.\d+\.\d+\])$")
PUBLIC_PORTS = {22, 80, 443}
# Per distribution (ID of /etc/os-release), what the roles' vars/<os family>.yml install.
CHROMIUM = {"debian": "/usr/bin/chromium", "amzn": "/usr/bin/chromium-browser"}
CLOUDWATCH_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
# The Arm core of each Graviton generation ("CPU part" of /proc/cpuinfo), by instance family:
# t4g and the 6th generation are Graviton2 (Neoverse N1), the 7th Graviton3, the 8th Graviton4.
GRAVITON_CORE = {"t4g": "0xd0c", "6": "0xd0c", "7": "0xd40", "8": "0xd4f"}


def live_only(target, why):
    if not target.live:
        pytest.skip(f"live host only: {why}")


def listeners(host):
    """(address, port) of every listening TCP socket."""
    result = host.run("ss -Hltn")
    assert result.rc == 0, result.stderr
    sockets = []
    for line in result.stdout.splitlines():
        local = line.split()[3]
        address, _sep, port = local.rpartition(":")
        sockets.append((address.split("%")[0], int(port)))
    assert sockets, result.stdout
    return sockets


@pytest.mark.parametrize("unit", ["caddy", "redis", "pm2"])
def test_the_service_is_enabled_and_running(host, target, unit):
    name = {
        "caddy": "caddy",
        # Amazon Linux 2023: the unit of the engine configure chose (valkey or redis6).
        "redis": "redis-server" if host.system_info.distribution == "debian" else target.setting("redis_amazon_engine", "redis"),
        "pm2": f"pm2-{target.setting('pm2_app_user', 'pm2_app')}",
    }[unit]
    service = host.service(name)
    assert service.is_enabled, name
    assert service.is_running, name


def test_the_cloudwatch_agent_is_enabled_and_running(host, target):
    if not host.file(CLOUDWATCH_CTL).exists:
        if target.live:
            pytest.fail(f"the CloudWatch agent is not installed ({CLOUDWATCH_CTL} is missing)")
        pytest.skip("the CloudWatch agent is not installed on this host: the local stand-in cannot download it")
    status = host.run(f"{CLOUDWATCH_CTL} -a status")
    assert status.rc == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "running", status.stdout
    assert host.service("amazon-cloudwatch-agent").is_enabled


def test_only_ssh_http_and_https_listen_beyond_loopback(host):
    exposed = sorted({(address, port) for address, port in listeners(host)
                      if not LOOPBACK.match(address) and port not in PUBLIC_PORTS})
    assert not exposed, f"listening beyond loopback on other ports than {sorted(PUBLIC_PORTS)}: {exposed}"


@pytest.mark.parametrize("port", [6379, 3000])
def test_redis_and_the_api_listen_on_loopback_only(host, port):
    addresses = [address for address, listening in listeners(host) if listening == port]
    if port == 3000 and not addresses:
        pytest.skip("nothing listens on 3000: no app is deployed on this host yet")
    assert addresses, f"nothing listens on {port}"
    assert all(LOOPBACK.match(address) for address in addresses), addresses


def test_http_redirects_to_https(target, probe):
    answer = probe("http", target.domain, "/some/path?q=1")
    assert answer["status"] in (301, 308), answer
    assert answer["headers"]["location"] == f"https://{target.domain}/some/path?q=1", answer


def test_https_presents_a_certificate_valid_for_the_domain_with_hsts(host, target, probe):
    # tls internal (local hosts): Caddy's own CA signed it; acme: the system trust store must accept it.
    if target.live and target.internal_tls:
        pytest.fail("the live host serves a certificate of Caddy's internal CA (caddy_tls_mode=internal)")
    answer = probe("https", target.domain, "/")
    assert "tls_error" not in answer, answer
    assert re.match(r"max-age=\d{7,}", answer["headers"].get("strict-transport-security", "")), answer["headers"]


def test_node_pnpm_and_pm2_are_the_pinned_versions_for_the_app_user(host, target):
    user = target.setting("app_user_name", "app_user")
    expected = {
        "node -v": f"v{target.setting('nodejs_version', 'nodejs')}",
        "pnpm -v": target.setting("nodejs_pnpm_version", "nodejs"),
        "pm2 -v": target.setting("nodejs_pm2_version", "nodejs"),
        "node -p process.arch": {"aarch64": "arm64", "x86_64": "x64"}[host.system_info.arch],
    }
    for command, version in expected.items():
        # A login shell of the app user: what an operator (or the deploy) gets on the host.
        result = host.run(f"runuser -l {user} -c 'cd && {command}'")
        assert result.rc == 0, f"{command}: {result.stderr}"
        assert result.stdout.strip().splitlines()[-1] == version, f"{command}: {result.stdout}"


def test_the_app_logs_belong_to_the_app_user_and_are_rotated(host, target):
    user = target.setting("app_user_name", "app_user")
    logs = host.file(f"/home/{user}/logs")
    assert logs.is_directory
    assert logs.user == user
    assert not logs.mode & 0o007, oct(logs.mode)
    # logrotate's dry run of the pm2_app policy: it parses, and it covers the folder's logs.
    policy = f"/etc/logrotate.d/pm2-{target.setting('pm2_app_user', 'pm2_app')}"
    dry_run = host.run(f"logrotate -d {policy}")
    assert dry_run.rc == 0, dry_run.stderr
    assert f"/home/{user}/logs/*.log" in dry_run.stdout + dry_run.stderr


def test_chromium_renders_a_pdf_with_devanagari_fonts(host):
    executable = CHROMIUM[host.system_info.distribution]
    families = host.run("fc-list : family").stdout
    assert "Noto Sans Devanagari" in families, families
    flags = "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --no-pdf-header-footer"
    if host.system_info.arch != platform.machine():
        # QEMU user-mode emulation only (see molecule/chromium): the zygote and GPU process crash there.
        flags += " --no-zygote --in-process-gpu"
    work = "/tmp/mecove-live-render"
    page = base64.b64encode("<meta charset=utf-8><h1>Invoice नमस्ते</h1>".encode()).decode()
    result = host.run(
        f"rm -rf {work} && install -d -o nobody -m 0700 {work} && echo {page} | base64 -d > {work}/page.html "
        f"&& chown nobody: {work}/page.html && cd {work} && timeout 300 runuser -u nobody -- env HOME={work} "
        f"{executable} {flags} --user-data-dir={work}/profile --print-to-pdf={work}/page.pdf file://{work}/page.html "
        f"&& head -c 5 {work}/page.pdf"
    )
    host.run(f"rm -rf {work}")
    assert result.rc == 0, result.stderr[-3000:]
    assert result.stdout.endswith("%PDF-"), result.stdout[-200:]


def test_imdsv2_is_required(host, target):
    live_only(target, "the instance metadata service exists on EC2 only")
    # No token: IMDSv2 required means IMDSv1 requests are refused with 401.
    script = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        "    urllib.request.urlopen('http://169.254.169.254/latest/meta-data/instance-id', timeout=5)\n"
        "    print(200)\n"
        "except urllib.error.HTTPError as error:\n"
        "    print(error.code)\n"
    )
    result = host.run(f"python3 -c \"{script}\"")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "401", result.stdout


def fstab_lines(host, path):
    fstab = host.file("/etc/fstab")
    return [line for line in (fstab.content_string.splitlines() if fstab.exists else []) if line.split()[:1] == [path]]


def test_the_swap_file_is_on_readable_by_root_only_and_kept_at_boot(host, target):
    """A t4g.small has 2 GiB and no swap of its own; a host whose kernel is not its own (the local
    container) has swap_file_size 0, and no swap file may be left there."""
    size, path = str(target.setting("swap_file_size", "swap")), target.setting("swap_file_path", "swap")
    if size == "0":
        assert not host.file(path).exists and not fstab_lines(host, path)
        return
    swap = host.file(path)
    assert (swap.user, swap.group, swap.mode) == ("root", "root", 0o600)
    assert swap.size == int(size[:-1]) * {"M": 1024 ** 2, "G": 1024 ** 3}[size[-1]]
    assert path in host.run("swapon --show=NAME --noheadings --raw").stdout.split()
    assert [line.split()[1:4] for line in fstab_lines(host, path)] == [["none", "swap", "sw"]]
    assert host.file("/proc/sys/vm/swappiness").content_string.strip() == str(target.setting("swap_swappiness", "swap"))


def test_the_overcommit_setting_redis_needs_is_kept_for_boot(host):
    setting = host.file("/etc/sysctl.d/60-mecove-redis.conf")
    assert re.search(r"^vm\.overcommit_memory\s*=\s*1$", setting.content_string, re.M), setting.content_string


def test_the_kernel_lets_redis_fork_for_its_rewrite(host, target):
    live_only(target, "vm.* is the kernel's: the local container shares this machine's and cannot set it")
    assert host.file("/proc/sys/vm/overcommit_memory").content_string.strip() == "1"


def test_every_process_sees_the_cpu_of_the_instance_type(host, target):
    """The stand-in runs on an emulated CPU: it must be the one of mecove_ec2_instance_type, for
    the processes systemd starts and those of the app user's login too (not QEMU's default)."""
    instance_type = target.hostvars["mecove_ec2_instance_type"]  # inventories/aws/group_vars/all/aws_stack.yml
    family = instance_type.split(".")[0]
    generation = re.match(r"^[a-z]+(\d)g[a-z]*$", family)
    core = GRAVITON_CORE.get(family) or (GRAVITON_CORE.get(generation.group(1)) if generation else None)
    if core is None:
        pytest.skip(f"no Graviton core known for {instance_type}")
    user = target.setting("app_user_name", "app_user")
    read = "sed -n 's/^CPU part[[:space:]]*: //p' /proc/cpuinfo | sort -u"
    for how, command in {"a root shell": read,
                         "a systemd service": f"systemd-run --quiet --wait --pipe sh -c {read!r}",
                         "the app user's login": f"runuser -l {user} -c {read!r}"}.items():
        result = host.run(command)
        assert result.rc == 0, f"{how}: {result.stderr}"
        assert result.stdout.split() == [core], f"{how}: CPU part {result.stdout.split()}, {instance_type} has {core}"
