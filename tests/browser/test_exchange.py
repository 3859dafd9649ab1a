"""An admin imports a file (first a bad one), then exports it, through the real page in Chromium."""

import json

import pytest

from tests.conftest import make_project, make_user

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_imports_fixes_a_bad_file_and_exports(page, tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"
    make_user("boss", "admin")
    make_project("shop", n_prompts=0, target_annotators=1)
    good = {"id": "q-1", "prompt": "Best way to store eggs?", "responses": ["Fridge", "Counter", "Freezer"], "rankings": [0, 1, 2]}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**good, "rankings": [0, 1]}) + "\n" + json.dumps({**good, "split": "dev"}) + "\n")
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(json.dumps(good) + "\n")

    page.goto("/accounts/login/", timeout=90_000)  # the first request imports every URL module: slow on a busy machine
    login(page, "boss")
    page.goto("/projects/shop/")
    page.click("text=Import / export")
    page.set_input_files("input[name=file]", str(bad))
    page.click("button:has-text('Import')")
    alert = page.locator("[role=alert]")
    assert "Nothing was imported from bad.jsonl" in alert.inner_text()
    assert "record 1 (id q-1): rankings: has 2 entries but there are 3 responses" in alert.inner_text()
    assert "record 2 (id q-1): id: duplicate of record 1" in alert.inner_text()

    page.set_input_files("input[name=file]", str(fixed))
    page.click("button:has-text('Import')")
    assert "Imported fixed.jsonl: 1 created, 0 updated, 0 unchanged" in page.locator(".messages").inner_text()

    page.select_option("select[name=format]", "jsonl")
    page.click("button:has-text('Create export')")
    assert "written, sha256" in page.locator(".messages").inner_text()
    with page.expect_download() as download_info:
        page.click("table >> text=Download")
    exported = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    assert exported["id"] == "q-1" and exported["rankings"] == [0, 1, 2]
