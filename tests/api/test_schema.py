"""The OpenAPI schema at /api/schema/ validates (drf-spectacular's validator, warnings are failures)."""

import pytest
from django.core.management import call_command

from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/projects/", "/api/rankings/{id}/", "/api/projects/{slug}/import/", "/api/exports/{id}/download/"):
        assert f"  {path}:" in text


def test_schema_and_docs_are_served(labeler):
    client = client_for(labeler)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    assert client.get("/api/docs/").status_code == 200
