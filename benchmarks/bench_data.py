"""Large synthetic projects for the benchmarks, written straight into the database.

``build_benchmark_project()`` makes a project of ``n_prompts`` x ``k`` responses ranked by
``annotators`` annotators in a few seconds (bulk inserts, no per-row service calls), so the
labeling and agreement benchmarks measure the app and not the set-up. Run it directly to time it:

    python -m benchmarks.bench_data [--n-prompts 10000] [--k 4] [--annotators 3] [--slug bench]

What is in the project (all deterministic for a given ``seed``):

* users ``<slug>-a0`` .. ``<slug>-a{annotators-1}`` (group labeler) who made the rankings, plus
  ``<slug>-labeler`` (a labeler with no rankings yet), ``<slug>-reviewer`` and ``<slug>-admin``,
  all with password :data:`BENCH_PASSWORD`;
* every prompt has a hidden true order of its responses; each annotator ranks them by true
  quality plus Gaussian noise, so annotators mostly agree and sometimes swap neighbours; about
  10% of rankings contain a tie and about 5% leave the worst response unranked (partial);
* every 20th prompt (external ids ending in ``9`` with an odd tens digit, i.e. index % 20 == 19)
  has fewer than ``annotators`` submitted rankings, so a labeling queue has work;
* one submitted :class:`~ranking_app.models.RankingRevision` per ranking (version 1), as the
  ranking service would have written;
* prompts split 80% train / 20% test.

The project is recreated on every call (an existing project with the same slug is deleted first),
so a benchmark always starts from the same state.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import timedelta

import django
from django.apps import apps

if not apps.ready:  # run as a script: ``python -m benchmarks.bench_data``
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from ranking_app.models import Project, Prompt, Ranking, RankingRevision, Response  # noqa: E402
from ranking_app.projects.services import project_create  # noqa: E402

BENCH_PASSWORD = "bench-pass-123"
BATCH = 2000

_TOPICS = (
    "caching", "database indexes", "photosynthesis", "compound interest", "unit tests",
    "the French revolution", "sourdough bread", "binary search", "vaccines", "solar panels",
    "garbage collection", "plate tectonics", "negotiating a salary", "regular expressions",
)
_SENTENCES = (
    "It works by keeping the most useful information close to where it is needed.",
    "The main trade-off is between speed and the amount of memory it uses.",
    "A common mistake is to apply it everywhere instead of measuring first.",
    "In practice you start small, check the result, and then widen the scope.",
    "The history of the idea goes back further than most people assume.",
    "Here is a short example that shows the core steps in order.",
    "Each step depends on the previous one, so the order matters.",
    "If something goes wrong, the error message usually names the cause.",
    "Experts disagree on the details, but the broad picture is well established.",
    "The result is easier to maintain and to explain to a newcomer.",
)


def _response_text(rng: random.Random, topic: str, quality: int, k: int) -> str:
    """Markdown of a length that grows with quality (best answers are longer and structured).

    2-4 sentences for the worst response up to 10-12 for the best, whatever ``k`` is, so a
    K = 50 project stays a realistic size."""
    n = 2 + round(8 * (k - 1 - quality) / (k - 1)) + rng.randrange(3)
    body = " ".join(rng.choice(_SENTENCES) for _ in range(n))
    if quality == 0:
        steps = "\n".join(f"{i}. {rng.choice(_SENTENCES)}" for i in range(1, 4))
        return f"**{topic.capitalize()}** in brief.\n\n{body}\n\n{steps}\n\n```python\nresult = solve({topic!r})\n```"
    return f"{topic.capitalize()}: {body}"


def _annotator_tiers(rng: random.Random, k: int) -> list[list[int]]:
    """One annotator's ranking: true quality (= position order below) plus noise, some ties/partials."""
    scores = [(position + rng.gauss(0.0, 0.45), position) for position in range(k)]
    order = [position for _, position in sorted(scores)]
    tiers = [[position] for position in order]
    if k >= 3 and rng.random() < 0.10:  # a tie between two neighbouring tiers
        i = rng.randrange(len(tiers) - 1)
        tiers[i : i + 2] = [sorted(tiers[i] + tiers[i + 1])]
    if k >= 3 and len(tiers) >= 3 and rng.random() < 0.05:  # the worst left unranked
        tiers.pop()
    return tiers


def _users(slug: str, annotators: int) -> tuple[list[User], list[User]]:
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("labeler", "reviewer", "admin")}
    password = make_password(BENCH_PASSWORD)
    wanted = [(f"{slug}-a{i}", "labeler") for i in range(annotators)]
    wanted += [(f"{slug}-labeler", "labeler"), (f"{slug}-reviewer", "reviewer"), (f"{slug}-admin", "admin")]
    users = []
    for username, role in wanted:  # one hash for all; checking each stored one would cost a hash each
        user, created = User.objects.update_or_create(username=username, defaults={"password": password})
        user.groups.add(groups[role])
        users.append(user)
    return users[:annotators], users[annotators:]


def _prompts(project: Project, rng: random.Random, n_prompts: int) -> list[Prompt]:
    rows = []
    for p in range(n_prompts):
        topic = _TOPICS[p % len(_TOPICS)]
        rows.append(
            Prompt(
                project=project,
                external_id=f"{project.slug}-{p:06d}",
                text=f"Prompt {p}: explain {topic} to a colleague, with one concrete example.",
                split=Prompt.Split.TEST if rng.random() < 0.2 else Prompt.Split.TRAIN,
                metadata={"topic": topic, "index": p},
            )
        )
    return Prompt.objects.bulk_create(rows, batch_size=BATCH)


def _responses(prompts: list[Prompt], rng: random.Random, k: int) -> None:
    # Canonical position i has true quality i (0 = best); the labeling UI shuffles the display.
    rows = (
        Response(
            prompt=prompt,
            position=i,
            text=_response_text(rng, prompt.metadata["topic"], i, k),
            source=f"model-{i % 3}",
        )
        for prompt in prompts
        for i in range(k)
    )
    _bulk(Response, rows)


def _rankings(prompts: list[Prompt], annotators: list[User], rng: random.Random, k: int) -> list[Ranking]:
    now = timezone.now()
    rows = []
    for index, prompt in enumerate(prompts):
        n_done = len(annotators) if index % 20 != 19 else index // 20 % len(annotators)
        for annotator in annotators[:n_done]:
            rows.append(
                Ranking(
                    prompt=prompt,
                    annotator=annotator,
                    tiers=_annotator_tiers(rng, k),
                    status=Ranking.Status.SUBMITTED,
                    time_spent_ms=int(rng.lognormvariate(10.3, 0.5)),  # median ~30 s
                    version=1,
                    source="bench",
                    submitted_at=now - timedelta(seconds=rng.randrange(30 * 86400)),
                )
            )
    return Ranking.objects.bulk_create(rows, batch_size=BATCH)


def _revisions(rankings: list[Ranking]) -> None:
    rows = (
        RankingRevision(
            ranking_id=r.pk,
            version=1,
            tiers=r.tiers,
            status=r.status,
            changed_by_id=r.annotator_id,
            source=r.source,
        )
        for r in rankings
    )
    _bulk(RankingRevision, rows)


def _bulk(model, rows) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_create(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)


@transaction.atomic
def build_benchmark_project(
    *, slug: str = "bench", n_prompts: int = 10_000, k: int = 4, annotators: int = 3, seed: int = 0
) -> Project:
    """(Re)create project ``slug`` with ``n_prompts`` x ``k`` responses ranked by ``annotators`` people."""
    if n_prompts < 1 or k < 2 or annotators < 1:
        raise ValueError(f"need n_prompts >= 1, k >= 2, annotators >= 1 (got {n_prompts}, {k}, {annotators})")
    rng = random.Random(seed)
    Project.objects.filter(slug=slug).delete()
    annotator_users, staff = _users(slug, annotators)
    project = project_create(
        name=f"Benchmark {slug} ({n_prompts} x {k}, {annotators} annotators)",
        slug=slug,
        guidelines="Synthetic benchmark project. Rank the most helpful, correct answer first.",
        target_annotators=annotators,
        allow_ties=True,
        allow_partial=True,
        created_by=staff[-1],
    )
    prompts = _prompts(project, rng, n_prompts)
    _responses(prompts, rng, k)
    rankings = _rankings(prompts, annotator_users, rng, k)
    _revisions(rankings)
    return project


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="bench")
    parser.add_argument("--n-prompts", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    project = build_benchmark_project(
        slug=args.slug, n_prompts=args.n_prompts, k=args.k, annotators=args.annotators, seed=args.seed
    )
    elapsed = time.perf_counter() - start
    n_rankings = Ranking.objects.filter(prompt__project=project).count()
    print(f"built project {project.slug!r}: {args.n_prompts} prompts x {args.k} responses, "
          f"{n_rankings} rankings in {elapsed:.1f} s")


if __name__ == "__main__":
    main()


def project_size_args(description: str, argv: list[str] | None = None):
    """The options every project-sized benchmark takes: prompts, responses per prompt, annotators, repeats."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n-prompts", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)
