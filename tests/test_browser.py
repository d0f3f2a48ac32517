"""Lesson 1 in a real browser: JupyterLab runs the notebook, and the control panel answers a click.

The test starts its own JupyterLab server on a free loopback port, serving a temporary
copy of ``notebooks/`` (so nothing a browser does can reach the committed notebooks),
with its own settings, workspaces, config, data, runtime and IPython folders (so it
neither reads nor writes the user's). Debian's Chromium, driven headless by Python
playwright, opens the lesson, clears the stored outputs, runs all cells, clicks the
panel's buttons and checks that the panel changed, that every widget rendered and that
no cell printed a traceback. Screenshots go to ``tests/artifacts/browser/``.

Needs Chromium (``apt-get install chromium``, or ``REPLSIM_CHROMIUM=/path``) and the
``playwright`` Python package; never ``playwright install``. Without them the test is
skipped on a laptop and fails in CI.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
LESSON = "notebooks/01_news_anchor.ipynb"


@dataclass(frozen=True)
class Expect:
    """What a click must do to the panel's text, besides changing the panel at all."""

    what: str
    holds: Callable[[str, str], bool]  # (text before, text after) -> ok


def _new_lines(before: str, after: str) -> str:
    old = set(before.splitlines())
    return "\n".join(ln for ln in after.splitlines() if ln not in old)


def _times(text: str) -> list[str]:
    return re.findall(r"\bt = (\d+(?:\.\d+)?\s*(?:ms|s)\b)", text)


# The lesson 1 panel's buttons to click, in this order, and what each must show.
CLICKS = {
    "Write": Expect("the message says the write was accepted", lambda b, a: "accepted" in _new_lines(b, a)),
    "Advance": Expect("the virtual time shown ('t = ...') changes", lambda b, a: _times(a) != _times(b)),
}
# Buttons the panel shows; at least one of them must be found.
PANEL_BUTTONS = ("Write", "Crash", "Recover", "Advance")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
CHROMIUM_MISSING = (
    "Chromium not found: install Debian's chromium (apt-get install chromium) or set REPLSIM_CHROMIUM=/path"
)
PLAYWRIGHT_MISSING = (
    "the playwright Python package is missing: pip install -e '.[test]' "
    "(the package only; never run `playwright install`)"
)

# JupyterLab user settings for the test server: no news or update pop-ups, no autosave,
# and every cell attached to the page (so off-screen outputs are searched too).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

SERVER_START_S = 90
KERNEL_START_MS = 120_000
RUN_ALL_MS = 180_000
CLICK_MS = 30_000
RUN_ALL_STARTED_MS = 15_000

# A line of an error output: "NameError: name 'x' is not defined", "ReplsimError: ..."
ERROR_LINE = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception)\b.*$", re.MULTILINE)


def find_chromium() -> str | None:
    """The Chromium to drive: ``$REPLSIM_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else PATH."""
    wanted = os.environ.get("REPLSIM_CHROMIUM")
    candidates = [wanted] if wanted else ["/usr/bin/chromium", shutil.which("chromium")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _children(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), deepest last; empty elsewhere."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            parents[int(stat.parent.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


def _get_json(url: str, method: str = "GET", timeout: float = 5) -> object:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout) as r:
        body = r.read()
    return json.loads(body) if body else None


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2) + "\n")


@contextlib.contextmanager
def jupyter_lab(root: Path, home: Path) -> Iterator[str]:
    """Run ``jupyter lab`` on ``root`` with private folders under ``home``; yield its base URL.

    On exit the kernels are shut down through the API, then the server's process group gets
    SIGTERM (SIGKILL after 15 s), and any process it left behind (kernels run in their own
    sessions) is killed by its PID.
    """
    env = dict(os.environ)
    for var, sub in [
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env.pop("JUPYTER_TOKEN", None)
    _write_lab_settings(home / "lab-settings")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = home / "jupyter-lab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ServerApp.port_retries=0",
        "--ServerApp.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--allow-root",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{_tail(log_path)}")
            with contextlib.suppress(OSError, ValueError):
                _get_json(f"{base}/api/status", timeout=2)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer in {SERVER_START_S} s:\n{_tail(log_path)}")
            time.sleep(0.3)
        yield base
    finally:
        _stop_server(proc, base)


def _stop_server(proc: subprocess.Popen, base: str) -> None:
    if proc.poll() is None:
        with contextlib.suppress(Exception):
            for kernel in _get_json(f"{base}/api/kernels") or []:
                with contextlib.suppress(Exception):
                    _get_json(f"{base}/api/kernels/{kernel['id']}", method="DELETE", timeout=10)
    left = _children(proc.pid) if proc.poll() is None else []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class BrowserReport:
    """What the browser saw: the clicks that changed the panel, timings, screenshots."""

    clicked: list[str] = field(default_factory=list)
    changes: dict[str, str] = field(default_factory=dict)
    code_cells: int = 0
    menu_tries: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    screenshots: list[Path] = field(default_factory=list)


def _indicator_idle(page) -> bool:
    """The notebook toolbar's kernel indicator (else the status bar) says idle."""
    return page.evaluate(
        """() => {
            const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
                                               + '.jp-Notebook-ExecutionIndicator');
            if (ind && ind.dataset.status) return ind.dataset.status === 'idle';
            const bar = document.querySelector('#jp-main-statusbar');
            return !!bar && /\\|\\s*Idle/.test(bar.textContent);
        }"""
    )


def _wait_kernel_idle(page, base: str, rel: Path, timeout_ms: int) -> None:
    """Wait until the notebook's kernel is started, connected to the page, and idle.

    The page's indicator says "idle" for a moment before the kernel even starts, so the
    server is asked too: the notebook's session has a kernel that is idle and has a
    websocket connection (the page's).
    """
    deadline = time.monotonic() + timeout_ms / 1000
    state = "no session"
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            sessions = [s for s in _get_json(f"{base}/api/sessions") if s.get("path") == rel.as_posix()]
            kernel = sessions[0]["kernel"] if sessions else {}
            state = f"kernel {kernel.get('execution_state')}, {kernel.get('connections', 0)} connection(s)"
            if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1:
                if _indicator_idle(page):
                    return
                state += ", page not idle"
        page.wait_for_timeout(250)
    raise AssertionError(f"the kernel was not ready and idle within {timeout_ms / 1000:.0f} s ({state})")


def _prompts(page) -> list[str]:
    """The execution prompts of the code cells, e.g. ``["[1]:", "[*]:", "[ ]:"]``."""
    return page.eval_on_selector_all(
        ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt",
        "els => els.map(e => e.textContent.replace(/\\s+/g, ''))",
    )


PROMPTS_JS = "[...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"


def _menu(page, menu: str, command: str) -> bool:
    """Click a main-menu entry by its command id (e.g. Run > runmenu:run-all); False if it was disabled."""
    page.get_by_role("menubar").get_by_role("menuitem", name=menu, exact=True).click()
    item = page.locator(f".lm-Menu .lm-Menu-item[data-command='{command}']").first
    item.wait_for(state="visible")
    if "lm-mod-disabled" in (item.get_attribute("class") or ""):
        page.keyboard.press("Escape")
        return False
    item.click()
    return True


def _menu_until(page, menu: str, command: str, done_js: str, timeout_ms: int, tries: int = 3) -> int:
    """Use a menu entry until ``done_js`` holds: on a freshly opened notebook a menu command
    sometimes does nothing (the entry is disabled, or the click is lost), so focus the
    notebook and try again. Returns the number of tries used."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, tries + 1):
        # Make the notebook the current widget: click its first prompt (never a link in markdown).
        page.locator(".jp-Notebook .jp-Cell .jp-InputArea-prompt").first.click()
        if _menu(page, menu, command):
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(done_js, timeout=timeout_ms)
                return attempt
        page.wait_for_timeout(1000)
    raise AssertionError(f"{menu} > {command} did nothing {tries} times; prompts: {_prompts(page)}")


def _run_all(page, base: str, rel: Path) -> dict[str, int]:
    """Clear the stored outputs, Run > Run All Cells, and wait for every cell and the kernel."""
    # Stored outputs carry execution counts too: clear them so the prompts show that Run All ran.
    cleared = f"() => {PROMPTS_JS}.every(e => !/\\d/.test(e.textContent))"
    tries = {"clear outputs": _menu_until(page, "Edit", "editmenu:clear-all", cleared, 10_000)}
    started = f"() => {PROMPTS_JS}.some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))"
    tries["run all"] = _menu_until(page, "Run", "runmenu:run-all", started, RUN_ALL_STARTED_MS)
    page.wait_for_function(
        f"() => {{ const p = {PROMPTS_JS}.map(e => e.textContent); return !p.some(t => t.includes('*')); }}",
        timeout=RUN_ALL_MS,
    )
    _wait_kernel_idle(page, base, rel, RUN_ALL_MS)
    return tries


def _error_outputs(page) -> list[str]:
    """Text of stderr / error outputs that carry a traceback or an ``SomethingError:`` line."""
    texts = page.eval_on_selector_all(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "els => els.map(e => e.textContent)",
    )
    return [t for t in texts if "Traceback" in t or ERROR_LINE.search(t)]


def _panel_state(panel) -> tuple[str, tuple[str, ...]]:
    """The panel's visible text and its images' sources (a plot redraw gives a new blob: URL)."""
    text = panel.evaluate("e => e.innerText")
    srcs = panel.evaluate("e => [...e.querySelectorAll('img')].map(i => i.src)")
    return text, tuple(srcs)


def _describe_change(before, after) -> str:
    parts = []
    if before[0] != after[0]:
        new = [ln for ln in _new_lines(before[0], after[0]).splitlines() if ln.strip()]
        parts.append("text now: " + " | ".join(new)[:200])
    if before[1] != after[1]:
        parts.append("image redrawn")
    return "; ".join(parts)


def check_notebook_in_browser(
    notebook: Path,
    clicks: Mapping[str, Expect | None],
    panel_buttons: Sequence[str],
    screenshot: Path,
    chromium: str,
) -> BrowserReport:
    """Open ``notebook`` in JupyterLab in headless Chromium, run it, click ``clicks``; report.

    ``clicks`` maps a button's description to what clicking it must show (None: any change
    of the panel's text or image).

    The notebook's folder is copied to a temporary root and served from there, and
    autosave is off, so the original file is never written. Raises AssertionError with
    the reason (and leaves ``<screenshot stem>_failure.png``) when the page is not right.
    """
    from playwright.sync_api import sync_playwright

    report = BrowserReport()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    before_hash = _sha256(notebook)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="replsim-browser-") as tmp:
        home = Path(tmp)
        serve = home / "root"
        rel = Path(notebook.parent.name) / notebook.name
        shutil.copytree(
            notebook.parent, serve / rel.parent, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
        with jupyter_lab(serve, home) as base, sync_playwright() as pw:
            report.timings["server_s"] = time.monotonic() - t0
            context = pw.chromium.launch_persistent_context(
                str(home / "chromium-profile"),
                executable_path=chromium,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000},
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(60_000)
                try:
                    _drive(page, base, rel, clicks, panel_buttons, screenshot, report, t0)
                except BaseException:
                    with contextlib.suppress(Exception):
                        failure = screenshot.with_name(f"{screenshot.stem}_failure.png")
                        page.screenshot(path=str(failure))
                        report.screenshots.append(failure)
                    raise
            finally:
                context.close()
    report.timings["total_s"] = time.monotonic() - t0
    assert _sha256(notebook) == before_hash, f"{notebook} changed during the browser test"
    return report


def _drive(page, base, rel, clicks, panel_buttons, screenshot, report, t0) -> None:
    page.goto(f"{base}/lab/tree/{rel.as_posix()}", wait_until="domcontentloaded")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=KERNEL_START_MS)
    _wait_kernel_idle(page, base, rel, KERNEL_START_MS)
    report.timings["kernel_ready_s"] = time.monotonic() - t0

    report.menu_tries = _run_all(page, base, rel)
    report.timings["run_all_s"] = time.monotonic() - t0
    errors = _error_outputs(page)
    assert not errors, "a cell shows an error output:\n" + "\n---\n".join(e[-1500:] for e in errors)
    prompts = _prompts(page)
    report.code_cells = len(prompts)
    assert prompts, "the notebook shows no code cells"
    unrun = [i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)]
    assert not unrun, f"code cells not executed by Run All (0-based): {unrun}; prompts: {prompts}"

    content = page.evaluate("() => document.body.textContent")
    assert "Error displaying widget" not in content, "a widget failed to render: 'Error displaying widget'"
    buttons = page.locator("button.jupyter-widgets.widget-button")
    names = [b.strip() for b in buttons.all_inner_texts()]
    assert any(n in panel_buttons for n in names), f"no panel button {list(panel_buttons)}; buttons: {names}"
    for name, expect in clicks.items():
        button = buttons.filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).first
        assert button.count(), f"the panel has no {name!r} button; buttons: {names}"
        # The panel is the widget output that holds the button.
        panel = page.locator(".jp-OutputArea-output").filter(has=button).last
        panel.scroll_into_view_if_needed()
        before = _panel_state(panel)
        button.click()
        try:
            page.wait_for_function(
                """([el, text, srcs]) => el.innerText !== text
                    || JSON.stringify([...el.querySelectorAll('img')].map(i => i.src)) !== srcs""",
                arg=[panel.element_handle(), before[0], json.dumps(list(before[1]))],
                timeout=CLICK_MS,
            )
        except Exception:
            raise AssertionError(
                f"clicking {name!r} did not change the panel's text or image; text:\n{before[0]}"
            ) from None
        _wait_kernel_idle(page, base, rel, CLICK_MS)
        deadline = time.monotonic() + CLICK_MS / 1000
        after = _panel_state(panel)
        while expect and not expect.holds(before[0], after[0]):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"after clicking {name!r}, expected: {expect.what}; the panel's text was:\n"
                    f"{before[0]}\n--- and is now:\n{after[0]}"
                )
            page.wait_for_timeout(250)
            after = _panel_state(panel)
        report.clicked.append(name)
        report.changes[name] = _describe_change(before, after)
    report.timings["clicks_s"] = time.monotonic() - t0

    content = page.evaluate("() => document.body.textContent")
    assert "Error displaying widget" not in content, "a widget failed to render: 'Error displaying widget'"
    errors = _error_outputs(page)
    assert not errors, "an error output appeared after the clicks:\n" + "\n---\n".join(errors)

    panel.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot))
    panel_shot = screenshot.with_name(f"{screenshot.stem}_panel.png")
    panel.screenshot(path=str(panel_shot))
    report.screenshots += [screenshot, panel_shot]


@pytest.mark.timeout(300)
def test_lesson01_panel_in_a_real_browser() -> None:
    """Lesson 1 runs in JupyterLab in Chromium, and its Write and Advance buttons change the panel."""
    chromium = find_chromium()
    wanted = os.environ.get("REPLSIM_CHROMIUM")
    require(
        chromium is not None,
        f"REPLSIM_CHROMIUM={wanted} is not an executable. " * bool(wanted) + CHROMIUM_MISSING,
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, PLAYWRIGHT_MISSING)
    notebook = ROOT / LESSON
    assert notebook.exists(), f"{LESSON} is missing: build it with python tools/nbbuild.py 01"
    report = check_notebook_in_browser(notebook, CLICKS, PANEL_BUTTONS, ARTIFACTS / "lesson01.png", chromium)
    assert report.clicked == list(CLICKS)
    print(f"browser test: {report}")
