"""``python manage.py seed_demo``: demo users, the demo project and the real-data projects.

Idempotent: whatever already exists (a user, a project with the same slug) is left exactly as it
is, and a second run says that nothing changed. ``make run`` calls it on every start.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from ranking_app import demo_data, real_data
from ranking_app.models import Project, Prompt, Ranking, Response
from ranking_app.roles import ADMIN, LABELER, REVIEWER
from ranking_app.services.imports import rankings_import
from ranking_app.services.rankings import ranking_save

DEMO_SLUG = "demo"


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
DEMO_ANNOTATORS = ("labeler1", "labeler2", "labeler3")

REAL_PROJECTS = {
    "lamp": dict(
        name="LAMP: AI-generated vs edited creative writing (real data)",
        target_annotators=3,
        guidelines=(
            "Real rankings from the LAMP study (Chakrabarty, Laban, Wu, CHI 2025; "
            "salesforce/creativity_eval, BSD-3-Clause). Each prompt has three versions of one "
            "piece of writing: AI-generated, AI-edited and human-edited. Rank them by writing "
            "quality: vivid, specific, free of cliches and purple prose. Each prompt was ranked "
            "by three of the 13 annotators named in the data. See `data/real/SOURCES.md`."
        ),
    ),
    "oasst": dict(
        name="OpenAssistant: ranked assistant replies (real data)",
        target_annotators=1,
        guidelines=(
            "Real rankings from OpenAssistant OASST1 (LAION-AI/Open-Assistant, Apache-2.0): "
            "3-9 assistant replies to the same conversation. The ranking stored as annotator "
            "`oasst` is OASST1's merged ranking of several volunteers' votes. Rank by "
            "helpfulness, correctness and harmlessness. See `data/real/SOURCES.md`."
        ),
    ),
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
    """Create the demo project with its prompts, responses and rankings, unless it exists."""
    if Project.objects.filter(slug=DEMO_SLUG).exists():
        return []
    User = get_user_model()
    admin = User.objects.filter(username="admin").first()
    project = Project.objects.create(
        name="Demo: assistant answers",
        slug=DEMO_SLUG,
        guidelines=demo_data.GUIDELINES,
        target_annotators=3,
        allow_ties=True,
        allow_partial=True,
        created_by=admin,
    )
    prompts = demo_data.demo_prompts()
    stored = _demo_prompts_create(project, prompts)
    annotations = demo_data.demo_annotations(prompts)
    annotators = [User.objects.get(username=name) for name in DEMO_ANNOTATORS]
    n_rankings = 0
    for external_id, by_annotator in annotations.rankings.items():
        prompt = stored[external_id]
        for index, tiers in by_annotator.items():
            ranking_save(
                prompt=prompt,
                annotator=annotators[index],
                tiers=tiers,
                status=Ranking.Status.SUBMITTED,
                time_spent_ms=demo_data.annotation_seconds(external_id, index) * 1000,
                source="seed",
            )
            n_rankings += 1
    for external_id, tiers in annotations.gold.items():
        Prompt.objects.filter(pk=stored[external_id].pk).update(gold_tiers=tiers)
    return [
        f"created project {DEMO_SLUG!r}: {len(prompts)} prompts x 4 responses, {n_rankings} rankings "
        f"by {', '.join(DEMO_ANNOTATORS)}, {len(annotations.gold)} gold prompts"
    ]


def _demo_prompts_create(project: Project, prompts: list[demo_data.DemoPrompt]) -> dict[str, Prompt]:
    rows = Prompt.objects.bulk_create(
        Prompt(
            project=project,
            external_id=p.external_id,
            text=p.item.prompt,
            split=p.split,
            metadata={"dataset": "demo", "category": p.item.category},
        )
        for p in prompts
    )
    Response.objects.bulk_create(
        Response(prompt=row, position=position, text=text, source="demo")
        for row, p in zip(rows, prompts, strict=True)
        for position, text in enumerate(p.responses)
    )
    for row in rows:
        row._response_count = 4
    return {row.external_id: row for row in rows}


def real_projects_ensure() -> list[str]:
    """Import the shipped LAMP and OASST copies as projects, unless they exist or are missing."""
    changes = []
    for slug, fields in REAL_PROJECTS.items():
        if Project.objects.filter(slug=slug).exists():
            continue
        records = real_data.shipped_records(slug)
        if records is None:
            changes.append(f"skipped project {slug!r}: {real_data.shipped_path(slug)} not found")
            continue
        with transaction.atomic():
            project = Project.objects.create(slug=slug, allow_ties=True, allow_partial=True, **fields)
            report = rankings_import(project=project, records=records, source=slug)
        changes.append(f"created project {slug!r} from data/real/{slug}.jsonl: {report}")
    return changes
