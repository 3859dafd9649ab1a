"""Helpers for agreement tests: submit rankings through the ranking service."""

import pytest

from ranking_app.models import Ranking
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_user


def submit(prompt, user, tiers, **kwargs):
    return ranking_save(prompt=prompt, annotator=user, tiers=tiers, status=Ranking.Status.SUBMITTED, **kwargs)


@pytest.fixture
def annotators(db):
    return [make_user(f"ann{i}", "labeler") for i in range(4)]
