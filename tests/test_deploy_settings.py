"""The settings module as production sees it: configured from the environment, strict by default.

Most tests start `manage.py` in a subprocess so each gets a fresh settings module built from
exactly the environment it is given.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Variables that loosen the production defaults (the root conftest sets some for tests).
LOOSENING = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER_ENABLED",
    "STATIC_MANIFEST",
    # Set by the browser tests' conftest for Playwright; never in production.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cabar_tracker.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "cases.example.org",
    }
    for name in LOOSENING:
        env.pop(name, None)
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_checklist_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNING" not in output


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = manage("check", env=production_env(SECRET_KEY=""))

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_an_unparseable_debug_value_naming_the_variable():
    result = manage("check", env=production_env(DEBUG="maybe"))

    assert result.returncode != 0
    assert "DEBUG='maybe'" in result.stderr


def test_it_defaults_to_sqlite_in_wal_mode_with_immediate_transactions():
    env = production_env()
    env.pop("DATABASE_URL", None)
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    result = manage("shell", "--no-imports", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(ROOT / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_it_opens_sqlite_connections_in_wal_mode_with_foreign_keys(tmp_path):
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode')\n"
        "    print(cursor.fetchone()[0])\n"
        "    cursor.execute('PRAGMA foreign_keys')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    result = manage("shell", "--no-imports", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1"]


def test_it_uses_the_database_the_environment_names():
    database = settings.DATABASES["default"]
    url = os.environ.get("DATABASE_URL", "")

    if url.startswith(("postgres://", "postgresql://")):
        assert database["ENGINE"] == "django.db.backends.postgresql"
    elif not url:
        assert database["ENGINE"] == "django.db.backends.sqlite3"
        assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
