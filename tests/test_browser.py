"""Every lesson in a real browser: JupyterLab runs the notebook, and each control panel answers its clicks.

One JupyterLab server (on a free loopback port) and one headless Chromium serve every lesson
found by ``notebooks/[0-9][0-9]_*.ipynb``, so a new lesson is tested without touching this
file. The server serves a temporary copy of ``notebooks/`` (nothing a browser does can reach
the committed notebooks) with its own settings, workspaces, config, data, runtime and IPython
folders (it neither reads nor writes the user's); each lesson opens in its own JupyterLab
workspace, in its own page.

For each lesson the browser clears the stored outputs and runs the cells top to bottom as a
learner does: up to each control panel and the cell after it (the cell that checks the
panel's fresh state), then it clicks every button of the panel, in order, and checks that
the panel's message line (its ``role=status``/``role=alert`` element) changed and shows no
"Unexpected error"; then it drives the panel's live cluster view (drawn in the browser):
play, pause (the status then shows that moment), step, messages that appear and move, the
scrub back to t = 0 and Now (the status follows each, waited for as a state); where the
panel can partition the network, a message lost to the partition must be drawn stopped and
marked "partitioned"; the panel must fit the 1366x768 window; then it runs on to the end.
A lesson whose stored notebook shows no
widget must show no button. Throughout, no error may appear: no error or traceback in any
output, none sent by the kernel (a widget callback's traceback is sent but not shown on the
page), and no "Error displaying widget". The lesson's kernel is then shut down (lesson 8's
PostgreSQL servers stop with it, and the test checks that none is left). A screenshot of
each lesson goes to ``tests/artifacts/browser/<notebook stem>.png``.

A second test measures lesson 1's panel: from a click on Advance to the first frame whose
picture differs, timed in the page, as served and over an emulated 5 Mbit/s link; the bytes
one click brings to the browser; a scrub's and a step's redraw; frames per second while 200
messages or more are in flight. It prints them and writes ``tests/artifacts/browser/redraw.txt``.
No timed assertions. Every wait is on a state (a prompt, a text, the view's clock), never a delay.

Needs Chromium (``apt-get install chromium``, or ``REPLSIM_CHROMIUM=/path``) and the
``playwright`` Python package; never ``playwright install``. Without them the tests are
skipped on a laptop and fail in CI. A lesson that starts PostgreSQL (it imports
``replsim.lab.postgres``) likewise needs a PostgreSQL that can start.
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
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from notebook_form import shows_widget  # noqa: E402  (a stored widget output is its hint)

ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
LESSONS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Expect:
    """What a click must do to the panel's text, besides changing its message line."""

    what: str
    holds: Callable[[str, str], bool]  # (panel text before, panel text after) -> ok


def _new_lines(before: str, after: str) -> str:
    old = set(before.splitlines())
    return "\n".join(ln for ln in after.splitlines() if ln not in old)


def _times(text: str) -> list[str]:
    return re.findall(r"\bt = (\d+(?:\.\d+)?\s*(?:ms|s)\b)", text)


# Extra checks on some lessons' buttons (by label), on top of the checks every click gets.
CHECKS: dict[str, dict[str, Expect]] = {
    "01_news_anchor": {
        "Write": Expect(
            "the message says the write was accepted", lambda b, a: "accepted" in _new_lines(b, a)
        ),
        "Advance": Expect("the virtual time shown ('t = ...') changes", lambda b, a: _times(a) != _times(b)),
    },
}
# Lessons that show widgets without any button, by design: {notebook stem: why}. Today every
# lesson with a widget shows a panel with buttons (lessons 0, 1 and 8).
WIDGETS_WITHOUT_BUTTONS: dict[str, str] = {}

# Timing: this lesson's panel, this many clicks on Advance.
REDRAW_LESSON = "01_news_anchor"
REDRAW_CLICKS = 20
# ... and over an emulated link like a learner's to Binder (Chromium's units: bytes/s, ms)
SLOW_LINK = {"latency": 20, "downloadThroughput": 5e6 / 8, "uploadThroughput": 1e6 / 8}
REDRAW_CLICKS_SLOW = 10

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

VIEWPORT = {"width": 1366, "height": 768}  # a laptop's screen: every panel must fit it
SERVER_START_S = 90
KERNEL_START_MS = 120_000
RUN_MS = 180_000
CLICK_MS = 30_000
RUN_STARTED_MS = 15_000
REDRAW_MS = 10_000

# A line of an error output: "NameError: name 'x' is not defined", "ReplsimError: ..."
ERROR_LINE = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception)\b.*$", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- the lessons, as stored ----------------------------------------------------
@dataclass(frozen=True)
class Lesson:
    """A lesson notebook as committed: its cells, and which of them show widgets."""

    path: Path
    cells: int
    code: tuple[int, ...]  # indices of the code cells
    widgets: tuple[int, ...]  # indices of the cells whose stored outputs show a widget
    needs_postgres: bool
    folded: tuple[int, ...] = ()  # code cells whose source is folded: no prompt to watch
    answers: tuple[int, ...] = ()  # code cells whose stored outputs open folded (a guess's answer)

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def rel(self) -> Path:
        return Path(self.path.parent.name) / self.path.name

    @classmethod
    def read(cls, path: Path) -> Lesson:
        cells = json.loads(path.read_text())["cells"]
        code = tuple(i for i, c in enumerate(cells) if c["cell_type"] == "code")
        widgets = tuple(i for i in code if shows_widget(cells[i]))
        sources = ["".join(cells[i]["source"]) for i in code]
        hidden = [cells[i]["metadata"].get("jupyter", {}) for i in range(len(cells))]
        folded = tuple(i for i in code if hidden[i].get("source_hidden"))
        answers = tuple(i for i in code if hidden[i].get("outputs_hidden"))
        postgres = any("replsim.lab.postgres" in s for s in sources)
        return cls(path, len(cells), code, widgets, postgres, folded, answers)

    def steps(self) -> list[tuple[int, int, int | None]]:
        """How a learner runs it: (first cell, last cell, widget cell to use after them, or None).

        A widget's cell is run together with the next code cell (the check on the panel's fresh
        state), unless that cell shows a widget too; the last step runs to the end.
        """
        steps, first = [], 0
        for w in self.widgets:
            after = next((i for i in self.code if i > w), None)
            last = w if after is None or after in self.widgets else after
            steps.append((first, last, w))
            first = last + 1
        if first < self.cells:
            steps.append((first, self.cells - 1, None))
        return steps


# --- the server, the browser -----------------------------------------------------
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
def jupyter_lab(root: Path, home: Path) -> Iterator[tuple[str, int]]:
    """Run ``jupyter lab`` on ``root`` with private folders under ``home``; yield its base URL and PID.

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
        # the test's own DELETEs (shutting kernels down) carry no XSRF cookie; the server is
        # on loopback without a token already, and the browser visits nothing else
        "--ServerApp.disable_check_xsrf=True",
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
        yield base, proc.pid
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
class Lab:
    """The shared JupyterLab server (its base URL) and the browser that visits it."""

    base: str
    context: object  # playwright BrowserContext
    server_pid: int
    root: Path  # the folder it serves (a copy of notebooks/ in it)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """One JupyterLab server and one headless Chromium for every test in this module."""
    chromium = find_chromium()
    wanted = os.environ.get("REPLSIM_CHROMIUM")
    require(
        chromium is not None,
        f"REPLSIM_CHROMIUM={wanted} is not an executable. " * bool(wanted) + CHROMIUM_MISSING,
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, PLAYWRIGHT_MISSING)
    with tempfile.TemporaryDirectory(prefix="replsim-browser-") as tmp:
        home = Path(tmp)
        shutil.copytree(
            ROOT / "notebooks",
            home / "root" / "notebooks",
            ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
        )
        with jupyter_lab(home / "root", home) as (base, pid), sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(home / "chromium-profile"),
                executable_path=chromium,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORT,
            )
            try:
                yield Lab(base, context, pid, home / "root")
            finally:
                context.close()


# --- one lesson in one page ------------------------------------------------------
@dataclass
class LessonReport:
    """What the browser saw in one lesson: the clicks and the messages they gave, timings."""

    clicked: list[tuple[str, str]] = field(default_factory=list)  # (button, message line after)
    view: list[str] = field(default_factory=list)  # what the live view did
    menu_tries: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    postgres_left: list[str] = field(default_factory=list)  # labs the kernel's exit did not stop

    def summary(self, stem: str) -> str:
        times = ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())
        clicks = "; ".join(f"{b} -> {m[:90]}" for b, m in self.clicked) or "no panel buttons"
        return (
            f"{stem}: {times}; menu tries {self.menu_tries}; clicks: {clicks}; view: {'; '.join(self.view)}"
        )


class LessonPage:
    """A lesson opened in its own JupyterLab workspace and page, with the kernel's errors collected."""

    def __init__(self, lab: Lab, lesson: Lesson) -> None:
        self.lab, self.lesson, self.base, self.rel = lab, lesson, lab.base, lesson.rel
        self.kernel_errors: list[str] = []
        self.page = lab.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        self.cells = self.page.locator(".jp-Notebook .jp-Cell")

    def _frame(self, payload: str | bytes) -> None:
        """Keep every error the kernel sends: an ``error`` message, or a traceback on stderr."""
        raw = payload if isinstance(payload, bytes) else payload.encode()
        if b'"error"' not in raw and b'"stream"' not in raw:  # most frames: no need to decode
            return
        msg = _kernel_message(payload)
        if msg is None:
            return
        kind, content = msg
        if kind == "error":
            trace = ANSI.sub("", "\n".join(content.get("traceback", [])))
            self.kernel_errors.append(f"{content.get('ename')}: {content.get('evalue')}\n{trace[-1500:]}")
        elif kind == "stream" and content.get("name") == "stderr":
            text = content.get("text", "")
            if "Traceback" in text or ERROR_LINE.search(text):
                self.kernel_errors.append(text[-1500:])

    def open(self) -> None:
        page, ws = self.page, re.sub(r"[^\w-]", "-", self.lesson.stem)
        page.goto(
            f"{self.base}/lab/workspaces/{ws}/tree/{self.rel.as_posix()}", wait_until="domcontentloaded"
        )
        self.cells.first.wait_for(state="visible", timeout=KERNEL_START_MS)
        _wait_kernel_idle(page, self.base, self.rel, KERNEL_START_MS)
        shown = self.cells.count()
        assert shown == self.lesson.cells, (
            f"the page shows {shown} cells, the notebook has {self.lesson.cells}"
        )

    def assert_answers_folded(self) -> None:
        """Opened fresh, a cell between a guess and its answer shows no output, only its fold, whose one
        line (JupyterLab shows the output's first line there) is a heading, never a result."""
        for i in self.lesson.answers:
            cell = self.cells.nth(i)
            shown = [o for o in cell.locator(".jp-OutputArea-output").all() if o.is_visible()]
            assert not shown, f"cell {i} shows its answer on opening: {shown[0].inner_text()[:80]!r}"
            fold = cell.locator(".jp-OutputPlaceholder .jp-Placeholder-content").all_inner_texts()
            line = " ".join(fold).strip()
            ok = not line or line.endswith((":", "...")) or line.startswith(("Put ", "<Figure "))
            assert ok, f"cell {i}'s fold shows {line!r}"

    def clear_outputs(self) -> int:
        """Edit > Clear Outputs of All Cells: the prompts lose their stored execution counts."""
        cleared = f"() => {PROMPTS_JS}.every(e => !/\\d/.test(e.textContent))"
        return self._menu_until(lambda: self._select(0, 0), "Edit", "editmenu:clear-all", cleared, 10_000)

    def run_cells(self, first: int, last: int) -> int:
        """Select cells ``first``..``last`` and run them (Run > Run Selected Cell and Do not Advance);
        wait for every one of them and for the kernel. Returns the number of tries used."""
        code = [i for i in self.lesson.code if first <= i <= last]
        if not code:
            return 0
        code = [i for i in code if i not in self.lesson.folded]  # a folded cell shows no prompt
        if not code:
            self._select(first, last)
            _menu(self.page, "Run", "notebook:run-cell")
            _wait_kernel_idle(self.page, self.base, self.rel, RUN_MS)
            return 1
        prompt = "cells[i].querySelector('.jp-InputArea-prompt').textContent"
        prompts = f"[{', '.join(map(str, code))}].map(i => {prompt})"
        cells = "const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');"
        started = f"() => {{ {cells} return {prompts}.some(t => /\\[(\\*|\\d+)\\]/.test(t)); }}"
        done = f"() => {{ {cells} return {prompts}.every(t => /\\[\\d+\\]/.test(t)); }}"
        tries = self._menu_until(
            lambda: self._select(first, last), "Run", "notebook:run-cell", started, RUN_STARTED_MS
        )
        try:
            self.page.wait_for_function(done, timeout=RUN_MS)
        except Exception:
            within = f"within {RUN_MS / 1000:.0f} s"
            raise AssertionError(
                f"cells {first}-{last} did not all run {within}: {_prompts(self.page)}"
            ) from None
        _wait_kernel_idle(self.page, self.base, self.rel, RUN_MS)
        return tries

    def _select(self, first: int, last: int) -> None:
        """Select cells ``first``..``last`` (click the first one's prompt, shift-click the last one's;
        a cell whose source is folded has its prompt in the fold's placeholder: jp-InputPrompt too)."""
        self.cells.nth(first).locator(".jp-InputPrompt").first.click()
        if last != first:
            self.cells.nth(last).locator(".jp-InputPrompt").first.click(modifiers=["Shift"])
        selected = self.page.eval_on_selector_all(
            ".jp-Notebook .jp-Cell",
            "els => els.flatMap((e, i) => e.classList.contains('jp-mod-selected') ? [i] : [])",
        )
        if last != first and selected != list(range(first, last + 1)):
            raise AssertionError(f"could not select cells {first}-{last}: selected {selected}")

    def _menu_until(self, select: Callable[[], None], menu: str, command: str, done_js: str, ms: int) -> int:
        """Use a menu entry until ``done_js`` holds: on a freshly opened notebook a menu command
        sometimes does nothing (the entry is disabled, or the click is lost), so select again
        and retry. Returns the number of tries used."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        tries = 3
        for attempt in range(1, tries + 1):
            select()
            if _menu(self.page, menu, command):
                with contextlib.suppress(PlaywrightTimeout):
                    self.page.wait_for_function(done_js, timeout=ms)
                    return attempt
            self.page.locator(".lm-Menu").first.wait_for(state="detached", timeout=ms)  # closed: try again
        raise AssertionError(f"{menu} > {command} did nothing {tries} times; prompts: {_prompts(self.page)}")

    def assert_no_errors(self, when: str) -> None:
        """No error output on the page, none sent by the kernel, no widget that failed to render."""
        shown = _error_outputs(self.page)
        assert not shown, f"{when}, a cell shows an error output:\n" + "\n---\n".join(
            e[-1500:] for e in shown
        )
        sent = self.kernel_errors
        assert not sent, f"{when}, the kernel sent an error:\n" + "\n---\n".join(sent)
        content = self.page.evaluate("() => document.body.textContent")
        assert "Error displaying widget" not in content, f"{when}, a widget failed to render"

    def panels(self, cell: int):
        """The widget outputs of cell ``cell`` that hold buttons or a live view (waits for them to render)."""
        outputs = self.cells.nth(cell).locator(".jp-OutputArea-output")
        widgets = outputs.filter(has=self.page.locator(".jupyter-widgets, .rs-view"))
        try:
            widgets.first.wait_for(state="attached", timeout=CLICK_MS)
        except Exception:
            raise AssertionError(f"cell {cell} showed a widget when stored, but shows none now") from None
        return [w for w in widgets.all() if w.locator("button.widget-button, .rs-view").count()]

    def click_panel(self, panel, checks: dict[str, Expect], report: LessonReport) -> None:
        """Click every button of ``panel`` in order; each must change its message line, without error."""
        message = panel.locator("[role=status], [role=alert]")
        assert message.count(), "the panel has no message line (an element with role=status or role=alert)"
        buttons = panel.locator("button.widget-button")
        for i in range(buttons.count()):
            button = buttons.nth(i)
            label = button.inner_text().strip()
            before, text_before = message.first.inner_text(), panel.inner_text()
            button.scroll_into_view_if_needed()
            button.click()
            try:
                self.page.wait_for_function(
                    """([el, old]) => {
                        const m = el.querySelector('[role=status], [role=alert]');
                        return !!m && m.innerText !== old;
                    }""",
                    arg=[panel.element_handle(), before],
                    timeout=CLICK_MS,
                )
            except Exception:
                self.assert_no_errors(f"after clicking {label!r}")  # the likelier reason, if any
                raise AssertionError(
                    f"clicking {label!r} did not change the panel's message line:\n{before}"
                ) from None
            _wait_kernel_idle(self.page, self.base, self.rel, CLICK_MS)
            after = message.first.inner_text()
            assert not after.startswith("Unexpected error"), f"clicking {label!r} gave: {after}"
            expect, deadline = checks.get(label), time.monotonic() + CLICK_MS / 1000
            while expect and not expect.holds(text_before, panel.inner_text()):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"after clicking {label!r}, expected: {expect.what}; the panel's text was:\n"
                        f"{text_before}\n--- and is now:\n{panel.inner_text()}"
                    )
                self.page.wait_for_timeout(250)
            report.clicked.append((label, after))
            self.assert_no_errors(f"after clicking {label!r}")

    def shut_down(self) -> list[str]:
        """Close the page and shut the lesson's kernel down, as closing the notebook does.

        A lesson that started PostgreSQL and did not stop it (it failed half-way) relies on
        the kernel's exit to stop its servers: returns the lab folders still there after it
        (and stops their servers, so nothing is left running either way).
        """
        kernel_labs = _postgres_labs(self.lab.server_pid) if self.lesson.needs_postgres else []
        with contextlib.suppress(Exception):
            self.page.close()
        for session in _get_json(f"{self.base}/api/sessions") or []:
            if session.get("path") == self.rel.as_posix():
                _get_json(f"{self.base}/api/sessions/{session['id']}", method="DELETE", timeout=60)
        left = [str(folder) for folder in kernel_labs if folder.exists()]
        if left:  # the next lab's start() stops the servers of labs whose Python is gone
            from replsim.lab.postgres import PgCluster

            PgCluster(standbys=0).start().close()
        return left


def _kernel_message(payload: str | bytes) -> tuple[str, dict] | None:
    """(msg_type, content) of a kernel message in a websocket frame, or None if it is not one.

    Binary frames use Jupyter's ``v1.kernel.websocket.jupyter.org`` protocol: the number of
    offsets, the offsets (little-endian 64-bit), then channel, header, parent header, metadata,
    content and buffers; text frames are the JSON message.
    """
    try:
        if isinstance(payload, str):
            msg = json.loads(payload)
            return msg["header"]["msg_type"], msg["content"]
        n = int.from_bytes(payload[:8], "little")
        offsets = [int.from_bytes(payload[8 * k : 8 * k + 8], "little") for k in range(1, n + 1)]
        parts = [payload[a:b] for a, b in zip(offsets, [*offsets[1:], len(payload)])]
        return json.loads(parts[1])["msg_type"], json.loads(parts[4])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


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


def _error_outputs(page) -> list[str]:
    """Text of stderr / error outputs that carry a traceback or an ``SomethingError:`` line."""
    texts = page.eval_on_selector_all(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "els => els.map(e => e.textContent)",
    )
    return [t for t in texts if "Traceback" in t or ERROR_LINE.search(t)]


def _postgres_labs(server_pid: int) -> list[Path]:
    """Folders of ``replsim.lab.postgres`` labs started by a kernel of the JupyterLab at ``server_pid``."""
    from replsim.lab import postgres

    kernels, found = set(_children(server_pid)), []
    for folder in Path(tempfile.gettempdir()).glob(f"{postgres.PREFIX}*"):
        with contextlib.suppress(OSError, ValueError):
            if int((folder / postgres.OWNER_FILE).read_text()) in kernels:
                found.append(folder)
    return found


def _require_postgres() -> None:
    from replsim.lab import postgres

    reason = postgres.unavailable_reason()
    require(reason is None, f"the lesson starts PostgreSQL, which cannot run here: {reason}")


# --- the live cluster view (replsim.ui.view, drawn by view.js) -----------------------------
VIEW = "e.querySelector('.rs-view').__rsView"  # the drawing's state, kept on the view's element
STATE_JS = f"""e => {{ const v = {VIEW}, r = e.querySelector('.rs-view');
    const msgs = [...r.querySelectorAll('.rs-msg')];
    return {{t: v.t, now: v.store.now, playing: v.playing, draws: v.draws,
             clock: r.querySelector('.rs-clock').textContent, drawn: msgs.length,
             moving: msgs.filter(m => !m.classList.contains('rs-dropped'))
                         .map(m => [m.dataset.id, ...m.getAttribute('transform').match(/[-0-9.]+/g)]),
             dropped: msgs.filter(m => m.classList.contains('rs-dropped'))
                          .map(m => [m.dataset.fate, m.textContent])}}; }}"""
FIT_JS = """e => { const box = e.getBoundingClientRect();
    const area = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')
              || document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    return {panel: Math.round(box.height), room: Math.round(area.getBoundingClientRect().height)}; }"""


def _view_state(panel) -> dict:
    return panel.evaluate(STATE_JS)


def _wait_view(lp: LessonPage, panel, predicate: str, what: str) -> dict:
    """Wait until ``predicate(view state)`` holds (a JS function of the drawing's state object)."""
    try:
        lp.page.wait_for_function(f"e => ({predicate})({VIEW})", arg=panel.element_handle(), timeout=CLICK_MS)
    except Exception:
        raise AssertionError(f"waited in vain for {what}; the view: {_view_state(panel)}") from None
    return _view_state(panel)


def _wait_text(lp: LessonPage, panel, selector: str, holds: str, what: str) -> None:
    """Wait until the text of ``selector`` in the panel satisfies the JS predicate ``holds(text)``."""
    js = f"([e, sel]) => {{ const x = e.querySelector(sel); return !!x && ({holds})(x.innerText); }}"
    try:
        lp.page.wait_for_function(js, arg=[panel.element_handle(), selector], timeout=CLICK_MS)
    except Exception:
        raise AssertionError(f"waited in vain for {what}; the panel shows:\n{panel.inner_text()}") from None


STATUS = ".replsim-status"  # the status table's block


def drive_view(lp: LessonPage, panel, report: LessonReport) -> None:
    """Play, pause, step, scrub and Now on the panel's view, each waited for as a state; messages must
    appear and move; where the panel can partition the network, a lost message must be drawn so."""
    view = panel.locator(".rs-view")
    button = lambda name: view.get_by_role("button", name=name, exact=True)  # noqa: E731
    button("show now").click()  # the last interval may still be playing
    _wait_view(lp, panel, "v => !v.playing && v.t === v.store.now", "Now")
    speed = view.locator(".rs-speed")
    usual = speed.input_value()
    speed.select_option("0.001")  # the slowest: a message of 0.5 ms takes half a second to cross
    _wait_view(lp, panel, "v => v.model.get('speed') === 0.001", "the slowest speed")
    # from t = 0, step from event to event until messages are drawn on their way
    view.locator(".rs-svg").press("Home")
    state = _wait_view(lp, panel, "v => v.t === 0", "Home to go to t = 0")
    steps = 0
    while not state["moving"]:
        assert state["t"] < state["now"], "stepping through the experiment drew no message in flight"
        button("step to the next event").click()
        state = _wait_view(lp, panel, f"v => v.t > {state['t']}", "a step to the next event")
        steps += 1
    assert state["clock"] != "t = 0.000 s", state
    # play a little, then pause: the messages moved, and the status shows the moment paused at
    button("play").click()
    _wait_view(lp, panel, f"v => v.playing && v.draws > {state['draws'] + 2}", "playing to draw frames")
    button("pause").click()
    paused = _wait_view(lp, panel, "v => !v.playing", "the pause")
    assert state["t"] < paused["t"] < paused["now"], f"not paused part-way: {paused}"
    before = {mid: (x, y) for mid, x, y in state["moving"]}
    moved = [mid for mid, x, y in paused["moving"] if mid in before and before[mid] != (x, y)]
    assert moved, f"no message moved while playing: {before} then {paused['moving']}"
    _wait_text(lp, panel, STATUS, "t => t.includes('(looking back)')", "the status to show the paused moment")
    speed.select_option(usual)
    report.view.append(
        f"{steps} steps to the first messages; paused at {paused['clock']}; {len(moved)} moved"
    )
    # scrub: the range input, by keyboard, back to the start; then Now
    scrub = view.locator(".rs-scrub")
    scrub.focus()
    scrub.press("Home")
    _wait_view(lp, panel, "v => v.t === 0 && !v.playing", "the scrub to reach t = 0")
    scrub.dispatch_event("change")  # letting go of the slider: the kernel shows the moment
    _wait_text(lp, panel, STATUS, "t => t.startsWith('t = 0.0 s (looking back)')", "the status at t = 0")
    button("show now").click()
    _wait_view(lp, panel, "v => v.t === v.store.now", "Now")
    _wait_text(lp, panel, STATUS, "t => !t.includes('looking back')", "the status to show now")
    _wait_text(lp, panel, "[role=status], [role=alert]", "t => t.startsWith('Showing now')", "the message")
    if panel.get_by_role("button", name="Partition", exact=True).count():
        report.view.append(_lost_to_a_partition(lp, panel))
    fit = panel.evaluate(FIT_JS)
    assert fit["panel"] <= fit["room"], (
        f"the panel is {fit['panel']} px tall, the notebook shows {fit['room']} px at "
        f"{VIEWPORT['width']}x{VIEWPORT['height']}: the learner would scroll between a button and the view"
    )
    report.view.append(f"panel {fit['panel']} px of {fit['room']}")


def drive_lone_view(lp: LessonPage, panel, report: LessonReport) -> None:
    """A view shown on its own (lesson 6's message timeline): it plays, steps, and draws its arrows,
    a message stopped by the partition dashed to a cross; its Cluster button shows the nodes."""
    view = panel.locator(".rs-view")
    button = lambda name: view.get_by_role("button", name=name, exact=True)  # noqa: E731
    state = _wait_view(lp, panel, "v => v.store.messages.length > 0 && !v.playing", "the view's data")
    arrows = panel.evaluate("e => e.querySelectorAll('.rs-arrow').length")
    lost = panel.evaluate("e => e.querySelectorAll('.rs-arrow.rs-dropped').length")
    # messages a fault stopped (lost, partitioned, cut: fate codes 2-4) in the data sent to the view
    faulted = panel.evaluate(f"e => {VIEW}.store.messages.filter(m => m[5] >= 2 && m[5] <= 4).length")
    if state["clock"]:  # the moment shown
        view.locator(".rs-svg").press("Home")
        start = _wait_view(lp, panel, "v => !v.playing", "Home")
        button("step to the next event").click()
        _wait_view(lp, panel, f"v => v.t > {start['t']}", "a step")
        button("play").click()
        _wait_view(lp, panel, f"v => v.draws > {start['draws'] + 4}", "playing")
        button("show now").click()
    mode = view.locator(".rs-mode")
    if "Cluster" in mode.inner_text():  # a timeline (lesson 6's, over the moments of a partition)
        assert arrows > 0, "the timeline draws no message"
        assert lost > 0 or not faulted, f"{arrows} arrows drawn, none stopped, though {faulted} messages were"
        mode.click()
        _wait_view(lp, panel, "v => v.mode === 'cluster'", "the cluster picture")
        assert panel.evaluate("e => e.querySelectorAll('.rs-node').length") > 0, "no node drawn"
        mode.click()
    report.view.append(f"a view alone: {arrows} arrows, {lost} stopped by a fault")


def _click_and_wait(lp: LessonPage, panel, name: str) -> None:
    """Click a panel button; wait for its message line to change and the kernel to be idle."""
    before = panel.locator("[role=status], [role=alert]").first.inner_text()
    panel.get_by_role("button", name=name, exact=True).first.click()
    _wait_text(
        lp, panel, "[role=status], [role=alert]", f"t => t !== {json.dumps(before)}", f"{name}'s message"
    )
    _wait_kernel_idle(lp.page, lp.base, lp.rel, CLICK_MS)


def _lost_to_a_partition(lp: LessonPage, panel) -> str:
    """Partition, Advance, then step through the new interval until a message stopped by the
    partition is drawn: still, marked with the word "partitioned"; Heal after."""
    _click_and_wait(lp, panel, "Partition")
    _click_and_wait(lp, panel, "Advance")
    _wait_view(lp, panel, "v => !v.playing && v.t === v.store.now", "the Advance to be played")
    found = panel.evaluate(
        f"""e => {{ const v = {VIEW}, r = e.querySelector('.rs-view');
            v.jump(v.store.since);
            while (v.t < v.store.now) {{
                const lost = r.querySelector('.rs-dropped[data-fate=partitioned]');
                if (lost) return {{t: v.t, text: lost.textContent}};
                v.step(1);
            }}
            return null; }}"""
    )
    assert found, "no message lost to the partition was drawn as lost while stepping through the Advance"
    assert "partitioned" in found["text"], found
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / f"{lp.lesson.stem}_lost.png"))
    _click_and_wait(lp, panel, "Heal")  # an action shows now again
    return f"a message lost to the partition drawn at t = {found['t'] / 1e6:.3f} s"


def run_lesson(lab: Lab, lesson: Lesson) -> LessonReport:
    """Open ``lesson``, run it top to bottom clicking every panel on the way, screenshot it."""
    report, t0 = LessonReport(), time.monotonic()
    before_hash = _sha256(lesson.path)
    checks = CHECKS.get(lesson.stem, {})
    shot = ARTIFACTS / f"{lesson.stem}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    lp = LessonPage(lab, lesson)
    try:
        lp.open()
        lp.assert_answers_folded()
        report.timings["kernel ready"] = time.monotonic() - t0
        report.menu_tries.append(lp.clear_outputs())
        panels = []
        for first, last, widget_cell in lesson.steps():
            report.menu_tries.append(lp.run_cells(first, last))
            lp.assert_no_errors(f"after running cells {first}-{last}")
            if widget_cell is None:
                continue
            found = lp.panels(widget_cell)
            why = WIDGETS_WITHOUT_BUTTONS.get(lesson.stem)
            assert found or why, (
                f"cell {widget_cell} shows widgets without a button: click nothing only if that is by "
                f"design, and then say why in WIDGETS_WITHOUT_BUTTONS"
            )
            for panel in found:
                if not panel.locator("button.widget-button").count():  # a view on its own, no panel
                    drive_lone_view(lp, panel, report)
                    continue
                lp.click_panel(panel, checks, report)
                if panel.locator(".rs-view").count():
                    drive_view(lp, panel, report)
            panels += [p for p in found if p.locator("button.widget-button").count()]
        report.timings["ran and clicked"] = time.monotonic() - t0
        if not lesson.widgets:  # nothing stored: nothing to click, and the page must agree
            buttons = lp.page.locator(".jp-Notebook button.widget-button").all_inner_texts()
            assert not buttons, f"the stored notebook shows no widget, but the page shows buttons {buttons}"
        unrun = [p for p in _prompts(lp.page) if not re.fullmatch(r"\[\d+\]:", p)]
        assert not unrun, f"code cells not run: prompts {_prompts(lp.page)}"
        missing = [label for label in checks if label not in {b for b, _ in report.clicked}]
        assert not missing, f"no button {missing} in {lesson.stem}'s panels (CHECKS names them)"
        lp.assert_no_errors("at the end")
        first = panels[0] if panels else lp.cells.first
        first.evaluate("e => e.scrollIntoView({block: 'start'})")  # the whole panel, as a learner sees it
        if panels and panels[0].locator(".rs-view").count():
            _wait_view(lp, panels[0], "v => !v.playing && v.t === v.store.now", "the view to show now")
        lp.page.screenshot(path=str(shot))
    except BaseException:
        with contextlib.suppress(Exception):
            lp.page.screenshot(path=str(shot.with_name(f"{lesson.stem}_failure.png")))
        with contextlib.suppress(Exception):  # the first failure is the one to report
            lp.shut_down()
        raise
    report.postgres_left = lp.shut_down()
    report.timings["total"] = time.monotonic() - t0
    assert _sha256(lesson.path) == before_hash, f"{lesson.path} changed"
    return report


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_in_a_real_browser(lab: Lab, path: Path) -> None:
    """The lesson runs in JupyterLab in Chromium without an error, and each panel button answers."""
    lesson = Lesson.read(path)
    if lesson.needs_postgres:
        _require_postgres()
    report = run_lesson(lab, lesson)
    assert not report.postgres_left, f"the kernel's exit left PostgreSQL labs behind: {report.postgres_left}"
    print(report.summary(lesson.stem))


def test_lessons_are_found() -> None:
    """The browser test sees every lesson, including lesson 1 whose panel is timed below."""
    stems = [p.stem for p in LESSONS]
    assert REDRAW_LESSON in stems and "00_start_here" in stems, stems


# --- timings: click to changed picture, bytes, scrub and step, frames per second ---------------
CLICK_JS = """async ([panel, label, timeoutMs]) => {
    const button = [...panel.querySelectorAll('button.widget-button')]
        .find(b => b.innerText.trim() === label);
    const layer = panel.querySelector('.rs-view .rs-svg');
    if (!button || !layer) return {error: `no ${label} button or no view in the panel`};
    const changed = new Promise((resolve, reject) => {
        const timer = setTimeout(() => { seen.disconnect(); reject(new Error('no change')); }, timeoutMs);
        const seen = new MutationObserver(() => { seen.disconnect(); clearTimeout(timer); resolve(); });
        seen.observe(layer, {subtree: true, childList: true, attributes: true, characterData: true});
    });
    const t0 = performance.now();
    button.click();
    try { await changed; } catch (e) { return {error: `${label}: no change in ${timeoutMs} ms`}; }
    await new Promise(r => requestAnimationFrame(() => r()));  // the frame that shows it
    return {ms: performance.now() - t0};
}"""
# Redraw of one moment, as a scrub (the range's input event) and a step (the button) do it: the
# time from the event to the drawing done, inside one task (the frame then shows it).
REDRAW_JS = f"""e => {{ const v = {VIEW}, r = e.querySelector('.rs-view');
    const scrub = r.querySelector('.rs-scrub');
    const step = r.querySelector('.rs-step'), out = {{scrub: [], step: []}};
    for (let k = 0; k < 40; k++) {{
        scrub.value = String(Math.round(v.store.now * k / 40));
        const t0 = performance.now();
        scrub.dispatchEvent(new Event('input'));
        out.scrub.push(performance.now() - t0);
    }}
    v.jump(0);
    for (let k = 0; k < 40 && v.t < v.store.now; k++) {{
        const t0 = performance.now();
        step.click();
        out.step.push(performance.now() - t0);
    }}
    return out; }}"""
FPS_JS = f"""async ([e, seconds]) => {{ const v = {VIEW}, r = e.querySelector('.rs-view');
    v.play(v.store.now - 1e6 * seconds * v.model.get('speed'));
    const first = v.draws, t0 = performance.now();
    let most = 0;
    while (performance.now() - t0 < seconds * 1000 && v.playing) {{
        await new Promise(ok => requestAnimationFrame(() => ok()));
        most = Math.max(most, r.querySelectorAll('.rs-msg').length);
    }}
    return {{frames: v.draws - first, ms: performance.now() - t0, most}}; }}"""
# 200 messages and more in flight: nine followers, a write every 5 ms, 100 ms links
CROWD = (
    "from replsim import Cluster\n"
    "from replsim.ui.view import ClusterView\n"
    "c = Cluster(leader='L', followers=[f'F{i}' for i in range(1, 10)], delay=0.1, seed=1)\n"
    "c.start_writes(rate=200)\n"
    "c.advance(2.0)\n"
    "view = ClusterView(c, speed=0.1)\n"
    "view"
)


def _percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile, linear between ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _summary(values: Sequence[float]) -> str:
    median, p95 = statistics.median(values), _percentile(values, 95)
    return f"median {median:.1f} ms, p95 {p95:.1f} ms, max {max(values):.1f} ms"


class _Bytes:
    """Counts the bytes the page receives on its websockets (the kernel's messages)."""

    def __init__(self, page) -> None:
        self.total = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload: str | bytes) -> None:
        self.total += len(payload if isinstance(payload, bytes) else payload.encode())


def _time_clicks(
    lp: LessonPage, panel, clicks: int, counter: _Bytes | None = None
) -> tuple[list, list, list]:
    """Click Advance ``clicks`` times (after one untimed click): ms to the changed picture, bytes
    received per click, and the view's data per click (its delta, as JSON)."""
    times, sizes, deltas = [], [], []
    for i in range(clicks + 1):
        _wait_view(lp, panel, "v => !v.playing", "the last interval to be played")
        before = counter.total if counter else 0
        got = lp.page.evaluate(CLICK_JS, [panel.element_handle(), "Advance", REDRAW_MS])
        assert "error" not in got, got["error"]
        _wait_kernel_idle(lp.page, lp.base, lp.rel, CLICK_MS)
        if i:
            times.append(got["ms"])
            sizes.append((counter.total - before) if counter else 0)
            deltas.append(panel.evaluate(f"e => JSON.stringify({VIEW}.model.get('delta')).length"))
    return times, sizes, deltas


@pytest.mark.timeout(400)
def test_view_timings_in_a_real_browser(lab: Lab) -> None:
    """Time lesson 1's panel in the page: a click on Advance to the changed picture (as served, and
    over an emulated slower link as on Binder), the bytes a click brings, a scrub's and a step's
    redraw; and frames per second while 200 messages or more are in flight. Print and save them."""
    lesson = Lesson.read(ROOT / "notebooks" / f"{REDRAW_LESSON}.ipynb")
    lp = LessonPage(lab, lesson)
    counter = _Bytes(lp.page)
    try:
        lp.open()
        lp.clear_outputs()
        lp.run_cells(0, lesson.cells - 1)
        lp.assert_no_errors("after running the lesson")
        panel = next(p for cell in lesson.widgets for p in lp.panels(cell) if "Advance" in p.inner_text())
        panel.evaluate("e => e.closest('.jp-Cell').scrollIntoView({block: 'start'})")
        panel.locator(".rs-speed").select_option("10")  # each 1 s interval plays in 0.1 s, between clicks
        _wait_view(lp, panel, "v => v.model.get('speed') === 10", "the fastest speed")
        local, sizes, deltas = _time_clicks(lp, panel, REDRAW_CLICKS, counter)
        redraw = panel.evaluate(REDRAW_JS)
        cdp = lab.context.new_cdp_session(lp.page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **SLOW_LINK})
        slow, _, _ = _time_clicks(lp, panel, REDRAW_CLICKS_SLOW)
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        lp.assert_no_errors("after the timed clicks")
    except BaseException:
        with contextlib.suppress(Exception):  # the first failure is the one to report
            lp.shut_down()
        raise
    lp.shut_down()
    fps = _crowd_fps(lab)
    link = (
        f"{SLOW_LINK['downloadThroughput'] * 8 / 1e6:g} Mbit/s down, "
        f"{SLOW_LINK['uploadThroughput'] * 8 / 1e6:g} up, {SLOW_LINK['latency']} ms latency"
    )
    lines = [
        f"the live view in Chromium, {REDRAW_LESSON}'s panel, timed in the page",
        "",
        f"click on Advance to the first frame with the changed picture ({REDRAW_CLICKS} clicks):",
        f"  as served (loopback):     {_summary(local)}",
        f"  over an emulated link ({link}, {REDRAW_CLICKS_SLOW} clicks): {_summary(slow)}",
        f"bytes a click brings to the browser: median {statistics.median(sizes) / 1000:.1f} kB in all "
        f"(the view's data: {statistics.median(deltas) / 1000:.1f} kB; the rest: status, lag plot, message)",
        f"redraw of one moment: scrub {_summary(redraw['scrub'])}; step {_summary(redraw['step'])}",
        f"playing with up to {fps['most']} messages in flight: "
        f"{fps['frames'] / fps['ms'] * 1000:.0f} frames per second "
        f"({fps['frames']} in {fps['ms'] / 1000:.1f} s)",
        "",
        f"click-to-changed-picture median: {statistics.median(local):.1f} ms, "
        f"p95: {_percentile(local, 95):.1f} ms (as served)",
    ]
    assert fps["most"] >= 200, f"the crowded view never drew 200 messages at once: {fps}"
    text = "\n".join(lines) + "\n"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "redraw.txt").write_text(text)
    print("\n" + text, end="")


def _crowd_fps(lab: Lab) -> dict:
    """Open a notebook of one view with 200 messages or more in flight, play it, count frames."""
    import nbformat

    path = Path(lab.root) / "notebooks" / "crowd.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CROWD)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    lp = LessonPage(lab, Lesson.read(path))
    try:
        lp.open()
        lp.run_cells(0, 0)
        lp.assert_no_errors("after drawing the crowded view")
        cell = lp.cells.nth(0)
        cell.locator(".rs-view").wait_for(state="visible", timeout=CLICK_MS)
        _wait_view(lp, cell, "v => v.store.messages.length > 0", "the crowded view's data")
        return lp.page.evaluate(FPS_JS, [cell.element_handle(), 2.0])
    finally:
        lp.shut_down()


def test_look_back_in_a_real_browser(lab: Lab) -> None:
    """Lesson 1's panel: advance, then scrub the view back with the keyboard; the status shows that
    moment (from the record); Now returns to the present, the status first (issue 16)."""
    lesson = Lesson.read(ROOT / "notebooks" / f"{REDRAW_LESSON}.ipynb")
    lp = LessonPage(lab, lesson)
    try:
        lp.open()
        lp.clear_outputs()
        lp.run_cells(0, lesson.cells - 1)
        panel = next(p for cell in lesson.widgets for p in lp.panels(cell) if "Advance" in p.inner_text())
        panel.evaluate("e => e.closest('.jp-Cell').scrollIntoView({block: 'start'})")
        for _ in range(3):  # 3 s of virtual time, 1 s a click (the slider's default)
            _click_and_wait(lp, panel, "Advance")
        _wait_text(lp, panel, STATUS, "t => t.startsWith('t = 3.0 s')", "the status at t = 3.0 s")
        scrub = panel.locator(".rs-view .rs-scrub")
        scrub.focus()
        scrub.press("Home")
        _wait_text(lp, panel, STATUS, "t => t.startsWith('t = 0.0 s (looking back)')", "the status at t = 0")
        _wait_text(
            lp, panel, "[role=status]", "t => t.startsWith('Looking back at t = 0.0 s')", "the message"
        )
        _wait_view(lp, panel, "v => v.t === 0", "the view at t = 0")
        panel.locator(".rs-view").get_by_role("button", name="show now", exact=True).click()
        _wait_text(
            lp, panel, "[role=status], [role=alert]", "t => t.startsWith('Showing now: t = 3.0 s')", "Now"
        )
        assert "looking back" not in panel.locator(STATUS).inner_text()  # drawn before the message
        lp.assert_no_errors("after looking back")
    except BaseException:
        with contextlib.suppress(Exception):
            lp.shut_down()
        raise
    lp.shut_down()
