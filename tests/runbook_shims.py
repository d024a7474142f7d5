"""`systemctl`, `journalctl` and `sudoedit` for the runbook test (tests/test_runbook.py): the unit files in
deploy/systemd run as plain background processes, so the README's steps can be followed on a machine without systemd
as PID 1, and an "edit this file" step sets what the IT team would type.

Standalone (standard library only): the test writes small shell shims that call this file. State lives in
$RUNBOOK_SYSTEMD_STATE: `enabled` (one unit a line), `<unit>.pid`, `<unit>.done` (a oneshot that succeeded),
`<unit>.log` (what journalctl shows). Units are read from $RUNBOOK_UNIT_DIR (the runbook's /etc/systemd/system).
What is emulated: ExecStart, Environment (then EnvironmentFile, which overrides it, as systemd does),
WorkingDirectory, Type=oneshot (run to the end; a failure fails the command), Requires= (started first),
WantedBy=siaga.target (enabled instances start with the target), %i. Not emulated: User=, sandboxing, Restart=.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

STATE = Path(os.environ.get("RUNBOOK_SYSTEMD_STATE", "/nonexistent"))
UNITS = Path(os.environ.get("RUNBOOK_UNIT_DIR", "/nonexistent"))
# the production paths in unit files, moved under the test's directory (the same substitution as in the README)
ROOT = os.environ.get("RUNBOOK_ROOT", "/nonexistent")
PREFIXES = re.compile(r"(?<![\w/.])(/opt/siaga|/etc/siaga|/var/lib/siaga|/var/backups/siaga)\b")
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def read_unit(name: str) -> dict[str, list[str]]:
    """The unit's keys (every value, in order), from its file or its template's, with %i filled in."""
    stem, _, kind = name.rpartition(".")
    instance = stem.split("@", 1)[1] if "@" in stem else ""
    path = UNITS / (f"{stem.split('@', 1)[0]}@.{kind}" if instance else name)
    if not path.is_file():
        raise SystemExit(f"Failed: unit {name} not found.")
    keys: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = PREFIXES.sub(lambda m: ROOT + m.group(1), value.strip().replace("%i", instance))
        keys.setdefault(key.strip(), []).append(value)
    return keys


def env_file(path: str) -> dict[str, str]:
    optional = path.startswith("-")
    file = Path(path.lstrip("-"))
    if not file.is_file():
        if optional:
            return {}
        raise SystemExit(f"Failed to load environment file {file}")
    env = {}
    for raw in file.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def environment(keys: dict[str, list[str]]) -> dict[str, str]:
    env = dict(BASE_ENV, HOME=str(STATE))
    for assignment in keys.get("Environment", []):
        for item in shlex.split(assignment):
            key, _, value = item.partition("=")
            env[key] = value
    for path in keys.get("EnvironmentFile", []):
        env.update(env_file(path))
    return env


def pid_of(name: str) -> int | None:
    file = STATE / f"{name}.pid"
    if not file.exists():
        return None
    pid = int(file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
        return None
    return pid


def active(name: str) -> bool:
    if name.endswith((".target", ".timer")):
        return (STATE / f"{name}.done").exists()
    return pid_of(name) is not None or (STATE / f"{name}.done").exists()


def enabled() -> list[str]:
    file = STATE / "enabled"
    return file.read_text().split() if file.exists() else []


def start(name: str) -> None:
    if active(name):
        return
    if name.endswith(".timer"):
        read_unit(name)
        (STATE / f"{name}.done").touch()
        return
    keys = read_unit(name)
    for required in " ".join(keys.get("Requires", []) + keys.get("Wants", [])).split():
        if required.startswith("siaga"):
            start(required)
    if name.endswith(".target"):
        for unit in enabled():
            if unit != name and f"{name}" in " ".join(read_unit(unit).get("WantedBy", [])):
                start(unit)
        (STATE / f"{name}.done").touch()
        return
    command = shlex.split(keys["ExecStart"][-1].lstrip("-@+!"))
    cwd = keys.get("WorkingDirectory", [str(STATE)])[-1]
    log = (STATE / f"{name}.log").open("ab")
    process = subprocess.Popen(command, cwd=cwd, env=environment(keys), stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    if keys.get("Type", ["simple"])[-1] == "oneshot":
        if process.wait() != 0:
            raise SystemExit(f"Job for {name} failed (exit {process.returncode}). See journalctl -u {name}.")
        if keys.get("RemainAfterExit", ["no"])[-1] == "yes":
            (STATE / f"{name}.done").touch()
        return
    (STATE / f"{name}.pid").write_text(str(process.pid))
    time.sleep(0.2)  # Type=exec: a command that cannot even start fails here
    if process.poll() is not None:
        raise SystemExit(f"Job for {name} failed (exit {process.returncode}). See journalctl -u {name}.")


def stop(name: str) -> None:
    if name.endswith(".target"):
        for unit in enabled():
            if unit.startswith("siaga") and not unit.endswith(".target"):
                stop(unit)
        stop("siaga-release.service")
    (STATE / f"{name}.done").unlink(missing_ok=True)
    pid = pid_of(name)
    if pid is None:
        return
    os.killpg(pid, signal.SIGTERM)
    for _ in range(200):
        if pid_of(name) is None:
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    (STATE / f"{name}.pid").unlink(missing_ok=True)


def systemctl(args: list[str]) -> int:
    flags = {a for a in args if a.startswith("-")}
    words = [a for a in args if not a.startswith("-")]
    verb, names = words[0], [unit_name(n) for n in words[1:]]
    if verb in ("daemon-reload", "list-timers", "reset-failed"):
        return 0
    if verb == "enable":
        for name in names:
            read_unit(name)
        (STATE / "enabled").write_text("\n".join(dict.fromkeys(enabled() + names)) + "\n")
        if "--now" in flags:
            for name in names:
                start(name)
        return 0
    if verb == "start":
        for name in names:
            start(name)
        return 0
    if verb == "stop":
        for name in names:
            stop(name)
        return 0
    if verb == "restart":
        for name in names:
            stop(name)
            start(name)
        return 0
    if verb in ("is-active", "status"):
        states = {name: "active" if active(name) else "inactive" for name in names}
        for name, state in states.items():
            print(state if verb == "is-active" else f"{name}: {state}")
        return 0 if all(s == "active" for s in states.values()) else 3
    raise SystemExit(f"systemctl (runbook shim): {verb} is not emulated")


def journalctl(args: list[str]) -> int:
    names = [unit_name(args[i + 1]) for i, a in enumerate(args) if a == "-u"]
    for name in names:
        log = STATE / f"{name}.log"
        if log.exists():
            sys.stdout.write(log.read_text(errors="replace"))
    return 0


def sudoedit(args: list[str]) -> int:
    """Set the values $RUNBOOK_EDITS (JSON: file name -> {KEY: value}) holds for each file, on the line where the file
    has the key (commented out or not); a key the file does not mention is an error: the example must list it."""
    edits = json.loads(os.environ.get("RUNBOOK_EDITS", "{}"))
    for name in args:
        path = Path(name)
        lines = path.read_text().splitlines()
        for key, value in edits.get(path.name, {}).items():
            at = [i for i, line in enumerate(lines) if re.match(rf"#?\s*{key}=", line)]
            if not at:
                raise SystemExit(f"sudoedit (runbook shim): {path.name} does not mention {key}")
            lines[at[0]] = f"{key}={value}"
        path.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    tools = {"systemctl": systemctl, "journalctl": journalctl, "sudoedit": sudoedit}
    raise SystemExit(tools[command](rest))
