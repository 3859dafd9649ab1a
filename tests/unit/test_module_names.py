"""No two modules share a file name unless they hold the same role in sibling features.

A newcomer who reads ``agreement.py`` or ``exports.py`` in a traceback should know which file it
is. Names that repeat on purpose are roles every feature package may have (``services.py`` writes,
``selectors.py`` reads, ``views.py``, ...); everything else is unique in the project.
"""

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = frozenset({".venv", ".git", "node_modules", "migrations", "__pycache__"})

# Roles a feature package (or a test area) may repeat, each for the same job in every place.
ROLE_NAMES = frozenset({
    "__init__.py", "__main__.py", "conftest.py",
    "models.py", "admin.py", "apps.py", "urls.py", "views.py", "forms.py", "api.py",
    "services.py", "selectors.py", "tasks.py",
    "run.py",  # the worker's run of a feature's background job (compare, generation, judging)
    "base.py",  # what the sibling modules extend (settings/base.py, launchers/base.py)
    "factories.py", "test_views.py",  # a test area's model factories and its pages' tests
})


def _in_project(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    if SKIPPED_DIRS & set(parts):
        return False
    # A management command's file name is the command people type (``manage.py agreement``).
    return parts[-3:-1] != ("management", "commands")


def module_paths_by_name(root: Path = ROOT) -> dict[str, list[str]]:
    found = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        if _in_project(path, root):
            found[path.name].append(str(path.relative_to(root)))
    return found


def test_no_two_modules_share_a_name_unless_it_is_a_role():
    shared = {
        name: paths for name, paths in module_paths_by_name().items()
        if len(paths) > 1 and name not in ROLE_NAMES
    }
    assert shared == {}, "modules with different jobs share a name; rename one (or add a true role to ROLE_NAMES)"


def test_a_shared_name_is_found_and_a_role_or_a_command_is_not(tmp_path):
    for name in ("a/agreement.py", "b/services/agreement.py", "a/services.py", "b/services.py",
                 "a/management/commands/export.py", "b/export.py", ".venv/lib/export2.py", "b/export2.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = {name: paths for name, paths in module_paths_by_name(tmp_path).items() if len(paths) > 1}
    assert found == {
        "agreement.py": ["a/agreement.py", "b/services/agreement.py"],
        "services.py": ["a/services.py", "b/services.py"],
    }
