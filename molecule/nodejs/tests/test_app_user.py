"""Verify the app_user role on the converged container (testinfra, run by molecule verify)."""

USER = "mecove"
HOME = "/home/mecove"


def test_user_is_a_system_account_with_its_own_group_and_a_login_shell(host):
    user = host.user(USER)
    assert user.exists
    assert user.group == USER
    assert user.home == HOME
    assert user.shell == "/bin/bash"
    # System account: UID below the distribution's UID_MIN (1000 on Debian and Amazon Linux).
    assert user.uid < 1000
    assert host.group(USER).exists


def test_account_has_no_usable_password(host):
    shadow_password = host.check_output(f"getent shadow {USER}").split(":")[1]
    assert shadow_password in ("!", "!!", "*", "!*") or shadow_password.startswith("!")


def test_home_folder_is_owned_and_closed_to_others(host):
    home = host.file(HOME)
    assert home.is_directory
    assert (home.user, home.group, home.mode) == (USER, USER, 0o750)


def test_logs_folder_is_owned_and_closed_to_others(host):
    logs = host.file(f"{HOME}/logs")
    assert logs.is_directory
    assert (logs.user, logs.group, logs.mode) == (USER, USER, 0o750)


def test_commands_run_as_the_app_user_with_its_home(host):
    # The way other roles and operators use the account: sudo -u mecove -H, non-interactive.
    result = host.run(f"sudo -u {USER} -H sh -c 'id -un; echo $HOME; touch $HOME/logs/probe && rm $HOME/logs/probe'")
    assert result.rc == 0, result.stderr
    assert result.stdout.split() == [USER, HOME]
