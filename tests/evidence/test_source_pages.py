"""Captures and attachments on the source pages: the staff edit page (Archive now, Retry,
reasons of failures) and the public page (once the source is published), in fixed queries."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from evidence.attachments import attach_file
from evidence.capture import request_capture
from evidence.models import Capture, CaptureStatus
from tests.evidence.conftest import PIXEL
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


def staff_page(source) -> str:
    return reverse("staff:source_edit", args=[source.pk])


def test_archive_now_captures_the_address_and_lists_it(web_server, capture_settings, editor_client):
    source = SourceFactory(url=f"{web_server}/page.html")
    page = editor_client.get(staff_page(source)).content.decode()
    assert "Archive now" in page and "No captures yet." in page

    response = editor_client.post(reverse("staff:source_capture", args=[source.pk]), follow=True)

    capture = source.captures.get()
    assert capture.status == CaptureStatus.DONE
    page = response.content.decode()
    assert "Captured: " in page
    assert capture.sha256 in page
    assert reverse("evidence:capture_warc", args=[capture.pk]) in page


def test_a_failure_shows_its_reason_and_a_retry(web_server, capture_settings, editor_client):
    source = SourceFactory(url=f"{web_server}/gone")
    editor_client.post(reverse("staff:source_capture", args=[source.pk]))
    failed = source.captures.get()

    page = editor_client.get(staff_page(source)).content.decode()
    assert "The server answered 404 Not Found." in page
    assert reverse("staff:capture_retry", args=[failed.pk]) in page

    source.url = f"{web_server}/page.html"  # the page is back (here: the address corrected)
    source.save()
    editor_client.post(reverse("staff:capture_retry", args=[failed.pk]))
    assert source.captures.filter(status=CaptureStatus.DONE).count() == 1


def test_archive_now_is_a_post(editor_client):
    source = SourceFactory()
    assert editor_client.get(reverse("staff:source_capture", args=[source.pk])).status_code == 405


def test_captures_are_public_once_the_source_is_published(web_server, capture_settings):
    source = SourceFactory(url=f"{web_server}/page.html", publication_state="draft")
    capture = request_capture(source=source)
    warc = reverse("evidence:capture_warc", args=[capture.pk])
    anonymous = Client()

    assert anonymous.get(warc).status_code == 404
    assert anonymous.get(source.get_absolute_url()).status_code == 404

    source.publication_state = PublicationState.PUBLISHED
    source.save()
    response = anonymous.get(warc)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="capture-{capture.pk}.warc.gz"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    page = anonymous.get(source.get_absolute_url()).content.decode()
    assert capture.sha256 in page and warc in page


def test_failed_captures_are_shown_to_staff_only(web_server, capture_settings, editor_client):
    source = SourceFactory(url=f"{web_server}/gone")
    capture = request_capture(source=source)
    assert capture.status == CaptureStatus.FAILED

    assert Client().get(reverse("evidence:capture_warc", args=[capture.pk])).status_code == 404
    assert "Archived copies" not in Client().get(source.get_absolute_url()).content.decode()
    assert editor_client.get(reverse("evidence:capture_warc", args=[capture.pk])).status_code == 200


def add_evidence(source, count: int, reviewer) -> None:
    for number in range(count):
        Capture.objects.create(
            source=source,
            url=source.url,
            status=CaptureStatus.DONE,
            sha256=f"{number:064d}",
            warc=f"evidence/captures/{source.pk}/{number}/capture.warc.gz",
            screenshot=f"evidence/captures/{source.pk}/{number}/screenshot.png",
            http_status=200,
            size=100,
        )
        attach_file(
            record=source,
            upload=SimpleUploadedFile(f"f{number}.png", PIXEL),
            user=reviewer,
            is_public=True,
        )


@pytest.mark.parametrize("count", [1, 6])
def test_the_public_source_page_in_fixed_queries(
    client, reviewer, count, django_assert_max_num_queries
):
    source = SourceFactory()
    add_evidence(source, count, reviewer)
    # the source, its incidents, its statements, its captures, its attachments
    with django_assert_max_num_queries(5):
        response = client.get(source.get_absolute_url())
    assert response.content.decode().count("capture.warc.gz") == count
    assert response.content.decode().count("/evidence/attachments/") == count


@pytest.mark.parametrize("count", [1, 6])
def test_the_staff_source_page_in_fixed_queries(
    editor_client, reviewer, count, django_assert_max_num_queries
):
    source = SourceFactory()
    add_evidence(source, count, reviewer)
    baseline = SourceFactory()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without_evidence:
        editor_client.get(staff_page(baseline))
    # The same page with captures and attachments: the same queries (their two lists).
    with django_assert_max_num_queries(len(without_evidence)):
        response = editor_client.get(staff_page(source))
    assert response.content.decode().count("capture.warc.gz") == count
