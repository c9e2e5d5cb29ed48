"""Verify the nodejs role on the converged container (testinfra, run by molecule verify)."""

import os
import subprocess
import sys
from pathlib import Path

NODE_VERSION = "22.23.3"
NPM_VERSION = "10.9.9"
PNPM_VERSION = "10.34.9"
PM2_VERSION = "7.0.4"
INSTALL_DIR = f"/opt/nodejs/{NODE_VERSION}"
APP_USER = "mecove"
ARCH = os.environ.get("MECOVE_TEST_ARCH", "arm64")
# Node's name for the architecture, and the ELF e_machine value of its binaries.
NODE_ARCH = {"arm64": "arm64", "amd64": "x64"}[ARCH]
ELF_MACHINE = {"arm64": 0xB7, "amd64": 0x3E}[ARCH]  # EM_AARCH64, EM_X86_64


def as_app_user(host, commands, env_prefix=""):
    """Run commands the way other roles do (sudo -u mecove -H, non-interactive, no profile), in
    one shell: every node start is slow under emulation. Returns the output lines."""
    result = host.run(f"sudo -u {APP_USER} -H {env_prefix}/bin/sh -ec '{'; '.join(commands)}'")
    assert result.rc == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_pinned_versions_run_for_the_app_user(host):
    # By name, through the PATH that sudo gives (/usr/local/bin is in Debian's secure_path).
    lines = as_app_user(host, ["node -v", "node -p process.arch", "npm -v", "pnpm -v", "pm2 -v"])
    assert lines[0] == f"v{NODE_VERSION}"
    assert lines[1] == NODE_ARCH
    assert lines[2] == NPM_VERSION
    assert lines[3] == PNPM_VERSION
    assert lines[-1] == PM2_VERSION  # pm2 may print notices before its version


def test_commands_work_for_the_app_user_with_an_empty_environment(host):
    # No PATH at all, as from a bare systemd unit or a minimal secure_path: the commands in
    # /usr/local/bin must still find the pinned node (npx, pnpm and pm2 start with `env node`).
    lines = as_app_user(
        host,
        [
            "/usr/local/bin/node -p process.execPath",
            "/usr/local/bin/npx --version",
            "/usr/local/bin/pnpm --version",
            "/usr/local/bin/pm2 --version",
        ],
        env_prefix=f"env -i HOME=/home/{APP_USER} ",
    )
    assert lines[0] == f"{INSTALL_DIR}/bin/node"
    assert lines[1] == NPM_VERSION
    assert lines[2] == PNPM_VERSION
    assert lines[-1] == PM2_VERSION


def test_node_binary_is_an_elf_for_the_test_architecture(host):
    # ELF header: magic at 0-3, e_machine (little endian) at 18-19.
    header = bytes(int(b, 16) for b in host.check_output(f"od -An -tx1 -N20 {INSTALL_DIR}/bin/node").split())
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINE


def test_commands_are_root_owned_wrappers_of_the_versioned_folder(host):
    for command in ("node", "npm", "npx", "pnpm", "pnpx", "pm2", "pm2-runtime"):
        wrapper = host.file(f"/usr/local/bin/{command}")
        assert (wrapper.user, wrapper.group, wrapper.mode) == ("root", "root", 0o755)
        assert f'exec "{INSTALL_DIR}/bin/${{0##*/}}"' in wrapper.content_string


def test_install_is_owned_by_root_and_not_writable_by_the_app_user(host):
    for path in ("/opt/nodejs", INSTALL_DIR):
        folder = host.file(path)
        assert (folder.user, folder.group, folder.mode) == ("root", "root", 0o755)
    writable = host.run(f"sudo -u {APP_USER} -H test -w {INSTALL_DIR}/lib/node_modules/pm2")
    assert writable.rc != 0
    foreign = host.run(f"find {INSTALL_DIR} ! -user root -print -quit").stdout.strip()
    assert foreign == ""


def test_downloads_are_cleaned_up(host):
    assert not host.file("/opt/nodejs/.downloads").exists


def test_a_wrong_checksum_stops_the_install(host):
    """Run the role again with a wrong sha512 into a scratch folder: it must fail at the download."""
    scratch = "/tmp/nodejs-checksum-guard"
    playbook = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "checksum_guard.yml"
    playbook.write_text(f"""---
- name: Apply the nodejs role with a wrong checksum
  hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - name: Apply the nodejs role
      ansible.builtin.include_role:
        name: mecove.platform.nodejs
      vars:
        nodejs_source: npm_registry
        nodejs_install_root: {scratch}
        nodejs_bin_dir: {scratch}/bin
        nodejs_checksum: "sha512:{'0' * 128}"
""")
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(playbook),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "Download the Node.js archive and verify its checksum" in output
    assert "did not match" in output, output[-3000:]
    assert not host.file(f"{scratch}/{NODE_VERSION}/bin/node").exists
    assert not host.file(f"{scratch}/bin/node").exists
    host.run(f"rm -rf {scratch}")
