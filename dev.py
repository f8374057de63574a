#!/usr/bin/env python3
"""Developer entry point for the detention case tracker. Standard library only.

Works on a fresh machine with Python 3.11 and git (make is optional):

    python3 dev.py run          migrate, load the demo cases, serve http://127.0.0.1:8000/
                                with DEBUG=1 (unless DEBUG is set), with the background
                                worker (CSV imports) beside it
    python3 dev.py test [ARGS]  install dev requirements, run pytest with ARGS, exit with its code
    python3 dev.py lint         ruff check, ruff format --check, makemigrations --check
    python3 dev.py serve        like run, but collectstatic + gunicorn (with
                                cabar_tracker/gunicorn.conf.py) and DEBUG off;
                                needs SECRET_KEY in the environment
    python3 dev.py bench [ARGS] the scale benchmark (bench/run.py; --help for its options):
                                app vs raw SQL vs Datasette on synthetic data, default
                                1,000,000 incidents on SQLite; results in bench-results/

Every command first creates .venv (with python3.11 when available) and installs the
requirements into it; the install is skipped while the requirements files are unchanged
(a hash of them is kept in .venv/.stamp-<file>).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VENV_PYTHON = VENV_BIN / ("python.exe" if os.name == "nt" else "python")
ADDRESS = "127.0.0.1:8000"
GUNICORN_CONFIG = "cabar_tracker/gunicorn.conf.py"
# Seconds a stopping worker gets to finish the job it runs (an import left unfinished
# imports nothing: its transaction is rolled back).
WORKER_STOP_TIMEOUT = 10


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def sh(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command from the repository root; a failure stops the script with its exit code."""
    printable = " ".join(str(a) for a in args)
    print(f"    $ {printable}", flush=True)
    try:
        subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=True)
    except subprocess.CalledProcessError as exc:
        print(f"dev.py: failed ({exc.returncode}): {printable}", file=sys.stderr)
        sys.exit(exc.returncode)


def base_python() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if found:
        return found
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"dev.py: warning: python3.11 not found; using Python {version}", file=sys.stderr)
    return sys.executable


def requirements_hash(path: Path) -> str:
    """Hash a requirements file together with the files it includes through -r."""
    digest = hashlib.sha256()
    for line in path.read_text().splitlines():
        digest.update(line.encode() + b"\n")
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
            digest.update(requirements_hash(path.parent / parts[1]).encode())
    return digest.hexdigest()


def ensure_venv(requirements: str) -> None:
    if not VENV_PYTHON.exists():
        step(f"Creating {VENV.name}")
        sh(base_python(), "-m", "venv", VENV)
    stamp = VENV / f".stamp-{requirements}"
    wanted = requirements_hash(ROOT / requirements)
    if stamp.exists() and stamp.read_text().strip() == wanted:
        step(f"{requirements} unchanged since last install")
        return
    step(f"Installing {requirements}")
    sh(VENV_PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", requirements)
    stamp.write_text(wanted + "\n")


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    sh(VENV_PYTHON, "manage.py", *args, env=env)


def prepare_database(env: dict[str, str]) -> None:
    step("Applying migrations")
    manage("migrate", "--noinput", env=env)
    step("Loading the demo cases")
    manage("load_demo", env=env)


def serve_with_worker(server: list[str | Path], env: dict[str, str]) -> None:
    """Run the background worker (`manage.py db_worker`: CSV imports) and the web server
    together; when the server stops (Ctrl-C), stop the worker too."""
    step("Starting the background worker (manage.py db_worker)")
    worker = subprocess.Popen(
        [str(VENV_PYTHON), "manage.py", "db_worker", "--no-reload", "--interval", "1"],
        cwd=ROOT,
        env=env,
    )
    try:
        printable = " ".join(str(a) for a in server)
        print(f"    $ {printable}", flush=True)
        code = subprocess.run([str(a) for a in server], cwd=ROOT, env=env).returncode
    except KeyboardInterrupt:
        code = 130
    finally:
        stop_process(worker)
    if code not in (0, 130, -2):
        sys.exit(code)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    step("Stopping the background worker")
    process.terminate()
    try:
        process.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ensure_chromium() -> None:
    """Install Chromium for the browser tests when we can (root with apt-get), else say so."""
    if Path("/usr/bin/chromium").exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        step("Installing Chromium for the browser tests (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-yqq", "chromium"]):
            if subprocess.run(command, stdout=subprocess.DEVNULL, env=env).returncode != 0:
                break
        else:
            return
    print("dev.py: note: /usr/bin/chromium is missing; browser tests will be skipped.")


def cmd_run(args: list[str]) -> None:
    ensure_venv("requirements.txt")
    env = {**os.environ}
    env.setdefault("DEBUG", "1")
    prepare_database(env)
    step(f"Serving http://{ADDRESS}/ (Ctrl-C to stop)")
    serve_with_worker([VENV_PYTHON, "manage.py", "runserver", ADDRESS], env)


def cmd_serve(args: list[str]) -> None:
    if not os.environ.get("SECRET_KEY"):
        sys.exit(
            "dev.py serve: set SECRET_KEY first, e.g.\n"
            "  SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))') "
            "python3 dev.py serve"
        )
    ensure_venv("requirements.txt")
    env = {**os.environ, "DEBUG": "0"}
    # Production settings, but reachable over plain HTTP on this machine unless told otherwise.
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        env.setdefault(name, "0")
    prepare_database(env)
    step("Collecting static files")
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    step(f"Serving http://{ADDRESS}/ under gunicorn (Ctrl-C to stop)")
    serve_with_worker(
        [VENV_PYTHON, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "cabar_tracker.wsgi", "-b", ADDRESS],
        env,
    )


def cmd_test(args: list[str]) -> None:
    ensure_venv("requirements-dev.txt")
    ensure_chromium()
    step("Running the test suite")
    command = [str(VENV_PYTHON), "-m", "pytest", *args]
    print(f"    $ {' '.join(command)}", flush=True)
    sys.exit(subprocess.run(command, cwd=ROOT).returncode)


def cmd_lint(args: list[str]) -> None:
    ensure_venv("requirements-dev.txt")
    env = {**os.environ}
    env.setdefault("DEBUG", "1")  # settings need a SECRET_KEY otherwise
    checks = [
        ("ruff check", [VENV_PYTHON, "-m", "ruff", "check", "."]),
        ("ruff format --check", [VENV_PYTHON, "-m", "ruff", "format", "--check", "."]),
        (
            "migrations up to date",
            [VENV_PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"],
        ),
    ]
    failed = []
    for name, command in checks:
        step(name)
        if subprocess.run([str(c) for c in command], cwd=ROOT, env=env).returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"dev.py lint: failed: {', '.join(failed)}")
    step("lint passed")


def cmd_bench(args: list[str]) -> None:
    ensure_venv("requirements-dev.txt")
    step("Running the benchmark (bench/run.py)")
    command = [str(VENV_PYTHON), "bench/run.py", *args]
    print(f"    $ {' '.join(command)}", flush=True)
    sys.exit(subprocess.run(command, cwd=ROOT).returncode)


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "lint": cmd_lint,
    "serve": cmd_serve,
    "bench": cmd_bench,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](sys.argv[2:])
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
