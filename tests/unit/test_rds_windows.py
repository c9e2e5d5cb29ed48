"""The check of the database's backup and maintenance windows (playbooks/tasks/aws/validate.yml),
run as it is: one ansible-playbook run of that task, one inventory host per case."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TASK = "Check the database's backup and maintenance windows"
# (backup window, maintenance window, accepted)
CASES = [
    ("20:30-21:00", "sun:21:30-sun:22:30", True),  # the defaults; adjacent windows do not overlap
    ("20:30-21:00", "sun:20:45-sun:21:30", False),  # maintenance starts inside the backup window
    ("20:30-21:00", "sat:20:00-sat:20:45", False),  # the backup window starts inside maintenance
    ("23:50-00:20", "mon:00:10-mon:00:40", False),  # across midnight
    ("23:50-00:20", "mon:00:20-mon:00:50", True),
    ("20:30-21:00", "sat:23:45-sun:00:15", True),  # maintenance across days
    ("02:00-03:00", "sun:23:30-mon:02:30", False),  # ... reaching into the backup window
    ("20:30-20:50", "sun:21:30-sun:22:30", False),  # backups under 30 minutes
    ("20:30-21:00", "sun:21:30-sun:21:45", False),  # maintenance under 30 minutes
    ("25:00-25:30", "sun:21:30-sun:22:30", False),  # no such hour
    ("20:30-21:00", "Sun:21:30-Sun:22:30", False),  # RDS reports days in lowercase
    ("3am", "sunday", False),
]


def test_the_windows_check_accepts_exactly_the_valid_pairs(tmp_path):
    tasks = yaml.safe_load((REPO / "playbooks/tasks/aws/validate.yml").read_text())
    task = next(t for t in tasks if t["name"] == TASK)
    playbook = tmp_path / "windows.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": [task]}]))
    hosts = {f"case{i}": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                          "mecove_rds_backup_window": backup, "mecove_rds_maintenance_window": maintenance}
             for i, (backup, maintenance, _accepted) in enumerate(CASES)}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    failed = {line.split()[0] for line in run.stdout.splitlines() if "failed=1" in line}
    accepted = {f"case{i}": f"case{i}" not in failed for i in range(len(CASES))}
    assert accepted == {f"case{i}": case[2] for i, case in enumerate(CASES)}, run.stdout[-3000:]
