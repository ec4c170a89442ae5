"""Is the process that runs a job still alive? (docs/interrupted-jobs.md)

A running job records who runs it: the host name, the process id and the process's start time.
The start time tells a live job apart from an unrelated process that got the same pid later
(pids are reused, and after a reboot they start again from 1). On Linux it is read from
``/proc`` as ``<boot id>:<pid namespace>:<start ticks>``: another boot id means the machine
restarted since (the process is gone); another pid namespace (a container sharing the host
name) means its pids cannot be examined from here. Elsewhere the start time is unknown and the
job's heartbeat decides.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

_PROC = Path("/proc")


class Liveness(StrEnum):
    """What this process can tell about another process."""

    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"  # another host, or no way to tell: the heartbeat decides


@dataclass(frozen=True)
class ProcessIdentity:
    """Who runs a job: host name, pid and start time ("" when the platform does not tell)."""

    host: str
    pid: int
    started: str


@cache
def this_process() -> ProcessIdentity:
    """The identity of the current process (cached: it never changes while the process lives)."""
    pid = os.getpid()
    return ProcessIdentity(host=host_name(), pid=pid, started=process_start(pid) or "")


def host_name() -> str:
    """This machine's name as other bc-tui processes on it will see it."""
    return socket.gethostname()[:255]


def process_start(pid: int) -> str | None:
    """When ``pid`` started, as a text that differs for a reused pid; None if unknown.

    Linux: ``<boot id>:<pid namespace>:<start ticks>`` from ``/proc``, so neither a reboot nor a
    reused pid can look like the same process. Other platforms (and a missing process): None.
    """
    fields = _stat(pid)
    if fields is None:
        return None
    return f"{_machine()}:{fields[19]}"  # field 22 of proc(5): starttime


def liveness(identity: ProcessIdentity) -> Liveness:
    """Whether the process ``identity`` still runs, as far as this process can tell."""
    if identity.host != host_name():
        return Liveness.UNKNOWN
    machine, _, _ = identity.started.rpartition(":")
    if machine and _machine() and machine != _machine():
        if machine.split(":")[0] != _machine().split(":")[0]:
            return Liveness.GONE  # the machine restarted since the job began
        return Liveness.UNKNOWN  # another pid namespace (container) with our host name
    if identity.pid == os.getpid():
        # The pid is ours: it is us unless we are a later process that got the same pid.
        mine = this_process().started
        return Liveness.ALIVE if not identity.started or identity.started == mine else Liveness.GONE
    if os.name != "posix":
        return Liveness.UNKNOWN  # no harmless way to probe a pid (os.kill(pid, 0) is Ctrl-C on Windows)
    fields = _stat(identity.pid)
    if fields is not None and fields[0] in ("Z", "X"):
        return Liveness.GONE  # killed, only waiting for its parent to collect its exit status
    if not _pid_exists(identity.pid):
        return Liveness.GONE
    started = process_start(identity.pid)
    if started is None or not identity.started:
        return Liveness.UNKNOWN  # some process has that pid; whether it is ours the heartbeat says
    return Liveness.ALIVE if started == identity.started else Liveness.GONE


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first); None if unknown."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain blanks or ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields if len(fields) >= 20 else None


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists is checked
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return True  # cannot tell (e.g. a platform without kill): assume alive, the heartbeat decides
    return True


@cache
def _machine() -> str:
    """``<boot id>:<pid namespace>`` on Linux ("" elsewhere): where this process's pids mean something."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat(_PROC / "self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}:{namespace}"
