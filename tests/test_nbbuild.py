"""tools/nbbuild.py: notebooks are built from lessons/ with jupytext, and an out-of-date one is caught."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("nbbuild", ROOT / "tools" / "nbbuild.py")
nbbuild = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbbuild)

SOURCES = nbbuild.sources()


@pytest.fixture
def lesson(tmp_path):
    """A copy of lesson 1's source and committed notebook, in lessons/ and notebooks/ of a temporary tree."""
    src_dir, out_dir = tmp_path / "lessons", tmp_path / "notebooks"
    src_dir.mkdir()
    out_dir.mkdir()
    src = shutil.copy(nbbuild.SRC / "01_news_anchor.py", src_dir)
    shutil.copy(nbbuild.OUT / "01_news_anchor.ipynb", out_dir)
    return pathlib.Path(src), out_dir


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    assert [nbbuild.notebook_for(s).name for s in SOURCES] == sorted(
        p.name for p in nbbuild.OUT.glob("[0-9][0-9]_*.ipynb")
    )
    assert nbbuild.orphans() == []


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_the_committed_notebook_is_its_source(src):
    assert nbbuild.difference(src) == "", f"run python tools/nbbuild.py {src.stem[:2]}"


def test_a_changed_source_makes_the_check_fail(lesson, capsys):
    src, out_dir = lesson
    assert nbbuild.check([src], src.parent, out_dir) == 0
    src.write_text(src.read_text().replace("Storm warning for the coast", "Storm warning inland", 1))
    assert nbbuild.check([src], src.parent, out_dir) == 1
    said = capsys.readouterr().out
    assert "01_news_anchor.py: the notebook is out of date" in said
    assert '+studio.write("headline", "Storm warning inland")' in said


def test_a_changed_tag_makes_the_check_fail(lesson):
    src, out_dir = lesson
    src.write_text(src.read_text().replace('# %% tags=["nbval-ignore-output"]', "# %%", 1))
    assert "nbval-ignore-output" in nbbuild.difference(src, out_dir)


def test_outputs_ids_and_run_metadata_do_not_count(lesson):
    """What a run, an editor or another jupytext version adds to a notebook is not out of date."""
    src, out_dir = lesson
    path = nbbuild.notebook_for(src, out_dir)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["jupytext"] = {"text_representation": {"jupytext_version": "0.0.1"}}
    nb.metadata["language_info"] = {"name": "python", "version": "3.99.0"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"other-{i}"
        cell.metadata.update({"scrolled": True, "collapsed": False, "execution": {"t": "2001-01-01"}})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)
    assert nbbuild.difference(src, out_dir) == ""


def test_a_notebook_without_a_source_or_a_source_without_a_notebook_fails(lesson, capsys):
    src, out_dir = lesson
    shutil.copy(out_dir / "01_news_anchor.ipynb", out_dir / "02_old_name.ipynb")
    assert nbbuild.check([src], src.parent, out_dir) == 1
    assert "02_old_name.ipynb: no source lessons/02_old_name.py builds it" in capsys.readouterr().out
    (out_dir / "02_old_name.ipynb").unlink()
    (out_dir / "01_news_anchor.ipynb").unlink()
    assert nbbuild.difference(src, out_dir) == "01_news_anchor.ipynb does not exist"


def test_a_build_keeps_cells_tags_and_stable_ids_and_fixed_metadata(lesson):
    src, out_dir = lesson
    committed = nbformat.read(nbbuild.notebook_for(src, out_dir), as_version=4)
    built = nbformat.read(nbbuild.build(src, out_dir), as_version=4)
    assert [(c.cell_type, c.source, c.metadata.get("tags")) for c in built.cells] == [
        (c.cell_type, c.source, c.metadata.get("tags")) for c in committed.cells
    ]
    assert [c.id for c in built.cells] == [c.id for c in committed.cells]
    assert built.metadata == nbbuild.METADATA  # no jupytext or version numbers to drift
    assert nbbuild.difference(src, out_dir) == ""


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.name)
def test_the_committed_notebook_is_stored_as_the_courses_jupyterlab_saves_it(src):
    """Bytes of the committed notebook == the course's form of it (tools/notebook_form.py), so that the
    pre-save hook of `make course` writes back exactly these bytes when a learner only reads."""
    path = nbbuild.notebook_for(src)
    nb = nbformat.read(path, as_version=4)
    assert nbformat.writes(nbbuild.normalise(nb)) + "\n" == path.read_text(), (
        f"{path.name} is not in the course's form: run python tools/nbbuild.py {src.stem[:2]}"
    )


def test_a_folded_output_is_stored_as_jupyterlab_stores_it():
    """JupyterLab writes a folded output as ``collapsed`` too; the normal form does the same, so a save
    by JupyterLab changes nothing (and an unfolded one loses ``collapsed``)."""
    nb = nbformat.v4.new_notebook()
    folded = nbformat.v4.new_code_cell("1", metadata={"jupyter": {"outputs_hidden": True}})
    shown = nbformat.v4.new_code_cell("2", metadata={"collapsed": True})
    nb.cells = [folded, shown, nbformat.v4.new_markdown_cell("text")]
    nbbuild.normalise(nb)
    assert folded.metadata["collapsed"] is True
    assert "collapsed" not in shown.metadata
    assert "collapsed" not in nb.cells[2].metadata


def test_printed_outputs_are_stored_as_jupyterlab_shows_and_saves_them():
    """Consecutive outputs of one stream become one, with ``\\r`` and ``\\b`` applied, as JupyterLab
    joins them when it opens a notebook (so its save changes nothing); other outputs split runs."""
    nb = nbformat.v4.new_notebook()
    stream = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("judge()")
    cell.outputs = [
        stream("stream", name="stdout", text="\rjudging: 100/1000"),
        stream("stream", name="stdout", text="\rjudging: 1000/1000"),
        stream("stream", name="stdout", text="\n1000 judged\nab\bc\n"),
        stream("stream", name="stderr", text="warning\n"),
        stream("display_data", data={"text/plain": "x"}),
        stream("stream", name="stderr", text="again\n"),
    ]
    nb.cells = [cell]
    nbbuild.normalise(nb)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs] == [
        ("stream", "stdout", "judging: 1000/1000\n1000 judged\nac\n"),
        ("stream", "stderr", "warning\n"),
        ("display_data", None, None),
        ("stream", "stderr", "again\n"),
    ]
