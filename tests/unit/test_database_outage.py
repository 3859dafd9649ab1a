"""Database unavailable -> 503 with Retry-After (HTML page, problem JSON under /api/), built without a
query, whichever layer met the error: a view, the session and user lookup, django-axes on login.

Every query raises ``OperationalError`` here, as with PostgreSQL down; tests/production/test_outage.py
stops a real PostgreSQL mid-request."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


@contextmanager
def database_down(error=OperationalError):
    attempts = []

    def refuse(self, sql, *args, **kwargs):
        attempts.append(sql)
        raise error("connection to server at 127.0.0.1 failed: Connection refused")

    with mock.patch.object(CursorWrapper, "execute", refuse), mock.patch.object(CursorWrapper, "executemany", refuse):
        yield attempts


def assert_html_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30" and response["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in response.content.decode()


@pytest.fixture
def logged_in():
    user = make_user("outage", "labeler")
    project = make_project("outage-project", n_prompts=2)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client, project


@pytest.mark.parametrize("path", ["/", "/label/outage-project/"])
def test_a_page_of_a_logged_in_user_is_a_503_page(logged_in, path):
    client, _ = logged_in
    with database_down() as attempts:
        response = client.get(path)
    assert_html_503(response)
    assert attempts  # the database was asked and failed: the 503 itself needed nothing from it


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_the_api_answers_a_problem_detail(logged_in, error):
    client, _ = logged_in
    with database_down(error):
        response = client.get("/api/projects/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["title"]) == (503, "Service Unavailable") and "Retry in 30 seconds" in body["detail"]


def test_login_through_session_auth_and_axes_is_a_503():
    make_user("someone", "labeler")
    client = Client(raise_request_exception=False)
    client.get("/accounts/login/")
    with database_down():
        response = client.post("/accounts/login/", {"username": "someone", "password": "pw"})
    assert_html_503(response)


def test_an_error_in_a_middleware_before_the_view_is_a_503_too(logged_in):
    client, _ = logged_in
    with mock.patch("django.contrib.sessions.middleware.SessionMiddleware.process_request",
                    side_effect=OperationalError("the database system is shutting down")):  # fmt: skip
        response = client.get("/")
    assert_html_503(response)


def test_other_errors_stay_a_500(logged_in):
    client, _ = logged_in
    with mock.patch("django.contrib.sessions.middleware.SessionMiddleware.process_request",
                    side_effect=RuntimeError("a bug")):  # fmt: skip
        response = client.get("/")
    assert response.status_code == 500 and "Retry-After" not in response
