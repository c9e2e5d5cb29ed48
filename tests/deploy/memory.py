"""Does a deploy fit in the instance's memory? Peak memory by process on the demo's app host.

    make deploy-memory             (needs the local stack of `make demo`; ~10 min native, ~25 arm64)

Not a test: it prints figures. On the demo's app host (arm64 under emulation by default;
MECOVE_DEMO_ARCH=amd64 make demo gives a native one, which scripts/demo.sh limits to a t4g.small's
2 CPUs and 2 GiB without swap) it
  1. pushes a commit that changes the lockfile (a dependency added, or its version changed), so that the
     deploy runs a full `pnpm install` and build;
  2. deploys it with playbooks/deploy.yml while a request loop sends GET /health through Caddy and
     reports (API -> queue -> worker -> Chromium -> PDF) are rendered one after another;
  3. samples every process's memory (PSS) once a second, and reads the container's memory
     cgroup (its peak, and its count of processes the OOM killer ended).
It prints the peak of each group of processes, the peak of their sum, the cgroup's peak and the
headroom under the limit (or under 2 GiB where the container has none), and fails if a process
was killed (OOM, or PM2's max_memory_restart), a request failed or a report did not render.
"""

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import APP, HOST, REPO, SRC, LoadLoop, git, healthy, https, on_host, playbook, wait_for

INSTANCE_BYTES = 2 * 1024 ** 3  # t4g.small
MIB = 1024 ** 2
# Process groups, by command line, first match wins. PM2 retitles its processes ("node <script>",
# "PM2 ... God Daemon"), except under emulation, where the command line stays the emulator's:
# ProcessContainer.js for cluster mode (the API), ProcessContainerFork.js for fork mode (the worker).
GROUPS = [
    ("chromium", re.compile(r"chrom(e|ium)")),
    ("health-gate api", re.compile(r"mecove-check-release")),
    ("pm2 api", re.compile(r"pm2/lib/ProcessContainer\.js|dist/api/server\.js")),
    ("pm2 worker", re.compile(r"pm2/lib/ProcessContainerFork\.js|dist/worker/worker\.js")),
    ("pm2 daemon", re.compile(r"pm2/lib/Daemon\.js|God Daemon")),
    ("pm2 commands (the deploy's)", re.compile(r"/bin/pm2 ")),
    ("install, build, migrate", re.compile(r"pnpm|tsc|prisma|npm|corepack|node_modules/\.bin")),
    ("git", re.compile(r"\bgit\b")),
    ("redis", re.compile(r"redis-server|valkey-server")),
    ("caddy", re.compile(r"\bcaddy\b")),
    ("ansible (python)", re.compile(r"python3|ansible")),
]
OTHER = "other"


def container_cgroup():
    """The memory cgroup folder of the app host container (cgroup v1 or v2) on this machine."""
    full_id = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", HOST], capture_output=True, text=True,
                             check=True).stdout.strip()
    for candidate in (f"/sys/fs/cgroup/memory/docker/{full_id}", f"/sys/fs/cgroup/system.slice/docker-{full_id}.scope",
                      f"/sys/fs/cgroup/docker/{full_id}"):
        if Path(candidate).is_dir():
            return Path(candidate)
    raise SystemExit(f"no memory cgroup found for {HOST} ({full_id})")


class Cgroup:
    """The container's memory accounting; v1 and v2 name the same figures differently."""

    def __init__(self, path):
        self.path = path
        self.v1 = (path / "memory.usage_in_bytes").exists()

    def read(self, name):
        return (self.path / name).read_text()

    def limit(self):
        raw = self.read("memory.limit_in_bytes" if self.v1 else "memory.max").strip()
        return None if raw == "max" or int(raw) >= 2 ** 60 else int(raw)

    def usage(self):
        return int(self.read("memory.usage_in_bytes" if self.v1 else "memory.current"))

    def anon(self):
        """Memory that cannot be dropped as cache (process memory, tmpfs, shared memory)."""
        stat = dict(line.split() for line in self.read("memory.stat").splitlines())
        return int(stat["total_rss"] if self.v1 else stat["anon"]) + int(stat.get("total_shmem" if self.v1 else "shmem", 0))

    def oom_kills(self):
        text = self.read("memory.oom_control" if self.v1 else "memory.events")
        found = re.search(r"^oom_kill (\d+)$", text, re.M)
        return int(found.group(1)) if found else 0

    def reset_peak(self):
        if self.v1:
            (self.path / "memory.max_usage_in_bytes").write_text("0")

    def peak(self):
        name = "memory.max_usage_in_bytes" if self.v1 else "memory.peak"
        return int(self.read(name)) if (self.path / name).exists() else None


def group_of(args):
    if not args:
        return "(no command line: starting or ending)"
    for name, pattern in GROUPS:
        if pattern.search(args):
            return name
    return OTHER


# Runs inside the host, as root: once a second, one JSON line {pid: [ppid, Pss kB, command line]}
# until its stdin closes. PSS (proportional set size) shares a page among the processes that map
# it, so the groups add up to what the processes hold; one long-lived sampler, because every
# process started on an emulated host costs a second of CPU.
SAMPLER = r"""
import json, os, select, sys
while not select.select([sys.stdin], [], [], 1.0)[0]:
    rows = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss = next((int(l.split()[1]) for l in f if l.startswith("Pss:")), 0)
            with open(f"/proc/{pid}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, StopIteration, IndexError):
            continue
        rows[pid] = [ppid, pss, command]
    print(json.dumps(rows), flush=True)
"""


class Sampler(threading.Thread):
    """Every process's memory (PSS) once a second, summed by group; the container's usage."""

    def __init__(self, cgroup):
        super().__init__(daemon=True)
        self.cgroup = cgroup
        self.peaks = {}
        self.peak_sum = 0
        self.peak_anon = 0
        self.samples = 0
        self.others = {}  # what "other" was: the largest command lines in it
        self.proc = None

    def add(self, rows):
        totals = {}
        for ppid, pss, command in rows.values():
            if "smaps_rollup" in command:
                continue  # this sampler
            # The health gate's API is the release's own script, started by the check script.
            parent = rows.get(ppid, ["", 0, ""])[2]
            group = "health-gate api" if "mecove-check-release" in parent else group_of(command)
            totals[group] = totals.get(group, 0) + pss * 1024
            if group == OTHER:
                self.others[command[:90]] = max(self.others.get(command[:90], 0), pss * 1024)
        for group, total in totals.items():
            self.peaks[group] = max(self.peaks.get(group, 0), total)
        self.peak_sum = max(self.peak_sum, sum(totals.values()))
        self.peak_anon = max(self.peak_anon, self.cgroup.anon())
        self.samples += 1

    def run(self):
        self.proc = subprocess.Popen(["docker", "exec", "-i", HOST, "python3", "-c", SAMPLER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            self.add(json.loads(line))

    def stop(self):
        self.proc.stdin.close()
        self.join(timeout=30)


class Reports(threading.Thread):
    """One report after another through the API (API -> queue -> worker -> Chromium), so that a
    render is under way for the whole deploy; each must end rendered."""

    def __init__(self):
        super().__init__(daemon=True)
        self.rendered = 0
        self.problems = []
        self._stop_event = threading.Event()

    def render(self, timeout=300):
        status, created = https("POST", "/reports", {"title": "Memory figure", "lines": ["Latin", "देवनागरी"]})
        if status != 202:
            return f"POST /reports answered {status} {created}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, report = https("GET", f"/reports/{created['id']}")
            if status == 200 and report["status"] == "done":
                self.rendered += 1
                return None
            if status == 200 and report["status"] == "failed":
                return f"report {created['id']} failed: {report.get('error')}"
            time.sleep(1)
        return f"report {created['id']} not rendered within {timeout} s"

    def run(self):
        while not self._stop_event.is_set():
            try:
                problem = self.render()
            except OSError as error:
                problem = f"/reports: {error!r}"
            if problem:
                self.problems.append(problem)

    def stop(self):
        """Wait for the report under way; the problems."""
        self._stop_event.set()
        self.join(timeout=330)
        return self.problems


def lockfile_commit():
    """Push a commit that adds a small dependency, or changes its version, with the lockfile pnpm
    writes for that (resolved on the host, which reaches the npm registry); its hash."""
    git("checkout", "-q", "main")
    git("pull", "-q", "--ff-only", "origin", "main")
    package = json.loads((SRC / "package.json").read_text())
    version = "2.1.2" if package.get("dependencies", {}).get("ms") == "2.1.3" else "2.1.3"
    work = "/tmp/mecove-memory-lockfile"
    on_host("sh", "-c", f"rm -rf {work} && mkdir -p {work}")
    for name in ("package.json", "pnpm-lock.yaml"):
        subprocess.run(["docker", "exec", "-i", HOST, "sh", "-c", f"cat > {work}/{name}"], check=True,
                       input=(SRC / name).read_bytes())
    on_host("chown", "-R", "mecove:mecove", work)
    on_host("sh", "-c", f"cd {work} && CI=true NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "
            f"pnpm add --save-exact ms@{version} --lockfile-only >/dev/null", user="mecove")
    for name in ("package.json", "pnpm-lock.yaml"):
        (SRC / name).write_bytes(subprocess.run(["docker", "exec", HOST, "cat", f"{work}/{name}"], check=True,
                                                capture_output=True).stdout)
    on_host("rm", "-rf", work)
    git("commit", "-q", "-am", f"Memory figure: depend on ms {version} (the lockfile changes)")
    git("push", "-q", "origin", "HEAD:refs/heads/main")
    git("fetch", "-q", "origin")
    return git("rev-parse", "HEAD")


def max_memory_restarts():
    """Restarts PM2 made because a process passed its max_memory_restart, as its log counts them."""
    log = on_host("sh", "-c", "cat /home/mecove/.pm2/pm2.log 2>/dev/null || true", user="mecove")
    return log.count("exceeds --max-memory-restart")


def main():
    (REPO / "tests" / "output").mkdir(parents=True, exist_ok=True)
    cgroup = Cgroup(container_cgroup())
    arch = on_host("uname", "-m").strip()
    limit = cgroup.limit()
    wait_for(healthy, 120)
    print(f"memory: host {HOST} ({arch}), container limit "
          f"{'none' if limit is None else f'{limit / MIB:.0f} MiB'}; pushing a lockfile change", flush=True)
    commit = lockfile_commit()
    oom_before, pm2_before = cgroup.oom_kills(), max_memory_restarts()
    cgroup.reset_peak()
    sampler, load, reports = Sampler(cgroup), LoadLoop(), Reports()
    for thread in (sampler, load, reports):
        thread.start()
    run = playbook("deploy.yml", log="memory")
    problems = reports.stop()
    wait_for(healthy, 300)
    load.stop()
    sampler.stop()
    oom_kills, pm2_kills = cgroup.oom_kills() - oom_before, max_memory_restarts() - pm2_before
    served = on_host("cat", f"{APP}/current/REVISION").strip()

    budget = limit or INSTANCE_BYTES
    peak = cgroup.peak()
    print()
    print(f"Deploy of a lockfile change ({commit[:10]}) + {reports.rendered} PDF renders under a GET /health loop,")
    print(f"on {arch} ({sampler.samples} samples, one a second); peak memory (PSS), MiB:")
    for group, value in sorted(sampler.peaks.items(), key=lambda item: -item[1]):
        print(f"  {group:28} {value / MIB:8.0f}")
    for command, value in sorted(sampler.others.items(), key=lambda item: -item[1])[:3]:
        print(f"    {OTHER}: {value / MIB:5.0f}  {command}")
    print(f"  {'sum of the processes (peak)':28} {sampler.peak_sum / MIB:8.0f}")
    print(f"  {'cgroup, process memory':28} {sampler.peak_anon / MIB:8.0f}   (anon + shmem: cannot be dropped)")
    if peak is not None:
        print(f"  {'cgroup, with page cache':28} {peak / MIB:8.0f}")
    print(f"  headroom under {'the limit' if limit else 'the instance'}'s {budget / MIB:.0f} MiB: "
          f"{(budget - sampler.peak_sum) / MIB:.0f} MiB over the processes' peak")
    print(f"  deploy {run.seconds:.0f} s, rc={run.rc}; requests {load.sent}, failed {len(load.failures)}; "
          f"OOM kills {oom_kills}; max_memory_restart restarts {pm2_kills}")
    failures = ([f"deploy failed (rc={run.rc}): tests/output/deploy-memory.log"] if run.rc else []) \
        + ([f"serving {served}, not {commit}"] if served != commit else []) \
        + [f"request failed {f}" for f in load.failures] + problems \
        + ([f"{oom_kills} processes killed by the OOM killer"] if oom_kills else []) \
        + ([f"{pm2_kills} PM2 restarts at max_memory_restart"] if pm2_kills else [])
    for failure in failures:
        print(f"  FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
