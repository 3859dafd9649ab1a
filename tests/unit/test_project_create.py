"""project_create: the one place projects are made; every bad field is named at once."""

import pytest
from django.core.exceptions import ValidationError

from ranking_app.models import Project
from ranking_app.projects.services import project_create

pytestmark = pytest.mark.django_db


def test_creates_a_project_named_after_its_slug_by_default(admin_user):
    project = project_create(slug="p1", target_annotators=2, allow_ties=False, created_by=admin_user)

    assert (project.name, project.target_annotators, project.allow_ties, project.created_by) == ("p1", 2, False, admin_user)
    assert Project.objects.filter(slug="p1").exists()


def test_every_bad_field_is_reported_and_nothing_is_written():
    project_create(slug="taken")

    with pytest.raises(ValidationError) as caught:
        project_create(slug="taken", target_annotators=0, agreement_threshold=1.5)
    with pytest.raises(ValidationError) as bad_slug:
        project_create(slug="not a slug")

    assert set(caught.value.message_dict) == {"slug", "target_annotators", "agreement_threshold"}
    assert "between 1 and 100" in caught.value.message_dict["target_annotators"][0]
    assert "slug" in bad_slug.value.message_dict
    assert Project.objects.count() == 1
