"""Unit tests of mecove.platform.files_info on real files under tmp_path, checked against Ansible's own
checksum (the one stat and copy compare) and against what os.stat says."""

import grp
import os
import pwd

from ansible.utils.hashing import checksum
from ansible_collections.mecove.platform.plugins.modules import files_info


def test_it_reads_files_folders_links_and_missing_paths(tmp_path, run_module):
    config = tmp_path / "app.conf"
    config.write_text("port 6379\nbind 127.0.0.1 ✓\n", encoding="utf-8")
    config.chmod(0o640)
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    link = tmp_path / "current.conf"
    link.symlink_to(config)
    missing = tmp_path / "nothing-here"

    paths = [str(config), str(folder), str(link), str(missing)]
    result = run_module(files_info.main, {"paths": paths, "_ansible_check_mode": True})

    assert result["changed"] is False
    files = result["files"]
    assert sorted(files) == sorted(paths)
    info = os.stat(config)
    assert files[str(config)] == {
        "exists": True, "regular": True, "directory": False, "checksum": checksum(str(config)),
        "owner": pwd.getpwuid(info.st_uid).pw_name, "group": grp.getgrgid(info.st_gid).gr_name,
        "uid": info.st_uid, "gid": info.st_gid, "mode": "0640",
    }
    assert (files[str(folder)]["directory"], files[str(folder)]["regular"], files[str(folder)]["checksum"]) == (True, False, None)
    assert files[str(folder)]["mode"] == "0750"
    # A link is followed, as copy follows its destination.
    assert files[str(link)]["checksum"] == checksum(str(config)) and files[str(link)]["regular"]
    assert files[str(missing)] == {
        "exists": False, "regular": False, "directory": False, "checksum": None,
        "owner": None, "group": None, "uid": None, "gid": None, "mode": None,
    }


def test_a_relative_path_is_refused(run_module):
    result = run_module(files_info.main, {"paths": ["etc/redis.conf"]})
    assert result["failed"] and "absolute" in result["msg"]


def test_an_owner_without_a_name_is_given_by_number(tmp_path, run_module, monkeypatch):
    target = tmp_path / "f"
    target.write_text("x")

    def no_name(uid):
        raise KeyError(uid)

    monkeypatch.setattr(files_info.pwd, "getpwuid", no_name)
    result = run_module(files_info.main, {"paths": [str(target)]})
    assert result["files"][str(target)]["owner"] == str(os.stat(target).st_uid)
