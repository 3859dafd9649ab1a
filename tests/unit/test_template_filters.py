"""The one place figures are formatted on pages: ``{% load grpo %}`` filters."""

import pytest
from django.template import Context, Template

from ranking_app.templatetags.grpo import DASH, dash, figure, tau_class


@pytest.mark.parametrize(("value", "digits", "shown"), [
    (0.81234, 3, "0.812"), (0.0, 3, "0.000"), (-0.5, 2, "-0.50"), (None, 3, DASH), (float("nan"), 3, DASH),
])
def test_figure_has_fixed_decimals_and_a_dash_when_missing(value, digits, shown):
    assert figure(value, digits) == shown


def test_dash_keeps_zero_and_text_but_replaces_none_and_empty():
    assert [dash(v) for v in (0, "3m 05s", None, "")] == [0, "3m 05s", DASH, DASH]


@pytest.mark.parametrize(("tau", "css"), [(-0.1, "neg"), (0.0, "low"), (0.49, "low"), (0.5, ""), (1.0, ""), (None, "")])
def test_tau_class_bands(tau, css):
    assert tau_class(tau) == css


def test_filters_render_in_a_template():
    html = Template("{% load grpo %}{{ w|figure }}|{{ t|figure:2 }}|{{ r|dash }}|{{ t|tau_class }}").render(
        Context({"w": None, "t": -0.25, "r": None})
    )
    assert html == f"{DASH}|-0.25|{DASH}|neg"


def test_pager_include_keeps_the_query_and_names_the_page():
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    page = Paginator(list(range(30)), 10).page(2)
    html = render_to_string("ranking_app/_pager.html", {"page": page, "query": "status=needs_review"})
    assert 'href="?status=needs_review&amp;page=1"' in html and 'href="?status=needs_review&amp;page=3"' in html
    assert "page 2 of 3" in html
    assert 'href="?page=2"' in render_to_string("ranking_app/_pager.html", {"page": Paginator([1, 2], 1).page(1)})
    assert render_to_string("ranking_app/_pager.html", {"page": Paginator([1], 10).page(1)}).strip() == ""
