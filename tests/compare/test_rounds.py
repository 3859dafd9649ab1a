"""The comparison filtered by loop round (issue 15): only the round's prompts, a select only when rounds exist."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from ranking_app.models import Round
from training.compare import aggregates as cmp
from training.compare.selectors import comparison_build


@pytest.fixture
def rounds(cmp_project):
    """Prompts p-000..p-002 in round 1, p-003 and p-004 in round 2, p-005 in none (before the loop)."""
    first = Round.objects.create(project=cmp_project, number=1)
    second = Round.objects.create(project=cmp_project, number=2, note="from the tuned adapter")
    prompts = list(cmp_project.prompts.order_by("id"))
    for prompt, round_ in zip(prompts, [first] * 3 + [second] * 2, strict=False):
        prompt.round = round_
        prompt.save(update_fields=["round"])
    return first, second


def shown(client, url, params) -> set[str]:
    return set(re.findall(r'data-prompt="([\w-]+)"', client.get(url, params).content.decode()))


def test_a_round_keeps_only_its_prompts_and_measures_only_them(cmp_project, job, rounds):
    everything = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}")
    second = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}", round=2)
    assert {r["id"] for r in second.rows} == {"p-003", "p-004"} and second.n_compared == 2
    assert second.filters["round"] == 2 and "round" not in everything.filters
    assert second.aggregates["n_prompts"] == 1  # p-004's consensus ties every response: not measured
    first = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}", round="1")
    assert {r["id"] for r in first.rows} == {"p-000", "p-001", "p-002"}
    assert everything.n_compared == 6


def test_an_unknown_round_is_refused_naming_the_rounds(cmp_project, job, rounds):
    with pytest.raises(cmp.CompareError, match=r"round: project cmp has no round '7' \(its rounds: 1, 2\)"):
        comparison_build(cmp_project, "consensus", f"job:{job.pk}", round=7)
    with pytest.raises(cmp.CompareError, match="has no round 'x'"):
        comparison_build(cmp_project, "consensus", f"job:{job.pk}", round="x")


def test_the_page_and_exports_filter_by_round(client, reviewer, cmp_project, job, rounds):
    client.force_login(reviewer)
    page = reverse("compare:project", args=[cmp_project.slug])
    params = {"a": "consensus", "b": f"job:{job.pk}", "round": "2"}
    assert shown(client, page, params) == {"p-003", "p-004"}
    assert shown(client, page, {**params, "round": ""}) == {f"p-{i:03d}" for i in range(6)}
    html = client.get(page, params).content.decode()
    assert '<select name="round" id="pick-round">' in html and '<option value="2" selected>' in html
    assert "--round 2" in html and "round=2" in html  # the command line and the export links keep it
    data = client.get(reverse("compare:export_json", args=[cmp_project.slug]), params).json()
    assert {r["id"] for r in data["rows"]} == {"p-003", "p-004"} and data["filters"]["round"] == 2
    response = client.get(page, {**params, "round": "9"})
    assert response.status_code == 400 and "has no round" in response.content.decode()


def test_no_round_select_without_rounds(client, reviewer, cmp_project, job):
    client.force_login(reviewer)
    html = client.get(reverse("compare:project", args=[cmp_project.slug])).content.decode()
    assert 'name="round"' not in html


def test_the_command_filters_by_round(cmp_project, job, rounds, capsys):
    call_command("compare", project="cmp", a=f"base:{job.pk}", b=f"job:{job.pk}", round=1, rows=True, json=True)
    out = capsys.readouterr().out
    assert '"round": 1' in out and '"id": "p-000"' in out and '"id": "p-003"' not in out


@pytest.mark.django_db
def test_a_round_that_is_not_ascii_digits_is_a_clear_error_not_a_crash():
    from ranking_app.models import Project
    from training.compare.selectors import round_number

    project = Project.objects.create(name="R", slug="r-digits")
    Round.objects.create(project=project, number=1)
    assert round_number(project, "1") == 1
    for bad in ("²", "١", "01x", "-1"):
        with pytest.raises(cmp.CompareError, match="has no round"):
            round_number(project, bad)
