"""A real PostgreSQL stopped under the production server (gunicorn, production settings): a request
in flight and every request after it get a 503 with Retry-After (HTML page, problem JSON under /api/,
the login form too), and the server serves again once PostgreSQL is back.

Skipped without PostgreSQL's server binaries (`make system-deps`)."""

from __future__ import annotations

import threading

import psycopg
import pytest

from .postgres import ThrowawayPostgres, postgres_bin
from .server import ProductionServer

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL server binaries not installed")]  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    postgres = ThrowawayPostgres()
    server = None
    try:
        postgres.create()
        server = ProductionServer(tmp_path_factory.mktemp("prod"), database_url=postgres.url, workers=1, threads=4)
        yield postgres, server.prepare().start()
    finally:
        if server is not None:
            server.stop()
        postgres.destroy()


def assert_503(reply, content_type: str) -> None:
    assert reply.status == 503, (reply.status, reply.text[:500])
    assert reply.headers["retry-after"] == "30" and reply.headers["content-type"].startswith(content_type)


def test_postgres_stopped_mid_request_gives_503s_until_it_is_back(stack):
    postgres, server = stack
    client = server.client()
    client.login("lab0")
    assert client.get("/api/projects/").status == 200
    in_flight = {}
    blocker = psycopg.connect(postgres.url, autocommit=True)
    try:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE ranking_app_project IN ACCESS EXCLUSIVE MODE")  # the request waits here
        request = threading.Thread(target=lambda: in_flight.update(reply=client.get("/api/projects/")))
        request.start()
        request.join(2)
        assert request.is_alive(), "the request should be waiting on the lock"
        postgres.stop()  # immediate: every backend is cut off, the in-flight request's included
        request.join(30)
    finally:
        blocker.close()  # its server is gone; close() sends nothing
    assert_503(in_flight["reply"], "application/problem+json")

    assert_503(client.get("/label/load/"), "text/html")
    assert "Temporarily unavailable" in client.get("/").text
    fresh = server.client()
    assert fresh.get("/accounts/login/").status == 200  # the bare login form needs no database
    assert_503(fresh.post("/accounts/login/", {"username": "lab1", "password": "pw-123456"}), "text/html")
    assert_503(client.get("/api/projects/"), "application/problem+json")

    postgres.start()
    assert client.get("/api/projects/").status == 200
    assert server.client().login("lab1").status == 302
