"""No secret value anywhere it does not belong. Runs last in tests/deploy: it reads what every
earlier run of the suite left behind.

The stack creates the app secret with empty values, for the operator to fill in; test_deploy.py
fills them with distinctive ones before a deploy at -vvv (or this test does, when run alone).
Then every secret value is
searched for: the app secret's values, the RDS master password (rotated by test_faults.py) and the
app's database role password (each as is and URL-encoded, the form DATABASE_URL holds), and the
body lines of the deploy key and of the EC2 key pair's private key.
Where:
  - every Ansible output of the run, all at -vvv (the test harness sets ANSIBLE_VERBOSITY=3): the
    demo's first run and re-run (provision, configure, deploy), each deploy case, this deploy;
  - the files the playbooks write on the controller (outputs, stand-in settings);
  - every file written on the app host since it was created (the container's own overlay layer:
    the base image holds no secret), PM2's, Caddy's and Redis's files among them, and the tmpfs
    folders /run and /tmp; the only exceptions are where the secrets belong, the app's .env and
    the deploy key file;
  - the journal, as journalctl prints it.
Expected: zero hits.
"""

import subprocess
import tempfile
import urllib.parse

from conftest import (APP, HOST, REPO, app_secret, database_app_secret, fill_the_app_secret, on_host, playbook,
                      rds_master_secret, sh)

STACK = "mecove-mvp"
VERBOSE_MARK = "Using module file"  # printed for every module run at -vvv, never below
# Where secrets belong on the host (paths inside the container).
SECRET_STORES = {f"{APP}/shared/.env", "/home/mecove/.ssh/id_ed25519_deploy"}


def key_lines(name):
    text = (REPO / "inventories/.secrets/local" / name).read_text()
    return [line for line in text.splitlines() if "PRIVATE KEY" not in line and len(line) >= 20]


def grep_files(fragments, *paths):
    """Files under PATHS (on this machine) that hold any fragment; grep -F, devices skipped."""
    with tempfile.NamedTemporaryFile("w", suffix=".patterns") as patterns:
        patterns.write("\n".join(fragments) + "\n")
        patterns.flush()
        proc = subprocess.run(["grep", "-rlFs", "-D", "skip", "-f", patterns.name, *map(str, paths)],
                              capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout.split("\n")[:-1]


def test_no_secret_value_in_output_logs_or_host_files():
    app_values = app_secret()
    if not all(app_values.values()):  # test_deploy.py did not fill it (run alone): fill it and deploy here
        app_values = fill_the_app_secret()
        run = playbook("deploy.yml", "-vvv", log="secrets-canary")
        assert run.rc == 0, run.output[-3000:]

    passwords = [rds_master_secret()[1]["password"], database_app_secret()["password"]]
    fragments = sorted({*app_values.values(), *passwords, *(urllib.parse.quote(p, safe="") for p in passwords),
                        *key_lines(f"{STACK}-deploy-key"), *key_lines(f"{STACK}-ec2-ssh-key")})
    assert len(fragments) >= 10 and all(len(f) >= 8 for f in fragments)

    # The Ansible output: every playbook of the pipeline must have been seen at -vvv.
    logs = sorted((REPO / "tests/output").rglob("*.log")) + sorted((REPO / ".cache/demo/logs").glob("*.log"))
    verbose = [log.name for log in logs if VERBOSE_MARK in log.read_text(errors="replace")]
    for playbook_log in ("aws_provision_(emulator).log", "configure_(app_host).log", "deploy_(sample_app).log",
                         "deploy-code-change.log"):
        assert playbook_log in verbose, (
            f"{playbook_log} is missing or was not written at -vvv: run the suite through the test harness "
            "(make test), which sets ANSIBLE_VERBOSITY=3 for the demo stage")
    controller = [*logs, *(REPO / "inventories/local/group_vars/all").glob("*.yml")]
    hits = grep_files(fragments, *controller)

    # Every file the host wrote: its overlay layer, seen from this machine.
    upper = sh("docker", "inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", HOST).strip()
    assert upper.startswith("/") and on_host("test", "-d", APP) == ""
    host_hits = ["/" + path[len(upper):].lstrip("/") for path in grep_files(fragments, upper)]
    # The search does find what is there: the values reached the host's env file.
    assert f"{APP}/shared/.env" in host_hits
    hits += [f"host:{path}" for path in host_hits if path not in SECRET_STORES]
    # tmpfs folders, searched inside the host.
    found = subprocess.run(["docker", "exec", "-i", HOST, "grep", "-rlFs", "-D", "skip", "-f", "/dev/stdin",
                            "/run", "/tmp"], input="\n".join(fragments) + "\n", capture_output=True, text=True,
                           check=False)
    hits += [f"host:{path}" for path in found.stdout.split()]
    journal = on_host("journalctl", "--no-pager", "-o", "cat")
    assert len(journal.splitlines()) > 100
    hits += [f"journal: {f[:6]}..." for f in fragments if f in journal]

    assert hits == [], f"secret values found in: {hits}"
