"""Our deploy against the architecture's deploy.sh, on the same host, commits and request loop.

    make deploy-benchmark          (needs the local stack of `make demo`; takes ~25 min on arm64)

Not a test: it prints figures. On the demo's arm64 app host, while a request loop sends
GET /health through Caddy (except for the first and the no-op deploy), it measures with
playbooks/deploy.yml:
  1. a first deploy of main onto an empty app folder and a fresh database;
  2. a no-op deploy (the same commit again);
  3. a code-change deploy (one new commit, no migration, the dependency files unchanged);
  4. a lockfile-change deploy (one new commit adding a dependency: package.json and pnpm-lock.yaml);
  5. a rollback (playbooks/rollback.yml, back to the code-change release);
and the architecture's deploy.sh sequence for the same two changes (3 and 4), from the same
starting commits, in one checkout: `git pull`, `pnpm install --frozen-lockfile`, `pnpm build`,
.env regenerated, `npx prisma migrate deploy`, `pm2 restart all`. It prints one table (wall
time, requests, failed, slowest request, and the ratio to deploy.sh's code change) and where our
code-change and lockfile-change deploys spend their time, task by task (the per-command timings
of tests/harness/callback_plugins/command_timings.py). Between steps it deploys main again with
the playbook (a built release is switched to without a rebuild), so the host ends on main.
"""

import json
import os
import sys
import time

from conftest import (APP, HOST, PM2, REPO, LoadLoop, STANDINS, git, healthy, on_host, playbook, push_commit, sh,
                      wait_for)

OUTPUT = REPO / "tests" / "output"
# A small dependency with none of its own: the lockfile-change commit adds it.
ADDED_DEPENDENCY = "ms@2.1.3"
# Each deploy's remote commands, timed as scripts/demo.sh does.
os.environ.update(ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tests/harness/callback_plugins"),
                  ANSIBLE_CALLBACKS_ENABLED="ansible.posix.timer,command_timings")

# deploy.sh, step by step, in a checkout of its own (what the architecture's host has).
DEPLOY_SH = """
set -euo pipefail
export PM2_HOME=/home/mecove/.pm2 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt CI=true
cd /home/mecove/app/legacy
git pull -q --ff-only origin main
pnpm install --frozen-lockfile
pnpm build
cp /home/mecove/app/shared/.env .env    # stands in for: re-read Secrets Manager, write .env
npx prisma migrate deploy
pm2 restart all
"""


def under_load(action):
    load = LoadLoop()
    load.start()
    time.sleep(3)
    start = time.monotonic()
    action()
    seconds = time.monotonic() - start
    wait_for(healthy, 300)
    time.sleep(3)
    load.stop()
    return seconds, load


def run_playbook(name, step, *args):
    timings = OUTPUT / f"benchmark-{step}.timings.jsonl"
    timings.unlink(missing_ok=True)
    os.environ["MECOVE_COMMAND_TIMINGS"] = str(timings)
    run = playbook(f"{name}.yml", *args, log=f"benchmark-{step}")
    if run.rc != 0:
        raise SystemExit(f"{step}: {name}.yml failed:\n{run.output[-3000:]}")
    print(f"benchmark: {step}: {run.seconds:.1f} s, changed={run.changed}", flush=True)
    return run


def deploy(step):
    return run_playbook("deploy", step)


def legacy(step):
    """deploy.sh under the loop, in the checkout `current` points at; it must end on origin/main."""
    seconds, load = under_load(lambda: sh("docker", "exec", "-u", "mecove", HOST, "bash", "-c", DEPLOY_SH))
    served = on_host("git", "-C", f"{APP}/legacy", "rev-parse", "HEAD", user="mecove").strip()
    assert served == git("rev-parse", "origin/main"), f"deploy.sh left {served}"
    print(f"benchmark: {step}: {seconds:.1f} s, {load.sent} requests, {len(load.failures)} failed", flush=True)
    return seconds, load


def serve_from_legacy():
    """`current` -> the deploy.sh checkout (built), and PM2 onto it, as the architecture's host."""
    on_host("ln", "-sfn", f"{APP}/legacy", f"{APP}/current")
    on_host("sh", "-c", f"{PM2} reload all >/dev/null", user="mecove")
    wait_for(healthy, 300)


def breakdown(step, top=12):
    """(task, seconds) of one deploy's remote commands, loop items summed, the longest first."""
    totals = {}
    for line in (OUTPUT / f"benchmark-{step}.timings.jsonl").read_text().splitlines():
        row = json.loads(line)
        totals[row["task"]] = totals.get(row["task"], 0.0) + row["seconds"]
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    rest = ranked[top:]
    return ranked[:top] + ([(f"the other {len(rest)} remote tasks", sum(s for _t, s in rest))] if rest else [])


def lockfile_change(base):
    """package.json and pnpm-lock.yaml of BASE with ADDED_DEPENDENCY added, made by pnpm on the host."""
    scratch = "/var/tmp/benchmark-lockfile"
    on_host("sh", "-c", f"rm -rf {scratch} && git clone -q {APP}/repo.git {scratch} && cd {scratch} && "
            f"git checkout -q {base} && CI=true NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "
            f"pnpm add --lockfile-only {ADDED_DEPENDENCY} >/dev/null", user="mecove")
    files = {name: on_host("cat", f"{scratch}/{name}") for name in ("package.json", "pnpm-lock.yaml")}
    on_host("rm", "-rf", scratch)
    return files


def report(rows):
    """The table of ROWS {name: (seconds, LoadLoop or None)}, each deploy beside deploy.sh's run of
    the same change and beside our code change (issue 14's goals are ratios), then where our
    changing deploys spent their time and the requests that failed (the first and last three)."""
    ours = rows["ours: code change"][0]
    print()
    print("Deploys on the demo's arm64 host; requests: GET /health through Caddy during the deploy")
    print(f"  {'':32} {'wall s':>8} {'x deploy.sh':>11} {'x our code':>10} {'requests':>9} {'failed':>7} {'slowest s':>10}")
    for name, (seconds, load) in rows.items():
        same = next((rows[other][0] for other in rows
                     if other.startswith("deploy.sh:") and other.split(": ")[1] == name.split(": ")[1]), None)
        versus = f"{seconds / same:11.2f}" if same else f"{'-':>11}"
        traffic = (f"{load.sent:9d} {len(load.failures):7d} {load.slowest:10.1f}" if load
                   else f"{'-':>9} {'-':>7} {'-':>10}")
        print(f"  {name:32} {seconds:8.1f} {versus} {seconds / ours:10.2f} {traffic}")
    for step in ("code-change", "lockfile-change"):
        print()
        print(f"Where our {step} deploy spends its time (remote commands, seconds):")
        for task, seconds in breakdown(step):
            print(f"  {seconds:7.1f}  {task}")
    print()
    for name, (_seconds, load) in rows.items():
        failures = load.failures if load else []
        shown = failures if len(failures) <= 6 else failures[:3] + [f"... {len(failures) - 6} more"] + failures[-3:]
        for failure in shown:
            print(f"  {name}: failed request {failure}")


def main():
    print("benchmark: resetting the app folder and the database for a first deploy", flush=True)
    as_app = ["sh", "-c", f"{PM2} delete all >/dev/null 2>&1; {PM2} save --force >/dev/null"]
    on_host(*as_app, user="mecove", check=False)
    on_host("rm", "-rf", f"{APP}/releases", f"{APP}/current", f"{APP}/repo.git", f"{APP}/legacy")
    # The app's login role (the RDS secret's user, as scripts/demo.sh created it).
    owner = sh("docker", "exec", "-u", "postgres", STANDINS, "psql", "-d", "postgres", "-tAc",
               "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname <> 'postgres'").split()[0]
    sh("docker", "exec", "-u", "postgres", STANDINS, "psql", "-q", "-c", "DROP DATABASE IF EXISTS mecove WITH (FORCE)",
       "-c", f'CREATE DATABASE mecove OWNER "{owner}"')
    rows = {}
    first = deploy("first")
    rows["ours: first deploy (no loop)"] = (first.seconds, None)
    noop = deploy("no-op")
    rows[f"ours: no-op (changed={noop.changed})"] = (noop.seconds, None)

    base = git("rev-parse", "origin/main")
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    code = push_commit("main", {"src/api/benchmark.ts": f"export const benchmarkAt = \"{stamp}\";\n"},
                       f"Benchmark code change {stamp}")
    rows["ours: code change"] = under_load(lambda: deploy("code-change"))

    print("benchmark: setting up the deploy.sh checkout at the commit before", flush=True)
    on_host("sh", "-c", f"git clone -q {APP}/repo.git {APP}/legacy && cd {APP}/legacy && "
            f"git checkout -q -B main {base} && git remote set-url origin "
            "git@git.mecove.test:/srv/git/mecove-app.git && git branch -q -u origin/main && "
            "CI=true NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt pnpm install --frozen-lockfile "
            ">/dev/null && pnpm build >/dev/null", user="mecove")
    serve_from_legacy()
    rows["deploy.sh: code change"] = legacy("deploy.sh code change")
    deploy("back-1")

    push_commit("main", lockfile_change(code), f"Benchmark lockfile change {stamp}: add {ADDED_DEPENDENCY}")
    rows["ours: lockfile change"] = under_load(lambda: deploy("lockfile-change"))
    serve_from_legacy()
    rows["deploy.sh: lockfile change"] = legacy("deploy.sh lockfile change")
    deploy("back-2")
    on_host("rm", "-rf", f"{APP}/legacy")

    rows["ours: rollback"] = under_load(lambda: run_playbook("rollback", "rollback"))
    deploy("back-3")

    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
