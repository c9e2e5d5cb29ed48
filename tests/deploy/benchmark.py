"""Our deploy against the architecture's deploy.sh, on the same host, commits and request loop.

    make deploy-benchmark          (needs the local stack of `make demo`; takes ~15 min on arm64)

Not a test: it prints figures. On the demo's arm64 app host it measures
  1. a first deploy of main onto an empty app folder and a fresh database;
  2. a no-op deploy (the same commit again);
  3. a code-change deploy (one new commit, no migration) with playbooks/deploy.yml, while a
     request loop sends GET /health through Caddy;
  4. the architecture's deploy.sh sequence for the same change, from the same starting commit,
     under the same loop: in one checkout, `git pull`, `pnpm install --frozen-lockfile`,
     `pnpm build`, .env regenerated, `npx prisma migrate deploy`, `pm2 restart all`.
Then it deploys main again with the playbook, so the host ends as it was (plus one commit).
"""

import sys
import time

from conftest import (APP, HOST, PM2, LoadLoop, STANDINS, git, healthy, on_host, playbook, push_commit, sh, wait_for)

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


def deploy(*args, name):
    run = playbook("deploy.yml", *args, log=f"benchmark-{name}")
    if run.rc != 0:
        raise SystemExit(f"{name}: deploy failed:\n{run.output[-3000:]}")
    print(f"benchmark: {name} deploy: {run.seconds:.1f} s, changed={run.changed}", flush=True)
    return run


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
    first = deploy(name="first")
    noop = deploy(name="noop")

    base = git("rev-parse", "origin/main")
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    change = {"src/api/benchmark.ts": f"export const benchmarkAt = \"{stamp}\";\n"}
    new = push_commit("main", change, f"Benchmark code change {stamp}")

    ours_seconds, ours = under_load(lambda: deploy(name="code-change"))

    print("benchmark: setting up the deploy.sh checkout at the previous commit", flush=True)
    on_host("sh", "-c", f"git clone -q {APP}/repo.git {APP}/legacy && cd {APP}/legacy && "
            f"git checkout -q -B main {base} && git remote set-url origin "
            "git@git.mecove.test:/srv/git/mecove-app.git && git branch -q -u origin/main && "
            "CI=true NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt pnpm install --frozen-lockfile "
            ">/dev/null && pnpm build >/dev/null", user="mecove")
    on_host("ln", "-sfn", f"{APP}/legacy", f"{APP}/current")
    on_host("sh", "-c", f"{PM2} reload all >/dev/null", user="mecove")
    wait_for(healthy, 300)

    print(f"benchmark: ours under load: {ours_seconds:.1f} s, {ours.sent} requests, {len(ours.failures)} failed "
          f"{ours.failures}", flush=True)
    legacy_seconds, legacy = under_load(
        lambda: sh("docker", "exec", "-u", "mecove", HOST, "bash", "-c", DEPLOY_SH))
    print(f"benchmark: deploy.sh under load: {legacy_seconds:.1f} s, {legacy.sent} requests, {len(legacy.failures)} "
          f"failed", flush=True)
    served = on_host("git", "-C", f"{APP}/legacy", "rev-parse", "HEAD", user="mecove").strip()
    assert served == new, f"deploy.sh left {served}, not {new}"

    back = deploy(name="back")
    on_host("rm", "-rf", f"{APP}/legacy")

    rows = [("playbooks/deploy.yml", ours_seconds, ours), ("deploy.sh (pm2 restart all)", legacy_seconds, legacy)]
    print()
    print("Code-change deploy under a GET /health loop through Caddy (same host, same commits):")
    print(f"  {'':30} {'wall s':>8} {'requests':>9} {'failed':>7} {'slowest s':>10}")
    for name, seconds, load in rows:
        print(f"  {name:30} {seconds:8.1f} {load.sent:9d} {len(load.failures):7d} {load.slowest:10.1f}")
    print()
    print(f"  first deploy (empty host, fresh database): {first.seconds:6.1f} s")
    print(f"  no-op deploy (same commit):                {noop.seconds:6.1f} s, changed={noop.changed}")
    print(f"  code-change deploy:                        {ours_seconds:6.1f} s")
    print(f"  back to the release layout (built release reused): {back.seconds:.1f} s")
    for name, _seconds, load in rows:
        for failure in load.failures:
            print(f"  {name} failed request {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
