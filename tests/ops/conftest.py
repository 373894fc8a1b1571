"""Operations tests run the project the way an operator does: in subprocesses that see only the
environment they are given."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "itsm" / "settings.py"
# Variables that change how `make` behaves when a test runs `make` from inside `make test`.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


def settings_variables() -> set[str]:
    """Every environment variable itsm/settings.py reads through its env_* helpers."""
    return set(
        re.findall(
            r'env_(?:str|bool|int|list|secret)\(\s*"([A-Z][A-Z0-9_]*)"', SETTINGS_FILE.read_text()
        )
    )


@pytest.fixture
def clean_env(tmp_path):
    """``clean_env(**values)``: this process's environment without any variable the settings read
    (nor its ``_FILE`` twin), with ``ITSM_VAR_DIR`` in a temporary folder, plus ``values``."""

    def build(**values: str) -> dict[str, str]:
        # DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' session fixture while it runs.
        dropped = set(MAKE_VARIABLES) | {
            "CELERY_BROKER_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
        for name in settings_variables() | {"CELERY_BROKER_URL"}:
            dropped |= {name, f"{name}_FILE"}
        env = {key: value for key, value in os.environ.items() if key not in dropped}
        env["ITSM_VAR_DIR"] = str(tmp_path / "var")
        env.update(values)
        return env

    return build


@pytest.fixture
def manage():
    """``manage(*args, env=...)``: run ``manage.py`` in a subprocess and return the result."""

    def run(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
