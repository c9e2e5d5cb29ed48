"""Unit tests of mecove.platform.pm2_process: parsing, decisions, and whole runs against a fake pm2 (no network).

The fake pm2 (FakePm2) keeps a process table and answers the command lines the module runs, printing
what PM2 7 really prints around `jlist` (banner, daemon messages, ANSI colours) and including each
process's environment in its JSON, as PM2 does, so the tests can check that it never comes back.
"""

import json
import os
import subprocess

import pytest
from ansible.module_utils import basic
from ansible_collections.mecove.platform.plugins.modules import pm2_process as pm2m

PM2 = "/usr/local/bin/pm2"
SECRET = "s3cr3t-token-value"

# What PM2 7.0.4 printed on stdout for `pm2 jlist` when it had to spawn its daemon first (trimmed banner).
SPAWN_NOISE = (
    "\n                        -------------\n\n"
    "__/\\\\\\\\\\\\\\\\\\\\\\\\\\____/\\\\\\\\____________/\\\\\\\\____/\\\\\\\\\\\\\\\\\\_____\n"
    "                          Runtime Edition\n\n"
    "                Start and Daemonize any application:\n"
    "                $ pm2 start app.js\n\n"
    "\x1b[32m[PM2] \x1b[39mSpawning PM2 daemon with pm2_home=/home/mecove/.pm2\n"
    "\x1b[32m[PM2] \x1b[39mPM2 Successfully daemonized\n"
)


NO_SUCH_PID = 2**22 + 1


def raw_process(name, pm_id, status="online", exec_mode="cluster_mode", restarts=0, pid=None):
    """One `pm2 jlist` entry shaped like PM2 7's (stopped processes have no pid key)."""
    entry = {
        "name": name,
        "pm_id": pm_id,
        "monit": {"memory": 1000, "cpu": 0},
        "pm2_env": {
            "name": name,
            "pm_id": pm_id,
            "status": status,
            "exec_mode": exec_mode,
            "instances": 2 if exec_mode == "cluster_mode" else 1,
            "restart_time": restarts,
            "pm_exec_path": "/home/mecove/app/current/dist/%s.js" % name,
            "pm_cwd": "/home/mecove/app/current",
            "node_args": ["--enable-source-maps"],
            "pm_out_log_path": "/home/mecove/logs/%s-out.log" % name,
            "pm_err_log_path": "/home/mecove/logs/%s-error.log" % name,
            "env": {"API_TOKEN": SECRET, "PM2_HOME": "/home/mecove/.pm2"},
            "API_TOKEN": SECRET,
        },
    }
    if status != "stopped":
        entry["pid"] = pid or 1000 + pm_id
    return entry


def dump_of(processes):
    """What `pm2 save` writes: the pm2_env of each process, without pm_id and instances."""
    dumped = []
    for proc in processes:
        env = dict(proc["pm2_env"])
        env.pop("pm_id", None)
        env.pop("instances", None)
        dumped.append(env)
    return json.dumps(dumped)


# ---------------------------------------------------------------- parsing


def test_jlist_is_found_after_the_banner_and_daemon_messages():
    listed = [raw_process("api", 0)]
    assert pm2m.parse_jlist(SPAWN_NOISE + json.dumps(listed)) == listed


def test_jlist_skips_bracketed_pm2_message_lines_before_the_json():
    output = (
        "\x1b[33m[PM2][WARN] \x1b[39mIn-memory PM2 is out-of-date, do:\n"
        "[PM2] >>>> $ pm2 update\n"
        "[]\n"
    )
    assert pm2m.parse_jlist(output) == []


def test_jlist_empty_list_without_newline_as_pm2_prints_it():
    assert pm2m.parse_jlist("\x1b[32m[PM2] \x1b[39mPM2 Successfully daemonized\n[]") == []


def test_jlist_tolerates_trailing_noise_on_the_json_line():
    assert pm2m.parse_jlist('[{"name": "api"}]   \n[PM2] done\n') == [{"name": "api"}]


@pytest.mark.parametrize("output", ["", "[PM2] Spawning PM2 daemon\n", '{"name": "api"}', "[PM2][ERROR] broken ["])
def test_jlist_without_a_json_array_is_an_error(output):
    with pytest.raises(pm2m.Pm2Error, match="pm2 jlist"):
        pm2m.parse_jlist(output)


def test_summaries_keep_status_fields_and_never_the_environment():
    # A pid above any kernel's pid_max: no such process, so no folder to read.
    raw = [raw_process("api", 0, pid=NO_SUCH_PID), raw_process("api", 1),
           raw_process("worker", 2, status="stopped", exec_mode="fork_mode")]
    summaries = pm2m.summarize(raw)
    assert summaries[0] == {
        "name": "api",
        "pm_id": 0,
        "status": "online",
        "pid": NO_SUCH_PID,
        "restarts": 0,
        "exec_mode": "cluster",
        "instances": 2,
        "script": "/home/mecove/app/current/dist/api.js",
        "cwd": "/home/mecove/app/current",
        "cwd_resolved": None,
        "node_args": ["--enable-source-maps"],
    }
    assert summaries[2]["exec_mode"] == "fork"
    assert summaries[2]["pid"] == 0  # PM2 omits pid for stopped processes
    assert summaries[2]["cwd_resolved"] is None
    assert summaries[2]["instances"] == 1
    assert SECRET not in json.dumps(summaries)


def test_summaries_name_the_release_a_process_runs_in_through_a_symlinked_cwd(tmp_path):
    release = tmp_path / "releases" / "20260101T000000Z-abc1234"
    release.mkdir(parents=True)
    (tmp_path / "current").symlink_to(release)
    with subprocess.Popen(["sleep", "30"], cwd=tmp_path / "current") as proc:
        try:
            summary = pm2m.summarize([raw_process("api", 0, pid=proc.pid)])[0]
        finally:
            proc.kill()
    assert summary["cwd"] == "/home/mecove/app/current"  # what PM2 was given
    assert summary["cwd_resolved"] == str(release.resolve())


def test_summaries_split_node_args_given_as_a_string():
    raw = raw_process("api", 0)
    raw["pm2_env"]["node_args"] = "--enable-source-maps --max-old-space-size=512"
    assert pm2m.summarize([raw])[0]["node_args"] == ["--enable-source-maps", "--max-old-space-size=512"]


# ---------------------------------------------------------------- ecosystem files


def test_ecosystem_apps_and_names_like_pm2_gives_them():
    config = {"apps": [{"name": "api", "script": "dist/api/server.js"}, {"script": "dist/worker/worker.js"}]}
    assert pm2m.ecosystem_apps(config) == [
        {"name": "api", "script": "dist/api/server.js"},
        {"name": "worker", "script": "dist/worker/worker.js"},
    ]


def test_ecosystem_single_app_object_and_bare_list_are_accepted():
    assert pm2m.ecosystem_apps({"name": "a", "script": "a.js"}) == [{"name": "a", "script": "a.js"}]
    assert pm2m.ecosystem_apps([{"name": "a", "script": "a.js"}]) == [{"name": "a", "script": "a.js"}]


@pytest.mark.parametrize(
    "config, message",
    [
        ({"apps": [{"name": "api"}]}, "application api has no script"),
        ({"apps": [{"name": "api", "script": ""}]}, "application api has no script"),
        ({"apps": []}, "declares no applications"),
        ({"deploy": {}}, "application #1 has no script"),  # PM2 takes an object without apps as one app
        ({"apps": ["api"]}, "application #1 is not an object"),
        ({"apps": [{"name": "x", "script": "a.js"}, {"name": "x", "script": "b.js"}]}, "name x twice"),
    ],
)
def test_bad_ecosystem_configs_are_rejected(config, message):
    with pytest.raises(pm2m.Pm2Error, match=message):
        pm2m.ecosystem_apps(config)


def test_target_names_come_from_the_name_or_the_ecosystem():
    declared = [{"name": "api", "script": "a.js"}, {"name": "worker", "script": "w.js"}]
    assert pm2m.target_names(None, declared) == ["api", "worker"]
    assert pm2m.target_names([], declared) == ["api", "worker"]
    assert pm2m.target_names(["worker"], declared) == ["worker"]
    assert pm2m.target_names(["worker", "api", "worker"], declared) == ["worker", "api"]
    assert pm2m.target_names(["anything"], None) == ["anything"]
    with pytest.raises(pm2m.Pm2Error, match="application web is not declared in the ecosystem file .*api, worker"):
        pm2m.target_names(["web"], declared)
    with pytest.raises(pm2m.Pm2Error, match="applications web, cron are not declared"):
        pm2m.target_names(["api", "web", "cron"], declared)
    with pytest.raises(pm2m.Pm2Error, match="at least one application"):
        pm2m.target_names([], None)


# ---------------------------------------------------------------- decisions


def inst(*statuses):
    return [{"name": "api", "status": status} for status in statuses]


@pytest.mark.parametrize(
    "state, instances, expected",
    [
        ("started", inst("online", "online"), None),
        ("started", inst("online", "errored"), "start"),
        ("started", inst("stopped"), "start"),
        ("started", inst("launching"), "start"),
        ("started", inst(), "start"),
        ("stopped", inst("online"), "stop"),
        ("stopped", inst("stopped", "online"), "stop"),
        ("stopped", inst("stopped", "stopped"), None),
        ("stopped", inst(), None),
        ("restarted", inst("online"), "restart"),
        ("restarted", inst(), "restart"),
        ("reloaded", inst("online"), "reload"),
        ("absent", inst("stopped"), "delete"),
        ("absent", inst(), None),
    ],
)
def test_decide(state, instances, expected):
    assert pm2m.decide(state, instances) == expected


def test_plan_without_an_ecosystem_cannot_start_unknown_processes():
    with pytest.raises(pm2m.Pm2Error, match="does not know a process named api"):
        pm2m.plan("started", ["api"], [], has_ecosystem=False)
    with pytest.raises(pm2m.Pm2Error, match="nothing to reload it from"):
        pm2m.plan("reloaded", ["api"], [], has_ecosystem=False)
    assert pm2m.plan("absent", ["api"], [], has_ecosystem=False) == {"api": None}
    assert pm2m.plan("started", ["api"], [], has_ecosystem=True) == {"api": "start"}


def test_commands_group_names_and_go_through_the_ecosystem_for_starts():
    actions = {"api": "start", "worker": "start", "old": "delete", "idle": None}
    assert pm2m.commands(PM2, actions, "/home/mecove/eco.json") == [
        [PM2, "delete", "old"],
        [PM2, "start", "/home/mecove/eco.json", "--only", "api,worker"],
    ]
    assert pm2m.commands(PM2, {"api": "reload"}, None) == [[PM2, "reload", "api"]]
    assert pm2m.commands(PM2, {"api": "stop"}, "/e.json") == [[PM2, "stop", "api"]]
    assert pm2m.commands(PM2, {"api": None}, "/e.json") == []


def test_dump_is_current_compares_what_a_reboot_restores():
    running = [raw_process("api", 0), raw_process("worker", 1, exec_mode="fork_mode")]
    assert pm2m.dump_is_current(dump_of(running), running)
    # A process stopped since the save: resurrect would start it again.
    now_stopped = [raw_process("api", 0), raw_process("worker", 1, status="stopped", exec_mode="fork_mode")]
    assert not pm2m.dump_is_current(dump_of(running), now_stopped)
    # Restart counters, pids and the environment's values do not matter.
    restarted = [raw_process("api", 0, restarts=5, pid=77), raw_process("worker", 1, exec_mode="fork_mode")]
    assert pm2m.dump_is_current(dump_of(running), restarted)
    changed_args = [raw_process("api", 0), raw_process("worker", 1, exec_mode="fork_mode")]
    changed_args[0]["pm2_env"]["node_args"] = []
    assert not pm2m.dump_is_current(dump_of(running), changed_args)
    assert not pm2m.dump_is_current(None, running)
    assert not pm2m.dump_is_current("not json", running)
    assert pm2m.dump_is_current("[]", [])


def test_settled_needs_two_identical_polls_with_everything_online():
    online = pm2m.summarize([raw_process("api", 0), raw_process("api", 1)])
    crashed = pm2m.summarize([raw_process("api", 0), raw_process("api", 1, restarts=1)])
    assert not pm2m.settled([], online, ["api"])
    assert pm2m.settled(online, online, ["api"])
    assert not pm2m.settled(online, crashed, ["api"])  # a restart in between: crash loop
    errored = pm2m.summarize([raw_process("api", 0, status="errored")])
    assert not pm2m.settled(errored, errored, ["api"])
    assert not pm2m.settled([], [], ["api"])


def test_daemon_running_reads_the_pid_file(tmp_path):
    assert not pm2m.daemon_running(str(tmp_path))
    (tmp_path / "pm2.pid").write_text(str(os.getpid()))
    assert pm2m.daemon_running(str(tmp_path))
    (tmp_path / "pm2.pid").write_text("999999999")
    assert not pm2m.daemon_running(str(tmp_path))
    (tmp_path / "pm2.pid").write_text("garbage")
    assert not pm2m.daemon_running(str(tmp_path))


# ---------------------------------------------------------------- whole runs against a fake pm2


class FakePm2:
    """A PM2 daemon stand-in: a process table, the commands that change it, and a log of what ran."""

    def __init__(self, home, apps=None):
        self.home = home
        self.table = []
        self.ran = []
        self.jlist_calls = 0
        self.fail = {}
        self.running = False
        self.declared = apps or {"api": ("cluster_mode", 2), "worker": ("fork_mode", 1)}

    def start_daemon(self):
        self.running = True
        (self.home / "pm2.pid").write_text(str(os.getpid()))

    def add(self, name, status="online"):
        mode, count = self.declared[name]
        for _instance in range(count):
            self.table.append(raw_process(name, len(self.table), status=status, exec_mode=mode))
        self.start_daemon()

    def status_of(self, name):
        return [proc["pm2_env"]["status"] for proc in self.table if proc["name"] == name]

    def __call__(self, module, args, **kwargs):
        assert isinstance(args, list), "the module must pass argument lists, not shell strings"
        assert kwargs.get("environ_update", {}).get("PM2_HOME") == str(self.home)
        assert args[0] == PM2
        verb = args[1]
        if verb in self.fail:
            return 1, "", "\x1b[31m[PM2][ERROR] \x1b[39m" + self.fail[verb]
        noise = "" if self.running else SPAWN_NOISE
        if verb == "jlist":
            self.jlist_calls += 1
            self.start_daemon()
            return 0, noise + json.dumps(self.table), ""
        self.ran.append(args[1:])
        self.start_daemon()
        if "--only" in args:
            names = args[args.index("--only") + 1].split(",")
        else:
            names = args[2:]
        if verb == "save":
            (self.home / "dump.pm2").write_text(dump_of(self.table))
        for name in names:
            present = [proc for proc in self.table if proc["name"] == name]
            if verb in ("start", "restart", "reload") and not present:
                self.add(name)
                continue
            for proc in present:
                env = proc["pm2_env"]
                if verb in ("start", "restart", "reload"):
                    env["restart_time"] += 0 if env["status"] != "online" else 1
                    env["status"] = "online"
                    proc["pid"] = 2000 + proc["pm_id"]
                elif verb == "stop":
                    env["status"] = "stopped"
                    proc.pop("pid", None)
            if verb == "delete":
                self.table = [proc for proc in self.table if proc["name"] != name]
        return 0, "[PM2] done\n", ""


@pytest.fixture
def fake(monkeypatch, tmp_path):
    pm2 = FakePm2(tmp_path)

    def run_command(module, argv, **kwargs):  # a function, so that it binds as a method
        return pm2(module, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: PM2 if name == "pm2" else None)
    monkeypatch.setattr(pm2m, "is_executable", lambda path: path == PM2)
    monkeypatch.setattr(pm2m.time, "sleep", lambda seconds: None)
    return pm2


@pytest.fixture
def ecosystem(tmp_path):
    path = tmp_path / "ecosystem.config.json"
    path.write_text(
        json.dumps(
            {
                "apps": [
                    {"name": "api", "script": "dist/api/server.js", "exec_mode": "cluster", "instances": 2,
                     "env": {"API_TOKEN": SECRET}},
                    {"name": "worker", "script": "dist/worker/worker.js"},
                ]
            }
        )
    )
    return str(path)


def args(fake, **extra):
    base = {"pm2_home": str(fake.home), "_ansible_check_mode": False}
    base.update(extra)
    return base


def test_first_start_starts_both_apps_through_the_ecosystem_and_saves(fake, ecosystem, run_module):
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, save=True))
    assert result["changed"] is True
    assert result["actions"] == {"api": "start", "worker": "start"}
    assert fake.ran == [["start", ecosystem, "--only", "api,worker"], ["save", "--force"]]
    assert result["saved"] is True
    assert [(p["name"], p["status"]) for p in result["processes"]] == [
        ("api", "online"), ("api", "online"), ("worker", "online")
    ]
    assert SECRET not in json.dumps(result)


def test_a_reload_lists_the_processes_before_and_until_settled_only(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    (fake.home / "dump.pm2").write_text(dump_of(fake.table))
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, name="api", state="reloaded", save=True))
    assert result["actions"] == {"api": "reload"}
    assert fake.ran == [["reload", ecosystem, "--only", "api"]]
    # Once to plan, twice to see the instances settled; that last list is the result, not a fourth.
    assert fake.jlist_calls == 3
    assert [(p["name"], p["status"], p["restarts"]) for p in result["processes"]] == [("api", "online", 1)] * 2


def test_daemon_not_running_is_not_spawned_to_list_processes(fake, ecosystem, run_module):
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, state="absent"))
    assert result["changed"] is False
    assert fake.jlist_calls == 0 and fake.ran == []


def test_started_on_online_processes_changes_nothing(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    (fake.home / "dump.pm2").write_text(dump_of(fake.table))
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, save=True))
    assert result["changed"] is False
    assert result["actions"] == {"api": "none", "worker": "none"}
    assert result["commands"] == [] and fake.ran == []
    assert result["saved"] is False


def test_started_restarts_only_the_app_that_is_down(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker", status="errored")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem))
    assert result["changed"] is True
    assert result["actions"] == {"api": "none", "worker": "start"}
    assert fake.ran == [["start", ecosystem, "--only", "worker"]]
    assert fake.status_of("worker") == ["online"]


def test_save_alone_runs_when_the_dump_is_stale(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, save=True))  # no dump.pm2 yet
    assert result["changed"] is True
    assert result["actions"] == {"api": "none", "worker": "none"}
    assert fake.ran == [["save", "--force"]]


def test_name_restricts_the_ecosystem_to_one_app(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, name="api", state="reloaded"))
    assert result["changed"] is True
    assert fake.ran == [["reload", ecosystem, "--only", "api"]]
    assert {p["name"] for p in result["processes"]} == {"api"}


def test_a_list_of_names_reloads_them_with_one_command(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, name=["worker", "api"], state="reloaded"))
    assert result["actions"] == {"worker": "reload", "api": "reload"}
    assert fake.ran == [["reload", ecosystem, "--only", "worker,api"]]
    assert [(p["name"], p["restarts"]) for p in result["processes"]] == [("api", 1), ("api", 1), ("worker", 1)]


def test_reloaded_starts_what_does_not_run_in_the_same_command(fake, ecosystem, run_module):
    # As PM2 does (lib/API.js, reload of an ecosystem file): stopped processes are restarted,
    # applications it does not know are started after the others are reloaded.
    fake.add("api", status="stopped")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, state="reloaded"))
    assert fake.ran == [["reload", ecosystem, "--only", "api,worker"]]
    assert [(p["name"], p["status"]) for p in result["processes"]] == [("api", "online")] * 2 + [("worker", "online")]


@pytest.mark.parametrize("state", ["restarted", "reloaded"])
def test_restarted_and_reloaded_always_change(fake, ecosystem, state, run_module):
    fake.add("api")
    fake.add("worker")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, state=state))
    assert result["changed"] is True
    verb = {"restarted": "restart", "reloaded": "reload"}[state]
    assert fake.ran == [[verb, ecosystem, "--only", "api,worker"]]


def test_stopped_by_name_without_an_ecosystem(fake, run_module):
    fake.add("worker")
    result = run_module(pm2m.main, args(fake, name="worker", state="stopped", pm2_executable=PM2))
    assert result["changed"] is True
    assert fake.ran == [["stop", "worker"]]
    assert result["processes"][0]["status"] == "stopped"
    again = run_module(pm2m.main, args(fake, name="worker", state="stopped", pm2_executable=PM2))
    assert again["changed"] is False


def test_absent_deletes_and_then_is_a_no_op(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, state="absent"))
    assert result["changed"] is True
    assert fake.ran == [["delete", "api", "worker"]]
    assert result["processes"] == []
    assert run_module(pm2m.main, args(fake, ecosystem=ecosystem, state="absent"))["changed"] is False


def test_check_mode_reports_without_running_anything(fake, ecosystem, run_module):
    fake.add("api", status="stopped")
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, save=True, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["actions"] == {"api": "start", "worker": "start"}
    assert result["commands"] == [
        "%s start %s --only api,worker" % (PM2, ecosystem),
        "%s save --force" % PM2,
    ]
    assert result["saved"] is True
    assert fake.ran == []
    assert fake.status_of("api") == ["stopped", "stopped"]
    assert [p["status"] for p in result["processes"]] == ["stopped", "stopped"]


def test_check_mode_on_a_settled_host_reports_no_change(fake, ecosystem, run_module):
    fake.add("api")
    fake.add("worker")
    (fake.home / "dump.pm2").write_text(dump_of(fake.table))
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, save=True, _ansible_check_mode=True))
    assert result["changed"] is False and result["saved"] is False


def test_check_mode_does_not_spawn_the_daemon(fake, ecosystem, run_module):
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, _ansible_check_mode=True))
    assert result["changed"] is True
    assert fake.jlist_calls == 0 and not fake.running


def test_unknown_name_without_ecosystem_fails(fake, run_module):
    fake.start_daemon()
    result = run_module(pm2m.main, args(fake, name="api", state="started"))
    assert result["failed"] is True
    assert "does not know a process named api" in result["msg"]


def test_pm2_command_failure_is_reported_without_colours(fake, ecosystem, run_module):
    fake.fail["start"] = "Script not found: /home/mecove/app/current/dist/api/server.js"
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem))
    assert result["failed"] is True
    assert "rc=1" in result["msg"] and "Script not found" in result["msg"]
    assert "\x1b" not in result["msg"]


def test_processes_that_never_come_online_fail_after_the_timeout(fake, ecosystem, run_module, monkeypatch):
    clock = iter(range(0, 1000, 5))
    monkeypatch.setattr(pm2m.time, "time", lambda: next(clock))
    real_call = fake.__call__

    def crash_looping(module, argv, **kwargs):
        rc, out, err = real_call(module, argv, **kwargs)
        for proc in fake.table:
            proc["pm2_env"]["status"] = "errored"
        return rc, out, err

    monkeypatch.setattr(basic.AnsibleModule, "run_command", crash_looping)
    result = run_module(pm2m.main, args(fake, ecosystem=ecosystem, wait_timeout=20))
    assert result["failed"] is True
    assert "not all of api, worker came online within 20 s" in result["msg"]
    assert "api[0] errored" in result["msg"]


def test_missing_or_invalid_ecosystem_files_fail(fake, tmp_path, run_module):
    missing = run_module(pm2m.main, args(fake, ecosystem=str(tmp_path / "nope.json")))
    assert missing["failed"] and "does not exist" in missing["msg"]
    broken = tmp_path / "broken.json"
    broken.write_text("{apps: [")
    assert "is not valid JSON" in run_module(pm2m.main, args(fake, ecosystem=str(broken)))["msg"]
    no_script = tmp_path / "noscript.json"
    no_script.write_text('{"apps": [{"name": "api"}]}')
    assert "application api has no script" in run_module(pm2m.main, args(fake, ecosystem=str(no_script)))["msg"]
    yaml = tmp_path / "eco.yml"
    yaml.write_text("apps: []")
    assert "must end with .json" in run_module(pm2m.main, args(fake, ecosystem=str(yaml)))["msg"]


def test_javascript_ecosystem_is_read_with_node_next_to_pm2(fake, tmp_path, monkeypatch, run_module):
    path = tmp_path / "ecosystem.config.js"
    path.write_text("module.exports = {apps: [{name: 'api', script: 'server.js', env: {TOKEN: process.env.X}}]}")
    seen = []
    fake_pm2 = fake

    def run(module, argv, **kwargs):
        if argv[0] == "/usr/local/bin/node":
            seen.append(argv)
            return 0, json.dumps({"apps": [{"name": "api", "script": "server.js"}]}), ""
        return fake_pm2(module, argv, **kwargs)

    def bin_path(self, name, required=False, opt_dirs=None):
        assert name in ("pm2", "node")
        if name == "node":
            assert os.path.dirname(PM2) in opt_dirs
            return "/usr/local/bin/node"
        return PM2

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", bin_path)
    result = run_module(pm2m.main, args(fake, ecosystem=str(path)))
    assert result["actions"] == {"api": "start"}
    assert seen and seen[0][1] == "-e" and seen[0][3] == str(path)


def test_pm2_not_found_fails_with_the_option_to_set(monkeypatch, run_module, tmp_path):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: None)
    result = run_module(pm2m.main, {"name": "api", "pm2_home": str(tmp_path)})
    assert result["failed"] and "set pm2_executable" in result["msg"]


def test_name_or_ecosystem_is_required(run_module):
    result = run_module(pm2m.main, {"state": "started"})
    assert result["failed"] and "one of the following is required: name, ecosystem" in result["msg"]


def test_negative_wait_timeout_is_rejected(run_module):
    result = run_module(pm2m.main, {"name": "api", "wait_timeout": -1})
    assert result["failed"] and "wait_timeout must be 0 or more" in result["msg"]


# ---------------------------------------------------------------- PM2's own restarts before acting


def test_in_progress_names_instances_pm2_is_restarting_or_brought_online_just_now():
    now = 1_000_000
    table = [raw_process("api", 0), raw_process("api", 1, status="launching"), raw_process("worker", 2)]
    table[0]["pm2_env"]["pm_uptime"] = now - 60_000
    table[2]["pm2_env"]["pm_uptime"] = now - 1_000
    assert pm2m.in_progress(table, ["api"], now) == ["api[1] launching"]
    assert pm2m.in_progress(table, ["api", "worker"], now) == ["api[1] launching", "worker[2] online"]
    table[2]["pm2_env"]["pm_uptime"] = now - pm2m.STEADY_AFTER_MS
    assert pm2m.in_progress(table, ["worker"], now) == []
    for status in ("stopping", "waiting restart", "one-launch-status"):
        assert pm2m.in_progress([raw_process("api", 0, status=status)], ["api"], now) == ["api[0] %s" % status]
    # Settled states, however bad, are PM2's last word: stopped and errored instances are not waited for.
    assert pm2m.in_progress([raw_process("api", 0, status="errored"), raw_process("api", 1, status="stopped")],
                            ["api"], now) == []


@pytest.fixture
def restarting(fake, monkeypatch):
    """The API's second instance is in PM2's own restart (launching) for the first `polls` jlists."""
    fake.add("api")
    fake.add("worker")
    fake.table[1]["pm2_env"]["status"] = "launching"
    clock = iter(range(0, 10_000, 2))
    monkeypatch.setattr(pm2m.time, "time", lambda: next(clock))
    statuses_at_commands = []
    real_call = fake.__call__

    def pm2(module, argv, **kwargs):
        if argv[1] == "jlist" and fake.jlist_calls >= fake.polls:
            fake.table[1]["pm2_env"]["status"] = "online"
        if argv[1] != "jlist":
            statuses_at_commands.append((argv[1], fake.status_of("api")))
        return real_call(module, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", pm2)
    fake.polls = 3
    fake.statuses_at_commands = statuses_at_commands
    return fake


def test_a_reload_waits_until_pm2_has_finished_its_own_restart(restarting, ecosystem, run_module):
    result = run_module(pm2m.main, args(restarting, ecosystem=ecosystem, name="api", state="reloaded"))
    assert result["actions"] == {"api": "reload"}
    assert restarting.statuses_at_commands == [("reload", ["online", "online"])]
    assert result["waited"] > 0
    assert not result.get("failed")


def test_started_does_not_start_an_instance_pm2_is_restarting(restarting, ecosystem, run_module):
    result = run_module(pm2m.main, args(restarting, ecosystem=ecosystem, state="started"))
    assert result["actions"] == {"api": "none", "worker": "none"}
    assert restarting.ran == []
    assert result["changed"] is False


def test_past_wait_timeout_the_module_acts_anyway_and_warns(restarting, ecosystem, run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    restarting.polls = 1_000
    result = run_module(pm2m.main, args(restarting, ecosystem=ecosystem, name="api", state="reloaded", wait_timeout=10))
    assert restarting.statuses_at_commands == [("reload", ["online", "launching"])]
    assert warnings == ["PM2 was still starting, restarting or stopping api[1] launching after 10 s; acting anyway"]
    assert result["waited"] >= 10


@pytest.mark.parametrize("extra, commands", [
    ({"wait_timeout": 0}, [("reload", ["online", "launching"])]),
    ({"state": "stopped"}, [("stop", ["online", "launching"])]),
    ({"_ansible_check_mode": True}, []),
])
def test_no_wait_before_acting_without_a_timeout_to_stop_or_in_check_mode(
        restarting, ecosystem, run_module, extra, commands):
    options = dict({"name": "api", "state": "reloaded"}, **extra)
    result = run_module(pm2m.main, args(restarting, ecosystem=ecosystem, **options))
    assert result["waited"] == 0
    assert restarting.statuses_at_commands == commands
