"""Run the whole test suite, stage by stage, and end with one summary line.

    python tests/harness/run_tests.py [STAGE ...]     (stages: see STAGES; default all)

Every stage runs even when an earlier one failed, so one run shows every failure. The demo stage
(one emulated host, mostly waiting on one core) runs beside the others, which share nothing with
it (their containers, emulator port and inventory copies are their own). Each stage's full
output goes to tests/output/<stage>.log; a failing stage prints its last lines, and the summary
at the end repeats its error lines. Counted items: each lint/sanity stage, each pytest test file
and each molecule scenario. The last line is "N passed, N failed" (", N skipped" when a file's
tests were all skipped); the exit code is non-zero when anything failed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from inventory import rendered

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "tests" / "output"
# Scenarios that take longest start first, so that the parallel jobs end close together.
MOLECULE_SLOWEST = ["nodejs", "chromium", "deploy_key"]


_SAY = threading.Lock()
FAILED_LOGS = []  # logs of the commands that failed, for the reasons at the end
# Lines of a log that say why it failed (Ansible, molecule, pytest, shell).
REASON = re.compile(r"fatal:|FAILED!|ERROR|Error:|error:|AssertionError|^E  |Traceback|failed=[1-9]")


def say(text):
    """Print one line (or block) whole: stages run side by side, in threads."""
    with _SAY:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def run(stage, command, **kwargs):
    """Run a command with its output in the stage's log; return (ok, seconds)."""
    log = OUTPUT / f"{stage}.log"
    start = time.monotonic()
    with log.open("w") as out:
        rc = subprocess.call(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    seconds = time.monotonic() - start
    if rc != 0:
        lines = log.read_text(errors="replace").splitlines()
        say(f"---- last lines of {log.relative_to(REPO)} ----\n" + "\n".join(lines[-60:]) + "\n----")
        FAILED_LOGS.append(log)
    return rc == 0, seconds


def reasons(log, count=8, width=300):
    """The last lines of a failed command's log that say why, shortened: printed again at the
    very end, where a CI page that keeps only the end of the output still shows them."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if REASON.search(line)]
    return [line[:width] for line in lines[-count:]] or ["(no line of the log names an error; read it whole)"]


def single(stage, command):
    ok, seconds = run(stage, command)
    return [(stage, "passed" if ok else "failed")], seconds


def pytest_files(stage, path, **kwargs):
    """Run pytest on a folder; one result per test file, from the JUnit report."""
    if not (REPO / path).is_dir():
        return [], 0.0
    junit = OUTPUT / f"{stage}.junit.xml"
    junit.unlink(missing_ok=True)
    ok, seconds = run(stage, [sys.executable, "-m", "pytest", path, "-rs", "-o", "junit_family=xunit1",
                              f"--junitxml={junit}"], **kwargs)
    files = {}
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            name = case.get("file") or case.get("classname", "?")
            state = files.setdefault(name, {"failed": 0, "passed": 0, "skipped": 0})
            if case.find("failure") is not None or case.find("error") is not None:
                state["failed"] += 1
            elif case.find("skipped") is not None:
                state["skipped"] += 1
            else:
                state["passed"] += 1
    results = []
    for name, state in sorted(files.items()):
        outcome = "failed" if state["failed"] else ("passed" if state["passed"] else "skipped")
        results.append((f"{stage}: {name}", outcome))
    if not ok and not any(outcome == "failed" for _name, outcome in results):
        results.append((f"{stage}: pytest run", "failed"))  # collection error, crash, no report
    return results, seconds


def molecule_scenarios():
    names = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))
    return sorted(names, key=lambda n: (MOLECULE_SLOWEST.index(n) if n in MOLECULE_SLOWEST else len(names), n))


def molecule(stage):
    """Every scenario, MECOVE_TEST_JOBS (default 2) at a time: emulated containers spend much of
    their time waiting on downloads and on one core each, so two at once finish sooner."""
    jobs = max(1, int(os.environ.get("MECOVE_TEST_JOBS", "2")))
    started = time.monotonic()

    def one(scenario):
        ok, seconds = run(f"molecule-{scenario}", ["molecule", "test", "-s", scenario])
        say(f"    molecule {scenario}: {'passed' if ok else 'FAILED'} ({seconds:.0f} s)")
        return (f"{stage}: {scenario}", "passed" if ok else "failed")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, molecule_scenarios()))
    return results, time.monotonic() - started


RECAP = re.compile(r"^\S+\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
DEMO_LOGS = REPO / ".cache" / "demo" / "logs"


def playbook_changes(log):
    """Sum of changed (and unreachable/failed) over a playbook log's PLAY RECAP."""
    rows = RECAP.findall(log.read_text(errors="replace")) if log.exists() else []
    return sum(int(c) + int(u) + int(f) for c, u, f in rows) if rows else None


def aws_ssm_timeout():
    """The SSM command timeout inventories/aws gives the app host, as Ansible renders it."""
    try:
        return int(rendered("inventories/aws", "mecove-app", "ansible_aws_ssm_timeout"))
    except (ValueError, TypeError):
        return None


def ssm_fit(logs):
    """The demo's configure and deploy ran as over SSM; no single remote command of theirs may
    outlive the SSM command timeout of inventories/aws (the emulated host is slower than EC2)."""
    timeout = aws_ssm_timeout()
    commands = []
    for path in sorted(logs.glob("*.timings.jsonl")):
        commands += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    commands = [c for c in commands if c["host"] == "mecove-app"]
    commands.sort(key=lambda c: c["seconds"], reverse=True)
    lines = [f"    SSM command timeout of inventories/aws: {timeout} s; the longest of {len(commands)} remote "
             f"commands of the demo's configure and deploy:"]
    for c in commands[:5]:
        item = f" [{c['item']}]" if c["item"] else ""
        lines.append(f"      {c['seconds']:7.1f} s  {c['playbook']}: {c['task']}{item} ({c['kind']})")
    say("\n".join(lines))
    ok = timeout is not None and bool(commands) and commands[0]["seconds"] < timeout
    if not ok:
        say(f"    FAILED: {'no command timings' if not commands else f'timeout {timeout}'}")
    return ok


def demo(stage):
    """The whole pipeline on the local stack (`make demo`): provision on the emulator, the whole
    configure playbook on one arm64 container, the deploy of the sample app; a re-run must change
    nothing. Then the deploy cases (tests/deploy) run on that host, and the host suite (tests/live)
    checks it. Always torn down afterwards."""
    results, total = [], 0.0
    # Every playbook at -vvv: tests/deploy/test_secrets.py searches all of their output.
    verbose = dict(os.environ, ANSIBLE_VERBOSITY="3")
    try:
        ok, seconds = run(f"{stage}-first-run", ["bash", "scripts/demo.sh", "up"], env=verbose)
        # The re-run writes the same logs: keep the first run's.
        shutil.rmtree(OUTPUT / f"{stage}-first-run-logs", ignore_errors=True)
        if DEMO_LOGS.is_dir():
            shutil.copytree(DEMO_LOGS, OUTPUT / f"{stage}-first-run-logs")
        total += seconds
        say(f"    demo first run: {'ok' if ok else 'FAILED'} ({seconds:.0f} s)")
        results.append((f"{stage}: first run", "passed" if ok else "failed"))
        if ok:
            fits = ssm_fit(OUTPUT / f"{stage}-first-run-logs")
            results.append((f"{stage}: every remote command within the SSM timeout", "passed" if fits else "failed"))
            # The first run went as over SSM (no pipelining); the re-run may pipeline.
            ok, seconds = run(f"{stage}-re-run", ["bash", "scripts/demo.sh", "up"],
                              env=dict(verbose, MECOVE_DEMO_PIPELINING="true"))
            total += seconds
            changes = {name: playbook_changes(DEMO_LOGS / f"{name}.log")
                       for name in ("aws_provision_(emulator)", "configure_(app_host)", "deploy_(sample_app)")}
            noop = ok and all(count == 0 for count in changes.values())
            say(f"    demo re-run: {'no change' if noop else f'FAILED, changes {changes}'} ({seconds:.0f} s)")
            results.append((f"{stage}: re-run changes nothing", "passed" if noop else "failed"))
            cases, seconds = pytest_files(f"{stage}-deploy-cases", "tests/deploy", env=verbose)
            total += seconds
            say(f"    demo deploy cases (tests/deploy): {', '.join(o for _n, o in cases)} ({seconds:.0f} s)")
            results += cases
            live, seconds = pytest_files(f"{stage}-host-suite", "tests/live")
            total += seconds
            say(f"    demo host suite (tests/live): {', '.join(o for _n, o in live)} ({seconds:.0f} s)")
            results += live
    finally:
        ok, seconds = run(f"{stage}-destroy", ["bash", "scripts/demo.sh", "down"])
        total += seconds
        results.append((f"{stage}: destroy", "passed" if ok else "failed"))
    return results, total


STAGES = {
    "yamllint": lambda s: single(s, ["yamllint", "--strict", "."]),
    "ansible-lint": lambda s: single(s, ["ansible-lint", "--profile", "production"]),
    "sanity": lambda s: single(s, ["bash", "tests/harness/sanity.sh"]),
    "scan": lambda s: single(s, [sys.executable, "tests/harness/scan.py"]),
    "unit": lambda s: pytest_files(s, "tests/unit"),
    "bad-input": lambda s: pytest_files(s, "tests/bad_input"),
    "provision": lambda s: pytest_files(s, "tests/provision"),
    "molecule": molecule,
    "demo": demo,
}


def main(argv):
    wanted = argv or list(STAGES)
    unknown = [s for s in wanted if s not in STAGES]
    if unknown:
        sys.exit(f"unknown stage(s) {unknown}; stages are: {', '.join(STAGES)}")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    results, timings, started = [], [], time.monotonic()

    def one(stage):
        say(f"==> {stage}")
        stage_results, seconds = STAGES[stage](stage)
        failed = [name for name, outcome in stage_results if outcome == "failed"]
        say(f"<== {stage}: {'FAILED' if failed else 'ok'} ({seconds:.0f} s, {len(stage_results)} counted)")
        results.extend(stage_results)
        timings.append((stage, seconds))

    beside = None
    if "demo" in wanted and len(wanted) > 1:
        beside = threading.Thread(target=one, args=("demo",))
        beside.start()
    for stage in wanted:
        if not (beside and stage == "demo"):
            one(stage)
    if beside:
        beside.join()
    print("\nStage times:")
    for stage, seconds in timings:
        print(f"  {stage:<14} {seconds:7.0f} s")
    print(f"  {'total':<14} {time.monotonic() - started:7.0f} s")
    counts = {o: sum(1 for _name, outcome in results if outcome == o) for o in ("passed", "failed", "skipped")}
    for log in FAILED_LOGS:
        print(f"\nWhy {log.relative_to(REPO)} failed (its last error lines):")
        for line in reasons(log):
            print(f"  | {line}")
    for name, outcome in results:
        if outcome != "passed":
            print(f"  {outcome.upper()}: {name}")
    summary = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        summary += f", {counts['skipped']} skipped"
    print(summary)
    return 1 if counts["failed"] or not results else 0


if __name__ == "__main__":
    os.environ.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    sys.exit(main(sys.argv[1:]))
