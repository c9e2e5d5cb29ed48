#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pm2_process
short_description: Start, stop, restart, reload or delete PM2 processes
version_added: 1.0.0
description:
  - Drives the L(PM2,https://pm2.keymetrics.io/) process manager of the user the module runs as
    (use O(ignore:become_user) to act on another user's PM2), from an ecosystem file, a process name, or both.
  - Reads the current process list with C(pm2 jlist) and only acts when the wanted state differs, so
    O(state=started) on processes that are already online, or O(state=stopped) on stopped ones, changes nothing.
    O(state=restarted) and O(state=reloaded) always act.
  - With O(save=true), runs C(pm2 save) when the processes PM2 runs differ from its dump file
    (C(dump.pm2), what C(pm2 resurrect) restores at boot), so a reboot brings back what this module started.
  - Returns each target process's status, never its environment. C(pm2 jlist) includes every process's
    environment, which may hold secrets; the module keeps it out of its results.
options:
  name:
    description:
      - Names of the PM2 applications to act on (all their instances, in cluster mode); one name or a list.
      - With O(ecosystem), acts on those applications of the file only; each must be declared there.
      - Without O(ecosystem), acts on processes PM2 already knows. O(state=started), O(state=restarted) and
        O(state=reloaded) fail for a name PM2 does not know, since there is nothing to start it from.
      - Several applications take one C(pm2) command per action, which PM2 carries out for two applications
        at a time (its E(PM2_CONCURRENT_ACTIONS)), so reloading an API and a worker together takes about as long
        as the slower of the two, not the sum. The instances of one application are still reloaded one after
        the other.
    type: list
    elements: str
  ecosystem:
    description:
      - Path of a PM2 ecosystem file on the target, C(*.json) (strict JSON), C(*.config.js), C(*.config.cjs)
        or C(*.config.mjs).
      - Without O(name), the module acts on every application the file declares.
      - A JavaScript file is evaluated with the C(node) found next to O(pm2_executable) or on E(PATH), as PM2
        itself does; a JSON file is read by the module.
      - Starting, restarting and reloading go through the file (C(pm2 <action> <file> --only <names>)), so
        PM2 applies its current settings. Changing an application's O(ecosystem) settings therefore needs
        O(state=reloaded) or O(state=restarted); O(state=started) leaves online processes alone. Changing
        C(instances) or C(exec_mode) of a running application needs O(state=absent) then O(state=started).
    type: path
  state:
    description:
      - V(started) starts the applications that are not online (missing, stopped or errored).
      - V(stopped) stops the applications that run; applications PM2 does not know are left alone.
      - V(restarted) restarts them (starting missing ones from O(ecosystem)); always changes.
      - V(reloaded) reloads them (zero-downtime in cluster mode; a restart in fork mode); always changes. With
        O(ecosystem), PM2 starts in the same command the applications that do not run (missing, stopped or
        errored), so one task both starts and reloads.
      - V(absent) deletes them from PM2's process list.
    type: str
    choices: [started, stopped, restarted, reloaded, absent]
    default: started
  pm2_executable:
    description:
      - Path of the C(pm2) executable. By default C(pm2) is looked up on E(PATH) and in C(/usr/local/bin).
    type: path
  pm2_home:
    description:
      - PM2's home folder (E(PM2_HOME)) holding the daemon's sockets and the dump file.
      - By default E(PM2_HOME) from the environment, else C(~/.pm2) of the user the module runs as.
    type: path
  save:
    description:
      - Run C(pm2 save --force) afterwards when the dump file does not match the processes PM2 runs (names,
        stopped or running, script, working folder, node arguments, mode and log files).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait, after starting, restarting or reloading, until every instance of the target
        applications is online twice in a row with no new restarts. The module fails when they are not.
      - Also the longest wait before acting, for O(state=started), V(restarted) or V(reloaded). While PM2 is
        itself starting, restarting or stopping an instance of a target application (after a crash, say), or
        brought one online less than 3 seconds ago, the module waits until it is done, so that its command does
        not overlap PM2's own restart (a reload in that window can leave a cluster worker that PM2 no longer
        lists). Past this bound it acts anyway, with a warning naming the instances.
      - V(0) returns as soon as PM2 has accepted the command, and acts without waiting first.
    type: int
    default: 60
notes:
  - Supports check mode. In check mode nothing runs but C(pm2 jlist) (and C(node) for a JavaScript ecosystem
    file); when the PM2 daemon is not running, the module does not start it and reports the process list as empty.
  - The first C(pm2) command that needs the daemon spawns it, in the calling session. On hosts where a systemd
    unit supervises PM2 (C(pm2 resurrect) with a PIDFile), start that unit before using this module, so the
    daemon belongs to the unit.
  - Applications started by this module inherit the environment of the C(pm2) call. Give them their settings
    through the ecosystem file or an env file, not through the task's environment.
  - Process names that are numbers are taken by PM2 as process ids.
author:
  - meCove platform team (@mecove)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Start the applications of the ecosystem file as the app user, and save them for reboots
  mecove.platform.pm2_process:
    ecosystem: /home/mecove/ecosystem.config.json
    state: started
    save: true
  become: true
  become_user: mecove

- name: Reload the API (zero-downtime in cluster mode) and the worker together
  mecove.platform.pm2_process:
    ecosystem: /home/mecove/ecosystem.config.json
    name: [api, worker]
    state: reloaded
  become: true
  become_user: mecove

- name: Stop the worker that PM2 already knows
  mecove.platform.pm2_process:
    name: worker
    state: stopped
    pm2_executable: /usr/local/bin/pm2
  become: true
  become_user: mecove
"""

RETURN = r"""
processes:
  description:
    - The instances of the target applications after the module ran (before, in check mode), in PM2's order.
    - Environment variables are never returned.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Application name.
      type: str
      sample: api
    pm_id:
      description: PM2's id of the instance.
      type: int
      sample: 0
    status:
      description: PM2 status, for example V(online), V(stopped), V(errored), V(launching).
      type: str
      sample: online
    pid:
      description: Operating system process id, V(0) when not running.
      type: int
      sample: 4242
    restarts:
      description: How many times PM2 restarted the instance.
      type: int
      sample: 0
    exec_mode:
      description: V(cluster) or V(fork).
      type: str
      sample: cluster
    instances:
      description: Instances of the application PM2 runs (counted from the list).
      type: int
      sample: 2
    script:
      description: Absolute path of the script PM2 runs.
      type: str
      sample: /home/mecove/app/current/dist/api/server.js
    cwd:
      description: Working folder of the process.
      type: str
      sample: /home/mecove/app/current
    cwd_resolved:
      description:
        - The folder the running process is in, as the kernel resolved it. A symlinked C(cwd) in the ecosystem file
          shows its target, so this names the release a process really runs.
        - V(null) when the process does not run or its folder cannot be read.
      type: str
      sample: /home/mecove/app/releases/20260101T120000Z-3f2c1ab
    node_args:
      description: Arguments given to node.
      type: list
      elements: str
      sample: ["--enable-source-maps"]
  sample:
    - name: api
      pm_id: 0
      status: online
      pid: 4242
      restarts: 0
      exec_mode: cluster
      instances: 2
      script: /home/mecove/app/current/dist/api/server.js
      cwd: /home/mecove/app/current
      cwd_resolved: /home/mecove/app/releases/20260101T120000Z-3f2c1ab
      node_args: ["--enable-source-maps"]
actions:
  description: What the module did (or would do, in check mode) to each target application.
  returned: always
  type: dict
  sample: {"api": "none", "worker": "start"}
commands:
  description: The mutating PM2 commands that ran (or would run, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/usr/local/bin/pm2 start /home/mecove/ecosystem.config.json --only worker"]
saved:
  description: Whether C(pm2 save) ran (or would run, in check mode).
  returned: always
  type: bool
  sample: true
waited:
  description:
    - Seconds the module waited, before acting, for PM2 to finish its own start, restart or stop of an
      instance (see O(wait_timeout)); V(0) when nothing was in progress.
  returned: always
  type: float
  sample: 6.2
"""

import json
import os
import pwd
import re
import shlex
import time

from ansible.module_utils.basic import AnsibleModule

STATES = ("started", "stopped", "restarted", "reloaded", "absent")
# Order in which actions of one run are applied.
ACTION_ORDER = ("delete", "stop", "start", "restart", "reload")
# Actions after which the module waits for the processes to be online.
RUNNING_ACTIONS = ("start", "restart", "reload")
# PM2's statuses of an instance it is starting, restarting or stopping on its own.
TRANSITIONAL_STATUSES = ("launching", "stopping", "waiting restart", "one-launch-status")
# An instance online for less time than this may still be finishing PM2's own restart.
STEADY_AFTER_MS = 3000
JS_ECOSYSTEM_SUFFIXES = (".config.js", ".config.cjs", ".config.mjs")

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Reads a JavaScript ecosystem file with node and prints only what the module needs (no env).
NODE_ECOSYSTEM_READER = r"""
const path = require('path');
const url = require('url');
const file = path.resolve(process.argv[1]);
const load = file.endsWith('.mjs')
  ? import(url.pathToFileURL(file).href).then((m) => m.default || m)
  : Promise.resolve(require(file));
load.then((conf) => {
  let apps = conf && conf.apps !== undefined ? conf.apps : conf;
  if (!Array.isArray(apps)) apps = [apps];
  const keep = ['name', 'script', 'instances', 'exec_mode'];
  process.stdout.write(JSON.stringify({apps: apps.map((app) => {
    const out = {};
    if (app && typeof app === 'object') keep.forEach((key) => { if (app[key] !== undefined) out[key] = app[key]; });
    return out;
  })}));
}).catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(3); });
"""


class Pm2Error(Exception):
    """A problem the module reports with fail_json."""


def strip_ansi(text):
    return ANSI_ESCAPE.sub("", text or "")


def parse_jlist(output):
    """The process list from `pm2 jlist` output.

    PM2 may print a banner, daemon start messages or update warnings before the JSON (on stdout too);
    the list is the first line that starts a JSON array.
    """
    text = strip_ansi(output)
    decoder = json.JSONDecoder()
    offset = 0
    for line in text.splitlines(True):
        stripped = line.lstrip()
        if stripped.startswith("["):
            start = offset + len(line) - len(stripped)
            try:
                value, _end = decoder.raw_decode(text, start)
            except ValueError:
                value = None
            if isinstance(value, list):
                return value
        offset += len(line)
    raise Pm2Error("could not find the process list (a JSON array) in the output of pm2 jlist: %s" % text[-500:])


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def resolved_cwd(pid):
    """The working folder of a running process as the kernel resolved it (symlinks followed), or
    None when it is not running or cannot be read (another user's process, no /proc)."""
    if pid <= 0:
        return None
    try:
        return os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        return None


def summarize(processes):
    """Safe per-instance summaries of raw jlist entries: no environment, ever."""
    counts = {}
    for proc in processes:
        counts[proc.get("name")] = counts.get(proc.get("name"), 0) + 1
    summaries = []
    for proc in processes:
        env = proc.get("pm2_env") or {}
        exec_mode = env.get("exec_mode") or ""
        if exec_mode.endswith("_mode"):
            exec_mode = exec_mode[: -len("_mode")]
        node_args = env.get("node_args") or []
        if not isinstance(node_args, list):
            node_args = shlex.split(str(node_args))
        summaries.append(
            {
                "name": proc.get("name"),
                "pm_id": _int(proc.get("pm_id", env.get("pm_id")), -1),
                "status": env.get("status") or "unknown",
                "pid": _int(proc.get("pid")),
                "restarts": _int(env.get("restart_time")),
                "exec_mode": exec_mode,
                "instances": counts[proc.get("name")],
                "script": env.get("pm_exec_path"),
                "cwd": env.get("pm_cwd"),
                "cwd_resolved": resolved_cwd(_int(proc.get("pid"))),
                "node_args": [str(arg) for arg in node_args],
            }
        )
    return summaries


def app_name(app):
    """The name PM2 gives an ecosystem app: its name, else the script's file name without extension."""
    if app.get("name"):
        return str(app["name"])
    base = os.path.basename(str(app["script"]))
    return base.rsplit(".", 1)[0] if "." in base[1:] else base


def ecosystem_apps(config, source="the ecosystem file"):
    """The applications an ecosystem configuration declares, as [{'name', 'script'}]."""
    apps = config.get("apps") if isinstance(config, dict) and "apps" in config else config
    if isinstance(apps, dict):
        apps = [apps]
    if not isinstance(apps, list) or not apps:
        raise Pm2Error("%s declares no applications (expected an 'apps' list)" % source)
    declared, seen = [], set()
    for index, app in enumerate(apps):
        if not isinstance(app, dict):
            raise Pm2Error("%s: application #%d is not an object" % (source, index + 1))
        if not app.get("script"):
            raise Pm2Error(
                "%s: application %s has no script; every PM2 process needs one"
                % (source, app.get("name") or "#%d" % (index + 1))
            )
        name = app_name(app)
        if name in seen:
            raise Pm2Error("%s declares the application name %s twice" % (source, name))
        seen.add(name)
        declared.append({"name": name, "script": str(app["script"])})
    return declared


def target_names(names, declared):
    """Names to act on, once each: the given names (each declared, with an ecosystem file) or every declared app."""
    wanted = list(dict.fromkeys(names or []))
    if declared is None:
        if not wanted:
            raise Pm2Error("name must name at least one application when there is no ecosystem file")
        return wanted
    known = [app["name"] for app in declared]
    if not wanted:
        return known
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise Pm2Error(
            "application%s %s %s not declared in the ecosystem file (it declares: %s)"
            % ("s" if len(unknown) > 1 else "", ", ".join(unknown), "are" if len(unknown) > 1 else "is", ", ".join(known))
        )
    return wanted


def decide(state, instances):
    """The action one application needs, given its instances' summaries: one of ACTION_ORDER or None."""
    statuses = [proc["status"] for proc in instances]
    if state == "started":
        if statuses and all(status == "online" for status in statuses):
            return None
        return "start"
    if state == "stopped":
        return "stop" if any(status != "stopped" for status in statuses) else None
    if state == "restarted":
        return "restart"
    if state == "reloaded":
        return "reload"
    if state == "absent":
        return "delete" if statuses else None
    raise Pm2Error("unknown state %s" % state)


def plan(state, names, processes, has_ecosystem):
    """{name: action or None} for every target; fails for starts PM2 would have nothing to start from."""
    actions = {}
    for name in names:
        instances = [proc for proc in processes if proc["name"] == name]
        action = decide(state, instances)
        if action in RUNNING_ACTIONS and not instances and not has_ecosystem:
            raise Pm2Error(
                "PM2 does not know a process named %s, and without an ecosystem file there is nothing to %s it from"
                % (name, action)
            )
        actions[name] = action
    return actions


def commands(pm2, actions, ecosystem):
    """The PM2 command lines that carry out a plan, one per action, in ACTION_ORDER."""
    argvs = []
    for action in ACTION_ORDER:
        names = [name for name, wanted in actions.items() if wanted == action]
        if not names:
            continue
        if ecosystem and action in RUNNING_ACTIONS:
            argvs.append([pm2, action, ecosystem, "--only", ",".join(names)])
        else:
            argvs.append([pm2, action] + names)
    return argvs


def fingerprint(entries):
    """What a reboot restores, per process, from dump entries (pm2_env objects) or jlist entries."""
    prints = []
    for entry in entries:
        env = entry.get("pm2_env", entry) if isinstance(entry, dict) else {}
        node_args = env.get("node_args") or []
        prints.append(
            json.dumps(
                [
                    env.get("name"),
                    "stopped" if env.get("status") == "stopped" else "running",
                    env.get("exec_mode"),
                    env.get("pm_exec_path"),
                    env.get("pm_cwd"),
                    node_args if isinstance(node_args, list) else str(node_args),
                    env.get("pm_out_log_path"),
                    env.get("pm_err_log_path"),
                ],
                sort_keys=True,
            )
        )
    return sorted(prints)


def dump_is_current(dump_text, processes):
    """Whether PM2's dump file already holds what the running processes would save."""
    if dump_text is None:
        return False
    try:
        dumped = json.loads(dump_text)
    except ValueError:
        return False
    if not isinstance(dumped, list):
        return False
    live = [proc for proc in processes if not (proc.get("pm2_env") or {}).get("pmx_module")]
    return fingerprint(dumped) == fingerprint(live)


def settled(before, after, names):
    """True when every instance of the named apps is online in both polls with the same restart counts."""
    def view(summaries):
        return sorted((p["pm_id"], p["status"], p["restarts"]) for p in summaries if p["name"] in names)

    current = view(after)
    if not current or any(status != "online" for _pm_id, status, _restarts in current):
        return False
    return view(before) == current


def in_progress(processes, names, now_ms):
    """'name[id] status' of each instance of the named apps that PM2 is (re)starting or stopping on its own,
    or brought online less than STEADY_AFTER_MS ago (raw jlist entries; now_ms: the host's clock)."""
    busy = []
    for proc in processes:
        env = proc.get("pm2_env") or {}
        if proc.get("name") not in names:
            continue
        status = env.get("status")
        young = status == "online" and now_ms - _int(env.get("pm_uptime"), 0) < STEADY_AFTER_MS
        if status in TRANSITIONAL_STATUSES or young:
            busy.append("%s[%s] %s" % (proc.get("name"), proc.get("pm_id", env.get("pm_id")), status))
    return busy


def wait_until_steady(module, pm2, names, listed, timeout):
    """(jlist entries, seconds waited) once PM2 is not itself (re)starting or stopping an instance of the
    named apps (see in_progress); past timeout, the last list, with a warning."""
    start = time.time()
    deadline = start + timeout
    while True:
        busy = in_progress(listed, names, time.time() * 1000)
        if not busy:
            return listed, round(time.time() - start, 1)
        if time.time() >= deadline:
            module.warn(
                "PM2 was still starting, restarting or stopping %s after %d s; acting anyway" % (", ".join(busy), timeout)
            )
            return listed, round(time.time() - start, 1)
        time.sleep(1)
        listed = pm2.jlist()


def daemon_running(pm2_home):
    """Whether PM2's daemon (pid file in PM2_HOME) is alive, without spawning it as any pm2 command would."""
    try:
        with open(os.path.join(pm2_home, "pm2.pid")) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class Pm2:
    """Runs pm2 for the module."""

    def __init__(self, module, executable, pm2_home):
        self.module = module
        self.executable = executable
        self.pm2_home = pm2_home
        self.environ = {"PM2_HOME": pm2_home}

    def run(self, argv, what):
        rc, out, err = self.module.run_command(argv, environ_update=self.environ)
        if rc != 0:
            raise Pm2Error(
                "%s failed (rc=%d): %s" % (" ".join(argv[1:]) or what, rc, strip_ansi(err or out).strip()[-2000:])
            )
        return out

    def jlist(self):
        if not daemon_running(self.pm2_home):
            return []
        return parse_jlist(self.run([self.executable, "jlist"], "pm2 jlist"))


def is_executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def read_ecosystem(module, path, pm2_executable):
    if not os.path.isfile(path):
        raise Pm2Error("ecosystem file %s does not exist" % path)
    if path.endswith(".json"):
        try:
            with open(path) as handle:
                config = json.load(handle)
        except ValueError as exc:
            raise Pm2Error("ecosystem file %s is not valid JSON: %s" % (path, exc))
    elif path.endswith(JS_ECOSYSTEM_SUFFIXES):
        node = module.get_bin_path("node", opt_dirs=[os.path.dirname(pm2_executable), "/usr/local/bin"])
        if not node:
            raise Pm2Error("node is needed to read %s and was found neither on PATH nor next to pm2" % path)
        rc, out, err = module.run_command([node, "-e", NODE_ECOSYSTEM_READER, path])
        if rc != 0:
            raise Pm2Error("node could not load the ecosystem file %s: %s" % (path, (err or out).strip()[-2000:]))
        config = json.loads(out)
    else:
        raise Pm2Error("ecosystem file %s must end with .json, .config.js, .config.cjs or .config.mjs" % path)
    return ecosystem_apps(config, source=path)


def wait_until_online(pm2, names, timeout):
    """The `pm2 jlist` entries once the named apps have settled (see settled)."""
    deadline = time.time() + timeout
    previous = []
    while True:
        listed = pm2.jlist()
        current = summarize(listed)
        if settled(previous, current, names):
            return listed
        if time.time() >= deadline:
            late = ["%s[%s] %s" % (p["name"], p["pm_id"], p["status"]) for p in current if p["name"] in names]
            raise Pm2Error(
                "not all of %s came online within %d s (%s); see their error logs"
                % (", ".join(names), timeout, ", ".join(late) or "no instances")
            )
        previous = current
        time.sleep(1)


def run_module(module):
    params = module.params
    pm2_executable = params["pm2_executable"] or module.get_bin_path("pm2", opt_dirs=["/usr/local/bin"])
    if not pm2_executable or not is_executable(pm2_executable):
        raise Pm2Error("pm2 was not found (%s); install it or set pm2_executable" % (pm2_executable or "not on PATH"))
    # As PM2 itself: $PM2_HOME, else .pm2 in the home folder of the user the module runs as.
    pm2_home = params["pm2_home"] or os.environ.get("PM2_HOME") or os.path.join(
        os.environ.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir, ".pm2"
    )
    pm2 = Pm2(module, pm2_executable, pm2_home)

    ecosystem = params["ecosystem"]
    declared = read_ecosystem(module, ecosystem, pm2_executable) if ecosystem else None
    names = target_names(params["name"], declared)

    raw = pm2.jlist()
    waited = 0.0
    if params["state"] in ("started", "restarted", "reloaded") and params["wait_timeout"] > 0 and not module.check_mode:
        raw, waited = wait_until_steady(module, pm2, names, raw, params["wait_timeout"])
    before = summarize(raw)
    actions = plan(params["state"], names, before, has_ecosystem=bool(ecosystem))
    argvs = commands(pm2_executable, actions, ecosystem)
    result = {
        "changed": bool(argvs),
        "actions": {name: action or "none" for name, action in actions.items()},
        "commands": [" ".join(shlex.quote(arg) for arg in argv) for argv in argvs],
        "saved": False,
        "waited": waited,
    }

    if module.check_mode:
        after_raw, after = raw, before
    else:
        for argv in argvs:
            pm2.run(argv, "pm2")
        started = [name for name, action in actions.items() if action in RUNNING_ACTIONS]
        # The settled list is the state after the actions: each pm2 command costs a Node.js start.
        if started and params["wait_timeout"] > 0:
            after_raw = wait_until_online(pm2, started, params["wait_timeout"])
        else:
            after_raw = pm2.jlist() if argvs else raw
        after = summarize(after_raw)

    if params["save"]:
        dump_text = None
        try:
            with open(os.path.join(pm2_home, "dump.pm2")) as handle:
                dump_text = handle.read()
        except OSError:
            pass
        # In check mode the processes have not changed yet: any planned action may change what a save writes.
        if not dump_is_current(dump_text, after_raw) or (module.check_mode and argvs):
            result["saved"] = True
            result["changed"] = True
            save = [pm2_executable, "save", "--force"]
            result["commands"].append(" ".join(shlex.quote(arg) for arg in save))
            if not module.check_mode:
                pm2.run(save, "pm2 save")

    result["processes"] = [proc for proc in after if proc["name"] in names]
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str"),
            ecosystem=dict(type="path"),
            state=dict(type="str", default="started", choices=list(STATES)),
            pm2_executable=dict(type="path"),
            pm2_home=dict(type="path"),
            save=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=60),
        ),
        required_one_of=[["name", "ecosystem"]],
        supports_check_mode=True,
    )
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout must be 0 or more seconds; got %d" % module.params["wait_timeout"])
    try:
        result = run_module(module)
    except Pm2Error as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
