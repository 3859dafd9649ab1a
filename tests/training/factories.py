"""Test data for training jobs: a project whose prompts carry rankings with a learnable rule."""

from ranking_app.exchange.imports import rankings_import
from ranking_app.models import Project
from training.engine.synthetic import vowel_ranked_records


def ranked_project(slug: str = "ranked", n_prompts: int = 16, k: int = 4, *, test_fraction: float = 0.25) -> Project:
    """Prompts ranked by one annotator ("import"): more vowels rank better; the last quarter is "test"."""
    project = Project.objects.create(name=slug.title(), slug=slug, target_annotators=1)
    records = vowel_ranked_records(n_prompts, k, test_fraction=test_fraction)
    rankings_import(project=project, records=records, source="import")
    return project
