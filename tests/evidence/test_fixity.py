"""The fixity check (evidence/fixity.py, `manage.py verify_evidence`): every stored file's
hash recomputed; a changed or a missing file reported, with a non-zero exit code; the result
on the staff desk; the same check as a job."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from evidence.attachments import attach_file
from evidence.capture import request_capture
from evidence.fixity import run_fixity_check
from evidence.models import FixityCheck
from tests.evidence.conftest import PIXEL
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def stored(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


@pytest.fixture
def evidence(web_server, capture_settings, editor):
    capture = request_capture(source=SourceFactory(url=f"{web_server}/page.html"))
    attachment = attach_file(
        record=SourceFactory(), upload=SimpleUploadedFile("a.png", PIXEL), user=editor
    )
    return capture, attachment


def test_intact_files_pass(evidence):
    out = io.StringIO()
    call_command("verify_evidence", stdout=out)
    assert "2 files checked, 0 problems." in out.getvalue()
    assert FixityCheck.objects.get().ok


def test_a_changed_and_a_missing_file_are_reported_and_the_exit_code_is_not_zero(evidence):
    capture, attachment = evidence
    warc = stored(capture.warc.name)
    content = bytearray(warc.read_bytes())
    content[len(content) // 2] ^= 0xFF  # one byte changed
    warc.write_bytes(bytes(content))
    os.remove(stored(attachment.file.name))
    out = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("verify_evidence", stdout=out)

    assert refused.value.returncode == 1
    assert "2 files checked, 2 problems." in str(refused.value)
    assert f"CHANGED: capture {capture.pk} warc" in out.getvalue()
    assert f"MISSING: attachment {attachment.pk} file" in out.getvalue()
    check = FixityCheck.objects.get()
    assert {(p["record"], p["problem"]) for p in check.problems} == {
        (f"capture {capture.pk}", "changed"),
        (f"attachment {attachment.pk}", "missing"),
    }


def test_the_staff_desk_shows_the_last_check(evidence, editor_client):
    capture, _attachment = evidence
    assert (
        "Evidence check: never run"
        in editor_client.get(reverse("staff:dashboard")).content.decode()
    )
    os.remove(stored(capture.warc.name))
    with pytest.raises(CommandError):
        call_command("verify_evidence", stdout=io.StringIO())

    page = editor_client.get(reverse("staff:dashboard")).content.decode()

    assert "2 files, 1 problems" in page
    assert capture.warc.name in page


def test_the_check_runs_as_a_job_from_the_desk(evidence, editor_client):
    response = editor_client.post(reverse("staff:fixity_run"))
    assert response.status_code == 302
    assert FixityCheck.objects.get().files_checked == 2
    assert run_fixity_check.call() == 0
