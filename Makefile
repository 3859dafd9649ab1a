# GRPO Studio. `make run` serves the app with demo data; `make test` runs the fast tier,
# `make test-all` every test.
# Both work on a fresh Debian machine with Python 3.11+ (as root, or with sudo for apt-get).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= var
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DJANGO_SETTINGS_MODULE ?= config.settings.dev

.PHONY: run serve test test-rest test-scale test-pg test-all install install-test system-deps redis worker web migrate demo lint benchmarks clean tiny-model

$(VENV)/.installed-base: requirements/base.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/base.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-base requirements/test.txt requirements/scale.txt
	$(PIP) install -q -r requirements/test.txt
	touch $@

install: $(VENV)/.installed-base
install-test: $(VENV)/.installed-test

# Debian packages: Redis for the task queue, Chromium for the browser tests, PostgreSQL for the
# second test run (.ci/with_postgres.sh starts a throwaway cluster; no system service is used).
system-deps:
	@command -v redis-server >/dev/null && test -x /usr/bin/chromium && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  ($(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q redis-server chromium postgresql)

# Redis keeps queued messages in an append-only file under the data dir, so a restart loses none
# (the worker's sweeper sends again any that were lost anyway). A Redis already on 6379 is used as it is.
REDIS_DIR := $(abspath $(or $(GRPO_DATA_DIR),$(DATA_DIR)))/redis
redis: system-deps
	@mkdir -p $(REDIS_DIR)
	@redis-cli ping >/dev/null 2>&1 || redis-server --daemonize yes --save "" --appendonly yes --appendfsync everysec \
	  --dir $(REDIS_DIR) --logfile $(REDIS_DIR)/redis.log
	@for i in $$(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done; redis-cli ping
	@redis-cli config get appendonly | grep -qx yes || echo "warning: the Redis on 6379 runs without appendonly (queued messages die with it)"

migrate: install
	mkdir -p $(DATA_DIR)/log
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# The CPU smoke preset's base model: a tiny random-init Llama built locally, once (no download).
TINY_MODEL := $(or $(GRPO_DATA_DIR),$(DATA_DIR))/models/tiny-llama
tiny-model: install
	@test -f $(TINY_MODEL)/model.safetensors || ( rm -rf $(TINY_MODEL).tmp && \
	  $(PY) -m training.engine make-tiny-model $(TINY_MODEL).tmp && rm -rf $(TINY_MODEL) && mv $(TINY_MODEL).tmp $(TINY_MODEL) )
	@echo "tiny model: $(TINY_MODEL)"

# One worker (one process, one thread: one training job at a time); `make worker` again after it
# died starts a new one, while it runs it says so instead of starting a second.
WORKER_PID := $(DATA_DIR)/log/worker.pid
worker: install
	mkdir -p $(DATA_DIR)/log
	@if [ -f $(WORKER_PID) ] && kill -0 $$(cat $(WORKER_PID)) 2>/dev/null; then \
	  echo "worker already running (pid $$(cat $(WORKER_PID)), log: $(DATA_DIR)/log/worker.log)"; \
	else \
	  $(PY) manage.py rundramatiq --processes 1 --threads 1 --queues training default \
	    >> $(DATA_DIR)/log/worker.log 2>&1 & echo $$! > $(WORKER_PID); \
	  echo "worker started (pid $$(cat $(WORKER_PID)), log: $(DATA_DIR)/log/worker.log)"; \
	fi

web: install
	$(PY) manage.py runserver $(HOST):$(PORT)

run: redis demo tiny-model worker
	@echo ""
	@echo "GRPO Studio: http://$(HOST):$(PORT)/   (demo logins printed above by seed_demo)"
	@echo ""
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# Production: migrations, collectstatic and the deploy check, then one worker and gunicorn (whitenoise
# serves the static files) with config.settings.production against DATABASE_URL / REDIS_URL.
# Needs SECRET_KEY (50+ random characters) and ALLOWED_HOSTS; run it behind a TLS proxy (README),
# or, for a plain-HTTP trial on loopback, with GRPO_TRIAL_HTTP=1 (config/settings/production.py).
WEB_CONCURRENCY ?= 4
PROD := DJANGO_SETTINGS_MODULE=config.settings.production
serve: install
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL (see README)"; exit 1; }
	@case "$$GRPO_TRIAL_HTTP" in 1|true|yes|on) case "$(HOST)" in 127.0.0.1|localhost|::1) \
	  echo "make serve: plain-HTTP trial on http://$(HOST):$(PORT)/ (GRPO_TRIAL_HTTP=1; loopback only)";; \
	  *) echo "make serve: GRPO_TRIAL_HTTP=1 binds loopback only (HOST=$(HOST))"; exit 1;; esac;; esac
	mkdir -p $(DATA_DIR)/log
	@case "$${REDIS_URL:-redis://127.0.0.1:6379/0}" in redis://127.0.0.1:6379*|redis://localhost:6379*) \
	  $(MAKE) --no-print-directory redis ;; esac
	$(PROD) $(PY) manage.py migrate --noinput
	$(PROD) $(PY) manage.py collectstatic --noinput -v0
	$(PROD) $(PY) manage.py check --deploy --fail-level WARNING
	$(MAKE) --no-print-directory worker $(PROD)
	$(PROD) exec $(VENV)/bin/gunicorn config.wsgi:application --bind $(HOST):$(PORT) \
	  --workers $(WEB_CONCURRENCY) --timeout 120 --preload --access-logfile $(DATA_DIR)/log/access.log

# Two tiers. `make test` (the README's test command) is the fast tier a developer runs between two
# changes: every test not marked slow, integration or ray, on SQLite (unit, services, API, pages and
# the browser smoke tests); a few minutes on 2 cores. `make test-all` runs everything: the fast tier,
# then the rest (slow engine runs, the Redis + worker integration stacks), the Ray launcher (test-scale),
# then the database-level suite again on a throwaway PostgreSQL cluster. CI runs `make test-all`.
FAST_MARKS := not slow and not integration and not ray
TEST_ENV := DJANGO_SETTINGS_MODULE=config.settings.test
test: install-test system-deps
	$(TEST_ENV) $(PY) -m pytest -q -m "$(FAST_MARKS)" $(PYTEST_ARGS)

test-rest: install-test redis
	$(TEST_ENV) $(PY) -m pytest -q -m "not ($(FAST_MARKS)) and not ray" $(PYTEST_ARGS)

# The scale path (docs/scaling.md), its own step: a real local Ray head on loopback runs jobs through
# the ray launcher with artefacts on moto's S3 server on loopback; they skip with the reason without ray.
test-scale: install-test redis
	$(TEST_ENV) $(PY) -m pytest -q -m ray $(PYTEST_ARGS)

# The engine never touches the database, so its tests run once (on SQLite), not again here.
PG_PYTEST_ARGS ?= -m "not browser and not integration and not ray" --ignore=tests/engine
test-pg: install-test system-deps
	.ci/with_postgres.sh env $(TEST_ENV) $(PY) -m pytest -q $(PG_PYTEST_ARGS) $(PYTEST_ARGS)

test-all: test test-rest test-scale test-pg

lint: install-test
	$(VENV)/bin/ruff check .

# Every benchmark in turn (about 15-30 minutes on 2 cores); each prints its figures, and the
# ones with an output option rewrite their page under docs/benchmarks/.
benchmarks: install-test
	$(PY) -m benchmarks.bench_labeling --out docs/benchmarks/labeling.md
	$(PY) -m benchmarks.bench_agreement
	$(PY) -m benchmarks.bench_compare
	$(PY) -m benchmarks.bench_exchange --write
	$(PY) -m benchmarks.bench_training_jobs
	$(PY) -m benchmarks.bench_worker_rss --out docs/benchmarks/worker_memory.md
	$(PY) -m benchmarks.bench_engine
	$(PY) -m benchmarks.bench_losses

clean:
	rm -rf $(VENV) $(DATA_DIR)
