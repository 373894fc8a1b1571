# The commands the README names. Everything installs into .venv/ and node_modules/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The test suite runs against PostgreSQL and Redis (CI exports these; these are the local defaults).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itsm
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_ENV = DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)}
# What installers and migrate print goes to this log; a person sees it when a step fails.
SETUP_LOG := $(or $(ITSM_VAR_DIR),var)/log/setup.log
LOGGED := bin/logged $(SETUP_LOG)
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo)
# One compiled catalogue per translated language that exists.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

.PHONY: run install test e2e browser lint bench messages check-deploy clean

run: install
	@$(LOGGED) $(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_demo
	@echo "Service desk: http://127.0.0.1:$(PORT)/  (Ctrl+C stops web, worker and beat)"
	@# The embedded default ignores ./.env (that file holds docker compose's settings).
	@PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.embedded -e /dev/null start

install: $(VENV)/.installed node_modules/.installed $(MO_FILES)

$(VENV)/.installed: pyproject.toml
	@echo "Installing the Python packages into $(VENV)/ (log: $(SETUP_LOG))"
	@test -x $(PY) || $(LOGGED) $(PYTHON) -m venv $(VENV)
	@$(LOGGED) $(PY) -m pip install --upgrade pip
	@$(LOGGED) $(PY) -m pip install -e ".[test]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "Installing the front-end packages into node_modules/ (log: $(SETUP_LOG))"
	@$(LOGGED) npm ci --no-audit --no-fund
	@touch $@

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(VENV)/.installed
	@$(LOGGED) $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules
	@touch $@

# bin/services checks PostgreSQL and Redis first, and starts servers of its own under var/services/
# when a local address does not answer (installing Debian's packages when they are missing).
test: install browser
	@$(TEST_ENV) bin/services
	$(TEST_ENV) $(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)

e2e: install browser
	@$(TEST_ENV) bin/services
	$(TEST_ENV) $(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser.
browser:
	@test -x /usr/bin/chromium || { \
	  echo "Installing chromium with apt-get (log: $(SETUP_LOG))"; \
	  $(LOGGED) $(AS_ROOT) sh -c 'apt-get update -qq && apt-get install -y -qq chromium'; }

lint: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

messages: install
	$(PY) manage.py makemessages -l fr --ignore=.venv --ignore=node_modules --ignore=var --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

check-deploy: install
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(60))') \
	  ALLOWED_HOSTS=desk.example.com DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  $(PY) manage.py check --deploy --fail-level WARNING

# The benchmark fills its own database (SIZE incidents, a million by default), serves it with
# gunicorn as production does and loads it with wrk; results in bench/results.json and .md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itsm_bench
SIZE ?= 1000000
BENCH_DURATION ?= 10
BENCH_ENV = DEBUG=0 SECRET_KEY=bench-only-not-secret ALLOWED_HOSTS=localhost SECURE_SSL_REDIRECT=0 \
  DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)}
bench: install
	@command -v wrk >/dev/null || { \
	  echo "Installing wrk with apt-get (log: $(SETUP_LOG))"; \
	  $(LOGGED) $(AS_ROOT) sh -c 'apt-get update -qq && apt-get install -y -qq wrk'; }
	@DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} bin/services
	$(BENCH_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) $(PY) -m bench load --size $(SIZE) --duration $(BENCH_DURATION) $(BENCH_ARGS)

# Stops the test servers bin/services started under var/services/, then deletes var/.
clean:
	bin/services delete
	rm -rf var staticfiles
