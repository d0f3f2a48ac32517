"""The one form the course's notebooks are stored in, whoever writes them.

``tools/nbbuild.py`` writes every lesson in this form, and the course's JupyterLab
(``tools/course.py``) applies it to every notebook it saves, as a pre-save hook. So a learner who
opens, reads and closes a lesson (JupyterLab autosaves it once the kernel has started) leaves the
file byte for byte as committed, and ``git status`` stays clean. The form:

- notebook metadata: the kernelspec, and ``language_info`` with the language's name only (a
  kernel reports its exact Python version, which differs from machine to machine);
- no saved widget state (JupyterLab rewrites its numbers, ``1.0`` as ``1``, and a widget saved
  without its kernel cannot act anyway);
- a widget's output keeps only a plain-text hint, :data:`WIDGET_HINT`: that is what a lesson
  shows where its panel will be before the cell runs, and after the notebook is reopened (never a
  Python repr, never "Error displaying widget: model not found");
- a folded output (``jupyter.outputs_hidden``) also marked ``collapsed``, and consecutive printed
  outputs of one stream stored as one, with carriage returns and backspaces applied (a progress
  line updated in place keeps its last state): both as JupyterLab stores them.

Nothing else changes: cells, their outputs and the learner's own work are saved as they are.
"""

from __future__ import annotations

import re
from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_HINT = "▶ Run this cell to start its interactive panel (it appears here)."
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def normalise(nb: Any) -> Any:
    """Put a notebook (an nbformat node or a plain dict) in the course's form, in place; returns it."""
    meta = nb.setdefault("metadata", {})
    meta.pop("widgets", None)
    meta["kernelspec"] = meta.get("kernelspec") or dict(KERNELSPEC)
    meta["language_info"] = {"name": (meta.get("language_info") or {}).get("name", "python")}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":  # JupyterLab stores a folded output twice; so do we
            cmeta = cell.setdefault("metadata", {})
            if (cmeta.get("jupyter") or {}).get("outputs_hidden"):
                cmeta["collapsed"] = True
            else:
                cmeta.pop("collapsed", None)
            cell["outputs"] = _streams(cell.get("outputs", []))
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data")
            if data and WIDGET_VIEW in data:
                output["data"] = {"text/plain": WIDGET_HINT}
    return nb


def _streams(outputs: list) -> list:
    """Consecutive outputs of the same stream joined into one, its text as a terminal would show it."""
    out: list = []
    for output in outputs:
        if output.get("output_type") != "stream":
            out.append(output)
            continue
        text = output.get("text", "")
        text = text if isinstance(text, str) else "".join(text)
        last = out[-1] if out else None
        if (
            last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == output.get("name")
        ):
            last["text"] = last["text"] + text
        else:
            output["text"] = text
            out.append(output)
    for output in out:
        if output.get("output_type") == "stream":
            output["text"] = as_shown(output["text"])
    return out


def as_shown(text: str) -> str:
    """JupyterLab's rendering of printed text (its ``processText``): ``\\r`` returns to the start
    of the line and what follows overwrites it; ``\\b`` deletes the character before."""
    if not any(c in text for c in "\r\b"):
        return text
    shown, at = "", 0
    for piece, control in re.findall(r"([^\r\b\n]*)([\r\b\n]?)", text):
        shown, at = shown[:at] + piece + shown[at + len(piece) :], at + len(piece)
        if control == "\b" and at > 0 and shown[at - 1] != "\n":
            shown, at = shown[: at - 1] + shown[at + 1 :], at - 1
        elif control == "\r":
            at = shown.rfind("\n", 0, at) + 1
        elif control == "\n":
            shown += "\n"
            at = len(shown)
    return shown


def shows_widget(cell: Any) -> bool:
    """Whether a stored code cell shows a widget (its output is the widget hint, or a live widget)."""
    for output in cell.get("outputs", []):
        data = output.get("data") or {}
        text = data.get("text/plain", "")
        if WIDGET_VIEW in data or (text if isinstance(text, str) else "".join(text)) == WIDGET_HINT:
            return True
    return False


def pre_save(model: dict, path: str = "", contents_manager: Any = None, **_: Any) -> None:
    """Jupyter server's pre-save hook: store a notebook in the course's form."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        normalise(model["content"])
