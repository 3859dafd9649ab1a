"""``Server-Timing: app;dur=<ms>, cpu;dur=<ms>`` on every response: the wall time this process spent on
the request, from the first middleware after SecurityMiddleware to the response (a streamed file's body
not included), and the CPU time its thread used meanwhile (the database server's work not included).

Browsers show it in their network panel, and the load benchmark (benchmarks/bench_load.py) reads it
next to the client's latency: on a busy machine the client's figure also holds the time the request
waited for a CPU before gunicorn read it, and the server's wall time the time the process waited for one while
it ran; the CPU time is the app's cost whatever else runs on the machine.
"""

import time


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = self.get_response(request)
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        response["Server-Timing"] = f"app;dur={wall * 1000:.1f}, cpu;dur={cpu * 1000:.1f}"
        return response


def server_ms(header: str | None, metric: str = "app") -> float | None:
    """The duration of ``metric`` (``app`` or ``cpu``) in milliseconds from a Server-Timing header, or None."""
    for entry in (header or "").split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        for param in params:
            if name == metric and param.startswith("dur="):
                return float(param[4:])
    return None
