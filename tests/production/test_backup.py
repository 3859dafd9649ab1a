"""docs/backup.md, run: `dumpdata` of a populated database, `migrate` + `loaddata` into a fresh one,
and every ranking with every revision is there, identical (SQLite; a fresh PostgreSQL database when
DATABASE_URL names one, as in make test's second run)."""

import json
import os
import subprocess
import sys

import pytest

from .server import REPO, fresh_database_url

pytestmark = pytest.mark.slow
BACKUP_EXCLUDES = ["contenttypes", "auth.permission", "sessions", "admin.logentry", "axes"]

SEED = """
from django.contrib.auth.models import User
from ranking_app.models import Project, Prompt, Response
from ranking_app.exchange.exports import export_create
from ranking_app.exchange.imports import rankings_import
from ranking_app.ranking_store import ranking_save

project = Project.objects.create(name="Backup", slug="backup", target_annotators=2)
rankings_import(project=project, records=[
    {"id": "p-%d" % p, "prompt": "Prompt %d?" % p, "responses": ["a", "b", "c"],
     "annotations": [{"annotator": "vendor", "rankings": [1, 2, 3]}]} for p in range(20)])
alice = User.objects.create_user("alice", password="pw-123456")
for prompt in project.prompts.all()[:10]:
    ranking = ranking_save(prompt=prompt, annotator=alice, tiers=[[0]], status="draft")
    ranking = ranking_save(prompt=prompt, annotator=alice, tiers=[[2], [0, 1]], status="submitted", expected_version=1)
export_create(project=project, format="jsonl", validated_only=False)
"""

SNAPSHOT = """
import json
from ranking_app.models import Ranking, ExportSnapshot
rows = sorted(
    [r.prompt.external_id, r.annotator.username, r.version, r.status, r.tiers, r.source,
     sorted([v.version, v.tiers, v.status, v.source, v.changed_by.username if v.changed_by else None]
            for v in r.revisions.all())]
    for r in Ranking.objects.select_related("prompt", "annotator"))
print(json.dumps({"rankings": rows, "exports": list(ExportSnapshot.objects.values_list("sha256", flat=True))}))
"""


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def environment(root) -> dict:
    root.mkdir()
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "GRPO_DATA_DIR": str(root),
            "DATABASE_URL": fresh_database_url(root), "LOG_LEVEL": "WARNING"}  # fmt: skip


def test_a_dump_restored_into_a_fresh_database_has_every_ranking_and_revision(tmp_path):
    live, fresh = environment(tmp_path / "live"), environment(tmp_path / "fresh")
    manage(live, "migrate", "--noinput")
    manage(live, "shell", "-c", SEED)
    backup = tmp_path / "grpo-backup.json.gz"
    manage(live, "dumpdata", "--natural-foreign", "--natural-primary",
           *[f"--exclude={name}" for name in BACKUP_EXCLUDES], "-o", str(backup))  # fmt: skip
    manage(fresh, "migrate", "--noinput")
    manage(fresh, "loaddata", str(backup))
    before = json.loads(manage(live, "shell", "-c", SNAPSHOT).splitlines()[-1])
    after = json.loads(manage(fresh, "shell", "-c", SNAPSHOT).splitlines()[-1])
    assert after == before
    assert len(before["rankings"]) == 30 and len(before["exports"]) == 1
    alice = [row for row in before["rankings"] if row[1] == "alice"]
    assert all(row[2] == 2 and len(row[6]) == 2 for row in alice)  # both revisions of each edit survive
    manage(fresh, "shell", "-c", "from django.contrib.auth import authenticate; from django.test import RequestFactory;"
           "assert authenticate(RequestFactory().post('/'), username='alice', password='pw-123456')")
