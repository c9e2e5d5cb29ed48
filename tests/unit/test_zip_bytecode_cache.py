"""The test harness's bytecode cache for zip-imported modules (tests/harness/zip_bytecode_cache.py),
which the emulated arm64 test images load into every Python: it must serve a module's code from
its cache, under the importing zip's own path, and never from a folder that is not the user's."""

import importlib
import importlib.util
import marshal
import sys
import zipfile
import zipimport
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "harness"
SOURCE = "VALUE = 'compiled'\n\n\ndef where():\n    return where.__code__.co_filename\n"


@pytest.fixture(name="cache")
def fixture_cache(tmp_path, monkeypatch):
    """The module loaded anew, its cache in tmp_path; Python's own compiler is put back afterwards."""
    monkeypatch.setattr(zipimport, "_compile_source", zipimport._compile_source)  # pylint: disable=protected-access
    spec = importlib.util.spec_from_file_location("zip_bytecode_cache_under_test", HARNESS / "zip_bytecode_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "_FOLDER", str(tmp_path / "cache"))
    return module


def import_from_zip(folder, name):
    """Import module NAME (with SOURCE) from a new zip in FOLDER."""
    folder.mkdir()
    archive = folder / "payload.zip"
    with zipfile.ZipFile(archive, "w") as payload:
        payload.writestr(f"{name}.py", SOURCE)
    sys.path.insert(0, str(archive))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("cache")
def test_a_second_import_of_the_same_source_is_served_from_the_cache_under_its_own_path(tmp_path):
    first = import_from_zip(tmp_path / "one", "cached_module_one")
    assert first.VALUE == "compiled"
    entries = list((tmp_path / "cache").iterdir())
    assert len(entries) == 1 and (tmp_path / "cache").stat().st_mode & 0o777 == 0o700
    # Replace the cached code: the next import of the same source must get it from there.
    entries[0].write_bytes(marshal.dumps(compile("VALUE = 'cached'\n\ndef where():\n    return where.__code__.co_filename\n",
                                                 "elsewhere.py", "exec")))
    second = import_from_zip(tmp_path / "two", "cached_module_two")
    assert second.VALUE == "cached"
    assert second.where() == str(tmp_path / "two" / "payload.zip" / "cached_module_two.py")


def test_a_folder_open_to_others_is_not_used(cache, tmp_path):
    (tmp_path / "cache").mkdir(mode=0o777)
    (tmp_path / "cache").chmod(0o777)
    module = import_from_zip(tmp_path / "one", "uncached_module")
    assert module.VALUE == "compiled"
    assert not cache._own_folder()  # pylint: disable=protected-access
    assert list((tmp_path / "cache").iterdir()) == []
