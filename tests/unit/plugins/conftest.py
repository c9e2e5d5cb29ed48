"""Make `ansible_collections.mecove.platform` and the bundled amazon.aws importable in plain pytest.

The repo is the collection (collections/ansible_collections/mecove/platform links back to it);
ansible's own collection finder resolves it next to the collections of the ansible package,
as ansible-test units does.
"""

import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

_finder = _AnsibleCollectionFinder(paths=[os.path.join(REPO_ROOT, "collections")], scan_sys_paths=True)
_finder._install()  # pylint: disable=protected-access


class ModuleExit(Exception):
    """exit_json or fail_json was called; .result holds what the module returned."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def run_module(monkeypatch):
    """run_module(main, args) -> the module's result dict (result['failed'] set on fail_json)."""

    def fake_exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        raise ModuleExit(kwargs)

    def fake_fail_json(self, **kwargs):
        kwargs["failed"] = True
        raise ModuleExit(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", fake_exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fake_fail_json)

    def run(main, args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as caught:
                main()
        return json.loads(json.dumps(caught.value.result, default=str))

    return run


@pytest.fixture
def clock(monkeypatch):
    """Waits in plugins/module_utils/waiting.py take no time; clock(step) makes each look at
    the clock `step` seconds later than the one before (to reach a deadline)."""
    from ansible_collections.mecove.platform.plugins.module_utils import waiting

    monkeypatch.setattr(waiting.time, "sleep", lambda seconds: None)

    def advance(step):
        ticks = iter(range(0, 1_000_000, step))
        monkeypatch.setattr(waiting.time, "time", lambda: next(ticks))

    return advance


@pytest.fixture
def aws_client(monkeypatch, clock):  # pylint: disable=unused-argument
    """The boto3 client every AnsibleAWSModule gets, as one MagicMock (no network); waits take
    no time (see clock)."""
    from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

    client = MagicMock(name="aws-client")
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, *args, **kwargs: client)
    return client
