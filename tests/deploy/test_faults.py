"""Faults on the demo's arm64 app host, each with its recovery asserted and timed.

Runs after the deploy cases (same host, see conftest.py), one of which is a deploy killed midway
(test_deploy.py's code-change case). The bounds are for this machine: an arm64 host under QEMU
emulation on 2 shared cores, where one node process takes ~10 s to start.
  - kill -9 of the worker during a render: PM2 starts it again within 60 s; the job, taken back
    by BullMQ's stalled-job check, still completes (within 240 s).
  - kill -9 of every API instance: PM2 starts them again and /health answers through Caddy
    within 60 s; each new instance had run a database query and reached Redis before it
    listened (a fresh instance's first query, taken by a client, once failed a CI deploy's
    request); a job enqueued before the kill completes.
  - a request on its way to the API while every instance gets SIGINT (PostgreSQL frozen, so it
    is held in the instance): answered as usual, 200 ok, and logged as answered while draining.
  - a reload of the API (pm2_process) while PM2 is restarting a crashed instance: it waits for that
    restart first, and PM2 lists every process its daemon runs afterwards.
  - Redis restarted under a request loop: /health fails while Redis is down, and answers again
    within 30 s of Redis being back, with no restart of the API or the worker.
  - a reboot of the host container with jobs queued and no worker to take them: every service
    comes back (within 300 s), and the jobs, kept by Redis's append-only file, complete.
  - log growth: the role's timer applies the PM2 logs' rotation policy hourly; the policy, at a
    thousandth of its size, keeps the folder bounded through more rotations than it keeps.
First, RDS rotates the master password: every case runs with the rotated one and no deploy in
between, and the last one is a deploy, which must set up the app's role with the new password.
Figures go to tests/output/deploy-figures.json.
"""

import http.client
import json
import secrets
import subprocess
import threading
import time
from urllib.parse import unquote, urlsplit

from conftest import (APP, HOST, PM2, REPO, STANDINS, LoadLoop, emulator, env_file, healthy, host_state, https,
                      on_host, playbook, playbook_command, pm2_jlist, psql, psql_on_host, rds_master_secret, record, sh,
                      wait_for)


def processes():
    """[(name, pid, status, restarts)] of the app's PM2 processes."""
    return sorted((p["name"], p["pid"], p["pm2_env"]["status"], p["pm2_env"]["restart_time"]) for p in pm2_jlist())


def online(names=("api", "api", "worker")):
    """every PM2 process is online"""
    listed = processes()
    return sorted(n for n, _pid, status, _r in listed if status == "online") == sorted(names)


def listening(pids):
    """{pid: the API's `listening` log line} for the given instances."""
    lines = on_host("grep", "-h", '"msg":"listening"', "/home/mecove/logs/api-out.log", check=False).splitlines()
    records = [json.loads(line[line.index("{"):]) for line in lines if "{" in line]
    return {r["pid"]: r for r in records if r.get("pid") in pids}


def enqueue(title):
    status, created = https("POST", "/reports", {"title": title, "lines": ["fault test"]})
    assert status == 202, created
    return created["id"]


def report_status(report_id):
    status, report = https("GET", f"/reports/{report_id}")
    assert status == 200, report
    return report["status"]


# What a stack deployed before the app had its own role holds: objects the master created.
OWNERS = ("SELECT (SELECT tableowner FROM pg_tables WHERE tablename = 'legacy_notes'), "
          "(SELECT typowner::regrole FROM pg_type WHERE typname = 'legacy_mood'), "
          "(SELECT viewowner FROM pg_views WHERE viewname = 'legacy_notes_view'), "
          "(SELECT proowner::regrole FROM pg_proc WHERE proname = 'legacy_count'), "
          "(SELECT sequenceowner FROM pg_sequences WHERE sequencename = 'legacy_notes_id_seq')")


def as_role(user, password, sql):
    """SQL in the stand-in database as USER with PASSWORD (on stdin, never a command line); (rc, output)."""
    proc = subprocess.run(["docker", "exec", "-i", STANDINS, "sh", "-c", "IFS= read -r PGPASSWORD; export PGPASSWORD; "
                           'psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$0" -d mecove -f -', user],
                          input=f"{password}\n{sql}\n", capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def test_the_app_keeps_working_when_rds_rotates_the_master_password():
    """RDS rotates the master password (every 7 days by default). As it would, the emulator's
    master secret gets a new password and the stand-in database's master follows. The app connects
    as its own role, so it does not notice: /health ok, and a new connection with the env file's
    DATABASE_URL, from the host, succeeds; the faults that follow (PM2 restarts, a reboot, report
    jobs) run with no deploy in between. The master also gets objects of its own in the app's
    schema, as a stack deployed before the app had its role has, for the last case."""
    arn, master = rds_master_secret()
    env = env_file()
    url = urlsplit(env["DATABASE_URL"])
    assert unquote(url.username) == "mecove_app" != master["username"], url.username

    rotated = dict(master, password=secrets.token_hex(20))
    emulator("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps(rotated))
    sh("docker", "exec", "-i", "-u", "postgres", STANDINS, "psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", "mecove",
       stdin=f"ALTER ROLE \"{master['username']}\" PASSWORD '{rotated['password']}';\n")
    assert as_role(master["username"], master["password"], "SELECT 1")[0] != 0  # the old password is refused
    rc, output = as_role(master["username"], rotated["password"], """
        CREATE TYPE legacy_mood AS ENUM ('ok', 'not ok');
        CREATE TABLE legacy_notes (id serial PRIMARY KEY, mood legacy_mood);
        CREATE VIEW legacy_notes_view AS SELECT id FROM legacy_notes;
        CREATE FUNCTION legacy_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM legacy_notes';""")
    assert rc == 0, output
    assert psql(OWNERS) == "|".join([master["username"]] * 5)

    # A connection the app opens now, with what its env file holds (the URL goes on stdin).
    rc, rows, stderr = psql_on_host(env["DATABASE_URL"], "SELECT current_user")
    assert (rc, rows) == (0, "mecove_app"), stderr
    assert healthy()


def test_kill_9_of_the_worker_during_a_render_loses_no_job():
    report_id = enqueue("rendering when the worker is killed")
    worker = [pid for name, pid, _s, _r in processes() if name == "worker"][0]
    # Kill it while it renders: its Chromium has started.
    wait_for(lambda: on_host("pgrep", "-P", str(worker), check=False).strip() != "", 60, step=0.5)
    killed = time.monotonic()
    on_host("kill", "-9", str(worker))
    back = wait_for(lambda: online() and worker not in [pid for _n, pid, _s, _r in processes()], 60)
    wait_for(lambda: report_status(report_id) == "done", 240, step=2)
    done = time.monotonic() - killed
    record("kill -9 worker", back_online_s=round(back, 1), job_done_after_kill_s=round(done, 1))


def test_kill_9_of_every_api_instance():
    report_id = enqueue("enqueued before the API is killed")
    api = [pid for name, pid, _s, _r in processes() if name == "api"]
    on_host("kill", "-9", *map(str, api))
    back = wait_for(lambda: healthy() and online() and not set(api) & {p for _n, p, _s, _r in processes()}, 60)
    new = [pid for name, pid, _s, _r in processes() if name == "api"]
    started = listening(new)
    assert sorted(started) == sorted(new), started
    assert all(r.get("warmUp", {}).get("db") == r["warmUp"]["redis"] == "ok" for r in started.values()), started
    wait_for(lambda: report_status(report_id) == "done", 240, step=2)
    record("kill -9 api", back_online_s=round(back, 1))


def caddy_requests_in_flight():
    """Requests Caddy has sent to the API and not yet had answered (its admin API, on the host)."""
    script = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:2019/reverse_proxy/upstreams').read().decode())"
    return sum(u["num_requests"] for u in json.loads(on_host("python3", "-c", script)))


def test_a_request_on_its_way_to_a_draining_api_instance_is_answered_as_usual():
    """What a reload does to the instance it replaces, with a request in it: PostgreSQL is frozen,
    so a health request waits inside an instance; every instance gets SIGINT; PostgreSQL thaws
    within the health check's 2 s. The answer must be the usual 200 ok (a CI deploy once saw a
    "shutting_down" 503 here), and an old instance must log the request as answered while it
    drained (else the request did not reach it in time, and the case proves nothing)."""
    wait_for(lambda: healthy() and online(), 60)
    api = [pid for name, pid, _s, _r in processes() if name == "api"]
    answer = {}

    def ask():
        try:
            answer["got"] = https("GET", "/health", timeout=60)
        except (OSError, http.client.HTTPException) as error:
            answer["got"] = repr(error)

    asker = threading.Thread(target=ask)
    sh("docker", "pause", STANDINS)
    try:
        asker.start()
        wait_for(lambda: caddy_requests_in_flight() > 0, 10, step=0.1)
        time.sleep(0.2)  # from Caddy into the instance
        on_host("kill", "-INT", *map(str, api))
    finally:
        sh("docker", "unpause", STANDINS)
    asker.join(70)
    status, body = answer["got"]
    assert (status, body["status"]) == (200, "ok"), answer
    back = wait_for(lambda: healthy() and online() and not set(api) & {p for _n, p, _s, _r in processes()}, 60)
    stopped = [json.loads(line) for line in on_host("grep", "-h", '"msg":"stopped"', "/home/mecove/logs/api-out.log").splitlines()]
    drained = {entry["pid"]: entry["answeredWhileDraining"] for entry in stopped if entry.get("pid") in api}
    assert set(drained) == set(api), stopped[-4:]
    assert sum(drained.values()) >= 1, drained
    record("request in flight while the API drains", answer=status, answered_while_draining=drained, back_online_s=round(back, 1))


def test_a_reload_while_pm2_restarts_a_crashed_api_instance_waits_for_that_restart():
    """kill -9 of one API instance with PostgreSQL frozen, so that PM2's restart of it cannot finish
    (a new instance queries the database before it tells PM2 it is ready), and at once a reload of
    the API by pm2_process, the module the deploy reloads with. The module must wait until PM2's
    own restart is done before it reloads (a reload overlapping it can leave a cluster worker that
    PM2 no longer lists); afterwards PM2 lists every process its daemon runs."""
    wait_for(lambda: healthy() and online(), 60)
    api = [pid for name, pid, _s, _r in processes() if name == "api"]
    _argv, env = playbook_command("deploy.yml")
    # Its JSON result on stdout, alone: no -vvv lines (the module touches no secret).
    env.update(ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_VERBOSITY="0")
    options = {"ecosystem": "/home/mecove/ecosystem.config.json", "name": "api", "state": "reloaded",
               "pm2_executable": "/usr/local/bin/pm2", "pm2_home": "/home/mecove/.pm2", "wait_timeout": 120}
    command = [str(REPO / ".venv/bin/ansible"), "mecove-app", "--become", "--become-user", "mecove",
               "-m", "mecove.platform.pm2_process", "-a", json.dumps(options)]
    sh("docker", "pause", STANDINS)
    try:
        on_host("kill", "-9", str(api[0]))
        reload = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        time.sleep(15)
    finally:
        sh("docker", "unpause", STANDINS)
    out, err = reload.communicate(timeout=300)
    assert reload.returncode == 0, out[-3000:] + err[-2000:]
    # The JSON document, without what other callbacks (the timer) print after it.
    result = json.JSONDecoder().raw_decode(out[out.index("{"):])[0]["plays"][0]["tasks"][0]["hosts"]["mecove-app"]
    assert result["actions"] == {"api": "reload"}, result
    assert result["waited"] > 0, result
    assert [p["status"] for p in result["processes"]] == ["online", "online"], result
    wait_for(lambda: healthy() and online(), 60)
    daemon = on_host("cat", "/home/mecove/.pm2/pm2.pid").strip()

    def all_listed():
        """every process the PM2 daemon runs is one PM2 lists"""
        children = {int(pid) for pid in on_host("ps", "-o", "pid=", "--ppid", daemon).split()}
        return children == {pid for _n, pid, _s, _r in processes()}

    # A replaced instance leaves PM2's list at once, and the daemon within its kill_timeout (12 s).
    wait_for(all_listed, 30)
    record("reload while PM2 restarts a crashed API instance", waited_s=result["waited"])


def test_redis_restart_under_load_needs_no_app_restart():
    before = processes()
    load = LoadLoop()
    load.start()
    time.sleep(3)
    on_host("systemctl", "restart", "redis-server")
    restarted = time.monotonic()
    recovered = wait_for(healthy, 30, step=0.5)
    time.sleep(3)
    load.stop()
    assert processes() == before  # same pids, same restart counts
    report_id = enqueue("after the Redis restart")  # the worker reconnected too
    wait_for(lambda: report_status(report_id) == "done", 240, step=2)
    record("redis restart under load", requests=load.sent, failed=len(load.failures),
           healthy_after_restart_s=round(recovered, 1), seconds_measured_from=round(restarted - load.started, 1))
    assert load.sent > 20


def test_a_reboot_keeps_queued_jobs_and_brings_every_service_back():
    on_host("sh", "-c", f"{PM2} stop worker >/dev/null", user="mecove")  # not saved: the reboot restores it
    queued = [enqueue(f"queued before the reboot {n}") for n in range(2)]
    assert {report_status(r) for r in queued} == {"queued"}
    time.sleep(2)  # appendfsync everysec
    started = time.monotonic()
    sh("docker", "restart", "-t", "60", HOST)
    booted = wait_for(lambda: on_host("systemctl", "is-system-running", "--wait", check=False).strip()
                      in ("running", "degraded"), 300, step=3)
    assert on_host("systemctl", "is-system-running", check=False).strip() == "running", \
        on_host("systemctl", "--failed", "--no-legend", check=False)
    for unit in ("caddy", "redis-server", "pm2-mecove"):
        assert on_host("systemctl", "is-active", unit, check=False).strip() == "active", unit
    wait_for(lambda: healthy() and online(), 300, step=2)
    serving_again = time.monotonic() - started
    wait_for(lambda: {report_status(r) for r in queued} == {"done"}, 300, step=3)
    record("reboot", booted_s=round(booted, 1), serving_after_s=round(serving_again, 1),
           queued_jobs_done_after_s=round(time.monotonic() - started, 1))


def test_log_rotation_keeps_the_log_folder_bounded():
    """The installed policy, with 100M and 14 copies scaled down to 100k and 3, run by logrotate
    as its timer would, ten times after growing the API's log past the size each time."""
    # The role's timer applies the policy hourly (the system's logrotate run is daily).
    assert on_host("systemctl", "is-active", "pm2-mecove-logrotate.timer").strip() == "active"
    on_host("systemctl", "start", "pm2-mecove-logrotate.service")  # a oneshot: fails if logrotate fails
    policy = on_host("cat", "/etc/logrotate.d/pm2-mecove")
    assert "maxsize 100M" in policy and "rotate 14" in policy and "copytruncate" in policy
    scaled = policy.replace("maxsize 100M", "maxsize 100k").replace("rotate 14", "rotate 3") \
        .replace("/home/mecove/logs/*.log", "/home/mecove/logs/api-out.log")
    on_host("sh", "-c", f"cat > /tmp/fault-logrotate.conf <<'EOF'\n{scaled}\nEOF")
    log = "/home/mecove/logs/api-out.log"
    sizes = []
    for _round in range(10):
        on_host("sh", "-c", f"head -c 300000 /dev/urandom | base64 >> {log}", user="mecove")
        time.sleep(1.1)  # the copies are named by the second
        on_host("logrotate", "-s", "/tmp/fault-logrotate.state", "/tmp/fault-logrotate.conf")
        sizes.append(int(on_host("du", "-sk", "/home/mecove/logs").split()[0]))
    copies = [n for n in on_host("ls", "/home/mecove/logs").split() if n.startswith("api-out.log-")]
    on_host("rm", "-f", "/tmp/fault-logrotate.conf", "/tmp/fault-logrotate.state")
    assert len(copies) == 3, copies
    assert int(on_host("stat", "-c", "%s", log)) < 100 * 1024  # emptied in place
    # Three copies (two compressed, the newest not yet) and the live file.
    assert max(sizes[4:]) - min(sizes[4:]) < 800, sizes
    record("log growth", folder_kb_per_round=sizes)


def test_a_deploy_after_the_rotation_sets_up_the_role_with_the_new_master_and_restarts_nothing():
    """The deploy reads the master secret as it is now: it hands what the master owns in the app's
    schema to the app's role (the one change), and the app, its env file and release stay as they
    were. It deploys the serving commit (main moved on before test_deploy.py's rollback)."""
    before = host_state()
    serving_commit = on_host("cat", f"{APP}/current/REVISION").strip()
    run = playbook("deploy.yml", "-e", f"app_deploy_ref={serving_commit}", log="after-rotation")
    assert run.rc == 0, run.output[-3000:]
    assert run.changed == 1, run.output[-3000:]
    assert psql(OWNERS) == "|".join(["mecove_app"] * 5)
    assert host_state() == before
    record("deploy after the master rotated", seconds=round(run.seconds, 1))
