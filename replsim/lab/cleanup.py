"""Stopping a lab's servers for good, even those of a lab whose Python process died without cleaning up."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .binaries import PostgresError, Runner

PREFIX = "replsim-pg-"  # temp folder names of labs
OWNER_FILE = "owner.pid"  # the PID of the Python process that started a lab, inside the lab's folder


def pids_with_cwd_under(root: Path) -> list[int]:
    """PIDs of processes whose working folder is inside root (PostgreSQL servers chdir to their data)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd == str(root) or cwd.startswith(f"{root}/"):
                found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (dead, waiting for its parent to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listen_sockets() -> list[tuple[str, int]]:
    """Every (address, port) in state LISTEN in /proc/net/tcp and /proc/net/tcp6."""
    out = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            lines = Path("/proc/net", table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state != "0A":  # TCP_LISTEN
                continue
            addr_hex, port_hex = local.split(":")
            raw = bytes.fromhex(addr_hex)
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # host-order words
            out.append((socket.inet_ntop(family, raw), int(port_hex, 16)))
    return out


def shutdown(runner: Runner, servers: dict[str, Any], root: Path) -> None:
    """Stop every server (fast, then immediate, then SIGKILL) and remove the lab's folder."""
    for s in servers.values():
        if (s.datadir / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                try:
                    done = runner.run(
                        "pg_ctl", "stop", "-D", s.datadir, "-m", mode, "-w", "-t", "15", cwd=root
                    )
                except PostgresError:  # timed out
                    continue
                if done.returncode == 0:
                    break
        s.running, s.pid = False, None
    for pid in pids_with_cwd_under(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    # the owner file goes last: if this process is killed half-way, the next start() finishes the job
    for child in sorted(root.iterdir(), key=lambda c: c.name == OWNER_FILE) if root.is_dir() else []:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)


def reap_orphans(runner: Runner) -> None:
    """Stop the servers of labs whose Python process died without cleaning up (say, a killed kernel)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
            datadirs = [d for d in folder.iterdir() if (d / "PG_VERSION").is_file()]
        except (OSError, ValueError):
            continue  # not ours to judge, or still being created
        if owner != os.getpid() and not alive(owner):
            found = {d.name: SimpleNamespace(datadir=d, running=True, pid=None) for d in datadirs}
            shutdown(runner, found, folder)
