"""A host's variable as Ansible renders it from an inventory (the debug action runs on the
controller, so nothing is contacted). Shared by the harness, tests/unit and tests/live."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).parent / "ansible"


def rendered(inventory, host, name):
    """The value of NAME for HOST; ValueError, with Ansible's output, when it cannot be read.
    An undefined variable is not an error: Ansible renders it as a "VARIABLE IS NOT DEFINED!" text."""
    result = subprocess.run(
        [str(ANSIBLE), host, "-i", str(inventory), "-o", "-m", "ansible.builtin.debug", "-a", f"var={name}"],
        cwd=REPO, capture_output=True, text=True, check=False,
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
    )
    if result.returncode != 0 or "=>" not in result.stdout:
        raise ValueError(f"cannot read {name} of {host} from {inventory}:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.split("=>", 1)[1])[name]
