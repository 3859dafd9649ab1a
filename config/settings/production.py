"""Production: DEBUG off, HTTPS only (Secure cookies, HSTS, redirect), whitenoise for static files,
and a refusal to start with the default secret key.

Run behind a TLS-terminating proxy that sets `X-Forwarded-Proto: https` (see README, Production).
Every HTTPS setting can be relaxed from the environment for a loopback-only trial, never by default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import DEFAULT_SECRET_KEY, MIDDLEWARE, SECRET_KEY, env_bool, env_int

if not os.environ.get("SECRET_KEY") or SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value (50+ characters) in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

DEBUG = env_bool("DEBUG", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
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
