"""`make serve` runs `check --deploy --fail-level WARNING`: the plain-HTTP loopback trial
(GRPO_TRIAL_HTTP=1) passes it, and every other misconfiguration still stops it."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.integration.stack import REPO

from .server import ProductionServer

HTTPS_RELAXED = {"SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false", "SECURE_HSTS_SECONDS": "0"}


def deploy_check(tmp_path, **env) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", *HTTPS_RELAXED}}
    base.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secrets.token_urlsafe(50),
                ALLOWED_HOSTS="127.0.0.1,localhost", GRPO_DATA_DIR=str(tmp_path),
                DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")  # fmt: skip
    base.update(env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=REPO, env=base, capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("relaxed", [{}, HTTPS_RELAXED], ids=["trial-alone", "trial-with-the-old-variables"])
def test_trial_mode_passes_the_deploy_check(tmp_path, relaxed):
    done = deploy_check(tmp_path, GRPO_TRIAL_HTTP="1", **relaxed)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_the_trial_server_answers_plain_http_on_loopback(tmp_path):
    server = ProductionServer(tmp_path, env={"GRPO_TRIAL_HTTP": "1"}, workers=1)
    try:
        client = server.prepare().start().client()
        login = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
        assert login.status == 200, login.text[:300]
        assert "Secure" not in login.headers["set-cookie"] and "strict-transport-security" not in login.headers
        assert client.login("lab0").status == 302
    finally:
        server.stop()


def test_the_https_settings_relaxed_without_trial_mode_still_fail(tmp_path):
    done = deploy_check(tmp_path, **HTTPS_RELAXED)
    assert done.returncode != 0
    for code in ("W004", "W008", "W012", "W016"):
        assert f"security.{code}" in done.stderr


@pytest.mark.parametrize(
    ("env", "code"),
    [({"DEBUG": "1"}, "security.W018"), ({"SECRET_KEY": "ab" * 30}, "security.W009")],
    ids=["debug", "weak-secret-key"],
)
def test_trial_mode_still_fails_on_a_real_misconfiguration(tmp_path, env, code):
    done = deploy_check(tmp_path, GRPO_TRIAL_HTTP="1", **env)
    assert done.returncode != 0
    assert code in done.stderr
    assert "security.W008" not in done.stderr


def test_trial_mode_takes_the_default_hosts(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secrets.token_urlsafe(50),
               GRPO_DATA_DIR=str(tmp_path), GRPO_TRIAL_HTTP="1")  # fmt: skip
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_trial_mode_refuses_a_public_host(tmp_path):
    done = deploy_check(tmp_path, GRPO_TRIAL_HTTP="1", ALLOWED_HOSTS="grpo.example.org")
    assert done.returncode != 0
    assert "loopback" in done.stderr and "grpo.example.org" in done.stderr
