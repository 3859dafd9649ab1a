"""The production server as deployed: gunicorn + production settings + whitenoise, over HTTP on loopback."""

import pytest

from .server import ProductionServer, static_urls

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ProductionServer(tmp_path_factory.mktemp("prod"))
    try:
        yield server.prepare().start()
    finally:
        server.stop()


def test_login_page_is_served_with_the_security_headers(server):
    reply = server.client().get("/accounts/login/")
    assert reply.status == 200, reply.text[:500]
    assert "Log in" in reply.text
    assert reply.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "script-src 'self'" in reply.headers["content-security-policy"]
    assert "Secure" in reply.headers["set-cookie"]


def test_plain_http_is_redirected_to_https(server):
    reply = server.client().get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
    assert reply.status == 301
    assert reply.headers["location"].startswith("https://")


def test_labeler_logs_in_and_gets_a_rank_page(server):
    client = server.client()
    client.login("lab0")
    start = client.get("/label/load/")
    assert start.status == 302, start.text[:500]
    page = client.get(start.headers["location"])
    assert page.status == 200
    assert "Submit ranking" in page.text and "Answer 0 to" in page.text


def test_hashed_static_files_are_served_by_whitenoise(server):
    client = server.client()
    client.login("lab1")
    page = client.get(client.get("/label/load/").headers["location"])
    urls = static_urls(page.text)
    assert any("rank." in url for url in urls), urls
    for url in urls:
        assert url.count(".") >= 2, f"{url} is not a hashed name"
        reply = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert reply.status == 200, url
        assert "immutable" in reply.headers["cache-control"]
    chart_map = client.get("/static/vendor/chartjs/chart.umd.min.js.map")
    assert chart_map.status == 200 and chart_map.body.startswith(b"{")


def test_unknown_page_is_a_plain_404_without_debug_details(server):
    reply = server.client().get("/no/such/page/")
    assert reply.status == 404
    assert "Traceback" not in reply.text and "DEBUG" not in reply.text
