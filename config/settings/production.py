"""Production: DEBUG off, HTTPS only (Secure cookies, HSTS, redirect), whitenoise for static files,
and a refusal to start with the default secret key.

Run behind a TLS-terminating proxy that sets `X-Forwarded-Proto: https` (see README, Production).
A plain-HTTP trial on loopback is an explicit mode, GRPO_TRIAL_HTTP=1: it turns the HTTPS settings
off, silences only the four deploy warnings about them, and refuses any host but loopback. Every
other deploy warning (weak key, DEBUG, ...) still stops `make serve`.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import ALLOWED_HOSTS, DEFAULT_SECRET_KEY, MIDDLEWARE, SECRET_KEY, env_bool, env_int

if not os.environ.get("SECRET_KEY") or SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value (50+ characters) in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

TRIAL_HTTP = env_bool("GRPO_TRIAL_HTTP", False)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}  # testserver: Django's test client
if TRIAL_HTTP and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
    raise ImproperlyConfigured(
        f"GRPO_TRIAL_HTTP=1 serves plain HTTP, so ALLOWED_HOSTS may name only loopback hosts "
        f"(127.0.0.1, localhost, [::1]); got {', '.join(ALLOWED_HOSTS)}. Use HTTPS behind a proxy instead."
    )

DEBUG = env_bool("DEBUG", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not TRIAL_HTTP)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not TRIAL_HTTP)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not TRIAL_HTTP)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if TRIAL_HTTP else 365 * 24 * 3600)
# Only in trial mode: the HSTS (W004), redirect (W008) and Secure-cookie (W012, W016) warnings.
SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"] if TRIAL_HTTP else []
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# PostgreSQL connections are reused across requests (a gunicorn worker serves one at a time).
for _db in DATABASES.values():  # noqa: F405
    _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True

# whitenoise serves the hashed, compressed files that `collectstatic` wrote to STATIC_ROOT.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
