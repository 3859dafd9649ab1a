"""Every response says how long the app took (wall and CPU), which the load benchmark reads."""

import pytest

from config.server_timing import server_ms


@pytest.mark.django_db
def test_every_response_carries_the_apps_wall_and_cpu_time(client):
    for path in ("/accounts/login/", "/no-such-page/"):
        header = client.get(path)["Server-Timing"]
        wall, cpu = server_ms(header), server_ms(header, "cpu")
        assert wall is not None and cpu is not None and 0 <= cpu and 0 < wall < 10_000


def test_server_ms_reads_one_metric_and_ignores_the_rest():
    assert server_ms("db;dur=3, app;dur=12.5, cpu;dur=4") == 12.5
    assert server_ms("db;dur=3, app;dur=12.5, cpu;dur=4", "cpu") == 4.0
    assert server_ms(None) is None and server_ms("app") is None
