"""Shared fixtures: users for each role and a small project."""

import dramatiq
import pytest
from django.contrib.auth.models import Group, User

from ranking_app.models import Project, Prompt, Response


def make_user(username: str, *roles: str, password: str = "pw-123456") -> User:
    user = User.objects.create_user(username=username, password=password)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def labeler(db) -> User:
    return make_user("lab1", "labeler")


@pytest.fixture
def labeler2(db) -> User:
    return make_user("lab2", "labeler")


@pytest.fixture
def reviewer(db) -> User:
    return make_user("rev1", "reviewer")


@pytest.fixture
def admin_user(db) -> User:
    return make_user("adm1", "admin")


def make_project(slug: str = "demo", n_prompts: int = 3, k: int = 4, **fields) -> Project:
    project = Project.objects.create(name=slug.title(), slug=slug, **fields)
    for p in range(n_prompts):
        prompt = Prompt.objects.create(project=project, external_id=f"p-{p:03d}", text=f"Prompt {p}?")
        Response.objects.bulk_create(
            Response(prompt=prompt, position=i, text=f"Answer {i} to prompt {p}") for i in range(k)
        )
    return project


@pytest.fixture
def project(db) -> Project:
    return make_project()


@pytest.fixture
def broker():
    """The settings' dramatiq broker (a StubBroker in tests), emptied before and after the test."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()

