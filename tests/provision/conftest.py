"""Emulator-backed integration suite of playbooks/aws_provision.yml and aws_teardown.yml.

Starts the patched AWS emulator (tests/harness/moto_server.py) on 127.0.0.1 on a free port and
runs the playbooks against it as subprocesses, with the local inventory copied into a temporary
directory (outputs and keys land there, never in the repo). Dummy credentials only.

The tests in test_aws_estate.py run in file order against ONE emulated estate: bad inputs and
check mode on the empty account first, then provision, re-run, assertions, teardown.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
REGION = "ap-south-1"
STACK = "mecove-mvp"
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)",
    re.M,
)
METRICS: dict[str, str] = {}


@dataclass
class Run:
    args: list[str]
    returncode: int
    output: str
    seconds: float
    requests: int
    cpu_seconds: float = 0.0
    recap: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.recap["changed"]

    def figures(self) -> str:
        """Wall time, the controller's CPU time (ansible-playbook and its workers), AWS requests."""
        return f"{self.seconds:.1f} s, {self.cpu_seconds:.1f} s CPU, {self.requests} AWS requests, changed={self.recap.get('changed')}"

    def explain(self) -> str:
        return f"ansible-playbook {' '.join(self.args)} -> rc={self.returncode}\n{self.output[-6000:]}"


class Emulator:
    def __init__(self, tmp: Path):
        self.port_file = tmp / "moto.port"
        self.request_log = tmp / "moto-requests.log"
        self.request_log.touch()
        self.stderr = open(tmp / "moto.stderr", "w", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tests/harness/moto_server.py"), "--port", "0",
             "--port-file", str(self.port_file), "--request-log", str(self.request_log)],
            stdout=self.stderr, stderr=subprocess.STDOUT, cwd=REPO,
        )
        deadline = time.time() + 60
        while not self.port_file.exists():
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the emulator did not start; see {tmp / 'moto.stderr'}")
            time.sleep(0.1)
        self.url = f"http://127.0.0.1:{int(self.port_file.read_text())}"

    def actions(self) -> list[str]:
        """The API action of every request so far, in order."""
        with open(self.request_log, encoding="utf-8") as log:
            return [line.split()[-1] for line in log if line.strip()]

    def mutations(self, since: int) -> list[str]:
        """The requests after the first `since` that may change something: any action but a
        Describe, Get or List one, and any REST call (S3) but a GET or HEAD."""
        with open(self.request_log, encoding="utf-8") as log:
            actions = [line.split(None, 2)[2].strip() for line in log if line.strip()][since:]
        return [a for a in actions if not re.match(r"(Describe|Get|List)|(GET|HEAD) ", a)]

    def requests(self) -> int:
        return len(self.actions())

    def requests_of(self, action: str) -> int:
        """How many requests of one API action the log holds."""
        return self.actions().count(action)

    def ssm_agents_register_after(self, seconds: float | None) -> None:
        """The emulator's SSM agents register this long after launch (None: never); gap 6 of
        tests/harness/moto_server.py."""
        value = "never" if seconds is None else f"{seconds:.1f}"
        request = urllib.request.Request(f"{self.url}/_emulator/ssm-agent?registers_after={value}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (the emulator on loopback)
            answer.read()

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.stderr.close()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("emulator"))
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def inventory(tmp_path_factory) -> Path:
    """A private copy of inventories/local (shared group_vars resolved), so outputs stay out of the repo.
    What a running `make demo` wrote into inventories/local (its outputs, keys, stand-ins) is left out."""
    target = tmp_path_factory.mktemp("inventory") / "local"
    shutil.copytree(REPO / "inventories/local", target, symlinks=False,
                    ignore=shutil.ignore_patterns("provision_outputs.yml", "local_standins.yml"))
    return target


@pytest.fixture(scope="session")
def secrets_dir(inventory) -> Path:
    """Where aws_provision writes the keys: beside the inventory folder, not in it."""
    return inventory.parent / ".secrets" / inventory.name


def cpu_of_children() -> float:
    """User and system CPU seconds of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture(scope="session")
def playbook(emulator, inventory):
    """playbook('aws_provision.yml', '-e', 'x=y', ...) -> Run (never raises on failure)."""
    # No real AWS setting may leak in: only the emulator and dummy credentials.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=emulator.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="false",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )

    def run(name: str, *extra: str, kill_at: str | None = None) -> Run:
        """With kill_at (a task name), the run is killed (SIGKILL, with its workers) half a
        second after that task starts: an operator's Ctrl-C, a lost CI runner."""
        args = ["-i", str(inventory / "hosts.yml"), f"playbooks/{name}", *extra]
        before = emulator.requests()
        start, cpu_before = time.monotonic(), cpu_of_children()
        proc = subprocess.Popen([str(Path(sys.executable).parent / "ansible-playbook"), *args], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        watchdog = threading.Timer(900, os.killpg, (proc.pid, signal.SIGKILL))  # a hung run fails, never hangs
        watchdog.start()
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if kill_at and line.startswith(f"TASK [{kill_at}"):
                time.sleep(0.5)
                os.killpg(proc.pid, signal.SIGKILL)
                break
        proc.wait()
        watchdog.cancel()
        proc.stdout.close()
        output = "".join(lines)
        result = Run(args, proc.returncode, output, time.monotonic() - start, emulator.requests() - before,
                     cpu_of_children() - cpu_before)
        match = None
        for match in RECAP.finditer(output):
            pass
        if match:
            result.recap = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
        return result

    return run


@pytest.fixture(scope="session")
def metrics() -> dict[str, str]:
    """Wall times and request counts, printed at the end of the run."""
    return METRICS


def pytest_terminal_summary(terminalreporter):
    if METRICS:
        terminalreporter.section("AWS emulator measurements")
        for key, value in METRICS.items():
            terminalreporter.write_line(f"{key}: {value}")
