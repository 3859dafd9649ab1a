"""Login throttling (django-axes) and the Content-Security-Policy header."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _login(client, password):
    return client.post("/accounts/login/", {"username": "lab1", "password": password})


def test_wrong_passwords_lock_the_account_for_that_address(client, labeler):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert _login(client, "pw-123456").status_code == 429  # the right password no longer helps


def test_a_success_before_the_limit_resets_the_count(client, labeler):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, "pw-123456").status_code == 302
    client.logout()
    assert _login(client, "wrong").status_code == 200


def test_pages_carry_a_policy_without_inline_script(client, labeler, project):
    client.force_login(labeler)
    for url in ("/accounts/login/", "/", f"/label/{project.slug}/history/", "/api/docs/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_event_handler(path):
    html = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> (move it to static/js)"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler (bind it in static/js)"
    assert "javascript:" not in html


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(client, reviewer, evil):
    import csv
    import io

    from django.urls import reverse

    from tests.compare.factories import evaluated_job, ranked_compare_project

    project = ranked_compare_project()
    job = evaluated_job(project)
    project.prompts.filter(external_id="p-000").update(external_id=evil)
    client.force_login(reviewer)
    reply = client.get(reverse("compare:export_csv", args=[project.slug]), {"a": "consensus", "b": f"job:{job.pk}"})
    cells = [cell for row in csv.reader(io.StringIO(reply.content.decode())) for cell in row]
    assert evil not in cells
    assert any(cell.startswith("'") and cell[1:].replace("\\|", "|") == evil for cell in cells)  # | escaped for DDE
    assert not any(cell[:1] in "=+@" for cell in cells if cell)
