"""Fixity: every stored file of the evidence is still the one recorded.

`verify_all()` reads every file of every capture (WARC, screenshot, PDF) and every
attachment from the storage, recomputes its SHA-256 and compares it with the hash recorded
when it was stored; a file that is gone or whose hash differs is a problem. The result is
saved as a `FixityCheck`, which the staff desk shows. `manage.py verify_evidence` runs it
(exit code 1 on any problem, for cron); `run_fixity_check` is the same as a job.
"""

from __future__ import annotations

import hashlib

from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

from evidence.models import Attachment, Capture, FixityCheck

CHUNK = 1024 * 1024


def file_sha256(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as stored:
        while chunk := stored.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def stored_files():
    """(record label, field, path, recorded hash) of every stored file, a few rows at a time."""
    for capture in Capture.objects.exclude(warc="").order_by("pk").iterator(chunk_size=500):
        for name, stored, recorded in capture.stored_files():
            yield f"capture {capture.pk}", name, stored.name, recorded
    for attachment in Attachment.objects.order_by("pk").iterator(chunk_size=500):
        yield f"attachment {attachment.pk}", "file", attachment.file.name, attachment.sha256


def verify_all() -> FixityCheck:
    started = timezone.now()
    checked = 0
    problems = []
    for record, field, path, recorded in stored_files():
        checked += 1
        problem = None
        try:
            if file_sha256(path) != recorded:
                problem = "changed"
        except FileNotFoundError:
            problem = "missing"
        if problem:
            problems.append({"record": record, "field": field, "path": path, "problem": problem})
    return FixityCheck.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        files_checked=checked,
        problems=problems,
    )


def start_fixity_check():
    """Queue a fixity check for a worker (the staff desk's button)."""
    return run_fixity_check.enqueue()


@task()
def run_fixity_check() -> int:
    """The job: the check, saved; returns the number of problems."""
    return len(verify_all().problems)
