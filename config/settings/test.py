"""Tests: fast password hashing, an in-memory cache, and dramatiq's StubBroker by default.

Integration tests that need the real Redis broker start their own worker process with
GRPO_TEST_BROKER=redis (see tests/integration).
"""

import os
from pathlib import Path

# unit tests run jobs in the worker with their fake engine; launcher tests name a launcher themselves
os.environ.setdefault("GRPO_LAUNCHER", "inprocess")
os.environ.setdefault("GRPO_DATA_DIR", str(Path(__file__).resolve().parent.parent.parent / "var" / "test"))

from .base import *  # noqa: E402,F401,F403
from .base import DRAMATIQ_BROKER  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("GRPO_TEST_BROKER", "stub") == "stub":
    DRAMATIQ_BROKER = {**DRAMATIQ_BROKER, "BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}}
# No sweeper thread in test workers unless a test asks for one (it is tested by calling the sweep).
GRPO_SWEEP_SECONDS = int(os.environ.get("GRPO_SWEEP_SECONDS", "0"))
