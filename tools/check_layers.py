"""Do the layers hold?  ``python -m tools.check_layers`` (exit status 1 and a list if not).

Four rules, read from the source of ``training/``, ``ranking_app/`` and ``config/`` with ``ast``:

1. **No import cycle**, imports inside functions counted (deferring an import hides a cycle, it
   does not remove it). There is no exception.
2. **Selectors only read**: a selector module (every ``selectors.py`` and the read modules named in
   ``SELECTOR_MODULES``) calls no ``.save()``, ``.update()``,
   ``.create()``, ``.delete()``, ``bulk_*``, ``get_or_create``, ``update_or_create`` and no
   function of a services module (every ``services.py``, a ``services`` package, ``SERVICE_MODULES``;
   ``.update()`` counts when called with keywords only, as
   ``QuerySet.update`` is; ``dict.update`` and ``set.update`` take a positional argument).
3. **Nothing below the web layer imports the web layer**: services, selectors, models, the
   engine and the other core modules import no views, no template tags, no rank widget.
4. **The web process never imports torch**: a fresh interpreter runs ``django.setup()``, imports
   the module of every URL's view and every form, service and selector module, and must end
   without torch, transformers, peft, trl or datasets in ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("training", "ranking_app", "config")

WRITE_METHODS = frozenset({"save", "update", "create", "delete", "get_or_create", "update_or_create"})
HEAVY = ("torch", "transformers", "peft", "trl", "datasets")
WEB_PARTS = frozenset({"views", "templatetags"})
RANK_WIDGET = "ranking_app.rank_widget"
# Reads and writes that are not called selectors.py / services.py (a feature with more than one of each).
SELECTOR_MODULES = frozenset({
    "ranking_app.labeling.throughput", "ranking_app.review.agreement_read", "ranking_app.review.validated",
})
SERVICE_MODULES = frozenset({
    "ranking_app.ranking_store", "ranking_app.labeling.assignments", "ranking_app.labeling.queue_orders",
    "ranking_app.review.agreement_store", "ranking_app.exchange.exports", "ranking_app.exchange.imports",
})
# What the web runs besides importing: the job form's fields and their validation by the engine's rules,
# and the generation form's settings check.
WEB_CALLS = """
from training.services.job_config import config_build, config_field_help
config_field_help()
config_build(values={"model_name_or_path": "any/model"})
from training.engine.generate import GenerationSettings
GenerationSettings(model="any/model").errors()
"""
# Module name parts of the web layer and of entry points (they may import views and helpers).
ABOVE_CORE_PARTS = frozenset({
    "views", "templatetags", "api", "api_urls", "urls", "forms", "admin", "middleware",
    "context_processors", "management", "apps", "rank_widget", "migrations", "settings", "wsgi", "asgi", "outage",
})


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def project_modules(root: Path = ROOT, packages=PACKAGES) -> dict[str, Module]:
    """Every module of ``packages`` (migrations left out), by dotted name."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = Module(name, path)
    return modules


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_names(module: Module, tree: ast.AST) -> set[str]:
    """Every dotted name ``module`` imports, anywhere in its body (functions included)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def _parse(module: Module) -> ast.AST:
    return ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """module -> the project modules it imports (at module level or inside functions)."""
    modules = project_modules(root, packages)
    graph = {}
    for name, module in modules.items():
        targets = imported_names(module, _parse(module))
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other (Tarjan's algorithm), groups of one left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def cycle_problems(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for group in strongly_connected(graph):
        edges = [f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group]
        problems.append("import cycle among " + ", ".join(group) + " (" + "; ".join(edges) + ")")
    return problems


def is_selector(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last == "selectors" or name in SELECTOR_MODULES


def is_service(name: str) -> bool:
    return "services" in name.split(".") or name in SERVICE_MODULES


def _services_names(module: Module, tree: ast.AST) -> set[str]:
    """Local names bound to a services module or to a function imported from one."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                if is_service(source) or is_service(f"{source}.{alias.name}"):
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            names.update(alias.asname or alias.name for alias in node.names if is_service(alias.name))
    return names


def _call_root(func: ast.expr) -> str | None:
    while isinstance(func, ast.Attribute):
        func = func.value
    return func.id if isinstance(func, ast.Name) else None


def selector_writes(module: Module, tree: ast.AST | None = None) -> list[str]:
    """Where a selector module writes: ``path:line what``."""
    tree = tree or _parse(module)
    services = _services_names(module, tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else None
        where = f"{_shown(module.path)}:{node.lineno}"
        if method == "update" and node.args:
            continue  # dict.update / set.update
        if method and (method in WRITE_METHODS or method.startswith("bulk_")):
            found.append(f"{where} calls .{method}()")
        elif _call_root(func) in services:
            found.append(f"{where} calls the service {ast.unparse(func)}()")
    return found


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def is_below_web(name: str) -> bool:
    return not (set(name.split(".")) & ABOVE_CORE_PARTS)


def is_web_helper(name: str) -> bool:
    return name == RANK_WIDGET or name.startswith(RANK_WIDGET + ".") or bool(set(name.split(".")) & WEB_PARTS)


def layer_problems(graph: dict[str, set[str]], modules: dict[str, Module]) -> list[str]:
    problems = []
    for name in sorted(graph):
        if is_selector(name):
            problems += [f"selector writes: {where}" for where in selector_writes(modules[name])]
        if is_below_web(name):
            for target in sorted(graph[name]):
                if is_web_helper(target):
                    problems.append(f"{name} (below the web layer) imports {target}")
    return problems


# Runs in a fresh interpreter: records who first imported a heavy package, then imports the web.
WEB_IMPORTS = r"""
import importlib, json, sys, traceback
import django
HEAVY = set(sys.argv[1].split(","))
first = {}
class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in first:
            here = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack()
                    if "/importlib/" not in f.filename and "<frozen" not in f.filename][:-1]
            first[name] = [line for line in here if "site-packages" not in line][-6:]
        return None
sys.meta_path.insert(0, Recorder())
django.setup()
from django.urls import get_resolver
def views(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from views(pattern.url_patterns)
        else:
            callback = pattern.callback
            yield getattr(callback, "view_class", getattr(callback, "cls", callback)).__module__
names = set(views(get_resolver().url_patterns)) | set(sys.argv[2].split(","))
for name in sorted(names):
    importlib.import_module(name)
exec(sys.argv[3])
print(json.dumps({"imported": sorted(names), "heavy": {n: first.get(n, []) for n in HEAVY if n in sys.modules}}))
"""


def web_modules(modules: dict[str, Module]) -> list[str]:
    """Forms, services and selectors the web calls (the URL walk adds every view module)."""
    wanted = ("forms", "services", "selectors")
    return sorted(
        name for name in modules
        if set(name.split(".")) & set(wanted) or is_selector(name) or is_service(name)
        if not name.startswith("training.engine")
    )


def web_heavy_problems(modules: dict[str, Module], *, also: tuple[str, ...] = ()) -> list[str]:
    """What the web process imports of ``HEAVY`` (``also``: more modules to import, for tests)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    run = subprocess.run(
        [sys.executable, "-c", WEB_IMPORTS, ",".join(HEAVY), ",".join([*web_modules(modules), *also]), WEB_CALLS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    if run.returncode:
        return [f"importing the web failed:\n{run.stderr[-3000:]}"]
    heavy = json.loads(run.stdout.strip().splitlines()[-1])["heavy"]
    return [
        f"the web process imports {name}, first through: " + " <- ".join(
            line.replace(f"{ROOT}/", "") for line in reversed(chain)
        )
        for name, chain in sorted(heavy.items())
    ]


def check(root: Path = ROOT, *, web: bool = True) -> list[str]:
    modules = project_modules(root)
    graph = import_graph(root)
    problems = cycle_problems(graph) + layer_problems(graph, modules)
    return problems + (web_heavy_problems(modules) if web else [])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    problems = check(web="--no-web" not in argv)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
