"""What the production server (gunicorn, as README runs it) says about itself: no version in
its `Server` header, and the site's own headers (Permissions-Policy among them) on its
answers. Django's runserver is not used in production, so only gunicorn is checked."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('gunicorn')}/db.sqlite3",
    }
    command = [sys.executable, "-m", "gunicorn", "cabar_tracker.wsgi"]
    command += ["-b", f"127.0.0.1:{port}", "--workers", "1"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_gunicorn_names_itself_without_a_version(gunicorn):
    response = get(gunicorn, "/api/v1/no-such-thing/")
    assert response.status == 404
    server = response.getheader("Server", "")
    assert not any(char.isdigit() for char in server), server
    assert response.getheader("X-Powered-By") is None


def test_gunicorn_answers_carry_the_sites_headers(gunicorn):
    response = get(gunicorn, "/api/v1/no-such-thing/")
    assert "camera=()" in response.getheader("Permissions-Policy", "")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Content-Type") == "application/json"
