"""The package's structure: no import cycles, no module importing from a layer above its own, no module
over 600 lines. Imports under ``if TYPE_CHECKING:`` are for type checkers only and do not count; an
import inside a function does (it runs)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "replsim"

LAYERS = [
    ["errors", "validate"],
    ["log", "engine", "engine.sim", "engine.network", "engine.journal"],
    ["stores", "stores.base", "stores.kv", "stores.shipping", "stores.sqlite"],
    ["history.ops", "history.measures", "history.record", "history", "history.anomalies", "history.checks"],
    ["history.linearizability"],
    ["node.roles", "node.messages", "node.quorum", "node.stages"],
    ["node.serving", "node.leading", "node.commit"],
    ["node.replication", "node", "node.election", "node.sender"],
    ["clients.port", "clients.workload", "clients.client", "clients", "clients.policies"],
    ["view", "host", "control", "cluster"],
    ["failover"],
    ["dst.schedule", "dst.run", "dst.compare", "dst", "faults"],
    ["course.shop", "course.methods", "course.readers", "course.sessions", "course.geo"],
    ["course.split_brain", "course.elections", "course.sweep", "course"],
    ["judge.guard", "judge.rules", "judge.run", "judge"],
    ["lesson", "lab.binaries", "lab.cleanup", "lab.lag", "lab.postgres", "lab.notebook", "lab"],
    ["ui.words", "ui.style", "ui.scene"],
    ["ui.swimlane", "ui.figures", "ui.view"],
    ["ui.plots"],
    ["ui.panel"],
    ["ui.actions", "ui.course_actions", "ui.pg_panel", "ui"],
    [""],  # the package itself: the public API, gathered from everything below
]
"""From the bottom up: the engine, stores, log and history know no protocol (node); the protocol
knows no cluster, clients or course; checkers and schedules sit above the cluster; the course never
imports the UI; the UI is the only place for matplotlib and ipywidgets."""

TOO_LONG_FOR_NOW: set[str] = set()  # modules allowed over 600 lines while a split is under way

WIDGETS = ("matplotlib", "ipywidgets", "anywidget", "IPython")


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(name: str, typing: bool = False) -> tuple[set[str], set[str]]:
    """(replsim modules ``name`` imports at run time, third-party top-level packages it imports);
    ``typing``: with the imports for type checkers only, too."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "":
        package = []
    inside, outside = set(), set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child) and not typing:
                for c in child.orelse:
                    visit(c)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                elif child.module.split(".")[0] == "replsim":
                    target = child.module[len("replsim.") :] if child.module != "replsim" else ""
                else:
                    outside.add(child.module.split(".")[0])
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    inside.add(sub if sub in MODULES else target)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    top = alias.name.split(".")[0]
                    if top == "replsim":
                        inside.add(alias.name[len("replsim.") :] if alias.name != "replsim" else "")
                    else:
                        outside.add(top)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    inside.discard(name)
    return {m for m in inside if m in MODULES}, outside


GRAPH = {name: _imports(name)[0] for name in MODULES}
TYPED_GRAPH = {name: _imports(name, typing=True)[0] for name in MODULES}
LAYER = {m: i for i, layer in enumerate(LAYERS) for m in layer}


def test_every_module_has_a_layer():
    assert sorted(set(MODULES) - set(LAYER)) == []
    assert sorted(set(LAYER) - set(MODULES)) == []  # and the table names no module that is gone


@pytest.mark.parametrize("graph", [GRAPH, TYPED_GRAPH], ids=["run-time", "with-type-checking"])
def test_no_import_cycles(graph):
    """No cycles among the imports that run, nor once the imports for type checkers are added (a
    module that needs another's type only takes a Protocol of what it uses: see clients/port.py)."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles = []

    def walk(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(path[path.index(d) :] + [d] if d in path else [m, d])
            elif d not in state:
                walk(d, [*path, d])
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            walk(m, [m])
    assert cycles == []


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{m or 'replsim'} (layer {LAYER[m]}) imports {d} (layer {LAYER[d]})"
        for m in sorted(MODULES)
        for d in sorted(GRAPH[m])
        if LAYER[d] > LAYER[m]
    ]
    assert upward == []


def test_only_the_ui_imports_plotting_and_widgets():
    offenders = [
        f"{m} imports {sorted(set(_imports(m)[1]) & set(WIDGETS))}"
        for m in sorted(MODULES)
        if not m.startswith(("ui", "lab")) and m != "lesson" and set(_imports(m)[1]) & set(WIDGETS)
    ]
    assert offenders == []


def test_no_module_is_over_600_lines():
    over = sorted(m for m, p in MODULES.items() if len(p.read_text(encoding="utf-8").splitlines()) > 600)
    # the allow-list holds exactly the modules still too long: split one, and take it off the list
    assert over == sorted(TOO_LONG_FOR_NOW)


def test_the_package_and_its_metadata_give_one_version():
    import tomllib

    import replsim

    meta = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["version"] == replsim.__version__ == "0.3.0"
