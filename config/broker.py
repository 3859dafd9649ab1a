"""How the web and worker processes reach Redis (dramatiq's broker), read by the settings.

Two things matter beyond the URL: a namespace per deployment (``GRPO_QUEUE_PREFIX``) so that two
deployments on one Redis database never consume each other's messages, and short timeouts without
retries so that a send to a Redis that is down fails within about a second instead of hanging.
"""

from __future__ import annotations

import hashlib
import re

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def queue_prefix_for(database: dict) -> str:
    """A readable, stable prefix for one database: ``grpo-<name>-<hash of engine, host, port, name>``.

    Two deployments on different databases (even two SQLite files both called db.sqlite3) get different
    prefixes; the web server and the worker of one deployment, reading the same DATABASE_URL, agree.
    """
    where = "|".join(str(database.get(key) or "") for key in ("ENGINE", "HOST", "PORT", "NAME"))
    stem = re.sub(r"[^a-z0-9]+", "-", str(database.get("NAME") or "db").rsplit("/", 1)[-1].lower()).strip("-")
    return f"grpo-{stem[:30] or 'db'}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def redis_broker_options(url: str, namespace: str, *, connect_timeout: float, socket_timeout: float) -> dict:
    """``RedisBroker`` keyword arguments: the namespace and a client that gives up fast.

    The pool is built here (not from ``url=``, which takes no client options); redis-py opens no
    connection until the first command, and a forked worker process makes its own.
    """
    pool = redis.ConnectionPool.from_url(
        url, socket_connect_timeout=connect_timeout, socket_timeout=socket_timeout, retry=Retry(NoBackoff(), 0),
    )
    return {"namespace": namespace, "connection_pool": pool}
