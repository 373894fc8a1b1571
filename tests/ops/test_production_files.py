"""The production files agree with each other and with the settings: docker-compose.yml, the
Dockerfile, .dockerignore and docs/operations.md. (CI has no Docker engine to build or start them.)
"""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from .conftest import ROOT, settings_variables

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
DOCKERFILE = (ROOT / "Dockerfile").read_text()
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
# Read by something other than itsm/settings.py: Django (the secret file), gunicorn.
OTHER_READERS = {"SECRET_KEY_FILE", "WEB_CONCURRENCY"}


def instructions(keyword: str) -> list[str]:
    """The Dockerfile's instructions of one kind, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line for line in joined.splitlines() if line.split(" ", 1)[0] == keyword]


def documented_variables() -> set[str]:
    rows = [line for line in OPERATIONS.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_runs_postgres_redis_migrations_web_worker_and_beat():
    assert set(SERVICES) == {"postgres", "redis", "postgres-replica", *APP_SERVICES}
    assert SERVICES["postgres"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:7")


def test_the_read_replica_is_optional_and_follows_the_primary():
    replica = SERVICES["postgres-replica"]
    assert replica["profiles"] == ["replica"]  # not started by a plain `docker compose up`
    assert replica["image"] == SERVICES["postgres"]["image"]
    assert "pg_basebackup --host postgres" in replica["command"][-1]
    assert SERVICES["web"]["environment"]["DATABASE_REPLICA_URL"] == "${DATABASE_REPLICA_URL:-}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_runs_the_one_image_in_production_mode(name):
    service = SERVICES[name]
    env = service["environment"]

    assert service["image"] == SERVICES["web"]["image"]
    assert service["build"] == "."
    assert env["DEBUG"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["DATABASE_URL"].endswith("@postgres:5432/itsm")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["SECRET_KEY_FILE"] == "/run/secrets/secret_key"
    assert "SECRET_KEY" not in env
    assert service["secrets"] == ["secret_key"]
    for variable in ("ALLOWED_HOSTS", "EMAIL_URL", "SECURE_SSL_REDIRECT", "SITE_URL"):
        assert variable in env


def test_compose_sets_only_variables_that_something_reads():
    for name in APP_SERVICES:
        unknown = set(SERVICES[name]["environment"]) - settings_variables() - OTHER_READERS
        assert not unknown, f"{name} sets {unknown}, which nothing reads"


def test_production_values_that_must_not_have_defaults_are_required():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("POSTGRES_PASSWORD", "ALLOWED_HOSTS", "SITE_URL"):
        assert re.search(rf"\$\{{{name}:\?", text), f"{name} should be required (${{{name}:?...}})"
    assert "SECRET_KEY:" not in text.replace("SECRET_KEY_FILE:", "")


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_the_processes_wait_for_healthy_services_and_finished_migrations(name):
    assert SERVICES[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_migrations_run_once_after_the_database_is_healthy():
    migrate = SERVICES["migrate"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_every_service_waited_on_as_healthy_has_a_health_check():
    for service in SERVICES.values():
        for dependency, rule in service.get("depends_on", {}).items():
            if rule["condition"] == "service_healthy":
                assert SERVICES[dependency]["healthcheck"]["test"], dependency


def test_the_worker_checks_itself_and_one_shot_services_skip_the_web_check():
    assert "inspect ping" in SERVICES["worker"]["healthcheck"]["test"][1]
    assert SERVICES["beat"]["healthcheck"] == {"disable": True}
    assert SERVICES["migrate"]["healthcheck"] == {"disable": True}
    # web keeps the image's HEALTHCHECK on /health/
    assert "healthcheck" not in SERVICES["web"]


def test_worker_and_beat_run_celery_and_beat_keeps_its_schedule_in_a_volume():
    worker = SERVICES["worker"]["command"]
    beat = SERVICES["beat"]["command"]

    assert worker[:4] == ["celery", "-A", "itsm", "worker"]
    assert beat[:4] == ["celery", "-A", "itsm", "beat"]
    schedule = Path(beat[beat.index("--schedule") + 1])
    mounts = dict(volume.split(":")[::-1] for volume in SERVICES["beat"]["volumes"])
    assert str(schedule.parent) in mounts
    assert mounts[str(schedule.parent)] in COMPOSE["volumes"]


def test_database_and_attachments_live_in_named_volumes():
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    for name in ("web", "worker"):
        root = SERVICES[name]["environment"]["ATTACHMENTS_ROOT"]
        assert f"attachments:{root}" in SERVICES[name]["volumes"]
    used = {
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
    }
    assert used <= set(COMPOSE["volumes"])


def test_web_is_published_on_the_loopback_address_by_default():
    assert SERVICES["web"]["ports"] == ["${WEB_BIND:-127.0.0.1:8000}:8000"]


# --- Dockerfile ---------------------------------------------------------------------------------


def test_the_image_is_built_in_a_node_stage_and_a_python_311_slim_stage():
    stages = instructions("FROM")

    assert len(stages) == 2
    assert stages[0].startswith("FROM node:") and stages[0].endswith(" AS assets")
    assert stages[1].startswith("FROM python:3.11-slim")


def test_the_image_copies_every_asset_folder_the_settings_serve_from_node_modules():
    copied = {line.split()[-1] for line in instructions("COPY") if "--from=assets" in line}
    node_modules = Path(settings.NODE_MODULES)
    wanted = {
        str(Path(entry[1]).relative_to(settings.BASE_DIR))
        for entry in settings.STATICFILES_DIRS
        if isinstance(entry, tuple) and Path(entry[1]).is_relative_to(node_modules)
    }

    assert wanted, "settings.STATICFILES_DIRS serves nothing from node_modules"
    missing, extra = sorted(wanted - copied), sorted(copied - wanted)
    assert not missing and not extra, f"Dockerfile COPY --from=assets: add {missing}, drop {extra}"


def test_the_image_installs_dependencies_and_builds_static_files_and_translations():
    runs = " ".join(instructions("RUN"))

    assert "npm ci" in runs
    assert "pip install ." in runs
    assert re.search(r"apt-get install [^&]*\bgettext\b", runs)
    assert "manage.py compilemessages" in runs
    assert "manage.py collectstatic --noinput" in runs


def test_the_image_runs_gunicorn_as_a_non_root_user_with_a_health_check():
    users = instructions("USER")
    (health,) = instructions("HEALTHCHECK")
    (command,) = instructions("CMD")

    assert users and users[-1] not in ("USER root", "USER 0")
    assert "/health/" in health
    assert command.startswith('CMD ["gunicorn", "itsm.wsgi:application"')


def test_gunicorn_reads_the_settings_file_from_the_image_working_directory():
    """The image starts gunicorn in /app, where ``COPY . .`` puts gunicorn.conf.py, and gunicorn
    reads that file by default; its hook is the one gunicorn calls after loading the app."""
    from gunicorn.config import Config

    workdirs = instructions("WORKDIR")
    assert workdirs[-1] == "WORKDIR /app"
    assert "COPY . ." in instructions("COPY")
    assert Config().settings["config"].default == "./gunicorn.conf.py"
    assert "post_worker_init" in Config().settings


def test_a_gunicorn_worker_freezes_what_is_alive_once_the_app_is_loaded():
    import gc
    import runpy

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # the modules and app registry of this process
    finally:
        gc.unfreeze()


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", "node_modules", "var", "staticfiles", "secrets", ".env"} <= ignored


# --- docs/operations.md -------------------------------------------------------------------------


def test_every_variable_the_settings_read_is_documented():
    missing = settings_variables() - documented_variables()

    assert not missing, f"add to the table in docs/operations.md: {sorted(missing)}"


def test_every_variable_the_compose_file_takes_is_documented():
    taken = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    missing = taken - documented_variables()

    assert not missing, f"add to docs/operations.md: {sorted(missing)}"
