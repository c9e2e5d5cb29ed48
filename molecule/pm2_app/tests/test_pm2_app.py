"""Verify the pm2_app role with the stand-in app of prepare.yml (testinfra, run by molecule verify).

The processes are real: node runs the stand-in API and worker under the PM2 daemon of the
pm2-mecove unit. The last test restarts that unit (the reboot stand-in); keep it last.
"""

import json
import time

import pytest

USER = "mecove"
HOME = "/home/mecove"
PM2_HOME = f"{HOME}/.pm2"
PM2 = "/usr/local/bin/pm2"
CURRENT = f"{HOME}/app/current"
LOGS = f"{HOME}/logs"
ECOSYSTEM = f"{HOME}/ecosystem.config.json"
SERVICE = "pm2-mecove"
SECRET = "hello-from-env-file"  # the stand-in value in the app's .env (prepare.yml)
LOG_FILES = [f"{LOGS}/{name}-{kind}.log" for name in ("api", "worker") for kind in ("out", "error")]


def jlist(host):
    result = host.run(f"sudo -u {USER} -H env PM2_HOME={PM2_HOME} {PM2} jlist")
    assert result.rc == 0, result.stderr
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("["):
            return json.loads(line)
    raise AssertionError(f"no JSON process list in: {result.stdout[-500:]}")


def by_name(processes, name):
    return [proc for proc in processes if proc["name"] == name]


def http_get(host):
    script = (
        "import urllib.request;"
        "r = urllib.request.urlopen('http://127.0.0.1:3000/health', timeout=10);"
        "print(r.status); print(r.read().decode())"
    )
    result = host.run(f'python3 -c "{script}"')
    assert result.rc == 0, result.stderr
    status, body = result.stdout.split("\n", 1)
    return int(status), json.loads(body)


def wait_until_online(host, expected=3, timeout=240):
    deadline = time.time() + timeout
    processes = []
    while time.time() < deadline:
        processes = jlist(host)
        if len(processes) == expected and all(p["pm2_env"]["status"] == "online" for p in processes):
            return processes
        time.sleep(3)
    raise AssertionError(f"not back online: {[(p['name'], p['pm2_env']['status']) for p in processes]}")


@pytest.fixture(scope="module")
def processes(host):
    return jlist(host)


def test_both_processes_are_online(processes):
    assert {p["name"] for p in processes} == {"api", "worker"}
    assert all(p["pm2_env"]["status"] == "online" for p in processes), [
        (p["name"], p["pm2_env"]["status"]) for p in processes
    ]


def test_api_runs_two_instances_in_cluster_mode_and_the_worker_one_in_fork_mode(processes):
    assert [p["pm2_env"]["exec_mode"] for p in by_name(processes, "api")] == ["cluster_mode"] * 2
    assert [p["pm2_env"]["exec_mode"] for p in by_name(processes, "worker")] == ["fork_mode"]


def test_processes_run_from_the_current_path_with_source_maps(processes):
    for proc in processes:
        env = proc["pm2_env"]
        assert "--enable-source-maps" in env["node_args"], env["node_args"]
        assert env["pm_cwd"] == CURRENT
        assert env["pm_exec_path"].startswith(f"{CURRENT}/dist/")


def test_worker_is_given_time_to_drain(processes):
    assert by_name(processes, "worker")[0]["pm2_env"]["kill_timeout"] == 30000


def test_api_answers_200_on_loopback_with_its_env_file_and_source_maps_loaded(host):
    status, body = http_get(host)
    assert status == 200
    assert body["greeting"] == SECRET  # read from current/.env by node --env-file
    assert body["sourceMaps"] is True  # --enable-source-maps really reached node
    assert body["cwd"] == host.file(CURRENT).linked_to  # the release current pointed to at start


def test_logs_are_at_the_exact_paths(host, processes):
    for path in LOG_FILES:
        log = host.file(path)
        assert log.is_file, path
        assert log.user == USER
    for proc in processes:
        env = proc["pm2_env"]
        assert env["pm_out_log_path"] == f"{LOGS}/{proc['name']}-out.log"
        assert env["pm_err_log_path"] == f"{LOGS}/{proc['name']}-error.log"
    # merge_logs: no per-instance files such as api-out-0.log or worker-out-1.log
    assert sorted(host.run(f"ls {LOGS}").stdout.split()) == sorted(p.rsplit("/", 1)[1] for p in LOG_FILES)


def test_worker_output_reaches_its_log(host):
    for _attempt in range(20):
        if "worker tick" in host.file(f"{LOGS}/worker-out.log").content_string:
            break
        time.sleep(2)
    assert "worker tick" in host.file(f"{LOGS}/worker-out.log").content_string
    assert "worker stderr check" in host.file(f"{LOGS}/worker-error.log").content_string


def test_unit_is_enabled_and_owns_the_pm2_daemon(host, processes):
    service = host.service(SERVICE)
    assert service.is_enabled
    assert service.is_running
    show = dict(
        line.split("=", 1)
        for line in host.check_output(f"systemctl show {SERVICE} -p Type -p User -p PIDFile -p MainPID").splitlines()
    )
    assert show["Type"] == "forking"
    assert show["User"] == USER
    assert show["PIDFile"] == f"{PM2_HOME}/pm2.pid"
    assert show["MainPID"] == host.file(f"{PM2_HOME}/pm2.pid").content_string.strip()
    # The apps are children of that daemon, inside the unit's cgroup (a reboot restores them).
    for proc in processes:
        cgroup = host.file(f"/proc/{proc['pid']}/cgroup").content_string
        assert f"{SERVICE}.service" in cgroup, (proc["name"], cgroup)


def test_unit_runs_resurrect_and_stops_with_kill(host):
    unit = host.file(f"/etc/systemd/system/{SERVICE}.service").content_string
    assert f"ExecStart={PM2} resurrect" in unit
    assert f"ExecReload={PM2} reload all" in unit
    assert f"ExecStop={PM2} kill" in unit
    assert f"Environment=PM2_HOME={PM2_HOME}" in unit


def test_process_list_is_saved_for_reboots(host):
    dump = json.loads(host.file(f"{PM2_HOME}/dump.pm2").content_string)
    assert sorted(entry["name"] for entry in dump) == ["api", "api", "worker"]
    assert all(entry["status"] == "online" for entry in dump)


def test_pm2_home_and_ecosystem_are_private_to_the_app_user(host):
    pm2_home = host.file(PM2_HOME)
    assert (pm2_home.user, pm2_home.mode) == (USER, 0o700)
    ecosystem = host.file(ECOSYSTEM)
    assert (ecosystem.user, ecosystem.group, ecosystem.mode) == (USER, USER, 0o640)


def test_ecosystem_declares_merged_logs_and_the_env_file(host):
    apps = {app["name"]: app for app in json.loads(host.file(ECOSYSTEM).content_string)["apps"]}
    assert set(apps) == {"api", "worker"}
    for app in apps.values():
        assert app["merge_logs"] is True
        assert app["cwd"] == CURRENT
        assert f"--env-file={CURRENT}/.env" in app["node_args"]
    assert (apps["api"]["exec_mode"], apps["api"]["instances"]) == ("cluster", 2)


def test_app_secrets_stay_out_of_pm2s_files(host):
    # node reads the env file itself: its values are in neither the ecosystem file, the dump, nor jlist.
    assert SECRET not in host.file(ECOSYSTEM).content_string
    assert SECRET not in host.file(f"{PM2_HOME}/dump.pm2").content_string
    assert SECRET not in json.dumps(jlist(host))


def test_a_forced_rotation_keeps_the_logs_flowing(host):
    """logrotate's policy (as its daily run would apply it, forced here): the old lines move to a
    dated copy and the process keeps writing to the same, emptied file (copytruncate)."""
    policy = f"/etc/logrotate.d/{SERVICE}"
    log = f"{LOGS}/worker-out.log"
    state = "/tmp/mecove-logrotate-test.state"
    debug = host.run(f"logrotate -d {policy}")
    assert debug.rc == 0, debug.stderr
    assert f"{LOGS}/*.log" in debug.stdout + debug.stderr
    assert "worker tick" in host.file(log).content_string
    rotated = host.run(f"logrotate -f -s {state} {policy}")
    assert rotated.rc == 0, rotated.stderr
    copies = host.run(f"ls {LOGS}").stdout.split()
    assert [name for name in copies if name.startswith("worker-out.log-")], copies
    assert all(host.file(f"{LOGS}/{name}").user == USER for name in copies)
    for _attempt in range(30):
        if "worker tick" in host.file(log).content_string:
            break
        time.sleep(2)
    assert "worker tick" in host.file(log).content_string, "the worker stopped writing to its log"
    host.run(f"rm -f {state} {LOGS}/*.log-*")


def test_processes_come_back_after_the_unit_restarts(host, processes):
    """The reboot stand-in: stop PM2 and its apps, start the unit again, get both back."""
    old_pids = {p["pid"] for p in processes}
    assert host.run(f"systemctl restart {SERVICE}").rc == 0
    back = wait_until_online(host)
    assert sorted(p["name"] for p in back) == ["api", "api", "worker"]
    assert not old_pids & {p["pid"] for p in back}, "the processes were not restarted"
    assert host.service(SERVICE).is_running
    for _attempt in range(30):
        if host.run("python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/', timeout=5)\"").rc == 0:
            break
        time.sleep(2)
    status, body = http_get(host)
    assert status == 200 and body["greeting"] == SECRET
