"""``python manage.py seed_demo``: demo users, the demo project and the real-data projects.

Idempotent: whatever already exists (a user, a project with the same slug) is left exactly as it
is, and a second run says that nothing changed. ``make run`` calls it on every start.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from ranking_app import real_data
from ranking_app.exchange.imports import rankings_import
from ranking_app.exchange.jsonl import read_exchange_file
from ranking_app.models import Project, Prompt
from ranking_app.projects.services import project_create
from ranking_app.ranking import ranks_to_tiers
from ranking_app.review.services import prompt_gold_set
from ranking_app.roles import ADMIN, LABELER, REVIEWER

DEMO_SLUG = "demo"
DEMO_DIR = Path(__file__).resolve().parents[3] / "data" / "demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    note: str


# Fixed passwords: for the local demo only, never for a server anyone else can reach.
DEMO_USERS = (
    DemoUser("labeler1", LABELER, "labeler1-demo", "has ranked most demo prompts"),
    DemoUser("labeler2", LABELER, "labeler2-demo", "has ranked most demo prompts"),
    DemoUser("labeler3", LABELER, "labeler3-demo", "has ranked most demo prompts"),
    DemoUser("labeler4", LABELER, "labeler4-demo", "new labeler, nothing ranked yet"),
    DemoUser("reviewer", REVIEWER, "reviewer-demo", "agreement, review queue, adjudication"),
    DemoUser("admin", ADMIN, "admin-demo", "projects, import/export, training, /admin/"),
)

# slug -> (name, target annotators); the guidelines are data/real/<slug>.guidelines.md
REAL_PROJECTS = {
    "lamp": ("LAMP: AI-generated vs edited creative writing (real data)", 3),
    "oasst": ("OpenAssistant: ranked assistant replies (real data)", 1),
}


class Command(BaseCommand):
    help = "Create demo users, the demo project and the real-data projects (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--no-real", action="store_true", help="skip the LAMP and OASST projects")

    def handle(self, *args, no_real: bool = False, **options):
        changes = demo_users_ensure()
        changes += demo_project_ensure()
        if not no_real:
            changes += real_projects_ensure()
        for line in changes:
            self.stdout.write(line)
        if not changes:
            self.stdout.write("seed_demo: nothing changed (demo users and projects were already in place).")
        self.stdout.write(login_box())


def login_box() -> str:
    rows = [f"{u.username:<10} {u.password:<15} {u.role:<9} {u.note}" for u in DEMO_USERS]
    title = "Demo logins (FOR THE LOCAL DEMO ONLY: change or delete these accounts on a shared server)"
    header = f"{'username':<10} {'password':<15} {'role':<9} what to try"
    footer = "Accounts that existed before seed_demo ran keep their own passwords."
    lines = [title, "", header, *rows, "", footer]
    width = max(len(line) for line in lines)
    border = "+" + "-" * (width + 2) + "+"
    return "\n".join([border, *(f"| {line:<{width}} |" for line in lines), border])


def demo_users_ensure() -> list[str]:
    """Create missing demo users; existing ones (and their passwords) are left alone."""
    User = get_user_model()
    existing = {u.username: u for u in User.objects.filter(username__in=[s.username for s in DEMO_USERS])}
    missing = [spec for spec in DEMO_USERS if spec.username not in existing]
    # Password hashing dominates a first run (PBKDF2 releases the GIL, so hash in parallel).
    with ThreadPoolExecutor(max_workers=len(DEMO_USERS)) as pool:
        encoded = list(pool.map(make_password, [spec.password for spec in missing]))
    hashes = {spec.username: password for spec, password in zip(missing, encoded, strict=True)}
    changes = []
    for spec in DEMO_USERS:
        user = existing.get(spec.username)
        if user is None:
            is_admin = spec.role == ADMIN
            user = User.objects.create(
                username=spec.username, password=hashes[spec.username], is_staff=is_admin, is_superuser=is_admin
            )
            changes.append(f"created user {spec.username} (role {spec.role})")
        group, _ = Group.objects.get_or_create(name=spec.role)
        if not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
            if spec.username in existing:
                changes.append(f"added {spec.username} to group {spec.role}")
    return changes


@transaction.atomic
def demo_project_ensure() -> list[str]:
    """Create the demo project from ``data/demo/`` through the importer, unless it exists."""
    if Project.objects.filter(slug=DEMO_SLUG).exists():
        return []
    admin = get_user_model().objects.filter(username="admin").first()
    project = project_create(
        slug=DEMO_SLUG,
        name="Demo: assistant answers",
        guidelines=(DEMO_DIR / "guidelines.md").read_text(encoding="utf-8"),
        target_annotators=3,
        created_by=admin,
    )
    report = rankings_import(project=project, records=read_exchange_file(DEMO_DIR / "prompts.jsonl"), source="seed")
    gold = read_exchange_file(DEMO_DIR / "gold.jsonl")
    prompts = {p.external_id: p for p in Prompt.objects.filter(project=project, external_id__in=[g["id"] for g in gold])}
    for record in gold:
        prompt = prompts[record["id"]]
        prompt_gold_set(prompt=prompt, tiers=ranks_to_tiers(record["rankings"]), user=admin)
    return [f"created project {DEMO_SLUG!r} from data/demo/prompts.jsonl: {report}, {len(gold)} gold prompts"]


def real_projects_ensure() -> list[str]:
    """Import the shipped LAMP and OASST copies as projects, unless they exist or are missing."""
    changes = []
    for slug, (name, target) in REAL_PROJECTS.items():
        if Project.objects.filter(slug=slug).exists():
            continue
        records = real_data.shipped_records(slug)
        if records is None:
            changes.append(f"skipped project {slug!r}: {real_data.shipped_path(slug)} not found")
            continue
        with transaction.atomic():
            project = project_create(
                slug=slug, guidelines=real_data.shipped_guidelines(slug), target_annotators=target, name=name
            )
            report = rankings_import(project=project, records=records, source=slug)
        changes.append(f"created project {slug!r} from data/real/{slug}.jsonl: {report}")
    return changes
