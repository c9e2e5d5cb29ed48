"""What one Ansible task costs on an emulated arm64 test container, with the image's bytecode cache
for zip-imported modules (zip_bytecode_cache.py) and without it, on the same container in the same
run: a figure, not a test.

    python tests/harness/task_benchmark.py [--rounds 3]      (make task-benchmark)

Starts a container from the arm64 base image, runs one playbook of ordinary tasks (stat, command,
file, copy, lineinfile, the minimal facts) once to fill the cache, then alternately with the cache
off and on, and prints the median seconds per task of each and their ratio.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTAINER = "mecove-task-benchmark"
PLAYBOOK = """
- name: Ordinary tasks
  hosts: all
  gather_facts: false
  environment:
    MECOVE_ZIP_BYTECODE_CACHE: "{{ cache }}"
  tasks:
    - {name: Read a file's state, ansible.builtin.stat: {path: /etc/os-release}}
    - {name: Run a command, ansible.builtin.command: {argv: [uname, -m]}, changed_when: false}
    - {name: Make a folder, ansible.builtin.file: {path: /srv/bench, state: directory, mode: "0755"}}
    - {name: Write a file, ansible.builtin.copy: {content: "x\\n", dest: /srv/bench/file, mode: "0644"}}
    - {name: Edit a line, ansible.builtin.lineinfile: {path: /srv/bench/file, line: "y"}}
    - {name: Read a file's state again, ansible.builtin.stat: {path: /srv/bench/file}}
    - {name: Gather the minimal facts, ansible.builtin.setup: {gather_subset: [min]}}
"""
TASKS = 7


def run_playbook(playbook, cache):
    start = time.monotonic()
    subprocess.run([str(REPO / ".venv/bin/ansible-playbook"), "-i", f"{CONTAINER},", "-c", "community.docker.docker",
                    "-e", "ansible_python_interpreter=/usr/bin/python3", "-e", f"cache={cache}", playbook],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    image = subprocess.run(["bash", "tests/harness/base-image.sh", "arm64"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.strip()
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    subprocess.run(["docker", "run", "-d", "--name", CONTAINER, "--entrypoint", "sleep", image, "3600"],
                   check=True, stdout=subprocess.DEVNULL)
    seconds = {"off": [], "on": []}
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as playbook:
            playbook.write(PLAYBOOK)
            playbook.flush()
            run_playbook(playbook.name, "on")  # fills the cache, as the first tasks of a run do
            for _round in range(rounds):
                for cache in ("off", "on"):
                    seconds[cache].append(run_playbook(playbook.name, cache))
    finally:
        subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    median = {cache: statistics.median(values) for cache, values in seconds.items()}
    print(f"{TASKS} tasks a run, {rounds} runs each, on {image} (each run also pays ansible-playbook's start)")
    for cache in ("off", "on"):
        print(f"  bytecode cache {cache:<3}  median {median[cache]:6.1f} s a run, "
              f"{median[cache] / TASKS:4.2f} s a task  (runs: {', '.join(f'{s:.1f}' for s in seconds[cache])})")
    print(f"  ratio on/off: {median['on'] / median['off']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
