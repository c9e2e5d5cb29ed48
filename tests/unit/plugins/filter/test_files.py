"""Unit tests of file_outdated (plugins/filter/files.py): a file is judged unchanged only when content,
owner, group and mode all match; anything it cannot judge counts as outdated."""

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.mecove.platform.plugins.filter.files import file_outdated

CONTENT = "# Managed\nport 6379\nnaïve ✓\n"
PATH = "/etc/redis/redis.conf"


def read(**changes):
    found = {"exists": True, "regular": True, "directory": False, "owner": "root", "group": "redis",
             "uid": 0, "gid": 997, "mode": "0640", "checksum": hashlib.sha1(CONTENT.encode("utf-8")).hexdigest()}
    found.update(changes)
    return {"changed": False, "files": {PATH: found}}


ARGS = {"src": "redis.conf.j2", "dest": PATH, "owner": "root", "group": "redis", "mode": "0640"}


def test_a_file_as_the_task_would_write_it_is_not_outdated():
    assert file_outdated(read(), ARGS, CONTENT) is False
    # The mode as YAML reads an unquoted 0640, numeric owner and group, and a copy task's content.
    assert file_outdated(read(), {**ARGS, "mode": 0o640, "owner": 0, "group": "997"}, CONTENT) is False
    assert file_outdated(read(), {"dest": PATH, "content": CONTENT}) is False
    assert file_outdated(read(), {"path": PATH, "mode": "640"}, CONTENT) is False


@pytest.mark.parametrize(
    "found, args, content",
    [
        ({"checksum": "0" * 40}, {}, CONTENT),
        ({}, {}, CONTENT + "\n"),
        ({"owner": "redis", "uid": 998}, {}, CONTENT),
        ({"group": "root", "gid": 0}, {}, CONTENT),
        ({"mode": "0644"}, {}, CONTENT),
        ({}, {"mode": "u=rw,g=r"}, CONTENT),
        ({"exists": False, "regular": False, "checksum": None}, {}, CONTENT),
        ({"regular": False, "directory": True, "checksum": None}, {}, CONTENT),
    ],
    ids=["content", "trailing-newline", "owner", "group", "mode", "symbolic-mode", "missing", "a-folder"],
)
def test_any_difference_or_doubt_is_outdated(found, args, content):
    assert file_outdated(read(**found), {**ARGS, **args}, content) is True


def test_a_path_not_read_or_a_skipped_read_is_outdated():
    assert file_outdated(read(), {**ARGS, "dest": "/etc/other.conf"}, CONTENT) is True
    assert file_outdated({"skipped": True, "changed": False}, ARGS, CONTENT) is True
    assert file_outdated(None, ARGS, CONTENT) is True


def test_misuse_is_an_error():
    with pytest.raises(AnsibleFilterError, match="dest or path"):
        file_outdated(read(), {"src": "x.j2"}, CONTENT)
    with pytest.raises(AnsibleFilterError, match="content must be text"):
        file_outdated(read(), {"dest": PATH})
    with pytest.raises(AnsibleFilterError, match="octal"):
        file_outdated(read(), {**ARGS, "mode": True}, CONTENT)


def test_a_folder_task_is_judged_on_the_folder_and_its_attributes():
    folder = {"path": PATH, "state": "directory", "owner": "root", "group": "redis", "mode": "0750"}
    as_folder = {"regular": False, "directory": True, "checksum": None, "mode": "0750"}
    assert file_outdated(read(**as_folder), folder) is False
    assert file_outdated(read(**{**as_folder, "mode": "0755"}), folder) is True
    assert file_outdated(read(), folder) is True
    assert file_outdated(read(exists=False, regular=False, checksum=None), folder) is True
