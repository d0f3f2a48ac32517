"""Finding PostgreSQL's programs on this machine, and running them as a user PostgreSQL accepts.

Where the programs come from, in order: the folder named by ``REPLSIM_PG_BIN``; the PostgreSQL 16
shipped in the ``pgserver`` wheel (Linux x86-64 and macOS); a PostgreSQL installed on the machine
(``pg_config --bindir`` on the PATH: Debian's ``postgresql`` packages, Homebrew, conda-forge). When
none is found, :func:`unavailable_reason` says how to get one on this platform. Nothing here needs a
POSIX-only module at import time, so the lab imports everywhere.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ReplsimError

PROGRAMS = ("initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_rewind")
DEFAULT_USER = "replsim-pg"


class PostgresError(ReplsimError, RuntimeError):
    """A PostgreSQL program failed or cannot run here; the message says why and how to fix it."""


def _pgserver_dir() -> Path | None:
    """The installed pgserver package folder, found without importing it (its import prints warnings)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _on_path() -> Path | None:
    """The bin folder of a PostgreSQL on this machine: ``pg_config --bindir``, else where pg_ctl is."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def install_hint() -> str:
    """How to get PostgreSQL on this platform, for a lab that found none."""
    system, machine = platform.system(), platform.machine().lower()
    if system == "Darwin":
        how = "brew install postgresql@16 (Homebrew), or conda install -c conda-forge postgresql"
    elif system == "Windows":
        how = (
            "run the course in WSL (Windows Subsystem for Linux) and install PostgreSQL there "
            "(sudo apt-get install postgresql), or conda install -c conda-forge postgresql"
        )
    else:
        wheel = "" if machine in ("x86_64", "amd64") else " (pgserver has no wheel for this machine)"
        how = (
            f"pip install pgserver{wheel}; or, on Debian or Ubuntu, sudo apt-get install postgresql; "
            "or conda install -c conda-forge postgresql"
        )
    return (
        f"{how}. A PostgreSQL found on the PATH (pg_config --bindir) is used automatically; "
        "or set REPLSIM_PG_BIN to the folder holding initdb, pg_ctl and postgres"
    )


def find_bin() -> Path:
    """The folder holding the PostgreSQL programs: REPLSIM_PG_BIN, else pgserver's, else one on the PATH."""
    env = os.environ.get("REPLSIM_PG_BIN")
    pkg = None if env else _pgserver_dir()
    if env:
        where, fix = Path(env), "point REPLSIM_PG_BIN to a folder holding initdb, pg_ctl and postgres"
    elif pkg is not None:
        where, fix = pkg / "pginstall" / "bin", "reinstall pgserver (pip install --force-reinstall pgserver)"
    else:
        where, fix = _on_path(), "install a complete PostgreSQL server package"
        if where is None:
            raise PostgresError(f"no PostgreSQL found on this machine; to get one: {install_hint()}")
    missing = [p for p in PROGRAMS if not (where / p).is_file() and not (where / f"{p}.exe").is_file()]
    if missing:
        raise PostgresError(
            f"{where} lacks {', '.join(missing)}; fix: {fix}; to get PostgreSQL: {install_hint()}"
        )
    return where


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as when we are root, creating the system user if needed; else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:  # not root, or Windows (no root there)
        return None
    import pwd  # POSIX only: imported here so that the lab imports on every platform

    name = os.environ.get("REPLSIM_PG_USER", DEFAULT_USER)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
        done = subprocess.run(cmd, capture_output=True, text=True)
        try:  # a second process may have created it at the same moment
            entry = pwd.getpwnam(name)
        except KeyError:
            raise PostgresError(
                f"PostgreSQL refuses to run as root and user {name!r} could not be created "
                f"({' '.join(cmd)}: {done.stderr.strip() or done.returncode}); fix: create an "
                "unprivileged user and set REPLSIM_PG_USER to its name, or run Python as a normal user"
            ) from None
    if entry.pw_uid == 0:
        raise PostgresError(f"REPLSIM_PG_USER={name!r} is root; name an unprivileged user")
    return entry.pw_uid, entry.pw_gid


class Runner:
    """Runs PostgreSQL programs from one bin folder, as the server account when we are root."""

    def __init__(self, bin_dir: Path, account: tuple[int, int] | None) -> None:
        self.bin = bin_dir
        self.account = account
        path = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
        self.env = {"PATH": path, "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}

    def run(
        self, program: str, *args: str | Path, cwd: Path | str = "/", timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run one program; return the CompletedProcess (the caller checks returncode)."""
        extra: dict[str, Any] = {}
        if self.account:
            extra = {"user": self.account[0], "group": self.account[1], "extra_groups": []}
        path = program if program.startswith("/") else str(self.bin / program)
        try:
            return subprocess.run(
                [path, *map(str, args)],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                **extra,
            )
        except subprocess.TimeoutExpired as err:
            raise PostgresError(
                f"{program} {' '.join(map(str, args[:2]))} did not finish in {timeout:g} s"
            ) from err

    def usable(self) -> str | None:
        """None if the server account can run the programs and read their data files, else why not."""
        share = self.bin.parent / "share" / "postgresql"
        test = f'"$0/postgres" --version && "$0/pg_basebackup" --version && {{ [ ! -d "{share}" ] || '
        test += f'[ -r "{share}/postgres.bki" ]; }}'
        try:
            done = self.run("/bin/sh", "-c", test, self.bin)
        except OSError as err:
            return str(err)
        return None if done.returncode == 0 else (done.stderr.strip() or f"exit status {done.returncode}")

    def own(self, path: Path) -> None:
        """Give a file or folder we created to the server account."""
        if self.account:
            os.chown(path, *self.account)

    def write_private(self, path: Path, text: str) -> None:
        """Create a new file readable by the server account only: mode 0600, owned by that account."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if self.account:
                os.fchown(fd, *self.account)
            os.write(fd, text.encode())
        finally:
            os.close(fd)


_COPIES: dict[Path, Path] = {}  # pgserver bin folder -> a readable private copy of it, made once


def _readable_copy(bin_dir: Path) -> Path:
    """Copy pgserver's pginstall tree (and the libraries its RPATH names) to a world-readable temp folder."""
    if bin_dir in _COPIES:
        return _COPIES[bin_dir]
    pkg = bin_dir.parent.parent  # .../pgserver ; binaries find libs at $ORIGIN/../../../pgserver.libs
    dest = Path(tempfile.mkdtemp(prefix="replsim-pgbin-"))
    os.chmod(dest, 0o755)
    shutil.copytree(pkg / "pginstall", dest / "pgserver" / "pginstall", symlinks=True)
    if (pkg.parent / "pgserver.libs").is_dir():
        shutil.copytree(pkg.parent / "pgserver.libs", dest / "pgserver.libs", symlinks=True)
    for folder, dirs, files in os.walk(dest):
        for d in dirs:
            os.chmod(Path(folder, d), 0o755)
        for f in files:
            p = Path(folder, f)
            if not p.is_symlink():
                mode = p.stat().st_mode
                os.chmod(p, mode | 0o444 | (0o111 if mode & 0o100 else 0))
    os.chmod(dest / "pgserver", 0o755)
    atexit.register(shutil.rmtree, dest, True)
    _COPIES[bin_dir] = dest / "pgserver" / "pginstall" / "bin"
    return _COPIES[bin_dir]


def runner() -> Runner:
    """A runner whose account can use the binaries; raises PostgresError saying why if none can."""
    bin_dir, account = find_bin(), _server_account()
    runner = Runner(bin_dir, account)
    problem = runner.usable()
    if problem and account and not os.environ.get("REPLSIM_PG_BIN"):
        runner = Runner(_readable_copy(bin_dir), account)
        problem = runner.usable()
    if problem:
        who = f"user id {account[0]}" if account else "this user"
        raise PostgresError(
            f"{who} cannot run the PostgreSQL programs in {bin_dir}: {problem}; fix: make the folder "
            "readable and executable by that user, or set REPLSIM_PG_BIN to a system PostgreSQL"
        )
    return runner


def unavailable_reason() -> str | None:
    """None if PostgreSQL can run here, else the reason it cannot (and how to fix it)."""
    try:
        runner()
    except PostgresError as err:
        return str(err)
    return None
