"""Build the course notebooks from their sources, and execute them.

Each lesson is written as ``notebooks/src/NN_name.py`` in the "percent" format:

    # %% [markdown]
    # # A heading
    # Some text.

    # %%
    print("code")

    # %% tags=["nbval-ignore-output"]
    panel   # a widget cell

Usage:
    python tools/nbbuild.py                 # build and execute every notebook
    python tools/nbbuild.py 01 03           # only these lessons
    python tools/nbbuild.py --no-execute    # only rebuild the cells
    python tools/nbbuild.py --check         # exit 1 if a notebook's cells differ from its source
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"
HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def parse(text: str) -> list[nbformat.NotebookNode]:
    """Turn a percent-format source into notebook cells."""
    cells: list[nbformat.NotebookNode] = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", ln) for ln in body.split("\n"))
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.split("\n"):
        m = HEADER.match(line)
        if m:
            flush()
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build(src: pathlib.Path) -> pathlib.Path:
    """Write the notebook for one source file (cells only, not executed)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(src.read_text())
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{src.stem[:2]}-{i:03d}"
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    out = OUT / f"{src.stem}.ipynb"
    nbformat.write(nb, out)
    return out


def execute(path: pathlib.Path) -> None:
    """Run a notebook top to bottom in its own folder and store the outputs."""
    from nbconvert.preprocessors import ExecutePreprocessor

    nb = nbformat.read(path, as_version=4)
    ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(OUT)}})
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


def differs(src: pathlib.Path) -> bool:
    """True if the committed notebook's cells are not those of its source."""
    path = OUT / f"{src.stem}.ipynb"
    if not path.exists():
        return True
    nb = nbformat.read(path, as_version=4)
    want = parse(src.read_text())
    have = [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]
    return have != [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in want]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lessons", nargs="*", help="lesson numbers, e.g. 01 (default: all)")
    ap.add_argument("--no-execute", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    sources = sorted(SRC.glob("[0-9][0-9]_*.py"))
    if args.lessons:
        sources = [s for s in sources if s.stem[:2] in args.lessons]
    if args.check:
        bad = [s.name for s in sources if differs(s)]
        for name in bad:
            print(f"{name}: the notebook is out of date; run python tools/nbbuild.py {name[:2]}")
        return 1 if bad else 0
    for s in sources:
        path = build(s)
        if not args.no_execute:
            execute(path)
        print(f"built {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
