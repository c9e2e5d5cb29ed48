"""Helpers of the suites that run against the local stack of `make demo`: the deploy cases
(test_deploy.py), the faults (test_faults.py) and the secret search (test_secrets.py).

The demo has provisioned the emulator, configured the arm64 app host container and deployed
main of the stand-in Git remote. These tests push new commits to that remote (from the
controller's clone, .cache/demo/app-src), run playbooks/deploy.yml and rollback.yml as an
operator would, and look at the result through Caddy (HTTPS on 127.0.0.1:8443), inside the host
(docker exec) and in the stand-in PostgreSQL.
"""

import http.client
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".cache" / "demo"
SRC = STATE / "app-src"  # the controller's clone of the stand-in remote (scripts/demo.sh)
HOST = "mecove-local-app"
STANDINS = "mecove-local-standins"
APP = "/home/mecove/app"
FIGURES = REPO / "tests" / "output" / "deploy-figures.json"
RECAP = re.compile(r"^\S+\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _domain():
    host_vars = yaml.safe_load((REPO / "inventories/local/host_vars/mecove-app.yml").read_text())
    return host_vars["mecove_domain"]


DOMAIN = _domain()


@dataclass
class Run:
    rc: int
    output: str
    seconds: float
    changed: int = field(default=-1)


def playbook_command(name, *args):
    """(argv, environment) of ansible-playbook playbooks/NAME (or NAME, a path from the repo's
    root) with the local inventory, as scripts/demo.sh runs it: the emulator's endpoint and
    dummy credentials."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    return [str(REPO / ".venv/bin/ansible-playbook"), name if "/" in name else f"playbooks/{name}", *args], env


def playbook(name, *args, log=None):
    """Run playbooks/NAME or NAME (see playbook_command); its output goes to tests/output/deploy-LOG.log."""
    argv, env = playbook_command(name, *args)
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    output = proc.stdout + proc.stderr
    if log:
        (REPO / "tests" / "output" / f"deploy-{log}.log").write_text(output)
    rows = RECAP.findall(output)
    changed = sum(int(c) for c, _u, _f in rows) if rows else -1
    return Run(proc.returncode, output, seconds, changed)


def sh(*cmd, check=True, stdin=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, input=stdin)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return proc.stdout


def on_host(*cmd, user=None, check=True):
    return sh("docker", "exec", *(["-u", user] if user else []), HOST, *cmd, check=check)


def psql(sql):
    """One query in the stand-in RDS database, as its superuser; the rows as text."""
    return sh("docker", "exec", "-u", "postgres", STANDINS, "psql", "-d", "mecove", "-tAc", sql).strip()


def env_file():
    """The app's env file on the host, {name: value} with the values unquoted."""
    lines = on_host("cat", f"{APP}/shared/.env").splitlines()
    return {name: value.strip("'\"") for name, value in (line.split("=", 1) for line in lines if "=" in line)}


def psql_on_host(url, sql):
    """SQL from the app host over a connection URL (on stdin, never a command line), as the app
    connects: (rc, the rows as text, stderr)."""
    proc = subprocess.run(["docker", "exec", "-i", HOST, "sh", "-c", 'IFS= read -r url; psql -X -tA "$url" -c "$0"', sql],
                          input=url + "\n", capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout.strip(), proc.stderr


def git(*args):
    env = dict(os.environ, GIT_AUTHOR_NAME="deploy-tests", GIT_AUTHOR_EMAIL="tests@mecove.test",
               GIT_COMMITTER_NAME="deploy-tests", GIT_COMMITTER_EMAIL="tests@mecove.test")
    return subprocess.run(["git", "-C", str(SRC), *args], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def push_commit(branch, files, message, base="main"):
    """A commit on BRANCH (made from BASE) that writes FILES {path: text}; pushed; its hash."""
    git("checkout", "-q", "-B", branch, f"origin/{base}" if branch != base else base)
    for path, text in files.items():
        target = SRC / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git("add", "-A")
    git("commit", "-q", "-m", message)
    git("push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}")
    git("fetch", "-q", "origin")
    sha = git("rev-parse", "HEAD")
    git("checkout", "-q", "main")
    return sha


def https(method, path, body=None, timeout=15):
    """One request to the site through Caddy on 127.0.0.1:8443, verified against Caddy's local CA
    (written by scripts/demo.sh); (status, parsed JSON body or None)."""
    context = ssl.create_default_context(cafile=str(STATE / "caddy-root.crt"))
    connection = http.client.HTTPSConnection(DOMAIN, 8443, context=context, timeout=timeout)
    connection.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", 8443), timeout=timeout),
                                          server_hostname=DOMAIN)
    try:
        headers = {"Host": DOMAIN}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        return response.status, data
    finally:
        connection.close()


def serving():
    """(release id the API reports, release `current` points at)."""
    _status, health = https("GET", "/health")
    current = on_host("readlink", f"{APP}/current").strip().rsplit("/", 1)[-1]
    return (health or {}).get("version"), current


def releases():
    return sorted(on_host("ls", f"{APP}/releases").split())


PM2 = "PM2_HOME=/home/mecove/.pm2 pm2"  # as the app user, on the host


def pm2_jlist():
    """The app's PM2 processes, as `pm2 jlist` describes them."""
    return json.loads(on_host("sh", "-c", f"{PM2} jlist", user="mecove").strip().splitlines()[-1])


def pm2_pids():
    """{name: sorted pids} of the app's PM2 processes."""
    pids = {}
    for proc in pm2_jlist():
        pids.setdefault(proc["name"], []).append(proc["pid"])
    return {name: sorted(p) for name, p in pids.items()}


def wait_for(condition, timeout, step=1.0):
    """Seconds until condition() is true; fails after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if condition():
                return time.monotonic() - start
        except (OSError, AssertionError, ValueError):
            pass
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s: {condition.__doc__ or condition}")


def unfinished_releases():
    """Release folders without a REVISION file: a build that did not finish."""
    return on_host("sh", "-c", f"cd {APP}/releases && for r in *; do [ -f $r/REVISION ] || echo $r; done").split()


def host_state():
    """What a deploy that must change nothing could have changed: the env file's hash, the PM2
    processes, the release served and the release folders."""
    return {"env_file": on_host("sha256sum", f"{APP}/shared/.env").split()[0], "pm2": pm2_pids(),
            "serving": serving(), "releases": releases()}


def nice_of(pattern):
    """{pid: niceness} of the host's processes whose command line contains pattern, the shells
    and `nice` that start them left out."""
    found = {}
    for line in on_host("ps", "-eo", "pid=,ni=,args=").splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and pattern in fields[2] and not fields[2].startswith(("/bin/sh ", "sh ", "nice ", "ps ")):
            found[int(fields[0])] = int(fields[1])
    return found


def healthy():
    """/health answers ok through Caddy"""
    status, body = https("GET", "/health", timeout=5)
    return status == 200 and (body or {}).get("status") == "ok"


class LoadLoop(threading.Thread):
    """GET /health through Caddy, one new connection per request, until stopped. Every answer
    that is not 200 with status "ok" (or no answer) counts as failed, and is kept with the
    second (since the loop started) it was sent at, how long it took and what came back."""

    def __init__(self, pause=0.05):
        super().__init__(daemon=True)
        self.pause = pause
        self.sent = 0
        self.failures = []
        self.versions = set()
        self.slowest = 0.0
        self.started = time.monotonic()
        self._stop_event = threading.Event()

    def run(self):
        self.started = time.monotonic()
        while not self._stop_event.is_set():
            self.sent += 1
            sent_at = time.monotonic()
            try:
                status, body = https("GET", "/health", timeout=10)
                answer = None if status == 200 and (body or {}).get("status") == "ok" else f"{status} {body}"
            except (OSError, http.client.HTTPException) as error:
                answer = repr(error)
            took = time.monotonic() - sent_at
            self.slowest = max(self.slowest, took)
            if answer is None:
                self.versions.add(body.get("version"))
            else:
                self.failures.append(f"at {sent_at - self.started:.1f} s, after {took:.1f} s: {answer}")
            time.sleep(self.pause)

    def stop(self):
        self._stop_event.set()
        self.join(timeout=30)


def emulator(service):
    """A client of the demo's AWS emulator (dummy credentials)."""
    return boto3.client(service, endpoint_url="http://127.0.0.1:5000", region_name="ap-south-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def app_secret():
    return json.loads(emulator("secretsmanager").get_secret_value(SecretId="mecove-mvp/app")["SecretString"])


def fill_the_app_secret():
    """Distinctive values in every key of the app secret, as an operator fills them in; the values."""
    filled = {key: f"canary{key.lower().replace('_', '')}{secrets.token_hex(12)}" for key in app_secret()}
    emulator("secretsmanager").put_secret_value(SecretId="mecove-mvp/app", SecretString=json.dumps(filled))
    return filled


def database_app_secret():
    """The app's own database role: {"username", "password"} (created by aws_provision)."""
    return json.loads(emulator("secretsmanager").get_secret_value(SecretId="mecove-mvp/database-app")["SecretString"])


def rds_master_secret():
    """(ARN, value) of the RDS-managed master secret in the emulator."""
    client = emulator("rds")
    arn = client.describe_db_instances(DBInstanceIdentifier="mecove-mvp")["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
    return arn, json.loads(emulator("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def record(name, **figures):
    """Keep a measured figure for the report (tests/output/deploy-figures.json)."""
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data[name] = figures
    FIGURES.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture(scope="session", autouse=True)
def demo_stack():
    """The suite needs the running local stack; without it every test fails with this reason."""
    running = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", HOST, STANDINS],
                             capture_output=True, text=True, check=False).stdout.split()
    if running != ["true", "true"] or not (SRC / ".git").is_dir():
        pytest.fail("the local stack is not running: run `make demo` first (scripts/demo.sh up)")
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.unlink(missing_ok=True)  # this run's figures only
