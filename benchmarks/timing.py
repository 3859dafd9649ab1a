"""Timing shared by the benchmark scripts."""

import time


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``repeat`` calls of ``fn``.

    CPU time is reported beside wall time because the development machine is shared: under load
    the wall time grows while the CPU time (this process, SQLite included) stays what the work costs.
    """
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (NaN when empty)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
