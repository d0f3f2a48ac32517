"""Open the course: JupyterLab at lesson 0, on this machine only, at a URL that works as printed.

    python tools/course.py                 # what `make course` runs (with the .venv's Python)
    python tools/course.py --port 8890     # another port
    python tools/course.py --no-browser    # print the URL, open no browser

It serves the repository on 127.0.0.1, on the port asked for or, when that one is busy, the next
free one (and says which it took). It prints one URL, with its access token, that opens lesson 0,
and says how to stop (Ctrl-C). The course's settings come with it: no news or update pop-ups, and
notebooks saved in the course's form (``tools/notebook_form.py``), so reading a lesson leaves the
checkout clean. As root (containers), it adds ``--allow-root``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "notebooks/00_start_here.ipynb"
TOOLS = Path(__file__).resolve().parent
STARTUP_S = 120


def free_port(wanted: int, tries: int = 50) -> int:
    """``wanted`` if nothing listens there on 127.0.0.1, else the next free port."""
    for port in range(wanted, wanted + tries):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"error: ports {wanted}-{wanted + tries - 1} are all busy; choose one with --port")


def server_command(port: int, token: str, browser: bool) -> list[str]:
    """The `jupyter lab` command line for the course."""
    cmd = [sys.executable, "-m", "jupyterlab", START]
    cmd += ["--ip", "127.0.0.1", "--port", str(port), "--ServerApp.port_retries=0"]
    cmd += [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}"]
    cmd += [f"--config={TOOLS / 'jupyter_course_config.py'}"]
    if not browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses root unless told (containers, CI machines)
    return cmd


def wait_until_up(port: int, server: subprocess.Popen) -> bool:
    """True once the server answers on ``port``; False if it exited first or took too long."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
            return True
        except OSError as exc:
            if getattr(exc, "code", None) == 403:  # up, and asking for the token
                return True
            time.sleep(0.3)
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8888)), help="default 8888")
    ap.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = ap.parse_args(argv)
    if importlib.util.find_spec("jupyterlab") is None or importlib.util.find_spec("replsim") is None:
        raise SystemExit(
            "error: JupyterLab or replsim is not installed for this Python; see the README's quick start"
        )

    sys.path.insert(0, str(TOOLS))
    import jupyter_settings

    jupyter_settings.main()  # no news or update pop-ups (idempotent)
    port = free_port(args.port)
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}/lab/tree/{START}?token={token}"
    busy = f" (port {args.port} was busy)" if port != args.port else ""
    # its own session: Ctrl-C reaches this script, which stops the server (no y/n question from it)
    server = subprocess.Popen(
        server_command(port, token, not args.no_browser), cwd=ROOT, start_new_session=True
    )
    try:
        if not wait_until_up(port, server):
            server.terminate()
            print(f"error: JupyterLab did not start on port {port}; see its messages above", file=sys.stderr)
            return 1
        bar = "=" * 78
        print(f"\n{bar}\n  The course is open on port {port}{busy}. In your browser, open:\n\n    {url}\n")
        print(f"  Stop it with Ctrl-C in this terminal.\n{bar}\n", flush=True)
        return server.wait()
    except KeyboardInterrupt:
        print("\nStopping the course's JupyterLab ...", flush=True)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        return 0


if __name__ == "__main__":
    sys.exit(main())
