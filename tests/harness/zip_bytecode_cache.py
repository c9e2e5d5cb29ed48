"""Test harness only, on the emulated arm64 containers: keep the bytecode of zip-imported modules.

Ansible runs each module from a zip (AnsiballZ), and Python compiles zip-imported source again on
every run: under arm64 emulation that is about a third of each task's CPU time. base-image.sh
installs this file with a .pth line that imports it at interpreter start-up. It caches each
compiled source in a folder that belongs to the running user alone, keyed by the source's hash;
anything unexpected falls back to Python's own compilation. Nothing of the collection uses it.
"""

import marshal
import os
import stat
import sys
import types
import zipimport

_COMPILE = zipimport._compile_source  # pylint: disable=protected-access
_FOLDER = f"/var/tmp/zip-bytecode-{os.getuid()}"
_KEY = f"{sys.implementation.cache_tag}-O{sys.flags.optimize}"


def _own_folder():
    """The cache folder, created 0700; refused when another user or a link holds the name."""
    try:
        os.mkdir(_FOLDER, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(_FOLDER)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _with_filename(code, filename):
    """The code object and those nested in it, named after this run's path (for tracebacks)."""
    consts = tuple(_with_filename(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _compile_source(pathname, source):
    # Imported here, by the processes that import from a zip only: OpenSSL loads slowly under emulation.
    import hashlib  # pylint: disable=import-outside-toplevel

    try:
        if not _own_folder():
            return _COMPILE(pathname, source)
        path = os.path.join(_FOLDER, f"{hashlib.sha256(source).hexdigest()}.{_KEY}")
        try:
            with open(path, "rb") as handle:
                return _with_filename(marshal.load(handle), pathname)
        except (OSError, EOFError, ValueError, TypeError):
            pass
        code = _COMPILE(pathname, source)
        partial = f"{path}.{os.getpid()}"
        with open(partial, "wb") as handle:
            marshal.dump(code, handle)
        os.replace(partial, path)
        return code
    except OSError:
        return _COMPILE(pathname, source)


# Off for one command with MECOVE_ZIP_BYTECODE_CACHE=off (tests/harness/task_benchmark.py compares).
if os.environ.get("MECOVE_ZIP_BYTECODE_CACHE") != "off":
    zipimport._compile_source = _compile_source  # pylint: disable=protected-access
