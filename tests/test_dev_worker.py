"""`python3 dev.py run` (and `serve`) start the background worker beside the web server and
stop it when the server stops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dev  # noqa: E402


class FakeWorker:
    started: list[FakeWorker] = []

    def __init__(self, args, **kwargs):
        self.args, self.returncode = [str(a) for a in args], None
        FakeWorker.started.append(self)

    def poll(self):
        return self.returncode

    def terminate(self):
        self.returncode = -15

    def wait(self, timeout=None):
        return self.returncode


@pytest.fixture
def fake_processes(monkeypatch):
    FakeWorker.started = []
    monkeypatch.setattr(dev.subprocess, "Popen", FakeWorker)
    return FakeWorker.started


def test_the_worker_runs_while_the_server_runs_and_stops_after(fake_processes, monkeypatch):
    served = []

    def server(args, **kwargs):
        assert fake_processes and fake_processes[0].returncode is None  # worker running
        served.append([str(a) for a in args])
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(dev.subprocess, "run", server)

    dev.serve_with_worker(["manage.py", "runserver"], {})

    assert served == [["manage.py", "runserver"]]
    (worker,) = fake_processes
    assert worker.args[1:3] == ["manage.py", "db_worker"] and "--no-reload" in worker.args
    assert worker.returncode == -15  # stopped


def test_ctrl_c_stops_the_worker_too(fake_processes, monkeypatch):
    def interrupted(args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dev.subprocess, "run", interrupted)

    dev.serve_with_worker(["manage.py", "runserver"], {})

    assert fake_processes[0].returncode == -15
