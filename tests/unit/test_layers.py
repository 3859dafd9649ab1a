"""The layers hold (``python -m tools.check_layers``): no import cycle with imports inside functions
counted, selectors that only read, nothing below the web importing it, no torch in the web process.

The checker is tested on small packages written here, then run on the project, where it must find
nothing (no cycle is allowed).
"""

import pytest

from tools import check_layers
from tools.check_layers import Module, cycle_problems, import_graph, layer_problems, project_modules, selector_writes


def _package(tmp_path, files: dict[str, str]):
    for name, text in {"pkg/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    return import_graph(tmp_path, ["pkg"])


def test_the_import_graph_is_read_from_the_source():
    graph = import_graph()
    assert "training.compare.views" in graph["training.compare.urls"]  # from . import views
    assert "training.models" in graph["training.compare.services"]  # from ..models import ...
    assert "training.engine.generate" in graph["training.generation.services"]


def test_an_import_inside_a_function_makes_a_cycle(tmp_path):
    graph = _package(tmp_path, {"pkg/a.py": "from .sub import b\n", "pkg/sub/b.py": "def f():\n    from ..a import x\n"})
    assert graph["pkg.a"] == {"pkg.sub", "pkg.sub.b"} and "pkg.a" in graph["pkg.sub.b"]
    [problem] = cycle_problems(graph)
    assert "pkg.a, pkg.sub.b" in problem and "pkg.sub.b -> pkg.a" in problem


@pytest.mark.parametrize("call, found", [
    ("Ranking.objects.filter(pk=1).update(status='x')", ".update()"),
    ("row.save()", ".save()"),
    ("Ranking.objects.bulk_create([])", ".bulk_create()"),
    ("Ranking.objects.get_or_create(pk=1)", ".get_or_create()"),
    ("agreement_current(project=p)", "the service agreement_current()"),
    ("agreement.agreement_current(project=p)", "the service agreement.agreement_current()"),
])  # fmt: skip
def test_a_selector_that_writes_is_found(tmp_path, call, found):
    path = tmp_path / "selectors.py"
    path.write_text(
        "from .services.agreement import agreement_current\nfrom .services import agreement\n"
        f"def read(p, row, counts):\n    counts.update({{1: 2}})\n    seen = set()\n    seen.update((1, 2))\n    {call}\n"
    )
    [problem] = selector_writes(Module("pkg.selectors", path))
    assert problem.endswith(f":7 calls {found}")  # dict.update / set.update are not writes


def test_a_core_module_importing_the_web_is_found(tmp_path):
    files = {"ranking_app/selectors_x.py": "from .rank_widget import card_label\n", "ranking_app/rank_widget.py": "",
             "ranking_app/views.py": "from .rank_widget import card_label\n",
             "ranking_app/services/a.py": "def f():\n    from ..templatetags import grpo\n",
             "ranking_app/templatetags/grpo.py": ""}  # fmt: skip
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        ((tmp_path / name).parent / "__init__.py").touch()
        (tmp_path / name).write_text(text)
    modules = project_modules(tmp_path, ["ranking_app"])
    problems = layer_problems(import_graph(tmp_path, ["ranking_app"]), modules)
    assert problems == [
        "ranking_app.selectors_x (below the web layer) imports ranking_app.rank_widget",
        "ranking_app.services.a (below the web layer) imports ranking_app.templatetags",
        "ranking_app.services.a (below the web layer) imports ranking_app.templatetags.grpo",
    ]  # the view may import the widget


def test_torch_reaching_the_web_process_is_found_with_the_line_that_pulled_it():
    problems = check_layers.web_heavy_problems(project_modules(), also=("training.engine.config",))
    assert any(p.startswith("the web process imports transformers, first through: training/engine/config.py:")
               for p in problems), problems


def test_the_layers_hold():
    assert check_layers.check() == []
