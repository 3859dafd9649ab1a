"""Every integer from a form or a query string is ASCII digits, read by one parser
(``safe_json.whole_number``; ``decimal_number`` for floats): "٣" (U+0663) is never 3."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from ranking_app.form_fields import AsciiIntegerField
from ranking_app.models import Ranking
from ranking_app.rank_widget import tiers_from_post
from ranking_app.ranking import RankingError
from ranking_app.safe_json import decimal_number, whole_number
from tests.conftest import make_project, make_user
from tests.labeling.factories import make_labeling_project
from tests.labeling.test_views import form, open_next, submit_url

NOT_ASCII = ["\u0663", "\u00b2", "\uff13", "1_0", "\u0661\u0660", " 3\u0663"]


@pytest.mark.parametrize("raw", NOT_ASCII)
def test_the_one_parser_reads_ascii_digits_only(raw):
    assert whole_number(raw) is None and whole_number(raw, signed=True) is None
    assert decimal_number(raw) is None


def test_the_one_parser_reads_plain_numbers():
    assert (whole_number("42"), whole_number(" 7 "), whole_number("-1"), whole_number("-1", signed=True)) == (42, 7, None, -1)
    assert whole_number("9" * 31) is None and whole_number("5", 4) is None
    assert [decimal_number(t) for t in ("0.1", "-2", "1e-4", ".5", "3.")] == [0.1, -2.0, 1e-4, 0.5, 3.0]
    assert [decimal_number(t) for t in ("nan", "inf", "1e999", "0x10", "\u0661.\u0665")] == [None] * 5


@pytest.mark.parametrize("raw", NOT_ASCII)
def test_a_rank_field_with_other_digits_is_refused(raw):
    with pytest.raises(RankingError) as info:
        tiers_from_post({"rank_0": raw, "rank_1": "1"}, 4)
    assert info.value.errors[0].startswith("rank_0: tier must be a number from 1 to 4")


@pytest.mark.django_db
def test_the_labeling_form_refuses_an_arabic_indic_three_and_stores_nothing(client, labeler):
    project = make_labeling_project(n_prompts=2, k=4, target_annotators=1)
    client.force_login(labeler)
    prompt, _ = open_next(client, project)
    response = client.post(submit_url(prompt), form(prompt, r0="\u0663", r1=1))
    assert response.status_code == 422
    assert "rank_0: tier must be a number from 1 to 4" in response.content.decode()
    assert not Ranking.objects.exists()


@pytest.mark.django_db
def test_a_page_number_in_other_digits_is_the_first_page(client, labeler):
    project = make_labeling_project(n_prompts=2, k=4, target_annotators=1)
    client.force_login(labeler)
    response = client.get(reverse("labeling:history", args=[project.slug]) + "?page=\u0663")
    assert response.status_code == 200 and response.context["page"].number == 1


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=\u0663", "offset=\u00b2", "limit=1_0", "project=x&prompt=\u0663"])
def test_api_query_integers_in_other_digits_are_a_400_naming_the_parameter(labeler, query):
    client = APIClient()
    client.force_authenticate(labeler)
    response = client.get(f"/api/rankings/?{query}")
    assert response.status_code == 400, response.content
    name = query.rsplit("&", 1)[-1].split("=")[0]
    assert name in response.json()


def test_form_integer_fields_refuse_other_digits():
    field = AsciiIntegerField()
    assert field.clean("-12") == -12
    for raw in NOT_ASCII:
        with pytest.raises(ValidationError, match="digits 0-9"):
            field.clean(raw)


@pytest.mark.django_db
@pytest.mark.parametrize("count", ["\u0663", "3"])
def test_the_generation_api_takes_json_integers_only(count):
    make_project("gen", n_prompts=1)
    client = APIClient()
    client.force_authenticate(make_user("genadmin", "admin"))
    response = client.post("/api/jobs/generate/", {"project": "gen", "sources": [{"count": count}]}, format="json")
    assert response.status_code == 400 and "sources" in response.json()
