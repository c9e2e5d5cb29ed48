"""Any Node.js app, not only ours (issue 13, item 4): examples/plain-app knows nothing of this
collection (a plain-text health answer, no ready message, no release id, no SIGINT handler, no
dependencies, its own entry points). It is deployed through playbooks/deploy.yml on the demo
host, beside the sample app, as its own user with its own PM2 (tests/deploy/plain_app.yml):
a first deploy, then a code change under a request loop that must lose nothing."""

import json
import subprocess
import time

import pytest

from conftest import HOST, REPO, on_host, playbook, record

USER = "plain"
HOME = f"/home/{USER}"
SETTINGS = "@tests/deploy/plain_app.yml"
PORT = 3300
GREETING = "hello from the plain app, version {}"

# Runs inside the host container, against the app on loopback: one thread on /, two on /slow
# (400 ms: requests in flight when an instance is replaced), a new connection per request. Ends
# when STOP exists, or after 20000 requests or 600 s; prints what it saw as JSON.
LOOP = r"""
import http.client, json, os, sys, threading, time
port, stop = int(sys.argv[1]), sys.argv[2]
started, sent, failures, greetings = time.monotonic(), [0], [], set()
lock = threading.Lock()
def hit(path):
    while not os.path.exists(stop) and sent[0] < 20000 and time.monotonic() - started < 600:
        with lock:
            sent[0] += 1
        at = time.monotonic() - started
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            res = conn.getresponse()
            body = res.read().decode().strip()
            conn.close()
            if res.status != 200:
                raise RuntimeError(f"{res.status} {body[:80]}")
            if path == "/":
                greetings.add(body)
        except Exception as error:
            with lock:
                failures.append(f"{path} at {at:.1f} s: {error!r}")
        time.sleep(0.02)
threads = [threading.Thread(target=hit, args=(path,)) for path in ("/", "/slow", "/slow")]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"sent": sent[0], "failures": failures, "greetings": sorted(greetings)}))
"""


def as_plain(script):
    return on_host("sh", "-c", script, user=USER)


def commit(version):
    """A commit of the plain app whose / answers GREETING with VERSION, pushed to its remote on
    the host; its hash."""
    as_plain(f"""set -e
        cd {HOME}/src
        sed -i 's/^const GREETING = .*/const GREETING = "{GREETING.format(version)}";/' web.js
        git add -A
        git -c user.name=deploy-tests -c user.email=tests@mecove.test commit -q -m 'Version {version}'
        git push -q origin HEAD:refs/heads/main""")
    return as_plain(f"git -C {HOME}/src rev-parse HEAD").strip()


def deploy(log):
    run = playbook("deploy.yml", "-e", SETTINGS, log=log)
    assert run.rc == 0, run.output[-3000:]
    return run


def instances_folders():
    """{name[pm_id]: the folder the process runs in}, read as the app's user."""
    procs = json.loads(on_host("sh", "-c", f"PM2_HOME={HOME}/.pm2 /usr/local/bin/pm2 jlist | tail -n 1", user=USER))
    return {f"{p['name']}[{p['pm_id']}]": on_host("readlink", f"/proc/{p['pid']}/cwd", user=USER, check=False).strip()
            for p in procs}


@pytest.fixture(scope="module")
def plain_app():
    """The plain app's user and PM2 service (the roles configure.yml applies), and its Git remote
    on the host holding examples/plain-app; removed afterwards, so that the host suite finds the
    host as configure left it."""
    run = playbook("tests/deploy/plain_app_host.yml", "-e", SETTINGS, log="plain-app-host")
    assert run.rc == 0, run.output[-3000:]
    as_plain(f"""set -e
        git init -q --bare -b main {HOME}/plain-app.git
        git clone -q {HOME}/plain-app.git {HOME}/src 2>/dev/null""")
    # A tar stream as the app's user: docker cp cannot write into the host's /tmp (a tmpfs).
    files = subprocess.run(["tar", "-C", str(REPO / "examples/plain-app"), "-c", "."], capture_output=True, check=True).stdout
    subprocess.run(["docker", "exec", "-i", "-u", USER, HOST, "tar", "-x", "-C", f"{HOME}/src"], input=files, check=True)
    yield
    on_host("sh", "-c", f"""systemctl disable --now pm2-{USER}.service pm2-{USER}-logrotate.timer
        rm -f /etc/systemd/system/pm2-{USER}*.service /etc/systemd/system/pm2-{USER}*.timer /etc/logrotate.d/pm2-{USER}
        systemctl daemon-reload; pkill -u {USER}; sleep 1; userdel -r {USER}""", check=False)


def test_an_app_that_knows_nothing_of_the_collection_deploys_and_a_code_change_loses_no_request(plain_app):
    commit(1)
    first = deploy("plain-app-first")
    assert "Deployed main" in first.output
    answer = on_host("python3", "-c", f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{PORT}/').read().decode())")
    assert GREETING.format(1) in answer

    sha = commit(2)
    stop = "/tmp/plain-app-loop.stop"
    on_host("rm", "-f", stop)
    loop = subprocess.Popen(["docker", "exec", HOST, "python3", "-c", LOOP, str(PORT), stop],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        second = deploy("plain-app-code-change")
        time.sleep(3)
    finally:
        on_host("touch", stop)
        out, err = loop.communicate(timeout=60)
    seen = json.loads(out or "{}") if loop.returncode == 0 else pytest.fail(f"the request loop failed: {err}")
    record("plain app code-change deploy", seconds=round(second.seconds, 1), requests=seen["sent"],
           failed=len(seen["failures"]))

    release = on_host("readlink", f"{HOME}/app/current").strip().rsplit("/", 1)[-1]
    assert release.endswith(sha[:12]), release
    assert seen["failures"] == [], f"{len(seen['failures'])} of {seen['sent']} requests failed: {seen['failures'][:10]}"
    assert seen["greetings"] == [GREETING.format(1), GREETING.format(2)], seen["greetings"]
    assert seen["sent"] >= 30, seen
    folders = instances_folders()
    assert len(folders) == 3 and set(folders.values()) == {f"{HOME}/app/releases/{release}"}, folders
