"""The gunicorn configuration file that README's production command and `dev.py serve` use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gunicorn.app.base import Application

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "cabar_tracker" / "gunicorn.conf.py"


class _Loader(Application):
    def init(self, parser, opts, args):
        return None

    def load(self):
        return None


def load_config(**environ) -> _Loader:
    old = dict(os.environ)
    os.environ.update(environ)
    try:
        loader = _Loader.__new__(_Loader)
        loader.usage, loader.prog, loader.callable = None, None, None
        loader.do_load_config = lambda: None
        from gunicorn.config import Config

        loader.cfg = Config()
        loader.load_config_from_file(str(CONFIG))
        return loader
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_it_serves_with_threads_and_timeouts_that_fit_a_long_export():
    cfg = load_config().cfg
    assert cfg.worker_class_str == "gthread"
    assert cfg.workers == 2 and cfg.threads == 4
    # All 900,000 published rows stream in 99-110 s (bench/README.md).
    assert cfg.timeout >= 150
    assert 0 < cfg.graceful_timeout <= cfg.timeout
    assert cfg.limit_request_line <= 4094
    assert cfg.limit_request_fields <= 100
    assert cfg.limit_request_field_size <= 8190
    assert cfg.accesslog == "-" and "%(M)s" in cfg.access_log_format


def test_the_environment_tunes_it():
    cfg = load_config(GUNICORN_WORKERS="5", GUNICORN_TIMEOUT="300").cfg
    assert cfg.workers == 5 and cfg.timeout == 300


def test_gunicorn_accepts_it_with_the_app():
    env = {**os.environ, "SECRET_KEY": "test-only", "DEBUG": "0"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--check-config",
            "-c",
            str(CONFIG),
            "cabar_tracker.wsgi",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_production_commands_use_it():
    assert 'GUNICORN_CONFIG = "cabar_tracker/gunicorn.conf.py"' in (ROOT / "dev.py").read_text()
    assert "-c cabar_tracker/gunicorn.conf.py" in (ROOT / "README.md").read_text()
