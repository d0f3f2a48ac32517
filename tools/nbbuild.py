"""Build the course notebooks from their sources with jupytext, and execute them.

Each lesson is written as ``lessons/NN_name.py`` in jupytext's "percent" format, and built into
``notebooks/NN_name.ipynb`` (the folder learners open holds the notebooks and nothing else):

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
    python tools/nbbuild.py --check         # exit 1 if a notebook is out of date with its source

``--check`` compares what jupytext sees of a notebook (cell types, sources, tags and other cell
metadata that belongs in a source) with the source, so outputs, execution counts, cell ids and the
metadata a run or an editor adds never make it fail; it prints what differs.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import pathlib
import sys

import jupytext
import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from notebook_form import KERNELSPEC, normalise  # noqa: E402  (tools/ is not a package)

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "lessons"
OUT = ROOT / "notebooks"
FORMAT = "py:percent"
# The notebook metadata, the same on every machine: no jupytext or Python version in it
METADATA = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
SHOWN = 40  # lines of a difference --check prints
# Comparing as percent text: no header, so only the cells count
_AS_TEXT = {"jupytext": {"notebook_metadata_filter": "-all"}}


def sources(src_dir: pathlib.Path = SRC) -> list[pathlib.Path]:
    """Every lesson source, in order."""
    return sorted(src_dir.glob("[0-9][0-9]_*.py"))


def notebook_for(src: pathlib.Path, out_dir: pathlib.Path = OUT) -> pathlib.Path:
    """The notebook a source builds."""
    return out_dir / f"{src.stem}.ipynb"


def read_source(src: pathlib.Path) -> nbformat.NotebookNode:
    """A lesson source as a notebook (not executed), with fixed metadata and stable cell ids."""
    nb = jupytext.read(src, fmt=FORMAT)
    nb.metadata = copy.deepcopy(METADATA)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{src.stem[:2]}-{i:03d}"
    return nb


def as_text(nb: nbformat.NotebookNode) -> str:
    """What jupytext keeps of a notebook in the percent format: cells, their tags and metadata."""
    nb = copy.deepcopy(nb)
    nb.metadata = copy.deepcopy(_AS_TEXT)
    return jupytext.writes(nb, fmt=FORMAT)


def build(src: pathlib.Path, out_dir: pathlib.Path = OUT) -> pathlib.Path:
    """Write the notebook for one source file (cells only, not executed)."""
    out = notebook_for(src, out_dir)
    nbformat.write(read_source(src), out)
    return out


def execute(path: pathlib.Path) -> None:
    """Run a notebook top to bottom in its own folder and store the outputs, in the course's form
    (``tools/notebook_form.py``: what the course's JupyterLab writes back when a learner only reads)."""
    from nbconvert.preprocessors import ExecutePreprocessor

    nb = nbformat.read(path, as_version=4)
    # record_timing=False: no timestamps in the cells' metadata, so a rebuild changes only what changed
    run = ExecutePreprocessor(timeout=600, kernel_name="python3", record_timing=False)
    run.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    nbformat.write(normalise(nb), path)  # stored as the course's JupyterLab saves it


def difference(src: pathlib.Path, out_dir: pathlib.Path = OUT) -> str:
    """'' if the committed notebook has exactly the source's cells; otherwise what differs (a diff)."""
    path = notebook_for(src, out_dir)
    if not path.exists():
        return f"{path.name} does not exist"
    have = as_text(nbformat.read(path, as_version=4)).splitlines(keepends=True)
    want = as_text(read_source(src)).splitlines(keepends=True)
    if have == want:
        return ""
    diff = difflib.unified_diff(have, want, f"{path.name} (committed)", f"{src.name} (source)", n=1)
    return "".join(diff)


def orphans(src_dir: pathlib.Path = SRC, out_dir: pathlib.Path = OUT) -> list[pathlib.Path]:
    """Notebooks that no source builds (a lesson renamed or removed without its notebook)."""
    built = {notebook_for(s, out_dir).name for s in sources(src_dir)}
    return [nb for nb in sorted(out_dir.glob("[0-9][0-9]_*.ipynb")) if nb.name not in built]


def check(chosen: list[pathlib.Path], src_dir: pathlib.Path = SRC, out_dir: pathlib.Path = OUT) -> int:
    """Print every notebook out of date with its source, and every notebook without one; 1 if any."""
    bad = 0
    for src in chosen:
        diff = difference(src, out_dir)
        if diff:
            bad += 1
            print(f"{src.name}: the notebook is out of date; run python tools/nbbuild.py {src.stem[:2]}")
            lines = diff.splitlines()
            more = [f"... ({len(lines) - SHOWN} more lines of differences)"] if len(lines) > SHOWN else []
            print("\n".join(lines[:SHOWN] + more))
    for nb in orphans(src_dir, out_dir):
        bad += 1
        print(f"{nb.name}: no source {src_dir.name}/{nb.stem}.py builds it; add the source or remove it")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lessons", nargs="*", help="lesson numbers, e.g. 01 (default: all)")
    ap.add_argument("--no-execute", action="store_true", help="only rebuild the cells")
    ap.add_argument("--check", action="store_true", help="exit 1 if a notebook is out of date")
    args = ap.parse_args(argv)
    chosen = sources()
    if args.lessons:
        chosen = [s for s in chosen if s.stem[:2] in args.lessons]
        unknown = sorted(set(args.lessons) - {s.stem[:2] for s in chosen})
        if unknown:
            ap.error(f"no lesson source for {', '.join(unknown)} in {SRC.relative_to(ROOT)}/")
    if args.check:
        return check(chosen)
    for s in chosen:
        path = build(s)
        if not args.no_execute:
            execute(path)
        print(f"built {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
