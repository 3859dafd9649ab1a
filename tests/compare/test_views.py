"""Comparison pages and exports: permissions, figures, filters, CSV/JSON content, flagging."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse
from django.utils.cache import has_vary_header

from ranking_app.models import Prompt
from training.compare.selectors import comparison_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(cmp_project, job):
    prompt = cmp_project.prompts.order_by("id").first()
    slug = cmp_project.slug
    return {
        "page": reverse("compare:project", args=[slug]),
        "csv": reverse("compare:export_csv", args=[slug]),
        "json": reverse("compare:export_json", args=[slug]),
        "prompt": reverse("compare:prompt", args=[slug, prompt.pk]),
        "flag": reverse("compare:flag", args=[slug, prompt.pk]),
        "evaluate": reverse("compare:evaluate", args=[slug]),
    }


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([\w-]+)">([^<]*)<', html))


@pytest.mark.parametrize("name", ["page", "csv", "json", "prompt"])
def test_labelers_get_403_on_every_page_and_export(client, labeler, urls, name):
    client.force_login(labeler)
    assert client.get(urls[name]).status_code == 403


@pytest.mark.parametrize("name", ["flag", "evaluate"])
def test_labelers_get_403_on_every_action(client, labeler, urls, name):
    client.force_login(labeler)
    assert client.post(urls[name], {"note": "x", "job": "1"}).status_code == 403
    assert Prompt.objects.filter(extra_annotators__gt=0).count() == 0


def test_anonymous_users_are_sent_to_login(client, urls):
    response = client.get(urls["page"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_page_defaults_to_base_vs_tuned_of_the_newest_job_and_shows_the_figures(client, reviewer, cmp_project, job):
    client.force_login(reviewer)
    response = client.get(reverse("compare:project", args=[cmp_project.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    expected = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}").aggregates
    shown = figures(html)
    for m in expected["metrics"]:
        assert shown[f"{m['key']}-a"] == str(m["a"])
        assert shown[f"{m['key']}-b"] == str(m["b"])
        assert shown[f"{m['key']}-ci_low"] == str(m["ci_low"])
        row = html.split(f'<tr data-metric="{m["key"]}">')[1].split("</tr>")[0]
        assert ("not significant" in row) == (not m["significant"]) and "significant" in row
        assert m["significant"] == (m["p_holm"] is not None and m["p_holm"] < 0.05)  # Holm over the table's rows
    assert shown["order_consistency-difference"] == "0.5"
    assert html.index('data-prompt="p-001"') < html.index('data-prompt="p-005"')  # largest disagreement first
    assert reverse("compare:prompt", args=[cmp_project.slug, cmp_project.prompts.get(external_id="p-001").pk]) in html


def test_admins_see_the_page_too(client, admin_user, urls):
    client.force_login(admin_user)
    assert client.get(urls["page"]).status_code == 200


def test_filters_on_the_page(client, reviewer, cmp_project, job, urls):
    client.force_login(reviewer)
    html = client.get(urls["page"], {"a": "consensus", "b": f"job:{job.pk}", "worse": "1"}).content.decode()
    shown = set(re.findall(r'data-prompt="([\w-]+)"', html))
    assert shown == {"p-000", "p-003"}
    html = client.get(urls["page"], {"a": "consensus", "b": f"job:{job.pk}", "ambiguous": "1"}).content.decode()
    assert set(re.findall(r'data-prompt="([\w-]+)"', html)) == {"p-002", "p-004"}


def test_bad_source_is_a_400_with_the_reason(client, reviewer, urls):
    client.force_login(reviewer)
    response = client.get(urls["page"], {"a": "job:999", "b": "consensus"})
    assert response.status_code == 400
    assert "not available in project cmp" in response.content.decode()
    response = client.get(urls["json"], {"a": "consensus", "b": "annotator:alice", "worse": "1"})
    assert response.status_code == 400 and "tuned model" in response.json()["error"]
    assert client.get(urls["csv"], {"a": "nope"}).status_code == 400


def test_json_export_holds_the_aggregates_and_every_row(client, reviewer, cmp_project, job, urls):
    client.force_login(reviewer)
    response = client.get(urls["json"], {"a": f"base:{job.pk}", "b": f"job:{job.pk}"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    expected = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}")
    assert data["aggregates"] == json.loads(json.dumps(expected.aggregates))
    assert data["a"]["key"] == f"base:{job.pk}" and data["reference"] == "consensus"
    assert [r["id"] for r in data["rows"]] == [r["id"] for r in expected.rows]
    first = data["rows"][0]
    assert first["id"] == "p-001" and first["tau_b"] == -1.0 and first["top1_agree"] is False


def test_csv_export_rows_match_the_comparison(client, reviewer, cmp_project, job, urls):
    client.force_login(reviewer)
    response = client.get(urls["csv"], {"a": "consensus", "b": f"job:{job.pk}", "sort": "prompt"})
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][:4] == ["# a", "consensus", "b", f"job:{job.pk}"]
    header, rows = lines[1], lines[2:]
    assert header[:3] == ["prompt_id", "id", "split"]
    expected = comparison_build(cmp_project, "consensus", f"job:{job.pk}", sort="prompt").rows
    assert [r[1] for r in rows] == [r["id"] for r in expected] == [f"p-{i:03d}" for i in range(6)]
    tau = header.index("tau_b")
    for line, row in zip(rows, expected, strict=True):
        assert (line[tau] == "" and row["tau_b"] is None) or float(line[tau]) == round(row["tau_b"], 4)


def test_prompt_view_shows_every_source_and_the_pairs_against_the_consensus(client, reviewer, cmp_project, job):
    client.force_login(reviewer)
    prompt = cmp_project.prompts.get(external_id="p-000")
    html = client.get(reverse("compare:prompt", args=[cmp_project.slug, prompt.pk])).content.decode()
    for key in ("consensus", "annotator:alice", "annotator:bob", f"base:{job.pk}", f"job:{job.pk}"):
        assert f'data-source="{key}"' in html
    # consensus A>B>C>D; tuned scores [0.1, 0.4, 0.3, 0.2]: A is put below B, C and D
    pairs = html.split(f'class="against-pairs" data-source="job:{job.pk}"')[1].split("</div>")[0]
    assert pairs.count("<li>") == 3 and "people rank <strong>A</strong> above <strong>B</strong>" in pairs
    assert "Orders every consensus pair the same way" in html.split(f'data-source="base:{job.pk}"')[-1]
    assert "0.4000" in html  # model score shown
    assert "tier-cell off against" in html


def test_flag_sends_the_prompt_back_to_review_with_the_note(client, reviewer, cmp_project, job):
    client.force_login(reviewer)
    prompt = cmp_project.prompts.get(external_id="p-002")
    url = reverse("compare:flag", args=[cmp_project.slug, prompt.pk])
    response = client.post(url, {"note": "humans likely wrong here", "back_query": "a=consensus"})
    assert response.status_code == 302 and response["Location"].endswith("?a=consensus")
    prompt.refresh_from_db()
    assert prompt.extra_annotators == 1
    assert "flagged in model comparison: humans likely wrong here" in prompt.review_note


def test_flag_without_a_note_changes_nothing(client, reviewer, cmp_project, job):
    client.force_login(reviewer)
    prompt = cmp_project.prompts.get(external_id="p-002")
    client.post(reverse("compare:flag", args=[cmp_project.slug, prompt.pk]), {"note": "  "})
    prompt.refresh_from_db()
    assert prompt.extra_annotators == 0 and prompt.review_note == ""


def test_flag_with_a_too_long_note_is_refused(client, reviewer, cmp_project, job):
    client.force_login(reviewer)
    prompt = cmp_project.prompts.get(external_id="p-002")
    response = client.post(reverse("compare:flag", args=[cmp_project.slug, prompt.pk]), {"note": "x" * 3000}, follow=True)
    assert "at most 2000 characters" in response.content.decode()
    prompt.refresh_from_db()
    assert prompt.extra_annotators == 0


def test_prompt_of_another_project_is_404(client, reviewer, cmp_project, job):
    from tests.conftest import make_project

    other = make_project("other", n_prompts=1)
    client.force_login(reviewer)
    prompt = other.prompts.get()
    assert client.get(reverse("compare:prompt", args=[cmp_project.slug, prompt.pk])).status_code == 404


def test_project_without_models_compares_people(client, reviewer, cmp_project):
    client.force_login(reviewer)
    response = client.get(reverse("compare:project", args=[cmp_project.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="pick-a">\s*<option value="consensus" selected', html)
    assert '<option value="annotator:alice" selected' in html
    assert figures(html)["kendall_tau-a"] == "1.0"  # consensus vs itself


def test_page_follows_a_ranking_change_at_once(client, reviewer, cmp_project, job, urls):
    from ranking_app.ranking import ranks_to_tiers
    from ranking_app.ranking_store import ranking_save

    client.force_login(reviewer)
    params = {"a": "annotator:alice", "b": "consensus", "sort": "prompt"}
    before = figures(client.get(urls["page"], params).content.decode())
    prompt = cmp_project.prompts.get(external_id="p-000")
    ranking = prompt.rankings.get(annotator__username="alice")
    ranking_save(prompt=prompt, annotator=ranking.annotator, tiers=ranks_to_tiers([3, 2, 1, 0]),
                 status="submitted", expected_version=ranking.version)
    after = figures(client.get(urls["page"], params).content.decode())
    assert after["kendall_tau-a"] != before["kendall_tau-a"]


def test_htmx_requests_get_the_results_partial_and_errors_inside_it(client, reviewer, cmp_project, job, urls):
    client.force_login(reviewer)
    headers = {"HX-Request": "true", "HX-Target": "compare-results"}
    response = client.get(urls["page"], {"a": "consensus", "b": f"job:{job.pk}"}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'data-figure="accuracy-a"' in html
    assert has_vary_header(response, "HX-Request") and has_vary_header(response, "HX-Target")
    response = client.get(urls["page"], {"a": "consensus", "b": "annotator:bob", "worse": "1"}, headers=headers)
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert has_vary_header(response, "HX-Request")
    full = client.get(urls["page"], {"a": "consensus", "b": f"job:{job.pk}"})
    assert "<html" in full.content.decode() and has_vary_header(full, "HX-Request")  # caches keep both apart


def test_the_job_page_links_to_its_comparison(client, admin_user, cmp_project, job):
    client.force_login(admin_user)
    html = client.get(reverse("training:job_detail", args=[job.pk])).content.decode()
    link = re.search(r'id="compare-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link == f"/compare/{cmp_project.slug}/?a=base:{job.pk}&b=job:{job.pk}"
    assert client.get(link).status_code == 200


def test_exports_apply_the_page_filters(client, reviewer, cmp_project, job, urls):
    client.force_login(reviewer)
    params = {"a": "consensus", "b": f"job:{job.pk}", "ambiguous": "1"}
    data = client.get(urls["json"], params).json()
    assert data["filters"] == {"ambiguous": True, "worse": False, "sort": "disagreement"}
    assert {r["id"] for r in data["rows"]} == {"p-002", "p-004"} and data["n_rows"] == 2 and data["n_compared"] == 6
    lines = client.get(urls["csv"], {**params, "ambiguous": "", "worse": "1"}).content.decode().splitlines()
    assert sorted(line.split(",")[1] for line in lines[2:]) == ["p-000", "p-003"]


def test_the_rows_are_paged_with_the_shared_pager_keeping_the_query(client, reviewer, cmp_project, job, urls, monkeypatch):
    from training.compare import views

    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    client.force_login(reviewer)
    params = {"a": "consensus", "b": f"job:{job.pk}", "sort": "prompt"}
    first = client.get(urls["page"], params).content.decode()
    assert "page 1 of 2" in first and re.findall(r'data-prompt="([\w-]+)"', first) == [f"p-{i:03d}" for i in range(4)]
    link = re.search(r'href="\?([^"]+)">Next</a>', first).group(1).replace("&amp;", "&")
    assert link == f"a=consensus&b=job%3A{job.pk}&sort=prompt&page=2"
    second = client.get(f"{urls['page']}?{link}").content.decode()
    assert re.findall(r'data-prompt="([\w-]+)"', second) == ["p-004", "p-005"] and ">Previous</a>" in second
