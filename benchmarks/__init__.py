"""Benchmarks: scripts run as ``python -m benchmarks.<name>``; results go to docs/benchmarks.md (summary) and docs/benchmarks/<area>.md (details)."""
