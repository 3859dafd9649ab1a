"""``manage.py compare`` prints exactly the figures the comparison page shows."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("compare", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("extra", [[], ["--ambiguous"], ["--worse"]])
def test_command_json_equals_the_page_figures(client, reviewer, cmp_project, job, extra):
    a, b = f"base:{job.pk}", f"job:{job.pk}"
    data = json.loads(run("--project", cmp_project.slug, "--a", a, "--b", b, "--json", *extra))
    client.force_login(reviewer)
    params = {"a": a, "b": b, **{flag.strip("-"): "1" for flag in extra}}
    html = client.get(reverse("compare:project", args=[cmp_project.slug]), params).content.decode()
    shown = dict(re.findall(r'data-figure="([\w-]+)">([^<]*)<', html))
    compared = 0
    for m in data["aggregates"]["metrics"] + data["aggregates"]["robustness"]:
        for field in ("chance", "a", "a_low", "a_high", "b", "b_low", "b_high", "difference", "ci_low", "ci_high"):
            if f"{m['key']}-{field}" in shown:
                assert shown[f"{m['key']}-{field}"] == ("–" if m[field] is None else str(m[field]))
                compared += 1
    # every metric shows its chance, A, B and B - A; with 2+ prompts also the three intervals
    assert compared >= 6 * (10 if data["aggregates"]["n_prompts"] >= 2 else 4)
    assert f"the same {data['aggregates']['n_prompts']} prompt" in html


def test_command_table_output_names_sources_and_figures(cmp_project, job):
    out = run("--project", cmp_project.slug, "--a", "consensus", "--b", f"job:{job.pk}", "--rows")
    assert "A: human consensus (consensus)" in out
    assert "Kendall tau-b" in out and "p-000" in out


def test_command_errors_name_the_problem(cmp_project, job):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        run("--project", "nope", "--a", "consensus", "--b", "consensus")
    with pytest.raises(CommandError, match="not available in project cmp"):
        run("--project", cmp_project.slug, "--a", "annotator:zed", "--b", "consensus")
