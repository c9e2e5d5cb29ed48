"""The values our checks accept are the ones the upstream modules accept, read from the modules
installed beside the tests, so that an upgrade of amazon.aws that changes them turns this red."""

import ast
import importlib.util
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def module_list(module, name):
    """The literal list assigned to NAME anywhere in an upstream module's source."""
    source = Path(importlib.util.find_spec(module).origin).read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{module} no longer assigns {name}: read the module and update our check")


def task_var(path, task_name, name):
    tasks = yaml.safe_load((REPO / path).read_text())
    return next(t["vars"][name] for t in tasks if t["name"] == task_name)


def test_log_retention_choices_are_the_log_group_module_s_own():
    # For any other value, cloudwatchlogs_log_group deletes the existing log group, then fails.
    upstream = module_list("ansible_collections.amazon.aws.plugins.modules.cloudwatchlogs_log_group", "permited_values")
    ours = task_var("playbooks/tasks/aws/validate.yml", "Check the sizes, retention periods and switches", "log_retention_choices")
    assert ours == upstream
