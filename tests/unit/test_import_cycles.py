"""No import cycle among the modules of training/ and ranking_app/ (module-level imports).

A cycle makes the import order matter (a module sees its partner half-initialised) and ties
layers together that should depend one way: the graph is built from the source with ``ast``.
Imports inside functions are left out: deferring an import is how a module breaks a cycle.
"""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("training", "ranking_app")


def module_files(root: Path = ROOT, packages=PACKAGES) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The known modules ``module`` imports at module level (``from pkg import submodule`` included)."""
    targets = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:  # top level only, not inside functions
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, path.name == "__init__.py", node)
            targets.add(source)
            targets.update(f"{source}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != module}


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """module -> the modules it imports at module level."""
    modules = module_files(root, packages)
    return {module: imported(module, path, set(modules)) for module, path in modules.items()}


def test_the_import_graph_is_read_from_the_source():
    graph = import_graph()
    assert "training.services.jobs" in graph["training.runner"]
    assert "training.tasks" in graph["training.services.jobs"]
    assert "training.compare.views" in graph["training.compare.urls"]  # from . import views
    assert "training.models" in graph["training.compare.services"]  # from ..models import ...


def test_a_module_level_cycle_is_found_and_a_deferred_import_is_not_one(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from ..a import x\n")
    assert import_graph(tmp_path, ["pkg"])["pkg.a"] == {"pkg.sub", "pkg.sub.b"}
    TopologicalSorter(import_graph(tmp_path, ["pkg"])).prepare()  # the deferred import makes no cycle
    (package / "sub" / "b.py").write_text("import pkg.a\n")
    with pytest.raises(CycleError):
        TopologicalSorter(import_graph(tmp_path, ["pkg"])).prepare()


def test_no_import_cycle_among_training_and_ranking_app_modules():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
