"""Local development and tests: the defaults of base.py (SQLite under var/, local Redis)."""

from .base import *  # noqa: F401,F403
