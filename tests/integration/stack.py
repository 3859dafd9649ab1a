"""A real GRPO Studio stack in subprocesses: redis-server on a free port, `manage.py migrate` into a
file SQLite database, `manage.py rundramatiq` and `manage.py runserver`, all sharing one data dir.

The test process talks to it over HTTP only (the database belongs to the subprocesses), so these
tests need no pytest-django database and never touch the developer's Redis on 6379.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from ranking_app.models import Project
from ranking_app.exchange.imports import rankings_import
from training.engine import make_tiny_model
from training.engine.synthetic import vowel_ranked_records
from training.presets import tiny_model_path

user = User.objects.create_user("boss", password="pw-123456")
user.groups.add(Group.objects.get_or_create(name="admin")[0])
project = Project.objects.create(name="Vowels", slug="vowels", target_annotators=1)
rankings_import(project=project, records=vowel_ranked_records({n_prompts}, 4, test_fraction=0.25), source="import")
make_tiny_model(tiny_model_path(), hidden_size=64, num_hidden_layers=2)
print("TOKEN=" + Token.objects.create(user=user).key)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, root: Path, *, stale_seconds: float = 6, heartbeat_seconds: float = 0.5,
                 extra_env: dict | None = None):
        self.root = root
        self.data_dir = root / "data"
        self.redis_port, self.web_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "GRPO_TEST_BROKER": "redis",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "GRPO_QUEUE_PREFIX": "grpo-stack",  # the namespace of every key the stack writes in Redis
            "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
            "GRPO_DATA_DIR": str(self.data_dir),
            "GRPO_TRAINING_HEARTBEAT_SECONDS": str(heartbeat_seconds),
            "GRPO_TRAINING_STALE_SECONDS": str(stale_seconds),
            "PYTHONUNBUFFERED": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1",
            "GRPO_LAUNCHER": "local",  # what `make run` uses: the engine in a child process of the worker
            **(extra_env or {}),
        }
        self.token = ""
        self.redis = self.worker = self.web = None
        self.worker_log = root / "worker.log"
        self.worker_starts = 0

    # processes ------------------------------------------------------------------------
    def start(self, *, n_prompts: int = 24) -> Stack:
        self.root.mkdir(parents=True, exist_ok=True)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(self.root / "redis.log", "w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait(lambda: _connectable(self.redis_port), 20, "redis-server")
        self.manage("migrate", "--noinput")
        out = self.manage("shell", "-c", SEED.replace("{n_prompts}", str(n_prompts)))
        self.token = next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))
        self.web = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.web_port}"], cwd=REPO,
            env=self.env, stdout=open(self.root / "web.log", "w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self._wait(lambda: _connectable(self.web_port), 60, "runserver")
        self.start_worker()
        return self

    def start_worker(self) -> None:
        self.worker_starts += 1
        log = open(self.worker_log, "a")
        log.write(f"\n==== worker start {self.worker_starts}\n")
        log.flush()
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "1",
             "--queues", "training", "default"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill_worker(self) -> None:
        """SIGKILL the worker's whole process group (the dramatiq parent and its worker process)."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)

    def stop(self) -> None:
        for proc in (self.worker, self.web):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    # HTTP -------------------------------------------------------------------------------
    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def job(self, job_id: int) -> dict:
        status, body = self.api("GET", f"/api/jobs/{job_id}/")
        assert status == 200, body
        return body

    def wait_job(self, job_id: int, predicate, timeout: float = 180, what: str = "") -> dict:
        deadline = time.monotonic() + timeout
        body = {}
        while time.monotonic() < deadline:
            body = self.job(job_id)
            if predicate(body):
                return body
            if body["status"] == "failed" and "failed" not in what:
                raise AssertionError(f"job {job_id} failed: {body['error']}\n{self.tail()}")
            time.sleep(0.5)
        raise AssertionError(f"job {job_id}: timed out waiting for {what}; last state {body.get('status')} "
                             f"step {body.get('progress', {}).get('step')}\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = self.worker_log.read_text(errors="replace") if self.worker_log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait(self, check, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not come up in {timeout}s (logs in {self.root})")


def _connectable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
