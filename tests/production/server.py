"""The production stack in subprocesses: `config.settings.production` (DEBUG off, HTTPS settings,
whitenoise), `migrate` + `collectstatic` + a seed, then gunicorn on a free loopback port.

Requests carry `X-Forwarded-Proto: https` as the TLS proxy in front of gunicorn would, and `Client`
keeps cookies by hand because they are `Secure` (an HTTP cookie jar would never send them back).
Used by tests/production and benchmarks/bench_load.py.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from tests.integration.stack import REPO, _connectable, free_port

SEED = """
from django.contrib.auth.models import Group, User
from ranking_app.models import Project, Prompt, Response

group = Group.objects.get_or_create(name="labeler")[0]
for i in range({n_labelers}):
    User.objects.create_user("lab%d" % i, password="pw-123456").groups.add(group)
project = Project.objects.create(name="Load", slug="load", target_annotators={target})
for p in range({n_prompts}):
    prompt = Prompt.objects.create(project=project, external_id="p-%04d" % p, text="Prompt %d?" % p)
    Response.objects.bulk_create(Response(prompt=prompt, position=i, text="Answer %d to %d" % (i, p)) for i in range(4))
"""


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """One browser: its own cookies, HTTPS as seen through the proxy header, CSRF from the cookie."""

    port: int
    cookies: dict = field(default_factory=dict)
    timeout: float = 30

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Reply:
        origin = f"https://127.0.0.1:{self.port}"
        head = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", "Referer": origin + "/"}
        head.update(headers or {})
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
            body = urlencode(form, doseq=True).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=head)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                     time.perf_counter() - started)  # fmt: skip

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict, **kwargs) -> Reply:
        return self.request("POST", path, form=form, **kwargs)

    def login(self, username: str, password: str = "pw-123456") -> Reply:
        self.get("/accounts/login/")
        reply = self.post("/accounts/login/", {"username": username, "password": password})
        if reply.status != 302:
            raise AssertionError(f"login as {username} answered {reply.status}: {reply.text[:300]}")
        return reply


def fresh_database_url(root: Path) -> str:
    """A new empty database: SQLite under ``root``, or, when DATABASE_URL names a PostgreSQL server
    (as under .ci/with_postgres.sh), a new database on that server."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{root / 'db.sqlite3'}"
    import psycopg

    name = f"grpo_srv_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


class ProductionServer:
    """gunicorn + config.settings.production over a fresh data dir and database (see fresh_database_url)."""

    def __init__(self, root: Path, *, database_url: str = "", workers: int = 2, threads: int = 1, env: dict | None = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "GRPO_DATA_DIR": str(root / "data"),
            "DATABASE_URL": database_url or fresh_database_url(root),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.log = root / "gunicorn.log"
        self.proc = None

    def prepare(self, *, n_labelers: int = 2, n_prompts: int = 5, target: int = 2) -> ProductionServer:
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        seed = SEED.format(n_labelers=n_labelers, n_prompts=n_prompts, target=target)
        self.manage("shell", "-c", seed)
        return self

    def start(self) -> ProductionServer:
        cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "60", "--preload"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while not _connectable(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def client(self) -> Client:
        return Client(self.port)


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
