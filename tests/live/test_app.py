"""What deploy.yml and the pm2_app role promise about the running app, checked on the host.

Runs unchanged against the local stand-in host and the live EC2 host (see conftest.py). Every
test needs a deployed app; on a host without one they are skipped with that reason. The last
test restarts the PM2 unit (the reboot stand-in): it runs on the local host only, since on the
live host it would interrupt the service.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

RELEASE = re.compile(r"^\d{14}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def app(host, target):
    """The app's paths; skips the module when nothing is deployed."""
    user = target.setting("pm2_app_user", "pm2_app")
    home = f"/home/{user}"
    paths = {
        "user": user,
        "home": home,
        "root": f"{home}/app",
        "current": f"{home}/app/current",
        "env": f"{home}/app/shared/.env",
        "pm2_home": f"{home}/.pm2",
        "pm2": target.setting("pm2_app_pm2_executable", "pm2_app"),
        "ecosystem": f"{home}/ecosystem.config.json",
        "logs": f"{home}/logs",
        "service": f"pm2-{user}",
    }
    if not host.file(paths["current"]).is_symlink:
        pytest.skip(f"no app is deployed on this host ({paths['current']} does not exist): run playbooks/deploy.yml")
    return paths


def jlist(host, app):
    result = host.run(f"sudo -u {app['user']} -H env PM2_HOME={app['pm2_home']} {app['pm2']} jlist")
    assert result.rc == 0, result.stderr
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("["):
            return json.loads(line)
    raise AssertionError("no JSON process list from pm2 jlist")


def loopback_health(host):
    script = ("import json, urllib.request;"
              "r = urllib.request.urlopen('http://127.0.0.1:3000/health', timeout=10);"
              "print(json.dumps({'status': r.status, 'body': json.loads(r.read())}))")
    result = host.run(f'python3 -c "{script}"')
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


# Keys of the env file that hold no secret: what the deploy derives, and the inventory's
# mecove_app_environment (tests compare secret values only; these appear in PM2's files legitimately).
PUBLIC_ENV = {"NODE_ENV", "REDIS_URL", "PUPPETEER_EXECUTABLE_PATH"}


def secret_values(host, app, target):
    """The secret values of the app's env file: the app secret's values and DATABASE_URL with
    its password (read as root on the host; never printed)."""
    public = PUBLIC_ENV | set(target.hostvars.get("mecove_app_environment") or {})
    values = []
    for line in host.file(app["env"]).content_string.splitlines():
        key, sep, value = line.partition("=")
        value = value.strip().strip("'\"`")
        if not sep or line.startswith("#") or key in public or len(value) < 4:
            continue
        values.append(value)
        if key == "DATABASE_URL":
            values.append(value.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1])  # the password
    return values


def test_the_api_answers_healthy_with_the_deployed_release(host, app, probe, target):
    release = host.file(app["current"]).linked_to.rsplit("/", 1)[1]
    assert RELEASE.match(release), release
    answer = loopback_health(host)
    assert answer["status"] == 200
    assert answer["body"]["status"] == "ok" and answer["body"]["db"] == "ok" and answer["body"]["redis"] == "ok"
    assert answer["body"]["version"] == release
    # Through Caddy too, over HTTPS for the domain.
    through_caddy = probe("https", target.domain, "/health")
    assert through_caddy.get("status") == 200, through_caddy
    assert json.loads(through_caddy["body"])["version"] == release


def test_the_env_file_is_the_app_users_alone_and_each_release_links_to_it(host, app):
    env = host.file(app["env"])
    assert (env.user, env.mode) == (app["user"], 0o600)
    assert host.file(f"{app['current']}/.env").linked_to == app["env"]
    assert host.file(f"{app['current']}/REVISION").content_string.strip()


def test_the_app_connects_as_its_own_database_role_not_the_master(host, app, target):
    """RDS rotates the master password (every 7 days by default): an env file holding it would stop
    working at the next connection after a rotation."""
    env = dict(line.split("=", 1) for line in host.file(app["env"]).content_string.splitlines() if "=" in line)
    user = unquote(urlsplit(env["DATABASE_URL"].strip("'\"`")).username or "")
    assert user == target.hostvars["mecove_rds_app_username"] != target.hostvars["mecove_rds_master_username"], user


def test_the_database_is_reached_over_tls_checked_against_the_pinned_ca_bundle(host, app, target):
    """verify-full with the bundle the deploy installed, which is byte for byte the pinned one."""
    if target.hostvars.get("mecove_database_tls") != "verify-full":
        pytest.skip(f"mecove_database_tls is {target.hostvars.get('mecove_database_tls')}: the server is not checked")
    env = dict(line.split("=", 1) for line in host.file(app["env"]).content_string.splitlines() if "=" in line)
    query = dict(parse_qsl(urlsplit(env["DATABASE_URL"].strip("'\"`")).query))
    bundle = target.hostvars["mecove_database_ca_bundle_path"]
    assert query == {"sslmode": "verify-full", "sslrootcert": bundle}, query
    algorithm, digest = target.hostvars["mecove_database_ca_bundle_checksum"].split(":")
    assert (algorithm, host.file(bundle).sha256sum) == ("sha256", digest)


def test_both_processes_are_online_api_in_cluster_mode_with_source_maps(host, app, target):
    processes = jlist(host, app)
    wait_ready = target.setting("pm2_app_wait_ready", "pm2_app")
    by_name = {}
    for proc in processes:
        by_name.setdefault(proc["name"], []).append(proc)
    assert sorted(by_name) == ["api", "worker"]
    assert all(proc["pm2_env"]["status"] == "online" for proc in processes), \
        [(p["name"], p["pm2_env"]["status"]) for p in processes]
    assert [p["pm2_env"]["exec_mode"] for p in by_name["api"]] == ["cluster_mode", "cluster_mode"]
    assert [p["pm2_env"]["exec_mode"] for p in by_name["worker"]] == ["fork_mode"]
    for proc in processes:
        env = proc["pm2_env"]
        assert "--enable-source-maps" in env["node_args"]
        assert f"--env-file={app['env']}" in env["node_args"]
        assert env["pm_cwd"] == app["current"]  # the symlink, so a reload runs the new release
        assert env["wait_ready"] is (str(wait_ready).lower() == "true")
        # Finishes its requests at PM2's SIGINT, for an app without a SIGINT handler (pm2_app_graceful_exit).
        assert "--require=/usr/local/lib/mecove-graceful-exit.cjs" in env["node_args"]
        assert host.file(env["pm_exec_path"] + ".map").is_file, env["pm_exec_path"]
    worker = by_name["worker"][0]["pm2_env"]
    assert worker["kill_timeout"] > 30000 and worker["treekill"] is False  # drains its jobs, Chromium spared


def test_every_process_runs_from_the_serving_release(host, app):
    """What the deploy checks after each switch: the folder each process is in, as the kernel
    resolved `current` when PM2 entered it, is the release `current` points at now."""
    release = host.run(f"readlink -f {app['current']}").stdout.strip()
    for proc in jlist(host, app):
        folder = host.run(f"sudo -u {app['user']} readlink /proc/{proc['pid']}/cwd")
        assert folder.stdout.strip() == release, (proc["name"], proc["pm_id"], folder.stdout, folder.stderr)


def test_each_process_has_a_heap_limit_and_a_memory_limit(host, app, target):
    """On a 2 GiB host a leaking process must fail or restart on its own, not push the others out."""
    heap = f"--max-old-space-size={target.setting('pm2_app_heap_mb', 'pm2_app')}"
    limit = str(target.setting("pm2_app_max_memory", "pm2_app"))
    wanted = int(limit[:-1]) * {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[limit[-1]] if limit[-1] in "KMG" else int(limit)
    for proc in jlist(host, app):
        assert heap in proc["pm2_env"]["node_args"], (proc["name"], proc["pm2_env"]["node_args"])
        assert proc["pm2_env"]["max_memory_restart"] == wanted, (proc["name"], proc["pm2_env"].get("max_memory_restart"))


def test_logs_are_written_at_the_exact_paths_by_the_app_user(host, app):
    processes = jlist(host, app)
    for proc in processes:
        env = proc["pm2_env"]
        assert env["pm_out_log_path"] == f"{app['logs']}/{proc['name']}-out.log"
        assert env["pm_err_log_path"] == f"{app['logs']}/{proc['name']}-error.log"
    for name in ("api", "worker"):
        log = host.file(f"{app['logs']}/{name}-out.log")
        assert log.is_file and log.user == app["user"]
    # The app's JSON lines reach the files (every line names its release). The file may just
    # have been rotated (emptied in place): have the API log one request first, a read of a
    # report that does not exist (404, logged at info).
    asked = host.run("python3 -c \"import http.client; c = http.client.HTTPConnection('127.0.0.1', 3000, timeout=10); "
                     "c.request('GET', '/reports/00000000-0000-4000-8000-000000000000'); print(c.getresponse().status)\"")
    assert asked.stdout.strip() == "404", asked.stdout + asked.stderr
    for _attempt in range(10):
        if '"svc":"api"' in host.file(f"{app['logs']}/api-out.log").content_string:
            break
        time.sleep(1)
    assert '"svc":"api"' in host.file(f"{app['logs']}/api-out.log").content_string
    assert '"svc":"worker"' in host.file(f"{app['logs']}/worker-out.log").content_string


def test_the_unit_owns_the_pm2_daemon_and_saved_the_process_list(host, app):
    service = host.service(app["service"])
    assert service.is_enabled and service.is_running
    show = dict(line.split("=", 1) for line in host.check_output(
        f"systemctl show {app['service']} -p Type -p User -p MainPID").splitlines())
    assert (show["Type"], show["User"]) == ("forking", app["user"])
    assert show["MainPID"] == host.file(f"{app['pm2_home']}/pm2.pid").content_string.strip()
    for proc in jlist(host, app):
        assert f"{app['service']}.service" in host.file(f"/proc/{proc['pid']}/cgroup").content_string
    dump = json.loads(host.file(f"{app['pm2_home']}/dump.pm2").content_string)
    assert sorted(entry["name"] for entry in dump) == ["api", "api", "worker"]
    pm2_home = host.file(app["pm2_home"])
    assert (pm2_home.user, pm2_home.mode) == (app["user"], 0o700)
    ecosystem = host.file(app["ecosystem"])
    assert (ecosystem.user, ecosystem.mode) == (app["user"], 0o640)


def test_the_apps_secrets_stay_out_of_pm2s_files(host, app, target):
    values = secret_values(host, app, target)
    assert values, "the env file holds no secret value to look for"
    places = {
        "ecosystem file": host.file(app["ecosystem"]).content_string,
        "dump.pm2": host.file(f"{app['pm2_home']}/dump.pm2").content_string,
        "pm2 jlist": json.dumps(jlist(host, app)),
    }
    leaked = [place for place, text in places.items() if any(value in text for value in values)]
    assert not leaked, f"a value of the env file appears in: {leaked} (values not shown)"


def test_a_forced_rotation_keeps_the_logs_flowing(host, app):
    """logrotate's policy as its daily run would apply it, forced: the lines move to a dated
    copy, and the worker keeps writing to the same, emptied file (copytruncate). A report is
    requested through the API on loopback so that the worker has something to log (on the live
    host too: one small report titled "live check")."""
    policy = f"/etc/logrotate.d/{app['service']}"
    log = f"{app['logs']}/worker-out.log"
    state = "/tmp/mecove-live-logrotate.state"
    rotated = host.run(f"logrotate -f -s {state} {policy}")
    host.run(f"rm -f {state}")
    assert rotated.rc == 0, rotated.stderr
    copies = host.run(f"ls {app['logs']}").stdout.split()
    assert [name for name in copies if name.startswith("worker-out.log-")], copies
    assert all(host.file(f"{app['logs']}/{name}").user == app["user"] for name in copies)
    script = ("import json, urllib.request;"
              "req = urllib.request.Request('http://127.0.0.1:3000/reports', method='POST',"
              " data=json.dumps({'title': 'live check', 'lines': ['log rotation']}).encode(),"
              " headers={'content-type': 'application/json'});"
              "print(json.loads(urllib.request.urlopen(req, timeout=10).read())['id'])")
    posted = host.run(f'python3 -c "{script}"')
    assert posted.rc == 0, posted.stderr
    report_id = posted.stdout.strip()
    for _attempt in range(90):
        if report_id in host.file(log).content_string:
            break
        time.sleep(2)
    assert report_id in host.file(log).content_string, "the worker did not log into the rotated file"


def test_the_processes_come_back_after_the_unit_restarts(host, app, target):
    """The reboot stand-in: PM2 and its apps stop; the unit starts again and restores both."""
    if target.live:
        pytest.skip("local host only: restarting PM2 would interrupt the live service")
    old = {proc["pid"] for proc in jlist(host, app)}
    assert host.run(f"systemctl restart {app['service']}").rc == 0
    deadline = time.time() + 240
    processes = []
    while time.time() < deadline:
        processes = jlist(host, app)
        if len(processes) == 3 and all(p["pm2_env"]["status"] == "online" for p in processes):
            break
        time.sleep(3)
    assert sorted(p["name"] for p in processes) == ["api", "api", "worker"]
    assert all(p["pm2_env"]["status"] == "online" for p in processes)
    assert not old & {p["pid"] for p in processes}
    for _attempt in range(30):
        if host.run("python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/health', timeout=5)\"").rc == 0:
            break
        time.sleep(2)
    assert loopback_health(host)["status"] == 200
