"""Settings read from the environment: the embedded default, production values, mail URLs and
secrets from files. Each configuration is loaded in a fresh subprocess, never in this one."""

import json
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from itsm import settings as itsm_settings

ROOT = Path(__file__).resolve().parents[2]
SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "DATABASE_ENGINE": s.DATABASES["default"]["ENGINE"],
    "DATABASE_NAME": str(s.DATABASES["default"]["NAME"]),
    "DATABASE_OPTIONS": s.DATABASES["default"].get("OPTIONS", {}),
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL,
    "CELERY_BROKER_TRANSPORT_OPTIONS": s.CELERY_BROKER_TRANSPORT_OPTIONS,
    "CELERY_BEAT_SCHEDULE_FILENAME": s.CELERY_BEAT_SCHEDULE_FILENAME,
    "CACHE_BACKEND": s.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": s.CACHES["default"]["LOCATION"],
    "EMAIL_BACKEND": s.EMAIL_BACKEND,
    "EMAIL_FILE_PATH": getattr(s, "EMAIL_FILE_PATH", None),
    "ATTACHMENTS": s.STORAGES["attachments"]["OPTIONS"]["location"],
    "STATICFILES_STORAGE": s.STORAGES["staticfiles"]["BACKEND"],
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "SECRET_KEY": s.SECRET_KEY,
    "CSP": s.CONTENT_SECURITY_POLICY["DIRECTIVES"],
}))
"""


def load_settings(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "itsm.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(clean_env, **values: str) -> dict[str, str]:
    return clean_env(
        **{
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "desk.example.com",
            "DATABASE_URL": "postgres://itsm:secret@db.example.com:5432/itsm",
            "REDIS_URL": "redis://redis.example.com:6379/0",
            **values,
        }
    )


def test_the_embedded_default_keeps_everything_under_the_var_dir(clean_env, tmp_path):
    var = tmp_path / "var"

    values = load_settings(clean_env())

    assert values["DEBUG"] is False  # the product as people try it: its own error pages
    assert values["DATABASE_ENGINE"] == "django.db.backends.sqlite3"
    assert values["DATABASE_NAME"] == str(var / "itsm.sqlite3")
    assert "journal_mode=WAL" in values["DATABASE_OPTIONS"]["init_command"]
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    folders = values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert Path(folders[key]).is_relative_to(var), key
    assert Path(folders["data_folder_in"]).is_dir()
    assert values["CELERY_BEAT_SCHEDULE_FILENAME"] == str(var / "celerybeat-schedule")
    assert values["CACHE_BACKEND"].endswith("FileBasedCache")
    assert values["CACHE_LOCATION"] == str(var / "cache")
    assert values["EMAIL_BACKEND"] == "itsm.mail.FileBackend"
    assert values["EMAIL_FILE_PATH"] == str(var / "mail")
    assert values["ATTACHMENTS"] == str(var / "attachments")


def test_the_embedded_default_makes_one_private_secret_key_and_keeps_it(clean_env, tmp_path):
    key_file = tmp_path / "var" / "secret_key"

    first = load_settings(clean_env())["SECRET_KEY"]
    second = load_settings(clean_env())["SECRET_KEY"]

    assert len(first) >= 50
    assert first == second == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_production_values_use_postgres_redis_and_secure_cookies(clean_env):
    values = load_settings(production_env(clean_env))

    assert values["DEBUG"] is False
    assert values["DATABASE_ENGINE"] == "django.db.backends.postgresql"
    assert values["CELERY_BROKER_URL"] == "redis://redis.example.com:6379/0"
    assert values["CACHE_BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert values["STATICFILES_STORAGE"].endswith("CompressedManifestStaticFilesStorage")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["ALLOWED_HOSTS"] == ["desk.example.com"]


def test_a_tls_proxy_that_redirects_itself_can_turn_the_ssl_redirect_off(clean_env):
    values = load_settings(production_env(clean_env, SECURE_SSL_REDIRECT="0"))

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is True


def test_csp_reports_go_where_the_operator_says_and_nowhere_by_default(clean_env):
    assert "report-uri" not in load_settings(production_env(clean_env))["CSP"]
    csp = load_settings(production_env(clean_env, CSP_REPORT_URI="https://csp.example.com/r"))[
        "CSP"
    ]
    assert csp["report-uri"] == ["https://csp.example.com/r"]
    assert csp["script-src"] == ["'self'"]


def test_celery_broker_url_wins_over_redis_url(clean_env):
    env = production_env(clean_env, CELERY_BROKER_URL="redis://broker.example.com:6379/3")

    values = load_settings(env)

    assert values["CELERY_BROKER_URL"] == "redis://broker.example.com:6379/3"


def test_the_deploy_check_passes_with_production_values(clean_env, manage):
    env = production_env(
        clean_env,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/itsm",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_fails_on_an_insecure_setting(clean_env, manage):
    env = production_env(clean_env, SECURE_HSTS_SECONDS="0")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(clean_env, manage):
    env = clean_env(
        DEBUG="0", ALLOWED_HOSTS="desk.example.com", DATABASE_URL="postgres://db.example.com/itsm"
    )

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert not (Path(env["ITSM_VAR_DIR"]) / "secret_key").exists()


def test_the_secret_key_can_come_from_a_docker_secret_file(clean_env, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("k" * 64 + "\n")
    env = production_env(clean_env, SECRET_KEY_FILE=str(secret))

    assert load_settings(env)["SECRET_KEY"] == "k" * 64


# --- email_settings ---------------------------------------------------------------------------


def test_a_file_url_writes_mail_to_that_folder():
    assert itsm_settings.email_settings("file:///var/spool/itsm%20mail") == {
        "EMAIL_BACKEND": "itsm.mail.FileBackend",
        "EMAIL_FILE_PATH": "/var/spool/itsm mail",
    }


def test_an_smtp_url_with_tls_gives_host_port_credentials_and_starttls():
    values = itsm_settings.email_settings(
        "smtp://desk%40example.com:p%40ss:w@mail.example.com:587?tls=1"
    )

    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["EMAIL_HOST"] == "mail.example.com"
    assert values["EMAIL_PORT"] == 587
    assert values["EMAIL_HOST_USER"] == "desk@example.com"
    assert values["EMAIL_HOST_PASSWORD"] == "p@ss:w"
    assert values["EMAIL_USE_TLS"] is True
    assert values["EMAIL_USE_SSL"] is False


def test_a_plain_smtp_url_uses_port_25_without_tls_or_credentials():
    values = itsm_settings.email_settings("smtp://relay.internal")

    assert values["EMAIL_HOST"] == "relay.internal"
    assert values["EMAIL_PORT"] == 25
    assert values["EMAIL_HOST_USER"] == values["EMAIL_HOST_PASSWORD"] == ""
    assert values["EMAIL_USE_TLS"] is values["EMAIL_USE_SSL"] is False


def test_an_smtps_url_uses_implicit_tls_on_port_465():
    values = itsm_settings.email_settings("smtps://user:pass@mail.example.com")

    assert values["EMAIL_PORT"] == 465
    assert values["EMAIL_USE_SSL"] is True
    assert values["EMAIL_USE_TLS"] is False
    assert (values["EMAIL_HOST_USER"], values["EMAIL_HOST_PASSWORD"]) == ("user", "pass")


def test_console_and_locmem_urls_pick_those_backends():
    console = itsm_settings.email_settings("console://")
    locmem = itsm_settings.email_settings("locmem://")

    assert console == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert locmem == {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}


@pytest.mark.parametrize("url", ["sendmail:///usr/sbin/sendmail", "mail.example.com:25", ""])
def test_an_unsupported_email_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL: unsupported scheme"):
        itsm_settings.email_settings(url)


def test_an_unsupported_email_url_stops_the_settings_from_loading(clean_env, manage):
    result = manage("check", env=clean_env(EMAIL_URL="sendmail://localhost"))

    assert result.returncode != 0
    assert "EMAIL_URL: unsupported scheme 'sendmail'" in result.stderr


# --- env helpers ------------------------------------------------------------------------------


def test_env_secret_reads_the_file_named_by_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-the-file\n")
    monkeypatch.setenv("ITSM_TEST_TOKEN", "from-the-variable")
    monkeypatch.setenv("ITSM_TEST_TOKEN_FILE", str(secret))

    assert itsm_settings.env_secret("ITSM_TEST_TOKEN") == "from-the-file"


def test_env_secret_falls_back_to_the_variable_then_the_default(monkeypatch):
    monkeypatch.delenv("ITSM_TEST_TOKEN_FILE", raising=False)
    monkeypatch.delenv("ITSM_TEST_TOKEN", raising=False)
    assert itsm_settings.env_secret("ITSM_TEST_TOKEN", "fallback") == "fallback"

    monkeypatch.setenv("ITSM_TEST_TOKEN", "from-the-variable")
    assert itsm_settings.env_secret("ITSM_TEST_TOKEN", "fallback") == "from-the-variable"


def test_env_secret_fails_loudly_when_its_file_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("ITSM_TEST_TOKEN_FILE", str(tmp_path / "missing"))

    with pytest.raises(FileNotFoundError):
        itsm_settings.env_secret("ITSM_TEST_TOKEN")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("no", False)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("ITSM_TEST_FLAG", raw)

    assert itsm_settings.env_bool("ITSM_TEST_FLAG", default=not expected) is expected


def test_env_bool_and_env_int_use_the_default_when_the_variable_is_empty(monkeypatch):
    monkeypatch.setenv("ITSM_TEST_VALUE", "")

    assert itsm_settings.env_bool("ITSM_TEST_VALUE", default=True) is True
    assert itsm_settings.env_int("ITSM_TEST_VALUE", 7) == 7


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("ITSM_TEST_HOSTS", " desk.example.com, ,localhost,")

    assert itsm_settings.env_list("ITSM_TEST_HOSTS") == ["desk.example.com", "localhost"]


LOG_THREE = """
import logging, django
django.setup()
logging.getLogger("django.request").warning("a 404 warning")
logging.getLogger("django.request").error("a 500 error")
logging.getLogger("itsm").info("an app notice")
"""


@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        ("ERROR", ["a 500 error"], ["a 404 warning", "an app notice"]),
        ("WARNING", ["a 500 error", "a 404 warning"], ["an app notice"]),
        ("INFO", ["a 500 error", "a 404 warning", "an app notice"], []),
    ],
)
def test_log_level_holds_for_django_own_loggers_too(clean_env, level, shown, hidden):
    """django.request sets a level of its own; LOG_LEVEL still decides what is written."""
    result = subprocess.run(
        [sys.executable, "-c", LOG_THREE],
        cwd=ROOT,
        env={
            **production_env(clean_env, LOG_LEVEL=level),
            "DJANGO_SETTINGS_MODULE": "itsm.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for line in shown:
        assert line in result.stderr
    for line in hidden:
        assert line not in result.stderr
