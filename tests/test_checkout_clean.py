"""Reading a lesson changes nothing, in the course's own JupyterLab in a real browser.

The course is started as ``make course`` starts it (``tools/course.py``), on a copy of the
repository's ``notebooks/`` and ``tools/``, with autosave every 5 s instead of every 120 s. Each
lesson is opened as a learner opens it: the kernel starts (JupyterLab then records the kernel's
language in the notebook, which makes it "changed"), the notebook autosaves, and the file must
still be byte for byte the committed one. Before its cells run, a lesson shows the hint
"Run this cell ..." where a panel will be, never a Python repr. A notebook whose panel was run,
saved and reopened shows the hint again, never "Error displaying widget".

Needs Chromium and playwright (see tests/test_browser.py); skipped without them on a laptop,
mandatory in CI.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require
from test_browser import CHROMIUM_ARGS, CHROMIUM_MISSING, PLAYWRIGHT_MISSING, find_chromium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from notebook_form import KERNELSPEC, WIDGET_HINT, shows_widget  # noqa: E402

LESSONS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
AUTOSAVE_S = 5
SAVE_WAIT_S = 90
PANEL_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "panel-0",
            "metadata": {},
            "outputs": [],
            "source": "from replsim import Cluster\nfrom replsim.ui import ControlPanel\n\n"
            "ControlPanel(Cluster(leader='anchor', followers=['channel-a'], seed=1))",
        }
    ],
    "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course's JupyterLab on a copy of notebooks/ and tools/: (base URL, root folder, page)."""
    require(find_chromium() is not None, CHROMIUM_MISSING)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, PLAYWRIGHT_MISSING)
    root = tmp_path_factory.mktemp("course")
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "tools", root / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "notebooks" / "panel_check.ipynb").write_text(json.dumps(PANEL_NOTEBOOK))
    settings = home / "lab-settings" / "@jupyterlab"
    for plugin, values in {
        "docmanager-extension/plugin": {"autosaveInterval": AUTOSAVE_S},
        "apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
        "notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"))
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(home / var.lower())
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(home / "workspaces")
    proc = subprocess.Popen(
        [sys.executable, str(root / "tools" / "course.py"), "--no-browser", "--port", "8950"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=root,
    )  # fmt: skip
    url = None
    deadline = time.monotonic() + 120
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        url = (re.search(r"http://127\.0\.0\.1:\d+/lab/tree/\S+", line) or [None])[0]
    assert url, "tools/course.py printed no URL"
    base = url.split("/lab/")[0]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(url)  # the token in the URL logs the browser in
            page.locator(".jp-Notebook").first.wait_for(timeout=120_000)
            yield base, root, page
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def _open(page, base: str, rel: str) -> None:
    """Open one notebook, alone in its own JupyterLab workspace."""
    workspace = re.sub(r"[^\w-]", "-", Path(rel).stem)
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{rel}", wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for(timeout=120_000)


def _outputs_text(page) -> str:
    """The text of every output shown in the open notebook."""
    return "\n".join(
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").all_inner_texts()
    )


def _written_since(path: Path, mtime: float) -> bool:
    deadline = time.monotonic() + SAVE_WAIT_S
    while time.monotonic() < deadline:
        if path.stat().st_mtime != mtime:
            time.sleep(1)  # let the write finish
            return True
        time.sleep(0.5)
    return False


@pytest.mark.timeout(1800)
def test_opening_and_reading_every_lesson_leaves_it_as_committed(course) -> None:
    base, root, page = course
    changed, unsaved = [], []
    for lesson in LESSONS:
        copy = root / "notebooks" / lesson.name
        before = copy.stat().st_mtime
        _open(page, base, f"notebooks/{lesson.name}")
        page.mouse.wheel(0, 2000)  # read on
        if not _written_since(copy, before):
            unsaved.append(lesson.name)  # never autosaved: nothing was written, so nothing changed
        if copy.read_bytes() != lesson.read_bytes():
            changed.append(lesson.name)
            if len(changed) == 1:  # show how the first one changed
                diff = difflib.unified_diff(
                    lesson.read_text().splitlines(),
                    copy.read_text().splitlines(),
                    "committed",
                    "saved",
                    lineterm="",
                )
                first_diff = "\n".join(list(diff)[:40])
        text = _outputs_text(page)
        assert "Error displaying widget" not in text, lesson.name
        assert not re.search(r"\b(ControlPanel|PgPanel|VBox)\(", text), f"{lesson.name} shows a Python repr"
        stored = json.loads(lesson.read_text())
        if any(WIDGET_HINT in json.dumps(c.get("outputs", [])) for c in stored["cells"]):
            assert WIDGET_HINT in text, f"{lesson.name}: no hint where its panel will be"
    assert not changed, f"opening and reading changed these lessons on disk: {changed}\n{first_diff}"
    # the kernel's language info makes every opened lesson "changed": the autosave must have run
    assert len(unsaved) < len(LESSONS), "no lesson was ever autosaved: the test proves nothing"


@pytest.mark.timeout(600)
def test_a_panel_run_saved_and_reopened_shows_the_hint_not_an_error(course) -> None:
    base, root, page = course
    path = root / "notebooks" / "panel_check.ipynb"
    _open(page, base, "notebooks/panel_check.ipynb")
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").first
    write = page.get_by_role("button", name="Write").first  # the live panel
    for _ in range(3):  # a freshly opened notebook sometimes ignores the first run (kernel starting)
        select = page.locator(".jp-Dialog").get_by_role("button", name="Select")
        if select.count():  # JupyterLab sometimes asks which kernel, even with a kernelspec
            select.first.click()
        cell.locator(".jp-InputArea-prompt").click()
        page.keyboard.press("Control+Enter")
        try:
            write.wait_for(timeout=60_000)
            break
        except Exception:
            page.screenshot(path=str(root / "run_failed.png"))
    write.wait_for(timeout=1000)
    before = path.stat().st_mtime
    page.keyboard.press("Control+s")
    assert _written_since(path, before), "Ctrl-S did not save the notebook"
    saved = json.loads(path.read_text())
    assert "widgets" not in saved["metadata"]
    assert shows_widget(saved["cells"][0]) and list(saved["cells"][0]["outputs"][0]["data"]) == ["text/plain"]
    page.reload(wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for(timeout=120_000)
    page.get_by_text(WIDGET_HINT).first.wait_for(timeout=60_000)
    assert "Error displaying widget" not in _outputs_text(page)
