import pytest

from .factories import evaluated_job, ranked_compare_project


@pytest.fixture
def cmp_project(db):
    return ranked_compare_project()


@pytest.fixture
def job(cmp_project):
    return evaluated_job(cmp_project)
