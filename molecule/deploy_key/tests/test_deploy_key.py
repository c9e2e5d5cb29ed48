"""Verify the deploy_key role on the converged container (testinfra, run by molecule verify).

prepare.yml generated a throwaway ED25519 key pair in the scenario's ephemeral folder on the
controller; the converge installed it from deploy_key_private_key. Nothing here connects to
GitHub: `ssh -G` prints the configuration ssh would use, without connecting.
"""

import os
from pathlib import Path

import pytest

USER = "mecove"
SSH_DIR = "/home/mecove/.ssh"
KEY = f"{SSH_DIR}/id_ed25519_deploy"
KNOWN_HOSTS = f"{SSH_DIR}/known_hosts_github.com"
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))

# GitHub's published host key fingerprints (docs.github.com, "GitHub's SSH key fingerprints"),
# kept here independently of the role's defaults.
GITHUB_FINGERPRINTS = {
    "ED25519": "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
    "ECDSA": "SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
    "RSA": "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
}


@pytest.fixture(scope="module")
def generated_key():
    private = EPHEMERAL / "deploy_key_ed25519"
    assert private.is_file(), f"prepare.yml did not generate {private}"
    return private.read_text(), (EPHEMERAL / "deploy_key_ed25519.pub").read_text()


def ssh_g(host, target="github.com"):
    result = host.run(f"sudo -u {USER} -H ssh -G {target}")
    assert result.rc == 0, result.stderr
    options = {}
    for line in result.stdout.splitlines():
        name, _sep, value = line.partition(" ")
        options.setdefault(name, []).append(value)
    return options


def test_ssh_dir_is_closed_to_others(host):
    ssh_dir = host.file(SSH_DIR)
    assert ssh_dir.is_directory
    assert (ssh_dir.user, ssh_dir.group, ssh_dir.mode) == (USER, USER, 0o700)


def test_private_key_is_owned_by_the_app_user_and_private(host):
    key = host.file(KEY)
    assert (key.user, key.group, key.mode) == (USER, USER, 0o600)


def test_private_key_is_the_one_given(host, generated_key):
    private, _public = generated_key
    assert host.file(KEY).content_string.strip() == private.strip()
    assert host.file(KEY).content_string.endswith("-----END OPENSSH PRIVATE KEY-----\n")


def test_public_key_matches_and_the_key_loads_without_passphrase(host, generated_key):
    _private, public = generated_key
    assert host.file(f"{KEY}.pub").content_string.split()[:2] == public.split()[:2]
    derived = host.run(f"sudo -u {USER} ssh-keygen -y -P '' -f {KEY}")
    assert derived.rc == 0, derived.stderr
    assert derived.stdout.split()[:2] == public.split()[:2]
    assert derived.stdout.startswith("ssh-ed25519 ")


def test_ssh_selects_the_deploy_key_only_for_github(host):
    options = ssh_g(host)
    assert options["identityfile"] == [KEY]
    assert options["identitiesonly"] == ["yes"]
    assert options["stricthostkeychecking"] == ["true"]
    assert options["user"] == ["git"]
    assert options["userknownhostsfile"] == [KNOWN_HOSTS]
    assert options["globalknownhostsfile"] == ["/dev/null"]
    # Other hosts keep ssh's defaults: the entry is scoped to the Git host.
    other = ssh_g(host, "example.org")
    assert KEY not in other.get("identityfile", [])


def test_ssh_config_is_private_to_the_app_user(host):
    config = host.file(f"{SSH_DIR}/config")
    assert (config.user, config.mode) == (USER, 0o600)


def test_known_hosts_holds_exactly_githubs_published_keys(host):
    listing = host.run(f"ssh-keygen -l -f {KNOWN_HOSTS}")
    assert listing.rc == 0, listing.stderr
    found = {}
    for line in listing.stdout.splitlines():
        _bits, fingerprint, hostname, key_type = line.split()
        assert hostname == "github.com"
        found[key_type.strip("()")] = fingerprint
    assert found == GITHUB_FINGERPRINTS
    # ssh finds them for the host name it connects to.
    assert host.run(f"ssh-keygen -F github.com -f {KNOWN_HOSTS}").rc == 0


def test_private_key_never_appears_in_the_ansible_output(generated_key):
    # molecule.yml logs converge, idempotence and check (verbosity 1) to this file.
    log = EPHEMERAL / "ansible.log"
    assert log.is_file(), "ANSIBLE_LOG_PATH from molecule.yml was not written"
    text = log.read_text(errors="replace")
    assert "Install the private deploy key" in text  # the log covers the role's runs
    private, _public = generated_key
    body_lines = [line for line in private.splitlines() if line and not line.startswith("-----")]
    assert body_lines
    for line in body_lines:
        assert line not in text
