import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_labeler_logs_in_and_sees_the_project_list(page, labeler, project):
    login(page, "lab1")
    assert page.locator("h1").inner_text() == "Projects"
    page.click(f"text={project.name}")
    assert page.locator("h1").inner_text() == project.name


def test_wrong_password_is_reported(page, labeler):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "lab1")
    page.fill("input[name=password]", "nope")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.locator("[role=alert]").inner_text()
