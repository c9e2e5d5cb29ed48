"""Unit tests of mecove.platform.dotenv: quoting, whole runs on tmp_path files, and a round trip through Node.

The round trip writes a file with the module and reads it back with the real `node --env-file` (and
util.parseEnv); it is skipped when no suitable node is installed. No other test stands in for it: the module's
own reader (dotenv.parse) only names changed keys and proves nothing about Node.
"""

import json
import os
import re
import shutil
import stat
import subprocess

import pytest
from ansible.module_utils import basic
from ansible_collections.mecove.platform.plugins.modules import dotenv

HEADER = "# Managed by Ansible (mecove.platform.dotenv): keys sorted; do not edit by hand.\n"

# Values that are secrets in the tests: none may ever appear in a result, a diff or an error message.
SECRETS = {
    "DB_PASSWORD": "pa ss#word'with$stuff",
    "DATABASE_URL": "postgresql://mecove:Sup3r-s3cret@db.internal:5432/mecove?sslmode=require",
    "JWT_SECRET": "jwt-secret-7f3a9c",
    "PRIVATE_KEY": "-----BEGIN KEY-----\nMIIB-secret-body\n-----END KEY-----",
}

# Tricky values and what each must look like in the file, one per quoting rule and corner.
TRICKY = {
    "EMPTY": ("", "''"),
    "PLAIN": ("abc-DEF_1.2/3:4@5%6+7,8", "abc-DEF_1.2/3:4@5%6+7,8"),
    "EQUALS": ("a=b==", "a=b=="),
    "URL": ("https://x.example/p?a=1&b=2", "'https://x.example/p?a=1&b=2'"),
    "SPACES": ("two words", "'two words'"),
    "EDGE_SPACES": ("  padded\t ", "'  padded\t '"),
    "HASH": ("abc#def # not a comment", "'abc#def # not a comment'"),
    "DOLLAR": ("$HOME ${X} $(id)", "'$HOME ${X} $(id)'"),
    "DOUBLE_QUOTE": ('say "hi"', "'say \"hi\"'"),
    "BACKTICK": ("a `cmd` b", "'a `cmd` b'"),
    "BACKSLASH_N": ("C:\\new\\dir\\", "'C:\\new\\dir\\'"),
    "SINGLE_QUOTE": ("it's", '"it\'s"'),
    "SINGLE_AND_BACKTICK": ("it's `x`\\", '"it\'s `x`\\"'),
    "SINGLE_AND_DOUBLE": ("it's \"x\"", "`it's \"x\"`"),
    "SINGLE_DOUBLE_BSN": ("it's \"x\" \\n", "`it's \"x\" \\n`"),
    "NEWLINES": ("line 1\nline 2\n", '"line 1\\nline 2\\n"'),
    "NEWLINE_QUOTES": ("it's\n`x` #1 $y", '"it\'s\\n`x` #1 $y"'),
    "NEWLINE_BACKSLASH": ("ends with \\\nnext", '"ends with \\\\nnext"'),
    "UNICODE": ("héllo wörld ✓ 日本", "'héllo wörld ✓ 日本'"),
    "UNICODE_WORD": ("é", "'é'"),
    "LEADING_QUOTE": ("'x", '"\'x"'),
    "BRACKETS": ("[section]", "'[section]'"),
    "EXPORT": ("export A=1", "'export A=1'"),
    "JSON": ('{"a": [1, 2]}', "'{\"a\": [1, 2]}'"),
}


def args(path, **extra):
    base = {"path": str(path), "_ansible_check_mode": False, "_ansible_diff": True}
    base.update(extra)
    return base


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_no_value(result, values):
    dumped = json.dumps(result)
    for value in values:
        assert value not in dumped
        for line in value.splitlines():
            if len(line) >= 4:
                assert line not in dumped


# ---------------------------------------------------------------- quoting


@pytest.mark.parametrize("key", sorted(TRICKY))
def test_quoting_of_tricky_values(key):
    value, written = TRICKY[key]
    assert dotenv.quote_value(key, value) == written


def test_rendered_file_is_the_header_then_sorted_lines():
    text = dotenv.render({"B": "2", "A": "1", "a": "x y"})
    assert text == HEADER + "A=1\nB=2\na='x y'\n"


@pytest.mark.parametrize(
    "value, reason",
    [
        ('{\n"a": 1}', "line break and a double quote"),
        ("a\\nb\nc", "line break and a backslash followed by n"),
        ("'\"`", "single quote, a backtick, and a double quote"),
        ("it's `x` \\n", "single quote, a backtick, and a double quote or a backslash followed by n"),
        ("crlf\r\n", "carriage return"),
        ("nul\x00byte", "NUL character"),
    ],
)
def test_values_node_cannot_read_back_are_rejected_naming_the_key_only(value, reason):
    with pytest.raises(dotenv.DotenvError) as caught:
        dotenv.quote_value("SOME_KEY", value)
    assert "SOME_KEY" in str(caught.value)
    assert reason in str(caught.value)
    assert value not in str(caught.value)


@pytest.mark.parametrize("value, text", [(3000, "3000"), (True, "true"), (False, "false"), (1.5, "1.5"), (0, "0")])
def test_non_string_scalars_are_converted(value, text):
    assert dotenv.value_text("K", value) == text


@pytest.mark.parametrize("value, what", [(None, "is null"), ({"a": "s3cret"}, "is a mapping"), (["s3cret"], "is a list")])
def test_null_lists_and_mappings_are_rejected(tmp_path, run_module, value, what):
    result = run_module(dotenv.main, args(tmp_path / ".env", env={"OK": "fine-value", "BAD_ONE": value}))
    assert result["failed"]
    assert "env.BAD_ONE %s" % what in result["msg"]
    assert "s3cret" not in json.dumps(result)
    assert not (tmp_path / ".env").exists()


@pytest.mark.parametrize("key", ["1ABC", "WITH-DASH", "WITH SPACE", "", "A.B", "ÄPFEL", "KEY=", "export X"])
def test_invalid_keys_are_rejected_naming_the_key(tmp_path, run_module, key):
    result = run_module(dotenv.main, args(tmp_path / ".env", env={"GOOD": "hidden-value-1", key: "hidden-value-2"}))
    assert result["failed"]
    assert "invalid variable name %r" % key in result["msg"]
    assert "hidden-value" not in json.dumps(result)
    assert not (tmp_path / ".env").exists()


def test_unrepresentable_value_fails_the_run_without_writing(tmp_path, run_module):
    path = tmp_path / ".env"
    result = run_module(dotenv.main, args(path, env={"CERT": 'line "1"\nline 2'}))
    assert result["failed"]
    assert "CERT" in result["msg"]
    assert "line" not in result["msg"].replace("line break", "")
    assert not path.exists()


def test_the_modules_reader_gets_back_every_value_it_writes():
    values = {key: value for key, (value, _written) in TRICKY.items()}
    values.update(SECRETS)
    assert dotenv.parse(dotenv.render(values)) == values


def test_the_modules_reader_follows_nodes_rules_for_hand_written_files():
    text = (
        "# comment\n\n"
        "  export A = spaced value # comment\n"
        "B=\"x\\ny\" trailing\n"
        "C='multi\nline'\n"
        "NO_EQUALS_LINE\n"
        "D=`b#t`\r\n"
        "E=\n"
        "A=last wins"
    )
    assert dotenv.parse(text) == {"A": "last wins", "B": "x\ny", "C": "multi\nline", "D": "b#t", "E": ""}


# ---------------------------------------------------------------- round trip through Node


def node_with_env_file():
    """(path, None) of a node whose --env-file has the current parser, else (None, why the test is skipped)."""
    node = shutil.which("node") or ("/usr/local/bin/node" if os.access("/usr/local/bin/node", os.X_OK) else None)
    if not node:
        return None, "node is not installed here: the round trip through Node's own env-file parser cannot run"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.match(r"v(\d+)\.(\d+)", version)
    if not match or (int(match.group(1)), int(match.group(2))) < (20, 12):
        return None, "node %s predates the env-file parser of Node 20.12+/22 (quotes, multi-line values)" % version
    return node, None


NODE_FOUND = node_with_env_file()  # one name: ansible-doc scans module-level assignments
NODE = NODE_FOUND[0]

NODE_READER = r"""
const fs = require('fs');
const util = require('util');
const file = process.argv[1];
const fromFlag = {};
for (const key of Object.keys(process.env)) fromFlag[key] = process.env[key];
process.stdout.write(JSON.stringify({flag: fromFlag, parseEnv: util.parseEnv(fs.readFileSync(file, 'utf8'))}));
"""


@pytest.mark.skipif(NODE is None, reason=NODE_FOUND[1] or "")
def test_round_trip_through_node_env_file(tmp_path, run_module):
    path = tmp_path / ".env"
    values = {key: value for key, (value, _written) in TRICKY.items()}
    values.update(SECRETS)
    values.update(PORT=3000, DEBUG=False)
    result = run_module(dotenv.main, args(path, env=values))
    assert result["changed"] is True

    proc = subprocess.run(
        [NODE, "--env-file=%s" % path, "-e", NODE_READER, str(path)],
        capture_output=True, text=True, env={}, check=False, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    read = json.loads(proc.stdout)
    expected = {key: dotenv.value_text(key, value) for key, value in values.items()}
    assert read["flag"] == expected
    assert read["parseEnv"] == expected


# ---------------------------------------------------------------- whole runs


def test_creates_the_file_private_with_sorted_keys(tmp_path, run_module):
    path = tmp_path / ".env"
    result = run_module(dotenv.main, args(path, env={"B_KEY": "two words", "A_KEY": "plain"}))
    assert result["changed"] is True
    assert path.read_text() == HEADER + "A_KEY=plain\nB_KEY='two words'\n"
    assert mode_of(path) == 0o600
    assert result["env_keys"] == ["A_KEY", "B_KEY"]
    assert result["added"] == ["A_KEY", "B_KEY"]
    assert result["removed"] == [] and result["changed_keys"] == []
    assert result["path"] == str(path)
    assert os.listdir(tmp_path) == [".env"]  # no temporary file left behind


def test_second_run_changes_nothing(tmp_path, run_module):
    path = tmp_path / ".env"
    first = run_module(dotenv.main, args(path, env=SECRETS))
    inode, mtime = os.stat(path).st_ino, os.stat(path).st_mtime_ns
    second = run_module(dotenv.main, args(path, env=dict(SECRETS)))
    assert first["changed"] is True
    assert second["changed"] is False
    assert second["added"] == second["removed"] == second["changed_keys"] == []
    assert second["env_keys"] == sorted(SECRETS)
    assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (inode, mtime)


def change_one_add_one_remove_one(path, run_module):
    """Write SECRETS, then a version with one value changed, one key added, one removed."""
    run_module(dotenv.main, args(path, env=SECRETS))
    new = dict(SECRETS, JWT_SECRET="rotated-jwt-secret", NEW_KEY="brand-new-value")
    del new["DB_PASSWORD"]
    return new, run_module(dotenv.main, args(path, env=new))


def test_changed_values_are_named_by_key_only(tmp_path, run_module):
    new, result = change_one_add_one_remove_one(tmp_path / ".env", run_module)
    assert result["changed"] is True
    assert result["added"] == ["NEW_KEY"]
    assert result["removed"] == ["DB_PASSWORD"]
    assert result["changed_keys"] == ["JWT_SECRET"]
    assert_no_value(result, list(SECRETS.values()) + list(new.values()))


def test_backup_keeps_the_previous_file_private_when_the_content_changes(tmp_path, run_module):
    path = tmp_path / ".env"
    run_module(dotenv.main, args(path, env=SECRETS))
    before = path.read_bytes()
    os.chmod(path, 0o644)
    result = run_module(dotenv.main, args(path, env=dict(SECRETS, JWT_SECRET="rotated"), backup=True))
    backup = result["backup_file"]
    assert os.path.dirname(backup) == str(tmp_path) and backup.startswith(str(path) + ".")
    assert open(backup, "rb").read() == before
    assert mode_of(backup) == 0o600  # tightened before the copy, like the file itself
    assert_no_value(result, list(SECRETS.values()))


@pytest.mark.parametrize("case", ["unchanged", "new file", "mode only", "check mode"])
def test_backup_keeps_nothing_unless_existing_content_is_replaced(tmp_path, run_module, case):
    path = tmp_path / ".env"
    if case != "new file":
        run_module(dotenv.main, args(path, env=SECRETS))
    if case == "mode only":
        os.chmod(path, 0o644)
    env = dict(SECRETS, JWT_SECRET="rotated") if case == "check mode" else SECRETS
    result = run_module(dotenv.main, args(path, env=env, backup=True, _ansible_check_mode=case == "check mode"))
    assert "backup_file" not in result
    assert sorted(os.listdir(tmp_path)) == [".env"]


def test_diff_shows_keys_and_markers_never_values(tmp_path, run_module):
    new, result = change_one_add_one_remove_one(tmp_path / ".env", run_module)
    diff = result["diff"]
    assert diff["before"] == (
        "DATABASE_URL=<hidden>\nDB_PASSWORD=<hidden>\nJWT_SECRET=<hidden, old value>\nPRIVATE_KEY=<hidden>\n"
    )
    assert diff["after"] == (
        "DATABASE_URL=<hidden>\nJWT_SECRET=<hidden, new value>\nNEW_KEY=<hidden>\nPRIVATE_KEY=<hidden>\n"
    )
    assert_no_value(result, list(SECRETS.values()) + list(new.values()))


def test_diff_of_a_new_file_and_of_a_mode_change(tmp_path, run_module):
    path = tmp_path / ".env"
    created = run_module(dotenv.main, args(path, env={"A": "secret-a"}))
    assert created["diff"]["before"] == ""
    assert created["diff"]["after"] == "A=<hidden>\n"
    os.chmod(path, 0o644)
    fixed = run_module(dotenv.main, args(path, env={"A": "secret-a"}))
    assert fixed["changed"] is True
    assert fixed["diff"]["before"] == "# mode: 0644\nA=<hidden>\n"
    assert fixed["diff"]["after"] == "# mode: 0600\nA=<hidden>\n"
    assert_no_value(created, ["secret-a"])
    assert_no_value(fixed, ["secret-a"])


def test_no_diff_without_diff_mode(tmp_path, run_module):
    result = run_module(dotenv.main, args(tmp_path / ".env", env={"A": "secret-a"}, _ansible_diff=False))
    assert "diff" not in result


def test_results_never_hold_a_value(tmp_path, run_module):
    path = tmp_path / ".env"
    values = {key: value for key, (value, _written) in TRICKY.items() if len(value) >= 4}
    values.update(SECRETS)
    results = [run_module(dotenv.main, args(path, env=values))]
    results.append(run_module(dotenv.main, args(path, env=dict(values, JWT_SECRET="another-secret"))))
    results.append(run_module(dotenv.main, args(path, state="absent")))
    for result in results:
        assert_no_value(result, list(values.values()) + ["another-secret"])


def test_check_mode_writes_nothing(tmp_path, run_module):
    path = tmp_path / ".env"
    result = run_module(dotenv.main, args(path, env=SECRETS, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["added"] == sorted(SECRETS)
    assert not path.exists()
    assert os.listdir(tmp_path) == []

    path.write_text("JWT_SECRET=old\n")
    os.chmod(path, 0o644)
    result = run_module(dotenv.main, args(path, env=SECRETS, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["changed_keys"] == ["JWT_SECRET"]
    assert path.read_text() == "JWT_SECRET=old\n"
    assert mode_of(path) == 0o644
    assert os.listdir(tmp_path) == [".env"]


def test_check_mode_reports_a_mode_change_alone(tmp_path, run_module):
    path = tmp_path / ".env"
    run_module(dotenv.main, args(path, env={"A": "secret-a"}))
    os.chmod(path, 0o644)
    result = run_module(dotenv.main, args(path, env={"A": "secret-a"}, _ansible_check_mode=True))
    assert result["changed"] is True
    assert mode_of(path) == 0o644
    assert run_module(dotenv.main, args(path, env={"A": "secret-a"}))["changed"] is True
    assert run_module(dotenv.main, args(path, env={"A": "secret-a"}, _ansible_check_mode=True))["changed"] is False


def test_existing_world_readable_file_becomes_0600(tmp_path, run_module):
    path = tmp_path / ".env"
    path.write_text("OLD=value\n")
    os.chmod(path, 0o644)
    result = run_module(dotenv.main, args(path, env={"NEW": "secret-new"}))
    assert result["changed"] is True
    assert mode_of(path) == 0o600
    assert result["added"] == ["NEW"] and result["removed"] == ["OLD"]


def test_explicit_mode_is_applied(tmp_path, run_module):
    path = tmp_path / ".env"
    run_module(dotenv.main, args(path, env={"A": "1"}, mode="0640"))
    assert mode_of(path) == 0o640
    assert run_module(dotenv.main, args(path, env={"A": "1"}, mode="0640"))["changed"] is False


def test_new_values_are_never_readable_by_others_even_during_the_move(tmp_path, run_module, monkeypatch):
    """The temporary file is 0600, and the file it replaces is made 0600 before the move copies its mode."""
    seen = []
    original = basic.AnsibleModule.atomic_move

    def watching_move(self, src, dest, *a, **kw):
        seen.append(("src", mode_of(src)))
        if os.path.exists(dest):
            seen.append(("dest before", mode_of(dest)))
        original(self, src, dest, *a, **kw)
        seen.append(("dest after", mode_of(dest)))

    monkeypatch.setattr(basic.AnsibleModule, "atomic_move", watching_move)
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / ".env"
        run_module(dotenv.main, args(path, env={"A": "secret-a"}))
        assert seen == [("src", 0o600), ("dest after", 0o600)]
        seen.clear()
        os.chmod(path, 0o666)
        run_module(dotenv.main, args(path, env={"A": "secret-b"}))
        assert seen == [("src", 0o600), ("dest before", 0o600), ("dest after", 0o600)]
        assert os.umask(0o022) == 0o022  # the module restored the umask
    finally:
        os.umask(old_umask)


def test_hand_written_file_with_the_same_values_is_rewritten(tmp_path, run_module):
    path = tmp_path / ".env"
    path.write_text("# my notes\nB=2\nA=1 # one\n")
    os.chmod(path, 0o600)
    result = run_module(dotenv.main, args(path, env={"A": "1", "B": "2"}))
    assert result["changed"] is True
    assert result["added"] == result["removed"] == result["changed_keys"] == []
    assert result["diff"]["before"].endswith("(the file's comments, order or quoting differ from what this module writes)\n")
    assert path.read_text() == HEADER + "A=1\nB=2\n"


def test_empty_env_writes_only_the_header(tmp_path, run_module):
    path = tmp_path / ".env"
    result = run_module(dotenv.main, args(path, env={}))
    assert result["changed"] is True and result["env_keys"] == []
    assert path.read_text() == HEADER


def test_symlink_is_replaced_and_its_target_left_alone(tmp_path, run_module):
    target = tmp_path / "target.env"
    target.write_text(HEADER + "A=1\n")
    os.chmod(target, 0o644)
    link = tmp_path / ".env"
    link.symlink_to(target)
    result = run_module(dotenv.main, args(link, env={"A": "1"}))
    assert result["changed"] is True
    assert not link.is_symlink()
    assert mode_of(link) == 0o600
    assert target.read_text() == HEADER + "A=1\n" and mode_of(target) == 0o644


def test_missing_folder_fails_except_in_check_mode(tmp_path, run_module):
    path = tmp_path / "missing" / ".env"
    checked = run_module(dotenv.main, args(path, env={"A": "1"}, _ansible_check_mode=True))
    assert checked["changed"] is True
    failed = run_module(dotenv.main, args(path, env={"A": "1"}))
    assert failed["failed"] and "folder of %s does not exist" % path in failed["msg"]


def test_a_folder_at_path_is_an_error(tmp_path, run_module):
    result = run_module(dotenv.main, args(tmp_path, env={"A": "1"}))
    assert result["failed"] and "is a folder" in result["msg"]


def test_present_needs_env(tmp_path, run_module):
    result = run_module(dotenv.main, args(tmp_path / ".env"))
    assert result["failed"] and "env" in result["msg"]


def test_absent_removes_the_file_and_names_its_keys(tmp_path, run_module):
    path = tmp_path / ".env"
    run_module(dotenv.main, args(path, env=SECRETS))
    checked = run_module(dotenv.main, args(path, state="absent", _ansible_check_mode=True))
    assert checked["changed"] is True and path.exists()
    result = run_module(dotenv.main, args(path, state="absent"))
    assert result["changed"] is True
    assert result["removed"] == sorted(SECRETS)
    assert result["env_keys"] == [] and result["added"] == [] and result["changed_keys"] == []
    assert result["diff"]["after"] == ""
    assert result["diff"]["before"] == "".join("%s=<hidden>\n" % key for key in sorted(SECRETS))
    assert not path.exists()
    assert_no_value(result, SECRETS.values())
    again = run_module(dotenv.main, args(path, state="absent"))
    assert again["changed"] is False and again["removed"] == []


def test_absent_removes_a_symlink_not_its_target(tmp_path, run_module):
    target = tmp_path / "target.env"
    target.write_text("A=1\n")
    link = tmp_path / ".env"
    link.symlink_to(target)
    result = run_module(dotenv.main, args(link, state="absent"))
    assert result["changed"] is True
    assert not os.path.lexists(link) and target.exists()
