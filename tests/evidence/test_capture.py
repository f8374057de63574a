"""Capturing a source's address (evidence/capture.py) against a local web server: what is
kept (a WARC file warcio reads, the payload's hash), what is refused and why."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage
from warcio.archiveiterator import ArchiveIterator

from evidence import capture as capture_service
from evidence.capture import request_capture, sha256_label
from evidence.models import Capture, CaptureStatus
from tests.evidence.conftest import BIG, PAGE, PDF
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def capture_of(url: str) -> Capture:
    return request_capture(source=SourceFactory(url=url))


def warc_records(capture: Capture) -> list:
    with default_storage.open(capture.warc.name, "rb") as stored:
        return [
            (
                record.rec_type,
                record.rec_headers,
                record.http_headers,
                record.content_stream().read(),
            )
            for record in ArchiveIterator(stored)
        ]


def test_an_html_page_is_kept_as_a_warc_warcio_reads(web_server, capture_settings):
    url = f"{web_server}/page.html"
    capture = capture_of(url)

    assert capture.status == CaptureStatus.DONE, capture.reason
    assert capture.http_status == 200 and capture.size == len(PAGE)
    assert capture.content_type == "text/html; charset=utf-8"
    assert capture.sha256 == hashlib.sha256(PAGE).hexdigest()
    records = warc_records(capture)
    assert [kind for kind, *_ in records] == ["warcinfo", "request", "response"]
    _kind, headers, http_headers, payload = records[2]
    assert headers.get_header("WARC-Target-URI") == url
    assert headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert headers.get_header("WARC-Payload-Digest") == sha256_label(PAGE)
    assert http_headers.get_statuscode() == "200"
    assert hashlib.sha256(payload).hexdigest() == capture.sha256
    # The request is linked to its response.
    assert records[1][1].get_header("WARC-Record-ID") == headers.get_header("WARC-Concurrent-To")
    # The stored file's own hash, for the fixity check.
    with default_storage.open(capture.warc.name, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == capture.warc_sha256


def test_a_pdf_is_kept_byte_for_byte(web_server, capture_settings):
    capture = capture_of(f"{web_server}/doc.pdf")

    assert capture.status == CaptureStatus.DONE
    assert capture.content_type == "application/pdf"
    assert warc_records(capture)[2][3] == PDF
    assert not capture.screenshot and not capture.render_note  # not HTML: nothing to render


def test_a_redirect_is_followed_and_each_hop_is_kept(web_server, capture_settings):
    capture = capture_of(f"{web_server}/to-page")

    assert capture.status == CaptureStatus.DONE
    assert capture.final_url == f"{web_server}/page.html"
    kinds = [kind for kind, *_ in warc_records(capture)]
    assert kinds == ["warcinfo", "request", "response", "request", "response"]


def test_a_404_is_a_failure_with_its_answer_kept(web_server, capture_settings):
    capture = capture_of(f"{web_server}/gone")

    assert capture.status == CaptureStatus.FAILED
    assert capture.http_status == 404
    assert capture.reason == "The server answered 404 Not Found."
    assert capture.warc  # the answer itself is evidence that the page was gone


def test_a_slow_answer_times_out(web_server, capture_settings):
    capture_settings.CAPTURE_TIMEOUT_SECONDS = 1
    capture = capture_of(f"{web_server}/slow")

    assert capture.status == CaptureStatus.FAILED
    assert "No complete answer within 1 seconds" in capture.reason
    assert not capture.warc


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_an_oversized_body_is_refused(web_server, capture_settings, path):
    capture = capture_of(f"{web_server}{path}")

    assert capture.status == CaptureStatus.FAILED
    assert "larger than the limit of 4000 bytes" in capture.reason
    assert len(BIG) > 4000 and not capture.warc


def test_a_private_address_is_refused(web_server, capture_settings):
    capture_settings.CAPTURE_ALLOW_PRIVATE_ADDRESSES = False
    for url in (f"{web_server}/page.html", "http://10.1.2.3/", "http://[::1]:8000/"):
        capture = capture_of(url)
        assert capture.status == CaptureStatus.FAILED
        assert "private or local address" in capture.reason, url


def test_a_redirect_to_a_private_address_is_refused(web_server, capture_settings, monkeypatch):
    """The first host passes the check (the local server stands in for a public site); its
    redirect to the cloud metadata address is checked again and refused."""
    capture_settings.CAPTURE_ALLOW_PRIVATE_ADDRESSES = False
    checked = []
    real = capture_service.address_allowed

    def public_test_server(address: str) -> bool:
        checked.append(address)
        return address == "127.0.0.1" or real(address)

    monkeypatch.setattr(capture_service, "address_allowed", public_test_server)
    capture = capture_of(f"{web_server}/to-metadata")

    assert capture.status == CaptureStatus.FAILED
    assert "169.254.169.254" in capture.reason and "private or local" in capture.reason
    assert checked == ["127.0.0.1", "169.254.169.254"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
def test_only_http_and_https_are_fetched(capture_settings, url):
    source = SourceFactory(url="https://example.org/placeholder")
    Capture.objects.all().delete()
    capture = Capture.objects.create(source=source, url=url)
    capture_service.run_capture.call(capture.pk)
    capture.refresh_from_db()

    assert capture.status == CaptureStatus.FAILED
    assert "Only http and https addresses are captured" in capture.reason


def test_a_host_outside_the_allowed_list_is_refused(web_server, capture_settings):
    capture_settings.CAPTURE_ALLOWED_HOSTS = ["news.example.org"]
    capture = capture_of(f"{web_server}/page.html")
    assert capture.status == CaptureStatus.FAILED
    assert "CAPTURE_ALLOWED_HOSTS" in capture.reason


def test_without_chromium_the_capture_says_why_there_is_no_screenshot(web_server, capture_settings):
    capture_settings.CAPTURE_RENDER = True
    capture_settings.CAPTURE_CHROMIUM = "/nonexistent/chromium"
    capture = capture_of(f"{web_server}/page.html")

    assert capture.status == CaptureStatus.DONE
    assert not capture.screenshot and not capture.pdf
    assert capture.render_note == (
        "No screenshot or PDF: Chromium is not installed at /nonexistent/chromium."
    )


def test_a_new_source_with_an_address_is_captured_once_saved(
    web_server, capture_settings, django_capture_on_commit_callbacks
):
    capture_settings.CAPTURE_ON_CREATE = True
    with django_capture_on_commit_callbacks(execute=True):
        source = SourceFactory(url=f"{web_server}/page.html")
        assert not source.captures.exists()  # not before the source is committed
    assert source.captures.get().status == CaptureStatus.DONE
    with django_capture_on_commit_callbacks(execute=True):
        source.title = "Renamed"
        source.save()
        SourceFactory(url="")
    assert Capture.objects.count() == 1  # an edit, or a source without address: no capture


@pytest.mark.django_db(transaction=True)
def test_the_job_runs_on_the_database_worker(web_server, capture_settings):
    """Queued as a row (the production backend) and run by `manage.py db_worker`, which
    closes the connection between jobs (so outside a test's transaction, as in production)."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    capture_settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    capture = capture_of(f"{web_server}/page.html")
    assert capture.status == CaptureStatus.QUEUED
    assert DBTaskResult.objects.get().status == "READY"

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.DONE
